"""
Hub repositories laid out as rl_zoo3's ``push_to_hub`` publishes them, built from the agents in
``tests/data/rl_trained_agents`` (see the README there).

A repository ``sb3/<algo>-<env>`` holds ``<algo>-<env>.zip``, the same zip unpacked in ``<algo>-<env>/``,
``config.yml``, ``args.yml``, ``env_kwargs.yml``, ``vec_normalize.pkl`` when the env is normalized,
``train_eval_metrics.zip``, ``results.json``, ``replay.mp4`` and a ``README.md`` model card.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data" / "rl_trained_agents"


@dataclass(frozen=True)
class ZooAgent:
    """
    One agent of the test data, with the score the RL Zoo publishes for it (its benchmark.md).

    :param algo: Algorithm.
    :param env_id: Env id it was trained on (as named by the zoo).
    :param mean: Published mean reward.
    :param std: Published standard deviation.
    """

    algo: str
    env_id: str
    mean: float
    std: float

    @property
    def repo_id(self) -> str:
        return f"sb3/{self.algo}-{self.env_id}"

    @property
    def run(self) -> Path:
        return DATA / self.algo / f"{self.env_id}_1"


AGENTS = (
    ZooAgent("a2c", "CartPole-v1", 500.0, 0.0),
    ZooAgent("ppo", "CartPole-v1", 500.0, 0.0),
    ZooAgent("dqn", "CartPole-v1", 500.0, 0.0),
    ZooAgent("sac", "MountainCarContinuous-v0", 94.68, 1.13),
    ZooAgent("a2c", "MountainCarContinuous-v0", 91.17, 0.26),
    ZooAgent("ppo", "LunarLander-v2", 242.12, 31.82),
)


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def repo_files(agent: ZooAgent, *, model: bytes | None = None, vec_normalize: bytes | None = None) -> dict[str, bytes]:
    """
    The files of ``agent``'s repository, as rl_zoo3 pushes them.

    :param agent: The agent.
    :param model: Replace the model zip (and its unpacked copy) with these bytes.
    :param vec_normalize: Replace ``vec_normalize.pkl`` with these bytes (added even when the agent has none).
    """
    name = f"{agent.algo}-{agent.env_id}"
    config = agent.run / agent.env_id
    results = {"mean_reward": agent.mean, "std_reward": agent.std, "is_deterministic": True, "n_eval_episodes": 10}
    model = model if model is not None else (agent.run / f"{agent.env_id}.zip").read_bytes()
    files = {
        f"{name}.zip": model,
        "config.yml": (config / "config.yml").read_bytes(),
        "args.yml": (config / "args.yml").read_bytes(),
        "env_kwargs.yml": b"{}\n",
        "train_eval_metrics.zip": _zip(
            {"evaluations.npz": (agent.run / "evaluations.npz").read_bytes(), "0.monitor.csv": b""}
        ),
        "results.json": json.dumps(results).encode(),
        "replay.mp4": b"\x00\x00\x00\x18ftypmp42",
        "README.md": f"---\nlibrary_name: stable-baselines3\ntags:\n- {agent.env_id}\n---\n# {name}\n".encode(),
    }
    with zipfile.ZipFile(io.BytesIO(model)) as archive:
        files.update({f"{name}/{member}": archive.read(member) for member in archive.namelist()})
    pickled = config / "vecnormalize.pkl"
    if vec_normalize is not None:
        files["vec_normalize.pkl"] = vec_normalize
    elif pickled.is_file():
        files["vec_normalize.pkl"] = pickled.read_bytes()
    return files

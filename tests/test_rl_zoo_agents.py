"""
Real agents of the RL Zoo (tests/data/rl_trained_agents), published to the loopback Hub the way rl_zoo3's
``push_to_hub`` lays out ``sb3/<algo>-<env>``, loaded with the default (safe) settings and played.
"""

from __future__ import annotations

import base64
import io
import json
import os
import pickle
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from hub_server import FakeHub, serving
from rl_zoo_repos import AGENTS, repo_files

os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from pgzoo.zoo.cli import main
from pgzoo.zoo.envs import read_vecnormalize_stats
from pgzoo.zoo.errors import ModelZipChoiceError, UnsafeModelError, ZooError
from pgzoo.zoo.hub import load_from_hub

#: Agents whose 10 evaluation episodes take a few seconds on a loaded machine: the others run by default.
SLOW = {"sac-MountainCarContinuous-v0", "a2c-MountainCarContinuous-v0", "ppo-LunarLander-v2"}
BY_NAME = {f"{agent.algo}-{agent.env_id}": agent for agent in AGENTS}
NORMALIZED = BY_NAME["a2c-MountainCarContinuous-v0"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeHub]:
    with serving(tmp_path_factory.mktemp("hf_home")) as server:
        for agent in AGENTS:
            server.add_repo(agent.repo_id, repo_files(agent))
        yield server


def _evaluate(model: Any, n_episodes: int = 10) -> tuple[float, float]:
    from stable_baselines3.common.evaluation import evaluate_policy

    rewards, _ = evaluate_policy(model, model.get_env(), n_eval_episodes=n_episodes, deterministic=True,
                                 return_episode_rewards=True)  # fmt: skip
    return float(np.mean(rewards)), float(np.std(rewards))


@pytest.mark.parametrize("name", [pytest.param(name, marks=[pytest.mark.slow] if name in SLOW else []) for name in BY_NAME])
def test_agent_plays_as_published(hub: FakeHub, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    agent = BY_NAME[name]
    model = load_from_hub(agent.repo_id)
    mean, std = _evaluate(model)
    print(f"{agent.repo_id}: {mean:.2f} +/- {std:.2f} (published {agent.mean:.2f} +/- {agent.std:.2f})")
    assert mean >= agent.mean - agent.std
    if name == "ppo-CartPole-v1":
        # Schedules are only saved pickled: rebuilt from the config's lin_0.001 / lin_0.2.
        assert model.lr_schedule(0.5) == pytest.approx(0.0005) and model.clip_range(0.5) == pytest.approx(0.1)
    if agent.env_id == "LunarLander-v2":
        assert "note: LunarLander-v2 is no longer registered in gymnasium; playing the agent in LunarLander-v3" in (
            capsys.readouterr().out
        )


class _Payload:
    """Unpickling this creates a marker file: the proof that code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str, str]]:
        return (open, (self.marker, "w"))


def _poison_blobs(zip_bytes: bytes, blob: str) -> bytes:
    """Replace every pickled entry of the model's ``data`` with ``blob``."""
    source, target = zipfile.ZipFile(io.BytesIO(zip_bytes)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for item in source.namelist():
            content = source.read(item)
            if item == "data":
                data = json.loads(content)
                for value in data.values():
                    if isinstance(value, dict) and ":serialized:" in value:
                        value[":serialized:"] = blob
                content = json.dumps(data).encode()
            out.writestr(item, content)
    return target.getvalue()


def test_planted_pickles_never_run(hub: FakeHub, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    blob = base64.b64encode(pickle.dumps(_Payload(str(marker)))).decode()
    for agent in AGENTS:
        model_bytes = _poison_blobs((agent.run / f"{agent.env_id}.zip").read_bytes(), blob)
        hub.add_repo(f"evil/{agent.algo}-{agent.env_id}", repo_files(agent, model=model_bytes))
        # The pickled entries are never decoded: the model is rebuilt from the plain values around them.
        model = load_from_hub(f"evil/{agent.algo}-{agent.env_id}")
        assert model.predict(model.get_env().reset(), deterministic=True)[0].shape[0] == 1
        assert not marker.exists()

    hub.add_repo(
        "evil/a2c-MountainCarContinuous-v0", repo_files(NORMALIZED, vec_normalize=pickle.dumps(_Payload(str(marker))))
    )
    with pytest.raises(UnsafeModelError, match=r"vec_normalize.pkl of evil/a2c-MountainCarContinuous-v0 is a pickle that"):
        load_from_hub("evil/a2c-MountainCarContinuous-v0")
    assert not marker.exists()
    logs = tmp_path / "logs"
    assert main(["pull", "--repo-id", "evil/a2c-MountainCarContinuous-v0", "-f", str(logs)]) == 0
    assert main(["enjoy", "--algo", "a2c", "--env", "MountainCarContinuous-v0", "-f", str(logs), "--no-render"]) == 2
    assert not marker.exists()


class _Reduce:
    """Pickles as a call of ``function(*args)``."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.function, self.args = function, args

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return (self.function, self.args)


@pytest.mark.parametrize(
    "case",
    ["os-system", "eval", "object-array", "huge-array", "inside-statistics", "other-codec", "not-vecnormalize"],
)
def test_restricted_unpickler_refuses_what_is_not_statistics(tmp_path: Path, case: str) -> None:
    from numpy._core.multiarray import _reconstruct as numpy_reconstruct  # type: ignore[attr-defined]
    from stable_baselines3.common.vec_env import VecNormalize

    from pgzoo.zoo.safe_pickle import restricted_loads

    marker = tmp_path / "code-ran"
    real = restricted_loads((NORMALIZED.run / NORMALIZED.env_id / "vecnormalize.pkl").read_bytes())
    hostile = {
        "os-system": pickle.dumps(_Reduce(os.system, f"touch {marker}")),
        "eval": pickle.dumps(_Reduce(eval, f"open({str(marker)!r}, 'w')")),
        "object-array": pickle.dumps(np.array([_Payload(str(marker))], dtype=object)),
        # numpy's own reconstructor asked for a terabyte array.
        "huge-array": pickle.dumps(_Reduce(numpy_reconstruct, np.ndarray, (10**12,), b"b")),
        "inside-statistics": pickle.dumps({"obs_rms": _Payload(str(marker))}),
        "other-codec": pickle.dumps(_Reduce(__import__("_codecs").encode, "x" * 10, "zlib")),
    }
    if case == "not-vecnormalize":
        path = tmp_path / "vecnormalize.pkl"
        path.write_bytes(pickle.dumps({"mean": np.zeros(2)}))
        with pytest.raises(ZooError, match="does not hold a VecNormalize"):
            read_vecnormalize_stats(path)
        assert real.qualified_name.endswith("VecNormalize") and not isinstance(real, VecNormalize)
        return
    path = tmp_path / "vecnormalize.pkl"
    path.write_bytes(hostile[case])
    with pytest.raises(UnsafeModelError, match=r"is a pickle that is not plain normalization statistics") as error:
        read_vecnormalize_stats(path)
    assert "\n" not in str(error.value) and "--trust-remote-code" in str(error.value)
    assert not marker.exists()


def test_statistics_read_safely_equal_sb3s(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the restricted unpickler reads from a gym-era vecnormalize.pkl is what SB3's trusted loader reads."""
    import gymnasium
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    path = NORMALIZED.run / NORMALIZED.env_id / "vecnormalize.pkl"
    safe = read_vecnormalize_stats(path)
    # SB3's VecNormalize.load unpickles the gym classes the file names: let `gym` be gymnasium for it.
    for name in ("gym", "gym.spaces", "gym.spaces.box"):
        monkeypatch.setitem(sys.modules, name, sys.modules[name.replace("gym", "gymnasium", 1)])
    assert gymnasium.spaces.box is sys.modules["gym.spaces.box"]
    trusted = VecNormalize.load(str(path), make_vec_env(NORMALIZED.env_id))
    for key in ("obs_rms", "ret_rms"):
        np.testing.assert_array_equal(safe[key].mean, getattr(trusted, key).mean)
        np.testing.assert_array_equal(safe[key].var, getattr(trusted, key).var)
        assert safe[key].count == getattr(trusted, key).count
    for key in ("norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma", "epsilon"):
        assert safe[key] == getattr(trusted, key), key
    assert safe["obs_rms"].count > 1000 and not np.allclose(safe["obs_rms"].mean, 0)


def test_trusted_path_loads_gym_era_agents(hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = load_from_hub("sb3/a2c-MountainCarContinuous-v0", trust_remote_code=True)
    assert model.use_sde and model.get_env().obs_rms.count > 1000
    assert _evaluate(load_from_hub("sb3/ppo-CartPole-v1", trust_remote_code=True), n_episodes=2)[0] == 500.0
    # A model SB3 cannot load is one line on the command line too.
    logs = tmp_path / "logs"
    assert main(["pull", "--repo-id", "sb3/dqn-CartPole-v1", "-f", str(logs)]) == 0
    model_path = logs / "dqn" / "CartPole-v1_1" / "CartPole-v1.zip"
    model_path.write_bytes(_with_entry(model_path.read_bytes(), "policy.pth", b"PK not torch"))
    capsys.readouterr()
    args = ["enjoy", "--algo", "dqn", "--env", "CartPole-v1", "-f", str(logs), "--no-render", "--trust-remote-code"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {model_path}: Stable-Baselines3 cannot load it: ") and "\n" not in err


def _with_entry(zip_bytes: bytes, member: str, content: bytes) -> bytes:
    source, target = zipfile.ZipFile(io.BytesIO(zip_bytes)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for item in source.namelist():
            out.writestr(item, content if item == member else source.read(item))
    return target.getvalue()


def _with_data(zip_bytes: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(zip_bytes))
    data = json.loads(source.read("data"))
    edit(data)
    return _with_entry(zip_bytes, "data", json.dumps(data).encode())


def _actions(model: Any) -> np.ndarray:
    env = model.get_env()
    env.seed(3)
    obs = env.reset()
    return np.array([model.predict(obs + 0.01 * i, deterministic=True)[0] for i in range(20)])


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        # Saved on a GPU machine: SB3's load drops the device.
        ("sac-MountainCarContinuous-v0", lambda data: data["policy_kwargs"].update(device="cuda:3")),
        # SB3 < 2.0 wrote the actor-critic layers as a list holding a dict.
        ("ppo-CartPole-v1", lambda data: data.update(policy_kwargs={"net_arch": [{"pi": [64, 64], "vf": [64, 64]}]})),
        # Removed in SB3 1.5: no extra layer asked, nothing to build.
        ("sac-MountainCarContinuous-v0", lambda data: data["policy_kwargs"].update(sde_net_arch=None)),
    ],
    ids=["device", "old-net-arch", "sde-net-arch"],
)
def test_policy_kwargs_of_older_versions(hub: FakeHub, name: str, edit: Callable[[dict[str, Any]], None]) -> None:
    agent = BY_NAME[name]
    reference = load_from_hub(agent.repo_id)
    hub.add_repo(f"old/{name}", repo_files(agent, model=_with_data((agent.run / f"{agent.env_id}.zip").read_bytes(), edit)))
    np.testing.assert_array_equal(_actions(load_from_hub(f"old/{name}")), _actions(reference))


def test_weights_that_do_not_fit_keep_the_keys(hub: FakeHub) -> None:
    agent = BY_NAME["sac-MountainCarContinuous-v0"]
    model = _with_data(
        (agent.run / f"{agent.env_id}.zip").read_bytes(), lambda data: data["policy_kwargs"].update(use_sde=False)
    )
    hub.add_repo("bad/sac-MountainCarContinuous-v0", repo_files(agent, model=model))
    with pytest.raises(ZooError) as error:
        load_from_hub("bad/sac-MountainCarContinuous-v0")
    message = str(error.value)
    assert message.startswith("sac-MountainCarContinuous-v0.zip of bad/sac-MountainCarContinuous-v0: cannot rebuild SAC")
    assert (
        'Missing key(s) in state_dict: "actor.mu.weight"' in message
        and 'Unexpected key(s) in state_dict: "actor.log_std"' in message
    )
    assert "\n" not in message and "pgzoo-hub-" not in message


def test_renamed_env_override_and_model_zip(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    agent = BY_NAME["ppo-LunarLander-v2"]
    # The current id given explicitly: the model zip is still found by the repository's name.
    model = load_from_hub(agent.repo_id, env_id="LunarLander-v3")
    assert model.get_env().envs[0].unwrapped.spec.id == "LunarLander-v3"
    assert "note:" not in capsys.readouterr().out
    # A retired id whose successor has other spaces is refused, naming both.
    cartpole = BY_NAME["a2c-CartPole-v1"]
    hub.add_repo("me/a2c-LunarLander-v2", repo_files(cartpole, model=(cartpole.run / "CartPole-v1.zip").read_bytes()))
    with pytest.raises(ZooError, match=r"LunarLander-v2 is no longer registered .* does not fit its successor LunarLander-v3"):
        load_from_hub("me/a2c-LunarLander-v2")
    # Several zips that could be the model: only the zips are listed, with the argument of the caller.
    files = {"first.zip": b"", "second.zip": b"", "train_eval_metrics.zip": b"", "README.md": b""}
    hub.add_repo("me/two-models", files)
    with pytest.raises(ModelZipChoiceError) as error:
        load_from_hub("me/two-models", algo="a2c", env_id="CartPole-v1")
    assert str(error.value) == (
        "me/two-models has several zip files (first.zip, second.zip, train_eval_metrics.zip): "
        "pass filename='NAME.zip' to say which is the model"
    )
    assert main(["pull", "--repo-id", "me/two-models", "--algo", "a2c", "--env", "CartPole-v1"]) == 2
    assert "pass --filename NAME to say which is the model" in capsys.readouterr().err


def test_pull_then_enjoy(hub: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's `pgzoo pull --repo-id sb3/ppo-LunarLander-v2 -f logs && pgzoo enjoy ...`, in this process."""
    logs = str(tmp_path / "logs")
    assert main(["pull", "--repo-id", "sb3/ppo-LunarLander-v2", "-f", logs]) == 0
    assert "pgzoo enjoy --algo ppo --env LunarLander-v2" in capsys.readouterr().out
    assert main(["enjoy", "--algo", "ppo", "--env", "LunarLander-v2", "-f", logs, "--no-render", "-n", "1500"]) == 0
    out = capsys.readouterr().out
    assert "playing the agent in LunarLander-v3" in out and "Episode 1: reward" in out
    rewards = [float(line.split("reward ")[1].split(",")[0]) for line in out.splitlines() if line.startswith("Episode ")]
    assert np.mean(rewards) > 100
    # The VecNormalize agent too, with nothing but default settings.
    assert main(["pull", "--repo-id", "sb3/a2c-MountainCarContinuous-v0", "-f", logs]) == 0
    assert main(["enjoy", "--algo", "a2c", "--env", "MountainCarContinuous-v0", "-f", logs, "--no-render", "-n", "300"]) == 0
    assert "Episode 1: reward 9" in capsys.readouterr().out


@pytest.mark.slow
def test_shell_pull_then_enjoy(hub: FakeHub, tmp_path: Path) -> None:
    """The same line run by a shell, as a user types it (two fresh processes)."""
    import shlex
    import subprocess

    pgzoo = f"{shlex.quote(sys.executable)} -m pgzoo"
    line = (f"{pgzoo} pull --repo-id sb3/ppo-LunarLander-v2 -f logs && "
            f"{pgzoo} enjoy --algo ppo --env LunarLander-v2 -f logs --no-render -n 1500")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "playing the agent in LunarLander-v3" in done.stdout and "Episode 1: reward" in done.stdout


ATARI_CONFIG = b"""!!python/object/apply:collections.OrderedDict
- - - env_wrapper
    - - stable_baselines3.common.atari_wrappers.AtariWrapper
  - - frame_stack
    - 4
  - - n_envs
    - 1
  - - n_steps
    - 16
  - - policy
    - CnnPolicy
"""


def test_atari_agent_is_rebuilt_as_the_zoo_plays_it(
    hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Atari agent (made here with the zoo's env: AtariWrapper, 4 stacked frames; untrained) from the Hub."""
    pytest.importorskip("ale_py")
    pytest.importorskip("cv2")
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    env = VecFrameStack(make_atari_env("PongNoFrameskip-v4", n_envs=1, seed=0), n_stack=4)
    trained = PPO("CnnPolicy", env, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu")  # weights as initialised
    trained.save(tmp_path / "model.zip")
    hub.add_repo("sb3/ppo-PongNoFrameskip-v4", {
        "ppo-PongNoFrameskip-v4.zip": (tmp_path / "model.zip").read_bytes(), "config.yml": ATARI_CONFIG,
        "env_kwargs.yml": b"{}\n", "train_eval_metrics.zip": b"PK\x05\x06" + bytes(18),
    })  # fmt: skip
    model = load_from_hub("sb3/ppo-PongNoFrameskip-v4", device="cpu")
    assert model.observation_space.shape == (4, 84, 84)  # 84x84 grey frames, 4 stacked, channels first for torch
    obs = env.reset()
    for _ in range(5):
        obs, *_ = env.step(np.array([env.action_space.sample()]))
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], trained.predict(obs, deterministic=True)[0])
    trusted = load_from_hub("sb3/ppo-PongNoFrameskip-v4", device="cpu", trust_remote_code=True)
    np.testing.assert_array_equal(trusted.predict(obs, deterministic=True)[0], trained.predict(obs, deterministic=True)[0])
    # Saved before SB3 1.7: the shared CNN only under features_extractor, not also pi_ / vf_features_extractor.
    import torch as th

    model_bytes = (tmp_path / "model.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(model_bytes)) as archive:
        weights = th.load(io.BytesIO(archive.read("policy.pth")), weights_only=True)
    old = {key: value for key, value in weights.items() if not key.startswith(("pi_features", "vf_features"))}
    assert len(old) < len(weights)
    buffer = io.BytesIO()
    th.save(old, buffer)
    hub.add_repo("old/ppo-PongNoFrameskip-v4", {
        "ppo-PongNoFrameskip-v4.zip": _with_entry(model_bytes, "policy.pth", buffer.getvalue()), "config.yml": ATARI_CONFIG,
    })  # fmt: skip
    old_model = load_from_hub("old/ppo-PongNoFrameskip-v4", device="cpu")
    np.testing.assert_array_equal(old_model.predict(obs, deterministic=True)[0], trained.predict(obs, deterministic=True)[0])

    # enjoy samples Atari actions, as the zoo does, unless told otherwise.
    modes: list[bool] = []
    monkeypatch.setattr("pgzoo.zoo.enjoy.run_agent", lambda agent, **kwargs: modes.append(kwargs["deterministic"]))
    logs = str(tmp_path / "logs")
    assert main(["pull", "--repo-id", "sb3/ppo-PongNoFrameskip-v4", "-f", logs]) == 0
    base = ["enjoy", "--algo", "ppo", "--env", "PongNoFrameskip-v4", "-f", logs, "--no-render", "-n", "20"]
    assert main(base) == 0 and main([*base, "--deterministic"]) == 0
    assert modes == [False, True]


def _double_optimizer_params(zip_bytes: bytes) -> bytes:
    """The optimizer layout of DQN / QR-DQN before SB3 2.4: the target network's parameters listed after the online's."""
    import torch as th

    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        state = th.load(io.BytesIO(archive.read("policy.optimizer.pth")), weights_only=True)
    params = state["param_groups"][0]["params"]
    state["param_groups"][0]["params"] = [*params, *(index + len(params) for index in params)]
    buffer = io.BytesIO()
    th.save(state, buffer)
    return _with_entry(zip_bytes, "policy.optimizer.pth", buffer.getvalue())


@pytest.mark.parametrize(
    ("algo", "env_id", "hyperparams"),
    [
        ("a2c", "Pendulum-v1", {"use_sde": True}),
        ("ppo", "Pendulum-v1", {"use_sde": True, "policy_kwargs": {"log_std_init": -2.0}}),
        ("sac", "Pendulum-v1", {"use_sde": True}),
        ("tqc", "Pendulum-v1", {"use_sde": True, "policy_kwargs": {"n_critics": 2, "n_quantiles": 5}}),
        ("td3", "Pendulum-v1", {}),
        ("ddpg", "Pendulum-v1", {}),
        ("trpo", "Pendulum-v1", {}),
        ("ars", "Pendulum-v1", {}),
        ("crossq", "Pendulum-v1", {}),
        ("dqn", "CartPole-v1", {"old-optimizer": True}),
        ("qrdqn", "CartPole-v1", {"old-optimizer": True}),
        ("ppo_lstm", "CartPole-v1", {}),
    ],
)
def test_every_zoo_algorithm_loads_safely(hub: FakeHub, tmp_path: Path, algo: str, env_id: str, hyperparams: dict) -> None:
    """A model of each algorithm, saved by this SB3 (older layouts emulated), rebuilt without unpickling: same actions."""
    import yaml
    from stable_baselines3.common.env_util import make_vec_env

    from pgzoo.zoo.algos import get_algo_class

    hyperparams = dict(hyperparams)
    old_optimizer = hyperparams.pop("old-optimizer", False)
    algo_class = get_algo_class(algo)
    policy = "MlpLstmPolicy" if algo == "ppo_lstm" else "MlpPolicy"
    original = algo_class(policy, make_vec_env(env_id, seed=0), seed=0, device="cpu", **hyperparams)
    original.save(tmp_path / "model.zip")
    model_bytes = (tmp_path / "model.zip").read_bytes()
    if old_optimizer:
        model_bytes = _double_optimizer_params(model_bytes)
    config = {"policy": policy, **{key: str(value) if key == "policy_kwargs" else value for key, value in hyperparams.items()}}
    files = {f"{algo}-{env_id}.zip": model_bytes, "config.yml": yaml.safe_dump(config).encode()}
    hub.add_repo(f"gen/{algo}-{env_id}", files)
    model = load_from_hub(f"gen/{algo}-{env_id}", device="cpu")
    assert type(model) is algo_class and getattr(model, "use_sde", False) == hyperparams.get("use_sde", False)
    obs = model.get_env().reset()
    for _ in range(3):
        expected = original.predict(obs, deterministic=True)[0]
        np.testing.assert_allclose(model.predict(obs, deterministic=True)[0], expected, rtol=1e-5)
        obs, *_ = model.get_env().step(expected)

"""
The repository's collection of trained agents (``agents/``): it plays out of the box, stays small, is what the
README's table says, and (slow) every agent still scores what its ``results.json`` records.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from pgzoo.zoo.benchmark.agents import load_agents
from pgzoo.zoo.benchmark.scoring import group_rows
from pgzoo.zoo.benchmark.table import pretrained_table
from pgzoo.zoo.cli import main

ROOT = Path(__file__).resolve().parents[1]
AGENTS = ROOT / "agents"
SHIPPED = sorted(AGENTS.glob("*/*_1/results.json"))
#: A shipped agent may weigh this much at most (model zip, statistics, curve and monitor files).
MAX_AGENT_BYTES = 4 * 2**20


def _name(results_file: Path) -> str:
    return f"{results_file.parent.parent.name}/{results_file.parent.name}"


def test_the_collection_is_small_and_holds_no_pickle() -> None:
    assert SHIPPED, "agents/ holds no agent"
    for results_file in SHIPPED:
        run = results_file.parent
        files = [p for p in run.rglob("*") if p.is_file()]
        assert sum(p.stat().st_size for p in files) <= MAX_AGENT_BYTES, _name(results_file)
        assert not [p for p in files if p.suffix in (".pkl", ".pth") or "replay_buffer" in p.name]
        env_name = run.name.rsplit("_", 1)[0]
        assert {f"{env_name}.zip", "evaluations.npz", "results.json"} <= {p.name for p in files}
        assert (run / env_name / "config.yml").is_file() and (run / env_name / "args.yml").is_file()
    # Out of the wheel: the packages listed in pyproject.toml are pgzoo's own.
    packages = re.search(r"^packages = \[(.*)\]$", (ROOT / "pyproject.toml").read_text(), re.M)
    assert packages is not None and all(p.strip().strip('"').startswith("pgzoo") for p in packages[1].split(","))


def test_the_readme_table_is_generated_from_the_collection() -> None:
    table = pretrained_table(group_rows(load_agents(AGENTS)), "agents")
    assert table in (ROOT / "README.md").read_text()
    assert table.count("\n") - 1 == len(SHIPPED)


def test_a_shipped_agent_plays_from_the_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # as on a fresh clone: the README's command, relative folder included
    assert main(["enjoy", "--algo", "dpg", "--env", "Pendulum-v1", "-f", "agents", "--no-render", "-n", "400"]) == 0
    assert "Episode 2: reward" in capsys.readouterr().out  # two full 200-step episodes


@pytest.mark.slow
@pytest.mark.parametrize("results_file", SHIPPED, ids=[_name(p) for p in SHIPPED])
def test_a_shipped_agent_scores_what_its_results_say(results_file: Path) -> None:
    from stable_baselines3.common.evaluation import evaluate_policy

    from pgzoo.zoo.enjoy import load_agent

    results = json.loads(results_file.read_text())
    # The benchmark's final evaluation env: seeded with the run's seed + 10000 (see pgzoo.zoo.train).
    agent = load_agent(results_file.parent.parent.name, results["env_id"], AGENTS, seed=results["seed"] + 10_000)
    try:
        rewards, _ = evaluate_policy(
            agent.model, agent.env, results["n_eval_episodes"], deterministic=True, return_episode_rewards=True
        )
    finally:
        agent.env.close()
    # Same model, same env seeds, deterministic actions: the same episodes, up to float noise across machines.
    tolerance = max(0.01 * abs(results["mean_reward"]), 1.0)
    assert abs(float(np.mean(rewards)) - results["mean_reward"]) <= tolerance, (np.mean(rewards), results)


def test_the_seed_asked_for_wins_over_the_models_own() -> None:
    import gymnasium as gym

    from pgzoo.zoo.enjoy import load_agent

    # SB3's load of an off-policy model seeds its env with the training seed: load_agent seeds it again.
    for seed in (5, 6):
        agent = load_agent("dpg", "Pendulum-v1", AGENTS, seed=seed)
        try:
            expected, _ = gym.make("Pendulum-v1").reset(seed=seed)
            np.testing.assert_allclose(agent.env.reset()[0], expected, rtol=1e-6)
        finally:
            agent.env.close()

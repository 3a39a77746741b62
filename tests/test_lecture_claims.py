"""scripts/lecture_claims.py end to end on its ``--smoke`` settings: files, table, caching. Learning is not checked here
(the committed results under benchmarks/lecture/ are the measurement); the script's gradient estimator is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch as th
from script_modules import load_script

from pgzoo import REINFORCE

ROOT = Path(__file__).resolve().parents[1]
lecture_claims = load_script("lecture_claims")


@pytest.fixture(scope="module")
def smoke_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lecture")
    assert lecture_claims.main(["--smoke", "--out", str(out)]) == 0
    return out


def test_smoke_run_writes_plots_tables_and_one_json_per_run(smoke_out: Path) -> None:
    settings = lecture_claims.SMOKE
    for name in ("bandit_cost.png", "baseline_variance.png"):
        assert (smoke_out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((smoke_out / "bandit_summary.json").read_text())
    assert [(row["threshold"], row["action_dim"]) for row in summary["rows"]] == [
        (threshold, m) for threshold in settings.cost_thresholds for m in settings.action_dims
    ]
    for row in summary["rows"]:
        assert set(row["median_steps"]) == set(lecture_claims.METHODS)
        assert set(row["ratio"]) == set(lecture_claims.STOCHASTIC)
        assert all(len(steps) == len(settings.seeds) for steps in row["steps_to_threshold"].values())
    table = (smoke_out / "bandit_table.md").read_text()
    assert table.count("\n| ") == len(summary["rows"]) + 1  # header + one line per row
    runs = sorted(path.name for path in (smoke_out / "runs").glob("*.json"))
    n_tuning = sum(len(settings.lr_grid(method)) for method in lecture_claims.METHODS) * len(settings.action_dims)
    n_bandit = len(settings.seeds) * len(lecture_claims.METHODS) * len(settings.action_dims)
    n_variance = 2 * 2 * len(settings.seeds)
    assert len(runs) == n_tuning + n_bandit + n_variance
    record = json.loads((smoke_out / "runs" / "dpg_m2_lr0.01_n512_seed0.json").read_text())
    assert record["config"] == {"method": "dpg", "action_dim": 2, "learning_rate": 0.01, "seed": 0, "steps": 512,
                                "eval_every": 128}  # fmt: skip
    curve = record["result"]
    assert curve["steps"][0] == 0 and curve["steps"][-1] >= 512 - lecture_claims.N_ENVS
    # Every method starts from the action a = 0.
    problem = lecture_claims.QuadraticBanditEnv(2)
    assert curve["cost"][0] == pytest.approx(problem.cost(np.zeros(2)), rel=1e-5)
    variance = json.loads((smoke_out / "baseline_summary.json").read_text())
    assert set(variance) == {"CartPole-v1", "bandit"}
    assert variance["bandit"]["median_variance_ratio_same_policy"] > 0


def test_rerun_uses_the_cached_runs(smoke_out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_training(run: object) -> dict[str, object]:
        raise AssertionError(f"{run} was trained again")

    monkeypatch.setattr(lecture_claims, "train_bandit", no_training)
    monkeypatch.setattr(lecture_claims, "train_variance", no_training)
    before = (smoke_out / "bandit_table.md").read_text()
    assert lecture_claims.main(["--smoke", "--out", str(smoke_out)]) == 0
    assert (smoke_out / "bandit_table.md").read_text() == before


def test_a_run_with_another_config_is_not_taken_from_the_cache(tmp_path: Path) -> None:
    calls = []

    def compute() -> dict[str, int]:
        calls.append(1)
        return {"value": len(calls)}

    assert lecture_claims.cached(tmp_path, "run", {"lr": 1}, compute) == {"value": 1}
    assert lecture_claims.cached(tmp_path, "run", {"lr": 1}, compute) == {"value": 1}
    assert lecture_claims.cached(tmp_path, "run", {"lr": 2}, compute) == {"value": 2}
    assert not list(tmp_path.glob("*.tmp"))


def test_steps_to_reach_and_ratio() -> None:
    assert lecture_claims.steps_to_reach([0, 10, 20], [5.0, 1.0, 0.5], 1.0) == 10
    assert lecture_claims.steps_to_reach([0, 10], [5.0, 2.0], 1.0) == float("inf")
    assert lecture_claims._ratio(300.0, 100.0) == 3.0
    assert lecture_claims._ratio(float("inf"), 100.0) == "> 1 (only DPG reached)"


def test_gradient_estimates_match_the_score_function_formula() -> None:
    """On the bandit the policy is a Gaussian with a learnable mean and log-std: check one estimate by hand."""
    env = lecture_claims.bandit_env(3, 4, seed=0)
    run = lecture_claims.BanditRun("reinforce_baseline", 3, 1e-2, 0, 64, 64)
    model = lecture_claims.make_bandit_model(run, env)
    assert isinstance(model, REINFORCE)
    batch = lecture_claims.collect_episodes(model, env, 4)
    assert len(batch) == 4 and all(len(episode["rewards"]) == 1 for episode in batch)
    gradients = lecture_claims.policy_gradients(model, batch)
    actions = np.concatenate([episode["actions"] for episode in batch])
    returns = np.concatenate([episode["rewards"] for episode in batch])
    with th.no_grad():
        value = model.policy.predict_values(th.ones((1, 1))).item()
    # Mean 0 and std 1 at the start: d log pi / d mu = a, d log pi / d log_std = a^2 - 1.
    for key, advantage in (("no_baseline", returns), ("baseline", returns - value)):
        d_mean = -(advantage[:, None] * actions).mean(axis=0)
        d_log_std = -(advantage[:, None] * (actions**2 - 1)).mean(axis=0)
        # Parameters in the policy's order: log_std first, then the action net's weight and bias (input is 1).
        np.testing.assert_allclose(gradients[key], np.concatenate([d_log_std, d_mean, d_mean]), rtol=1e-4, atol=1e-5)
    env.close()

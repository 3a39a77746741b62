"""
Tuning and reporting kept apart: an entry's ``tuning_seeds``, held-out rows with their IQM and bootstrap interval,
and one way to train from an entry (the same seed gives the same weights through every command).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch as th

from pgzoo import DPG
from pgzoo.zoo.benchmark.plan import current_entry_digest, entry_digest
from pgzoo.zoo.benchmark.record import RunRecord, write_record
from pgzoo.zoo.benchmark.report import write_report
from pgzoo.zoo.benchmark.scoring import group_rows, iqm_interval
from pgzoo.zoo.benchmark.table import format_seeds
from pgzoo.zoo.cli import main
from pgzoo.zoo.errors import HyperparamsError
from pgzoo.zoo.hyperparams import preprocess_hyperparams
from pgzoo.zoo.train import train

ENTRY = "Pendulum-v1:\n  n_timesteps: 20000\n  policy: MlpPolicy\n  tuning_seeds: [0, 1, 2]\n"


def test_tuning_seeds_are_read_and_checked() -> None:
    config = preprocess_hyperparams({"tuning_seeds": [2, 0, 1, 1], "gamma": 0.9})
    assert config.tuning_seeds == (0, 1, 2) and "tuning_seeds" not in config.model_kwargs
    assert preprocess_hyperparams({}).tuning_seeds == ()
    for bad in ("0-2", [-1], [1.5]):
        with pytest.raises(HyperparamsError, match="tuning_seeds"):
            preprocess_hyperparams({"tuning_seeds": bad})
    # They say how the entry was chosen, not how it trains: recording them leaves earlier results current.
    assert entry_digest({"gamma": 0.9, "tuning_seeds": [0, 1, 2]}) == entry_digest({"gamma": 0.9})
    assert entry_digest({"gamma": 0.9}) != entry_digest({"gamma": 0.8})


def test_iqm_interval_and_seed_ranges() -> None:
    from scipy import stats

    scores = [-300.0, -210.0, -190.0, -180.0, -170.0, -100.0]
    iqm, low, high = iqm_interval(scores)
    assert iqm == pytest.approx(stats.trim_mean(scores, 0.25)) == pytest.approx(-187.5)
    assert low < iqm < high and low >= min(scores) and high <= max(scores)
    assert iqm_interval(scores) == (iqm, low, high)  # seeded: a regenerated report does not change
    assert iqm_interval([500.0] * 6) == (500.0, 500.0, 500.0)
    assert format_seeds([13, 0, 1, 2, 10, 11, 12, 20]) == "0-2, 10-13, 20" and format_seeds([]) == "-"


def _records(tmp: Path, scores: dict[int, float]) -> list[RunRecord]:
    """A3C Pendulum-v1 records (RL Zoo A2C bar: -162.97 - 103.21 = -266.18) trained with the entry of ``tmp``."""
    hyperparams = tmp / "a3c.yml"
    hyperparams.write_text(ENTRY)
    digest = current_entry_digest("a3c", "Pendulum-v1", hyperparams)
    return [
        RunRecord(algo="a3c", env="Pendulum-v1", seed=seed, n_timesteps=20_000, final_mean_reward=score,
                  final_std_reward=1.0, eval_episodes=20, wall_clock_s=10.0, steps_per_second=100.0,
                  machine={"cpu_count": 2}, versions={"pgzoo": "0"}, entry_digest=digest,
                  hyperparams_file=str(hyperparams))
        for seed, score in scores.items()
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("held_out", "verdict"),
    [
        ({10: -150.0, 11: -160.0, 12: -170.0, 13: -180.0, 14: -150.0, 15: -200.0}, "yes"),
        # The pooled result is above the bar, but the second triple on its own is not: not accepted.
        ({10: -100.0, 11: -110.0, 12: -120.0, 13: -250.0, 14: -300.0, 15: -290.0}, "unsure"),
        # One lucky seed lifts the mean above the bar (-262.5); the interval of the IQM straddles it.
        ({10: -300.0, 11: -290.0, 12: -100.0, 13: -280.0, 14: -250.0, 15: -255.0}, "unsure"),
        ({10: -400.0, 11: -390.0, 12: -380.0, 13: -410.0, 14: -420.0, 15: -300.0}, "no"),
    ],
)
def test_rows_report_held_out_seeds_and_judge_by_the_interval(
    tmp_path: Path, held_out: dict[int, float], verdict: str
) -> None:
    records = _records(tmp_path, {0: -120.0, 1: -130.0, 2: -125.0, **held_out})
    (row,) = group_rows(records)
    assert row.seeds == sorted(held_out) and row.tuning_seeds == (0, 1, 2) and not row.on_tuning_seeds
    assert [r.seed for r in row.tuning_records] == [0, 1, 2]
    assert row.mean == pytest.approx(float(np.mean(list(held_out.values()))))
    assert row.iqm_interval() == iqm_interval([held_out[s] for s in sorted(held_out)])
    assert row.within_reference() == verdict


def test_a_row_with_only_tuning_seeds_says_so(tmp_path: Path) -> None:
    records = _records(tmp_path, {0: -120.0, 1: -130.0, 2: -125.0, 10: -150.0})
    (row,) = group_rows(records)
    # Fewer than three held-out seeds: every seed is reported, and flagged.
    assert row.seeds == [0, 1, 2, 10] and row.on_tuning_seeds and row.iqm_interval() is None
    assert row.within_reference() == "yes (tuning seeds)"


def test_a_seed_tuned_on_in_any_copy_of_the_file_is_a_tuning_seed(tmp_path: Path) -> None:
    """Runs of one entry from two copies of its file: the seeds either copy names as tuning seeds are not reported."""
    records = _records(tmp_path, {0: -120.0, 1: -130.0, 2: -125.0, 10: -150.0, 11: -160.0, 12: -170.0})
    other = tmp_path / "tuning"
    other.mkdir()
    (other / "a3c.yml").write_text(ENTRY.replace("[0, 1, 2]", "[0, 1, 2, 10]"))
    records[0] = dataclasses.replace(records[0], hyperparams_file=str(other / "a3c.yml"))
    (row,) = group_rows(records)
    assert row.tuning_seeds == (0, 1, 2, 10) and row.seeds == [0, 1, 2, 10, 11, 12] and row.on_tuning_seeds


def test_report_shows_reported_and_tuning_seeds(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    scores = {0: -120.0, 1: -130.0, 2: -125.0, 10: -150.0, 11: -160.0, 12: -170.0, 13: -180.0, 14: -150.0, 15: -200.0}
    for record in _records(tmp_path, scores):
        write_record(results / f"seed{record.seed}.json", record)
    report = write_report(results, tmp_path / "benchmark.md").read_text()
    iqm, low, high = iqm_interval([scores[s] for s in range(10, 16)])
    assert f"| -168.33 ± 17.72 | 6 | 10-15 / 0-2 | {iqm:.2f} [{low:.2f}, {high:.2f}] |" in report
    assert "runs on the seeds an entry was tuned on" in report and "a3c Pendulum-v1 seed 0: -120.00" in report


def _weights(model_path: Path) -> th.Tensor:
    return th.nn.utils.parameters_to_vector(DPG.load(model_path, device="cpu").policy.parameters()).detach()


def test_one_entry_and_seed_give_the_same_weights_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``train()``, ``pgzoo train``, ``pgzoo benchmark`` and ``pgzoo tune`` train one entry the same way."""
    pytest.importorskip("optuna")
    import pgzoo.zoo.tune as tune_module

    hyperparams = tmp_path / "dpg.yml"
    hyperparams.write_text(
        "Pendulum-v1:\n  n_timesteps: 400\n  learning_starts: 100\n  noise_type: normal\n  noise_std: 0.1\n"
        "  policy_kwargs: 'dict(net_arch=[16])'\n"
    )
    seed, common = 3, ["--algo", "dpg", "--env", "Pendulum-v1", "--hyperparams", str(hyperparams)]
    direct = train("dpg", "Pendulum-v1", seed=seed, log_folder=tmp_path / "direct", hyperparams_file=hyperparams,
                   eval_freq=0, final_eval_episodes=0, verbose=0)  # fmt: skip
    reference = _weights(direct.model_path)

    assert main(["train", *common, "--seed", str(seed), "-f", str(tmp_path / "cli"), "--eval-freq", "200"]) == 0
    (cli_model,) = (tmp_path / "cli").rglob("Pendulum-v1.zip")

    assert main(["benchmark", "--algos", "dpg", "--envs", "Pendulum-v1", "--seeds", "1", "--first-seed", str(seed),
                 "--hyperparams", str(hyperparams), "-f", str(tmp_path / "bench"), "--eval-freq", "100",
                 "--results-dir", str(tmp_path / "results"), "--no-report"]) == 0  # fmt: skip
    (bench_model,) = (tmp_path / "bench" / "dpg").rglob("Pendulum-v1.zip")

    # A search space that proposes nothing: the trial trains the entry itself.
    monkeypatch.setitem(tune_module.SEARCH_SPACES, "dpg", lambda trial: {})
    assert main(["tune", *common, "--seed", str(seed), "--n-trials", "1", "--n-evaluations", "2", "--eval-episodes", "1",
                 "-f", str(tmp_path / "tune"), "-o", str(tmp_path / "best.yml")]) == 0  # fmt: skip
    (tune_model,) = (tmp_path / "tune").rglob("Pendulum-v1.zip")

    for path in (cli_model, bench_model, tune_model):
        assert th.equal(_weights(path), reference), path
    from pgzoo.zoo.hyperparams import load_yaml

    assert load_yaml(tmp_path / "best.yml")["Pendulum-v1"]["tuning_seeds"] == [seed]  # the seed the search looked at

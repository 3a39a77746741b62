"""
``pgzoo benchmark`` end to end on tiny budgets: per-run JSON files, resume, ``--jobs``, Ray tasks, the report.

Budgets are a few hundred steps so that the whole module runs in about a minute on two busy cores; what is checked
is the machinery (files, skipping, schedulers, table), not learning.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pgzoo.zoo.benchmark.plan import DEFAULT_EVAL_EPISODES, current_entry_digest, plan_runs
from pgzoo.zoo.benchmark.readme import README_END, README_START
from pgzoo.zoo.benchmark.record import RunRecord, result_path, write_record
from pgzoo.zoo.benchmark.report import write_report
from pgzoo.zoo.benchmark.rows import REQUIRED_ROWS
from pgzoo.zoo.benchmark.scoring import Row, group_rows
from pgzoo.zoo.cli import build_parser, main
from pgzoo.zoo.errors import ZooError

# Tiny but complete: two curve points per run, a few final episodes (the CLI's default stays 20).
TINY = ["-n", "500", "--eval-freq", "250", "--curve-episodes", "2", "--eval-episodes", "3"]
RECORD_KEYS = {
    "algo", "env", "seed", "n_timesteps", "hyperparams", "final_mean_reward", "final_std_reward", "eval_episodes",
    "curve", "env_steps", "wall_clock_s", "train_time_s", "curve_eval_time_s", "steps_per_second", "versions", "machine",
    "date",
}  # fmt: skip


def _benchmark(tmp: Path, *extra: str) -> int:
    return main(
        ["benchmark", *TINY, "-f", str(tmp / "logs"), "--results-dir", str(tmp / "results"),
         "--output", str(tmp / "bench" / "benchmark.md"), *extra]
    )  # fmt: skip


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def sequential(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One sequential benchmark: REINFORCE and A2C on CartPole-v1, 2 seeds each."""
    tmp = tmp_path_factory.mktemp("sequential")
    assert _benchmark(tmp, "--algos", "reinforce", "a2c", "--envs", "CartPole-v1", "--seeds", "2") == 0
    return tmp


def test_default_eval_episodes_is_at_least_20() -> None:
    args = build_parser().parse_args(["benchmark"])
    assert args.eval_episodes == DEFAULT_EVAL_EPISODES >= 20
    assert args.seeds == 3 and args.results_dir == "benchmarks/results" and args.jobs == 1


def test_one_json_per_run(sequential: Path) -> None:
    files = sorted((sequential / "results").glob("*.json"))
    assert [f.name for f in files] == [
        "a2c_CartPole-v1_n500_seed0.json",
        "a2c_CartPole-v1_n500_seed1.json",
        "reinforce_CartPole-v1_n500_seed0.json",
        "reinforce_CartPole-v1_n500_seed1.json",
    ]
    for path in files:
        record = _load(path)
        assert set(record) >= RECORD_KEYS
        assert record["env"] == "CartPole-v1" and record["n_timesteps"] == 500
        assert record["eval_episodes"] == 3 and record["deterministic_eval"] is True
        assert record["env_steps"] >= 500 and record["steps_per_second"] > 0
        assert record["hyperparams"]["n_timesteps"] == 500 and "callback" not in record["hyperparams"]
        assert 0 < record["final_mean_reward"] <= 500
        # The learning curve: (timesteps, mean, std) every --eval-freq steps.
        assert len(record["curve"]) >= 1 and all(len(point) == 3 for point in record["curve"])
        assert record["machine"]["cpu_count"] >= 1 and record["versions"]["stable_baselines3"]
    assert _load(files[0])["hyperparams"]["n_envs"] == 8  # a2c's tuned entry, with the budget override


def test_each_run_keeps_its_agent_beside_its_record(sequential: Path) -> None:
    from pgzoo.zoo.benchmark.agents import agent_folder
    from pgzoo.zoo.benchmark.record import SCHEMA_VERSION
    from pgzoo.zoo.enjoy import load_agent

    results = sequential / "results"
    record = _load(result_path(results, "reinforce", "CartPole-v1", 500, 1))
    assert record["schema_version"] == SCHEMA_VERSION == 2
    assert record == RunRecord.from_json(record).to_json()  # every key a field: no agent file travels in the record
    folder = agent_folder(results, "reinforce", "CartPole-v1", 500, 1)
    assert record["agent"] == folder.name == "reinforce_CartPole-v1_n500_seed1"
    run = folder / "reinforce" / "CartPole-v1_1"
    kept = sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())
    monitors = [f"{rank}.monitor.csv" for rank in range(record["hyperparams"].get("n_envs", 1))]
    expected = [*monitors, "CartPole-v1.zip", "CartPole-v1/args.yml", "CartPole-v1/config.yml", "evaluations.npz"]
    # The statistics as JSON when the entry normalizes (REINFORCE's CartPole entry does), never the pickle.
    statistics = ["CartPole-v1/vecnormalize.json"] if record["hyperparams"].get("normalize") else []
    assert kept == sorted([*expected, *statistics, "results.json"])
    evaluation = json.loads((run / "results.json").read_text())
    assert evaluation["mean_reward"] == record["final_mean_reward"] and evaluation["is_deterministic"] is True
    assert evaluation["n_eval_episodes"] == 3 and evaluation["env_steps"] == record["env_steps"] and evaluation["seed"] == 1
    assert not [p for p in results.iterdir() if "partial" in p.name]  # no staging folder left
    # SB3's layout of the learning curve, one row per curve point with every episode.
    with np.load(run / "evaluations.npz") as evaluations:
        assert evaluations["timesteps"].tolist() == [point[0] for point in record["curve"]]
        assert evaluations["results"].shape == evaluations["ep_lengths"].shape == (len(record["curve"]), 2)
        np.testing.assert_allclose(evaluations["results"].mean(axis=1), [point[1] for point in record["curve"]])
    # It plays: the final model is the one the record's final evaluation measured.
    agent = load_agent("reinforce", "CartPole-v1", folder)
    try:
        from stable_baselines3.common.evaluation import evaluate_policy

        assert agent.model.num_timesteps == record["env_steps"]
        assert evaluate_policy(agent.model, agent.env, n_eval_episodes=1)[0] > 0
    finally:
        agent.env.close()


def test_resume_skips_finished_runs(sequential: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted((sequential / "results").glob("*.json"))
    mtimes = {f: f.stat().st_mtime_ns for f in files}
    # An interrupted benchmark: one run never finished, another left a half-written file behind.
    files[0].unlink()
    files[1].write_text('{"algo": "a2c", "fin')
    capsys.readouterr()
    assert _benchmark(sequential, "--algos", "reinforce", "a2c", "--envs", "CartPole-v1", "--seeds", "2") == 0
    out = capsys.readouterr().out
    assert "4 runs: 2 already finished" in out and "2 to run" in out
    assert all(f.stat().st_mtime_ns == mtimes[f] for f in files[2:])  # finished runs were not touched
    assert all(f.is_file() and "final_mean_reward" in _load(f) for f in files)
    # Nothing left to do: a third invocation trains nothing.
    assert _benchmark(sequential, "--algos", "reinforce", "a2c", "--envs", "CartPole-v1", "--seeds", "2") == 0
    out = capsys.readouterr().out
    assert "4 already finished" in out and "0 to run" in out and "[1/" not in out
    assert {f: f.stat().st_mtime_ns for f in files[2:]} == {f: mtimes[f] for f in files[2:]}


def test_report(sequential: Path) -> None:
    report = (sequential / "bench" / "benchmark.md").read_text()
    assert "| REINFORCE | CartPole-v1 | 500 |" in report
    assert "| A2C | CartPole-v1 | 500 |" in report
    assert "A2C 500.00 ± 0.00 | 500k | no (2 seeds) |" in report  # RL Zoo reference side by side, 2 seeds of 3
    assert "A3C on Pendulum-v1 (0/3 seeds measured)" in report  # required rows not measured are listed
    assert "(plots/CartPole-v1.png)" in report
    png = sequential / "bench" / "plots" / "CartPole-v1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # --report regenerates from the saved runs without training.
    png.unlink()
    assert main(["benchmark", "--report", "--results-dir", str(sequential / "results"),
                 "--output", str(sequential / "bench" / "benchmark.md")]) == 0  # fmt: skip
    assert png.is_file()


def test_run_config_holds_only_the_hyperparameters(tmp_path: Path, sequential: Path) -> None:
    import yaml

    from pgzoo.zoo.hyperparams import load_yaml
    from pgzoo.zoo.train import train

    record = _load(result_path(sequential / "results", "reinforce", "CartPole-v1", 500, 0))
    config = load_yaml(Path(record["run_folder"]) / "CartPole-v1" / "config.yml")
    # What `pgzoo push` publishes: the benchmark's own learning-curve callback is not a hyperparameter.
    assert "callback" not in config and config == record["hyperparams"]
    file = tmp_path / "reinforce.yml"
    file.write_text(yaml.safe_dump({"CartPole-v1": config}))
    result = train("reinforce", "CartPole-v1", seed=0, log_folder=tmp_path / "logs", hyperparams_file=file,
                   n_timesteps=100, eval_freq=0, final_eval_episodes=0, verbose=0)  # fmt: skip
    assert result.n_timesteps >= 100


def _results_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    write_record(folder / "run.json", _record("reinforce", "CartPole-v1", 0, 100.0, 1000))
    return folder


def test_report_goes_beside_the_results_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    # A trial run with its own --results-dir must not replace the published benchmarks/benchmark.md and plots.
    results = _results_folder(tmp_path / "trial" / "results")
    assert main(["benchmark", "--report", "--results-dir", str(results)]) == 0
    assert (tmp_path / "trial" / "benchmark.md").is_file() and (tmp_path / "trial" / "plots" / "CartPole-v1.png").is_file()
    assert not (tmp_path / "benchmarks").exists()
    # The default layout stays benchmarks/results + benchmarks/benchmark.md.
    _results_folder(tmp_path / "benchmarks" / "results")
    assert main(["benchmark", "--report"]) == 0
    assert "Report written to benchmarks/benchmark.md" in capsys.readouterr().out
    assert (tmp_path / "benchmarks" / "plots" / "CartPole-v1.png").is_file()


def test_report_bad_paths_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = _results_folder(tmp_path / "results")
    missing = tmp_path / "nonexist.md"
    assert main(["benchmark", "--report", "--results-dir", str(results), "--readme", str(missing)]) == 2
    assert (
        capsys.readouterr().err
        == f"error: --readme {missing}: no such file (give the README whose benchmark table should be updated)\n"
    )
    assert not (tmp_path / "benchmark.md").exists()  # nothing half done
    # Checked before any run trains, not after hours of benchmark.
    assert _benchmark(tmp_path, "--algos", "reinforce", "--envs", "CartPole-v1", "--readme", str(missing)) == 2
    assert "--readme" in capsys.readouterr().err and not (tmp_path / "logs").exists()
    (tmp_path / "file").write_text("not a folder")
    output = tmp_path / "file" / "benchmark.md"
    assert main(["benchmark", "--report", "--results-dir", str(results), "--output", str(output)]) == 2
    assert capsys.readouterr().err.startswith(f"error: cannot write the report {output}: ")
    # A mistyped results folder leaves the published report and the README's table alone.
    readme = tmp_path / "README.md"
    readme.write_text(f"{README_START}\nthe table\n{README_END}\n")
    (tmp_path / "benchmark.md").write_text("the report")
    typo = tmp_path / "result"
    assert main(["benchmark", "--report", "--results-dir", str(typo), "--readme", str(readme)]) == 2
    assert capsys.readouterr().err.startswith(f"error: no run record in {typo} (check --results-dir)")
    assert (tmp_path / "benchmark.md").read_text() == "the report" and "the table" in readme.read_text()
    # A results folder that can't be written in fails before any run trains, not after.
    args = ["--algos", "reinforce", "--envs", "CartPole-v1", "--results-dir", str(tmp_path / "file" / "results")]
    assert _benchmark(tmp_path, *args) == 2
    assert capsys.readouterr().err.startswith(f"error: cannot write in --results-dir {tmp_path / 'file' / 'results'}: ")
    assert not (tmp_path / "logs").exists()


def test_jobs_processes(tmp_path: Path, sequential: Path) -> None:
    assert _benchmark(tmp_path, "--algos", "reinforce", "--envs", "CartPole-v1", "--seeds", "2", "--jobs", "2") == 0
    for seed in (0, 1):
        record = _load(result_path(tmp_path / "results", "reinforce", "CartPole-v1", 500, seed))
        assert record["torch_threads"] == 1
        # Same seed, one torch thread: a run in a spawned process reproduces the in-process one.
        same = _load(result_path(sequential / "results", "reinforce", "CartPole-v1", 500, seed))
        assert record["final_mean_reward"] == same["final_mean_reward"]


@pytest.mark.timeout(300)
def test_ray_local_instance(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    assert _benchmark(tmp_path, "--algos", "a2c", "--envs", "CartPole-v1", "--seeds", "2", "--ray", "--jobs", "2") == 0
    assert not ray.is_initialized()  # the benchmark shut down the instance it started
    files = sorted((tmp_path / "results").glob("*.json"))
    assert len(files) == 2 and all(_load(f)["env_steps"] >= 500 for f in files)
    assert (tmp_path / "bench" / "benchmark.md").is_file()


@pytest.mark.timeout(120)
def test_ray_refuses_a_run_wanting_more_cpus_than_the_cluster(tmp_path: Path) -> None:
    import dataclasses

    from pgzoo.zoo.benchmark.executors import run_ray

    ray = pytest.importorskip("ray")
    (spec,) = plan_runs(["a2c"], ["CartPole-v1"], n_seeds=1, n_timesteps=100, log_folder=tmp_path / "logs", verbose=0)
    done: list[Any] = []
    # It would wait forever for the CPUs: refused before any run starts, and the Ray it started is shut down.
    with pytest.raises(ZooError, match="a2c CartPole-v1 seed 0 needs 2 CPUs but the Ray cluster has 1"):
        run_ray([spec, dataclasses.replace(spec, cpus=2)], None, 1, lambda spec, outcome: done.append(outcome))
    assert not done and not ray.is_initialized() and not (tmp_path / "logs").exists()


def test_a_stopped_run_continues_from_its_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pgzoo.zoo import resume as resume_module
    from pgzoo.zoo.benchmark.driver import run_benchmark

    real_save = resume_module.Resume.save

    def save_then_stop(self: Any, model: Any, train_time_s: float) -> Any:
        checkpoint = real_save(self, model, train_time_s)
        if model.num_timesteps >= 300:
            raise KeyboardInterrupt  # as if the session ended right after this checkpoint
        return checkpoint

    specs = plan_runs(["reinforce"], ["CartPole-v1"], n_seeds=1, n_timesteps=600, eval_freq=100, curve_episodes=1,
                      eval_episodes=2, log_folder=tmp_path / "logs", resume_freq=150, verbose=0)  # fmt: skip
    results = tmp_path / "results"
    with monkeypatch.context() as patch:
        patch.setattr(resume_module.Resume, "save", save_then_stop)
        with pytest.raises(KeyboardInterrupt):
            run_benchmark(specs, results, verbose=0)
    assert not list(results.glob("*.json"))  # an unfinished run is not a result
    checkpoint_folder = tmp_path / "logs" / "resume" / "reinforce_CartPole-v1_n600_seed0"
    assert (checkpoint_folder / "checkpoint.json").is_file()

    assert run_benchmark(specs, results, verbose=0).finished
    record = _load(result_path(results, "reinforce", "CartPole-v1", 600, 0))
    stopped_at = record["resumed_at_steps"]
    assert len(stopped_at) == 1 and 300 <= stopped_at[0] < 600 and record["env_steps"] >= 600
    # One learning curve across both sittings: the points before the stop come from the checkpoint.
    steps = [point[0] for point in record["curve"]]
    assert steps == sorted(steps) and steps[0] < stopped_at[0] < steps[-1] and len(steps) >= 5
    assert not checkpoint_folder.exists()  # the record holds it all now


def test_a_curve_point_cut_short_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pgzoo.common.benchmark as timed_module
    from pgzoo.zoo.benchmark.driver import run_benchmark

    real_evaluate, calls = timed_module.evaluate_policy, []

    def evaluate_then_stop(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C during the third point's evaluation
        return real_evaluate(*args, **kwargs)

    specs = plan_runs(["reinforce"], ["CartPole-v1"], n_seeds=1, n_timesteps=600, eval_freq=100, curve_episodes=1,
                      eval_episodes=2, log_folder=tmp_path / "logs", resume_freq=0, verbose=0)  # fmt: skip
    with monkeypatch.context() as patch:
        patch.setattr(timed_module, "evaluate_policy", evaluate_then_stop)
        with pytest.raises(KeyboardInterrupt):
            run_benchmark(specs, tmp_path / "results", verbose=0)
    assert run_benchmark(specs, tmp_path / "results", verbose=0).finished
    steps = [point[0] for point in _load(result_path(tmp_path / "results", "reinforce", "CartPole-v1", 600, 0))["curve"]]
    # A point for every multiple of 100 crossed: the third one, cut short, was made when training resumed.
    assert [step // 100 for step in steps] == list(range(1, len(steps) + 1)) and len(steps) >= 6


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("jobs", "stop"), [(1, "SIGTERM"), (2, "SIGTERM"), (2, "SIGKILL")])
def test_a_stopped_benchmark_keeps_checkpoints_and_no_process(tmp_path: Path, jobs: int, stop: str) -> None:
    """SIGTERM: the benchmark stops its runs. SIGKILL: its workers notice and stop on their own, checkpoint kept."""
    import signal
    import subprocess
    import sys
    import time

    import psutil

    command = [sys.executable, "-m", "pgzoo.zoo.cli", "benchmark", "--algos", "dpg", "--envs", "Pendulum-v1",
               "--seeds", str(jobs), "--jobs", str(jobs), "-n", "1000000", "--resume-freq", "0",
               "-f", str(tmp_path / "logs"), "--results-dir", str(tmp_path / "results"), "--no-report"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    children: list[psutil.Process] = []
    try:
        # Wait until every run trains: a finished episode in each Monitor log.
        deadline = time.monotonic() + 120
        while sum(len(f.read_text().splitlines()) > 2 for f in (tmp_path / "logs").rglob("*.monitor.csv")) < jobs:
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read() if process.stdout else ""
            time.sleep(0.5)
        children = psutil.Process(process.pid).children(recursive=True)
        # Only the benchmark's own process is signalled: with --jobs it stops its workers itself.
        process.send_signal(getattr(signal, stop))
        output, _ = process.communicate(timeout=60)
        # Checked before the clean-up below kills what is left. The workers exit before the benchmark does;
        # multiprocessing's resource tracker follows once it sees the benchmark gone.
        _, left_behind = psutil.wait_procs(children, timeout=20)
    finally:
        for child in [process, *children]:  # no stray trainer when the test fails
            with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                child.kill()
    assert process.returncode == (130 if stop == "SIGTERM" else -signal.SIGKILL), output
    for seed in range(jobs):
        resume_folder = tmp_path / "logs" / "resume" / f"dpg_Pendulum-v1_n1000000_seed{seed}"
        checkpoint = json.loads((resume_folder / "checkpoint.json").read_text())
        assert checkpoint["num_timesteps"] >= 200, output
    assert not list((tmp_path / "results").glob("*.json"))
    assert not left_behind


def test_a_run_another_benchmark_finished_is_not_trained_again(tmp_path: Path, sequential: Path) -> None:
    import dataclasses

    from pgzoo.zoo.benchmark.record import read_record
    from pgzoo.zoo.benchmark.run import run_one

    (spec,) = plan_runs(["reinforce"], ["CartPole-v1"], n_seeds=1, n_timesteps=500, eval_freq=250, curve_episodes=1,
                        eval_episodes=2, log_folder=tmp_path / "logs", verbose=0)  # fmt: skip
    # Planned while another benchmark ran it; that one wrote its record first.
    finished = result_path(sequential / "results", "reinforce", "CartPole-v1", 500, 0)
    outcome = run_one(dataclasses.replace(spec, result_file=str(finished)))
    assert outcome.record == read_record(finished) and outcome.record.to_json() == _load(finished)
    assert outcome.agent_files is None  # its agent is already beside the record
    assert not (tmp_path / "logs" / "reinforce").exists()  # nothing trained


def test_a_run_in_progress_is_not_started_twice(tmp_path: Path) -> None:
    from pgzoo.zoo.resume import Resume

    folder = tmp_path / "resume" / "dpg_Pendulum-v1_n1000_seed0"
    holder, second = Resume(folder).exclusive(), Resume(folder).exclusive()
    with holder, pytest.raises(ZooError, match="already in progress in another process"), second:
        pass
    with Resume(folder).exclusive():  # released with the first holder
        pass


def test_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _benchmark(tmp_path, "--algos", "reinforc", "--envs", "CartPole-v1") == 2
    assert "unknown algorithm 'reinforc'" in capsys.readouterr().err
    assert _benchmark(tmp_path, "--algos", "a2c", "--envs", "CartPole-v0000") == 2
    assert "unknown environment id" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
    # A cross product keeps the pairs that have hyperparameters (no DDPG on a discrete env).
    specs = plan_runs(["a2c", "ddpg"], ["CartPole-v1"], n_seeds=1, n_timesteps=100, verbose=0)
    assert [(s.algo, s.env_id) for s in specs] == [("a2c", "CartPole-v1")]
    with pytest.raises(ZooError, match="nothing to benchmark"):
        plan_runs(["ddpg"], ["CartPole-v1"], verbose=0)
    with pytest.raises(ZooError, match="--first-seed must be between 0 and"):
        plan_runs(["a2c"], ["CartPole-v1"], first_seed=-1, verbose=0)


def test_default_rows_skip_optional_rows_without_an_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    required = [env_id for algo, env_id in REQUIRED_ROWS if algo == "a3c"]
    entry = "  n_timesteps: 100\n  policy: 'MlpPolicy'\n"
    file = tmp_path / "a3c.yml"
    file.write_text("".join(f"{env_id}:\n{entry}" for env_id in [*required, "BipedalWalker-v3"]))
    specs = plan_runs(["a3c"], None, n_seeds=1, hyperparams_file=file, verbose=1)
    assert [s.env_id for s in specs] == [*required, "BipedalWalker-v3"]
    assert "skipping a3c on HalfCheetah-v5: no hyperparameters for it" in capsys.readouterr().out
    # A required row cannot be left out silently.
    file.write_text("".join(f"{env_id}:\n{entry}" for env_id in required[1:]))
    with pytest.raises(ZooError, match=f"'{required[0]}' has no entry"):
        plan_runs(["a3c"], None, n_seeds=1, hyperparams_file=file, verbose=0)


def test_first_seed_selects_a_slice_of_the_seeds() -> None:
    specs = plan_runs(["a2c"], ["CartPole-v1"], n_seeds=2, first_seed=1, n_timesteps=100, verbose=0)
    assert [s.seed for s in specs] == [1, 2]


def _record(algo: str, env_id: str, seed: int, mean: float, steps: int) -> RunRecord:
    return RunRecord.from_json({"algo": algo, "env": env_id, "seed": seed, "n_timesteps": steps, "final_mean_reward": mean,
            "final_std_reward": 1.0, "eval_episodes": 20, "wall_clock_s": 10.0, "steps_per_second": 100.0,
            "curve": [[steps // 2, mean / 2, 0.0], [steps, mean, 0.0]], "machine": {"cpu_count": 2},
            "versions": {"pgzoo": "0"}, "entry_digest": current_entry_digest(algo, env_id)})  # fmt: skip


def test_changed_hyperparameters_make_a_result_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hyperparams = tmp_path / "reinforce.yml"
    hyperparams.write_text("CartPole-v1:\n  n_episodes: 2\n  policy_kwargs: 'dict(net_arch=[8])'\n")
    run = ["--algos", "reinforce", "--envs", "CartPole-v1", "--seeds", "1", "--hyperparams", str(hyperparams)]
    assert _benchmark(tmp_path, *run) == 0
    # Tuning changes the entry: the saved run no longer describes it, so it is run again, not skipped.
    hyperparams.write_text("CartPole-v1:\n  n_episodes: 3\n  policy_kwargs: 'dict(net_arch=[8])'\n")
    capsys.readouterr()
    assert _benchmark(tmp_path, *run) == 0
    out = capsys.readouterr().out
    assert "hyperparameters changed since" in out and "1 to run" in out
    # A result measured with the old entry is left out of the table and listed as such.
    (path,) = (tmp_path / "results").glob("*.json")
    record = _load(path)
    (tmp_path / "results" / "old.json").write_text(json.dumps({**record, "entry_digest": "0" * 16, "seed": 7}))
    report = write_report(tmp_path / "results", tmp_path / "out.md").read_text()
    assert "| REINFORCE | CartPole-v1 | 500 |" in report and "| 1 |" in report
    assert "measured with older hyperparameters" in report and "reinforce CartPole-v1 seed 7" in report


def test_report_rows_and_reference(tmp_path: Path) -> None:
    # Seeds 10-12: not among the seeds the packaged entries were tuned on (0-2), so the rows are held-out ones.
    records = [_record("a3c", "Pendulum-v1", 10 + s, m, 20_000) for s, m in enumerate([-150.0, -250.0, -200.0])]
    records += [_record("dpg", "Pendulum-v1", s, -150.0, 40_000) for s in range(10, 13)]  # good, but more steps
    records += [_record("reinforce", "Taxi-v3", 0, 5.0, 1000)]  # no reference
    records += [_record("dpg", "Hopper-v5", s, 2000.0, 1_000_000) for s in range(10, 13)]  # no DDPG result: TD3 context
    records += [_record("dpg", "HalfCheetah-v5", s, 9000.0, 1_000_000) for s in range(10, 13)]
    rows = {(r.algo, r.env_id): r for r in group_rows(records)}
    a3c = rows[("a3c", "Pendulum-v1")]
    assert a3c.mean == pytest.approx(-200.0) and a3c.std == pytest.approx((5000 / 3) ** 0.5)
    assert a3c.reference() == ("a2c", -162.97, 103.21, 1_000_000) and a3c.within_reference() == "yes"
    assert rows[("dpg", "Pendulum-v1")].reference()[0] == "ddpg"  # type: ignore[index]
    assert rows[("dpg", "Pendulum-v1")].within_reference() == "no"  # 40k steps > DDPG's 20k
    assert rows[("reinforce", "Taxi-v3")].within_reference() == "-" and rows[("reinforce", "Taxi-v3")].context() is None
    hopper, cheetah = rows[("dpg", "Hopper-v5")], rows[("dpg", "HalfCheetah-v5")]
    assert hopper.reference() is None and hopper.context() == ("td3", 3606.39, 4.03, 1_000_000)
    assert hopper.within_reference() == "- (TD3: no)" and cheetah.within_reference() == "- (TD3: yes)"
    assert a3c.context() is None  # a reference exists: nothing shown for context
    # Fewer than 3 seeds: the verdict says how many, as a row that is not measured yet.
    few = group_rows(records[:2] + records[3:5])
    assert [r.within_reference() for r in few] == ["yes (2 seeds)", "no (2 seeds)"]
    (single,) = group_rows(records[8:9])
    assert single.within_reference() == "- (TD3: no) (1 seed)"
    assert isinstance(a3c, Row) and a3c.seeds == [10, 11, 12]

    results = tmp_path / "results"
    results.mkdir()
    for i, record in enumerate(records):
        write_record(results / f"run{i}.json", record)
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{README_START}\nold\n{README_END}\n\nrest\n")
    report = write_report(results, tmp_path / "out" / "benchmark.md", readme=readme).read_text()
    assert "| A3C | Pendulum-v1 | 20k | -200.00 ± 40.82 | 3 |" in report
    assert "| none (TD3 3606.39 ± 4.03 for context) | 1M | - (TD3: no) |" in report
    assert "A3C on Pendulum-v1" not in report.split("## Not measured yet")[1]
    assert (tmp_path / "out" / "plots" / "Pendulum-v1.png").is_file()
    text = readme.read_text()
    assert "old" not in text and "| DPG | Pendulum-v1 | 40k |" in text and text.endswith("rest\n")
    assert "(out/benchmark.md)" in text
    assert len(REQUIRED_ROWS) == 10


def test_pruning_follows_the_trials_own_run(tmp_path: Path) -> None:
    from pgzoo.zoo.tune import TrialPruningCallback

    class Trial:
        def __init__(self) -> None:
            self.reports: list[tuple[float, int]] = []

        def report(self, value: float, step: int) -> None:
            self.reports.append((value, step))

        def should_prune(self) -> bool:
            return False

    # Run 1 is an earlier search's trial 0 in the same folder; run 2, just made by train(), is this one.
    for run, reward in (("CartPole-v1_1", 5.0), ("CartPole-v1_2", 7.0)):
        (tmp_path / "reinforce" / run).mkdir(parents=True)
        np.savez(tmp_path / "reinforce" / run / "evaluations.npz", timesteps=[100], results=[[reward]])
    trial = Trial()
    callback = TrialPruningCallback(trial, tmp_path, "reinforce", "CartPole-v1")
    callback._on_training_start()
    assert callback._on_step() and trial.reports == [(7.0, 100)]


@pytest.mark.timeout(300)
def test_ctrl_c_during_tune_keeps_the_best_completed_trial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("optuna")
    import pgzoo.zoo.train as train_module

    real_train, calls = train_module.train, []

    def train_until_the_second_trial(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C during the second trial
        return real_train(*args, **kwargs)

    monkeypatch.setattr(train_module, "train", train_until_the_second_trial)
    output = tmp_path / "best.yml"
    args = ["tune", "--algo", "reinforce", "--env", "CartPole-v1", "--n-trials", "5", "-n", "300", "--eval-episodes", "1"]
    assert main([*args, "-f", str(tmp_path / "logs"), "-o", str(output)]) == 130
    assert output.read_text().startswith("# pgzoo tune reinforce: best of 2 trials (trial 0)")
    assert f"interrupted: the best of the trials completed so far is in {output}" in capsys.readouterr().err


@pytest.mark.timeout(300)
def test_tune(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("optuna")
    from pgzoo.zoo.hyperparams import load_yaml, preprocess_hyperparams

    output = tmp_path / "best.yml"
    args = ["tune", "--algo", "reinforce", "--env", "CartPole-v1", "--n-trials", "2", "-n", "400", "--eval-episodes", "2"]
    assert main([*args, "--n-evaluations", "2", "-f", str(tmp_path / "logs"), "-o", str(output)]) == 0
    assert "trial 1:" in capsys.readouterr().out
    entry = load_yaml(output)["CartPole-v1"]
    assert entry["n_timesteps"] == 400 and "n_episodes" in entry and "policy_kwargs" in entry
    preprocess_hyperparams(entry)  # the written entry is a valid zoo entry
    # A trial's run folder holds only its hyperparameters: the pruning callback is not one of them.
    configs = list((tmp_path / "logs").rglob("config.yml"))
    assert len(configs) == 2 and all("callback" not in load_yaml(config) for config in configs)
    assert main(["tune", "--algo", "a2c", "--env", "CartPole-v1"]) == 2
    assert "no search space for 'a2c'" in capsys.readouterr().err


@pytest.mark.timeout(300)
def test_tune_scores_each_trial_on_several_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("optuna")
    import optuna

    from pgzoo.zoo.hyperparams import get_env_hyperparams, load_yaml

    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    args = ["tune", "--algo", "reinforce", "--env", "CartPole-v1", "--n-trials", "1", "-n", "300", "--eval-episodes", "2"]
    args += [
        "--n-seeds",
        "2",
        "--seed",
        "5",
        "--storage",
        storage,
        "-f",
        str(tmp_path / "logs"),
        "-o",
        str(tmp_path / "b.yml"),
    ]
    assert main(args) == 0
    assert "per seed" in capsys.readouterr().out
    trial = optuna.load_study(study_name="reinforce-CartPole-v1", storage=storage).trials[0]
    scores = trial.user_attrs["seed_scores"]
    assert len(scores) == 2 and trial.value == pytest.approx(sum(scores) / 2)
    runs = sorted(path.name for path in (tmp_path / "logs" / "reinforce_CartPole-v1").iterdir())
    assert runs == ["trial_0_seed5", "trial_0_seed6"]
    assert "seeds 5-6" in (tmp_path / "b.yml").read_text()
    # Recorded with the entry: the seeds searched on, and those the base entry was chosen on.
    base_seeds = get_env_hyperparams("reinforce", "CartPole-v1")[0]["tuning_seeds"]
    assert 5 not in base_seeds and 6 not in base_seeds
    assert load_yaml(tmp_path / "b.yml")["CartPole-v1"]["tuning_seeds"] == sorted({*base_seeds, 5, 6})
    assert main([*args[:-2], "--n-seeds", "0"]) == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--storage", "foo"], "error: cannot open --storage 'foo': "),
        (["--storage", "sqlite:////nonexistent/dir/x.db"], "error: cannot open --storage 'sqlite:////nonexistent/dir/x.db': "),
        (["--n-startup-trials", "-1"], "error: --n-startup-trials must be >= 0, got -1"),
        (["--seed", "-1"], f"error: --seed must be between 0 and {2**32 - 1}, got -1"),
        (["--seed", str(2**32), "--n-seeds", "2"], f"error: --seed must be between 0 and {2**32 - 2}, got {2**32}"),
        (["-n", "0"], "error: --n-timesteps must be positive, got 0"),
        (["--n-trials", "0"], "error: --n-trials must be positive, got 0"),
        (["-o", "{tmp}/file/x.yml"], "error: cannot write in the folder of --output {tmp}/file/x.yml: "),
        (["-o", "{tmp}"], "error: --output {tmp} is a folder"),
    ],
)
def test_tune_bad_input_fails_before_the_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    pytest.importorskip("optuna")
    (tmp_path / "file").write_text("not a folder")
    args = ["tune", "--algo", "reinforce", "--env", "CartPole-v1", "--n-trials", "1", "-n", "300", "--eval-episodes", "1"]
    assert main([*args, "-f", str(tmp_path / "logs"), *[o.format(tmp=tmp_path) for o in options]]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(tmp=tmp_path)) and len(err.splitlines()) == 1
    assert not (tmp_path / "logs" / "reinforce_CartPole-v1").exists()  # no trial ran


@pytest.mark.timeout(300)
def test_tune_never_replaces_a_better_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("optuna")
    from pgzoo.zoo.tune import _write_best

    def result(score: float, algo: str = "reinforce") -> str:
        return (f"# pgzoo tune {algo}: best of 9 trials (trial 3), mean deterministic reward {score:.2f} over 2 episodes "
                f"after 300 steps, seed 0\nCartPole-v1:\n  n_timesteps: 300\n")  # fmt: skip

    output = tmp_path / "best.yml"
    output.write_text(result(1e9))  # an earlier, better search
    args = ["tune", "--algo", "reinforce", "--env", "CartPole-v1", "--n-trials", "1", "-n", "300", "--eval-episodes", "2"]
    assert main([*args, "-f", str(tmp_path / "logs"), "-o", str(output)]) == 0
    out = capsys.readouterr().out
    assert f"kept {output}: it holds a better result (1000000000.00); this result goes to {tmp_path / 'best.1.yml'}" in out
    assert output.read_text() == result(1e9) and "CartPole-v1" in (tmp_path / "best.1.yml").read_text()
    # A result at least as good replaces it (a resumed --storage study updates its file)...
    output.write_text(result(10.0))
    assert _write_best(output, result(20.0), "reinforce", "CartPole-v1", 300, 20.0, 1) == output
    assert output.read_text() == result(20.0) and "replacing" in capsys.readouterr().out
    # ... but not another algorithm's result for the same env and budget ...
    output.write_text(result(10.0, algo="a3c"))
    assert _write_best(output, result(20.0), "reinforce", "CartPole-v1", 300, 20.0, 0) == tmp_path / "best.2.yml"
    assert output.read_text() == result(10.0, algo="a3c")
    # ... but a file that is no tune result of this env and budget (say the user's hyperparams file) never is.
    mine = tmp_path / "reinforce.yml"
    mine.write_text("Acrobot-v1:\n  n_timesteps: 1\n")
    assert _write_best(mine, result(500.0), "reinforce", "CartPole-v1", 300, 500.0, 0) == tmp_path / "reinforce.1.yml"
    assert mine.read_text() == "Acrobot-v1:\n  n_timesteps: 1\n"


def test_stop_at_reward_threshold_shares_the_timed_evaluation() -> None:
    from stable_baselines3 import A2C
    from stable_baselines3.common.env_util import make_vec_env

    from pgzoo.common.benchmark import StopAtRewardThreshold

    model = A2C("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_steps=5, seed=0)
    # Any reward reaches -inf: training stops at the first evaluation, one eval_freq after the start.
    stopper = StopAtRewardThreshold(make_vec_env("CartPole-v1", seed=1), float("-inf"), eval_freq=30, n_eval_episodes=2)
    model.learn(1_000, callback=stopper)
    assert stopper.result.reached and len(stopper.result.evaluations) == 1
    assert 30 <= stopper.result.steps < 1_000 and stopper.result.evaluations[0][0] == stopper.result.steps
    assert stopper.eval_seconds > 0 and stopper.result.train_seconds > 0


@pytest.mark.parametrize("trains_during_evaluation", [False, True])
def test_evaluation_time_is_left_out_only_when_training_waits(trains_during_evaluation: bool) -> None:
    from stable_baselines3.common.env_util import make_vec_env

    from pgzoo import REINFORCE
    from pgzoo.common.benchmark import StopAtRewardThreshold

    model = REINFORCE("MlpPolicy", "CartPole-v1", n_episodes=1, seed=0)
    # A3C's workers keep training while the main process evaluates; that time is training time.
    model.trains_during_evaluation = trains_during_evaluation  # type: ignore[attr-defined]
    stopper = StopAtRewardThreshold(make_vec_env("CartPole-v1", seed=1), float("inf"), eval_freq=100, n_eval_episodes=2)
    model.learn(400, callback=stopper)
    assert len(stopper.result.evaluations) >= 3
    assert (stopper.eval_seconds == 0.0) == trains_during_evaluation


def test_evaluations_npz_of_the_curve(tmp_path: Path) -> None:
    from pgzoo.zoo.benchmark.run import CurveCallback

    curve = CurveCallback("CartPole-v1", {}, 0, eval_freq=100, n_eval_episodes=3)
    curve.save_evaluations(tmp_path / "none.npz")  # a run shorter than one curve step
    curve.episodes = [[100, [1.0, 2.0, 3.0], [1, 2, 3]], [200, [4.0, 5.0, 6.0], [4, 5, 6]]]
    curve.save_evaluations(tmp_path / "two.npz")
    with np.load(tmp_path / "none.npz") as none, np.load(tmp_path / "two.npz") as two:
        assert none["results"].shape == none["ep_lengths"].shape == (0, 3) and none["timesteps"].shape == (0,)
        assert two["timesteps"].tolist() == [100, 200] and two["results"][1].tolist() == [4.0, 5.0, 6.0]
        assert two["ep_lengths"].dtype == np.int64 and two["ep_lengths"][0].tolist() == [1, 2, 3]

"""
The benchmark's driver: skip the runs already finished, hand the others to an executor, and write each run's agent
and record (in that order, atomically) as soon as the run ends, on the machine that launched the benchmark, so that
a second invocation skips finished runs and an interrupted benchmark resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pgzoo.zoo.benchmark.agents import agent_folder, agent_results_text, write_agent
from pgzoo.zoo.benchmark.executors import Outcome, run_pool, run_ray, run_sequential
from pgzoo.zoo.benchmark.plan import RunSpec
from pgzoo.zoo.benchmark.record import is_finished, result_path, write_record
from pgzoo.zoo.errors import ZooError
from pgzoo.zoo.fileio import check_writable_folder
from pgzoo.zoo.resume import Resume
from pgzoo.zoo.runs import RESULTS_FILE


@dataclass
class BenchmarkSummary:
    """
    What :func:`run_benchmark` did.

    :param finished: Result files written by this invocation.
    :param skipped: Result files that already existed (runs not repeated).
    :param failed: ``(run name, error message)`` for runs that raised.
    """

    finished: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def run_benchmark(
    specs: list[RunSpec],
    results_dir: str | Path = "benchmarks/results",
    *,
    jobs: int = 1,
    use_ray: bool = False,
    ray_address: str | None = None,
    overwrite: bool = False,
    verbose: int = 1,
) -> BenchmarkSummary:
    """
    Run every spec whose result file does not exist yet, saving each record as soon as its run ends.

    :param specs: Runs from :func:`~pgzoo.zoo.benchmark.plan.plan_runs`.
    :param results_dir: Folder of the per-run JSON files.
    :param jobs: Local processes (``1``: in this process, one after another); with a local Ray instance, its CPUs.
    :param use_ray: Submit each run as a Ray task (a local instance unless ``ray_address`` is given).
    :param ray_address: Address of the Ray cluster to join (implies ``use_ray``).
    :param overwrite: Run again from scratch even when the result file exists (checkpoints are discarded).
    :param verbose: 0 silent, 1 one line per run.
    :return: A :class:`BenchmarkSummary`.
    """
    # Before any training: a run whose record can't be written is a run lost.
    check_writable_folder(results_dir, f"--results-dir {results_dir}")
    summary = BenchmarkSummary()
    todo: list[RunSpec] = []
    for spec in specs:
        path = result_path(results_dir, spec.algo, spec.env_id, spec.n_timesteps, spec.seed)
        if not overwrite and is_finished(path, spec.entry_digest):
            summary.skipped.append(path)
            # Left behind when the benchmark stopped between a run's end and the write of its record.
            Resume(spec.checkpoint_folder).clear()
        else:
            if verbose and is_finished(path):
                print(f"{spec.name}: hyperparameters changed since {path} was measured, running it again")
            todo.append(dataclasses.replace(spec, fresh_start=overwrite, result_file=str(path)))
    if verbose:
        print(f"{len(specs)} runs: {len(summary.skipped)} already finished in {results_dir}, {len(todo)} to run")

    def on_done(spec: RunSpec, outcome: Outcome) -> None:
        count = len(summary.finished) + len(summary.failed) + 1
        if isinstance(outcome, BaseException):
            message = str(outcome) if isinstance(outcome, ZooError) else f"{type(outcome).__name__}: {outcome}"
            summary.failed.append((spec.name, message))
            if verbose:
                print(f"[{count}/{len(todo)}] {spec.name}: FAILED: {message}", file=sys.stderr)
            return
        record = outcome.record
        if outcome.agent_files is not None:
            files = {**outcome.agent_files, RESULTS_FILE: agent_results_text(record).encode()}
            # Before the record: a finished record always has its agent beside it.
            write_agent(agent_folder(results_dir, spec.algo, spec.env_id, spec.n_timesteps, spec.seed), spec.algo,
                        spec.env_id, files)  # fmt: skip
        path = write_record(result_path(results_dir, spec.algo, spec.env_id, spec.n_timesteps, spec.seed), record)
        summary.finished.append(path)
        # Only now that the record is on disk (a run that ran on another node of a Ray cluster leaves its own).
        Resume(spec.checkpoint_folder).clear()
        if verbose:
            print(
                f"[{count}/{len(todo)}] {spec.name}: {record.final_mean_reward:.2f} +/- "
                f"{record.final_std_reward:.2f} after {record.env_steps} steps "
                f"({record.wall_clock_s:.1f} s) -> {path}"
            )

    if not todo:
        return summary
    if use_ray or ray_address is not None:
        run_ray(todo, ray_address, jobs if jobs > 1 else None, on_done)
    elif jobs > 1:
        run_pool(todo, jobs, on_done)
    else:
        run_sequential(todo, on_done)
    return summary


__all__ = ["BenchmarkSummary", "run_benchmark"]

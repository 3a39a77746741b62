"""
``pgzoo benchmark``: plan the runs, run them (resuming an interrupted benchmark), then regenerate the report. The
command line's parser is :mod:`pgzoo.zoo.cli`'s; this is what it calls.
"""

from __future__ import annotations

import argparse
import sys

from pgzoo.common.utils import sigterm_raises
from pgzoo.zoo.benchmark.driver import run_benchmark
from pgzoo.zoo.benchmark.plan import plan_runs
from pgzoo.zoo.benchmark.readme import check_readme
from pgzoo.zoo.benchmark.report import write_report


def main(args: argparse.Namespace) -> int:
    """
    Run ``pgzoo benchmark`` with parsed arguments.

    :param args: Namespace produced by the ``benchmark`` parser of :func:`pgzoo.zoo.cli.build_parser`.
    :return: Exit status: 0 when every run finished (or was already finished), 1 when some failed.
    """
    status = 0
    if args.readme is not None and (args.report or not args.no_report):
        check_readme(args.readme)  # before the runs, not after hours of training
    if not args.report:
        specs = plan_runs(
            args.algos,
            args.envs,
            n_seeds=args.seeds,
            first_seed=args.first_seed,
            n_timesteps=args.n_timesteps,
            eval_freq=args.eval_freq,
            curve_episodes=args.curve_episodes,
            eval_episodes=args.eval_episodes,
            log_folder=args.folder,
            hyperparams_file=args.hyperparams_file,
            device=args.device,
            threads=args.threads,
            resume_freq=args.resume_freq,
            verbose=args.verbose,
        )
        # SIGTERM (`kill`, the end of a session) stops a run as Ctrl-C does: it keeps a checkpoint to resume from.
        with sigterm_raises(lambda signum: KeyboardInterrupt()):
            summary = run_benchmark(
                specs,
                args.results_dir,
                jobs=args.jobs,
                use_ray=args.ray,
                ray_address=args.ray_address,
                overwrite=args.overwrite,
                verbose=args.verbose,
            )
        if summary.failed:
            print(f"{len(summary.failed)} run(s) failed:", file=sys.stderr)
            for name, message in summary.failed:
                print(f"  {name}: {message}", file=sys.stderr)
            status = 1
    if args.report or not args.no_report:
        path = write_report(args.results_dir, args.output, readme=args.readme)
        print(f"Report written to {path}")
    return status


__all__ = ["main"]

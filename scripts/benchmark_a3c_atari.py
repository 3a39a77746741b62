"""
Throughput of A3C on an Atari game, in env steps per second, for several numbers of workers.

Each run builds the env as ``pgzoo train`` does (the ``a3c.yml`` entry: AtariWrapper, 4 stacked frames, CnnPolicy,
its envs per worker), trains for ``--steps`` env steps with N workers and reports:

- start-up: from the start of ``learn()`` to the first progress report of a worker (starting the workers, building
  their envs and models), apart from
- env steps/s: steps between the first and the last progress report, divided by the time between them,
- the speed-up over the first number of workers given, and the machine's 1-minute load average before and after
  the run (a busy machine gives lower figures).

The one-off start of the worker processes' fork server (importing torch) is timed apart, before the runs.

Usage (CPU only; on a many-core machine give more workers)::

    OMP_NUM_THREADS=1 nice python scripts/benchmark_a3c_atari.py --workers 1 2 [--steps 20000]
    OMP_NUM_THREADS=1 python scripts/benchmark_a3c_atari.py --workers 1 2 4 8 16
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

import torch as th

from pgzoo.a3c import A3C
from pgzoo.common.benchmark import StepRate
from pgzoo.zoo.envs import check_env_id, make_zoo_env
from pgzoo.zoo.hyperparams import load_entry


@dataclass
class Measure:
    """
    One run's figures.

    :param workers: Number of workers.
    :param startup_s: Seconds from the start of ``learn()`` to the first progress report.
    :param steps: Env steps timed (from the first report to the last).
    :param steps_per_s: Their rate.
    :param load_before: 1-minute load average before the run.
    :param load_after: 1-minute load average after it.
    """

    workers: int
    startup_s: float
    steps: int
    steps_per_s: float
    load_before: float
    load_after: float


def measure(env_id: str, n_workers: int, steps: int, seed: int) -> Measure:
    """
    Train A3C on ``env_id`` with its ``a3c.yml`` entry and ``n_workers`` workers for ``steps`` env steps.

    :param env_id: An Atari id (its own entry, or the ``atari`` one).
    :param n_workers: Number of workers.
    :param steps: Env steps to train.
    :param seed: Seed of the run.
    """
    entry = load_entry("a3c", env_id)
    config = entry.config
    kwargs = {**config.model_kwargs, "n_workers": n_workers, "n_envs_per_worker": config.n_envs}
    env = make_zoo_env(env_id, config, n_envs=config.n_envs, seed=seed)
    load_before = os.getloadavg()[0]
    model = A3C(config.policy, env, seed=seed, device="cpu", **kwargs)
    timer = StepRate()
    start = time.perf_counter()
    model.learn(steps, callback=timer)
    env.close()
    assert timer.first is not None, "no progress report: too few steps"
    return Measure(n_workers, timer.first[0] - start, timer.timed_steps, timer.rate, load_before, os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="PongNoFrameskip-v4", help="Atari env id (default PongNoFrameskip-v4)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="numbers of workers (default 1 2)")
    parser.add_argument("--steps", type=int, default=20_000, help="env steps per run (default 20000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    # As in the workers: the main process only relays progress, it must not compete with them for cores.
    th.set_num_threads(1)
    check_env_id(args.env)
    print(f"{args.env}, {args.steps} env steps per run, {os.cpu_count()} CPUs, load average {os.getloadavg()}")

    start = time.perf_counter()
    measure(args.env, 1, 200, args.seed)
    print(f"one-off start-up of this process (fork server, first env and model): {time.perf_counter() - start:.1f} s")

    results = []
    for n_workers in args.workers:
        result = measure(args.env, n_workers, args.steps, args.seed)
        results.append(result)
        speedup = result.steps_per_s / results[0].steps_per_s
        print(
            f"  {n_workers:2d} worker(s): {result.steps_per_s:7.0f} env steps/s over {result.steps} steps "
            f"(x{speedup:.2f} of {results[0].workers} worker(s)), start-up {result.startup_s:.1f} s, "
            f"load average {result.load_before:.1f} before, {result.load_after:.1f} after",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""
Benchmark A3C on this machine, in one run:

1. wall-clock to reach a mean reward of 475 on CartPole-v1 (10 deterministic episodes, evaluated every
   ``--eval-freq`` env steps) for A3C (hyperparams/a3c.yml, one worker per core) and for SB3's A2C with the RL Zoo's
   hyperparameters (8 envs, ent_coef=0), mean and median over ``--seeds``, and their ratio (target: A3C <= 0.6x A2C);
2. env steps per second with 1, 2, ... up to the core count of workers, and the scaling efficiency (target: each
   added worker adds >= 80% of one worker's throughput);
3. peak memory of the main process and of each worker (target: <= 250 MB per worker). RSS counts pages shared with
   the fork server and the other workers (torch's libraries) in full, PSS counts them divided by the number of
   processes sharing them, USS is the memory a worker adds on its own.

Usage: ``nice python scripts/benchmark_a3c.py [--seeds 0 1] [--throughput-steps 60000]``.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Any

import psutil
import torch as th
from stable_baselines3 import A2C
from stable_baselines3.common.env_util import make_vec_env

from pgzoo.a3c import A3C
from pgzoo.common.benchmark import StepRate, StopAtRewardThreshold
from pgzoo.common.utils import available_cores
from pgzoo.zoo.hyperparams import load_entry

# rl-baselines3-zoo's a2c.yml entry for CartPole-v1.
A2C_ZOO_CARTPOLE = {"n_envs": 8, "n_timesteps": 500_000, "ent_coef": 0.0}


def a3c_cartpole_kwargs() -> tuple[dict[str, Any], int]:
    """:return: A3C's keyword arguments from its hyperparams/a3c.yml entry (read as the zoo reads it), and the budget."""
    config = load_entry("a3c", "CartPole-v1").config
    return {**config.model_kwargs, "n_envs_per_worker": config.n_envs}, config.n_timesteps


class MemoryMonitor:
    """Samples the peak RSS/USS of this process and of the model's workers in a background thread."""

    def __init__(self, model: Any = None, interval: float = 0.25):
        self.model = model
        self.interval = interval
        self.main_rss = 0
        self.workers: dict[int, dict[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryMonitor:
        self._thread.start()
        return self

    def __exit__(self, *args: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(self.interval):
            self.main_rss = max(self.main_rss, me.memory_info().rss)
            for pid in getattr(self.model, "worker_pids", []):
                try:
                    info = psutil.Process(pid).memory_full_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                peak = self.workers.setdefault(pid, {"rss": 0, "uss": 0, "pss": 0})
                for key in peak:
                    peak[key] = max(peak[key], getattr(info, key, 0))


def time_to_threshold(algo: str, seed: int, eval_freq: int) -> dict[str, Any]:
    eval_env = make_vec_env("CartPole-v1", n_envs=10, seed=10_000 + seed)
    callback = StopAtRewardThreshold(eval_env, threshold=475, eval_freq=eval_freq, n_eval_episodes=10, deterministic=True)
    start = time.perf_counter()
    if algo == "A3C":
        kwargs, n_timesteps = a3c_cartpole_kwargs()
        kwargs["n_workers"] = available_cores()
        model: Any = A3C("MlpPolicy", "CartPole-v1", seed=seed, **kwargs)
    else:
        n_timesteps = A2C_ZOO_CARTPOLE["n_timesteps"]
        env = make_vec_env("CartPole-v1", n_envs=A2C_ZOO_CARTPOLE["n_envs"], seed=seed)
        model = A2C("MlpPolicy", env, ent_coef=A2C_ZOO_CARTPOLE["ent_coef"], seed=seed, device="cpu")
    model.learn(n_timesteps, callback=callback)
    wall = time.perf_counter() - start
    result = callback.result
    return {"reached": result.reached, "steps": result.steps, "wall": wall, "train_seconds": result.train_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(20)))
    parser.add_argument("--eval-freq", type=int, default=5_000, help="env steps between evaluations")
    parser.add_argument("--throughput-steps", type=int, default=60_000, help="env steps per throughput run")
    parser.add_argument("--skip-threshold", action="store_true", help="skip part 1")
    args = parser.parse_args()
    # As in the workers: one thread, so A2C and the main process don't fight the workers for cores.
    th.set_num_threads(1)
    cores = available_cores()
    print(f"cores: {cores}, load average: {psutil.getloadavg()}")

    # The first learn() of a process starts the fork server (imports torch once): measured apart.
    start = time.perf_counter()
    A3C("MlpPolicy", "CartPole-v1", n_workers=cores).learn(500)
    print(f"one-off A3C start-up of this process (fork server): {time.perf_counter() - start:.1f} s")

    if not args.skip_threshold:
        print("\n1. Wall-clock to reach 475 on CartPole-v1 (includes model construction, worker start-up and evaluations)")
        walls: dict[str, list[float]] = {"A3C": [], "A2C": []}
        for seed in args.seeds:
            for algo in ("A3C", "A2C"):
                result = time_to_threshold(algo, seed, args.eval_freq)
                walls[algo].append(result["wall"] if result["reached"] else float("inf"))
                rate = result["steps"] / result["train_seconds"]
                print(
                    f"  {algo} seed {seed}: reached={result['reached']} at {result['steps']} steps, "
                    f"wall-clock {result['wall']:.1f} s (training {result['train_seconds']:.1f} s, {rate:,.0f} steps/s)"
                )
        # Both: a few seeds where A2C passes at its first evaluation can move the mean a lot.
        for name, statistic in (("mean", statistics.mean), ("median", statistics.median)):
            a3c, a2c = statistic(walls["A3C"]), statistic(walls["A2C"])
            print(f"  {name} wall-clock: A3C {a3c:.1f} s, A2C {a2c:.1f} s, ratio {a3c / a2c:.2f}")

    print(f"\n2./3. Throughput and memory, CartPole-v1, {args.throughput_steps} steps per run")
    kwargs, _ = a3c_cartpole_kwargs()
    rates = {}
    for n_workers in range(1, cores + 1):
        kwargs["n_workers"] = n_workers
        model = A3C("MlpPolicy", "CartPole-v1", seed=0, **kwargs)
        rate = StepRate()
        with MemoryMonitor(model) as memory:
            model.learn(args.throughput_steps, callback=rate)
        rates[n_workers] = rate.rate
        worker_memory = ", ".join(
            f"pid {pid}: RSS {peak['rss'] / 2**20:.0f} / PSS {peak['pss'] / 2**20:.0f} / USS {peak['uss'] / 2**20:.0f} MB"
            for pid, peak in memory.workers.items()
        )
        main_rss = memory.main_rss / 2**20
        print(f"  {n_workers} worker(s): {rate.rate:,.0f} steps/s; peak main RSS {main_rss:.0f} MB; {worker_memory}")
    for n_workers in range(2, cores + 1):
        added = (rates[n_workers] - rates[n_workers - 1]) / rates[1]
        overall = rates[n_workers] / (n_workers * rates[1])
        print(f"  worker {n_workers} adds {added:.0%} of one worker's throughput; efficiency {overall:.0%}")


if __name__ == "__main__":
    main()

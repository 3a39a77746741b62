"""
Time to solve CartPole-v1: pgzoo's REINFORCE (tuned zoo entry) next to SB3's A2C (RL Zoo entry).

Both are trained with the same evaluation protocol: every ``--eval-freq`` environment steps, 10
deterministic episodes on a separate evaluation env; a run stops when their mean reaches 475.
Wall-clock excludes evaluation time. One torch thread, one process, run on an idle machine.

    python scripts/benchmark_reinforce.py --seeds 3
"""

from __future__ import annotations

import argparse
import statistics

import torch as th
from stable_baselines3 import A2C
from stable_baselines3.common.env_util import make_vec_env

from pgzoo import REINFORCE
from pgzoo.common.benchmark import StopAtRewardThreshold, ThresholdResult
from pgzoo.zoo.hyperparams import load_entry

ENV_ID = "CartPole-v1"
THRESHOLD = 475.0
# rl-baselines3-zoo's a2c.yml entry for CartPole-v1 (SB3 defaults for everything else).
A2C_ZOO = {"n_envs": 8, "ent_coef": 0.0, "policy": "MlpPolicy"}


def run(algo: str, seed: int, max_steps: int, eval_freq: int) -> ThresholdResult:
    if algo == "REINFORCE":
        config = load_entry("reinforce", ENV_ID).config
        env = make_vec_env(ENV_ID, n_envs=config.n_envs, seed=seed)
        model = REINFORCE(config.policy, env, seed=seed, **config.model_kwargs)
    else:
        env = make_vec_env(ENV_ID, n_envs=A2C_ZOO["n_envs"], seed=seed)
        model = A2C(A2C_ZOO["policy"], env, ent_coef=A2C_ZOO["ent_coef"], seed=seed)
    stopper = StopAtRewardThreshold(make_vec_env(ENV_ID, seed=seed + 1000), THRESHOLD, eval_freq=eval_freq)
    model.learn(max_steps, callback=stopper)
    return stopper.result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds per algorithm")
    parser.add_argument("--max-steps", type=int, default=500_000, help="give up after this many steps")
    parser.add_argument("--eval-freq", type=int, default=5_000, help="environment steps between evaluations")
    args = parser.parse_args()
    th.set_num_threads(1)

    results: dict[str, list[ThresholdResult]] = {"REINFORCE": [], "A2C": []}
    print(f"{'algo':<10} {'seed':>4} {'solved':>6} {'steps':>8} {'train s':>8} {'steps/s':>8}")
    for seed in range(args.seeds):
        for algo, runs in results.items():
            result = run(algo, seed, args.max_steps, args.eval_freq)
            runs.append(result)
            print(
                f"{algo:<10} {seed:>4} {result.reached!s:>6} {result.steps:>8} "
                f"{result.train_seconds:>8.1f} {result.steps_per_second:>8.0f}",
                flush=True,
            )

    def median(algo: str, attribute: str) -> float:
        return statistics.median(getattr(result, attribute) for result in results[algo])

    print(f"\nmedian over {args.seeds} seeds (runs that never reached {THRESHOLD} count with their full budget)")
    for algo in results:
        solved = sum(result.reached for result in results[algo])
        print(
            f"{algo:<10} solved {solved}/{args.seeds}  steps {median(algo, 'steps'):>9.0f}  "
            f"wall-clock {median(algo, 'train_seconds'):>6.1f} s  steps/s {median(algo, 'steps_per_second'):>7.0f}"
        )
    ratio = median("REINFORCE", "train_seconds") / median("A2C", "train_seconds")
    print(f"wall-clock ratio REINFORCE / A2C: {ratio:.2f} (target <= 1.5)")
    print(f"steps ratio REINFORCE / A2C: {median('REINFORCE', 'steps') / median('A2C', 'steps'):.2f}")


if __name__ == "__main__":
    main()

"""
Compare pgzoo's DPG with Stable-Baselines3's DDPG on identical hyperparameters.

Both algorithms are built from the same entry of ``hyperparams/dpg.yml`` (Pendulum-v1 by default), with the same
seeds, and evaluated every ``--eval-freq`` steps on a separate environment (deterministic actions). Evaluation time is
excluded from the training clocks, so steps per second measure training (collection + updates) only. Two clocks are
kept: wall-clock, and the CPU time of this process, which is what to compare on a machine shared with other jobs.
Seeds alternate between the two algorithms so that both see the same load.

Usage::

    python scripts/benchmark_dpg.py [--seeds 5] [--max-steps 20000] [--env Pendulum-v1] [--threshold -200]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3 import DDPG
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.monitor import Monitor

from pgzoo import DPG
from pgzoo.common.benchmark import TimedEvaluationCallback
from pgzoo.common.noise import make_action_noise
from pgzoo.common.utils import limit_torch_threads
from pgzoo.zoo.hyperparams import get_env_hyperparams, preprocess_hyperparams

HYPERPARAMS = Path(__file__).resolve().parents[1] / "hyperparams" / "dpg.yml"


def load_entry(env_id: str, path: Path = HYPERPARAMS) -> dict[str, Any]:
    """
    :param env_id: Gymnasium id of the environment.
    :param path: Hyperparameter file in rl-baselines3-zoo format.
    :return: The entry of ``env_id``, as written in the file.
    """
    return get_env_hyperparams("dpg", env_id, path)[0]


def algorithm_kwargs(entry: dict[str, Any], n_actions: int) -> tuple[int, str, dict[str, Any]]:
    """
    Turn a hyperparameter entry into constructor arguments with the zoo's own parser (schedules such as
    ``lin_1e-3``, ``policy_kwargs`` strings, ``noise_type`` / ``noise_std``).

    :param entry: Entry of the hyperparameter file.
    :param n_actions: Number of action dimensions, to size the exploration noise.
    :return: ``(n_timesteps, policy, kwargs)``; ``kwargs`` holds ``action_noise`` instead of ``noise_type``/``noise_std``.
    """
    config = preprocess_hyperparams(entry, where="the DPG entry")
    kwargs = dict(config.model_kwargs)
    if config.noise_type is not None:
        kwargs["action_noise"] = make_action_noise(config.noise_type, config.noise_std, n_actions)
    return config.n_timesteps, config.policy, kwargs


class TimedEvaluation(TimedEvaluationCallback):
    """
    Evaluate every ``eval_freq`` steps, keeping the training clocks (wall and CPU) stopped while doing so.

    :param eval_env: Environment used for evaluation only.
    :param eval_freq: Evaluate every ``eval_freq`` environment steps.
    :param n_eval_episodes: Deterministic episodes per evaluation.
    """

    def __init__(self, eval_env: gym.Env, eval_freq: int, n_eval_episodes: int):
        super().__init__(eval_env, eval_freq, n_eval_episodes)
        self.start = np.zeros(2)
        # (environment steps, training wall-clock seconds, mean evaluation reward)
        self.history: list[tuple[int, float, float]] = []

    @staticmethod
    def _clocks() -> np.ndarray:
        return np.array([time.perf_counter(), time.process_time()])

    def _on_training_start(self) -> None:
        super()._on_training_start()
        self.start = self._clocks()

    def training_seconds(self) -> np.ndarray:
        """:return: Wall-clock and CPU seconds spent so far in training, evaluation excluded."""
        return self._clocks() - self.start - np.array([self.eval_seconds, self.eval_cpu_seconds])

    def _on_evaluation(self, mean_reward: float, std_reward: float) -> bool:
        self.history.append((self.num_timesteps, float(self.training_seconds()[0]), mean_reward))
        return True


@dataclass
class Run:
    """Result of training one algorithm with one seed."""

    algo: str
    seed: int
    steps: int
    wall_seconds: float
    cpu_seconds: float
    history: list[tuple[int, float, float]] = field(default_factory=list)

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.wall_seconds

    @property
    def steps_per_cpu_second(self) -> float:
        return self.steps / self.cpu_seconds

    @property
    def final_reward(self) -> float:
        return self.history[-1][2]

    def first_reaching(self, threshold: float) -> tuple[int, float] | None:
        """:return: ``(steps, training seconds)`` of the first evaluation at or above ``threshold``, if any."""
        return next(((steps, seconds) for steps, seconds, reward in self.history if reward >= threshold), None)


def train_once(
    algo_class: type[BaseAlgorithm], env_id: str, seed: int, max_steps: int | None, eval_freq: int, n_eval_episodes: int
) -> Run:
    """
    Train one algorithm on the hyperparameter entry of ``env_id``.

    :param algo_class: ``DPG`` or ``DDPG``.
    :param env_id: Gymnasium id of the environment.
    :param seed: Seed of the algorithm and of both environments.
    :param max_steps: Training budget; ``None`` uses the entry's ``n_timesteps``.
    :param eval_freq: Evaluate every ``eval_freq`` environment steps.
    :param n_eval_episodes: Deterministic episodes per evaluation.
    :return: The timings and evaluation history.
    """
    env = gym.make(env_id)
    n_timesteps, policy, kwargs = algorithm_kwargs(load_entry(env_id), int(np.prod(env.action_space.shape)))
    steps = max_steps or n_timesteps
    eval_env = Monitor(gym.make(env_id))
    eval_env.reset(seed=seed + 1000)
    model = algo_class(policy, env, seed=seed, **kwargs)
    callback = TimedEvaluation(eval_env, eval_freq, n_eval_episodes)
    model.learn(steps, callback=callback)
    wall_seconds, cpu_seconds = callback.training_seconds()
    return Run(algo_class.__name__, seed, steps, float(wall_seconds), float(cpu_seconds), callback.history)


def summarise(runs: list[Run], threshold: float) -> dict[str, float]:
    """:return: Means over seeds (runs that never reach ``threshold`` count as ``nan`` in the time-to-threshold)."""
    reached = [run.first_reaching(threshold) for run in runs]
    return {
        "steps/s (wall)": float(np.mean([run.steps_per_second for run in runs])),
        "steps/s (CPU time)": float(np.mean([run.steps_per_cpu_second for run in runs])),
        "steps to threshold": float(np.mean([r[0] if r else np.nan for r in reached])),
        "wall s to threshold": float(np.mean([r[1] if r else np.nan for r in reached])),
        "reached": float(sum(r is not None for r in reached)),
        "final reward": float(np.mean([run.final_reward for run in runs])),
    }


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="Pendulum-v1", help="environment id (an entry of hyperparams/dpg.yml)")
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (0, 1, ...) per algorithm")
    parser.add_argument("--max-steps", type=int, default=None, help="training steps (default: the entry's n_timesteps)")
    parser.add_argument("--eval-freq", type=int, default=500, help="evaluate every this many steps")
    parser.add_argument("--eval-episodes", type=int, default=10, help="deterministic episodes per evaluation")
    parser.add_argument("--threshold", type=float, default=-200.0, help="mean evaluation reward counted as solved")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both algorithms")
    args = parser.parse_args()
    limit_torch_threads(args.threads)
    load_at_start = _load()

    runs: dict[str, list[Run]] = {"DPG": [], "DDPG": []}
    for seed in range(args.seeds):
        for algo_class in (DPG, DDPG):
            run = train_once(algo_class, args.env, seed, args.max_steps, args.eval_freq, args.eval_episodes)
            runs[run.algo].append(run)
            reached = run.first_reaching(args.threshold)
            print(
                f"{run.algo:>5} seed {seed}: {run.steps_per_second:7.1f} steps/s wall, "
                f"{run.steps_per_cpu_second:7.1f} per CPU second, "
                f"{f'reached {args.threshold:g} at {reached[0]} steps' if reached else f'never reached {args.threshold:g}'}, "
                f"final reward {run.final_reward:8.1f}",
                flush=True,
            )

    dpg, ddpg = summarise(runs["DPG"], args.threshold), summarise(runs["DDPG"], args.threshold)
    # Each seed's pair ran back to back, so its ratio compares the two under the same conditions.
    ratios = [
        ours.steps_per_cpu_second / theirs.steps_per_cpu_second for ours, theirs in zip(runs["DPG"], runs["DDPG"], strict=True)
    ]
    print(f"\n{args.env}, {args.seeds} seed(s), threshold {args.threshold:g}, torch threads {args.threads}")
    print(f"load average (1, 5, 15 min) at the start: {load_at_start}, at the end: {_load()} on {os.cpu_count()} CPUs")
    print("DPG / DDPG steps per CPU second, seed by seed: " + ", ".join(f"{ratio:.2f}" for ratio in ratios))
    print(f"{'metric':<22}{'DPG':>12}{'DDPG':>12}{'DPG / DDPG':>12}")
    for metric in dpg:
        ratio = dpg[metric] / ddpg[metric] if ddpg[metric] else float("nan")
        print(f"{metric:<22}{dpg[metric]:>12.1f}{ddpg[metric]:>12.1f}{ratio:>12.2f}")


if __name__ == "__main__":
    main()

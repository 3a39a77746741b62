"""
Compare pgzoo's DPG with Stable-Baselines3's DDPG on identical hyperparameters.

Both algorithms are built from the same entry of ``hyperparams/dpg.yml`` (Pendulum-v1 by default), with the same
seeds, and evaluated every ``--eval-freq`` steps on a separate environment (deterministic actions). Evaluation time is
excluded from the training clocks, so steps per second measure training (collection + updates) only. Two clocks are
kept: wall-clock, and the CPU time of this process, which is what to compare on a machine shared with other jobs.

The two algorithms of a seed race in turns: each trains ``--chunk`` steps, then the other, until both have their
budget, so that both see the same machine. (A virtual machine's speed drifts by a quarter within a minute, which two
runs one after the other turn into noise on their ratio.) Turns do not change the runs: the schedules still see the
whole budget, a model continues where its last turn left it, as in one ``learn()`` call, and each draws from random
generators of its own (SB3 samples noise and minibatches from the global ones).

Usage::

    python scripts/benchmark_dpg.py [--seeds 5] [--max-steps 20000] [--env Pendulum-v1] [--threshold -200] [--chunk 500]
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3 import DDPG
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.noise import ActionNoise

from pgzoo import DPG
from pgzoo.common.benchmark import TimedEvaluationCallback
from pgzoo.common.noise import make_action_noise
from pgzoo.common.utils import limit_torch_threads
from pgzoo.zoo.argtypes import positive_int
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
    Evaluate every ``eval_freq`` steps, keeping the training clocks (wall and CPU) stopped while doing so. The clocks
    add up over the ``learn()`` calls of a race, and each call's schedules see the whole budget.

    :param eval_env: Environment used for evaluation only.
    :param eval_freq: Evaluate every ``eval_freq`` environment steps.
    :param n_eval_episodes: Deterministic episodes per evaluation.
    :param budget: Training steps of the whole run.
    """

    def __init__(self, eval_env: gym.Env, eval_freq: int, n_eval_episodes: int, budget: int):
        super().__init__(eval_env, eval_freq, n_eval_episodes)
        self.budget = budget
        self.elapsed = np.zeros(2)  # wall and CPU seconds in the learn() calls that have ended
        self.start: np.ndarray | None = None  # the clocks when the running learn() call started
        self.noise: ActionNoise | None = None  # the exploration noise as the last turn left it
        # (environment steps, training wall-clock seconds, mean evaluation reward)
        self.history: list[tuple[int, float, float]] = []

    @staticmethod
    def _clocks() -> np.ndarray:
        return np.array([time.perf_counter(), time.process_time()])

    def _on_training_start(self) -> None:
        super()._on_training_start()
        # learn(chunk, reset_num_timesteps=False) sets the total to the steps so far plus the chunk: the learning
        # rate and other schedules would run out at every turn.
        self.model._total_timesteps = self.budget
        # learn() also resets the exploration noise, which one call would not do mid-run (Ornstein-Uhlenbeck's state).
        if self.noise is not None:
            self.model.action_noise = self.noise
        self.start = self._clocks()

    def _on_training_end(self) -> None:
        assert self.start is not None
        self.elapsed += self._clocks() - self.start
        self.start = None
        self.noise = copy.deepcopy(self.model.action_noise)

    def training_seconds(self) -> np.ndarray:
        """:return: Wall-clock and CPU seconds spent so far in training, evaluation excluded."""
        running = np.zeros(2) if self.start is None else self._clocks() - self.start
        return self.elapsed + running - np.array([self.eval_seconds, self.eval_cpu_seconds])

    def _on_evaluation(self, mean_reward: float, std_reward: float) -> bool:
        self.history.append((self.num_timesteps, float(self.training_seconds()[0]), mean_reward))
        return True


class RandomState:
    """The global random generators (Python's, numpy's, torch's and CUDA's) of one contender, swapped in for its turns."""

    def __init__(self) -> None:
        self.save()

    def restore(self) -> None:
        python, numpy, torch, cuda = self.saved
        random.setstate(python)
        np.random.set_state(numpy)
        th.set_rng_state(torch)
        if cuda:
            th.cuda.set_rng_state_all(cuda)

    def save(self) -> None:
        cuda = th.cuda.get_rng_state_all() if th.cuda.is_initialized() else []
        self.saved = (random.getstate(), np.random.get_state(), th.get_rng_state(), cuda)


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


def race(env_id: str, seed: int, max_steps: int | None, eval_freq: int, n_eval_episodes: int, chunk: int) -> list[Run]:
    """
    Train DPG and DDPG on the hyperparameter entry of ``env_id``, in turns of ``chunk`` steps.

    :param env_id: Gymnasium id of the environment.
    :param seed: Seed of both algorithms and of their environments.
    :param max_steps: Training budget; ``None`` uses the entry's ``n_timesteps``.
    :param eval_freq: Evaluate every ``eval_freq`` environment steps.
    :param n_eval_episodes: Deterministic episodes per evaluation.
    :param chunk: Steps of one turn.
    :return: The timings and evaluation history of DPG, then of DDPG.
    """
    contenders: list[tuple[BaseAlgorithm, TimedEvaluation, RandomState]] = []
    algo_classes: tuple[type[BaseAlgorithm], ...] = (DPG, DDPG)
    for algo_class in algo_classes:
        env = gym.make(env_id)
        n_timesteps, policy, kwargs = algorithm_kwargs(load_entry(env_id), int(np.prod(env.action_space.shape or ())))
        steps = max_steps or n_timesteps
        eval_env = Monitor(gym.make(env_id))
        eval_env.reset(seed=seed + 1000)
        model = algo_class(policy, env, seed=seed, **kwargs)
        # Seeded by its constructor: the generators as they are now are this model's.
        contenders.append((model, TimedEvaluation(eval_env, eval_freq, n_eval_episodes, steps), RandomState()))
    goal = 0
    while goal < steps:
        goal = min(goal + chunk, steps)
        for model, callback, generators in contenders:
            if model.num_timesteps < goal:
                generators.restore()
                model.learn(goal - model.num_timesteps, callback=callback, reset_num_timesteps=model.num_timesteps == 0)
                generators.save()
    runs = []
    for model, callback, _ in contenders:
        wall_seconds, cpu_seconds = callback.training_seconds()
        runs.append(Run(type(model).__name__, seed, steps, float(wall_seconds), float(cpu_seconds), callback.history))
    return runs


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
    parser.add_argument("--chunk", type=positive_int, default=500, help="steps each algorithm trains in its turn of a race")
    args = parser.parse_args()
    limit_torch_threads(args.threads)
    load_at_start = _load()

    runs: dict[str, list[Run]] = {"DPG": [], "DDPG": []}
    for seed in range(args.seeds):
        for run in race(args.env, seed, args.max_steps, args.eval_freq, args.eval_episodes, args.chunk):
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
    # Each seed's pair raced in turns, so its ratio compares the two under the same conditions.
    ratios = [
        ours.steps_per_cpu_second / theirs.steps_per_cpu_second for ours, theirs in zip(runs["DPG"], runs["DDPG"], strict=True)
    ]
    print(
        f"\n{args.env}, {args.seeds} seed(s), turns of {args.chunk} steps, threshold {args.threshold:g}, "
        f"torch threads {args.threads}"
    )
    print(f"load average (1, 5, 15 min) at the start: {load_at_start}, at the end: {_load()} on {os.cpu_count()} CPUs")
    print("DPG / DDPG steps per CPU second, seed by seed: " + ", ".join(f"{ratio:.2f}" for ratio in ratios))
    print(f"{'metric':<22}{'DPG':>12}{'DDPG':>12}{'DPG / DDPG':>12}")
    for metric in dpg:
        ratio = dpg[metric] / ddpg[metric] if ddpg[metric] else float("nan")
        print(f"{metric:<22}{dpg[metric]:>12.1f}{ddpg[metric]:>12.1f}{ratio:>12.2f}")


if __name__ == "__main__":
    main()

"""Time-to-threshold measurement shared by the benchmark scripts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv


@dataclass
class ThresholdResult:
    """
    Outcome of one training run measured by :class:`StopAtRewardThreshold`.

    :param reached: Whether the evaluation reward reached the threshold
    :param steps: Environment steps when it did (or when training ended)
    :param train_seconds: Wall-clock spent training, evaluation time excluded
    :param evaluations: ``(steps, mean reward)`` of every evaluation
    """

    reached: bool = False
    steps: int = 0
    train_seconds: float = 0.0
    evaluations: list[tuple[int, float]] = field(default_factory=list)

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.train_seconds if self.train_seconds > 0 else float("nan")


class StopAtRewardThreshold(BaseCallback):
    """
    Evaluate every ``eval_freq`` environment steps and stop training once the mean reward of
    ``n_eval_episodes`` evaluation episodes reaches ``threshold``.

    The clock is paused during evaluations, so ``result.train_seconds`` is training time only and
    two algorithms evaluated with the same protocol compare fairly. Unlike SB3's ``EvalCallback``,
    ``eval_freq`` counts environment steps summed over all environments (or workers), not calls.

    :param eval_env: Environment used for evaluation (separate from the training one)
    :param threshold: Mean evaluation reward at which training stops
    :param eval_freq: Environment steps between two evaluations
    :param n_eval_episodes: Episodes per evaluation
    :param deterministic: Whether to evaluate the deterministic policy
    """

    def __init__(
        self,
        eval_env: VecEnv,
        threshold: float,
        eval_freq: int = 5_000,
        n_eval_episodes: int = 10,
        deterministic: bool = True,
    ):
        super().__init__()
        self.eval_env = eval_env
        self.threshold = threshold
        self.eval_freq = eval_freq
        self.n_eval_episodes = n_eval_episodes
        self.deterministic = deterministic
        self.result = ThresholdResult()
        self._next_eval = eval_freq
        self._eval_seconds = 0.0
        self._start = 0.0

    def _on_training_start(self) -> None:
        self._start = time.perf_counter()
        self._next_eval = self.num_timesteps + self.eval_freq

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next_eval:
            return True
        self._next_eval += self.eval_freq
        eval_start = time.perf_counter()
        mean_reward, _ = evaluate_policy(
            self.model, self.eval_env, n_eval_episodes=self.n_eval_episodes, deterministic=self.deterministic
        )
        self._eval_seconds += time.perf_counter() - eval_start
        self.result.evaluations.append((self.num_timesteps, float(mean_reward)))
        self._record_progress()
        if mean_reward >= self.threshold:
            self.result.reached = True
            return False
        return True

    def _on_training_end(self) -> None:
        self._record_progress()

    def _record_progress(self) -> None:
        self.result.steps = self.num_timesteps
        self.result.train_seconds = time.perf_counter() - self._start - self._eval_seconds

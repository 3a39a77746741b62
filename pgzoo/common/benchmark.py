"""Timed periodic evaluation and step rates, shared by the benchmark scripts and ``pgzoo benchmark``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, sync_envs_normalization

from pgzoo.common.utils import check_positive


class TimedEvaluationCallback(BaseCallback):
    """
    Evaluate the policy every ``eval_freq`` environment steps on a separate environment, timing the evaluations.

    Unlike SB3's ``EvalCallback``, ``eval_freq`` counts environment steps summed over all environments (or A3C
    workers), not callback calls, and ``eval_seconds`` (wall-clock) and ``eval_cpu_seconds`` (CPU time of this
    process) tell how long training stood still for evaluations, so that training time can be reported on its own.
    An algorithm whose training goes on during callbacks (A3C's workers, flagged by
    ``trains_during_evaluation = True``) never stands still: both stay 0.
    Subclasses decide what an evaluation means in :meth:`_on_evaluation`.

    :param eval_env: Environment used for evaluation (separate from the training one), or ``None`` when a subclass
        builds it in ``_init_callback``.
    :param eval_freq: Environment steps between two evaluations.
    :param n_eval_episodes: Episodes per evaluation.
    :param deterministic: Whether to evaluate the deterministic policy.
    """

    def __init__(
        self,
        eval_env: gym.Env | VecEnv | None,
        eval_freq: int,
        n_eval_episodes: int = 10,
        deterministic: bool = True,
    ):
        super().__init__()
        check_positive("eval_freq", eval_freq)
        check_positive("n_eval_episodes", n_eval_episodes)
        self.eval_env = eval_env
        self.eval_freq = eval_freq
        self.n_eval_episodes = n_eval_episodes
        self.deterministic = deterministic
        self.eval_seconds = 0.0
        self.eval_cpu_seconds = 0.0
        self.last_episode_rewards: list[float] = []
        self.last_episode_lengths: list[int] = []
        self._next_eval = eval_freq

    def _on_training_start(self) -> None:
        # On the grid of multiples of eval_freq, also when training continues from earlier steps.
        self._next_eval = (self._evaluated_until() // self.eval_freq + 1) * self.eval_freq

    def _evaluated_until(self) -> int:
        """Steps the evaluations so far cover: the first one of this ``learn()`` comes at the next multiple."""
        return self.num_timesteps

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next_eval:
            return True
        assert self.eval_env is not None, "eval_env must be given or built in _init_callback"
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            # Only a VecEnv can carry VecNormalize statistics to copy.
            if self.training_env is not None and isinstance(self.eval_env, VecEnv):
                sync_envs_normalization(self.training_env, self.eval_env)
            episode_rewards, episode_lengths = evaluate_policy(
                self.model,
                self.eval_env,
                n_eval_episodes=self.n_eval_episodes,
                deterministic=self.deterministic,
                return_episode_rewards=True,
            )
        finally:
            if not getattr(self.model, "trains_during_evaluation", False):
                # Training stood still while evaluating (also in one cut short by Ctrl-C): not training time.
                self.eval_seconds += time.perf_counter() - start
                self.eval_cpu_seconds += time.process_time() - cpu_start
        # Scheduled once the evaluation is done, so that one cut short is made again when training resumes; one
        # evaluation however many multiples of eval_freq the last report crossed (A3C reports in chunks).
        while self._next_eval <= self.num_timesteps:
            self._next_eval += self.eval_freq
        # Every episode of the evaluation, for a subclass that keeps them (SB3's evaluations.npz layout).
        self.last_episode_rewards = [float(r) for r in np.atleast_1d(episode_rewards)]
        self.last_episode_lengths = [int(n) for n in np.atleast_1d(episode_lengths)]
        return self._on_evaluation(float(np.mean(episode_rewards)), float(np.std(episode_rewards)))

    def _on_evaluation(self, mean_reward: float, std_reward: float) -> bool:
        """
        Called after every evaluation, at ``self.num_timesteps`` environment steps.

        :param mean_reward: Mean episode reward of the evaluation.
        :param std_reward: Standard deviation of the episode rewards.
        :return: Whether training should go on.
        """
        return True


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


class StopAtRewardThreshold(TimedEvaluationCallback):
    """
    Evaluate every ``eval_freq`` environment steps and stop training once the mean reward of
    ``n_eval_episodes`` evaluation episodes reaches ``threshold``.

    The clock is paused during evaluations, so ``result.train_seconds`` is training time only and
    two algorithms evaluated with the same protocol compare fairly.

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
        super().__init__(eval_env, eval_freq, n_eval_episodes, deterministic)
        self.threshold = threshold
        self.result = ThresholdResult()
        self._start = 0.0

    def _on_training_start(self) -> None:
        super()._on_training_start()
        self._start = time.perf_counter()

    def _on_evaluation(self, mean_reward: float, std_reward: float) -> bool:
        self.result.evaluations.append((self.num_timesteps, mean_reward))
        self._record_progress()
        if mean_reward >= self.threshold:
            self.result.reached = True
            return False
        return True

    def _on_training_end(self) -> None:
        self._record_progress()

    def _record_progress(self) -> None:
        self.result.steps = self.num_timesteps
        self.result.train_seconds = time.perf_counter() - self._start - self.eval_seconds


class StepRate(BaseCallback):
    """
    Env steps per second between the first and the last ``on_step`` call, so that start-up (starting worker
    processes, building envs) is left out.
    """

    def __init__(self) -> None:
        super().__init__()
        #: ``(perf_counter time, env steps)`` at the first and at the last ``on_step``.
        self.first: tuple[float, int] | None = None
        self.last: tuple[float, int] = (0.0, 0)

    def _on_step(self) -> bool:
        now = (time.perf_counter(), self.num_timesteps)
        if self.first is None:
            self.first = now
        self.last = now
        return True

    @property
    def timed_steps(self) -> int:
        """Env steps between the first and the last ``on_step``."""
        assert self.first is not None, "no step was reported: too few steps"
        return self.last[1] - self.first[1]

    @property
    def rate(self) -> float:
        """Env steps per second between the first and the last ``on_step``."""
        assert self.first is not None, "no step was reported: too few steps"
        return self.timed_steps / max(self.last[0] - self.first[0], 1e-9)

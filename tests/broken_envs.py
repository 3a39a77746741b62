"""Test envs that misbehave the way real ones sometimes do."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class NanRewardEnv(gym.Env):
    """Rewards turn NaN after a few steps (a physics simulation blowing up, say); episodes last 20 steps."""

    observation_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
    action_space = spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.steps = 0
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.steps += 1
        reward = float("nan") if self.steps > 5 else 0.0
        return np.zeros(2, dtype=np.float32), reward, False, self.steps >= 20, {}


class FailingEnv(gym.Env):
    """
    An env whose ``step()`` raises after ``fail_after_steps`` steps in all, or whose ``reset()`` raises from its
    ``fail_on_reset``-th call on (a bug in a user's env, a simulator that crashed); episodes last 10 steps.

    :param fail_after_steps: Steps before ``step()`` raises (``None``: never).
    :param fail_on_reset: Number of the first ``reset()`` call that raises (``None``: never).
    """

    observation_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, fail_after_steps: int | None = None, fail_on_reset: int | None = None) -> None:
        self.fail_after_steps, self.fail_on_reset = fail_after_steps, fail_on_reset
        self.total_steps = self.resets = self.steps = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.resets += 1
        if self.fail_on_reset is not None and self.resets >= self.fail_on_reset:
            raise RuntimeError("the simulator crashed in reset")
        self.steps = 0
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.steps += 1
        self.total_steps += 1
        if self.fail_after_steps is not None and self.total_steps > self.fail_after_steps:
            raise RuntimeError("the simulator crashed in step")
        return np.zeros(2, dtype=np.float32), 1.0, False, self.steps >= 10, {}


class WrongShapeEnv(gym.Env):
    """Its observations have 3 values though its observation space says 2 (a user's env with a stale space)."""

    observation_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        return np.zeros(3, dtype=np.float32), 0.0, False, False, {}

"""A test env whose actions are a 2 x 2 matrix: a multi-dimensional ``Box`` action space."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class MatrixActionEnv(gym.Env):
    """Rewards actions close to a fixed target matrix; episodes are cut after 10 steps."""

    observation_space = spaces.Box(-1.0, 1.0, (3,), dtype=np.float32)
    action_space = spaces.Box(-1.0, 1.0, (2, 2), dtype=np.float32)
    target = np.array([[0.5, -0.5], [0.0, 0.25]], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.steps = 0
        return np.zeros(3, dtype=np.float32), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        assert action.shape == (2, 2), f"the env expects a (2, 2) action, got {action.shape}"
        self.steps += 1
        return np.zeros(3, dtype=np.float32), -float(np.abs(action - self.target).sum()), False, self.steps >= 10, {}

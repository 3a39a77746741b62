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

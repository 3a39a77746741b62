"""Environments shipped with pgzoo, registered with Gymnasium under the ``pgzoo/`` namespace when pgzoo is imported."""

import gymnasium as gym

from pgzoo.envs.bandit import QuadraticBanditEnv

#: Gymnasium id of :class:`QuadraticBanditEnv`; pass ``action_dim=...`` to ``gym.make``.
QUADRATIC_BANDIT_ID = "pgzoo/QuadraticBandit-v0"

if QUADRATIC_BANDIT_ID not in gym.registry:
    gym.register(id=QUADRATIC_BANDIT_ID, entry_point="pgzoo.envs.bandit:QuadraticBanditEnv")

__all__ = ["QUADRATIC_BANDIT_ID", "QuadraticBanditEnv"]

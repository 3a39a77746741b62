"""A one-step continuous bandit with a quadratic cost: the setting of Silver et al. (2014), section 5.1."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

#: Each coordinate of the optimal action a*, as in the paper (a* = [4, ..., 4]).
TARGET_VALUE = 4.0
#: Eigenvalues of the cost matrix are drawn from this set, as in the paper.
EIGENVALUES = (0.1, 1.0)
#: Actions are bounded (pgzoo's DPG needs a bounded Box) far enough from a* that the bounds never bind near it.
ACTION_BOUND = 10.0


def make_cost_matrix(action_dim: int, matrix_seed: int) -> np.ndarray:
    """
    A random symmetric positive-definite matrix ``C = Q diag(lambda) Q^T``: ``Q`` is a random rotation (Haar
    distributed) and each eigenvalue is drawn uniformly from :data:`EIGENVALUES`.

    :param action_dim: Size of the (square) matrix.
    :param matrix_seed: Seed of the draw: the same seed always gives the same matrix.
    :return: The matrix, float64, shape ``(action_dim, action_dim)``.
    """
    rng = np.random.default_rng(matrix_seed)
    gaussian = rng.standard_normal((action_dim, action_dim))
    q, r = np.linalg.qr(gaussian)
    # Fixing the signs of R's diagonal makes Q uniformly distributed over rotations.
    q = q * np.sign(np.diag(r))
    eigenvalues = rng.choice(np.asarray(EIGENVALUES), size=action_dim)
    matrix = (q * eigenvalues) @ q.T
    return (matrix + matrix.T) / 2.0


class QuadraticBanditEnv(gym.Env[np.ndarray, np.ndarray]):
    """
    Continuous bandit: every episode is one step; the reward of action ``a`` is ``-(a - a*)^T C (a - a*)``.

    The observation is the constant ``[1.0]`` (a bandit has no state). ``a* = [4, ..., 4]`` and ``C`` is a fixed
    positive-definite matrix with eigenvalues in ``{0.1, 1}`` and random eigenvectors, drawn once from
    ``matrix_seed`` (see :func:`make_cost_matrix`), so the problem is the same on every reset whatever the reset
    seed. Actions lie in ``[-10, 10]^m``; the reward is exact (no noise), so the env is deterministic.

    Deterministic Policy Gradient Algorithms, Silver et al. 2014: https://proceedings.mlr.press/v32/silver14.html

    :param action_dim: Number of action dimensions ``m`` (the paper uses 10, 25 and 50).
    :param matrix_seed: Seed of the cost matrix.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, action_dim: int = 10, matrix_seed: int = 0):
        if isinstance(action_dim, bool) or not isinstance(action_dim, int | np.integer) or action_dim < 1:
            raise ValueError(f"`action_dim` must be a positive integer, got {action_dim!r}")
        self.action_dim = int(action_dim)
        self.matrix_seed = matrix_seed
        self.cost_matrix = make_cost_matrix(self.action_dim, matrix_seed)
        self.target = np.full(self.action_dim, TARGET_VALUE)
        self.observation_space = spaces.Box(low=0.0, high=1.0, shape=(1,), dtype=np.float32)
        self.action_space = spaces.Box(low=-ACTION_BOUND, high=ACTION_BOUND, shape=(self.action_dim,), dtype=np.float32)
        self._observation = np.ones(1, dtype=np.float32)

    def cost(self, action: np.ndarray) -> np.ndarray | float:
        """
        The cost ``(a - a*)^T C (a - a*)`` of one action, or of each row of a batch of actions (no clipping).

        :param action: Shape ``(m,)`` or ``(n, m)``.
        :return: A float, or one cost per row.
        """
        delta = np.asarray(action, dtype=np.float64) - self.target
        costs = np.einsum("...i,ij,...j->...", delta, self.cost_matrix, delta)
        return float(costs) if costs.ndim == 0 else costs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        return self._observation.copy(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        action = np.clip(np.asarray(action, dtype=np.float64).reshape(self.action_dim), -ACTION_BOUND, ACTION_BOUND)
        cost = self.cost(action)
        return self._observation.copy(), -float(cost), True, False, {"cost": cost}

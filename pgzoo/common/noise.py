"""Build SB3 exploration-noise objects from the zoo's ``noise_type`` / ``noise_std`` hyperparameters."""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.noise import (
    ActionNoise,
    NormalActionNoise,
    OrnsteinUhlenbeckActionNoise,
    VectorizedActionNoise,
)

from pgzoo.common.utils import check_positive

NOISE_TYPES = ("normal", "ornstein-uhlenbeck")


def make_action_noise(noise_type: str, noise_std: float, n_actions: int, n_envs: int = 1) -> ActionNoise:
    """
    Create the action noise described by a hyperparameter file entry.

    :param noise_type: ``"normal"`` for independent Gaussian noise or ``"ornstein-uhlenbeck"``
        for temporally correlated noise (``"ou"`` is accepted as a short name).
    :param noise_std: Standard deviation of the noise, the same for every action dimension,
        in the policy's [-1, 1] action scale.
    :param n_actions: Number of action dimensions.
    :param n_envs: Number of parallel environments; with more than one, every environment gets
        its own noise process (``VectorizedActionNoise``) so that episode resets stay independent.
    :return: The noise object to pass as ``action_noise`` to an off-policy algorithm.
    """
    check_positive("noise_std", noise_std)
    check_positive("n_actions", n_actions)
    check_positive("n_envs", n_envs)
    kind = noise_type.strip().lower().replace("_", "-")
    mean, sigma = np.zeros(n_actions), noise_std * np.ones(n_actions)
    noise: ActionNoise
    if kind == "normal":
        noise = NormalActionNoise(mean=mean, sigma=sigma)
    elif kind in ("ornstein-uhlenbeck", "ou"):
        noise = OrnsteinUhlenbeckActionNoise(mean=mean, sigma=sigma)
    else:
        raise ValueError(f"Unknown `noise_type` {noise_type!r}: expected one of {NOISE_TYPES}")
    if n_envs > 1:
        noise = VectorizedActionNoise(noise, n_envs)
    return noise

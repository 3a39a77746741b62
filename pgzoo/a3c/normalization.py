"""
Observation normalization for A3C, shared by all workers: the counterpart of ``VecNormalize(norm_obs=True)``.

A ``VecNormalize`` wrapper can't serve A3C: every worker steps envs of its own, so each would keep its own
statistics, and the main process (``predict``, evaluation) would see none of them. Here the running mean and
variance live in the policy as buffers of its features extractor. They are in shared memory with the weights (local
backend) or in the parameter server (Ray backend), they are saved and loaded with the model, and ``predict``
applies them. Workers merge the statistics of each rollout's observations into them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import get_flattened_obs_dim, is_image_space
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


@dataclass
class ObsStats:
    """
    Mean and variance of a batch of flattened observations.

    :param count: Number of observations.
    :param mean: Mean of each feature.
    :param var: Variance of each feature (population variance).
    """

    count: int
    mean: np.ndarray
    var: np.ndarray

    @classmethod
    def of(cls, observations: np.ndarray) -> ObsStats:
        """Statistics of ``observations`` (first axis: the batch)."""
        flat = observations.reshape(len(observations), -1).astype(np.float64)
        return cls(len(flat), flat.mean(axis=0), flat.var(axis=0))


class NormalizedFlattenExtractor(BaseFeaturesExtractor):
    """
    Flatten the observation, then normalize each feature with running statistics and clip it.

    :param observation_space: A (non-image) Box observation space.
    :param clip: Normalized features are clipped to ``[-clip, clip]`` (as ``VecNormalize``'s ``clip_obs``).
    :param epsilon: Added to the variance before its square root.
    """

    def __init__(self, observation_space: spaces.Space, clip: float = 10.0, epsilon: float = 1e-8) -> None:
        check_normalizable(observation_space)
        super().__init__(observation_space, get_flattened_obs_dim(observation_space))
        self.flatten = nn.Flatten()
        self.clip = clip
        self.epsilon = epsilon
        self.obs_mean: th.Tensor
        self.obs_var: th.Tensor
        self.obs_count: th.Tensor
        self.register_buffer("obs_mean", th.zeros(self.features_dim, dtype=th.float64))
        self.register_buffer("obs_var", th.ones(self.features_dim, dtype=th.float64))
        # A tiny prior count, as in SB3's RunningMeanStd: the first batch then sets the statistics.
        self.register_buffer("obs_count", th.tensor(1e-4, dtype=th.float64))

    def forward(self, observations: th.Tensor) -> th.Tensor:
        flat = self.flatten(observations)
        scale = th.sqrt(self.obs_var + self.epsilon).to(flat.dtype)
        return th.clamp((flat - self.obs_mean.to(flat.dtype)) / scale, -self.clip, self.clip)

    @th.no_grad()
    def update(self, batch: ObsStats) -> None:
        """Merge a batch's statistics into the running ones, in place (Chan et al.'s parallel algorithm)."""
        count = self.obs_count.item()
        total = count + batch.count
        batch_mean = th.as_tensor(batch.mean, dtype=th.float64)
        delta = batch_mean - self.obs_mean
        sum_of_squares = self.obs_var * count + th.as_tensor(batch.var) * batch.count + delta**2 * count * batch.count / total
        self.obs_mean.add_(delta * batch.count / total)
        self.obs_var.copy_(sum_of_squares / total)
        self.obs_count.fill_(total)


def check_normalizable(observation_space: spaces.Space) -> None:
    """Raise a clear error unless ``normalize_obs`` can handle ``observation_space`` (a non-image Box)."""
    if not isinstance(observation_space, spaces.Box) or is_image_space(observation_space):
        raise ValueError(f"A3C's normalize_obs needs a Box observation space that is not an image, got {observation_space}")


def normalizers(module: nn.Module) -> list[NormalizedFlattenExtractor]:
    """The normalizing features extractors of a policy (two when actor and critic have their own)."""
    return [sub for sub in module.modules() if isinstance(sub, NormalizedFlattenExtractor)]


def update_normalizers(targets: list[NormalizedFlattenExtractor], batch: ObsStats | None) -> None:
    """
    Merge ``batch`` into every normalizer of ``targets`` (nothing when ``batch`` is None).

    :param targets: A policy's :func:`normalizers`, looked up once (walking the module tree at every update costs).
    :param batch: Statistics of a rollout's observations.
    """
    if batch is None:
        return
    for normalizer in targets:
        normalizer.update(batch)

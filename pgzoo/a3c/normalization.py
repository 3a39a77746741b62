"""
Observation and reward normalization for A3C, shared by all workers: the counterpart of ``VecNormalize``.

Every worker steps envs of its own, so a ``VecNormalize`` in each would keep its own statistics, and the main
process (``predict``, evaluation) would see none of them. Here the running statistics live in the policy as buffers,
so they are in shared memory with the weights (local backend) or in the parameter server (Ray backend), every rollout
starts from the latest ones as it starts from the latest weights, and workers merge each rollout's statistics into
them. Two ways to use them:

- ``A3C(normalize_obs=True, normalize_reward=True)``: buffers of the policy's features extractor (observations) and
  of a :class:`ReturnNormalizer` submodule (rewards), saved and loaded with the model; ``predict`` takes raw
  observations.
- A ``VecNormalize``-wrapped env: each worker wraps its envs in a ``VecNormalize`` with the same settings that
  normalizes with the shared statistics (:class:`VecNormalizeStatistics`, attached to the policy during ``learn()``
  without being saved with it), and the user's wrapper gets them at every report, so ``predict``, ``EvalCallback``
  and ``VecNormalize.save`` behave as with A2C: the policy takes normalized observations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import get_flattened_obs_dim, is_image_space
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.vec_env import VecNormalize
from torch import nn


@dataclass
class Moments:
    """
    Mean and variance of a batch of flattened samples (observations, returns).

    :param count: Number of samples.
    :param mean: Mean of each feature.
    :param var: Variance of each feature (population variance).
    """

    count: int
    mean: np.ndarray
    var: np.ndarray

    @classmethod
    def of(cls, samples: np.ndarray) -> Moments:
        """Statistics of ``samples`` (first axis: the batch)."""
        flat = samples.reshape(len(samples), -1).astype(np.float64)
        return cls(len(flat), flat.mean(axis=0), flat.var(axis=0))


@dataclass
class RolloutStats:
    """
    What a rollout adds to the shared normalization statistics.

    :param observations: Moments of the rollout's observations (with ``normalize_obs``).
    :param returns: Moments of its envs' running discounted returns (with ``normalize_reward``).
    :param env_observations: With a ``VecNormalize`` env that normalizes observations: moments of the rollout's raw
        observations, by key of the normalized ones (``""`` for a Box space).
    :param env_returns: With a ``VecNormalize`` env that normalizes rewards: moments of its envs' raw discounted
        returns (with the wrapper's ``gamma``).
    """

    observations: Moments | None = None
    returns: Moments | None = None
    env_observations: dict[str, Moments] | None = None
    env_returns: Moments | None = None


@th.no_grad()
def merge_moments(mean: th.Tensor, var: th.Tensor, count: th.Tensor, batch: Moments) -> None:
    """Merge a batch's moments into running ones, in place (Chan et al.'s parallel algorithm)."""
    old_count = count.item()
    total = old_count + batch.count
    delta = th.as_tensor(batch.mean, dtype=th.float64) - mean
    sum_of_squares = var * old_count + th.as_tensor(batch.var) * batch.count + delta**2 * old_count * batch.count / total
    mean.add_(delta * batch.count / total)
    var.copy_(sum_of_squares / total)
    count.fill_(total)


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

    def update(self, stats: RolloutStats) -> None:
        """Merge a rollout's observation statistics into the running ones."""
        if stats.observations is not None:
            merge_moments(self.obs_mean, self.obs_var, self.obs_count, stats.observations)


class ReturnNormalizer(nn.Module):
    """
    Running variance of the discounted returns of every worker's envs, by whose standard deviation workers divide
    rewards (then clip them) before the loss sees them, as ``VecNormalize(norm_reward=True)`` does.

    A submodule of the policy only so that its buffers travel with the weights; the policy's forward pass doesn't
    use it.

    :param clip: Normalized rewards are clipped to ``[-clip, clip]`` (as ``VecNormalize``'s ``clip_reward``).
    :param epsilon: Added to the variance before its square root.
    """

    def __init__(self, clip: float = 10.0, epsilon: float = 1e-8) -> None:
        super().__init__()
        self.clip = clip
        self.epsilon = epsilon
        self.return_mean: th.Tensor
        self.return_var: th.Tensor
        self.return_count: th.Tensor
        self.register_buffer("return_mean", th.zeros(1, dtype=th.float64))
        self.register_buffer("return_var", th.ones(1, dtype=th.float64))
        self.register_buffer("return_count", th.tensor(1e-4, dtype=th.float64))

    def normalize(self, rewards: np.ndarray) -> np.ndarray:
        """``rewards`` divided by the returns' standard deviation, clipped."""
        scale = 1.0 / np.sqrt(self.return_var.item() + self.epsilon)
        return np.clip(rewards * scale, -self.clip, self.clip).astype(np.float32)

    def update(self, stats: RolloutStats) -> None:
        """Merge a rollout's return statistics into the running ones."""
        if stats.returns is not None:
            merge_moments(self.return_mean, self.return_var, self.return_count, stats.returns)


def check_normalizable(observation_space: spaces.Space) -> None:
    """Raise a clear error unless ``normalize_obs`` can handle ``observation_space`` (a non-image Box)."""
    if not isinstance(observation_space, spaces.Box) or is_image_space(observation_space):
        raise ValueError(f"A3C's normalize_obs needs a Box observation space that is not an image, got {observation_space}")


class VecNormalizeStatistics(nn.Module):
    """
    The running statistics of a ``VecNormalize`` env, shared by the workers that each normalize with a copy of it.

    A submodule of the policy during ``learn()`` only so that its buffers travel with the weights; they are not
    persistent (not in the policy's ``state_dict``): their home is the user's ``VecNormalize``, saved with
    ``VecNormalize.save``.

    :param env: The user's ``VecNormalize``; its statistics are the starting point, and its ``training`` flag says
        whether workers update them (the main process forwards later changes of it, see ``Runner``).
    """

    def __init__(self, env: VecNormalize) -> None:
        super().__init__()
        # The wrapper's `training` flag, shared with the workers like the statistics (a buffer, so it travels).
        self.updating: th.Tensor
        self.register_buffer("updating", th.tensor(bool(env.training)), persistent=False)
        obs_rms = env.obs_rms if env.norm_obs else {}
        #: Keys of the normalized observations (``""`` for a Box space), in buffer order.
        self.keys: list[str] = list(obs_rms) if isinstance(obs_rms, dict) else [""]
        rms_list = list(obs_rms.values()) if isinstance(obs_rms, dict) else [obs_rms]
        for index, rms in enumerate(rms_list):
            self._register(f"obs_{index}", rms)
        self._register("ret", env.ret_rms)

    def _register(self, prefix: str, rms: RunningMeanStd) -> None:
        # Flat, as Moments are: reshaped to the wrapper's shapes in copy_to().
        for name, value in (("mean", rms.mean), ("var", rms.var)):
            flat = th.as_tensor(np.asarray(value, dtype=np.float64).reshape(-1))
            self.register_buffer(f"{prefix}_{name}", flat, persistent=False)
        self.register_buffer(f"{prefix}_count", th.tensor(float(rms.count), dtype=th.float64), persistent=False)

    def _buffers_of(self, prefix: str) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        return getattr(self, f"{prefix}_mean"), getattr(self, f"{prefix}_var"), getattr(self, f"{prefix}_count")

    @property
    def updates_stats(self) -> bool:
        """Whether workers merge their rollouts into the statistics (the user's wrapper has ``training=True``)."""
        return bool(self.updating.item())

    def copy_to(self, env: VecNormalize) -> None:
        """Set ``env``'s running statistics to these (the workers' latest)."""
        obs_rms = env.obs_rms if env.norm_obs else {}
        rms_list = list(obs_rms.values()) if isinstance(obs_rms, dict) else [obs_rms]
        targets = [(f"obs_{index}", rms) for index, rms in enumerate(rms_list)]
        for prefix, rms in [*targets, ("ret", env.ret_rms)]:
            mean, var, count = self._buffers_of(prefix)
            rms.mean = mean.numpy().reshape(np.shape(rms.mean)).copy()
            rms.var = var.numpy().reshape(np.shape(rms.var)).copy()
            rms.count = count.item()

    def update(self, stats: RolloutStats) -> None:
        """Merge a rollout's raw observation and return statistics into the running ones."""
        for index, key in enumerate(self.keys):
            if stats.env_observations is not None and key in stats.env_observations:
                merge_moments(*self._buffers_of(f"obs_{index}"), stats.env_observations[key])
        if stats.env_returns is not None:
            merge_moments(*self._buffers_of("ret"), stats.env_returns)


Normalizer = NormalizedFlattenExtractor | ReturnNormalizer | VecNormalizeStatistics


def normalizers(module: nn.Module) -> list[Normalizer]:
    """
    A policy's normalizers: its normalizing features extractors (two when actor and critic have their own), its
    return normalizer and, during ``learn()`` with a ``VecNormalize`` env, that env's statistics.
    """
    return [sub for sub in module.modules() if isinstance(sub, Normalizer)]


def vec_normalize_statistics(module: nn.Module) -> VecNormalizeStatistics | None:
    """The statistics of the ``VecNormalize`` env the policy is trained on, if it is."""
    return next((sub for sub in normalizers(module) if isinstance(sub, VecNormalizeStatistics)), None)


def return_normalizer(module: nn.Module) -> ReturnNormalizer | None:
    """The policy's return normalizer, if it has one."""
    return next((sub for sub in normalizers(module) if isinstance(sub, ReturnNormalizer)), None)


def update_normalizers(targets: list[Normalizer], stats: RolloutStats | None) -> None:
    """
    Merge a rollout's statistics into every normalizer of ``targets`` (nothing when ``stats`` is None).

    :param targets: A policy's :func:`normalizers`, looked up once (walking the module tree at every update costs).
    :param stats: Statistics of a rollout.
    """
    if stats is None:
        return
    for normalizer in targets:
        normalizer.update(stats)

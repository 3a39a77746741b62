"""
A3C's policies: SB3's actor-critic policies (one network, or a shared trunk, for pi and V), plus the optional
return statistics of ``normalize_reward`` as a submodule, so that they are shared, synced, saved and loaded like
the weights, also by ``policy.save()`` / ``MlpPolicy.load()``.
"""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy

from pgzoo.a3c.normalization import ReturnNormalizer


class ReturnNormalizing:
    """
    Mixin of an actor-critic policy that holds a :class:`~pgzoo.a3c.normalization.ReturnNormalizer` when built with
    ``normalize_reward=True``; the argument is saved with the policy's other constructor arguments.

    :param args: The policy's arguments.
    :param normalize_reward: Whether the policy holds the return statistics of ``A3C(normalize_reward=True)``.
    :param kwargs: The policy's keyword arguments.
    """

    def __init__(self, *args: Any, normalize_reward: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.normalize_reward = normalize_reward
        if normalize_reward:
            self.return_normalizer = ReturnNormalizer()

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "normalize_reward": self.normalize_reward}  # type: ignore[misc]


class MlpPolicy(ReturnNormalizing, ActorCriticPolicy):
    """SB3's ``ActorCriticPolicy`` (``MlpPolicy``), with A3C's optional return statistics."""


class CnnPolicy(ReturnNormalizing, ActorCriticCnnPolicy):
    """SB3's ``ActorCriticCnnPolicy``, with A3C's optional return statistics."""


class MultiInputPolicy(ReturnNormalizing, MultiInputActorCriticPolicy):
    """SB3's ``MultiInputActorCriticPolicy``, with A3C's optional return statistics."""


__all__ = ["CnnPolicy", "MlpPolicy", "MultiInputPolicy", "ReturnNormalizing"]

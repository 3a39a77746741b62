"""Policies for REINFORCE: SB3's actor-critic policies whose value head is optional."""

from __future__ import annotations

from typing import Any

import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import CombinedExtractor, NatureCNN
from stable_baselines3.common.type_aliases import Schedule
from torch import nn


class ZeroBaseline(nn.Module):
    """
    Stand-in for the value head when REINFORCE runs without a baseline.

    It has no parameters and predicts a value of zero for every state, so SB3 code that calls
    ``policy.forward`` or ``policy.predict_values`` keeps working while nothing is learned.
    """

    def forward(self, latent: th.Tensor) -> th.Tensor:
        return latent.new_zeros((latent.shape[0], 1))


class REINFORCEPolicy(ActorCriticPolicy):
    """
    Stochastic policy for REINFORCE, with an optional learned state-value baseline V(s).

    All parameters of SB3's :class:`~stable_baselines3.common.policies.ActorCriticPolicy` are accepted.
    With ``use_baseline=False`` the value branch of ``net_arch`` is ignored, the features extractor is
    shared, and the value head is a parameter-free :class:`ZeroBaseline`.

    :param observation_space: Observation space
    :param action_space: Action space (Discrete, Box, MultiDiscrete or MultiBinary)
    :param lr_schedule: Learning rate schedule
    :param use_baseline: Whether to learn the state-value baseline V(s)
    :param net_arch: Hidden layers: a list (same layers for actor and critic) or ``dict(pi=[...], vf=[...])``
    :param share_features_extractor: Whether actor and critic share the features extractor
    :param kwargs: Other keyword arguments of ``ActorCriticPolicy``
    """

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        lr_schedule: Schedule,
        use_baseline: bool = True,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        share_features_extractor: bool = True,
        **kwargs: Any,
    ):
        self.use_baseline = use_baseline
        if not use_baseline:
            net_arch = self._actor_only_arch(net_arch, kwargs.get("features_extractor_class"))
            share_features_extractor = True
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch=net_arch,
            share_features_extractor=share_features_extractor,
            **kwargs,
        )

    @staticmethod
    def _actor_only_arch(
        net_arch: list[int] | dict[str, list[int]] | None, features_extractor_class: type | None
    ) -> dict[str, list[int]]:
        if net_arch is None:
            # Same defaults as ActorCriticPolicy: no hidden layers after a CNN, two of 64 otherwise.
            policy_layers = [] if features_extractor_class is NatureCNN else [64, 64]
        elif isinstance(net_arch, dict):
            policy_layers = list(net_arch.get("pi", []))
        else:
            policy_layers = list(net_arch)
        return dict(pi=policy_layers, vf=[])

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        if not self.use_baseline:
            # SB3 infers `value_net: nn.Linear`; what its code needs is only a module mapping latents to values.
            self.value_net = ZeroBaseline()  # type: ignore[assignment]
            # The optimizer was created with the parameters of the value head that was just dropped.
            self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(use_baseline=self.use_baseline, share_features_extractor=self.share_features_extractor)
        return data


class REINFORCECnnPolicy(REINFORCEPolicy):
    """
    :class:`REINFORCEPolicy` for image observations (Nature CNN features extractor).

    :param args: Positional arguments of :class:`REINFORCEPolicy`
    :param features_extractor_class: Features extractor, ``NatureCNN`` by default
    :param kwargs: Keyword arguments of :class:`REINFORCEPolicy`
    """

    def __init__(self, *args: Any, features_extractor_class: type = NatureCNN, **kwargs: Any):
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)


class REINFORCEMultiInputPolicy(REINFORCEPolicy):
    """
    :class:`REINFORCEPolicy` for Dict observations (one extractor per key, concatenated).

    :param args: Positional arguments of :class:`REINFORCEPolicy`
    :param features_extractor_class: Features extractor, ``CombinedExtractor`` by default
    :param kwargs: Keyword arguments of :class:`REINFORCEPolicy`
    """

    def __init__(self, *args: Any, features_extractor_class: type = CombinedExtractor, **kwargs: Any):
        super().__init__(*args, features_extractor_class=features_extractor_class, **kwargs)


MlpPolicy = REINFORCEPolicy
CnnPolicy = REINFORCECnnPolicy
MultiInputPolicy = REINFORCEMultiInputPolicy

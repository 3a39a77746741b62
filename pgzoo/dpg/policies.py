"""Networks of DPG: a deterministic actor mu(s) and a critic Q(s, a), each with a target copy."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BaseModel, BasePolicy
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.torch_layers import (
    BaseFeaturesExtractor,
    CombinedExtractor,
    FlattenExtractor,
    NatureCNN,
    create_mlp,
    get_actor_critic_arch,
)
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from pgzoo.dpg.shortcuts import features, mode_modules, plain_features, run_layers, set_mode


def check_box_action_space(action_space: spaces.Space) -> None:
    """
    Raise a ``ValueError`` unless ``action_space`` is a bounded ``Box``.

    The actor squashes its output with tanh and rescales it to ``[low, high]``, so the bounds must be finite.

    :param action_space: Action space of the environment.
    """
    if not isinstance(action_space, spaces.Box):
        raise ValueError(
            f"DPG needs a continuous Box action space, got {action_space!r} ({type(action_space).__name__}). "
            "For discrete actions use an algorithm such as DQN, REINFORCE or A3C."
        )
    if not (np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
        raise ValueError(
            f"DPG needs finite bounds on its Box action space (the actor output is squashed with tanh), "
            f"got {action_space!r}. Rescale the actions, e.g. with gymnasium.wrappers.RescaleAction."
        )


class _Network(BaseModel):
    """
    What actor and critic share: their own features extractor, then an MLP built by the subclass.

    :param observation_space: Observation space.
    :param action_space: Action space (a bounded ``Box``).
    :param net_arch: Sizes of the hidden layers.
    :param features_extractor: Network that turns observations into a flat feature vector.
    :param features_dim: Size of that feature vector.
    :param activation_fn: Activation function of the hidden layers.
    :param normalize_images: Whether to divide image observations by 255.
    :param kwargs: Further arguments of the base class (the actor, a ``BasePolicy``, passes ``squash_output``).
    """

    features_extractor: BaseFeaturesExtractor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        **kwargs: Any,
    ):
        super().__init__(
            observation_space,
            action_space,
            features_extractor=features_extractor,
            normalize_images=normalize_images,
            **kwargs,
        )
        self.net_arch = net_arch
        self.features_dim = features_dim
        self.activation_fn = activation_fn
        self.action_dim = get_action_dim(action_space)
        #: Whether the observations are their own features (see :func:`pgzoo.dpg.shortcuts.plain_features`).
        self.plain_features = plain_features(observation_space, features_extractor)

    def _mlp(self, input_dim: int, output_dim: int, squash_output: bool = False) -> nn.Sequential:
        return nn.Sequential(*create_mlp(input_dim, output_dim, self.net_arch, self.activation_fn, squash_output))

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            net_arch=self.net_arch,
            features_dim=self.features_dim,
            activation_fn=self.activation_fn,
            features_extractor=self.features_extractor,
        )
        return data


class Actor(_Network, BasePolicy):
    """
    Deterministic policy network mu(s), with outputs in [-1, 1] (tanh). A policy of its own, as TD3's actor is:
    ``predict`` returns actions in the env's bounds, and ``save`` / ``Actor.load`` work on it alone.

    :param observation_space: Observation space.
    :param action_space: Action space (a bounded ``Box``).
    :param net_arch: Sizes of the hidden layers.
    :param features_extractor: Network that turns observations into a flat feature vector.
    :param features_dim: Size of that feature vector.
    :param activation_fn: Activation function of the hidden layers.
    :param normalize_images: Whether to divide image observations by 255.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
    ):
        super().__init__(
            observation_space,
            action_space,
            net_arch,
            features_extractor,
            features_dim,
            activation_fn,
            normalize_images,
            squash_output=True,
        )
        self.mu = self._mlp(features_dim, self.action_dim, squash_output=True)

    def forward(self, obs: PyTorchObs) -> th.Tensor:
        return run_layers(self.mu, features(self, obs))

    def _predict(self, observation: PyTorchObs, deterministic: bool = True) -> th.Tensor:
        # Deterministic by construction: exploration noise is added by the algorithm.
        return self(observation)


class Critic(_Network):
    """
    Action-value network Q(s, a); the action enters next to the observation features.

    :param observation_space: Observation space.
    :param action_space: Action space (a bounded ``Box``).
    :param net_arch: Sizes of the hidden layers.
    :param features_extractor: Network that turns observations into a flat feature vector.
    :param features_dim: Size of that feature vector.
    :param activation_fn: Activation function of the hidden layers.
    :param normalize_images: Whether to divide image observations by 255.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
    ):
        super().__init__(
            observation_space, action_space, net_arch, features_extractor, features_dim, activation_fn, normalize_images
        )
        self.q_net = self._mlp(features_dim + self.action_dim, 1)

    def forward(self, obs: PyTorchObs, actions: th.Tensor) -> th.Tensor:
        return run_layers(self.q_net, th.cat((features(self, obs), actions), dim=1))


# Parameter groups of DPGPolicy.optimizer.
ACTOR_GROUP, CRITIC_GROUP = 0, 1


class DPGPolicy(BasePolicy):
    """
    Policy of DPG: actor, critic and their target copies, and one optimizer with a parameter group for each network
    (``optimizer.param_groups[ACTOR_GROUP]`` and ``[CRITIC_GROUP]``).

    Actor and critic get their own features extractor, so that the critic's TD loss never moves the actor's features.

    :param observation_space: Observation space.
    :param action_space: Action space (a bounded ``Box``).
    :param lr_schedule: Learning-rate schedule; only its initial value is used here, the algorithm updates it.
    :param net_arch: Hidden layers, either one list for both networks or ``dict(pi=[...], qf=[...])``
        for the actor (``pi``) and the critic (``qf``). Defaults to ``[400, 300]`` (``[256, 256]`` after a CNN),
        the sizes of Lillicrap et al.
    :param activation_fn: Activation function of the hidden layers.
    :param features_extractor_class: Features extractor class.
    :param features_extractor_kwargs: Keyword arguments for the features extractor.
    :param normalize_images: Whether to divide image observations by 255.
    :param optimizer_class: Optimizer class, ``th.optim.Adam`` by default.
    :param optimizer_kwargs: Keyword arguments for the optimizer, except the learning rate. For Adam and AdamW the
        fused implementation is used unless ``fused`` or ``foreach`` is given: it does the whole step in one kernel.
    """

    actor: Actor
    actor_target: Actor
    critic: Critic
    critic_target: Critic

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
    ):
        check_box_action_space(action_space)
        optimizer_kwargs = dict(optimizer_kwargs or {})
        if optimizer_class in (th.optim.Adam, th.optim.AdamW) and not {"fused", "foreach"} & optimizer_kwargs.keys():
            optimizer_kwargs["fused"] = True
        super().__init__(
            observation_space,
            action_space,
            features_extractor_class,
            features_extractor_kwargs,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
            squash_output=True,
            normalize_images=normalize_images,
        )
        if net_arch is None:
            net_arch = [256, 256] if features_extractor_class == NatureCNN else [400, 300]
        self.net_arch = net_arch
        self.activation_fn = activation_fn
        self.actor_arch, self.critic_arch = get_actor_critic_arch(net_arch)
        self._build(lr_schedule)

    def _build(self, lr_schedule: Schedule) -> None:
        self.actor = self.make_actor()
        self.actor_target = self.make_actor()
        self.actor_target.load_state_dict(self.actor.state_dict())
        self.critic = self.make_critic()
        self.critic_target = self.make_critic()
        self.critic_target.load_state_dict(self.critic.state_dict())

        # One optimizer, one parameter group per network (index ACTOR_GROUP / CRITIC_GROUP, each with its own rate):
        # both gradients are applied in a single step, which halves the optimizer's per-step overhead.
        self.optimizer = self.optimizer_class(  # type: ignore[call-arg]
            [{"params": list(self.actor.parameters())}, {"params": list(self.critic.parameters())}],
            lr=lr_schedule(1),
            **self.optimizer_kwargs,
        )

        # Targets only ever run inference: no autograd bookkeeping, and batch norm keeps its copied statistics.
        for target in (self.actor_target, self.critic_target):
            target.set_training_mode(False)
            target.requires_grad_(False)
        # What set_training_mode() switches (see pgzoo.dpg.shortcuts); None: call the networks' own train().
        self._mode_modules = mode_modules(self.actor, self.critic)

    def _network_kwargs(self, net_arch: list[int]) -> dict[str, Any]:
        features_extractor = self.make_features_extractor()
        return dict(
            observation_space=self.observation_space,
            action_space=self.action_space,
            net_arch=net_arch,
            features_extractor=features_extractor,
            features_dim=features_extractor.features_dim,
            activation_fn=self.activation_fn,
            normalize_images=self.normalize_images,
        )

    def make_actor(self) -> Actor:
        """:return: A new actor network, with its own features extractor."""
        return Actor(**self._network_kwargs(self.actor_arch)).to(self.device)

    def make_critic(self) -> Critic:
        """:return: A new critic network, with its own features extractor."""
        return Critic(**self._network_kwargs(self.critic_arch)).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            dict(
                net_arch=self.net_arch,
                activation_fn=self.activation_fn,
                lr_schedule=self._dummy_schedule,  # the algorithm owns the real schedule
                optimizer_class=self.optimizer_class,
                optimizer_kwargs=self.optimizer_kwargs,
                features_extractor_class=self.features_extractor_class,
                features_extractor_kwargs=self.features_extractor_kwargs,
            )
        )
        return data

    def forward(self, obs: PyTorchObs, deterministic: bool = True) -> th.Tensor:
        return self._predict(obs, deterministic=deterministic)

    def _predict(self, observation: PyTorchObs, deterministic: bool = True) -> th.Tensor:
        # The policy is deterministic by construction: exploration noise is added by the algorithm.
        return self.actor(observation)

    def set_training_mode(self, mode: bool) -> None:
        """
        Put actor and critic in training or evaluation mode (matters for batch norm and dropout); targets stay in eval.

        :param mode: ``True`` for training mode.
        """
        if self._mode_modules is None:
            self.actor.set_training_mode(mode)
            self.critic.set_training_mode(mode)
        else:
            set_mode(self._mode_modules, mode)
        self.training = mode


MlpPolicy = DPGPolicy


class CnnPolicy(DPGPolicy):
    """
    DPG policy for image observations: :class:`DPGPolicy` with a ``NatureCNN`` features extractor.

    :param observation_space: Observation space.
    :param action_space: Action space (a bounded ``Box``).
    :param lr_schedule: Learning-rate schedule.
    :param features_extractor_class: Features extractor class, ``NatureCNN`` by default.
    :param kwargs: Keyword arguments of :class:`DPGPolicy`.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        features_extractor_class: type[BaseFeaturesExtractor] = NatureCNN,
        **kwargs: Any,
    ):
        super().__init__(
            observation_space, action_space, lr_schedule, features_extractor_class=features_extractor_class, **kwargs
        )


class MultiInputPolicy(DPGPolicy):
    """
    DPG policy for ``Dict`` observations: :class:`DPGPolicy` with a ``CombinedExtractor``.

    :param observation_space: Observation space.
    :param action_space: Action space (a bounded ``Box``).
    :param lr_schedule: Learning-rate schedule.
    :param features_extractor_class: Features extractor class, ``CombinedExtractor`` by default.
    :param kwargs: Keyword arguments of :class:`DPGPolicy`.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        features_extractor_class: type[BaseFeaturesExtractor] = CombinedExtractor,
        **kwargs: Any,
    ):
        super().__init__(
            observation_space, action_space, lr_schedule, features_extractor_class=features_extractor_class, **kwargs
        )

"""
DPG's speed shortcuts, all in one place: each does what a plainer call of torch or SB3 does, only faster on the small
networks DPG trains at one gradient step per env step, where per-call overhead costs more than the arithmetic.

Each is kept because ``scripts/benchmark_dpg.py`` shows it pays, and each has a test in ``tests/test_dpg.py`` that it
equals the plain computation:

- :func:`features`: with SB3's ``FlattenExtractor`` on a flat float ``Box``, the features are the observations
  themselves, where ``extract_features`` would preprocess (a no-op) and call two modules to flatten (a no-op);
- :func:`run_layers` calls each layer's ``forward`` in turn where ``nn.Sequential.__call__`` would go through
  ``nn.Module.__call__``'s hook bookkeeping for the container and every layer (six network passes per step);
- :func:`mode_modules` / :func:`set_mode` flip training mode by a flat list instead of ``nn.Module.train``'s recursion
  (the policy flips it twice per env step: collection in eval mode, the update in training mode);
- :func:`clear_grads` instead of ``optimizer.zero_grad(set_to_none=True)``, which goes through torch's compiler and
  profiler wrappers;
- :func:`trail_targets` moves every target tensor in one fused call, where SB3's ``polyak_update`` loops in Python;
- :func:`actor_actions`: collection runs the actor directly rather than through ``predict()``, which rescales the
  actions to the env's bounds only for the base class to scale them back.

Elsewhere, one more: ``DPGPolicy`` picks Adam's fused implementation (one kernel per step) unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch as th
import torch.nn.modules.module as torch_module
from gymnasium import spaces
from stable_baselines3.common.policies import BaseModel
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import FlattenExtractor
from stable_baselines3.common.type_aliases import PyTorchObs
from stable_baselines3.common.utils import obs_as_tensor
from torch import nn

#: torch's registries of hooks for every module: while one holds a hook, layers are called the usual way.
_GLOBAL_HOOKS = (
    "_global_forward_hooks",
    "_global_forward_pre_hooks",
    "_global_backward_hooks",
    "_global_backward_pre_hooks",
)


def plain_features(observation_space: spaces.Space, features_extractor: nn.Module) -> bool:
    """
    :param observation_space: A network's observation space.
    :param features_extractor: Its features extractor.
    :return: Whether its features are its (float32, batched) observations unchanged: SB3's ``FlattenExtractor`` on
        a one-dimensional ``Box`` that is not an image, which ``preprocess_obs`` leaves as it is.
    """
    return (
        type(features_extractor) is FlattenExtractor
        and isinstance(observation_space, spaces.Box)
        and len(observation_space.shape) == 1
        and not is_image_space(observation_space)
    )


def features(network: BaseModel, obs: PyTorchObs) -> th.Tensor:
    """
    ``network.extract_features(obs, network.features_extractor)``.

    :param network: The actor or the critic; its ``plain_features`` attribute is :func:`plain_features` of its
        spaces, and when set, a float32 batch is its own features.
    :param obs: A batch of observations.
    :return: The features.
    """
    extractor = network.features_extractor
    assert extractor is not None, "the actor and the critic have their own features extractor"
    if (
        getattr(network, "plain_features", False)
        and isinstance(obs, th.Tensor)
        and obs.dtype == th.float32
        and obs.dim() == 2
        and _unhooked(extractor, *extractor._modules.values())
    ):
        return obs
    return network.extract_features(obs, extractor)


def run_layers(layers: nn.Sequential, x: th.Tensor) -> th.Tensor:
    """
    ``layers(x)``. With no hook registered (on the container, a layer, or globally) and no tracing, which is when
    ``nn.Module.__call__`` itself goes straight to ``forward``, each layer's ``forward`` is called directly.

    :param layers: The network's layers.
    :param x: Its input.
    :return: Its output.
    """
    modules = layers._modules.values()
    if not _unhooked(layers, *modules):
        return layers(x)
    for module in modules:
        x = module.forward(x)  # type: ignore[union-attr]
    return x


def _unhooked(*modules: nn.Module | None) -> bool:
    """Whether calling these modules' ``forward`` equals calling them: no hook on them or globally, no tracing."""
    if th._C._get_tracing_state() or any(getattr(torch_module, name) for name in _GLOBAL_HOOKS):
        return False
    return not any(
        module is not None
        and (module._forward_hooks or module._forward_pre_hooks or module._backward_hooks or module._backward_pre_hooks)
        for module in modules
    )


def mode_modules(*networks: nn.Module) -> list[nn.Module] | None:
    """
    :param networks: The networks whose mode is switched together.
    :return: Every module of ``networks``, to switch with :func:`set_mode`; ``None`` when one of them overrides
        ``train()`` (it may do more than set its flag), so the networks' own ``train()`` must be called.
    """
    modules = [module for network in networks for module in network.modules()]
    if any(type(module).train is not nn.Module.train for module in modules):
        return None
    return modules


def set_mode(modules: Sequence[nn.Module], mode: bool) -> None:
    """
    Set the training flag of every module, as ``nn.Module.train(mode)`` on their roots would.

    :param modules: The list from :func:`mode_modules`.
    :param mode: ``True`` for training mode.
    """
    for module in modules:
        # The flag lives in the instance dict: skip nn.Module.__setattr__'s checks for parameters and submodules.
        module.__dict__["training"] = mode


def clear_grads(params: Sequence[th.Tensor]) -> None:
    """
    Drop the gradients of ``params``, as ``optimizer.zero_grad(set_to_none=True)`` does for its parameters.

    :param params: Every parameter of the optimizer.
    """
    for param in params:
        param.grad = None


def trail_targets(targets: list[th.Tensor], onlines: list[th.Tensor], tau: float) -> None:
    """
    ``target <- (1 - tau) * target + tau * online`` for every pair, in one fused call (no gradient is recorded).

    :param targets: Target tensors, updated in place.
    :param onlines: Online tensors, in the same order.
    :param tau: Polyak coefficient.
    """
    with th.no_grad():
        th._foreach_lerp_(targets, onlines, tau)


def actor_actions(actor: nn.Module, observation: np.ndarray | dict[str, np.ndarray], device: th.device) -> np.ndarray:
    """
    :param actor: The actor, mu(s), with outputs in [-1, 1].
    :param observation: A batch of observations as the (wrapped) training env returns them.
    :param device: The actor's device.
    :return: The actor's actions in [-1, 1], one row per observation, as a numpy array.
    """
    with th.no_grad():
        return actor(obs_as_tensor(observation, device)).cpu().numpy()

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
  actions to the env's bounds only for the base class to scale them back;
- :func:`detached_critic_value`: the actor's loss reads the critic layer by layer on detached weights, where
  ``torch.func.functional_call`` would swap the critic's parameters in and out around the call; with the critic's
  weights out of the actor loss's graph, one backward pass of both losses gives each network its own gradient
  (two passes, each told its ``inputs``, cost a second run of autograd's engine);
- :func:`sample_batch`: a minibatch of SB3's ``ReplayBuffer`` as tensors that share the sampled arrays' memory,
  where ``ReplayBuffer.sample`` copies each array once more (``th.tensor``) after fancy indexing has copied it.

Elsewhere, one more: ``DPGPolicy`` picks Adam's fused implementation (one kernel per step) unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeGuard

import numpy as np
import torch as th
import torch.nn.modules.module as torch_module
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.policies import BaseModel
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import FlattenExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, ReplayBufferSamples
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecNormalize
from torch import nn
from torch.nn import functional as F

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
    if _own_features(obs, network) and _unhooked(extractor, *extractor._modules.values()):
        return obs
    return network.extract_features(obs, extractor)


def _own_features(obs: PyTorchObs, network: BaseModel) -> TypeGuard[th.Tensor]:
    """Whether ``obs`` is a float32 batch that is the network's features (its ``plain_features`` set)."""
    return (
        getattr(network, "plain_features", False) and isinstance(obs, th.Tensor) and obs.dtype == th.float32 and obs.dim() == 2
    )


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


def detached_critic_value(critic: BaseModel, obs: PyTorchObs, actions: th.Tensor) -> th.Tensor:
    """
    ``Q(obs, actions)`` computed with the critic's parameters detached, as
    ``torch.func.functional_call(critic, {name: param.detach()}, (obs, actions))``: the gradient of the result
    reaches ``actions`` (and through them the actor) but never the critic's weights.

    The layers are called one by one on detached weights when the critic is DPG's own (its ``forward`` not
    overridden), an MLP of ``nn.Linear`` layers and parameter-free activations on observations that are their own
    features, with no hook to run.

    :param critic: The critic, with ``q_net`` (an ``nn.Sequential``) and ``plain_features`` (see :func:`features`).
    :param obs: A batch of observations.
    :param actions: The actions to value, one row per observation.
    :return: The values, shape ``(batch, 1)``.
    """
    from pgzoo.dpg.policies import Critic  # policies imports this module

    if type(critic).forward is Critic.forward and _own_features(obs, critic):
        layers: nn.Sequential = critic.q_net  # type: ignore[assignment]
        modules = list(layers._modules.values())
        # Only leaves: an activation with submodules may hold learnt weights in them. With plain features, these
        # layers and the extractor's are the critic's whole tree, all of whose hooks are checked.
        plain_mlp = all(type(module) is nn.Linear or not (module._parameters or module._modules) for module in modules)
        extractor = critic.features_extractor
        assert extractor is not None, "the actor and the critic have their own features extractor"
        if plain_mlp and _unhooked(critic, extractor, *extractor._modules.values(), layers, *modules):
            return _detached_layers(modules, th.cat((obs, actions), dim=1))
    detached = {name: param.detach() for name, param in critic.named_parameters()}
    return th.func.functional_call(critic, detached, (obs, actions))


def _detached_layers(modules: list[nn.Module], x: th.Tensor) -> th.Tensor:
    """Run ``x`` through ``modules``, the ``nn.Linear`` ones on their weights detached."""
    for module in modules:
        if type(module) is nn.Linear:
            bias = None if module.bias is None else module.bias.detach()
            x = F.linear(x, module.weight.detach(), bias)
        else:
            x = module.forward(x)
    return x


def sample_batch(buffer: ReplayBuffer, batch_size: int, env: VecNormalize | None = None) -> ReplayBufferSamples:
    """
    ``buffer.sample(batch_size, env)``, drawing the same indices from numpy's global generator.

    For SB3's own ``ReplayBuffer`` on the CPU (not its memory-optimized variant) with no ``VecNormalize`` to apply,
    the tensors share the memory of the arrays that fancy indexing has just copied out of the buffer; any other
    buffer samples itself.

    :param buffer: The replay buffer.
    :param batch_size: Number of transitions.
    :param env: The ``VecNormalize`` wrapper whose statistics normalize the samples, if any.
    :return: The minibatch.
    """
    if type(buffer) is not ReplayBuffer or buffer.optimize_memory_usage or env is not None or buffer.device.type != "cpu":
        return buffer.sample(batch_size, env=env)
    upper_bound = buffer.buffer_size if buffer.full else buffer.pos
    batch_inds = np.random.randint(0, upper_bound, size=batch_size)
    env_inds = np.random.randint(0, high=buffer.n_envs, size=(batch_size,))
    dones = buffer.dones[batch_inds, env_inds] * (1 - buffer.timeouts[batch_inds, env_inds])
    data: tuple[Any, ...] = (
        buffer.observations[batch_inds, env_inds, :],
        buffer.actions[batch_inds, env_inds, :],
        buffer.next_observations[batch_inds, env_inds, :],
        dones.reshape(-1, 1),
        buffer.rewards[batch_inds, env_inds].reshape(-1, 1),
    )
    return ReplayBufferSamples(*(th.from_numpy(array) for array in data))

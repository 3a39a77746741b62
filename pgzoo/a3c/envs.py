"""How A3C workers get environments of their own, and the checks that make this fail early and clearly."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import cloudpickle
import gymnasium as gym
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper, VecNormalize, VecTransposeImage

# Wrappers that `gym.make` and `make_vec_env` add by themselves, so rebuilding from the spec restores them.
_REBUILT_WRAPPERS = {"Monitor", "TimeLimit", "OrderEnforcing", "PassiveEnvChecker"}

_HOW_TO_FIX = (
    "A3C workers build their own copies of the environment, so pass an env id (e.g. 'CartPole-v1', with "
    "`env_kwargs` if needed) or a picklable function that returns a new gymnasium.Env (with any wrappers applied "
    "inside it), e.g. a module-level function or functools.partial."
)


@dataclasses.dataclass
class EnvSource:
    """
    A recipe for a worker's environments that can be sent to another process or machine.

    :param make_env: Env id or callable returning a ``gymnasium.Env``.
    :param env_kwargs: Keyword arguments passed to the env constructor.
    :param n_envs: Number of env copies in each worker's ``DummyVecEnv``.
    """

    make_env: str | Callable[..., gym.Env]
    env_kwargs: dict[str, Any]
    n_envs: int

    def make(self, seed: int | None = None) -> VecEnv:
        """
        Build a ``DummyVecEnv`` of ``n_envs`` monitored copies, env ``i`` seeded with ``seed + i``, its channel-last
        images transposed as SB3 does for the main process's env (the CNN expects channels first).

        :param seed: Seed of the first copy (``None``: unseeded).
        """
        env = make_vec_env(self.make_env, n_envs=self.n_envs, seed=seed, env_kwargs=self.env_kwargs, vec_env_cls=DummyVecEnv)
        return VecTransposeImage(env) if needs_transpose(env.observation_space) else env


def needs_transpose(observation_space: spaces.Space) -> bool:
    """Whether SB3 wraps an env with these observations in ``VecTransposeImage``: some image is channel-last."""
    subspaces = observation_space.spaces.values() if isinstance(observation_space, spaces.Dict) else [observation_space]
    return any(
        isinstance(space, spaces.Box) and is_image_space(space) and not is_image_space_channels_first(space)
        for space in subspaces
    )


def _spec_of(env: gym.Env | VecEnv) -> gym.envs.registration.EnvSpec:
    """Return the registry spec to rebuild ``env`` from, or raise if its wrappers can't be reproduced."""
    if isinstance(env, VecNormalize):
        raise ValueError(
            "A3C can't use VecNormalize: each worker steps envs of its own, so each would keep its own statistics. "
            "Pass the env unwrapped with A3C(..., normalize_obs=True, normalize_reward=True) for statistics shared by "
            "all workers (in the zoo's YAML: normalize_obs and normalize_reward instead of normalize)."
        )
    if isinstance(env, VecTransposeImage):
        env = env.venv  # SB3 adds it to image envs (in load() too); workers add it again
    if isinstance(env, VecEnvWrapper):
        raise ValueError(f"A3C can't rebuild a VecEnv wrapped in {type(env).__name__} inside its workers. {_HOW_TO_FIX}")
    spec = env.get_attr("spec", indices=[0])[0] if isinstance(env, VecEnv) else env.spec
    if spec is None:
        raise ValueError(f"A3C can't rebuild this environment in its workers: it has no registry spec. {_HOW_TO_FIX}")
    unknown = [wrapper.name for wrapper in spec.additional_wrappers if wrapper.name not in _REBUILT_WRAPPERS]
    if unknown:
        raise ValueError(f"A3C can't rebuild the wrappers {unknown} of environment {spec.id!r} in its workers. {_HOW_TO_FIX}")
    return dataclasses.replace(spec, additional_wrappers=())


def env_source(
    env: gym.Env | VecEnv | str | Callable[..., gym.Env], env_kwargs: dict[str, Any] | None, n_envs: int
) -> EnvSource:
    """
    Turn what the user passed as ``env`` into an :class:`EnvSource` for the workers.

    An env id or a callable is used as is; an env instance or a ``VecEnv`` is rebuilt from its registry spec
    (keeping ``max_episode_steps`` and constructor kwargs), which is only possible when it has no extra wrappers.

    :param env: The user's ``env`` argument.
    :param env_kwargs: Extra keyword arguments for the env constructor.
    :param n_envs: Env copies per worker.
    :raises ValueError: When the environment can't be sent or rebuilt; the message says what to pass instead.
    """
    env_kwargs = dict(env_kwargs or {})
    source: str | Callable[..., gym.Env]
    if isinstance(env, str):
        source = env
    elif isinstance(env, gym.Env | VecEnv):
        source = functools.partial(gym.make, _spec_of(env))
    elif callable(env):
        source = env
    else:
        raise ValueError(f"`env` must be an env id, a callable returning a gymnasium.Env, or a VecEnv, got {type(env)}.")
    recipe = EnvSource(source, env_kwargs, n_envs)
    check_sendable(recipe, "the environment (`env`, `env_kwargs`)")
    return recipe


def check_sendable(obj: Any, what: str) -> bytes:
    """
    Serialize ``obj`` the way it will travel to workers, turning a failure into a clear error.

    :param obj: Object workers need.
    :param what: What it is, for the error message.
    :return: The serialized bytes.
    """
    try:
        return cloudpickle.dumps(obj)
    except Exception as error:
        hint = _HOW_TO_FIX if "env" in what else "Pass picklable objects (module-level functions, classes, plain data)."
        raise ValueError(f"A3C can't send {what} to its workers ({type(error).__name__}: {error}). {hint}") from error

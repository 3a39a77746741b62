"""How A3C workers get environments of their own, and the checks that make this fail early and clearly."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import cloudpickle
import gymnasium as gym
from gymnasium import spaces
from gymnasium.envs.registration import EnvSpec, WrapperSpec, load_env_creator
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    VecEnv,
    VecEnvWrapper,
    VecFrameStack,
    VecNormalize,
    VecTransposeImage,
)

# Wrappers that `gym.make` adds by itself, so rebuilding from the spec restores them (make_vec_env adds `Monitor`).
_REBUILT_WRAPPERS = {"TimeLimit", "OrderEnforcing", "PassiveEnvChecker"}

_HOW_TO_FIX = (
    "A3C workers build their own copies of the environment, so pass an env id (e.g. 'CartPole-v1', with "
    "`env_kwargs` if needed) or a picklable function that returns a new gymnasium.Env (with any wrappers applied "
    "inside it), e.g. a module-level function or functools.partial."
)


@dataclasses.dataclass(frozen=True)
class VecWrapping:
    """
    A ``VecEnvWrapper`` of the user's env, to apply again around each worker's envs.

    :param wrapper_class: ``VecFrameStack``, ``VecTransposeImage`` or ``VecNormalize``.
    :param kwargs: Its constructor arguments (for ``VecNormalize``: its settings, with ``training=False``: workers
        merge their statistics into the shared ones instead, see :mod:`pgzoo.a3c.normalization`).
    """

    wrapper_class: type[VecEnvWrapper]
    kwargs: dict[str, Any]


@dataclasses.dataclass
class EnvSource:
    """
    A recipe for a worker's environments that can be sent to another process or machine.

    :param make_env: Env id or callable returning a ``gymnasium.Env``.
    :param env_kwargs: Keyword arguments passed to the env constructor.
    :param n_envs: Number of env copies in each worker's ``DummyVecEnv``.
    :param wrapper_class: Applied to each env outside its ``Monitor``, as ``make_vec_env``'s ``wrapper_class``.
    :param vec_wrappers: VecEnv wrappers applied around the ``DummyVecEnv``, innermost first.
    """

    make_env: str | Callable[..., gym.Env]
    env_kwargs: dict[str, Any]
    n_envs: int
    wrapper_class: Callable[[gym.Env], gym.Env] | None = None
    vec_wrappers: tuple[VecWrapping, ...] = ()

    def make(self, seed: int | None = None) -> VecEnv:
        """
        Build a ``DummyVecEnv`` of ``n_envs`` monitored copies, env ``i`` seeded with ``seed + i``, inside the user's
        VecEnv wrappers, its channel-last images then transposed as SB3 does for the main process's env (the CNN
        expects channels first).

        :param seed: Seed of the first copy (``None``: unseeded).
        """
        env: VecEnv = make_vec_env(
            self.make_env,
            n_envs=self.n_envs,
            seed=seed,
            env_kwargs=self.env_kwargs,
            wrapper_class=self.wrapper_class,
            vec_env_cls=DummyVecEnv,
        )
        for wrapping in self.vec_wrappers:
            env = wrapping.wrapper_class(env, **wrapping.kwargs)  # type: ignore[call-arg]
        return VecTransposeImage(env) if needs_transpose(env.observation_space) else env

    @property
    def vec_normalize(self) -> VecWrapping | None:
        """The ``VecNormalize`` among :attr:`vec_wrappers`, if any."""
        return next((wrapping for wrapping in self.vec_wrappers if wrapping.wrapper_class is VecNormalize), None)


def needs_transpose(observation_space: spaces.Space) -> bool:
    """Whether SB3 wraps an env with these observations in ``VecTransposeImage``: some image is channel-last."""
    subspaces = observation_space.spaces.values() if isinstance(observation_space, spaces.Dict) else [observation_space]
    return any(
        isinstance(space, spaces.Box) and is_image_space(space) and not is_image_space_channels_first(space)
        for space in subspaces
    )


def _frame_stack_kwargs(env: VecFrameStack) -> dict[str, Any]:
    """``VecFrameStack``'s arguments: the stack size, and each (Dict: each key's) channel order as it resolved it."""
    stacked = env.stacked_obs
    if isinstance(env.venv.observation_space, spaces.Dict):
        orders = {key: "first" if sub.channels_first else "last" for key, sub in stacked.sub_stacked_observations.items()}
        return {"n_stack": stacked.n_stack, "channels_order": orders}
    return {"n_stack": stacked.n_stack, "channels_order": "first" if stacked.channels_first else "last"}


def vec_normalize_settings(env: VecNormalize) -> dict[str, Any]:
    """The constructor arguments that reproduce ``env``'s normalization (not its statistics), for a worker's copy."""
    return {
        "training": False,
        "norm_obs": env.norm_obs,
        "norm_reward": env.norm_reward,
        "clip_obs": env.clip_obs,
        "clip_reward": env.clip_reward,
        "gamma": env.gamma,
        "epsilon": env.epsilon,
        "norm_obs_keys": env.norm_obs_keys,
    }


#: The VecEnv wrappers A3C applies again in its workers, with how to read their constructor arguments.
_VEC_WRAPPERS: dict[type, Callable[[Any], dict[str, Any]]] = {
    VecFrameStack: _frame_stack_kwargs,
    VecTransposeImage: lambda env: {"skip": env.skip},
    VecNormalize: vec_normalize_settings,
}


def peel_vec_wrappers(env: VecEnv) -> tuple[VecEnv, tuple[VecWrapping, ...]]:
    """
    Split ``env`` into the VecEnv it wraps and the wrappers around it (innermost first) that workers apply again.

    :raises ValueError: For a wrapper A3C can't reproduce in its workers.
    """
    wrappings: list[VecWrapping] = []
    while isinstance(env, VecEnvWrapper):
        read_kwargs = _VEC_WRAPPERS.get(type(env))
        if read_kwargs is None:
            accepted = ", ".join(cls.__name__ for cls in _VEC_WRAPPERS)
            raise ValueError(
                f"A3C can't rebuild a VecEnv wrapped in {type(env).__name__} inside its workers (it applies {accepted} "
                f"again there). {_HOW_TO_FIX}"
            )
        wrappings.append(VecWrapping(type(env), read_kwargs(env)))
        env = env.venv
    if sum(wrapping.wrapper_class is VecNormalize for wrapping in wrappings) > 1:
        raise ValueError("A3C takes at most one VecNormalize wrapper around its env")
    return env, tuple(reversed(wrappings))


class _WrapperSpecs:
    """Picklable ``wrapper_class`` applying recorded gymnasium wrapper specs, innermost first."""

    def __init__(self, specs: tuple[WrapperSpec, ...]) -> None:
        self.specs = specs

    def __call__(self, env: gym.Env) -> gym.Env:
        for spec in self.specs:
            wrapper_class: Callable[..., gym.Env] = load_env_creator(spec.entry_point)  # type: ignore[assignment]
            env = wrapper_class(env, **(spec.kwargs or {}))
        return env


def _entry_point_wrappers(spec: EnvSpec) -> tuple[WrapperSpec, ...]:
    """The wrappers ``spec``'s entry point applies itself, found by making one env from it (rarely needed)."""
    try:
        env = gym.make(dataclasses.replace(spec, additional_wrappers=()))
    except Exception:  # the refusal that follows names the wrappers; this env's own error would not
        return ()
    try:
        return tuple(env.spec.additional_wrappers) if env.spec is not None else ()
    finally:
        env.close()


def _rebuild_from_spec(env: gym.Env | VecEnv) -> tuple[Callable[..., gym.Env], Callable[[gym.Env], gym.Env] | None]:
    """
    The env factory (and the ``wrapper_class`` outside ``Monitor``) that rebuild ``env`` from its registry spec.

    :raises ValueError: When it has no spec, a placeholder one, or wrappers that don't record their arguments.
    """
    spec = env.get_attr("spec", indices=[0])[0] if isinstance(env, VecEnv) else env.spec
    if spec is None:
        raise ValueError(f"A3C can't rebuild this environment in its workers: it has no registry spec. {_HOW_TO_FIX}")
    if isinstance(spec.entry_point, str):
        try:
            load_env_creator(spec.entry_point)
        except (ImportError, AttributeError, ValueError):
            raise ValueError(
                f"A3C can't rebuild environment {spec.id!r} in its workers: its spec's entry point "
                f"{spec.entry_point!r} is not an importable 'module:name' (a placeholder?). {_HOW_TO_FIX}"
            ) from None
    wrappers = [wrapper for wrapper in spec.additional_wrappers if wrapper.name not in _REBUILT_WRAPPERS]
    unknown = [wrapper.name for wrapper in wrappers if wrapper.kwargs is None and wrapper.name != "Monitor"]
    if unknown:
        # Wrappers the registered entry point applies itself are listed first; gym.make rebuilds them.
        prior = _entry_point_wrappers(spec)
        wrappers = wrappers[len(prior) :] if tuple(spec.additional_wrappers[: len(prior)]) == prior else wrappers
        unknown = [wrapper.name for wrapper in wrappers if wrapper.kwargs is None and wrapper.name != "Monitor"]
    if unknown:
        raise ValueError(
            f"A3C can't rebuild the wrappers {unknown} of environment {spec.id!r} in its workers: they don't record "
            f"their constructor arguments (gymnasium's RecordConstructorArgs). {_HOW_TO_FIX}"
        )
    # make_vec_env adds the Monitor: wrappers inside it go to gym.make, those outside it become its wrapper_class.
    names = [wrapper.name for wrapper in wrappers]
    split = names.index("Monitor") if "Monitor" in names else len(wrappers)
    inner, outer = tuple(wrappers[:split]), tuple(wrappers[split + 1 :])
    factory = functools.partial(gym.make, dataclasses.replace(spec, additional_wrappers=inner))
    return factory, _WrapperSpecs(outer) if outer else None


def env_source(
    env: gym.Env | VecEnv | str | Callable[..., gym.Env], env_kwargs: dict[str, Any] | None, n_envs: int
) -> EnvSource:
    """
    Turn what the user passed as ``env`` into an :class:`EnvSource` for the workers.

    An env id or a callable is used as is. An env instance or a ``VecEnv`` is rebuilt from its registry spec (keeping
    ``max_episode_steps``, constructor kwargs and the wrappers that record their arguments), inside the VecEnv
    wrappers workers can apply again (``VecFrameStack``, ``VecTransposeImage``, ``VecNormalize``).

    :param env: The user's ``env`` argument.
    :param env_kwargs: Extra keyword arguments for the env constructor.
    :param n_envs: Env copies per worker.
    :raises ValueError: When the environment can't be sent or rebuilt; the message says what to pass instead.
    """
    env_kwargs = dict(env_kwargs or {})
    if isinstance(env, str) or (callable(env) and not isinstance(env, gym.Env | VecEnv)):
        recipe = EnvSource(env, env_kwargs, n_envs)
    elif isinstance(env, gym.Env | VecEnv):
        inner, wrappings = peel_vec_wrappers(env) if isinstance(env, VecEnv) else (env, ())
        factory, wrapper_class = _rebuild_from_spec(inner)
        recipe = EnvSource(factory, env_kwargs, n_envs, wrapper_class, wrappings)
    else:
        raise ValueError(f"`env` must be an env id, a callable returning a gymnasium.Env, or a VecEnv, got {type(env)}.")
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

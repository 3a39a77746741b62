"""Creating the zoo's vectorized environments, and saving VecNormalize statistics in a safe format."""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import json
import math
import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import WrapperSpec
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecFrameStack, VecNormalize, VecTransposeImage

from pgzoo.a3c.envs import needs_transpose
from pgzoo.zoo.errors import EnvFailedError, HyperparamsError, UnknownEnvError, ZooError, one_line
from pgzoo.zoo.fileio import atomic_write_text
from pgzoo.zoo.hyperparams import ZooConfig, is_atari


def import_gym_packages(packages: list[str] | None) -> None:
    """
    Import packages that register extra Gymnasium envs (``--gym-packages``, e.g. ``ale_py``).

    :param packages: Module names.
    :raises ZooError: When a module cannot be imported.
    """
    for package in packages or []:
        try:
            module = importlib.import_module(package)
        except ImportError as error:
            raise ZooError(f"cannot import gym package {package!r}: {error}") from None
        # ale_py >= 0.9 registers its envs through this hook rather than on import.
        register = getattr(module, "register_envs", None)
        if callable(register) and package == "ale_py":
            gym.register_envs(module)


def register_atari_envs(env_id: str) -> None:
    """
    Register ale-py's Atari envs (the ``atari`` extra) when ``env_id`` is not registered yet: gymnasium 1.x no longer
    loads them by itself, and an Atari agent from the Hub should load without ``--gym-packages ale_py``.

    :param env_id: The env id about to be used.
    """
    if env_id in gym.registry:
        return
    try:
        import ale_py
    except ImportError:
        return
    gym.register_envs(ale_py)


def check_env_id(env_id: str) -> None:
    """
    Fail early, with suggestions, when ``env_id`` is not registered in Gymnasium.

    :param env_id: Env id, e.g. ``"CartPole-v1"``.
    :raises UnknownEnvError: When the id is unknown.
    """
    register_atari_envs(env_id)
    try:
        gym.spec(env_id)
    except gym.error.Error as error:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        # No word on how to register it: the CLI adds that for the commands that have --gym-packages.
        raise UnknownEnvError(f"unknown environment id {env_id!r} ({error}).{hint}") from None


def successor_env_id(env_id: str) -> str | None:
    """
    The current version of an env id gymnasium no longer provides, or ``None``.

    Covers ids gymnasium 1.x removed in favour of a newer version (``LunarLander-v2`` -> ``LunarLander-v3``,
    ``BipedalWalker-v2`` -> ``-v3``) and the MuJoCo ``-v2`` / ``-v3`` ids that only exist to say they need the
    retired ``mujoco-py`` (-> ``-v5``). An id that still works (MuJoCo ``-v4``) keeps its own dynamics: ``None``.

    :param env_id: The env id an agent was trained on.
    """
    from gymnasium.envs.registration import find_highest_version, get_env_id, parse_env_id

    register_atari_envs(env_id)
    try:
        spec = gym.spec(env_id)
    except (gym.error.DeprecatedEnv, gym.error.VersionNotFound):
        pass
    except gym.error.Error:
        return None
    else:
        # gymnasium registers mujoco-py's versions with an entry point that only raises this error.
        if "mujoco_py" not in getattr(spec.entry_point, "__name__", ""):
            return None
    namespace, name, version = parse_env_id(env_id)
    highest = find_highest_version(namespace, name)
    if version is None or highest is None or highest <= version:
        return None
    return get_env_id(namespace, name, highest)


def env_folder_name(env_id: str) -> str:
    """Name used for ``env_id`` in folder and file names (``ALE/Pong-v5`` -> ``ALE-Pong-v5``)."""
    return env_id.replace("/", "-").replace(":", "-")


class ReportEnvFailures(gym.Wrapper):
    """
    Turn an exception raised by the env's ``step()`` or ``reset()`` into an :class:`EnvFailedError` naming it (the
    original is its ``__cause__``), so that the zoo tells a failing env from a failure of its own and can stop with
    one line, the model trained so far saved.

    :param env: The env (with its wrappers).
    :param env_id: Its id, for the message.
    """

    def __init__(self, env: gym.Env, env_id: str) -> None:
        super().__init__(env)
        self.env_id = env_id

    # gymnasium's Env declares spec an attribute, its Wrapper a property: mypy sees an override.
    @property
    def spec(self) -> Any:  # type: ignore[override]
        """The wrapped env's spec: this wrapper changes nothing a copy of the env (an A3C worker's) would need."""
        return self.env.spec

    def _failed(self, method: str, error: Exception) -> EnvFailedError:
        return EnvFailedError(f"the env {self.env_id} failed in {method}(): {type(error).__name__}: {one_line(error)}")

    def _check_shape(self, observation: Any, method: str) -> None:
        # A Box observation that does not fit its space's shape would fail deep inside the VecEnv's buffers instead
        # (one that broadcasts to it, a scalar for shape (1,) say, is stored there as it always was).
        space = self.observation_space
        if isinstance(space, gym.spaces.Box) and not _broadcasts(np.shape(observation), space.shape):
            raise EnvFailedError(
                f"the env {self.env_id} returned an observation of shape {np.shape(observation)} from {method}(), "
                f"but its observation space has shape {space.shape}"
            )

    def step(self, action: Any) -> Any:
        try:
            result = self.env.step(action)
        except ZooError:
            raise
        except Exception as error:
            raise self._failed("step", error) from error
        self._check_shape(result[0], "step")
        return result

    def reset(self, **kwargs: Any) -> Any:
        try:
            result = self.env.reset(**kwargs)
        except ZooError:
            raise
        except Exception as error:
            raise self._failed("reset", error) from error
        self._check_shape(result[0], "reset")
        return result


def _broadcasts(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` can be stored into one of ``target`` (NumPy broadcasting)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


class _ApplyWrappers:
    """
    Picklable callable applying a list of (wrapper class, kwargs) to an env, innermost first, then
    :class:`ReportEnvFailures` around them all.

    Each wrapper's spec records its arguments, also for wrappers that don't record them themselves (SB3's
    ``AtariWrapper``): an env's spec then says how to rebuild it, which A3C's workers do.
    """

    def __init__(self, wrappers: list[tuple[type, dict[str, Any]]], env_id: str) -> None:
        self.wrappers, self.env_id = wrappers, env_id

    def __call__(self, env: gym.Env) -> gym.Env:
        for wrapper_class, kwargs in self.wrappers:
            inner_spec = env.spec
            env = wrapper_class(env, **kwargs)
            if isinstance(env, gym.Wrapper) and inner_spec is not None and env.spec is not None:
                # gymnasium caches a wrapper's spec there. It lists the wrappers this one built inside itself
                # (AtariWrapper's six), without arguments unless they record them (RecordConstructorArgs): the zoo
                # knows the one call that rebuilds them all.
                recorded = WrapperSpec(
                    name=wrapper_class.__name__,
                    entry_point=f"{wrapper_class.__module__}:{wrapper_class.__name__}",
                    kwargs=dict(kwargs),
                )
                env._cached_spec = dataclasses.replace(
                    inner_spec, additional_wrappers=(*inner_spec.additional_wrappers, recorded)
                )
        return ReportEnvFailures(env, self.env_id)


def deterministic_eval_default(env_id: str) -> bool:
    """
    Whether the zoo evaluates and plays ``env_id``'s agents with their most likely actions unless told otherwise.

    One half of the zoo's evaluation protocol (the other, full Atari games, is in :func:`make_zoo_env`): as the RL
    Zoo does, Atari agents sample their actions (a deterministic Atari policy can repeat itself forever), every other
    env takes the most likely action. ``pgzoo train``'s evaluations, ``pgzoo benchmark`` and ``pgzoo enjoy`` use it.

    :param env_id: A registered env id.
    """
    register_atari_envs(env_id)
    return not is_atari(env_id)


def _frame_skip_of(env_id: str, env_kwargs: dict[str, Any]) -> Any:
    """The ``frameskip`` the env applies itself (ALE v5 ids: 4; ``NoFrameskip-v4``: 1), or ``None`` if it has none."""
    try:
        registered = gym.spec(env_id).kwargs.get("frameskip")
    except gym.error.Error:
        registered = None
    return env_kwargs.get("frameskip", registered)


def _adapted_wrappers(
    env_id: str, wrappers: list[tuple[type, dict[str, Any]]], env_kwargs: dict[str, Any], training: bool
) -> list[tuple[type, dict[str, Any]]]:
    """
    The config's wrappers, with SB3's ``AtariWrapper`` told what the env and the use need.

    - An env that skips frames itself (ALE v5 ids skip 4, ``Pong-v4`` 2 to 4): ``frame_skip=1``, so that frames are
      not skipped twice (AtariWrapper's default of 4 is meant for ``NoFrameskip-v4`` ids). An entry that sets
      ``frame_skip`` itself keeps it.
    - Evaluation and replay (``training=False``): ``terminal_on_life_loss=False``, an episode is a whole game (the
      RL Zoo's Atari protocol), whatever training used.

    :param env_id: The env id.
    :param wrappers: ``ZooConfig.wrappers``.
    :param env_kwargs: Arguments of ``gym.make`` (an explicit ``frameskip`` there counts).
    :param training: Whether the env is for training.
    """
    from stable_baselines3.common.atari_wrappers import AtariWrapper

    adapted = []
    for wrapper_class, kwargs in wrappers:
        if isinstance(wrapper_class, type) and issubclass(wrapper_class, AtariWrapper):
            kwargs = dict(kwargs)
            if "frame_skip" not in kwargs and _frame_skip_of(env_id, env_kwargs) not in (None, 1):
                kwargs["frame_skip"] = 1
            if not training:
                kwargs["terminal_on_life_loss"] = False
        adapted.append((wrapper_class, kwargs))
    return adapted


def make_zoo_env(
    env_id: str,
    config: ZooConfig,
    *,
    n_envs: int = 1,
    seed: int | None = None,
    monitor_dir: str | Path | None = None,
    training: bool = True,
    render_mode: str | None = None,
    vecnormalize_path: str | Path | None = None,
) -> VecEnv:
    """
    Build the vectorized env for training, evaluation or replay, as the config describes.

    :param env_id: Gymnasium env id.
    :param config: Processed hyperparameters (wrappers, frame stack, normalization, env kwargs).
    :param n_envs: Number of envs (``DummyVecEnv``: the machines this runs on have few cores).
    :param seed: Seed of the first env.
    :param monitor_dir: Where to write ``<rank>.monitor.csv`` files, or ``None``.
    :param training: ``False`` (evaluation / replay) freezes VecNormalize statistics, reports raw rewards and plays
        Atari games whole (no terminal on life loss).
    :param render_mode: Passed to ``gym.make`` (``"human"``, ``"rgb_array"``).
    :param vecnormalize_path: Statistics to load (``vecnormalize.json``) when the config normalizes.
    :raises EnvFailedError: When the env or a wrapper cannot be created with these arguments; the envs made then
        raise it when their ``step()`` or ``reset()`` fails (see :class:`ReportEnvFailures`).
    """
    env_kwargs = dict(config.env_kwargs)
    if render_mode is not None:
        env_kwargs["render_mode"] = render_mode
    if render_mode == "rgb_array":
        # pygame opens an audio device on init; headless machines have none and SDL prints an error about it.
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            # Drawing off screen needs no display, but SDL still tries one and prints "error: XDG_RUNTIME_DIR is
            # invalid or not set" on a headless machine.
            os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    wrappers = _adapted_wrappers(env_id, config.wrappers, env_kwargs, training)
    try:
        env = make_vec_env(
            env_id,
            n_envs=n_envs,
            seed=seed,
            monitor_dir=str(monitor_dir) if monitor_dir is not None else None,
            wrapper_class=_ApplyWrappers(wrappers, env_id),
            env_kwargs=env_kwargs,
            vec_env_cls=DummyVecEnv,
        )
    except ZooError:
        raise
    except Exception as error:  # the env or a wrapper refused its arguments, or its constructor failed
        names = f" and wrappers {[cls.__name__ for cls, _ in wrappers]}" if wrappers else ""
        raise EnvFailedError(
            f"cannot create {env_id} with env_kwargs {env_kwargs}{names}: {type(error).__name__}: {one_line(error)}"
        ) from error
    if config.frame_stack:
        env = VecFrameStack(env, n_stack=config.frame_stack)
    if needs_transpose(env.observation_space):
        # As SB3 wraps a training env of channel-last images: the evaluation env must be wrapped the same way, or
        # synchronizing their normalization fails.
        env = VecTransposeImage(env)
    if config.normalize_kwargs is not None:
        # Evaluation and replay report raw rewards.
        kwargs = config.normalize_kwargs if training else {**config.normalize_kwargs, "norm_reward": False}
        try:
            env = VecNormalize(env, training=training, **kwargs)
        except (TypeError, ValueError, AssertionError) as error:
            env.close()
            raise HyperparamsError(
                f"normalize {config.normalize_kwargs}: VecNormalize rejected it: {one_line(error)}"
            ) from None
        if vecnormalize_path is not None:
            load_vecnormalize_stats(env, vecnormalize_path)
            env.training = training
            if not training:
                env.norm_reward = False
    return env


#: Largest ``vecnormalize.json`` read (an image env's statistics take a few MB).
_MAX_STATS_BYTES = 64 * 2**20
#: Deepest nesting of statistics in ``vecnormalize.json``: one level per ``Dict`` observation space in another.
_MAX_STATS_DEPTH = 8


def _rms_to_dict(rms: Any) -> Any:
    if isinstance(rms, dict):
        return {key: _rms_to_dict(value) for key, value in rms.items()}
    return {"mean": np.asarray(rms.mean).tolist(), "var": np.asarray(rms.var).tolist(), "count": float(rms.count)}


def _rms_from_dict(data: Any, where: str, depth: int = 0) -> Any:
    if not isinstance(data, dict):
        raise ZooError(f"{where}: expected statistics (mean, var, count), got {type(data).__name__}")
    if "mean" not in data:
        if depth >= _MAX_STATS_DEPTH:
            raise ZooError(f"{where.split('[')[0]}: statistics nested more than {_MAX_STATS_DEPTH} deep")
        return {str(key): _rms_from_dict(value, f"{where}[{key!r}]", depth + 1) for key, value in data.items()}
    try:
        mean, var = np.asarray(data["mean"], dtype=np.float64), np.asarray(data["var"], dtype=np.float64)
        count = float(data["count"])
    except (KeyError, TypeError, ValueError) as error:
        raise ZooError(f"{where}: malformed statistics ({one_line(error)})") from None
    if mean.shape != var.shape or not (np.isfinite(mean).all() and np.isfinite(var).all() and (var >= 0).all()):
        raise ZooError(f"{where}: mean and var must be finite arrays of one shape, var >= 0")
    if not count > 0:
        raise ZooError(f"{where}: count must be positive, got {count}")
    rms = RunningMeanStd(shape=mean.shape)
    rms.mean, rms.var, rms.count = mean, var, count
    return rms


def read_vecnormalize_stats(path: str | Path) -> dict[str, Any]:
    """
    Read and check a ``vecnormalize.json`` (one from the Hub may hold anything), or SB3's ``vecnormalize.pkl``
    through the restricted unpickler of :mod:`pgzoo.zoo.safe_pickle`.

    :param path: The file; a ``.pkl`` suffix means SB3's pickle.
    :return: Its settings, with ``obs_rms`` / ``ret_rms`` as ``RunningMeanStd`` (or a dict of them, or ``None``).
    :raises ZooError: When it is not statistics :func:`save_vecnormalize_stats` could have written.
    """
    where = str(path)
    if Path(path).suffix == ".pkl":
        from pgzoo.zoo.safe_pickle import read_pickled_vecnormalize

        return check_vecnormalize_stats(read_pickled_vecnormalize(path), where)
    try:
        size = Path(path).stat().st_size
        if size > _MAX_STATS_BYTES:
            raise ZooError(f"{where}: {size} bytes, more than normalization statistics take ({_MAX_STATS_BYTES})")
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError, RecursionError) as error:
        raise ZooError(f"{where}: not a readable JSON file ({one_line(error)})") from None
    return check_vecnormalize_stats(data, where)


def check_vecnormalize_stats(data: Any, where: str) -> dict[str, Any]:
    """
    Check statistics in the format of ``vecnormalize.json`` (read from that file, or from a pickle).

    :param data: The decoded content.
    :param where: How error messages name the file.
    :return: Its settings, with ``obs_rms`` / ``ret_rms`` as ``RunningMeanStd`` (or a dict of them, or ``None``).
    :raises ZooError: When it is not statistics :func:`save_vecnormalize_stats` could have written.
    """
    if not isinstance(data, dict):
        raise ZooError(f"{where}: expected a JSON object of normalization statistics")
    stats: dict[str, Any] = {
        "obs_rms": None if data.get("obs_rms") is None else _rms_from_dict(data["obs_rms"], f"{where}: obs_rms"),
        "ret_rms": _rms_from_dict(data.get("ret_rms"), f"{where}: ret_rms"),
    }
    for key in ("norm_obs", "norm_reward"):
        if not isinstance(data.get(key), bool):
            raise ZooError(f"{where}: {key} must be true or false, got {data.get(key)!r}")
        stats[key] = data[key]
    for key in ("clip_obs", "clip_reward", "gamma", "epsilon"):
        value = data.get(key)
        # A clip may be infinite (no clipping); every other value must be a finite number.
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise ZooError(f"{where}: {key} must be a number >= 0, got {value!r}")
        if math.isinf(value) and not key.startswith("clip_"):
            raise ZooError(f"{where}: {key} must be finite, got {value!r}")
        stats[key] = float(value)
    return stats


def save_vecnormalize_stats(env: VecNormalize, path: str | Path) -> None:
    """
    Write ``env``'s normalization statistics and settings as JSON (atomically), loadable without unpickling.

    :param env: The training ``VecNormalize``.
    :param path: Target ``vecnormalize.json``.
    """
    data = {
        "format": "pgzoo-vecnormalize-1",
        "obs_rms": _rms_to_dict(env.obs_rms) if env.norm_obs else None,
        "ret_rms": _rms_to_dict(env.ret_rms),
        "norm_obs": bool(env.norm_obs),
        "norm_reward": bool(env.norm_reward),
        "norm_obs_keys": list(env.norm_obs_keys or []) or None,
        "clip_obs": float(env.clip_obs),
        "clip_reward": float(env.clip_reward),
        "gamma": float(env.gamma),
        "epsilon": float(env.epsilon),
    }
    atomic_write_text(Path(path), json.dumps(data, indent=1))


def load_vecnormalize_stats(env: VecNormalize, path: str | Path) -> None:
    """
    Load statistics written by :func:`save_vecnormalize_stats` into ``env`` (plain JSON, no pickle).

    :param env: A ``VecNormalize`` around an env with the same observation space.
    :param path: The ``vecnormalize.json`` file (or a ``vecnormalize.pkl``: see :func:`read_vecnormalize_stats`).
    """
    stats = read_vecnormalize_stats(path)
    if stats["obs_rms"] is not None:
        current = getattr(env, "obs_rms", None)  # none when the env does not normalize observations
        expected = None if current is None else _rms_shapes(current)
        if _rms_shapes(stats["obs_rms"]) != expected:
            raise ZooError(
                f"{path}: statistics of observations shaped {_rms_shapes(stats['obs_rms'])}, but the env's are {expected}"
            )
        env.obs_rms = stats["obs_rms"]
    env.ret_rms = stats["ret_rms"]
    env.norm_obs, env.norm_reward = stats["norm_obs"], stats["norm_reward"]
    env.clip_obs, env.clip_reward = stats["clip_obs"], stats["clip_reward"]
    env.gamma, env.epsilon = stats["gamma"], stats["epsilon"]


def _rms_shapes(rms: Any) -> Any:
    return {key: value.mean.shape for key, value in rms.items()} if isinstance(rms, dict) else rms.mean.shape

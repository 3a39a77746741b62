"""
Reading rl-zoo3 style hyperparameter files and turning an env's entry into constructor arguments.

A file maps env ids to entries such as::

    CartPole-v1:
      n_envs: 8
      n_timesteps: !!float 1e5
      policy: MlpPolicy
      learning_rate: lin_0.001          # linear schedule from 0.001 down to 0
      policy_kwargs: "dict(net_arch=[64, 64], activation_fn=nn.Tanh)"
      normalize: "dict(norm_obs=True, norm_reward=False)"   # or true / false
      env_wrapper: gymnasium.wrappers.TimeAwareObservation  # or a list of {dotted.path: {kwargs}}
      frame_stack: 4
      noise_type: normal                # off-policy algorithms: normal | ornstein-uhlenbeck
      noise_std: 0.1
      callback: my_package.callbacks.MyCallback
      env_kwargs: {continuous: true}

The zoo keys (``n_envs``, ``n_timesteps``, ``policy``, ``normalize``, ``env_wrapper``, ``frame_stack``,
``noise_type``, ``noise_std``, ``callback``, ``env_kwargs``, ``tuning_seeds``) are consumed here; every other key goes
to the algorithm's constructor. ``tuning_seeds`` lists the seeds that were looked at to choose the entry (by hand or by
``pgzoo tune``): the benchmark reports other seeds (see :mod:`pgzoo.zoo.benchmark.scoring`). Python-looking strings are
parsed by :func:`pgzoo.zoo.safe_eval.safe_eval`, never ``eval``.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.resources
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pgzoo.common.noise import NOISE_TYPES
from pgzoo.zoo.errors import HyperparamsError, MissingEntryError, UnsafeValueError, UntrustedClassError
from pgzoo.zoo.safe_eval import safe_eval

#: Keys handled by the zoo rather than passed to the algorithm.
ZOO_KEYS = (
    "n_envs",
    "n_timesteps",
    "policy",
    "normalize",
    "env_wrapper",
    "frame_stack",
    "noise_type",
    "noise_std",
    "callback",
    "env_kwargs",
    "tuning_seeds",
)

#: What ``env_wrapper`` / ``callback`` of a file that is not trusted (one that came from the Hub) may name: classes
#: that neither write files nor run anything else (a Monitor or a video recorder given a path would write wherever
#: the file says, and importing an arbitrary module runs its code). Anything else needs ``--trust-remote-code``.
UNTRUSTED_ALLOWED_CLASSES = {
    "env_wrapper": frozenset(
        [f"gymnasium.wrappers.{name}" for name in (
            "TimeLimit", "ClipAction", "RescaleAction", "FlattenObservation", "FrameStackObservation",
            "GrayscaleObservation", "ResizeObservation", "NormalizeObservation", "NormalizeReward", "ClipReward",
            "TimeAwareObservation", "MaxAndSkipObservation", "AtariPreprocessing", "DtypeObservation",
            "RecordEpisodeStatistics", "StickyAction", "FilterObservation", "ReshapeObservation",
        )]
        + ["sb3_contrib.common.wrappers.TimeFeatureWrapper", "stable_baselines3.common.atari_wrappers.AtariWrapper"]
    ),
    "callback": frozenset(
        f"stable_baselines3.common.callbacks.{name}" for name in ("StopTrainingOnMaxEpisodes", "ProgressBarCallback")
    ),
}  # fmt: skip


class _ConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that also reads rl-zoo3's ``config.yml`` (an ``OrderedDict`` dumped as a python tag)."""


def _construct_ordered_dict(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    # rl-zoo3 writes `!!python/object/apply:collections.OrderedDict` followed by a list of [key, value] pairs.
    # Only the pairs are read; no Python object is constructed.
    problem = "expected the list of [key, value] pairs rl-zoo3 writes"
    if not isinstance(node, yaml.SequenceNode):
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
    try:
        (pairs,) = loader.construct_sequence(node, deep=True)
        return dict(pairs)
    except (TypeError, ValueError):
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


_ConfigLoader.add_constructor("tag:yaml.org,2002:python/object/apply:collections.OrderedDict", _construct_ordered_dict)


def load_yaml(path: str | Path) -> Any:
    """
    Read a YAML file safely (no Python object construction), accepting rl-zoo3's OrderedDict config files.

    :param path: File to read.
    :raises HyperparamsError: When the file is missing, larger than :data:`MAX_YAML_BYTES` or not valid YAML.
    """
    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_YAML_BYTES:
            raise HyperparamsError(f"{path} is {path.stat().st_size} bytes, more than a hyperparameter file holds")
        text = path.read_text()
    except FileNotFoundError:
        raise HyperparamsError(f"hyperparameter file {path} does not exist") from None
    except OSError as error:  # a folder, no permission
        raise HyperparamsError(f"cannot read the hyperparameter file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise HyperparamsError(f"hyperparameter file {path} is not a text (YAML) file") from None
    try:
        content = yaml.load(text, Loader=_ConfigLoader)  # _ConfigLoader derives from SafeLoader
    except yaml.YAMLError as error:
        raise HyperparamsError(f"malformed YAML in {path}: {error}".replace("\n", " ")) from None
    except RecursionError:
        raise HyperparamsError(f"malformed YAML in {path}: nested too deeply") from None
    _check_expanded_size(content, path)
    return content


#: Largest YAML file read (the packaged ones are a few kB; one from the Hub could be gigabytes).
MAX_YAML_BYTES = 16 * 2**20

#: Most frames ``frame_stack`` (or a wrapper's ``stack_size``) may stack (Atari agents stack 4).
MAX_FRAME_STACK = 1000
#: Most envs one process steps (``n_envs``, A3C's ``n_envs_per_worker``): each is a whole env (rl-zoo3's largest use 64).
MAX_ENVS = 1024
#: Most A3C worker processes.
MAX_WORKERS = 256
#: Most steps of one rollout (``n_steps``): the rollout buffer holds ``n_steps * n_envs`` observations.
MAX_ROLLOUT_STEPS = 1_000_000
#: Largest side of an image a wrapper is asked to make (``screen_size``, ``shape``); Atari's are 84 or 210.
MAX_IMAGE_SIDE = 4096

#: Bounds (inclusive; ``None``: no upper bound) of the entry's values that size something: checked before anything is
#: built, since a few bytes of a file (one from the Hub, say) could ask for millions of envs or processes, and a
#: zero would only fail deep inside training.
SIZE_BOUNDS: dict[str, tuple[int, int | None]] = {
    "n_envs": (0, MAX_ENVS),  # 0 is taken as 1
    "n_envs_per_worker": (1, MAX_ENVS),
    "n_workers": (1, MAX_WORKERS),
    "frame_stack": (0, MAX_FRAME_STACK),  # 0 (or false): no stacking
    "n_steps": (1, MAX_ROLLOUT_STEPS),
    "batch_size": (1, None),
    "n_epochs": (1, None),
    "n_episodes": (1, None),
}

#: Upper bounds of the arguments of ``env_wrapper`` classes that size buffers or images (the allow-listed
#: ``FrameStackObservation``, ``ResizeObservation``, ``AtariWrapper``...): the same limits as the entry's own keys.
WRAPPER_ARG_LIMITS: dict[str, int] = {
    "stack_size": MAX_FRAME_STACK,
    "n_stack": MAX_FRAME_STACK,
    "num_stack": MAX_FRAME_STACK,
    "frame_skip": MAX_FRAME_STACK,
    "skip": MAX_FRAME_STACK,
    "noop_max": MAX_FRAME_STACK,
    "screen_size": MAX_IMAGE_SIDE,
    "shape": MAX_IMAGE_SIDE,
}

#: Values a YAML file may hold once its aliases are expanded. A zoo file holds a few hundred; nested aliases (each
#: repeating the previous one several times: an "alias bomb", say in a downloaded config.yml) reach billions from
#: a few lines, which saving or copying the entry would then expand in memory.
MAX_YAML_VALUES = 1_000_000


def _check_expanded_size(content: Any, path: Path) -> None:
    pending, count = [content], 0
    while pending:
        value = pending.pop()
        count += 1
        if count > MAX_YAML_VALUES:
            raise HyperparamsError(f"{path} expands to more than {MAX_YAML_VALUES} values (nested YAML aliases?)")
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def packaged_hyperparams_dir() -> Path:
    """
    Return the folder holding the packaged ``<algo>.yml`` files.

    It is the ``pgzoo.hyperparams`` package (the repository's top-level ``hyperparams/``, shipped in the wheel);
    when that package cannot be resolved (e.g. an unusual install), the repository's folder next to ``pgzoo/``.
    """
    try:
        folder = importlib.resources.files("pgzoo.hyperparams")
        path = Path(str(folder))
        if path.is_dir():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "hyperparams"


def hyperparams_file(algo: str, file: str | Path | None = None) -> Path:
    """
    Return the hyperparameter file to use for ``algo``.

    :param algo: Registry name of the algorithm.
    :param file: A file given by the user (``--hyperparams``); wins over the packaged one.
    :raises HyperparamsError: When no file is given and none is packaged for ``algo``.
    """
    if file is not None:
        return Path(file)
    path = packaged_hyperparams_dir() / f"{algo}.yml"
    if not path.is_file():
        shipped = sorted(p.stem for p in packaged_hyperparams_dir().glob("*.yml"))
        raise HyperparamsError(
            f"no packaged hyperparameters for {algo!r} (packaged: {', '.join(shipped)}); "
            "pass a rl-zoo3 style file with --hyperparams FILE"
        )
    return path


def is_atari(env_id: str) -> bool:
    """
    Whether ``env_id`` is one of ale-py's Atari envs.

    :param env_id: A registered env id.
    """
    try:
        import gymnasium as gym

        entry_point = str(gym.spec(env_id).entry_point)
    except Exception:
        return False
    return "AtariEnv" in entry_point or "ale_py" in entry_point


def get_env_hyperparams(algo: str, env_id: str, file: str | Path | None = None) -> tuple[dict[str, Any], Path]:
    """
    Read the entry for ``env_id`` from the algorithm's hyperparameter file.

    Like rl-zoo3, an Atari env without its own entry uses the file's ``atari`` entry.

    :param algo: Registry name of the algorithm.
    :param env_id: Gymnasium env id.
    :param file: Optional file given by the user.
    :return: A copy of the entry, and the file it came from.
    :raises HyperparamsError: When the file is missing or malformed (:class:`MissingEntryError` when it has no entry
        for ``env_id``).
    """
    path = hyperparams_file(algo, file)
    content = load_yaml(path)
    if not isinstance(content, dict):
        raise HyperparamsError(f"malformed hyperparameter file {path}: expected a mapping of env ids to entries")
    key = env_id if env_id in content else ("atari" if "atari" in content and is_atari(env_id) else None)
    if key is None:
        envs = sorted(str(k) for k in content)
        close = difflib.get_close_matches(env_id, envs, n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise MissingEntryError(
            f"{env_id!r} has no entry in {path}.{hint} Envs in that file: {', '.join(envs) or '(none)'}; "
            "add an entry or pass --hyperparams FILE"
        )
    entry = content[key] or {}
    if not isinstance(entry, dict):
        raise HyperparamsError(f"malformed entry {key!r} in {path}: expected a mapping of hyperparameters")
    return dict(entry), path


def parse_override(item: str) -> tuple[str, Any]:
    """
    Parse one ``-params key:value`` override.

    The value is read with the restricted evaluator (so ``n_timesteps:300``, ``gamma:0.9``,
    ``policy_kwargs:dict(net_arch=[32])`` work); when that fails it stays a string (``learning_rate:lin_1e-3``).

    :param item: The ``key:value`` text.
    :raises HyperparamsError: When there is no ``:``.
    """
    key, sep, value = item.partition(":")
    if not sep or not key:
        raise HyperparamsError(f"bad hyperparameter override {item!r}: expected key:value, e.g. n_timesteps:10000")
    try:
        return key.strip(), safe_eval(value, what=f"override {key}")
    except UnsafeValueError:
        return key.strip(), value


def parse_overrides(items: list[str] | None) -> dict[str, Any]:
    """Parse a list of ``key:value`` overrides (see :func:`parse_override`) into a dict."""
    return dict(parse_override(item) for item in items or [])


class LinearSchedule:
    """
    Learning-rate style schedule going linearly from ``initial`` (start of training) to 0 (end).

    A module-level class (not a closure) so that SB3 can save it with the model.

    :param initial: Value at the start of training.
    """

    def __init__(self, initial: float) -> None:
        self.initial = float(initial)

    def __call__(self, progress_remaining: float) -> float:
        """:param progress_remaining: 1 at the start of training, 0 at the end."""
        return progress_remaining * self.initial

    def __repr__(self) -> str:
        return f"LinearSchedule({self.initial})"


@dataclass
class ZooConfig:
    """
    An env entry split into what the zoo does with it.

    :param policy: Policy name (``"MlpPolicy"``...).
    :param n_timesteps: Training budget.
    :param n_envs: Number of parallel training envs.
    :param normalize_kwargs: ``VecNormalize`` arguments, or ``None`` for no normalization.
    :param wrappers: Gymnasium wrappers to apply to each env, as (class, kwargs), innermost first.
    :param frame_stack: Number of frames to stack, or ``None``.
    :param env_kwargs: Keyword arguments for ``gym.make``.
    :param callbacks: Extra training callbacks, as (class, kwargs).
    :param noise_type: Action noise type for off-policy algorithms, or ``None``.
    :param noise_std: Action noise standard deviation.
    :param tuning_seeds: Seeds used to choose the entry; results on them are not held-out results.
    :param model_kwargs: Everything else, ready for the algorithm's constructor.
    """

    policy: str = "MlpPolicy"
    n_timesteps: int = 0
    n_envs: int = 1
    normalize_kwargs: dict[str, Any] | None = None
    wrappers: list[tuple[type, dict[str, Any]]] = field(default_factory=list)
    frame_stack: int | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    callbacks: list[tuple[type, dict[str, Any]]] = field(default_factory=list)
    noise_type: str | None = None
    noise_std: float = 0.0
    tuning_seeds: tuple[int, ...] = ()
    model_kwargs: dict[str, Any] = field(default_factory=dict)


def import_dotted(path: str, *, allowed: frozenset[str] | None, what: str) -> Any:
    """
    Import ``package.module.Name`` named in a hyperparameter file.

    :param path: Dotted path.
    :param allowed: For a file that is not trusted (from the Hub), the only paths it may name (see
        :data:`UNTRUSTED_ALLOWED_CLASSES`); ``None``: any.
    :param what: Description of the value, for errors.
    :raises HyperparamsError: When the path is refused or cannot be imported.
    """
    refused = UntrustedClassError(
        f"{what}: {path!r} is not among the classes a downloaded file may name ({', '.join(sorted(allowed or ()))}); "
        "this file is not trusted, pass --trust-remote-code (trust_remote_code=True) to allow it"
    )
    # Another path to an allowed class (its defining module, say) is fine; importing modules of these libraries
    # runs nothing but their own code.
    if allowed is not None and path not in allowed and not path.startswith(_LIBRARIES):
        raise refused
    cls = _import_path(path, what)
    if allowed is not None and path not in allowed and cls not in {_import_path(name, what) for name in allowed}:
        raise refused
    return cls


#: Libraries whose modules a downloaded file may make pgzoo import (to find an allowed class by another path).
_LIBRARIES = ("gymnasium.", "stable_baselines3.", "sb3_contrib.")


def _import_path(path: str, what: str) -> Any:
    module_name, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as error:
        raise HyperparamsError(f"{what}: cannot import {path!r}: {error}") from None


def _parse_class_list(value: Any, *, key: str, trust_imports: bool, what: str) -> list[tuple[type, dict[str, Any]]]:
    """Read ``env_wrapper`` / ``callback`` (``key``): a dotted path, a {path: kwargs} dict, or a list of either."""
    if value is None:
        return []
    allowed = None if trust_imports else UNTRUSTED_ALLOWED_CLASSES[key]
    items = value if isinstance(value, list) else [value]
    result: list[tuple[type, dict[str, Any]]] = []
    for item in items:
        if isinstance(item, str):
            result.append((import_dotted(item, allowed=allowed, what=what), {}))
        elif isinstance(item, dict) and len(item) == 1:
            ((path, kwargs),) = item.items()
            if isinstance(kwargs, str):
                kwargs = safe_eval(kwargs, what=what)
            if not isinstance(kwargs, dict | None):
                raise HyperparamsError(f"{what}: the arguments of {path!r} must be a mapping, got {kwargs!r}")
            if key == "env_wrapper":
                _check_wrapper_args(kwargs or {}, str(path), what)
            result.append((import_dotted(str(path), allowed=allowed, what=what), kwargs or {}))
        else:
            raise HyperparamsError(f"{what}: expected a dotted class path or {{path: kwargs}}, got {item!r}")
    return result


def _check_wrapper_args(kwargs: dict[str, Any], path: str, what: str) -> None:
    """Refuse a wrapper argument of :data:`WRAPPER_ARG_LIMITS` above its limit (a number or a list of numbers)."""
    for name, limit in WRAPPER_ARG_LIMITS.items():
        value = kwargs.get(name)
        numbers = value if isinstance(value, list | tuple) else [value]
        too_big = [n for n in numbers if isinstance(n, int | float) and not isinstance(n, bool) and not n <= limit]
        if too_big:
            raise HyperparamsError(f"{what}: {name} of {path} must be at most {limit}, got {value!r}")


def _check_size_bounds(raw: dict[str, Any], where: str) -> None:
    """
    Check (and turn into ``int``) the values of :data:`SIZE_BOUNDS` that ``raw`` holds.

    :param raw: The entry; changed in place.
    :param where: Where it comes from, for errors.
    :raises HyperparamsError: When one is not an integer within its bounds.
    """
    for key, (low, high) in SIZE_BOUNDS.items():
        if raw.get(key) is None or raw[key] is False:
            continue
        value = _to_int(raw[key], key, where)
        if value < low:
            raise HyperparamsError(f"{key} in {where} must be at least {low}, got {value}")
        if high is not None and value > high:
            raise HyperparamsError(f"{key} in {where} must be at most {high}, got {value}")
        raw[key] = value


def _to_int(value: Any, key: str, where: str) -> int:
    if isinstance(value, str):
        value = safe_eval(value, what=f"{key} in {where}")
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or int(value) != value
    ):
        raise HyperparamsError(f"{key} in {where} must be a non-negative integer, got {value!r}")
    return int(value)


def _to_float(value: Any, key: str, where: str) -> float:
    # A string is what `-params key:abc` leaves when the value is no Python literal; "0.1" (quoted in YAML) is fine.
    if not isinstance(value, bool) and isinstance(value, int | float | str):
        with contextlib.suppress(ValueError):
            return float(value)
    raise HyperparamsError(f"{key} in {where} must be a number, got {value!r}")


def parse_tuning_seeds(value: Any, where: str) -> tuple[int, ...]:
    """
    Read an entry's ``tuning_seeds``: a list of seeds, or ``None`` for an entry that records none.

    :param value: The entry's value.
    :param where: Where the entry comes from, for errors.
    :raises HyperparamsError: When it is not a list of non-negative integers.
    """
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise HyperparamsError(f"tuning_seeds in {where} must be a list of seeds, e.g. [0, 1, 2], got {value!r}")
    return tuple(sorted({_to_int(seed, "tuning_seeds", where) for seed in value}))


def _check_normalize_kwargs(normalize_kwargs: dict[str, Any], where: str) -> None:
    """Refuse a ``normalize`` dict with a key ``VecNormalize`` does not take, before any folder or env is made."""
    from stable_baselines3.common.vec_env import VecNormalize

    from pgzoo.zoo.algos import init_parameters

    # The zoo passes the env and the training flag itself.
    accepted = sorted(init_parameters(VecNormalize) - {"self", "venv", "training"})
    unknown = [str(key) for key in normalize_kwargs if key not in accepted]
    if unknown:
        raise HyperparamsError(
            f"normalize in {where}: unknown VecNormalize argument(s) {', '.join(map(repr, unknown))}; "
            f"accepted: {', '.join(accepted)}"
        )


def preprocess_hyperparams(raw: dict[str, Any], *, where: str = "hyperparameters", trust_imports: bool = True) -> ZooConfig:
    """
    Split an env entry into a :class:`ZooConfig`, parsing schedules, strings and class paths.

    :param raw: The entry (after ``-params`` overrides).
    :param where: Where the entry comes from (e.g. ``"CartPole-v1 in hyperparams/a2c.yml"``), for errors.
    :param trust_imports: Whether ``env_wrapper`` / ``callback`` may name any class; ``False`` for a file from the
        Hub: only :data:`UNTRUSTED_ALLOWED_CLASSES`.
    :raises HyperparamsError: On a value the zoo cannot use.
    """
    raw = dict(raw)
    if not all(isinstance(key, str) for key in raw):
        raise HyperparamsError(f"{where}: every key must be a name, got {[k for k in raw if not isinstance(k, str)]}")
    _check_size_bounds(raw, where)
    config = ZooConfig()
    config.policy = str(raw.pop("policy", "MlpPolicy"))
    config.n_timesteps = _to_int(raw.pop("n_timesteps", 0), "n_timesteps", where)
    config.n_envs = max(_to_int(raw.pop("n_envs", 1), "n_envs", where), 1)

    normalize = raw.pop("normalize", False)
    if isinstance(normalize, str):
        normalize = safe_eval(normalize, what=f"normalize in {where}")
    if normalize is True:
        config.normalize_kwargs = {}
    elif isinstance(normalize, dict):
        _check_normalize_kwargs(normalize, where)
        config.normalize_kwargs = dict(normalize)
    elif normalize not in (False, None):
        raise HyperparamsError(f"normalize in {where} must be a bool or a dict of VecNormalize arguments")
    if config.normalize_kwargs is not None and "gamma" in raw and "gamma" not in config.normalize_kwargs:
        # The return normalization must discount like the agent does.
        config.normalize_kwargs["gamma"] = raw["gamma"]

    config.wrappers, config.callbacks = (
        _parse_class_list(raw.pop(key, None), key=key, trust_imports=trust_imports, what=f"{key} in {where}")
        for key in ("env_wrapper", "callback")
    )
    frame_stack = raw.pop("frame_stack", None)
    config.frame_stack = frame_stack if frame_stack not in (None, False) else None  # bounded by SIZE_BOUNDS

    env_kwargs = raw.pop("env_kwargs", None) or {}
    if isinstance(env_kwargs, str):
        env_kwargs = safe_eval(env_kwargs, what=f"env_kwargs in {where}")
    if not isinstance(env_kwargs, dict):
        raise HyperparamsError(f"env_kwargs in {where} must be a mapping, got {env_kwargs!r}")
    config.env_kwargs = env_kwargs

    noise_type = raw.pop("noise_type", None)
    config.noise_std = _to_float(raw.pop("noise_std", 0.0), "noise_std", where)
    if noise_type is not None:
        noise_type = str(noise_type).lower()
        if noise_type not in NOISE_TYPES:
            expected = " or ".join(repr(name) for name in NOISE_TYPES)
            raise HyperparamsError(f"noise_type in {where} must be {expected}, got {noise_type!r}")
    config.noise_type = noise_type
    config.tuning_seeds = parse_tuning_seeds(raw.pop("tuning_seeds", None), where)

    for key, value in raw.items():
        if isinstance(value, str) and value.startswith("lin_"):
            try:
                value = LinearSchedule(float(value[len("lin_") :]))
            except ValueError:
                raise HyperparamsError(f"{key} in {where}: bad linear schedule {value!r}, expected e.g. lin_0.001") from None
        elif key.endswith("_kwargs") and isinstance(value, str):
            value = safe_eval(value, what=f"{key} in {where}")
        elif key == "train_freq" and isinstance(value, list):
            value = tuple(value)  # SB3 wants (frequency, unit)
        config.model_kwargs[key] = value
    if isinstance(config.model_kwargs.get("policy_kwargs"), dict):
        _check_policy_kwargs(config.model_kwargs["policy_kwargs"], where)
    return config


def _check_policy_kwargs(policy_kwargs: dict[str, Any], where: str) -> None:
    """Resolve class names given as plain strings (``activation_fn: nn.ReLU`` in YAML without quotes)."""
    from pgzoo.zoo.safe_eval import resolve_class_name

    for key in ("activation_fn", "optimizer_class", "features_extractor_class"):
        value = policy_kwargs.get(key)
        if isinstance(value, str):
            cls = resolve_class_name(value)
            if cls is None:
                raise UnsafeValueError(f"policy_kwargs.{key} in {where}: {value!r} is not an allowed class name")
            policy_kwargs[key] = cls


def to_saveable(raw: dict[str, Any]) -> dict[str, Any]:
    """
    Return ``raw`` with values YAML can write safely (classes as ``nn.Tanh``-style names, tuples as lists).

    Used for ``config.yml`` so that the saved file can be read back by :func:`preprocess_hyperparams`.
    """

    def convert(value: Any) -> Any:
        if isinstance(value, type):
            module = value.__module__
            prefix = "nn." if module.startswith("torch.nn") else "th.optim." if module.startswith("torch.optim") else ""
            return prefix + value.__name__
        if isinstance(value, dict):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [convert(v) for v in value]
        if isinstance(value, LinearSchedule):
            return f"lin_{value.initial}"
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return str(value)

    return {key: convert(raw[key]) for key in sorted(raw)}


@dataclass(frozen=True)
class Entry:
    """
    An env's entry of a hyperparameter file, ready to train: what :func:`load_entry` returns.

    :param raw: The entry as in the file, overrides and options applied (what a run's ``config.yml`` records).
    :param config: ``raw`` processed.
    :param source: The file it came from.
    :param where: Where it came from, for messages (``CartPole-v1 in a2c.yml``, `` with the overrides`` when any).
    """

    raw: dict[str, Any]
    config: ZooConfig
    source: Path
    where: str


def load_entry(
    algo: str,
    env_id: str,
    file: str | Path | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    budget_hint: str = "pass --n-timesteps",
) -> Entry:
    """
    Read ``env_id``'s entry for ``algo``, apply the overrides, process it and check that it has a training budget.

    :param algo: Registry name of the algorithm.
    :param env_id: Gymnasium env id.
    :param file: The user's file, or ``None`` for the packaged ``<algo>.yml``.
    :param overrides: Hyperparameters given on top of the entry (``-params``).
    :param options: Values of command options, applied last (``{"n_timesteps": 1000}`` for ``--n-timesteps``);
        ``None`` values are skipped.
    :param budget_hint: How the user gives a budget, for the error when the entry has none.
    :return: The :class:`Entry`.
    :raises HyperparamsError: When the file or the entry is bad, or no ``n_timesteps`` is given.
    """
    raw, source = get_env_hyperparams(algo, env_id, file)
    raw.update(overrides or {})
    raw.update({key: value for key, value in (options or {}).items() if value is not None})
    where = f"{env_id} in {source}" + (" with the overrides" if overrides else "")
    config = preprocess_hyperparams(raw, where=where)
    if config.n_timesteps <= 0:
        raise HyperparamsError(f"{where} has no n_timesteps: {budget_hint}")
    return Entry(raw=raw, config=config, source=source, where=where)

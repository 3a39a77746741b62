"""
Loading SB3 model zips without unpickling.

An SB3 ``.zip`` holds ``data`` (JSON, where objects JSON cannot represent are cloudpickled into base64 blobs
under a ``":serialized:"`` key), ``policy.pth`` / ``policy.optimizer.pth`` / ``pytorch_variables.pth`` (torch
tensors) and version files. ``BaseAlgorithm.load`` unpickles the blobs, which runs any code a malicious file holds.

:func:`load_model_safely` rebuilds the model instead:

1. read the JSON and keep only plain values, never decoding a ``":serialized:"`` blob;
2. take the spaces from the env (made from the env id), checking that the saved shapes match;
3. rebuild ``policy_kwargs`` from the plain parts SB3 stores next to the blob (class names such as
   ``"<class 'torch.nn.modules.activation.Tanh'>"`` are resolved only against the allow-list of
   :mod:`pgzoo.zoo.safe_eval`), falling back to the run's ``config.yml``;
4. create the model with the algorithm class, then load the tensors with ``torch.load(..., weights_only=True)``.

Anything that cannot be rebuilt this way raises :class:`~pgzoo.zoo.errors.UnsafeModelError`, which says to pass
``trust_remote_code=True`` (``--trust-remote-code``) to fall back to SB3's pickle-based ``load``.
"""

from __future__ import annotations

import io
import itertools
import json
import pickle
import zipfile
import zlib
from pathlib import Path
from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv

from pgzoo.zoo.errors import UnsafeModelError, ZooError, one_line
from pgzoo.zoo.safe_eval import resolve_class_name
from pgzoo.zoo.sb3_compat import (
    describe_error,
    fix_policy_kwargs,
    restore_sde_kwargs,
    sb3_observation_space,
    set_parameters_compat,
)

_HOW_TO_TRUST = "pass --trust-remote-code (or trust_remote_code=True) only if you trust the source of this file"

#: Largest uncompressed ``data`` entry read (a model's is a few kB; a zip can inflate a small file to gigabytes).
MAX_DATA_BYTES = 16 * 2**20
#: Most bytes of weights read from one model zip, all its tensor files together.
MAX_WEIGHTS_BYTES = 2 * 2**30
#: Most a zip's entries may inflate, all together: trained weights hardly compress, while a file of zeros compresses a
#: thousandfold (a few kB asking for gigabytes). Below ``_SMALL_BYTES`` any ratio is fine (fresh zero-filled states).
MAX_COMPRESSION_RATIO = 100
_SMALL_BYTES = 16 * 2**20

# Attributes never copied from the saved data: they come from the env and the current process.
_NOT_RESTORED = {
    "n_envs",
    "device",
    "env",
    "policy_kwargs",
    "observation_space",
    "action_space",
    "policy_class",
    "_vec_normalize_env",
    "tensorboard_log",
    "verbose",
}


def _is_serialized(value: Any) -> bool:
    return isinstance(value, dict) and ":serialized:" in value


def read_zip_data(path: str | Path, *, name: str | None = None) -> dict[str, Any]:
    """
    Return the JSON ``data`` of an SB3 zip, without decoding any pickled entry.

    :param path: The model zip.
    :param name: How error messages call the file (default: its path), e.g. a file of a Hub repository.
    :raises ZooError: When the file is not an SB3 model zip.
    """
    name = name or str(path)
    opened = False
    try:
        with zipfile.ZipFile(path) as archive:
            opened = True
            _check_complete(archive, name)
            if "data" not in archive.namelist():
                raise ZooError(f"{name} is not a Stable-Baselines3 model zip (no 'data' entry)")
            _check_member_size(archive, "data", MAX_DATA_BYTES, name)
            data = json.loads(archive.read("data").decode())
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        if not opened:
            raise ZooError(f"{name} is not a zip file") from None
        raise ZooError(f"{name} is damaged: {one_line(error)}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise ZooError(f"{name}: the 'data' entry is not JSON a model saves: {one_line(error)}") from None
    if not isinstance(data, dict):
        raise ZooError(f"{name}: the 'data' entry is not a JSON object")
    return data


def _restore_policy_kwargs(data: dict[str, Any], config_kwargs: dict[str, Any] | None, path: Path) -> dict[str, Any]:
    """Rebuild ``policy_kwargs`` from the plain parts of the saved data (see module docstring)."""
    saved = data.get("policy_kwargs") or {}
    if not _is_serialized(saved):
        return dict(saved)
    result: dict[str, Any] = {}
    for key, value in saved.items():
        if key.startswith(":"):
            continue
        if isinstance(value, str) and value.startswith("<"):
            # SB3 wrote str(obj) for a value JSON cannot hold: a class (resolvable) or an instance (not).
            cls = resolve_class_name(value)
            if cls is None and config_kwargs is not None and isinstance(config_kwargs.get(key), type):
                cls = config_kwargs[key]
            if cls is None:
                raise UnsafeModelError(
                    f"{path}: policy_kwargs[{key!r}] is {value}, which only exists as pickled code in the file; "
                    f"pgzoo does not unpickle models by default. {_HOW_TO_TRUST}"
                )
            result[key] = cls
        else:
            result[key] = value
    return result


def _check_space(name: str, saved: Any, actual: spaces.Space, path: Path) -> None:
    """Compare the plain ``shape`` SB3 stores next to a pickled space with the env's space."""
    if not isinstance(saved, dict):
        return
    shape = saved.get("_shape", saved.get("shape"))
    if isinstance(shape, list) and actual.shape is not None and tuple(shape) != tuple(actual.shape):
        raise ZooError(f"{path}: the model's {name} has shape {tuple(shape)} but the env's is {actual.shape}")
    n = saved.get("n")
    if isinstance(actual, spaces.Discrete) and isinstance(n, int) and n != int(actual.n):
        raise ZooError(f"{path}: the model's {name} has {n} actions but the env's has {actual.n}")


def check_saved_spaces(data: dict[str, Any], env: VecEnv, path: str | Path) -> None:
    """
    Check the plain shapes a model zip stores next to its pickled spaces against ``env``'s spaces (images as SB3
    sees them: channels first).

    :param data: The zip's data (:func:`read_zip_data`).
    :param env: The env the model will act in.
    :param path: The model file, for error messages.
    :raises ZooError: When a shape or a number of actions differs.
    """
    _check_space("observation space", data.get("observation_space"), sb3_observation_space(env), Path(path))
    _check_space("action space", data.get("action_space"), env.action_space, Path(path))


def _guess_policy(observation_space: spaces.Space) -> str:
    if isinstance(observation_space, spaces.Dict):
        return "MultiInputPolicy"
    if isinstance(observation_space, spaces.Box) and len(observation_space.shape) == 3:
        return "CnnPolicy"
    return "MlpPolicy"


def _check_complete(archive: zipfile.ZipFile, name: str | Path) -> None:
    """
    Refuse a zip whose first entry does not start the file: a truncated model zip whose end happens to be the end of
    a zip inside it (``policy.pth`` is one) reads as that inner zip, with the rest taken for bytes put in front.
    """
    infos = archive.infolist()
    if infos and min(info.header_offset for info in infos) > 0:
        raise ZooError(f"{name} is truncated or damaged: its entries do not start the file (not a complete model zip)")


def _check_inflation(infos: list[zipfile.ZipInfo], what: str) -> None:
    """
    Refuse zip entries that would inflate beyond what tensors can (see :data:`MAX_COMPRESSION_RATIO`), or beyond
    :data:`MAX_WEIGHTS_BYTES`, before any is read.

    :param infos: The entries, read together.
    :param what: How the message names them (e.g. ``"model.zip: its tensor files"``).
    """
    size = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos)
    limit = min(MAX_WEIGHTS_BYTES, max(_SMALL_BYTES, MAX_COMPRESSION_RATIO * compressed))
    if size > limit:
        raise ZooError(f"{what} would unpack to {size} bytes from {compressed}, more than a model's weights hold ({limit})")


def _check_member_size(archive: zipfile.ZipFile, member: str, limit: int, name: str | Path) -> None:
    size = archive.getinfo(member).file_size
    if size > limit:
        raise ZooError(f"{name}: its {member!r} entry would unpack to {size} bytes, more than a model holds ({limit})")


def _load_tensors(archive: zipfile.ZipFile, name: str, path: Path) -> Any:
    try:
        with archive.open(name) as file:
            content = io.BytesIO(file.read())
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise ZooError(f"{path} is damaged: {one_line(error)}") from None
    _check_torch_archive(content, f"{path}: {name}")
    try:
        return th.load(content, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise UnsafeModelError(
            f"{path}: {name} holds objects other than tensors, which only unpickling (running code from the file) "
            f"could load ({one_line(error)}). {_HOW_TO_TRUST}"
        ) from None
    except Exception as error:  # a damaged torch file
        raise ZooError(f"{path}: {name} is not a file of tensors: {one_line(error)}") from None


def _check_torch_archive(content: io.BytesIO, what: str) -> None:
    """
    Check a tensor file before ``torch.load`` reads it: it must be the zip archive ``torch.save`` writes, whose
    entries unpack to no more than :func:`_check_inflation` allows (a small file could hold a zip of gigabytes).

    :param content: The file's bytes.
    :param what: How the message names it.
    """
    try:
        with zipfile.ZipFile(content) as inner:
            _check_inflation(inner.infolist(), f"{what}'s entries")
    except zipfile.BadZipFile:
        raise ZooError(f"{what} is not a file of tensors saved by torch (not torch's zip format)") from None
    finally:
        content.seek(0)


def _sizes(value: Any) -> list[int]:
    """Every integer in a ``policy_kwargs`` value (layer sizes, feature dimensions), however nested."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        return [size for item in value.values() for size in _sizes(item)]
    if isinstance(value, list | tuple):
        return [size for item in value for size in _sizes(item)]
    return []


def _check_sizes_fit(policy_kwargs: dict[str, Any], weights: dict[str, Any], path: Path) -> None:
    """
    Refuse ``policy_kwargs`` asking for a layer wider than every saved tensor, before building it: a few bytes of JSON
    can ask for a network of many gigabytes, built (and filled with random weights) before the saved ones are
    compared. Only tensors whose storage holds their data count: an expanded one can claim any shape in a few bytes.
    """
    policy = weights.get("policy")
    if not isinstance(policy, dict) or not policy or not all(isinstance(t, th.Tensor) for t in policy.values()):
        raise ZooError(f"{path}: policy.pth does not hold a policy's weights (a mapping of names to tensors)")
    stored = [t for t in policy.values() if t.untyped_storage().nbytes() >= t.numel() * t.element_size()]
    widest = max((max(t.shape, default=1) for t in stored), default=0)
    too_wide = [size for size in _sizes(policy_kwargs) if size > widest]
    if too_wide:
        raise ZooError(f"{path}: policy_kwargs asks for sizes {too_wide}, larger than any saved weight ({widest})")
    # Layers of width W each fit one tensor of W values; two in a row make a W x W matrix that must be saved too.
    asked, saved = _layer_parameters(policy_kwargs), sum(t.numel() for t in stored)
    if asked > saved:
        raise ZooError(f"{path}: policy_kwargs asks for layers of {asked} weights, more than the {saved} saved")


def _layer_parameters(value: Any) -> int:
    """
    A lower bound on the weights the layer sizes in a ``policy_kwargs`` value make: the matrices between consecutive
    sizes of each list (``net_arch=[64, 64]``, ``dict(pi=[...], vf=[...])``), however nested.
    """
    if isinstance(value, dict):
        return sum(_layer_parameters(item) for item in value.values())
    if isinstance(value, list | tuple):
        sizes = [item if isinstance(item, int) and not isinstance(item, bool) else None for item in value]
        pairs = sum(a * b for a, b in itertools.pairwise(sizes) if a is not None and b is not None and a > 0 and b > 0)
        return pairs + sum(_layer_parameters(item) for item in value if isinstance(item, dict | list | tuple))
    return 0


def load_model_safely(
    path: str | Path,
    algo_class: Any,
    env: VecEnv,
    *,
    config: dict[str, Any] | None = None,
    device: str = "auto",
) -> Any:
    """
    Rebuild a model from an SB3 zip without unpickling anything (see the module docstring).

    :param path: The model zip.
    :param algo_class: The algorithm class (e.g. ``A2C``); its ``policy_aliases`` resolve the policy name.
    :param env: The env the model will act in; its spaces replace the pickled ones.
    :param config: Processed hyperparameters of the run (``ZooConfig.model_kwargs`` plus ``policy``), used for
        the policy name and as a fallback for values only stored pickled.
    :param device: Torch device.
    :return: The model, with ``env`` set.
    :raises UnsafeModelError: When the model cannot be rebuilt without unpickling.
    """
    path = Path(path)
    data = read_zip_data(path)
    config = dict(config or {})
    policy = str(config.pop("policy", "") or _guess_policy(env.observation_space))
    if policy not in getattr(algo_class, "policy_aliases", {}):
        raise UnsafeModelError(
            f"{path}: policy {policy!r} is not one of {algo_class.__name__}'s built-in policies "
            f"({', '.join(getattr(algo_class, 'policy_aliases', {}))}); a custom policy class can only be unpickled. "
            + _HOW_TO_TRUST
        )
    check_saved_spaces(data, env, path)
    config_policy_kwargs = config.get("policy_kwargs") if isinstance(config.get("policy_kwargs"), dict) else None
    policy_kwargs = fix_policy_kwargs(_restore_policy_kwargs(data, config_policy_kwargs, path), path)

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        _check_inflation([archive.getinfo(name) for name in names if name.endswith(".pth")], f"{path}: its tensor files")
        params = {
            name[: -len(".pth")]: _load_tensors(archive, name, path)
            for name in names
            if name.endswith(".pth") and name not in ("pytorch_variables.pth", "tensors.pth")
        }
        variables = _load_tensors(archive, "pytorch_variables.pth", path) if "pytorch_variables.pth" in names else None
    _check_sizes_fit(policy_kwargs, params, path)
    try:
        return _rebuild(algo_class, policy, env, device, policy_kwargs, data, config, params, variables)
    except ZooError:
        raise
    except Exception as error:  # anything else the file's values make SB3 or torch refuse
        raise ZooError(f"{path}: cannot rebuild {algo_class.__name__} from it: {describe_error(error)}") from None


def _rebuild(
    algo_class: Any,
    policy: str,
    env: VecEnv,
    device: str,
    policy_kwargs: dict[str, Any],
    data: dict[str, Any],
    config: dict[str, Any],
    params: dict[str, Any],
    variables: Any,
) -> Any:
    """Create the model from the plain saved values, then give it the saved tensors."""
    # A copy: off-policy constructors write their default use_sde into the dict they are given.
    model = algo_class(policy, env, device=device, policy_kwargs=dict(policy_kwargs), _init_setup_model=False)
    restore_sde_kwargs(model, policy_kwargs)
    for key, value in data.items():
        if key in _NOT_RESTORED or key not in model.__dict__:
            continue
        if _is_serialized(value):
            # Only stored pickled (e.g. a schedule): the run's config gives the value, else the default stays.
            if key in config:
                setattr(model, key, config[key])
            continue
        setattr(model, key, value)
    model._setup_model()
    set_parameters_compat(model, params)
    if isinstance(variables, dict):
        _, variable_names = model._get_torch_save_params()
        for name in variable_names:
            if name in variables:
                target = model
                *parents, last = name.split(".")
                for parent in parents:
                    target = getattr(target, parent)
                getattr(target, last).data = variables[name].data.to(model.device)
    if getattr(model, "use_sde", False):
        model.policy.reset_noise()
    return model

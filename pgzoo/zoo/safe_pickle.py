"""
Reading the data-only pickles the RL Zoo publishes (``vec_normalize.pkl``) without running their code.

SB3 saves ``VecNormalize`` statistics with :func:`pickle.dump`: a ``VecNormalize`` whose state holds two
``RunningMeanStd`` (numpy arrays and a count), a few numbers and the env's spaces. ``pickle.load`` would call any
function the file names. :func:`read_pickled_vecnormalize` uses an unpickler that, in the manner of
``torch.load(weights_only=True)``, resolves only the names of :data:`ALLOWED_GLOBALS`:

* numpy arrays, dtypes and scalars are rebuilt by numpy, through wrappers that refuse object dtypes and arrays
  that would be allocated larger than the file (the shape is otherwise free in a pickle);
* every other allowed class (``VecNormalize``, ``RunningMeanStd``, gym / gymnasium spaces, numpy's random
  states) becomes an inert record of its pickled state: no constructor, ``__setstate__`` or ``__reduce__`` of the
  real class ever runs. The statistics are then read out of the records and checked like ``vecnormalize.json``.

Names under ``gym.`` (pickles saved before SB3 2.0) are read as their ``gymnasium.`` counterparts. Any other name
raises :class:`~pgzoo.zoo.errors.UnsafeModelError`, which says to pass ``trust_remote_code`` for SB3's own loader.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from pgzoo.zoo.errors import UnsafeModelError, ZooError, one_line

#: Largest pickle read (SB3's statistics of an Atari agent are a few MB; the file bounds every array's data).
MAX_PICKLE_BYTES = 64 * 2**20

_SPACES = ("Box", "Discrete", "MultiDiscrete", "MultiBinary", "Dict", "Tuple", "Text", "Space")
_NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")
_NUMPY_NUMERIC = ("numpy.core.numeric", "numpy._core.numeric")

#: Classes that only become inert records of their pickled state, by module.
RECORDED_CLASSES: dict[str, tuple[str, ...]] = {
    "stable_baselines3.common.vec_env.vec_normalize": ("VecNormalize",),
    "stable_baselines3.common.running_mean_std": ("RunningMeanStd",),
    **{f"gymnasium.spaces.{name.lower()}": (name,) for name in _SPACES},
    "gymnasium.spaces": _SPACES,
    # A space's random generator: its seed state, meaningless once loaded.
    "numpy.random._pickle": ("__randomstate_ctor", "__generator_ctor", "__bit_generator_ctor"),
    "numpy.random.mtrand": ("RandomState",),
    "numpy.random._mt19937": ("MT19937",),
    "numpy.random._pcg64": ("PCG64",),
    "numpy.random.bit_generator": ("SeedSequence", "__pyx_unpickle_SeedSequence"),
    "collections": ("OrderedDict",),
}


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's ``_reconstruct`` as ``ndarray.__reduce__`` calls it: an empty array, filled by ``__setstate__``."""
    if subtype is not np.ndarray or tuple(shape) != (0,):
        raise pickle.UnpicklingError("an array is rebuilt from an empty numpy.ndarray only")
    return np.ndarray((0,), _dtype(dtype))


def _dtype(spec: Any, align: bool = False, copy: bool = False) -> np.dtype:
    """A numpy dtype without Python objects in it (those would be unpickled into the array)."""
    dtype = np.dtype(spec, align, copy)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"arrays of Python objects ({dtype}) are not loaded")
    return dtype


def _scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
        raise pickle.UnpicklingError("a numpy scalar is a plain dtype and its bytes")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _frombuffer(buffer: Any, dtype: Any, shape: Any, order: str = "C") -> np.ndarray:
    """numpy's ``_frombuffer`` as arrays pickled with protocol 5 call it: the file's bytes, reshaped."""
    if not isinstance(buffer, bytes | bytearray) or not isinstance(dtype, np.dtype) or order not in ("C", "F"):
        raise pickle.UnpicklingError("an array is rebuilt from bytes and a plain dtype")
    return np.frombuffer(buffer, dtype=_dtype(dtype)).reshape(shape, order=order)  # type: ignore[call-overload]


def _latin1_encode(text: Any, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` as pickles of protocol 2 write bytes (``latin1``); no other codec (zlib, bz2...)."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("bytes are written as latin1 text only")
    return text.encode("latin1")


#: Functions a pickle may call, by module and name: numpy's own, behind the checks above.
CALLABLE_GLOBALS: dict[tuple[str, str], Any] = {
    **{(module, "_reconstruct"): _reconstruct for module in _NUMPY_CORE},
    **{(module, "scalar"): _scalar for module in _NUMPY_CORE},
    **{(module, "_frombuffer"): _frombuffer for module in _NUMPY_NUMERIC},
    ("numpy", "ndarray"): np.ndarray,
    ("_codecs", "encode"): _latin1_encode,
    ("numpy", "dtype"): _dtype,
}


class Record:
    """
    Stand-in for an allowed class: keeps what the pickle gave it (constructor arguments and state), nothing more.

    :param args: Positional arguments of the pickled constructor call.
    """

    qualified_name = ""

    def __init__(self, *args: Any) -> None:
        self.args = args
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<record of {self.qualified_name}>"


_RECORD_TYPES: dict[tuple[str, str], type[Record]] = {
    (module, name): type(name, (Record,), {"qualified_name": f"{module}.{name}"})
    for module, names in RECORDED_CLASSES.items()
    for name in names
}

#: Every global name a pickle may use (``gym.*`` names are read as ``gymnasium.*``).
ALLOWED_GLOBALS = sorted(f"{module}.{name}" for module, name in [*CALLABLE_GLOBALS, *_RECORD_TYPES])


def gymnasium_module_name(module: str) -> str:
    """
    ``gym.spaces.box`` -> ``gymnasium.spaces.box``: the module of a space pickled before SB3 moved to gymnasium.

    :param module: A module name from a pickle.
    """
    return "gymnasium" + module[len("gym") :] if module == "gym" or module.startswith("gym.") else module


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        key = (gymnasium_module_name(module), name)
        if key in CALLABLE_GLOBALS:
            return CALLABLE_GLOBALS[key]
        if key in _RECORD_TYPES:
            return _RECORD_TYPES[key]
        raise pickle.UnpicklingError(f"{module}.{name} is not a class a statistics file holds")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not used by statistics files")


def restricted_loads(data: bytes) -> Any:
    """
    Unpickle ``data`` with only :data:`ALLOWED_GLOBALS` resolvable (see the module docstring).

    :param data: The pickle.
    :return: The object, where every allowed class other than numpy's is a :class:`Record`.
    :raises pickle.UnpicklingError: When the pickle names anything else, or is malformed.
    """
    try:
        return _RestrictedUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError:
        raise
    except Exception as error:  # a malformed pickle fails in many ways (EOFError, TypeError, ValueError...)
        raise pickle.UnpicklingError(one_line(error)) from None


def _is_record(value: Any, name: str) -> bool:
    return isinstance(value, Record) and value.qualified_name.endswith("." + name)


def _plain_number(value: Any) -> Any:
    if isinstance(value, np.generic | np.ndarray) and np.asarray(value).shape == ():
        return np.asarray(value).item()
    return value


def _rms_to_plain(value: Any, where: str) -> Any:
    """A recorded ``RunningMeanStd`` (or a dict of them) as the JSON format's ``{mean, var, count}``."""
    if isinstance(value, dict):
        return {str(key): _rms_to_plain(item, f"{where}[{key!r}]") for key, item in value.items()}
    if not _is_record(value, "RunningMeanStd") or not isinstance(value.state, dict):
        raise ZooError(f"{where} is not a RunningMeanStd")
    state = value.state
    arrays = {key: state.get(key) for key in ("mean", "var")}
    for key, array in arrays.items():
        if not isinstance(array, np.ndarray | np.generic | float | int):
            raise ZooError(f"{where}.{key} is not a number array")
    return {"mean": np.asarray(arrays["mean"]).tolist(), "var": np.asarray(arrays["var"]).tolist(),
            "count": _plain_number(state.get("count"))}  # fmt: skip


def vecnormalize_state_to_plain(root: Any, where: str) -> dict[str, Any]:
    """
    The statistics of an unpickled ``VecNormalize`` record, in the format of ``vecnormalize.json``.

    :param root: What :func:`restricted_loads` returned.
    :param where: How error messages name the file.
    :raises ZooError: When it is not a ``VecNormalize`` or lacks statistics.
    """
    if not _is_record(root, "VecNormalize") or not isinstance(root.state, dict):
        raise ZooError(f"{where} does not hold a VecNormalize")
    state = root.state
    norm_obs = state.get("norm_obs", True)
    obs_rms = state.get("obs_rms")
    plain = {
        "obs_rms": _rms_to_plain(obs_rms, f"{where}: obs_rms") if norm_obs and obs_rms is not None else None,
        "ret_rms": _rms_to_plain(state.get("ret_rms"), f"{where}: ret_rms"),
        "norm_obs_keys": state.get("norm_obs_keys"),
    }
    for key in ("norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma", "epsilon"):
        plain[key] = _plain_number(state.get(key))
    return plain


def read_pickled_vecnormalize(path: str | Path) -> dict[str, Any]:
    """
    Read SB3's ``vecnormalize.pkl`` / rl_zoo3's ``vec_normalize.pkl`` without running code from it.

    :param path: The file.
    :return: Its statistics in the format of ``vecnormalize.json`` (checked by the caller, as that file is).
    :raises UnsafeModelError: When it names a class or function outside :data:`ALLOWED_GLOBALS`.
    :raises ZooError: When it is too large, or allowed but not a ``VecNormalize``.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_PICKLE_BYTES:
        raise ZooError(f"{path}: {size} bytes, more than normalization statistics hold ({MAX_PICKLE_BYTES})")
    try:
        root = restricted_loads(path.read_bytes())
    except pickle.UnpicklingError as error:
        raise UnsafeModelError(
            f"{path} is a pickle that is not plain normalization statistics ({one_line(error)}); pgzoo does not load "
            "it by default: pass --trust-remote-code (trust_remote_code=True) only if you trust its source"
        ) from None
    return vecnormalize_state_to_plain(root, str(path))

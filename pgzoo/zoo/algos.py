"""
Registry of the algorithms the zoo can train: pgzoo's own and SB3 / sb3-contrib baselines.

Classes are imported lazily with :mod:`importlib` so that an algorithm whose package is missing (or not written
yet) only fails when it is asked for, with a clear message, instead of breaking the whole CLI.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from pgzoo.zoo.errors import UnknownAlgoError, ZooError

#: name used on the command line -> (module, class name)
ALGOS: dict[str, tuple[str, str]] = {
    # pgzoo
    "reinforce": ("pgzoo.reinforce", "REINFORCE"),
    "dpg": ("pgzoo.dpg", "DPG"),
    "a3c": ("pgzoo.a3c", "A3C"),
    # Stable-Baselines3 baselines
    "a2c": ("stable_baselines3", "A2C"),
    "ppo": ("stable_baselines3", "PPO"),
    "dqn": ("stable_baselines3", "DQN"),
    "ddpg": ("stable_baselines3", "DDPG"),
    "td3": ("stable_baselines3", "TD3"),
    "sac": ("stable_baselines3", "SAC"),
    # sb3-contrib baselines
    "trpo": ("sb3_contrib", "TRPO"),
    "ars": ("sb3_contrib", "ARS"),
    "qrdqn": ("sb3_contrib", "QRDQN"),
    "tqc": ("sb3_contrib", "TQC"),
    "crossq": ("sb3_contrib", "CrossQ"),
    "ppo_lstm": ("sb3_contrib", "RecurrentPPO"),
    "ppo_mask": ("sb3_contrib", "MaskablePPO"),
}

#: pgzoo's own algorithms (the others are baselines).
PGZOO_ALGOS = ("reinforce", "dpg", "a3c")


def algo_names() -> list[str]:
    """Return every registered algorithm name, pgzoo's first."""
    return list(ALGOS)


def normalize_algo_name(name: str) -> str:
    """
    Return the registry key for ``name`` (case-insensitive), or raise :class:`UnknownAlgoError`.

    :param name: Algorithm name as typed by the user, e.g. ``"A2C"``.
    """
    key = name.lower().replace("-", "_")
    if key not in ALGOS:
        close = difflib.get_close_matches(key, ALGOS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownAlgoError(f"unknown algorithm {name!r}.{hint} Known algorithms: {', '.join(ALGOS)}")
    return key


def get_algo_class(name: str) -> Any:
    """
    Import and return the algorithm class registered as ``name``.

    :param name: Algorithm name (see :data:`ALGOS`).
    :raises UnknownAlgoError: When the name is unknown or its module cannot be imported.
    """
    key = normalize_algo_name(name)
    module_name, class_name = ALGOS[key]
    try:
        module = importlib.import_module(module_name)
        return getattr(module, class_name)
    except (ImportError, AttributeError) as error:
        raise UnknownAlgoError(
            f"algorithm {key!r} is registered ({module_name}.{class_name}) but cannot be imported: {error}"
        ) from error


def is_off_policy(algo_class: type) -> bool:
    """Whether ``algo_class`` learns from a replay buffer (and so may take action noise)."""
    from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

    return issubclass(algo_class, OffPolicyAlgorithm) or "action_noise" in init_parameters(algo_class)


def init_parameters(cls: type) -> set[str]:
    """Names of the parameters of ``cls``'s constructor (``self`` included)."""
    import inspect

    return set(inspect.signature(cls.__init__).parameters)  # type: ignore[misc]


def accepts_parameter(algo_class: type, name: str) -> bool:
    """Whether ``algo_class``'s constructor takes a parameter called ``name``."""
    return name in init_parameters(algo_class)


def check_device(device: str) -> None:
    """
    Fail early, with a one-line message, on a torch device that cannot be used here.

    SB3 itself falls back to the CPU when CUDA is asked for on a machine without it; that is kept.

    :param device: ``"auto"`` or a torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).
    :raises ZooError: When the string is no torch device, or names a GPU this machine does not have.
    """
    import torch as th

    if device == "auto":
        return
    try:
        parsed = th.device(device)
    except (RuntimeError, TypeError):
        raise ZooError(f"unknown torch device {device!r}: use auto, cpu, cuda, cuda:N or mps") from None
    count = th.cuda.device_count() if th.cuda.is_available() else 0
    if parsed.type == "cuda" and count and parsed.index is not None and parsed.index >= count:
        raise ZooError(f"no torch device {device!r}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    if parsed.type == "mps" and not th.backends.mps.is_available():
        raise ZooError(f"torch device {device!r} is not available on this machine: use auto, cpu or cuda")

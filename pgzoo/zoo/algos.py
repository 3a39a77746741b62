"""
Registry of the algorithms the zoo can train: pgzoo's own and SB3 / sb3-contrib baselines.

Classes are imported lazily with :mod:`importlib` so that an algorithm whose package is missing (or not written
yet) only fails when it is asked for, with a clear message, instead of breaking the whole CLI.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from pgzoo.zoo.errors import UnknownAlgoError

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

    return issubclass(algo_class, OffPolicyAlgorithm) or "action_noise" in _init_parameters(algo_class)


def _init_parameters(algo_class: type) -> set[str]:
    import inspect

    return set(inspect.signature(algo_class.__init__).parameters)  # type: ignore[misc]


def accepts_parameter(algo_class: type, name: str) -> bool:
    """Whether ``algo_class``'s constructor takes a parameter called ``name``."""
    return name in _init_parameters(algo_class)

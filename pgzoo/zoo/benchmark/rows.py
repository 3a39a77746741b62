"""
The benchmark's rows and what each is measured against: the required and optional (algo, env) rows and the RL Zoo's
published results, read from ``rows.yml`` beside this module (shipped in the wheel), the one place they are written.
"""

from __future__ import annotations

import importlib.resources
from typing import Any, NamedTuple

import yaml

#: The data file, in this package.
ROWS_FILE = "rows.yml"


class Reference(NamedTuple):
    """One RL Zoo result: ``(mean, std, training steps)`` of one seed."""

    mean: float
    std: float
    steps: int


def _load() -> dict[str, Any]:
    text = importlib.resources.files(__package__).joinpath(ROWS_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise RuntimeError(f"{ROWS_FILE} of {__package__} is not a mapping: the installed package is damaged")
    return data


def _rows(items: list[list[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(algo), str(env_id)) for algo, env_id in items)


_DATA = _load()

#: Rows the committed table must have (issue 6), in table order: ``(algo, env id)``.
REQUIRED_ROWS: tuple[tuple[str, str], ...] = _rows(_DATA["required_rows"])
#: Rows added when compute allows (their budget is stated in the table like any other row).
OPTIONAL_ROWS: tuple[tuple[str, str], ...] = _rows(_DATA["optional_rows"])
#: Closest SB3 algorithm of each pgzoo algorithm: its RL Zoo result is the row's reference.
REFERENCE_ALGOS: dict[str, str] = {str(k): str(v) for k, v in _DATA["reference_algos"].items()}
#: Shown for context where the RL Zoo has no result for the closest algorithm (TD3 for DPG on the MuJoCo envs).
CONTEXT_ALGOS: dict[str, str] = {str(k): str(v) for k, v in _DATA["context_algos"].items()}
#: RL Zoo benchmark: env id -> algo -> :class:`Reference`, envs in table order.
REFERENCE: dict[str, dict[str, Reference]] = {
    str(env_id): {str(algo): Reference(float(mean), float(std), int(steps)) for algo, (mean, std, steps) in algos.items()}
    for env_id, algos in _DATA["reference"].items()
}
#: Env version the RL Zoo measured when it differs from the one pgzoo trains on.
REFERENCE_ENV_VERSIONS: dict[str, str] = {str(k): str(v) for k, v in _DATA["reference_env_versions"].items()}


def default_rows(algos: list[str]) -> list[tuple[str, str]]:
    """
    Rows benchmarked when no env is named.

    pgzoo algorithms get their required and optional rows; an SB3 baseline gets the envs of the pgzoo rows it is the
    reference of (A2C for REINFORCE and A3C, DDPG for DPG), so that its curve can be drawn next to theirs.

    :param algos: Normalized algorithm names.
    """
    rows: list[tuple[str, str]] = []
    for algo in algos:
        if any(algo == a for a, _ in REQUIRED_ROWS + OPTIONAL_ROWS):
            rows += [(a, e) for a, e in REQUIRED_ROWS + OPTIONAL_ROWS if a == algo]
        else:
            envs = [e for a, e in REQUIRED_ROWS if REFERENCE_ALGOS.get(a) == algo]
            rows += [(algo, e) for e in dict.fromkeys(envs)]
    return rows


__all__ = [
    "CONTEXT_ALGOS",
    "OPTIONAL_ROWS",
    "REFERENCE",
    "REFERENCE_ALGOS",
    "REFERENCE_ENV_VERSIONS",
    "REQUIRED_ROWS",
    "Reference",
    "default_rows",
]

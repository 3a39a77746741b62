"""Small helpers shared by every pgzoo algorithm."""

from __future__ import annotations

import os

import torch as th


def check_positive(name: str, value: float | None, *, allow_none: bool = False) -> None:
    """
    Raise a clear ``ValueError`` when a count or size that must be positive is not.

    :param name: Name of the parameter, used in the error message.
    :param value: Value given by the user.
    :param allow_none: Whether ``None`` (meaning "not used") is accepted.
    """
    if value is None:
        if allow_none:
            return
        raise ValueError(f"`{name}` must be a positive number, got None")
    if isinstance(value, bool) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number, got {value!r}")


def limit_torch_threads(n_threads: int = 1) -> None:
    """
    Make torch (and the BLAS libraries under it) use ``n_threads`` threads in this process.

    Small MLPs gain nothing from intra-op parallelism, and several processes each running a full
    thread pool on a few cores spend their time fighting over them.

    :param n_threads: Number of threads torch may use.
    """
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(n_threads)
    th.set_num_threads(n_threads)

"""Small helpers shared by every pgzoo algorithm."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator

import torch as th

#: Seeds go to ``np.random.seed``, which takes ``0 <= seed < 2**32``.
MAX_SEED = 2**32


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


def available_cores() -> int:
    """
    Number of CPU cores this process may run on: its CPU affinity where the system has one (a container or
    ``taskset`` may allow fewer cores than the machine has), else the machine's count.
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


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


@contextlib.contextmanager
def sigterm_raises(make_exception: Callable[[int], BaseException]) -> Iterator[None]:
    """
    Within the block, turn SIGTERM into an exception raised in the main thread, so that clean-up code runs (stopping
    worker processes, saving a checkpoint) before the process ends.

    Left alone when this is not the main thread (only it may set handlers) or when the program has its own handler,
    so an outer block's choice wins over an inner one's. Further SIGTERMs are ignored until the block ends, so that a
    second one (a kill of the whole process group that a parent also forwards) cannot cut the clean-up short.

    :param make_exception: Builds the exception from the signal number.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def raise_on_sigterm(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise make_exception(signum)

    signal.signal(signal.SIGTERM, raise_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class ProgressStopsAtZero:
    """
    Mixin for algorithms that can take more steps than ``total_timesteps`` (REINFORCE finishes its episodes, A3C's
    workers their rollouts, DPG with ``train_freq=(n, "episode")`` its episodes): the remaining progress stops at 0,
    so a decaying learning-rate schedule never turns negative (a negative Adam step size ascends the loss).
    """

    _current_progress_remaining: float

    def _update_current_progress_remaining(self, num_timesteps: int, total_timesteps: int) -> None:
        self._current_progress_remaining = remaining_progress(num_timesteps, total_timesteps)


def remaining_progress(num_timesteps: int, total_timesteps: int) -> float:
    """
    The argument of SB3's schedules: 1 at the start of training, falling linearly to 0 at ``total_timesteps``, 0 past it.

    :param num_timesteps: Env steps taken so far.
    :param total_timesteps: Env steps of the whole training.
    """
    if total_timesteps <= 0:
        return 0.0
    return max(0.0, 1.0 - float(num_timesteps) / float(total_timesteps))

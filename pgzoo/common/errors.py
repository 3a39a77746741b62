"""
The failures an algorithm reports by type, so that whoever trains it (the zoo, a user's script) can tell them apart
without reading messages: a divergence (:class:`DivergenceError`) and the failure of a worker process
(:class:`WorkerError`).
"""

from __future__ import annotations

import torch as th


class DivergenceError(ArithmeticError):
    """Training diverged: a loss (or the weights) became NaN or inf, so no further update can be trusted."""


class WorkerError(RuntimeError):
    """
    A worker process of a distributed algorithm (A3C) failed or died; the message holds the worker's traceback.

    :param message: What happened, with the worker's traceback when it sent one.
    :param cause: The worker's exception as one line (``Type: message``), or ``""`` when it sent none (it died).
    :param diverged: Whether the worker's exception was a :class:`DivergenceError`.
    """

    def __init__(self, message: str, *, cause: str = "", diverged: bool = False) -> None:
        super().__init__(message)
        self.cause, self.diverged = cause, diverged

    def __reduce__(self) -> tuple:
        # Keyword-only fields survive pickling (multiprocessing and Ray pass exceptions between processes).
        return _rebuild_worker_error, (type(self), str(self), self.cause, self.diverged)


def _rebuild_worker_error(cls: type[WorkerError], message: str, cause: str, diverged: bool) -> WorkerError:
    return cls(message, cause=cause, diverged=diverged)


def describe_failure(error: BaseException) -> tuple[str, bool]:
    """
    :param error: The exception a worker raised.
    :return: What a :class:`WorkerError` carries of it: the exception as one line (``Type: message``), and whether
        it was a divergence.
    """
    lines = f"{type(error).__name__}: {error}".strip().splitlines()
    return lines[0], isinstance(error, DivergenceError)


def check_finite_loss(loss: th.Tensor, what: str) -> None:
    """
    Raise :class:`DivergenceError` when ``loss`` is NaN or inf, before it reaches the weights.

    :param loss: The loss about to be minimized (any shape).
    :param what: What it is, for the message (``"REINFORCE's loss"``).
    :raises DivergenceError: When one of its values is not finite.
    """
    if not bool(th.isfinite(loss).all()):
        raise DivergenceError(f"{what} is NaN or inf")

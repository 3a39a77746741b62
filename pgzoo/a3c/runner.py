"""What the main process needs from a backend that runs A3C workers."""

from __future__ import annotations

import abc
from collections.abc import Sequence

import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy

from pgzoo.a3c.learner import Report


def state_tensors(policy: ActorCriticPolicy) -> list[th.Tensor]:
    """What a copy of the model must receive to act like the original: its parameters, then its buffers."""
    return [*policy.parameters(), *policy.buffers()]


@th.no_grad()
def copy_tensors_(targets: Sequence[th.Tensor], sources: Sequence[th.Tensor]) -> None:
    """Copy each of ``sources`` into the matching tensor of ``targets``, in place."""
    for target, source in zip(targets, sources, strict=True):
        target.copy_(source)


class Runner(abc.ABC):
    """
    Starts the workers of one ``learn()`` call, relays their progress and stops them.

    The main process calls :meth:`start`, then :meth:`poll` until :attr:`finished`, and always :meth:`close`.
    """

    @abc.abstractmethod
    def start(self) -> None:
        """Start the workers."""

    @abc.abstractmethod
    def poll(self, timeout: float) -> Report | None:
        """
        Wait up to ``timeout`` seconds for progress and return all of it merged (``None`` if there was none).
        With progress, the main process's policy gets the workers' latest weights (and normalization statistics);
        between polls it doesn't change, so callbacks see one model.

        :raises WorkerError: If a worker failed or died.
        """

    @property
    @abc.abstractmethod
    def finished(self) -> bool:
        """Whether every worker has stopped (budget reached or stop requested) and reported its last progress."""

    @abc.abstractmethod
    def sync_model(self) -> None:
        """
        Bring the main process's policy and optimizer state up to date with the workers' (before a save, at the
        end). Polls bring the weights only.
        """

    @abc.abstractmethod
    def set_env_statistics_updating(self, updating: bool) -> None:
        """
        Tell the workers whether to merge their rollouts into the shared ``VecNormalize`` statistics (the user's
        wrapper's ``training`` flag changed during ``learn()``); they see it from their next rollout on.
        """

    @abc.abstractmethod
    def request_stop(self) -> None:
        """Ask every worker to stop after its current update."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the workers, killing any that don't stop within a few seconds, and free their resources."""

    @property
    @abc.abstractmethod
    def worker_pids(self) -> list[int]:
        """Process ids of the workers (for checks that none is left behind)."""

"""
Ray backend: A3C workers as Ray actors around a parameter-server actor, for one machine or a cluster.

Each worker pushes the gradients of a rollout (computed by the same :class:`~pgzoo.a3c.learner.ActorLearner` as the
local backend) to the parameter server, which applies them with its optimizer and replies with the new weights and
whether to stop. Workers don't wait for each other, so updates are asynchronous as in Hogwild; the server applies
one push at a time. The main process polls the server for progress and a copy of the weights.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy

from pgzoo.a3c.learner import ActorLearner, LearnerConfig, Report
from pgzoo.a3c.local import private_copy
from pgzoo.a3c.normalization import RolloutStats, normalizers, update_normalizers, vec_normalize_statistics
from pgzoo.a3c.runner import Runner, state_tensors
from pgzoo.common.errors import WorkerError, describe_failure
from pgzoo.common.ray_cluster import check_cpus, ray_session
from pgzoo.common.utils import limit_torch_threads, remaining_progress

ray: Any
try:
    import ray
except ImportError:  # pragma: no cover - depends on the installed extras
    ray = None

_STOP_GRACE = 5.0


def flatten(tensors: Sequence[th.Tensor]) -> np.ndarray:
    """All ``tensors`` as one flat float32 array (one message instead of one per tensor)."""
    return th.cat([tensor.detach().reshape(-1) for tensor in tensors]).numpy()


def unflatten_(tensors: Sequence[th.Tensor], flat: np.ndarray) -> None:
    """Copy the flat array ``flat`` into ``tensors`` in place (keeping their storage, e.g. shared memory)."""
    source = th.as_tensor(np.array(flat, copy=True))
    offset = 0
    with th.no_grad():
        for tensor in tensors:
            tensor.copy_(source[offset : offset + tensor.numel()].view_as(tensor))
            offset += tensor.numel()


class ParameterServer:
    """
    Holds the model and its optimizer; applies workers' gradients and tracks the run's progress.

    :param policy: A private copy of the main process's policy, with its optimizer.
    :param config: The run's settings.
    """

    def __init__(self, policy: ActorCriticPolicy, config: LearnerConfig) -> None:
        limit_torch_threads(1)
        self.policy = policy
        self.parameters = list(self.policy.parameters())
        self.state_tensors = state_tensors(policy)
        self.normalizers = normalizers(policy)
        self.config = config
        self.steps_done = config.initial_timesteps
        #: Env steps of the rollouts workers have started: a worker claims its next rollout before running it.
        self.steps_claimed = config.initial_timesteps
        self.stop = False
        self.pending = Report()

    def claim(self, rollout_steps: int) -> bool:
        """
        Claim the steps of a worker's next rollout from the budget.

        :param rollout_steps: Env steps of one rollout.
        :return: Whether the worker may run it (False: the budget is spent, or a stop was requested).
        """
        self.stop = self.stop or self.steps_claimed >= self.config.total_timesteps
        if self.stop:
            return False
        self.steps_claimed += rollout_steps
        return True

    def push(self, gradients: np.ndarray, report: Report, stats: RolloutStats | None = None) -> tuple[np.ndarray, bool]:
        """
        Apply one worker's gradients, record its progress and claim its next rollout (see :meth:`claim`).

        :param gradients: The worker's flattened gradients.
        :param report: Progress of the rollout they come from.
        :param stats: What the rollout adds to the normalization statistics, with ``normalize_obs`` or
            ``normalize_reward``.
        :return: The new flattened weights (and normalization statistics), and whether the worker should stop.
        """
        update_normalizers(self.normalizers, stats)
        for param in self.parameters:
            if param.grad is None:
                param.grad = th.zeros_like(param)
        unflatten_([param.grad for param in self.parameters], gradients)  # type: ignore[misc]
        self.steps_done += report.steps
        progress_remaining = remaining_progress(self.steps_done, self.config.total_timesteps)
        for group in self.policy.optimizer.param_groups:
            group["lr"] = float(self.config.lr_schedule(progress_remaining))
        self.policy.optimizer.step()
        self.pending.merge(report)
        return flatten(self.state_tensors), not self.claim(report.steps)

    def poll(self) -> tuple[Report, np.ndarray]:
        """Progress since the previous poll, and the current flattened weights (and normalization statistics)."""
        report, self.pending = self.pending, Report()
        return report, flatten(self.state_tensors)

    def request_stop(self) -> None:
        """Make every worker stop at its next push."""
        self.stop = True

    def set_env_statistics_updating(self, updating: bool) -> None:
        """Whether workers merge into the ``VecNormalize`` statistics (they get it with the next weights)."""
        statistics = vec_normalize_statistics(self.policy)
        if statistics is not None:
            statistics.updating.fill_(updating)

    def state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The policy's and the optimizer's ``state_dict``."""
        return self.policy.state_dict(), self.policy.optimizer.state_dict()


class RayWorker:
    """
    One actor-learner: its environments and a private copy of the model.

    :param rank: Index of this worker.
    :param policy: A private copy of the main process's policy, without optimizer.
    :param config: The run's settings.
    """

    def __init__(self, rank: int, policy: ActorCriticPolicy, config: LearnerConfig) -> None:
        self.learner = ActorLearner(policy, config, rank)

    def pid(self) -> int:
        """Process id of this actor."""
        import os

        return os.getpid()

    def run(self, server: Any) -> None:
        """
        Rollout, push gradients, take the returned weights; until the server says stop.

        :param server: Handle of the :class:`ParameterServer` actor.
        """
        learner = self.learner
        state = state_tensors(learner.policy)
        try:
            if not ray.get(server.claim.remote(learner.rollout_steps)):
                return
            while True:
                report = learner.compute_gradients()
                gradients = flatten([param.grad for param in learner.parameters])  # type: ignore[misc]
                weights, stop = ray.get(server.push.remote(gradients, report, learner.rollout_stats))
                if stop:
                    return
                unflatten_(state, weights)
        finally:
            learner.close()


class RayRunner(Runner):
    """
    Runs the workers as Ray actors.

    :param policy: The main process's policy; it receives the server's weights at every poll.
    :param config: The run's settings.
    :param address: Ray cluster to join, or None for the Ray instance of this process (started if needed).
    """

    def __init__(self, policy: ActorCriticPolicy, config: LearnerConfig, address: str | None) -> None:
        if ray is None:
            raise ImportError("backend='ray' needs Ray: pip install 'pgzoo[ray]'")
        # Until the actors exist, a failure shuts down a Ray this runner started; then close() does.
        with contextlib.ExitStack() as ray_started:
            ray_started.enter_context(ray_session(address))
            remedy = "each worker needs one; lower n_workers or add nodes"
            check_cpus(config.n_workers, f"n_workers={config.n_workers}", remedy)
            self.policy = policy
            self.state_tensors = state_tensors(policy)
            self.config = config
            server_class = ray.remote(num_cpus=0)(ParameterServer)
            worker_class = ray.remote(num_cpus=1)(RayWorker)
            # Copies sent by value (the main policy may live in shared memory); workers need no optimizer.
            self.server: Any = server_class.remote(copy.deepcopy(policy), config)
            worker_policy = ray.put(private_copy(policy))
            self.workers: list[Any] = [worker_class.remote(rank, worker_policy, config) for rank in range(config.n_workers)]
            self._ray = ray_started.pop_all()
        self._runs: list[Any] = []
        self._pids: list[int] = []
        self._finished = False

    def start(self) -> None:
        self._pids = ray.get([worker.pid.remote() for worker in self.workers])
        self._runs = [worker.run.remote(self.server) for worker in self.workers]

    @property
    def worker_pids(self) -> list[int]:
        return list(self._pids)

    @property
    def finished(self) -> bool:
        return self._finished

    def request_stop(self) -> None:
        self.server.request_stop.remote()

    def set_env_statistics_updating(self, updating: bool) -> None:
        # Waited for: the next poll's weights must not bring back the old flag.
        ray.get(self.server.set_env_statistics_updating.remote(updating))

    def poll(self, timeout: float) -> Report | None:
        ready, _ = ray.wait(self._runs, num_returns=len(self._runs), timeout=timeout)
        for ref in ready:
            try:
                ray.get(ref)
            except Exception as error:
                # Ray's error is also an instance of the worker's exception class; `cause` is that exception.
                worker_error = getattr(error, "cause", None) or error
                cause, diverged = describe_failure(worker_error)
                raise WorkerError(f"A3C Ray worker failed:\n{error}", cause=cause, diverged=diverged) from error
        # All workers returned: this poll collects their last reports, then the run is over.
        self._finished = len(ready) == len(self._runs)
        report, weights = ray.get(self.server.poll.remote())
        unflatten_(self.state_tensors, weights)
        return report if report.steps or report.updates else None

    def sync_model(self) -> None:
        # The optimizer's state lives in the parameter server; polls only bring the weights.
        policy_state, optimizer_state = ray.get(self.server.state.remote())
        self.policy.load_state_dict(policy_state)
        self.policy.optimizer.load_state_dict(optimizer_state)

    def close(self) -> None:
        try:
            self.server.request_stop.remote()
            if self._runs:
                ray.wait(self._runs, num_returns=len(self._runs), timeout=_STOP_GRACE)
        finally:
            try:
                for actor in [*self.workers, self.server]:
                    ray.kill(actor)
            finally:
                self._ray.close()

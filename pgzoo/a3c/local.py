"""
Local backend: Hogwild A3C with torch.multiprocessing worker processes on one machine.

The model the workers train, with its optimizer statistics, is a copy of the main process's policy in shared memory.
Each worker copies the shared weights into a private policy before every rollout, computes gradients on it, points
the shared parameters' gradients at them and steps the shared optimizer, without locks. The main process's policy
gets the shared weights whenever workers report, so it doesn't change while callbacks use it.
"""

from __future__ import annotations

import contextlib
import copy
import multiprocessing as mp
import queue
import signal
import sys
import time
import traceback
from typing import Any

import cloudpickle
import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy

from pgzoo.a3c.learner import ActorLearner, LearnerConfig, Report
from pgzoo.a3c.normalization import normalizers, update_normalizers, vec_normalize_statistics
from pgzoo.a3c.runner import Runner, copy_tensors_, state_tensors
from pgzoo.common.errors import WorkerError, describe_failure
from pgzoo.common.utils import limit_torch_threads

# Seconds a stopping worker gets to finish its update before it is terminated.
_STOP_GRACE = 5.0


def private_copy(policy: ActorCriticPolicy) -> ActorCriticPolicy:
    """A copy of ``policy`` in private memory, without an optimizer (a worker's gradients go to the shared one)."""
    # Marking the optimizer as already copied (to None) skips it.
    return copy.deepcopy(policy, memo={id(policy.optimizer): None})


def _worker_main(
    rank: int,
    shared_policy: ActorCriticPolicy,
    config_bytes: bytes,
    steps_done: Any,
    steps_claimed: Any,
    stop: Any,
    messages: Any,
) -> None:
    """
    Body of worker process ``rank``: rollout, gradients, shared update, until the budget is spent or ``stop`` is set.

    :param rank: Index of this worker.
    :param shared_policy: The shared model: parameters, buffers and optimizer state in shared memory.
    :param config_bytes: The cloudpickled :class:`LearnerConfig`.
    :param steps_done: Shared counter of env steps of all workers.
    :param steps_claimed: Shared counter of the env steps of the rollouts workers have started (or finished).
    :param stop: Event set by the main process to stop all workers.
    :param messages: Queue to the main process: ``("report", rank, Report)``, ``("done", rank, None)`` or
        ``("error", rank, (traceback, "Type: message", diverged))``.
    """
    # Ctrl-C reaches the whole process group; the main process alone decides how workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_torch_threads(1)
    learner = None
    try:
        config: LearnerConfig = cloudpickle.loads(config_bytes)
        learner = ActorLearner(private_copy(shared_policy), config, rank)
        shared_params = list(shared_policy.parameters())
        local_params = list(learner.policy.parameters())
        local_state, shared_state = state_tensors(learner.policy), state_tensors(shared_policy)
        optimizer = shared_policy.optimizer
        shared_normalizers = normalizers(shared_policy)
        pending, last_report = Report(), time.monotonic()
        # The process that started this worker: if it dies without stopping us (SIGKILL, a crash), stop on our own
        # rather than train forever as an orphan. Its sentinel pipe closes when it dies, whatever the start method.
        parent = mp.parent_process()
        while not stop.is_set():
            if parent is not None and not parent.is_alive():
                return
            # Claim the rollout from the budget first: workers that each finished their rollout before seeing the
            # budget spent would overshoot it by one rollout each.
            with steps_claimed.get_lock():
                if steps_claimed.value >= config.total_timesteps:
                    break
                steps_claimed.value += learner.rollout_steps
            # Rollouts start from a private snapshot: the shared weights keep changing under other workers' updates.
            copy_tensors_(local_state, shared_state)
            report = learner.compute_gradients()
            with steps_done.get_lock():
                steps_done.value += report.steps
                total = steps_done.value
                # Under the lock: two workers merging at once would lose one's statistics.
                update_normalizers(shared_normalizers, learner.rollout_stats)
            # Explicitly at every update: the shared parameters' .grad is private to this process.
            for shared, local in zip(shared_params, local_params, strict=True):
                shared.grad = local.grad
            for group in optimizer.param_groups:
                group["lr"] = learner.learning_rate(total)
            optimizer.step()
            pending.merge(report)
            if total >= config.total_timesteps:
                break
            if time.monotonic() - last_report >= config.report_interval:
                messages.put(("report", rank, pending))
                pending, last_report = Report(), time.monotonic()
        messages.put(("report", rank, pending))
        messages.put(("done", rank, None))
    except BaseException as error:
        messages.put(("error", rank, (traceback.format_exc(), *describe_failure(error))))
        sys.exit(1)
    finally:
        if learner is not None:
            learner.close()


class LocalRunner(Runner):
    """
    Runs the workers as processes of this machine.

    :param policy: The main process's policy, with a shared optimizer (``SharedRMSprop`` or ``SharedAdam``); the
        workers train a copy of it in shared memory, whose weights it gets at every poll.
    :param config: The run's settings.
    :param start_method: ``"forkserver"`` or ``"spawn"`` (``"fork"`` deadlocks with torch and is refused).
    """

    def __init__(self, policy: ActorCriticPolicy, config: LearnerConfig, start_method: str) -> None:
        if start_method not in ("forkserver", "spawn"):
            raise ValueError(f"`start_method` must be 'forkserver' or 'spawn', got {start_method!r}")
        context: Any = th.multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # Imported once in the fork server rather than in every worker (torch takes seconds to import).
            context.set_forkserver_preload(["pgzoo.a3c.local"])
        self.policy = policy
        # Its optimizer comes along, remapped onto the copy's parameters.
        self.shared_policy = copy.deepcopy(policy)
        self.shared_policy.share_memory()
        self.shared_policy.optimizer.share_memory()  # type: ignore[attr-defined]
        self._main_state, self._shared_state = state_tensors(policy), state_tensors(self.shared_policy)
        self._messages = context.Queue()
        self._stop = context.Event()
        self._steps_done = context.Value("q", config.initial_timesteps)
        self._steps_claimed = context.Value("q", config.initial_timesteps)
        config_bytes = cloudpickle.dumps(config)
        self._processes = [
            context.Process(
                target=_worker_main,
                args=(
                    rank,
                    self.shared_policy,
                    config_bytes,
                    self._steps_done,
                    self._steps_claimed,
                    self._stop,
                    self._messages,
                ),
                name=f"a3c-worker-{rank}",
                daemon=True,
            )
            for rank in range(config.n_workers)
        ]
        self._done: set[int] = set()
        self._pids: list[int] = []

    def start(self) -> None:
        for process in self._processes:
            process.start()
            assert process.pid is not None
            self._pids.append(process.pid)

    @property
    def worker_pids(self) -> list[int]:
        return list(self._pids)

    @property
    def finished(self) -> bool:
        return len(self._done) == len(self._processes)

    def sync_model(self) -> None:
        copy_tensors_(self._main_state, self._shared_state)
        self.policy.optimizer.load_state_dict(copy.deepcopy(self.shared_policy.optimizer.state_dict()))

    def set_env_statistics_updating(self, updating: bool) -> None:
        statistics = vec_normalize_statistics(self.shared_policy)
        if statistics is not None:
            statistics.updating.fill_(updating)

    def request_stop(self) -> None:
        self._stop.set()

    def poll(self, timeout: float) -> Report | None:
        merged = None
        with contextlib.suppress(queue.Empty):
            merged = self._handle(self._messages.get(timeout=timeout), merged)
        merged = self._drain(merged)
        for rank, process in enumerate(self._processes):
            if rank not in self._done and process.exitcode is not None:
                # A worker's queued messages reach the pipe before it exits: read them before judging its death.
                merged = self._drain(merged)
                if rank not in self._done:
                    # Exit code 1 before any report: usually the worker importing the user's script failed, most
                    # often Python's "bootstrapping phase" error of a script without the __main__ guard.
                    cause = (
                        "it failed while starting: if Python's 'bootstrapping phase' error is printed above, put the "
                        'code that trains under `if __name__ == "__main__":` (worker processes import the script)'
                        if process.exitcode == 1
                        else "killed, out of memory or crashed in native code?"
                    )
                    raise WorkerError(
                        f"A3C worker {rank} (pid {process.pid}) died with exit code {process.exitcode} "
                        f"without reporting an error ({cause})"
                    )
        if merged is not None:
            copy_tensors_(self._main_state, self._shared_state)
        return merged

    def _drain(self, merged: Report | None) -> Report | None:
        while True:
            try:
                merged = self._handle(self._messages.get_nowait(), merged)
            except queue.Empty:
                return merged

    def _handle(self, message: tuple[str, int, Any], merged: Report | None) -> Report | None:
        kind, rank, payload = message
        if kind == "error":
            trace, cause, diverged = payload
            raise WorkerError(f"A3C worker {rank} failed; its traceback:\n{trace}", cause=cause, diverged=diverged)
        if kind == "done":
            self._done.add(rank)
            return merged
        if merged is None:
            return payload
        merged.merge(payload)
        return merged

    def close(self) -> None:
        self._stop.set()
        deadline = time.monotonic() + _STOP_GRACE
        # Keep reading: a worker can't exit while its queued messages wait for room in the pipe.
        while any(process.is_alive() for process in self._processes) and time.monotonic() < deadline:
            self._discard_messages()
            for process in self._processes:
                process.join(timeout=0.02)
        for process in self._processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=1.0)
            if process.is_alive():
                process.kill()
                process.join(timeout=1.0)
        self._discard_messages()
        self._messages.close()
        for process in self._processes:
            if process.exitcode is not None:
                process.close()

    def _discard_messages(self) -> None:
        with contextlib.suppress(queue.Empty, OSError, ValueError):
            while True:
                self._messages.get_nowait()


def default_start_method() -> str:
    """``"forkserver"`` where the platform has it (fast worker start-up), else ``"spawn"``."""
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"

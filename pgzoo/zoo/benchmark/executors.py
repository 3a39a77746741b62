"""
The executors: run a list of :class:`~pgzoo.zoo.benchmark.plan.RunSpec` one after another, in a pool of local
processes, or as tasks of a Ray cluster, and hand each outcome (a
:class:`~pgzoo.zoo.benchmark.run.FinishedRun` or the exception the run raised) to the driver's callback as soon as
it is known. Pool workers that lose their parent stop as a Ctrl-C would (keeping a checkpoint) instead of training on
as orphans.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

import torch as th

from pgzoo.common.ray_cluster import RayCpuError, check_cpus, import_ray, ray_session
from pgzoo.common.utils import sigterm_raises
from pgzoo.zoo.benchmark.plan import RunSpec
from pgzoo.zoo.benchmark.run import FinishedRun, run_one
from pgzoo.zoo.errors import ZooError

#: What a run ends with: its record and agent, or the exception it raised.
Outcome = FinishedRun | BaseException
#: The driver's callback, called in the driver's process once per run.
OnDone = Callable[[RunSpec, Outcome], None]

#: Seconds a pool worker whose parent died gets to save its run's checkpoint before it exits anyway.
ORPHAN_GRACE_S = 120.0
#: Set in a pool worker once it runs a run (a worker whose parent died then gets time to save its checkpoint).
_RUNNING = threading.Event()


def _pool_initializer() -> None:
    # The parent stops its workers, with one SIGTERM to each worker that runs a run: a Ctrl-C that reaches the whole
    # process group must not interrupt a run a second time while it saves its checkpoint, and an idle worker must
    # not die (the pool would count it as broken and kill the others mid-save).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, name="pgzoo-orphan-watch", daemon=True).start()


def _exit_when_orphaned() -> None:
    # A parent that dies without stopping us (SIGKILL, a crash) can no longer record our result: stop as a Ctrl-C
    # would (the run keeps its checkpoint, so the next benchmark resumes it) rather than train on as an orphan.
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    parent.join()
    os.kill(os.getpid(), signal.SIGTERM)  # a run in progress turns it into KeyboardInterrupt; idle, it is ignored
    time.sleep(ORPHAN_GRACE_S if _RUNNING.is_set() else 0.0)
    os._exit(1)


def _pool_worker(spec: RunSpec) -> FinishedRun:
    # Fresh spawned interpreter: one torch thread before anything else creates a thread pool.
    th.set_num_threads(spec.threads)
    _RUNNING.set()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Stopped, the run keeps a checkpoint and raises KeyboardInterrupt, as in a sequential benchmark.
    with sigterm_raises(lambda signum: KeyboardInterrupt()):
        return run_one(spec)


def run_sequential(specs: list[RunSpec], on_done: OnDone) -> None:
    """
    Run each spec in this process, one after another.

    :param specs: The runs.
    :param on_done: Called with each run's outcome.
    """
    for spec in specs:
        try:
            outcome: Outcome = run_one(spec)
        except KeyboardInterrupt:
            raise
        except Exception as error:
            outcome = error
        on_done(spec, outcome)


def run_pool(specs: list[RunSpec], jobs: int, on_done: OnDone) -> None:
    """
    Run the specs in ``jobs`` local processes, each run in a fresh one.

    :param specs: The runs.
    :param jobs: Processes at the same time.
    :param on_done: Called in this process with each run's outcome.
    """
    # spawn: a fork of a process that already ran torch can deadlock; max_tasks_per_child=1 gives every run a
    # fresh interpreter, so no state (seeds, thread pools, leaked memory) carries from one run to the next.
    executor = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_pool_initializer,
        max_tasks_per_child=1,
    )
    pending: dict[Future[FinishedRun], RunSpec] = {executor.submit(_pool_worker, s): s for s in specs}
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                spec = pending.pop(future)
                error = future.exception()
                on_done(spec, future.result() if error is None else error)
    except KeyboardInterrupt:
        # Runs not started yet are dropped; each running one keeps a checkpoint, and the workers have exited before
        # the interrupt goes on. ProcessPoolExecutor has no public handle on its processes.
        for process in list(executor._processes.values()):
            process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
        for future, spec in pending.items():
            if not future.cancelled() and future.exception() is None:
                on_done(spec, future.result())  # finished while the others stopped
        raise
    executor.shutdown(wait=True)


def run_ray(specs: list[RunSpec], address: str | None, num_cpus: int | None, on_done: OnDone) -> None:
    """
    Run each spec as a task of a Ray cluster, reserving its CPUs (:attr:`RunSpec.cpus`).

    :param specs: The runs.
    :param address: Ray cluster to join, or ``None`` for a local instance (shut down at the end).
    :param num_cpus: CPUs of a local instance (``None``: every core).
    :param on_done: Called in this process with each run's outcome.
    :raises ZooError: When Ray is not installed, or a run needs more CPUs than the cluster has (it would wait
        forever), before any run starts.
    """
    try:
        ray = import_ray()
    except ImportError:
        raise ZooError("--ray / --ray-address need Ray: pip install 'pgzoo[ray]'") from None
    with ray_session(address, num_cpus=num_cpus, log_to_driver=False):
        try:
            for spec in specs:
                check_cpus(spec.cpus, spec.name, "lower its n_workers, give a local Ray more with --jobs, or add nodes")
        except RayCpuError as error:
            raise ZooError(str(error)) from None
        remote = ray.remote(max_retries=0)(run_one)
        refs = {remote.options(num_cpus=spec.cpus, name=spec.name).remote(spec): spec for spec in specs}
        try:
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                for ref in done:
                    spec = refs.pop(ref)
                    try:
                        outcome: Outcome = ray.get(ref)
                    except Exception as error:
                        outcome = error
                    on_done(spec, outcome)
        except KeyboardInterrupt:
            for ref in refs:
                ray.cancel(ref, force=True)
            raise


__all__ = ["ORPHAN_GRACE_S", "OnDone", "Outcome", "run_pool", "run_ray", "run_sequential"]

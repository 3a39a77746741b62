"""
Joining or starting Ray, one policy for every user (A3C's Ray backend, the benchmark's Ray executor): a Ray already
running in this process is used as it is; otherwise the given cluster is joined, or a local instance is started
without a dashboard (its HTTP job API would run any code it is sent); whoever started it shuts it down; and a
request for more CPUs than the cluster has is refused before anything is submitted, since its tasks or actors would
wait forever.

Ray is an optional dependency (``pip install 'pgzoo[ray]'``): it is imported when a session starts, not with this
module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class RayCpuError(ValueError):
    """More CPUs asked of a Ray cluster than it has."""


def import_ray() -> Any:
    """
    Return the ``ray`` module.

    :raises ImportError: When Ray is not installed, saying how to install it.
    """
    try:
        import ray  # optional dependency, imported only where Ray is used
    except ImportError:
        raise ImportError("Ray is not installed: pip install 'pgzoo[ray]'") from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None, log_to_driver: bool = True) -> Iterator[int]:
    """
    Within the block, this process is connected to Ray; the block gets the cluster's CPU count.

    :param address: Ray cluster to join (e.g. ``auto``, ``ray://host:10001``), or ``None`` for a local instance.
    :param num_cpus: CPUs of a local instance (``None``: Ray's default, every core).
    :param log_to_driver: Whether the tasks' and actors' output is printed by this process.
    :raises ImportError: When Ray is not installed.
    """
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        if address is not None:
            ray.init(address=address, log_to_driver=log_to_driver)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=log_to_driver)
    try:
        yield cluster_cpus()
    finally:
        if started:
            ray.shutdown()


def cluster_cpus() -> int:
    """CPUs of the Ray cluster this process is connected to."""
    return int(import_ray().cluster_resources().get("CPU", 0))


def check_cpus(wanted: int, what: str, remedy: str) -> None:
    """
    Refuse a request for more CPUs than the connected Ray cluster has.

    :param wanted: CPUs one task or one set of actors needs at the same time.
    :param what: What needs them, for the message (e.g. ``n_workers=3``).
    :param remedy: What the user can lower or add, for the message.
    :raises RayCpuError: When ``wanted`` exceeds the cluster's CPUs.
    """
    cpus = cluster_cpus()
    if wanted > cpus:
        raise RayCpuError(f"{what} needs {wanted} CPUs but the Ray cluster has {cpus}: {remedy}")


__all__ = ["RayCpuError", "check_cpus", "cluster_cpus", "import_ray", "ray_session"]

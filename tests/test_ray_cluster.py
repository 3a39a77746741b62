"""
``pgzoo.common.ray_cluster``, the one way pgzoo joins or starts Ray: whoever started it shuts it down (A3C's Ray
backend included), and more CPUs than the cluster has are refused.
"""

from __future__ import annotations

import pytest

from pgzoo import A3C
from pgzoo.common.ray_cluster import RayCpuError, check_cpus, ray_session
from pgzoo.common.utils import available_cores

ray = pytest.importorskip("ray")


@pytest.mark.timeout(120)
def test_a_local_ray_is_shut_down_by_whoever_started_it() -> None:
    assert not ray.is_initialized()
    with ray_session(num_cpus=1) as cpus:
        assert cpus == 1 and ray.is_initialized()
        with pytest.raises(RayCpuError, match="x needs 2 CPUs but the Ray cluster has 1: add some"):
            check_cpus(2, "x", "add some")
        with ray_session() as again:  # already connected: used as it is, and left running
            assert again == 1
        assert ray.is_initialized()
    assert not ray.is_initialized()
    # A3C's Ray backend starts it the same way, and shuts it down even when it refuses to run.
    with pytest.raises(ValueError, match="CPUs"):
        A3C("MlpPolicy", "CartPole-v1", n_workers=available_cores() + 1, backend="ray").learn(100)
    assert not ray.is_initialized()

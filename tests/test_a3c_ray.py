"""Tests of A3C on the Ray backend, on a local Ray instance started by the tests."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import broken_envs
import pytest
import test_a3c
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize
from test_a3c import FaultyEnv, StopAfter, a3c_kwargs

from pgzoo import A3C
from pgzoo.a3c import WorkerError
from pgzoo.common.benchmark import StopAtRewardThreshold

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    # Ray actors can't import this test module: send its classes by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.cloudpickle.register_pickle_by_value(test_a3c)
    ray.cloudpickle.register_pickle_by_value(broken_envs)
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


class SaveOnce(BaseCallback):
    """Save the model once, in the middle of training (as a checkpoint callback would)."""

    def __init__(self, path: Path, at_step: int) -> None:
        super().__init__()
        self.path, self.at_step = path, at_step

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.at_step and not self.path.exists():
            self.model.save(self.path)
        return True


@pytest.mark.timeout(180)
def test_ray_smoke(local_ray: None, tmp_path: Path) -> None:
    model = A3C(
        "MlpPolicy",
        "CartPole-v1",
        n_workers=2,
        n_envs_per_worker=4,
        backend="ray",
        seed=0,
        normalize_obs=True,
        normalize_reward=True,
    )
    before = [param.detach().clone() for param in model.policy.parameters()]
    model.learn(3_000, callback=SaveOnce(tmp_path / "midway.zip", at_step=1_500))
    # The workers' observation and return statistics, merged by the parameter server, came back with the weights.
    assert model.policy.features_extractor.obs_count.item() == pytest.approx(model.num_timesteps)
    assert model.policy.return_normalizer.return_count.item() == pytest.approx(model.num_timesteps)
    # A save during training holds the parameter server's optimizer state, not the main process's initial one.
    assert any(state for state in A3C.load(tmp_path / "midway.zip").policy.optimizer.state.values())
    assert model.num_timesteps >= 3_000
    assert len(model.ep_info_buffer) > 0
    assert model._n_updates >= 3_000 // 20
    assert any(not (old == new).all() for old, new in zip(before, model.policy.parameters(), strict=True))
    # The final weights and optimizer state came back from the parameter server.
    assert any(state for state in model.policy.optimizer.state.values())


@pytest.mark.timeout(300)
def test_ray_vec_normalize_and_budget(local_ray: None) -> None:
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=2, seed=0))
    model = A3C("MlpPolicy", env, n_workers=2, n_steps=64, backend="ray", seed=0)
    # Workers claim their rollout from the parameter server before running it: one rollout of 2 x 64 steps.
    model.learn(128)
    assert model.num_timesteps == 128
    model.learn(1_000, reset_num_timesteps=False)
    # The workers' statistics, merged by the parameter server, reached the user's wrapper.
    assert env.ret_rms.count == pytest.approx(model.num_timesteps, abs=1e-3)
    assert env.obs_rms.count > model.num_timesteps


# Normally ~20 s; actor start-up alone took minutes when the 2-core machine ran at a load of 11.
@pytest.mark.timeout(300)
def test_ray_callback_stop_and_worker_error(local_ray: None) -> None:
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=2, backend="ray")
    callback = StopAfter(20)
    model.learn(10_000_000, callback=callback)
    assert time.monotonic() - callback.stop_time < 5.0

    model = A3C("MlpPolicy", FaultyEnv, env_kwargs={"fail_after": 300}, n_workers=2, backend="ray")
    with pytest.raises(WorkerError, match="boom: the env broke on purpose") as error:
        model.learn(10_000_000)
    # Measured from the moment the env raised, so that slow actor start-up on a busy machine doesn't count.
    raised_at = float(re.search(r"at t=(\d+\.\d+)", str(error.value)).group(1))
    assert time.time() - raised_at < 10
    assert error.value.cause.startswith("RuntimeError: boom") and not error.value.diverged

    # A divergence in a Ray worker reaches the main process by type, as from a local worker.
    model = A3C("MlpPolicy", broken_envs.NanRewardEnv, n_workers=1, backend="ray", policy_kwargs={"net_arch": [8]})
    with pytest.raises(WorkerError) as error:
        model.learn(10_000_000)
    assert error.value.diverged and error.value.cause == "DivergenceError: A3C's loss is NaN or inf"


def test_ray_too_many_workers(local_ray: None) -> None:
    with pytest.raises(ValueError, match="CPUs"):
        A3C("MlpPolicy", "CartPole-v1", n_workers=3, backend="ray").learn(100)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_ray_cartpole_reaches_475(local_ray: None) -> None:
    kwargs, n_timesteps = a3c_kwargs("CartPole-v1")
    kwargs["n_workers"] = 2
    model = A3C("MlpPolicy", "CartPole-v1", seed=0, backend="ray", **kwargs)
    eval_env = make_vec_env("CartPole-v1", n_envs=10, seed=1_000)
    callback = StopAtRewardThreshold(eval_env, threshold=475, eval_freq=10_000, n_eval_episodes=10, deterministic=True)
    model.learn(n_timesteps, callback=callback)
    assert callback.result.reached, callback.result.evaluations

"""CUDA checks: REINFORCE and DPG train on a GPU, and a model moves between GPU and CPU through save/load.

CI has no GPU, so these tests are skipped there; they run on a machine with one. On such a machine the rest of
``test_reinforce.py`` and ``test_dpg.py`` (learning tests included) also runs on the GPU, since ``device="auto"``
picks it.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env

from pgzoo import A3C, DPG, REINFORCE
from pgzoo.common.noise import make_action_noise
from pgzoo.zoo.train import train

pytestmark = pytest.mark.skipif(not th.cuda.is_available(), reason="needs a CUDA GPU")


def make_model(algo: str, device: str) -> BaseAlgorithm:
    if algo == "reinforce":
        return REINFORCE("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_episodes=2, seed=0, device=device)
    return DPG(
        "MlpPolicy",
        "Pendulum-v1",
        action_noise=make_action_noise("normal", 0.1, 1, 1),
        learning_starts=50,
        batch_size=32,
        buffer_size=1000,
        seed=0,
        device=device,
    )


def observations_for(model: BaseAlgorithm) -> np.ndarray:
    model.observation_space.seed(1)
    return np.stack([model.observation_space.sample() for _ in range(16)])


def test_auto_device_picks_the_gpu_except_for_a3c() -> None:
    assert make_model("reinforce", "auto").device.type == "cuda"
    assert make_model("dpg", "auto").device.type == "cuda"
    # A3C's shared model lives in shared CPU memory whatever the machine has.
    assert A3C("MlpPolicy", "CartPole-v1", device="auto", n_workers=1).device.type == "cpu"


@pytest.mark.parametrize("algo", ["reinforce", "dpg"])
def test_trained_on_gpu_loads_on_cpu_and_back(algo: str, tmp_path: Path) -> None:
    model = make_model(algo, "cuda")
    model.learn(400)
    assert all(p.device.type == "cuda" for p in model.policy.parameters())
    observations = observations_for(model)
    expected, _ = model.predict(observations, deterministic=True)
    model.save(tmp_path / "model")

    algo_class = type(model)
    on_cpu = algo_class.load(tmp_path / "model", device="cpu")
    assert all(p.device.type == "cpu" for p in on_cpu.policy.parameters())
    np.testing.assert_allclose(on_cpu.predict(observations, deterministic=True)[0], expected, rtol=1e-4, atol=1e-4)
    on_cpu.set_env(model.get_env())
    on_cpu.learn(200, reset_num_timesteps=False)
    on_cpu.save(tmp_path / "model_cpu")

    back_on_gpu = algo_class.load(tmp_path / "model_cpu", env=model.get_env(), device="cuda")
    assert all(p.device.type == "cuda" for p in back_on_gpu.policy.parameters())
    for cpu_param, gpu_param in zip(on_cpu.policy.parameters(), back_on_gpu.policy.parameters(), strict=True):
        th.testing.assert_close(cpu_param, gpu_param.cpu())
    back_on_gpu.learn(200, reset_num_timesteps=False)


def test_dpg_replay_buffer_moves_with_the_model(tmp_path: Path) -> None:
    model = make_model("dpg", "cuda")
    model.learn(300)
    assert isinstance(model, DPG) and model.replay_buffer is not None
    assert model.replay_buffer.sample(8).observations.device.type == "cuda"
    model.save(tmp_path / "model")
    model.save_replay_buffer(tmp_path / "buffer")

    on_cpu = DPG.load(tmp_path / "model", env=gym.make("Pendulum-v1"), device="cpu")
    on_cpu.load_replay_buffer(tmp_path / "buffer")
    assert on_cpu.replay_buffer is not None and on_cpu.replay_buffer.size() == model.replay_buffer.size()
    assert on_cpu.replay_buffer.sample(8).observations.device.type == "cpu"
    on_cpu.learn(100, reset_num_timesteps=False)


def test_zoo_train_on_gpu(tmp_path: Path) -> None:
    result = train(
        "reinforce",
        "CartPole-v1",
        seed=0,
        log_folder=tmp_path,
        n_timesteps=2_000,
        eval_freq=1_000,
        eval_episodes=2,
        final_eval_episodes=2,
        device="cuda",
        verbose=0,
    )
    model = REINFORCE.load(result.model_path, device="cpu")
    assert model.num_timesteps >= 2_000

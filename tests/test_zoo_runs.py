"""The run folder's layout (:mod:`pgzoo.zoo.runs`): what is written is what is read back, under one set of names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from pgzoo.zoo import runs
from pgzoo.zoo.errors import ExperimentNotFoundError


def test_a_run_folder_round_trip(tmp_path: Path) -> None:
    run = runs.new_run_folder(tmp_path, "a2c", "ALE/Pong-v5")
    assert run == runs.run_folder_path(tmp_path, "a2c", "ALE/Pong-v5", 1) == tmp_path / "a2c" / "ALE-Pong-v5_1"
    assert runs.newest_run_folder(tmp_path, "a2c", "ALE/Pong-v5") == run

    runs.write_run_config(run, "ALE/Pong-v5", {"n_envs": 2, "policy": "CnnPolicy"}, {"seed": 3})
    assert runs.read_run_config(run, "ALE/Pong-v5") == {"n_envs": 2, "policy": "CnnPolicy"}
    assert yaml.safe_load((runs.config_folder(run, "ALE/Pong-v5") / runs.ARGS_FILE).read_text()) == {"seed": 3}
    assert runs.load_run_config(run, "ALE/Pong-v5").n_envs == 2
    assert runs.hub_origin(run, "ALE/Pong-v5") is None

    # A run without a model is not the latest one to enjoy, but it is numbered.
    with pytest.raises(ExperimentNotFoundError, match="no trained a2c agent for ALE/Pong-v5"):
        runs.find_run_folder(tmp_path, "a2c", "ALE/Pong-v5")
    for name in (runs.final_model_name("ALE/Pong-v5"), runs.BEST_MODEL, runs.checkpoint_name(200)):
        (run / name).write_bytes(b"zip")
    assert runs.find_run_folder(tmp_path, "a2c", "ALE/Pong-v5") == run
    assert runs.model_file(run, "ALE/Pong-v5").name == "ALE-Pong-v5.zip"
    assert runs.model_file(run, "ALE/Pong-v5", load_best=True).name == "best_model.zip"
    assert runs.model_file(run, "ALE/Pong-v5", load_checkpoint=200).name == "rl_model_200_steps.zip"
    assert runs.new_run_folder(tmp_path, "a2c", "ALE/Pong-v5").name == "ALE-Pong-v5_2"


def test_vecnormalize_and_error_log_round_trip(tmp_path: Path) -> None:
    from pgzoo.zoo.envs import read_vecnormalize_stats

    run = runs.new_run_folder(tmp_path, "ppo", "Pendulum-v1")
    runs.write_run_config(run, "Pendulum-v1", {}, {})
    assert runs.vecnormalize_file(run, "Pendulum-v1") is None and runs.vecnormalize_pickle(run, "Pendulum-v1") is None
    env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=1, seed=0))
    env.reset()
    for _ in range(5):
        env.step(np.zeros((1, 1), dtype=np.float32))
    runs.save_vecnormalize(run, "Pendulum-v1", env)
    json_file, pickle_file = runs.vecnormalize_file(run, "Pendulum-v1"), runs.vecnormalize_pickle(run, "Pendulum-v1")
    assert json_file is not None and json_file.name == runs.VECNORMALIZE_JSON == "vecnormalize.json"
    assert pickle_file is not None and pickle_file.name == runs.VECNORMALIZE_PKL
    stats = read_vecnormalize_stats(json_file)
    np.testing.assert_allclose(stats["obs_rms"].mean, env.obs_rms.mean, rtol=1e-6)

    try:
        raise RuntimeError("the simulator crashed")
    except RuntimeError as error:
        log = runs.write_error_log(run, error)
    assert log == run / runs.ERROR_LOG and "RuntimeError: the simulator crashed" in log.read_text()


def test_remove_unused_run_removes_only_what_a_failed_start_wrote(tmp_path: Path) -> None:
    run = runs.new_run_folder(tmp_path, "a2c", "CartPole-v1")
    runs.write_run_config(run, "CartPole-v1", {"n_envs": 2}, {})
    for rank in range(2):
        (run / runs.monitor_name(rank)).write_text("")
    runs.remove_unused_run(run, "CartPole-v1", n_envs=2)
    assert not run.exists()
    run = runs.new_run_folder(tmp_path, "a2c", "CartPole-v1")
    runs.write_run_config(run, "CartPole-v1", {}, {})
    (run / runs.EVALUATIONS).write_bytes(b"curve")
    runs.remove_unused_run(run, "CartPole-v1", n_envs=1)
    assert (run / runs.EVALUATIONS).is_file()


def test_train_writes_the_names_runs_reads(tmp_path: Path) -> None:
    from pgzoo.zoo.train import train

    result = train("a2c", "CartPole-v1", seed=0, log_folder=tmp_path, n_timesteps=64, eval_freq=32, eval_episodes=1,
                   final_eval_episodes=0, save_freq=32, hyperparams={"normalize": True, "n_envs": 2}, verbose=0)  # fmt: skip
    run = result.run_folder
    assert runs.find_run_folder(tmp_path, "a2c", "CartPole-v1") == run
    assert result.model_path == runs.model_file(run, "CartPole-v1")
    assert runs.model_file(run, "CartPole-v1", load_checkpoint=32).is_file() and (run / runs.EVALUATIONS).is_file()
    assert runs.read_run_config(run, "CartPole-v1")["n_timesteps"] == 64
    assert runs.vecnormalize_file(run, "CartPole-v1") is not None
    assert runs.vecnormalize_pickle(run, "CartPole-v1") is not None

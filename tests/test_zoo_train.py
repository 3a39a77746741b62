"""Training, replaying, recording and safe loading with tiny budgets (in-process)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import yaml
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecNormalize

from pgzoo.zoo.algos import get_algo_class
from pgzoo.zoo.enjoy import load_agent, run_agent
from pgzoo.zoo.errors import DivergedError, HyperparamsError, UnknownAlgoError, UnknownEnvError, ZooError
from pgzoo.zoo.runs import new_run_folder
from pgzoo.zoo.safe_load import load_model_safely
from pgzoo.zoo.train import train

TINY = {"policy_kwargs": "dict(net_arch=[16])"}


@pytest.fixture(scope="module")
def a2c_run(tmp_path_factory: pytest.TempPathFactory):
    logs = tmp_path_factory.mktemp("logs")
    result = train(
        "a2c", "CartPole-v1", seed=3, log_folder=logs, n_timesteps=400, eval_freq=200, eval_episodes=2,
        final_eval_episodes=2, save_freq=200, hyperparams={**TINY, "n_envs": 2}, verbose=0,
    )  # fmt: skip
    return logs, result


def test_train_writes_rl_zoo_layout(a2c_run) -> None:
    logs, result = a2c_run
    run = logs / "a2c" / "CartPole-v1_1"
    assert result.run_folder == run and result.model_path == run / "CartPole-v1.zip"
    names = {p.name for p in run.iterdir()}
    assert {"CartPole-v1.zip", "best_model.zip", "evaluations.npz", "0.monitor.csv", "1.monitor.csv"} <= names
    assert {"rl_model_200_steps.zip", "rl_model_400_steps.zip"} <= names
    assert not [n for n in names if n.endswith(".tmp")], "atomic saves leave no temporary file"
    config = yaml.safe_load((run / "CartPole-v1" / "config.yml").read_text())
    assert config["n_envs"] == 2 and config["policy_kwargs"] == "dict(net_arch=[16])" and config["n_timesteps"] == 400
    args = yaml.safe_load((run / "CartPole-v1" / "args.yml").read_text())
    assert args["seed"] == 3 and args["algo"] == "a2c"
    evaluations = np.load(run / "evaluations.npz")
    assert evaluations["results"].shape[1] == 2
    assert result.n_timesteps >= 400 and not result.interrupted and np.isfinite(result.mean_reward)
    assert "mean reward" in result.summary() and "2 deterministic episodes" in result.summary()


def test_second_run_gets_next_id_and_enjoy_loads_latest(a2c_run, capsys: pytest.CaptureFixture[str]) -> None:
    logs, _ = a2c_run
    agent = load_agent("a2c", "CartPole-v1", logs, load_best=True)
    assert agent.model_path.name == "best_model.zip"
    outcome = run_agent(agent, n_timesteps=60)
    assert len(outcome.actions) == 60 and "Episode 1: reward" in capsys.readouterr().out
    checkpoint = load_agent("a2c", "CartPole-v1", logs, load_checkpoint=200)
    assert checkpoint.model_path.name == "rl_model_200_steps.zip"


def test_ctrl_c_while_writing_evaluations_keeps_the_earlier_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_savez, calls = np.savez, []

    def savez_cut_short(file: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            Path(f"{file}.npz").write_bytes(b"half a zip")  # Ctrl-C in the middle of the second write
            raise KeyboardInterrupt
        real_savez(file, *args, **kwargs)

    monkeypatch.setattr(np, "savez", savez_cut_short)
    result = train(
        "a2c", "CartPole-v1", seed=0, log_folder=tmp_path, n_timesteps=2000, eval_freq=200, eval_episodes=1,
        final_eval_episodes=0, hyperparams={**TINY, "n_envs": 2}, verbose=0,
    )  # fmt: skip
    monkeypatch.undo()
    assert result.interrupted
    with np.load(result.run_folder / "evaluations.npz") as evaluations:
        assert evaluations["timesteps"].tolist() == [200]
    assert not [p.name for p in result.run_folder.iterdir() if "partial" in p.name]


@pytest.mark.parametrize("algo", ["reinforce", "dpg"])
def test_training_that_diverges_is_a_one_line_error(tmp_path: Path, algo: str) -> None:
    import gymnasium as gym
    from broken_envs import NanRewardEnv

    if "NanReward-v0" not in gym.registry:
        gym.register("NanReward-v0", entry_point=NanRewardEnv)
    hyperparams = tmp_path / f"{algo}.yml"
    extra = "  learning_starts: 20\n  batch_size: 8\n" if algo == "dpg" else "  n_episodes: 1\n"
    hyperparams.write_text(f"NanReward-v0:\n  n_timesteps: 300\n  policy_kwargs: 'dict(net_arch=[8])'\n{extra}")
    with pytest.raises(ZooError, match=r"training diverged.*NaN or inf observations or rewards") as error:
        train(algo, "NanReward-v0", seed=0, log_folder=tmp_path, hyperparams_file=hyperparams, eval_freq=0,
              final_eval_episodes=0, verbose=0)  # fmt: skip
    assert "\n" not in str(error.value)


def test_a_failed_a3c_worker_is_a_one_line_error_and_the_model_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pgzoo.a3c import A3C, WorkerError

    def learn_until_a_worker_fails(self: A3C, total_timesteps: int, **kwargs: Any) -> A3C:
        self.num_timesteps = 300
        raise WorkerError("A3C worker 0 failed; its traceback:\nTraceback (most recent call last):\n  ...\n"
                          "RuntimeError: the env broke\n")  # fmt: skip

    monkeypatch.setattr(A3C, "learn", learn_until_a_worker_fails)
    with pytest.raises(ZooError, match=r"^an A3C worker failed after 300 steps: RuntimeError: the env broke$"):
        train("a3c", "CartPole-v1", seed=0, log_folder=tmp_path, n_timesteps=1000, n_workers=1, eval_freq=0,
              final_eval_episodes=0, verbose=0)  # fmt: skip
    assert (tmp_path / "a3c" / "CartPole-v1_1" / "CartPole-v1.zip").is_file()  # what the workers learned is kept
    # A worker that diverged (its error says so by type) gets the same hint as a divergence in the main process,
    # and its model is not kept.
    cause = "ValueError: Expected parameter loc ... but found invalid values: nan"

    def learn_until_nan(self: A3C, total_timesteps: int, **kwargs: Any) -> A3C:
        raise WorkerError(f"A3C worker 0 failed; its traceback:\n{cause}", cause=cause, diverged=True)

    monkeypatch.setattr(A3C, "learn", learn_until_nan)
    with pytest.raises(DivergedError, match=r"an A3C worker failed: .*invalid values: nan \(an env returning NaN or inf"):
        train("a3c", "CartPole-v1", seed=0, log_folder=tmp_path, n_timesteps=1000, n_workers=1, eval_freq=0,
              final_eval_episodes=0, verbose=0)  # fmt: skip
    assert not (tmp_path / "a3c" / "CartPole-v1_2" / "CartPole-v1.zip").exists()


def test_latest_run_skips_runs_without_a_model(a2c_run, tmp_path: Path) -> None:
    logs, _ = a2c_run
    shutil.copytree(logs / "a2c", tmp_path / "a2c")
    (tmp_path / "a2c" / "CartPole-v1_2").mkdir()  # a train that failed before saving anything
    (tmp_path / "a2c" / "CartPole-v1_3" / "CartPole-v1").mkdir(parents=True)  # ... after writing its config
    assert load_agent("a2c", "CartPole-v1", tmp_path).run_folder == tmp_path / "a2c" / "CartPole-v1_1"
    assert new_run_folder(tmp_path, "a2c", "CartPole-v1").name == "CartPole-v1_4"  # numbering counts every folder


def test_safe_loader_matches_sb3_load(a2c_run) -> None:
    logs, result = a2c_run
    agent = load_agent("a2c", "CartPole-v1", logs)
    safe = load_model_safely(result.model_path, get_algo_class("a2c"), agent.env, config={"policy": "MlpPolicy"})
    obs = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    np.testing.assert_array_equal(safe.predict(obs, deterministic=True)[0], agent.model.predict(obs, deterministic=True)[0])
    assert safe.gamma == agent.model.gamma and safe.n_steps == agent.model.n_steps


def test_record_video(a2c_run, tmp_path: Path) -> None:
    pytest.importorskip("imageio_ffmpeg")
    from pgzoo.zoo.record_video import record_video

    logs, _ = a2c_run
    agent = load_agent("a2c", "CartPole-v1", logs, render_mode="rgb_array")
    path = record_video(agent, tmp_path / "replay.mp4", n_timesteps=20)
    assert path.stat().st_size > 1000 and path.read_bytes()[4:8] == b"ftyp"


def test_record_video_bad_output(a2c_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    pytest.importorskip("imageio_ffmpeg")
    from pgzoo.zoo.cli import main
    from pgzoo.zoo.errors import ZooError
    from pgzoo.zoo.record_video import record_video

    logs, _ = a2c_run
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vids").mkdir()
    command = ["record-video", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(logs), "-n", "5", "-o"]
    for output, problem in [("vids", "vids is a folder"), ("/proc/x/y.mp4", "cannot create the folder /proc/x"),
                            ("a.gif", "a.gif: videos are written as MP4")]:  # fmt: skip
        assert main([*command, output]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"error: {problem}") and "\n" not in err
    # A write that fails leaves neither the video nor its temporary file.
    agent = load_agent("a2c", "CartPole-v1", logs, render_mode="rgb_array")

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("imageio.v2.mimsave", disk_full)
    with pytest.raises(ZooError, match="No space left"):
        record_video(agent, tmp_path / "vids" / "replay.mp4", n_timesteps=5)
    assert [p.name for p in tmp_path.rglob("*")] == ["vids"]


def test_normalize_noise_and_schedule_ddpg(tmp_path: Path) -> None:
    result = train(
        "ddpg", "Pendulum-v1", seed=0, log_folder=tmp_path, n_timesteps=120, eval_freq=0, final_eval_episodes=1, verbose=0,
        hyperparams={"learning_starts": 50, "policy_kwargs": "dict(net_arch=[8])", "normalize": True,
                     "learning_rate": "lin_1e-3", "noise_type": "ornstein-uhlenbeck", "noise_std": 0.3},
    )  # fmt: skip
    cfg = result.run_folder / "Pendulum-v1"
    assert (cfg / "vecnormalize.json").is_file() and (cfg / "vecnormalize.pkl").is_file()
    agent = load_agent("ddpg", "Pendulum-v1", tmp_path)
    assert agent.env.obs_rms.count > 100 and not agent.env.training
    from stable_baselines3.common.env_util import make_vec_env

    # The pickle (written atomically) is what rl-zoo3 and plain SB3 read.
    assert VecNormalize.load(str(cfg / "vecnormalize.pkl"), make_vec_env("Pendulum-v1")).obs_rms.count > 100
    from stable_baselines3.common.noise import OrnsteinUhlenbeckActionNoise

    assert isinstance(agent.model.action_noise, OrnsteinUhlenbeckActionNoise) or agent.model.action_noise is None


def test_ctrl_c_saves_model(tmp_path: Path, interrupt_training_at: Callable[[int], None]) -> None:
    interrupt_training_at(64)
    result = train(
        "a2c", "CartPole-v1", seed=0, log_folder=tmp_path, n_timesteps=10_000, eval_freq=0, save_freq=10_000,
        final_eval_episodes=1, hyperparams=TINY, verbose=0,
    )  # fmt: skip
    assert result.interrupted and result.n_timesteps < 10_000 and result.model_path.is_file()
    assert "(interrupted)" in result.summary()


def test_train_errors(tmp_path: Path) -> None:
    with pytest.raises(UnknownAlgoError, match=r"unknown algorithm 'nope'"):
        train("nope", "CartPole-v1", log_folder=tmp_path)
    with pytest.raises(UnknownEnvError, match=r"CartPole-v1"):
        train("a2c", "CartPole-v9", log_folder=tmp_path)
    with pytest.raises(HyperparamsError, match=r"cannot build A2C for CartPole-v1 in .*a2c.yml with the overrides: "):
        train("a2c", "CartPole-v1", log_folder=tmp_path, n_timesteps=10, hyperparams={"no_such_param": 1})
    with pytest.raises(HyperparamsError, match=r"--n-workers does not apply to a2c"):
        train("a2c", "CartPole-v1", log_folder=tmp_path, n_timesteps=10, n_workers=2)
    with pytest.raises(HyperparamsError, match=r"does not take action noise"):
        train("a2c", "CartPole-v1", log_folder=tmp_path, n_timesteps=10, hyperparams={"noise_type": "normal"})
    # The shared pgzoo.common.noise factory refuses a zero standard deviation: said as a hyperparameter error.
    with pytest.raises(HyperparamsError, match=r"noise_std in Pendulum-v1 .*must be a positive number"):
        train("ddpg", "Pendulum-v1", log_folder=tmp_path, n_timesteps=10, hyperparams={"noise_type": "normal", "noise_std": 0})


@pytest.mark.parametrize(
    ("algo", "env_id", "overrides", "message"),
    [
        ("reinforce", "CartPole-v1", {"policy": "FooPolicy"}, r"cannot build REINFORCE .*Policy FooPolicy unknown"),
        ("reinforce", "CartPole-v1", {"policy": "CnnPolicy"}, r"cannot build REINFORCE .*NatureCNN only with images"),
        ("reinforce", "CartPole-v1", {"learning_rate": "abc"}, r"schedule must be a float or a callable, not abc"),
        ("dpg", "CartPole-v1", {}, r"cannot build DPG for CartPole-v1 in .*x.yml: DPG needs a continuous Box"),
        ("dqn", "Pendulum-v1", {}, r"cannot build DQN for Pendulum-v1 in .*x.yml: The algorithm only supports"),
        ("a2c", "CartPole-v1", {"normalize": "dict(norm_obs_keys=['a'])"}, r"normalize .*VecNormalize rejected it"),
        ("a2c", "CartPole-v1", {"callback": {"stable_baselines3.common.callbacks.CheckpointCallback": {"nope": 1}}},
         r"callback CheckpointCallback in CartPole-v1 in .*: .*'nope'"),
    ],
)  # fmt: skip
def test_setup_errors_are_one_line_and_leave_no_run(
    tmp_path: Path, algo: str, env_id: str, overrides: dict[str, object], message: str
) -> None:
    file = tmp_path / "x.yml"
    file.write_text(f"{env_id}:\n  n_timesteps: 10\n  n_envs: 2\n")
    logs = tmp_path / "logs"
    with pytest.raises(HyperparamsError, match=message) as info:
        train(algo, env_id, log_folder=logs, hyperparams_file=file, hyperparams=overrides or None, eval_freq=10, verbose=0)
    assert "\n" not in str(info.value)
    # The run folder was made (the monitor files and config.yml were written) and removed again.
    assert list((logs / algo).iterdir()) == []


def test_unused_run_folder_is_removed_only_when_it_holds_nothing_else(tmp_path: Path) -> None:
    from pgzoo.zoo.runs import remove_unused_run

    def make_run(name: str, *extra: str) -> Path:
        run = tmp_path / name
        (run / "CartPole-v1").mkdir(parents=True)
        for file in ("CartPole-v1/config.yml", "CartPole-v1/args.yml", "0.monitor.csv", "1.monitor.csv", *extra):
            (run / file).write_text("x")
        return run

    remove_unused_run(make_run("CartPole-v1_1"), "CartPole-v1", n_envs=2)
    assert not (tmp_path / "CartPole-v1_1").exists()
    for extra in ("rl_model_10_steps.zip", "CartPole-v1.zip", "notes.txt", "CartPole-v1/vecnormalize.json", "2.monitor.csv"):
        run = make_run(f"CartPole-v1_{extra}", extra)
        before = sorted(run.rglob("*"))
        remove_unused_run(run, "CartPole-v1", n_envs=2)
        assert sorted(run.rglob("*")) == before, extra


def test_bad_arguments_fail_before_any_folder(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    kwargs: dict[str, Any] = {"log_folder": logs, "n_timesteps": 10, "verbose": 0}
    with pytest.raises(ZooError, match=r"unknown torch device 'foo': use auto, cpu, cuda"):
        train("reinforce", "CartPole-v1", device="foo", **kwargs)
    with pytest.raises(ZooError, match=r"final_eval_episodes must be >= 0 .*got -1"):
        train("reinforce", "CartPole-v1", final_eval_episodes=-1, **kwargs)
    with pytest.raises(ZooError, match=r"eval_episodes must be a positive number of episodes, got 0"):
        train("reinforce", "CartPole-v1", eval_episodes=0, **kwargs)
    for seed in (-1, 2**32):
        with pytest.raises(ZooError, match=rf"seed must be between 0 and {2**32 - 1}, got {seed}"):
            train("reinforce", "CartPole-v1", seed=seed, **kwargs)
    assert not logs.exists()


def test_reinforce_from_packaged_file(tmp_path: Path) -> None:
    result = train("reinforce", "CartPole-v1", seed=1, log_folder=tmp_path, n_timesteps=300, eval_freq=0,
                   final_eval_episodes=2, hyperparams=TINY, verbose=0)  # fmt: skip
    assert result.hyperparams_file.name == "reinforce.yml" and result.model_path.is_file()
    agent = load_agent("reinforce", "CartPole-v1", tmp_path)
    safe = load_model_safely(result.model_path, get_algo_class("reinforce"), agent.env, config={"policy": "MlpPolicy"})
    obs = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    np.testing.assert_array_equal(safe.predict(obs, deterministic=True)[0], agent.model.predict(obs, deterministic=True)[0])


@pytest.mark.timeout(120)
def test_a3c_with_workers(tmp_path: Path) -> None:
    try:
        get_algo_class("a3c")
    except UnknownAlgoError:
        pytest.skip("pgzoo.a3c not available")
    hyperparams_file = tmp_path / "a3c.yml"
    # With shared observation statistics: the safe loader must rebuild them too.
    hyperparams_file.write_text("CartPole-v1:\n  n_timesteps: 400\n  policy: MlpPolicy\n  normalize_obs: true\n")
    result = train("a3c", "CartPole-v1", seed=0, log_folder=tmp_path, hyperparams_file=hyperparams_file, n_workers=1,
                   eval_freq=0, final_eval_episodes=1, hyperparams=TINY, verbose=0)  # fmt: skip
    assert result.n_timesteps >= 400 and result.model_path.is_file()
    assert yaml.safe_load((result.run_folder / "CartPole-v1" / "config.yml").read_text())["n_workers"] == 1
    agent = load_agent("a3c", "CartPole-v1", tmp_path)
    safe = load_model_safely(result.model_path, get_algo_class("a3c"), agent.env, config={"policy": "MlpPolicy"})
    obs = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    np.testing.assert_array_equal(safe.predict(obs, deterministic=True)[0], agent.model.predict(obs, deterministic=True)[0])
    assert safe.policy.features_extractor.obs_count.item() == agent.model.policy.features_extractor.obs_count.item() > 400


@pytest.mark.timeout(180)
def test_a3c_with_vec_normalize_frame_stack_and_an_env_wrapper(tmp_path: Path) -> None:
    """The zoo's normalize, frame_stack and env_wrapper (one that doesn't record its arguments) reach A3C's workers."""
    hyperparams_file = tmp_path / "a3c.yml"
    hyperparams_file.write_text(
        "CartPole-v1:\n  n_timesteps: 400\n  policy: MlpPolicy\n  normalize: true\n  frame_stack: 2\n"
        "  env_wrapper: sb3_contrib.common.wrappers.TimeFeatureWrapper\n"
    )
    result = train("a3c", "CartPole-v1", seed=0, log_folder=tmp_path, hyperparams_file=hyperparams_file, n_workers=1,
                   eval_freq=200, final_eval_episodes=1, hyperparams=TINY, verbose=0)  # fmt: skip
    assert result.n_timesteps >= 400 and result.model_path.is_file()
    stats = json.loads((result.run_folder / "CartPole-v1" / "vecnormalize.json").read_text())
    # The workers' observations (CartPole's 4 + the time feature, stacked twice) reached the saved statistics.
    assert stats["obs_rms"]["count"] > 400 and len(stats["obs_rms"]["mean"]) == 10
    agent = load_agent("a3c", "CartPole-v1", tmp_path)
    assert agent.model.observation_space.shape == (10,)


@pytest.mark.timeout(300)
def test_a3c_starts_training_on_atari_with_frame_stack(tmp_path: Path) -> None:
    """Issue #25: A3C on Pong through the zoo (AtariWrapper + frame_stack 4 + CnnPolicy), with the atari extra."""
    ale_py = pytest.importorskip("ale_py")
    gym.register_envs(ale_py)
    hyperparams_file = tmp_path / "a3c.yml"
    hyperparams_file.write_text(
        "PongNoFrameskip-v4:\n  n_timesteps: 40\n  policy: CnnPolicy\n  n_envs: 2\n  frame_stack: 4\n"
        "  env_wrapper: stable_baselines3.common.atari_wrappers.AtariWrapper\n"
    )
    result = train("a3c", "PongNoFrameskip-v4", seed=0, log_folder=tmp_path, hyperparams_file=hyperparams_file,
                   n_workers=1, eval_freq=0, final_eval_episodes=0, verbose=0)  # fmt: skip
    assert result.n_timesteps >= 40 and result.model_path.is_file()
    agent = load_agent("a3c", "PongNoFrameskip-v4", tmp_path)
    assert agent.model.observation_space.shape == (4, 84, 84)


def test_dpg_from_packaged_file_with_noise(tmp_path: Path) -> None:
    try:
        get_algo_class("dpg")
    except UnknownAlgoError:
        pytest.skip("pgzoo.dpg not available")
    result = train("dpg", "Pendulum-v1", seed=0, log_folder=tmp_path, n_timesteps=120, eval_freq=0, final_eval_episodes=1,
                   hyperparams={"learning_starts": 60, "policy_kwargs": "dict(net_arch=[8])"}, verbose=0)  # fmt: skip
    assert result.hyperparams_file.name == "dpg.yml"
    agent = load_agent("dpg", "Pendulum-v1", tmp_path)
    safe = load_model_safely(result.model_path, get_algo_class("dpg"), agent.env, config={"policy": "MlpPolicy"})
    obs = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    np.testing.assert_allclose(safe.predict(obs, deterministic=True)[0], agent.model.predict(obs, deterministic=True)[0])


def _interrupt_at(monkeypatch: pytest.MonkeyPatch, steps: int) -> None:
    """Make the next train() raise KeyboardInterrupt (as Ctrl-C would) once it has taken ``steps`` env steps."""

    class Interrupt(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps >= steps:
                raise KeyboardInterrupt
            return True

    import pgzoo.zoo.train as train_module

    real = train_module.CallbackList
    monkeypatch.setattr(train_module, "CallbackList", lambda callbacks: real([*callbacks, Interrupt()]))


def test_resume_continues_an_interrupted_off_policy_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    from pgzoo.zoo.resume import Resume

    kwargs = {"seed": 0, "log_folder": tmp_path / "logs", "n_timesteps": 400, "eval_freq": 0, "final_eval_episodes": 1,
              "verbose": 0, "hyperparams": {"learning_starts": 50, "policy_kwargs": "dict(net_arch=[8])",
                                            "normalize": True, "noise_type": "normal", "noise_std": 0.1}}  # fmt: skip
    resume = Resume(tmp_path / "resume", save_freq=100, digest="settings-1")
    with monkeypatch.context() as patch:
        _interrupt_at(patch, 250)
        first = train("dpg", "Pendulum-v1", resume=resume, **kwargs)
    assert first.interrupted and first.resumed_from == 0
    checkpoint = resume.latest()
    # Saved at 100 and 200 steps, then on Ctrl-C: only the newest is kept.
    assert checkpoint is not None and checkpoint.num_timesteps == first.n_timesteps == 250
    assert sorted(p.name[:18] for p in resume.folder.iterdir()) == ["checkpoint.json", "steps_000000000250"]
    assert {p.name for p in checkpoint.folder.iterdir()} == {"model.zip", "replay_buffer.pkl", "vecnormalize.json"}

    second = train("dpg", "Pendulum-v1", resume=resume, **kwargs)
    assert not second.interrupted and second.resumed_from == 250 and second.n_timesteps == 400
    assert second.train_time_s > checkpoint.train_time_s
    last = resume.latest()
    assert last is not None and last.num_timesteps == 350  # the next multiple of save_freq after 250
    # The replay buffer and the normalization statistics went on from the first sitting's. Periodic checkpoints wait
    # for the step's transition to be stored; only Ctrl-C (raised before SB3 stores it) lost one.
    with open(last.folder / "replay_buffer.pkl", "rb") as file:
        assert pickle.load(file).size() == 350 - 1
    agent = load_agent("dpg", "Pendulum-v1", tmp_path / "logs")
    assert agent.env.obs_rms.count > 400

    # Saving again at the same step count never touches the current checkpoint before the new one is complete.
    model = get_algo_class("dpg").load(last.folder / "model.zip")
    again = resume.save(model, train_time_s=1.0)
    assert again.folder != last.folder and resume.latest() == again and not last.folder.exists()

    # A checkpoint saved with other settings is stale: a run with a new digest starts over.
    fresh = train("dpg", "Pendulum-v1", resume=Resume(resume.folder, save_freq=100, digest="settings-2"), **kwargs)
    assert fresh.resumed_from == 0 and fresh.n_timesteps == 400


@pytest.mark.timeout(120)
def test_resume_continues_an_interrupted_a3c_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pgzoo.zoo.resume import Resume

    hyperparams_file = tmp_path / "a3c.yml"
    hyperparams_file.write_text("CartPole-v1:\n  n_timesteps: 2000\n  policy: MlpPolicy\n  n_envs: 4\n")
    kwargs = {"seed": 0, "log_folder": tmp_path, "hyperparams_file": hyperparams_file, "n_workers": 1, "eval_freq": 0,
              "final_eval_episodes": 1, "hyperparams": TINY, "verbose": 0}  # fmt: skip
    resume = Resume(tmp_path / "resume", save_freq=0)
    with monkeypatch.context() as patch:
        _interrupt_at(patch, 800)
        first = train("a3c", "CartPole-v1", resume=resume, **kwargs)
    assert first.interrupted and 800 <= first.n_timesteps < 2000
    second = train("a3c", "CartPole-v1", resume=resume, **kwargs)
    # The workers go on up to the budget of the whole run, not a whole budget more.
    assert second.resumed_from == first.n_timesteps and 2000 <= second.n_timesteps <= 2000 + 4 * 5


# --- Failures by type ---------------------------------------------------------------------------------------------


def _register_nan_reward() -> None:
    from broken_envs import NanRewardEnv

    if "NanReward-v0" not in gym.registry:
        gym.register("NanReward-v0", entry_point=NanRewardEnv)


@pytest.mark.parametrize("algo", ["reinforce", "dpg"])
def test_the_algorithms_raise_a_divergence_by_type(algo: str) -> None:
    from pgzoo.common.errors import DivergenceError
    from pgzoo.dpg import DPG
    from pgzoo.reinforce import REINFORCE

    _register_nan_reward()
    kwargs: dict[str, Any] = {"learning_starts": 20, "batch_size": 8} if algo == "dpg" else {"n_episodes": 1}
    algo_class = DPG if algo == "dpg" else REINFORCE
    model = algo_class("MlpPolicy", "NanReward-v0", seed=0, policy_kwargs={"net_arch": [8]}, **kwargs)
    with pytest.raises(DivergenceError, match=r"loss is NaN or inf$"):
        model.learn(300)
    if algo == "reinforce":  # checked before the optimizer step: the weights are still finite
        from pgzoo.zoo.fileio import non_finite_tensor

        assert non_finite_tensor(model) is None


def test_worker_error_keeps_its_fields_across_processes() -> None:
    import pickle

    from pgzoo.common.errors import WorkerError

    copy = pickle.loads(pickle.dumps(WorkerError("worker 1 failed", cause="KeyError: 'x'", diverged=True)))
    assert (str(copy), copy.cause, copy.diverged) == ("worker 1 failed", "KeyError: 'x'", True)


def test_a_baselines_divergence_is_told_by_its_weights(tmp_path: Path) -> None:
    # SB3's A2C raises no pgzoo type: NaN rewards reach its weights, and torch's distributions then refuse them.
    _register_nan_reward()
    hyperparams = tmp_path / "a2c.yml"
    hyperparams.write_text("NanReward-v0:\n  n_timesteps: 200\n  policy_kwargs: 'dict(net_arch=[8])'\n")
    with pytest.raises(DivergedError, match=r"training diverged.*NaN or inf observations or rewards") as error:
        train("a2c", "NanReward-v0", seed=0, log_folder=tmp_path, hyperparams_file=hyperparams, eval_freq=0,
              final_eval_episodes=0, verbose=0)  # fmt: skip
    assert "\n" not in str(error.value) and not list(tmp_path.rglob("*.zip"))


def test_a_value_error_is_not_a_divergence_because_it_says_nan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stable_baselines3 import A2C

    def learn_and_fail(self: A2C, total_timesteps: int, **kwargs: Any) -> A2C:
        raise ValueError("unknown option 'nan_mode'")  # a bug, with "nan" in its text: not a divergence

    monkeypatch.setattr(A2C, "learn", learn_and_fail)
    with pytest.raises(ValueError, match="nan_mode"):
        train("a2c", "CartPole-v1", seed=0, log_folder=tmp_path, n_timesteps=100, hyperparams=TINY, eval_freq=0,
              final_eval_episodes=0, verbose=0)  # fmt: skip

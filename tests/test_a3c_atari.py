"""
Issue #25, A3C on Atari: the packaged ``atari`` / ``PongNoFrameskip-v4`` entries, the ALE v5 ids, and the zoo's
evaluation protocol for Atari (sampled actions, whole games) against every other env's (unchanged).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.atari_wrappers import AtariWrapper, EpisodicLifeEnv, MaxAndSkipEnv
from stable_baselines3.common.callbacks import EvalCallback, StopTrainingOnRewardThreshold
from stable_baselines3.common.vec_env import VecEnv

from pgzoo.a3c import SharedRMSpropTFLike
from pgzoo.zoo.enjoy import load_agent, run_agent
from pgzoo.zoo.envs import check_env_id, deterministic_eval_default, make_zoo_env
from pgzoo.zoo.hyperparams import get_env_hyperparams, preprocess_hyperparams
from pgzoo.zoo.train import train

ale_py = pytest.importorskip("ale_py", reason="needs the atari extra")
gym.register_envs(ale_py)


def _inner_wrappers(env: VecEnv) -> list[gym.Env]:
    """The first env's wrappers and the env itself, outermost first."""
    current: Any = env.unwrapped.envs[0]  # type: ignore[attr-defined]
    chain = [current]
    while isinstance(current, gym.Wrapper):
        current = current.env
        chain.append(current)
    return chain


def _atari_env(env_id: str, *, training: bool, entry: dict[str, Any] | None = None) -> tuple[VecEnv, list[gym.Env]]:
    if entry is None:
        entry, _ = get_env_hyperparams("a3c", env_id)
    env = make_zoo_env(env_id, preprocess_hyperparams(dict(entry)), n_envs=1, seed=0, training=training)
    return env, _inner_wrappers(env)


def _recorded_atari_kwargs(env: VecEnv) -> dict[str, Any]:
    """AtariWrapper's arguments as the env's spec records them: what A3C's workers rebuild their envs with."""
    spec = env.unwrapped.envs[0].spec  # type: ignore[attr-defined]
    return next(dict(w.kwargs) for w in spec.additional_wrappers if w.name == "AtariWrapper")


def test_packaged_entries_follow_rl_zoo_conventions() -> None:
    check_env_id("ALE/Pong-v5")
    pong, path = get_env_hyperparams("a3c", "PongNoFrameskip-v4")
    assert path.name == "a3c.yml"
    # Any Atari id without an entry of its own gets the `atari` entry: the v4 ids and ALE's v5 ids alike.
    default, _ = get_env_hyperparams("a3c", "SpaceInvadersNoFrameskip-v4")
    assert get_env_hyperparams("a3c", "ALE/Pong-v5")[0] == default
    for entry in (pong, default):
        config = preprocess_hyperparams(dict(entry))
        assert config.policy == "CnnPolicy" and config.frame_stack == 4
        assert config.wrappers == [(AtariWrapper, {})] and config.tuning_seeds == ()
        # 2 workers x 8 envs: the RL Zoo A2C entry's 16 envs; the paper's t_max, entropy bonus, discount and RMSProp
        # with TensorFlow's rule, as the RL Zoo's RMSpropTFLike.
        assert config.model_kwargs["n_workers"] * config.n_envs == 16
        kwargs = config.model_kwargs
        assert (kwargs["n_steps"], kwargs["ent_coef"], kwargs["gamma"]) == (5, 0.01, 0.99)
        assert kwargs["policy_kwargs"]["optimizer_class"] is SharedRMSpropTFLike
        assert kwargs["policy_kwargs"]["optimizer_kwargs"] == {"alpha": 0.99, "eps": 1e-5, "weight_decay": 0}
    assert pong["n_timesteps"] == 5e6 and default["n_timesteps"] == 1e7


@pytest.mark.parametrize("env_id", ["PongNoFrameskip-v4", "ALE/Pong-v5"])
def test_frames_are_skipped_once(env_id: str) -> None:
    """v5 ids skip 4 frames in the emulator: AtariWrapper must not skip again (4 x 4 = 16 frames an action)."""
    env, chain = _atari_env(env_id, training=True)
    try:
        emulator_skip = env.unwrapped.envs[0].unwrapped._frameskip  # type: ignore[attr-defined]
        skips = [w._skip for w in chain if isinstance(w, MaxAndSkipEnv)]
        assert emulator_skip * int(np.prod(skips)) == 4
        assert skips == ([4] if env_id.endswith("NoFrameskip-v4") else [])
        # Workers rebuild from the spec: it records the frame_skip actually used.
        assert _recorded_atari_kwargs(env).get("frame_skip", 4) == (4 if emulator_skip == 1 else 1)
        assert env.observation_space.shape == (4, 84, 84) and env.observation_space.dtype == np.uint8
    finally:
        env.close()


def test_an_explicit_frame_skip_is_kept() -> None:
    wrapper = [{"stable_baselines3.common.atari_wrappers.AtariWrapper": {"frame_skip": 2}}]
    entry = {**get_env_hyperparams("a3c", "ALE/Pong-v5")[0], "env_wrapper": wrapper}
    env, chain = _atari_env("ALE/Pong-v5", training=True, entry=entry)
    try:
        assert [w._skip for w in chain if isinstance(w, MaxAndSkipEnv)] == [2]
    finally:
        env.close()


def test_atari_evaluation_protocol() -> None:
    """Evaluation and replay: whole games (no terminal on life loss) and sampled actions; training keeps life loss."""
    check_env_id("ALE/Pong-v5")
    for env_id in ("PongNoFrameskip-v4", "ALE/Pong-v5"):
        assert deterministic_eval_default(env_id) is False
        training, training_chain = _atari_env(env_id, training=True)
        evaluation, evaluation_chain = _atari_env(env_id, training=False)
        try:
            assert any(isinstance(w, EpisodicLifeEnv) for w in training_chain)
            assert not any(isinstance(w, EpisodicLifeEnv) for w in evaluation_chain)
            assert _recorded_atari_kwargs(evaluation)["terminal_on_life_loss"] is False
        finally:
            training.close()
            evaluation.close()


def test_other_envs_keep_their_evaluation_protocol() -> None:
    assert deterministic_eval_default("CartPole-v1") is True
    assert deterministic_eval_default("Pendulum-v1") is True
    # A non-Atari wrapper gets the same arguments for training and evaluation.
    config = preprocess_hyperparams({"env_wrapper": [{"gymnasium.wrappers.TimeAwareObservation": {"flatten": True}}]})
    for training in (True, False):
        env = make_zoo_env("CartPole-v1", config, n_envs=1, training=training)
        try:
            spec = env.unwrapped.envs[0].spec  # type: ignore[attr-defined]
            assert (spec.additional_wrappers[-1].name, spec.additional_wrappers[-1].kwargs) == (
                "TimeAwareObservation",
                {"flatten": True},
            )
        finally:
            env.close()


def test_a3c_trains_on_pong_from_the_packaged_entry(tmp_path: Path) -> None:
    """2 workers x 8 envs, AtariWrapper and 4 stacked frames from hyperparams/a3c.yml; saved, loaded and played."""
    result = train("a3c", "PongNoFrameskip-v4", seed=0, log_folder=tmp_path, n_timesteps=1600, eval_freq=0,
                   final_eval_episodes=0, verbose=0)  # fmt: skip
    assert result.n_timesteps >= 1600 and result.model_path.is_file()
    assert result.hyperparams_file.name == "a3c.yml"
    assert result.deterministic is False  # the Atari protocol, without being asked
    model = result.model_path
    agent = load_agent("a3c", "PongNoFrameskip-v4", tmp_path)
    try:
        assert agent.model_path == model
        assert agent.model.n_workers == 2 and agent.model.observation_space.shape == (4, 84, 84)
        assert not any(isinstance(w, EpisodicLifeEnv) for w in _inner_wrappers(agent.env))
        played = run_agent(agent, n_timesteps=20, deterministic=False, verbose=False)
        assert len(played.actions) == 20 and all(0 <= a < 6 for a in played.actions)
    finally:
        agent.env.close()


def test_the_benchmark_report_says_which_rows_sampled_their_actions() -> None:
    from pgzoo.zoo.benchmark.plots import reward_label
    from pgzoo.zoo.benchmark.record import RunRecord
    from pgzoo.zoo.benchmark.report import render_report
    from pgzoo.zoo.benchmark.scoring import group_rows

    def record(env_id: str, seed: int, deterministic: bool) -> RunRecord:
        return RunRecord.from_json({"algo": "a3c", "env": env_id, "seed": seed, "n_timesteps": 1000,
                                    "final_mean_reward": 1.0, "final_std_reward": 0.0, "eval_episodes": 20,
                                    "deterministic_eval": deterministic, "curve": [[1000, 1.0, 0.0]],
                                    "machine": {"cpu_count": 2}, "versions": {"pgzoo": "0"}})  # fmt: skip

    cartpole = [record("CartPole-v1", seed, True) for seed in (10, 11, 12)]
    unchanged = render_report(group_rows(cartpole), {})
    assert "evaluated deterministically on a separate evaluation env." in unchanged
    assert "20 deterministic episodes per seed" in unchanged and "sampled" not in unchanged
    pong = [record("PongNoFrameskip-v4", seed, False) for seed in (10, 11, 12)]
    report = render_report(group_rows(cartpole + pong), {})
    (note,) = [line for line in report.splitlines() if line.startswith("- Evaluated with sampled actions")]
    assert note.endswith(": a3c PongNoFrameskip-v4. Every other row takes the most likely actions.")
    assert "20 episodes per seed" in report
    # The learning-curve plots name the protocol of their curves.
    rows = group_rows(cartpole + pong)
    assert reward_label([r for r in rows if r.env_id == "CartPole-v1"]) == "mean evaluation reward (deterministic)"
    assert reward_label([r for r in rows if r.env_id == "PongNoFrameskip-v4"]) == "mean evaluation reward (sampled actions)"
    assert reward_label(rows) == "mean evaluation reward (deterministic / sampled actions)"


def test_cli_trains_an_alev5_id_with_the_atari_entry(tmp_path: Path) -> None:
    """`pgzoo train --env ALE/Pong-v5` takes the `atari` entry; enjoy replays whole games without a second frame skip."""
    from pgzoo.zoo.cli import main

    logs = str(tmp_path)
    train_args = ["train", "--algo", "a3c", "--env", "ALE/Pong-v5", "-f", logs, "-n", "80", "--n-workers", "1",
                  "--seed", "0", "--eval-freq", "0", "--final-eval-episodes", "0", "-params", "n_envs:2"]  # fmt: skip
    assert main(train_args) == 0
    agent = load_agent("a3c", "ALE/Pong-v5", tmp_path)
    try:
        assert agent.run_folder.name == "ALE-Pong-v5_1"
        assert _recorded_atari_kwargs(agent.env) == {"frame_skip": 1, "terminal_on_life_loss": False}
        assert agent.model.n_steps == 5 and agent.model.ent_coef == 0.01  # the `atari` entry's values
    finally:
        agent.env.close()
    assert main(["enjoy", "--algo", "a3c", "--env", "ALE/Pong-v5", "-f", logs, "--no-render", "-n", "10"]) == 0


@pytest.mark.parametrize(("env_id", "actions"), [("PongNoFrameskip-v4", "stochastic"), ("CartPole-v1", "deterministic")])
def test_tune_says_which_actions_scored_its_best_entry(tmp_path: Path, env_id: str, actions: str) -> None:
    """`pgzoo tune` scores with train()'s evaluation rule: its best entry's header names it and is read back."""
    from types import SimpleNamespace

    from pgzoo.zoo.tune import _best_entry_text, _recorded_score

    best = SimpleNamespace(number=3, value=12.5)
    text = _best_entry_text("a3c", env_id, {"n_timesteps": 1000}, best, 8, 5, 1000, 0, 1)
    assert f"mean {actions} reward 12.50 over 5 episodes after 1000 steps" in text.splitlines()[0]
    output = tmp_path / "best.yml"
    output.write_text(text)
    assert _recorded_score(output, "a3c", env_id, 1000) == 12.5


def test_probe_policy_script_reports_values_and_entropy(capsys: pytest.CaptureFixture[str]) -> None:
    """scripts/probe_policy.py, which docs/atari.md quotes: a trained agent's values vary, the errors are one line."""
    from script_modules import load_script

    probe = load_script("probe_policy")
    root = Path(__file__).resolve().parents[1]
    agent = root / "agents" / "a3c" / "CartPole-v1_1" / "CartPole-v1.zip"
    assert probe.main([str(agent), "--env", "CartPole-v1", "--steps", "100", "--seed", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    value_std = float(lines[0].split("std ")[1].split(",")[0])
    assert value_std > 0.0 and lines[1].startswith("entropy : mean ") and lines[2].startswith("actions : ")
    assert probe.main([str(root / "missing.zip"), "--env", "CartPole-v1"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


# The slow test's budget. The benchmark's seed 0 run of the entry (docs/atari.md) passed -15 between 2.25M and
# 2.5M steps and stood at -10.6 at 2.75M. The test's own run (2026-12-03) stopped at 2.25M steps (-10.3) after 36
# minutes on 2 cores; at the full budget it would take about 50.
PONG_BUDGET = 3_000_000
PONG_EVAL_EVERY = 250_000
PONG_BAR = -15.0


@pytest.mark.slow
def test_a3c_pong_improves_past_minus_15(tmp_path: Path) -> None:
    """
    The packaged PongNoFrameskip-v4 entry (2 workers) improves past -15 within :data:`PONG_BUDGET` steps: every
    :data:`PONG_EVAL_EVERY` steps 3 whole games with sampled actions (the Atari protocol), stopping at the first
    mean above :data:`PONG_BAR`. From -21 (every point lost) at the start.
    """
    entry, _ = get_env_hyperparams("a3c", "PongNoFrameskip-v4")
    eval_env = make_zoo_env("PongNoFrameskip-v4", preprocess_hyperparams(dict(entry)), n_envs=1, seed=10_000,
                            training=False)  # fmt: skip
    n_envs = int(entry["n_envs"])  # one callback call is one step of a worker's n_envs envs
    stop = StopTrainingOnRewardThreshold(reward_threshold=PONG_BAR)
    evaluation = EvalCallback(eval_env, callback_on_new_best=stop, n_eval_episodes=3, eval_freq=PONG_EVAL_EVERY // n_envs,
                              log_path=str(tmp_path / "eval"), deterministic=False, verbose=1)  # fmt: skip
    try:
        train("a3c", "PongNoFrameskip-v4", seed=0, log_folder=tmp_path, n_timesteps=PONG_BUDGET, eval_freq=0,
              final_eval_episodes=0, extra_callbacks=[evaluation], verbose=0)  # fmt: skip
    finally:
        eval_env.close()
    # evaluations_* are recorded because log_path is set
    curve = [(int(steps), float(np.mean(games))) for steps, games in
             zip(evaluation.evaluations_timesteps, evaluation.evaluations_results, strict=True)]  # fmt: skip
    print("Pong, mean of 3 sampled games:", curve)
    assert curve and curve[0][1] < PONG_BAR  # it started below the bar
    assert evaluation.best_mean_reward > PONG_BAR, curve

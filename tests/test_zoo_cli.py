"""The ``pgzoo`` command line: help with examples, and one-line errors with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pgzoo.zoo.cli import main

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["train", "enjoy", "record-video", "push", "pull"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"pgzoo {command}" in out


def test_top_level_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(command in out for command in COMMANDS)


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_unknown_algo_and_env(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["train", "--algo", "reinforc", "--env", "CartPole-v1", "-f", str(tmp_path)], capsys)
    assert "unknown algorithm 'reinforc'" in err and "Did you mean reinforce" in err
    err = _error(["train", "--algo", "a2c", "--env", "CartPol-v1", "-f", str(tmp_path)], capsys)
    assert "unknown environment id 'CartPol-v1'" in err and "CartPole-v1" in err


def test_env_missing_from_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["train", "--algo", "a2c", "--env", "MountainCar-v0", "-f", str(tmp_path)], capsys)
    assert "'MountainCar-v0' has no entry in" in err and "a2c.yml" in err and "CartPole-v1" in err
    file = tmp_path / "mine.yml"
    file.write_text("Pendulum-v1:\n  n_timesteps: 10\n")
    err = _error(["train", "--algo", "a2c", "--env", "CartPole-v1", "--hyperparams", str(file)], capsys)
    assert str(file) in err and "Envs in that file: Pendulum-v1" in err


def test_malformed_yaml_and_bad_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "bad.yml"
    file.write_text("CartPole-v1:\n  policy_kwargs: [\n")
    assert "malformed YAML in" in _error(
        ["train", "--algo", "a2c", "--env", "CartPole-v1", "--hyperparams", str(file)], capsys
    )
    file.write_text("CartPole-v1:\n  n_timesteps: 10\n  policy_kwargs: \"dict(activation_fn=__import__('os'))\"\n")
    err = _error(["train", "--algo", "a2c", "--env", "CartPole-v1", "--hyperparams", str(file), "-f", str(tmp_path)], capsys)
    assert "calling '__import__' is not allowed" in err and "allowed:" in err
    err = _error(["train", "--algo", "a2c", "--env", "CartPole-v1", "-params", "n_timesteps", "-f", str(tmp_path)], capsys)
    assert "expected key:value" in err


def test_missing_run_and_repo_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(["enjoy", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(tmp_path), "--no-render"], capsys)
    assert "no trained a2c agent for CartPole-v1" in err
    err = _error(["push", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(tmp_path)], capsys)
    assert "--repo-id ORG/NAME or --org ORG" in err
    err = _error(
        ["push", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(tmp_path), "--repo-id", "x/y", "--dry-run"], capsys
    )
    assert "--local-dir" in err


def test_module_entry_point_reports_errors_without_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pgzoo", "train", "--algo", "nope", "--env", "CartPole-v1"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (
        done.returncode == 2 and done.stderr.startswith("error: unknown algorithm 'nope'") and "Traceback" not in done.stderr
    )
    done = subprocess.run(
        [sys.executable, "-m", "pgzoo", "train", "--help"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "examples:" in done.stdout and "--n-workers" in done.stdout

"""The ``pgzoo`` command line: help with examples, and one-line errors with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
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


def test_package_exports_are_what_they_say() -> None:
    # A fresh interpreter: what an export resolves to can depend on which submodules were imported before.
    code = (
        "import types, pgzoo.zoo.train, pgzoo.zoo.enjoy, pgzoo.zoo.hub, pgzoo.zoo as zoo; "
        "print([name for name in zoo.__all__ if isinstance(getattr(zoo, name), types.ModuleType)]); "
        "from pgzoo.zoo.train import train; print(callable(train))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "True"]


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
    train = ["train", "--algo", "a2c", "--env", "CartPole-v1", "-n", "100", "-f", str(tmp_path)]
    err = _error([*train, "-params", "policy_kwargs:dict(net_arch=[-5])"], capsys)  # refused by torch
    assert err.startswith("error: cannot build A2C for ")
    (tmp_path / "binary.yml").write_bytes(b"\xff\xfe\x00")
    assert "is not a text (YAML) file" in _error([*train, "--hyperparams", str(tmp_path / "binary.yml")], capsys)
    assert "cannot read the hyperparameter file" in _error([*train, "--hyperparams", str(tmp_path)], capsys)
    err = _error([*train[:-1], str(tmp_path / "binary.yml")], capsys)  # a file where the logs folder should be
    assert err.startswith(f"error: cannot create a run folder in {tmp_path / 'binary.yml'}: ")


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


def _train_argv(folder: Path, *extra: str) -> list[str]:
    return ["train", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(folder), "-n", "64", "--eval-freq", "0",
            "--final-eval-episodes", "1", "--verbose", "0", "--seed", "0", *extra]  # fmt: skip


def test_failed_trains_are_one_line_errors_and_leave_the_latest_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_train_argv(tmp_path, "-params", "policy_kwargs:dict(net_arch=[8])")) == 0
    assert "Policy FooPolicy unknown" in _error(_train_argv(tmp_path, "-params", "policy:FooPolicy"), capsys)
    assert "DQN" in _error(["train", "--algo", "dqn", "--env", "Pendulum-v1", "-f", str(tmp_path), "-n", "64",
                            "--hyperparams", str(ROOT / "hyperparams" / "ddpg.yml")], capsys)  # fmt: skip
    assert "'foo'" in _error(_train_argv(tmp_path, "-params", "normalize:dict(foo=1)"), capsys)
    assert "noise_std" in _error(_train_argv(tmp_path, "-params", "noise_std:abc"), capsys)
    assert "unknown torch device 'foo'" in _error(_train_argv(tmp_path, "--device", "foo"), capsys)
    # The failed runs left no folder: enjoy still finds the trained one as the latest.
    assert [p.name for p in (tmp_path / "a2c").iterdir()] == ["CartPole-v1_1"]
    enjoy = ["enjoy", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(tmp_path), "--no-render", "-n", "5"]
    assert main(enjoy) == 0 and "CartPole-v1_1/CartPole-v1.zip" in capsys.readouterr().out
    assert "unknown torch device 'foo'" in _error([*enjoy, "--device", "foo"], capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--algo", "a2c", "--env", "CartPole-v1", "--final-eval-episodes", "-1"],
        ["train", "--algo", "a2c", "--env", "CartPole-v1", "--seed", "-1"],
        ["enjoy", "--algo", "a2c", "--env", "CartPole-v1", "--seed", "-1"],
    ],
)
def test_counts_and_seeds_are_checked_by_the_parser(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert f"argument {argv[-2]}: must be a" in capsys.readouterr().err


def test_ctrl_c_saves_the_model_and_exits_130(
    tmp_path: Path, interrupt_training_at: Callable[[int], None], capsys: pytest.CaptureFixture[str]
) -> None:
    interrupt_training_at(32)
    argv = _train_argv(tmp_path, "-params", "policy_kwargs:dict(net_arch=[8])", "--save-freq", "100000")
    assert main([*argv, "-n", "10000"]) == 130
    assert "(interrupted)" in capsys.readouterr().out
    assert (tmp_path / "a2c" / "CartPole-v1_1" / "CartPole-v1.zip").is_file()


@pytest.mark.timeout(120)
def test_sigterm_saves_the_model_and_exits_130(tmp_path: Path) -> None:
    import signal
    import time

    command = [sys.executable, "-m", "pgzoo.zoo.cli", "train", "--algo", "reinforce", "--env", "CartPole-v1",
               "-n", "10000000", "-f", str(tmp_path), "--final-eval-episodes", "0", "--no-progress-bar"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while not any(len(f.read_text().splitlines()) > 2 for f in tmp_path.rglob("*.monitor.csv")):
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read() if process.stdout else ""
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, output
    assert (tmp_path / "reinforce" / "CartPole-v1_1" / "CartPole-v1.zip").is_file()


def test_unknown_env_mentions_gym_packages_only_where_the_option_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["train", "--algo", "a2c"], ["enjoy", "--algo", "a2c", "--no-render"]):
        err = _error([*command, "--env", "CartPol-v1", "-f", str(tmp_path)], capsys)
        assert "unknown environment id 'CartPol-v1'" in err and "Use --gym-packages" in err
    benchmark = ["benchmark", "--algos", "reinforce", "--envs", "CartPol-v1", "-f", str(tmp_path / "logs"),
                 "--results-dir", str(tmp_path / "results"), "--output", str(tmp_path / "benchmark.md")]  # fmt: skip
    tune = ["tune", "--algo", "a2c", "--env", "CartPol-v1", "-f", str(tmp_path / "tune")]
    for argv in (benchmark, tune):
        err = _error(argv, capsys)
        assert "unknown environment id 'CartPol-v1'" in err and "gym-packages" not in err


def test_the_algorithm_help_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    from pgzoo.zoo.algos import ALGOS

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert all(f" {name}," in help_text or f" {name} " in help_text for name in ALGOS)


def test_no_command_module_imports_the_cli() -> None:
    import ast

    for path in (ROOT / "pgzoo").rglob("*.py"):
        if path.name == "__main__.py" or path == ROOT / "pgzoo" / "zoo" / "cli.py":
            continue
        imported = {
            node.module for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ImportFrom)
        } | {alias.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Import)
             for alias in node.names}  # fmt: skip
        assert "pgzoo.zoo.cli" not in imported, f"{path} imports the CLI: put what it needs in pgzoo.zoo.argtypes"


@pytest.mark.parametrize("command", ["tune", "publish"])
def test_tune_and_publish_parsers_live_in_the_cli(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"pgzoo {command}" in capsys.readouterr().out


def test_publish_counts_use_the_shared_argument_type(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["publish", "--org", "me", "--n-eval-episodes", "0"])
    assert exit_info.value.code == 2
    assert "--n-eval-episodes: must be a positive integer, got 0" in capsys.readouterr().err

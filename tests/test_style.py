"""The project's own checks: ruff (format and lint) and mypy, as the developers' guide asks."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "command",
    [["ruff", "format", "--check", "."], ["ruff", "check", "."], ["mypy"]],
    ids=["ruff-format", "ruff-check", "mypy"],
)
def test_code_style(command: list[str]) -> None:
    executable = shutil.which(command[0], path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip(f"{command[0]} is not installed (it comes with the `test` extra)")
    result = subprocess.run([executable, *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr

"""The README's Python examples run as written, on tiny budgets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.DOTALL | re.MULTILINE)
# The Hub example needs a Hub repository; tests/test_zoo_hub.py runs load_from_hub against a local Hub server.
RUNNABLE = [block for block in PYTHON_BLOCKS if "load_from_hub" not in block]


def test_the_readme_has_examples() -> None:
    assert len(RUNNABLE) >= 3


@pytest.mark.parametrize("block", RUNNABLE, ids=[f"example{i}" for i in range(len(RUNNABLE))])
def test_example_runs(block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the examples save files in the working directory
    tiny_budget = re.sub(r"\.learn\([\d_]+", ".learn(500", block)
    exec(compile(tiny_budget, str(README), "exec"), {"__name__": "readme_example"})

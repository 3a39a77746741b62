"""The README's Python examples run as written, on tiny budgets."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.DOTALL | re.MULTILINE)
# The Hub example needs a Hub repository; tests/test_zoo_hub.py runs load_from_hub against a local Hub server.
RUNNABLE = [block for block in PYTHON_BLOCKS if "load_from_hub" not in block]


def test_the_readme_has_examples() -> None:
    assert len(RUNNABLE) >= 3


@pytest.mark.parametrize("block", RUNNABLE, ids=[f"example{i}" for i in range(len(RUNNABLE))])
def test_example_runs(block: str, tmp_path: Path) -> None:
    # Saved and run as a script, as a user would (A3C's worker processes import the script again).
    script = tmp_path / "example.py"
    script.write_text(re.sub(r"\.learn\([\d_]+", ".learn(500", block))
    done = subprocess.run([sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

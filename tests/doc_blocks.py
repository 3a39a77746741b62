"""
The code blocks of the README and of docs/, and how each kind is checked (tests/test_readme.py, tests/test_docs.py).

Every fenced block is checked by its language, so the pages cannot drift from the code:

- ``python``: run as a script in a temporary folder, with every ``.learn(N`` cut to ``.learn(500``;
- ``bash``: each ``pgzoo`` command line is parsed by the CLI's own parser, each ``bash scripts/X`` names an existing
  script, each ``pip install`` extra exists in pyproject.toml;
- ``yaml``: loaded and checked as a hyperparameter file, each entry as the zoo reads it;
- ``text``: output or a layout, shown as it is.

A block that cannot run in the tests is preceded by ``<!-- no-run: why -->`` (an HTML comment: invisible on the page),
with the reason. MyST directives (```` ```{name} ````) are Sphinx's, built by the docs test.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: tomli comes with `build` (the test extra)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

CHECKED_LANGUAGES = ("python", "bash", "yaml", "text")
NO_RUN = re.compile(r"<!--\s*no-run:(?P<why>.*?)-->\s*$")
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[^\s`]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.DOTALL | re.MULTILINE
)


@dataclass
class Block:
    """One fenced code block of a Markdown page."""

    path: Path
    line: int
    language: str
    code: str
    no_run: str | None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"


def markdown_pages() -> list[Path]:
    """The README and every page of the docs."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of ``path``, each with the reason of the ``no-run`` comment right above it, if any."""
    text = path.read_text()
    found = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = NO_RUN.search(before)
        indent = match["indent"]
        code = "\n".join(line.removeprefix(indent) for line in match["body"].splitlines()) + "\n"
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(path, line, match["lang"], code, marker["why"].strip() if marker else None))
    return found


def all_blocks() -> list[Block]:
    return [block for path in markdown_pages() for block in blocks(path)]


def run_python(block: Block, folder: Path) -> None:
    """Run a Python block as a script, as a user would (A3C's worker processes import the script again)."""
    script = folder / "example.py"
    script.write_text(re.sub(r"\.learn\((total_timesteps=)?[\d_]+", ".learn(500", block.code))
    done = subprocess.run([sys.executable, script.name], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{block.id}:\n{done.stderr[-3000:]}"


def _extras() -> set[str]:
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def check_shell(block: Block) -> None:
    """Parse each ``pgzoo`` line with the CLI's parser; check the scripts and extras other lines name."""
    from pgzoo.zoo.cli import build_parser

    # `a && b` on one line is two commands, each checked on its own.
    # A line ending in a backslash continues on the next one.
    code = block.code.replace("\\\n", " ")
    commands = [part for line in code.splitlines() for part in line.split(" && ")]
    for raw in commands:
        words = shlex.split(raw, comments=True)
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # VAR=value before a command
            words = words[1:]
        if words[:1] == ["nice"]:  # nice [-n N] command
            words = words[3:] if words[1:2] == ["-n"] else words[1:]
        if not words:
            continue
        where = f"{block.id}: {raw.strip()}"
        if words[0] == "pgzoo" or words[:3] == ["python", "-m", "pgzoo"]:
            args = words[1:] if words[0] == "pgzoo" else words[3:]
            try:
                build_parser().parse_args(args)
            except SystemExit as stop:  # argparse exits 0 for --help, 2 for an unknown option
                assert stop.code == 0, f"{where}: the CLI refuses these arguments"
        elif words[0] == "bash" or (words[0] == "python" and words[1:2] and words[1].startswith("scripts/")):
            assert (ROOT / words[1]).is_file(), f"{where}: no such script"
        elif words[:2] == ["pip", "install"]:
            for extra_list in re.findall(r"\[([\w,]+)\]", raw):
                unknown = set(extra_list.split(",")) - _extras()
                assert not unknown, f"{where}: pyproject.toml has no extra {sorted(unknown)}"
        elif words[0] in ("ray", ".venv/bin/ruff", ".venv/bin/mypy", "&&"):
            continue  # Ray's own CLI and the linters: not pgzoo's to check
        elif words[:3] == ["python", "-m", "pytest"]:
            assert (ROOT / words[3]).exists(), f"{where}: no such test file"
        elif words[:3] in (["python", "-m", "sphinx"], ["python", "-m", "build"]):
            continue
        else:
            raise AssertionError(f"{where}: no check for this command; check it here or mark the block <!-- no-run: why -->")


def check_yaml(block: Block, folder: Path) -> None:
    """Load the block as the zoo loads a hyperparameter file, and read every entry."""
    from pgzoo.zoo.hyperparams import load_yaml, preprocess_hyperparams

    path = folder / "hyperparams.yml"
    path.write_text(block.code)
    entries = load_yaml(path)
    assert isinstance(entries, dict) and entries, f"{block.id}: not a hyperparameter file"
    for env_id, entry in entries.items():
        preprocess_hyperparams(entry, where=f"{env_id} in {block.id}")


def check_block(block: Block, folder: Path) -> None:
    """Check one block by its language (see the module's docstring)."""
    assert block.language in CHECKED_LANGUAGES, (
        f"{block.id}: a ```{block.language} block has no check: use one of {CHECKED_LANGUAGES}, or mark it no-run"
    )
    if block.language == "python":
        run_python(block, folder)
    elif block.language == "bash":
        check_shell(block)
    elif block.language == "yaml":
        check_yaml(block, folder)

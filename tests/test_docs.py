"""The documentation site: it builds without a warning, its code blocks hold, and the package map it states holds."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from doc_blocks import DOCS, README, ROOT, Block, all_blocks, blocks, check_block

DOC_BLOCKS = [block for block in all_blocks() if block.path.is_relative_to(DOCS) and not block.language.startswith("{")]
# A block the README shows as well (the quickstart) runs once, in tests/test_readme.py.
_README_CODE = {block.code for block in blocks(README)}


def test_the_docs_build_without_warnings(tmp_path: Path) -> None:
    # -W --keep-going: a broken reference, a stale autodoc target or a missing page fails, and every warning is listed.
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(tmp_path / "html")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    pages = {p.stem for p in (tmp_path / "html").glob("*.html")}
    assert {p.stem for p in DOCS.glob("*.md")} <= pages
    # The pages rendered from the code: the CLI's help, the benchmark rows, the package map.
    assert "pgzoo train [-h] --algo ALGO" in (tmp_path / "html" / "zoo.html").read_text()
    assert "11900.41" in (tmp_path / "html" / "dpg.html").read_text()
    assert "pgzoo.zoo.safe_load" in (tmp_path / "html" / "developers.html").read_text()


def test_the_docs_have_examples() -> None:
    languages = [block.language for block in DOC_BLOCKS]
    assert languages.count("python") >= 5 and "bash" in languages and "yaml" in languages
    for block in DOC_BLOCKS:
        assert block.no_run is None or block.no_run, f"{block.id}: say why the block can't run: <!-- no-run: why -->"


@pytest.mark.parametrize(
    "block", [b for b in DOC_BLOCKS if b.no_run is None and b.code not in _README_CODE], ids=lambda b: b.id
)
def test_doc_block(block: Block, tmp_path: Path) -> None:
    check_block(block, tmp_path)


def _pgzoo_imports(path: Path) -> set[str]:
    """The pgzoo subpackages (second name) that a module imports, at any level of the module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        found |= {name.split(".")[1] for name in names if name.startswith("pgzoo.")}
    return found


def test_imports_go_down_the_layers_the_developers_guide_states() -> None:
    # docs/developers.md: common, envs (and version) import nothing else of pgzoo; each algorithm only common and version;
    # the zoo anything below it.
    allowed = {
        "version": set(),
        "common": {"common"},
        "envs": {"envs"},
        "reinforce": {"reinforce", "common"},
        "dpg": {"dpg", "common"},
        "a3c": {"a3c", "common"},
        "zoo": {"zoo", "common", "version", "reinforce", "dpg", "a3c"},
    }
    for path in (ROOT / "pgzoo").rglob("*.py"):
        parts = path.relative_to(ROOT / "pgzoo").with_suffix("").parts
        if len(parts) == 1 and parts[0] in ("__init__", "__main__"):
            continue  # the package's front: it exports from every layer
        layer = parts[0]
        assert layer in allowed, f"{path}: a new subpackage: give it its place in docs/developers.md and here"
        assert _pgzoo_imports(path) <= allowed[layer], f"{path} imports {_pgzoo_imports(path) - allowed[layer]}"

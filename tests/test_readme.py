"""The README is a landing page whose examples run and whose links lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from doc_blocks import README, ROOT, Block, blocks, check_block

from pgzoo.zoo.benchmark.readme import README_END, README_START

README_TEXT = README.read_text()
BLOCKS = blocks(README)


def test_the_readme_is_a_landing_page() -> None:
    assert len(README_TEXT.splitlines()) < 200
    # pgzoo benchmark --readme README.md replaces the table between these markers.
    assert README_TEXT.count(README_START) == 1 and README_TEXT.index(README_START) < README_TEXT.index(README_END)
    quickstart = [b for b in BLOCKS if b.language == "python"]
    assert quickstart and len(quickstart[0].code.splitlines()) <= 15


def test_the_readme_links_resolve() -> None:
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README_TEXT)
    local = [t for t in targets if "://" not in t]
    assert any(t.startswith("docs/") for t in local)
    for target in local:
        assert (ROOT / target).exists(), f"README links to {target}, which does not exist"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.no_run is None], ids=lambda b: b.id)
def test_readme_block(block: Block, tmp_path: Path) -> None:
    check_block(block, tmp_path)

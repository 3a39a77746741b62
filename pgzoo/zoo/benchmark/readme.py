"""
The README's generated tables: the benchmark table and the table of shipped agents, each between its two markers,
replaced atomically (:func:`update_readme`), the rest of the README left as it is.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pgzoo.zoo.benchmark.agents import load_agents
from pgzoo.zoo.benchmark.scoring import group_rows
from pgzoo.zoo.benchmark.table import pretrained_table
from pgzoo.zoo.errors import ZooError
from pgzoo.zoo.fileio import atomic_write_text

README_START = "<!-- benchmark-table:start -->"
README_END = "<!-- benchmark-table:end -->"
#: Markers of the README's table of the shipped agents (``agents/``).
PRETRAINED_START = "<!-- pretrained-table:start -->"
PRETRAINED_END = "<!-- pretrained-table:end -->"


def check_readme(readme: str | Path) -> None:
    """
    Make sure ``readme`` is a file whose benchmark table can be replaced.

    :param readme: README file given with ``--readme``.
    :raises ZooError: When it is not an existing file.
    """
    if not Path(readme).is_file():
        raise ZooError(f"--readme {readme}: no such file (give the README whose benchmark table should be updated)")


def update_readme(
    readme: str | Path,
    table: str,
    link: str,
    *,
    markers: tuple[str, str] = (README_START, README_END),
    link_text: str = "Full report, notes and learning curves",
) -> bool:
    """
    Replace the text between the ``markers`` (by default :data:`README_START` and :data:`README_END`) with the table.

    :param readme: README file.
    :param table: Markdown table.
    :param link: Path of the full report, relative to the README.
    :param markers: The start and end markers of the block.
    :param link_text: What the line under the table says before the link.
    :return: Whether the README had the markers (and was updated).
    """
    path = Path(readme)
    text = path.read_text()
    start, end = markers
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        return False
    block = f"{start}\n{table}\n\n{link_text}: [{link}]({link})\n{end}"
    atomic_write_text(path, pattern.sub(lambda _: block, text, count=1))
    return True


def write_pretrained_table(agents_folder: str | Path, readme: str | Path, link: str) -> int:
    """
    Replace the README's table of shipped agents (between :data:`PRETRAINED_START` and :data:`PRETRAINED_END`).

    :param agents_folder: The collection; the commands name it relative to the README's folder.
    :param readme: The README.
    :param link: The page that describes the collection, relative to the README.
    :return: The number of agents in the table.
    :raises ZooError: When the README lacks the markers.
    """
    check_readme(readme)
    records = load_agents(agents_folder)
    folder = Path(os.path.relpath(agents_folder, Path(readme).parent)).as_posix()
    table = pretrained_table(group_rows(records), folder)
    if not update_readme(readme, table, link, markers=(PRETRAINED_START, PRETRAINED_END), link_text="More"):
        raise ZooError(f"{readme} has no {PRETRAINED_START} ... {PRETRAINED_END} block")
    return len(records)


__all__ = [
    "PRETRAINED_END",
    "PRETRAINED_START",
    "README_END",
    "README_START",
    "check_readme",
    "update_readme",
    "write_pretrained_table",
]

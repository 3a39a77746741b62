"""
File benchmark runs' kept agents into the repository's collection (``agents/``) and regenerate the README's table.

Each record given (a ``pgzoo benchmark`` result file of schema 2, or every record of a results folder) has its agent
copied to ``agents/<algo>/<env>_1/`` with the record's final evaluation as ``results.json``; the README's
"Pretrained agents" table is then rebuilt from everything in ``agents/``. Which run to file is the caller's choice:
the collection takes, for each row of the benchmark table, the seed whose final score is the row's median.

    python scripts/collect_agents.py /tmp/bench/results            # every record of that folder
    python scripts/collect_agents.py /tmp/bench/results/dpg_Pendulum-v1_n10000_seed2.json
    python scripts/collect_agents.py                               # only regenerate the README's table
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pgzoo.zoo.benchmark.agents import copy_agent
from pgzoo.zoo.benchmark.readme import write_pretrained_table
from pgzoo.zoo.errors import ZooError

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("records", nargs="*", type=Path, help="record files, or folders of them")
    parser.add_argument("--agents", type=Path, default=ROOT / "agents", help="the collection (default: agents/)")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md", help="README whose table is rebuilt")
    parser.add_argument("--link", default="docs/pretrained.md", help="page linked under the table")
    args = parser.parse_args(argv)
    try:
        for given in args.records:
            for record in sorted(given.glob("*.json")) if given.is_dir() else [given]:
                print(f"{record} -> {copy_agent(record, args.agents)}")
        count = write_pretrained_table(args.agents, args.readme, args.link)
    except ZooError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.readme}: table of {count} agents")
    return 0


if __name__ == "__main__":
    sys.exit(main())

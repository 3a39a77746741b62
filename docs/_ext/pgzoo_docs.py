"""
Sphinx directives that render what pgzoo itself knows, so the pages cannot drift from the code.

- ``pgzoo-help``: the ``--help`` text of the ``pgzoo`` command line or of one of its commands.
- ``package-map``: every module of the package, the first paragraph of its docstring and what it imports.
- ``allowed-classes``: the classes a hyperparameter file from the Hub may name.
- ``benchmark-results``: an algorithm's rows of the published benchmark and the learning curves of their envs,
  read from ``benchmarks/results/`` by the benchmark report's own functions.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


class PgzooHelp(SphinxDirective):
    """``{pgzoo-help} [command]``: the help text of ``pgzoo`` (no argument) or of ``pgzoo <command>``."""

    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        from pgzoo.zoo.cli import build_parser

        parser = build_parser()
        if self.arguments:
            commands = next(a for a in parser._actions if a.dest == "command")
            choices: dict[str, Any] = commands.choices  # type: ignore[assignment]
            if self.arguments[0] not in choices:
                raise self.error(f"pgzoo has no command {self.arguments[0]!r} (commands: {', '.join(choices)})")
            parser = choices[self.arguments[0]]
        width = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal: the same width on every machine
        try:
            text = parser.format_help()
        finally:
            if width is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = width
        block = nodes.literal_block(text, text, language="text")
        return [block]


class BenchmarkResults(SphinxDirective):
    """``{benchmark-results} algo``: the benchmark table's rows of ``algo`` and the plots of their envs."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from pgzoo.zoo.benchmark.plots import PLOTS_FOLDER, plot_name
        from pgzoo.zoo.benchmark.record import load_results
        from pgzoo.zoo.benchmark.scoring import group_rows, split_stale
        from pgzoo.zoo.benchmark.table import markdown_table

        algo = self.arguments[0]
        current, _ = split_stale(load_results(RESULTS))
        rows = [row for row in group_rows(current) if row.algo == algo]
        self.env.note_dependency(str(RESULTS))
        if not rows:
            # Entries changed since their runs (the report lists those as stale): say so rather than fail the build.
            text = f"No run of {algo} measured with today's hyperparameters yet: see the benchmark report."
            return [nodes.paragraph(text, text)]
        doc_dir = Path(self.env.doc2path(self.env.docname)).parent
        lines = [markdown_table(rows), ""]
        for env_id in dict.fromkeys(row.env_id for row in rows):
            plot = RESULTS.parent / PLOTS_FOLDER / plot_name(env_id)
            if plot.is_file():
                relative = Path(*[".."] * len(doc_dir.relative_to(ROOT).parts), plot.relative_to(ROOT))
                lines += [f"**{env_id}**", "", f"![{env_id} learning curves]({relative.as_posix()})", ""]
        container = nodes.container()
        self.state.nested_parse(StringList("\n".join(lines).splitlines(), source=str(RESULTS)), self.content_offset, container)
        return container.children


class AllowedClasses(SphinxDirective):
    """``{allowed-classes}``: the classes a hyperparameter file from the Hub may name, per key."""

    def run(self) -> list[nodes.Node]:
        from pgzoo.zoo.hyperparams import UNTRUSTED_ALLOWED_CLASSES

        items = nodes.bullet_list()
        for key, names in UNTRUSTED_ALLOWED_CLASSES.items():
            paragraph = nodes.paragraph()
            paragraph += nodes.literal(key, key)
            paragraph += nodes.Text(f" ({len(names)}): ")
            for i, name in enumerate(sorted(names)):
                paragraph += nodes.Text(", " if i else "")
                paragraph += nodes.literal(name, name)
            items += nodes.list_item("", paragraph)
        return [items]


class PackageMap(SphinxDirective):
    """``{package-map}``: every module of pgzoo, what its docstring says it owns, and the pgzoo modules it imports."""

    def run(self) -> list[nodes.Node]:
        package = ROOT / "pgzoo"
        lines = ["| module | owns | imports from pgzoo |", "|---|---|---|"]
        for path in sorted(package.rglob("*.py"), key=_module_order):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            tree = ast.parse(path.read_text())
            summary = (ast.get_docstring(tree) or "").split("\n\n")[0].replace("\n", " ")
            summary = re.sub(r":\w+:`~?([^`]+)`", r"``\1``", summary)
            imported = sorted(
                {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and _is_pgzoo(node.module)}
                | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names if _is_pgzoo(a.name)}
            )
            self.env.note_dependency(str(path))
            lines.append(f"| `{name}` | {summary} | {', '.join(f'`{m}`' for m in imported)} |")
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=str(package)), self.content_offset, container)
        return container.children


def _is_pgzoo(module: str | None) -> bool:
    return module is not None and (module == "pgzoo" or module.startswith("pgzoo."))


# The order of the layers, bottom first (developers.md explains it; tests/test_docs.py checks it).
LAYERS = ("version", "common", "reinforce", "dpg", "a3c", "zoo")


def _module_order(path: Path) -> tuple[int, str]:
    parts = path.relative_to(ROOT / "pgzoo").with_suffix("").parts
    layer = parts[0] if parts[0] in LAYERS else ""
    return (LAYERS.index(layer) if layer else len(LAYERS), "/".join(parts).replace("__init__", ""))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("pgzoo-help", PgzooHelp)
    app.add_directive("benchmark-results", BenchmarkResults)
    app.add_directive("allowed-classes", AllowedClasses)
    app.add_directive("package-map", PackageMap)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

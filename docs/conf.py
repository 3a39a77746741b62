"""Sphinx configuration of pgzoo's documentation (built by tests/test_docs.py with warnings as errors)."""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the pgzoo next to these docs, not another installed copy
sys.path.insert(0, str(DOCS / "_ext"))

from pgzoo.version import __version__  # noqa: E402

project = "pgzoo"
author = "the pgzoo authors"
copyright = "2026, the pgzoo authors"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "pgzoo_docs",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}

html_theme = "furo"
html_title = f"pgzoo {release}"
html_static_path = ["_static"]
html_css_files = ["pgzoo.css"]

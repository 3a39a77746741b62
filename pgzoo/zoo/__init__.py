"""
The zoo: train, evaluate, record and share agents from the shell (``pgzoo``) or from Python.

Public functions are imported lazily so that ``import pgzoo.zoo`` stays cheap and does not import
``huggingface_hub`` (which reads ``HF_ENDPOINT`` when imported). Training is ``from pgzoo.zoo.train import train``
(as in rl-zoo3): the package can't also export a function named like its ``train`` module, since importing the
module replaces the package's attribute.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TrainResult", "load_agent", "load_from_hub", "pull", "push", "run_agent"]

_LAZY = {
    "TrainResult": "pgzoo.zoo.train",
    "load_agent": "pgzoo.zoo.enjoy",
    "run_agent": "pgzoo.zoo.enjoy",
    "load_from_hub": "pgzoo.zoo.hub",
    "push": "pgzoo.zoo.hub",
    "pull": "pgzoo.zoo.hub",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pgzoo.zoo' has no attribute {name!r}")

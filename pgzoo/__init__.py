"""pgzoo: policy-gradient algorithms for Stable-Baselines3, with a zoo of tuned agents."""

from typing import Any

import pgzoo.envs  # noqa: F401  (registers pgzoo's envs with Gymnasium)
from pgzoo.a3c import A3C
from pgzoo.dpg import DPG
from pgzoo.reinforce import REINFORCE
from pgzoo.version import __version__

__all__ = ["A3C", "DPG", "REINFORCE", "__version__", "load_from_hub"]


def __getattr__(name: str) -> Any:
    # Imported on first use: tests point huggingface_hub at a local server before it is imported.
    if name == "load_from_hub":
        from pgzoo.zoo.hub import load_from_hub

        return load_from_hub
    raise AttributeError(f"module 'pgzoo' has no attribute {name!r}")

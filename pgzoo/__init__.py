"""pgzoo: policy-gradient algorithms for Stable-Baselines3, with a zoo of tuned agents."""

from pgzoo.a3c import A3C
from pgzoo.dpg import DPG
from pgzoo.reinforce import REINFORCE
from pgzoo.version import __version__

__all__ = ["A3C", "DPG", "REINFORCE", "__version__"]

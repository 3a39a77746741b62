"""pgzoo: policy-gradient algorithms for Stable-Baselines3, with a zoo of tuned agents."""

from pgzoo.reinforce import REINFORCE
from pgzoo.version import __version__

__all__ = ["REINFORCE", "__version__"]

"""Deep deterministic policy gradient (DPG)."""

from pgzoo.dpg.dpg import DPG
from pgzoo.dpg.policies import CnnPolicy, DPGPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["DPG", "CnnPolicy", "DPGPolicy", "MlpPolicy", "MultiInputPolicy"]

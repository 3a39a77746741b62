from pgzoo.reinforce.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from pgzoo.reinforce.reinforce import REINFORCE

__all__ = ["REINFORCE", "CnnPolicy", "MlpPolicy", "MultiInputPolicy"]

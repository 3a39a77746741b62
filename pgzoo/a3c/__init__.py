"""A3C: asynchronous advantage actor-critic with Hogwild workers (local processes or Ray actors)."""

from pgzoo.a3c.a3c import A3C
from pgzoo.a3c.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from pgzoo.a3c.shared_optim import SharedAdam, SharedRMSprop, SharedRMSpropTFLike
from pgzoo.common.errors import WorkerError

__all__ = [
    "A3C",
    "CnnPolicy",
    "MlpPolicy",
    "MultiInputPolicy",
    "SharedAdam",
    "SharedRMSprop",
    "SharedRMSpropTFLike",
    "WorkerError",
]

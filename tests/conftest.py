from collections.abc import Callable

import pytest
import torch as th
from stable_baselines3.common.callbacks import BaseCallback

# Tests run on 2 cores next to worker processes: one torch thread keeps small MLPs fast.
th.set_num_threads(1)


@pytest.fixture(autouse=True, scope="session")
def _sb3_logdir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep SB3's logger folders under pytest's temporary root: each ``learn()`` otherwise makes a ``/tmp/SB3-*``."""
    import os

    os.environ.setdefault("SB3_LOGDIR", str(tmp_path_factory.mktemp("sb3-logdir")))


@pytest.fixture
def interrupt_training_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Arm ``pgzoo.zoo.train`` to raise KeyboardInterrupt, as Ctrl-C does, once training reaches the given step."""
    import pgzoo.zoo.train as train_module

    class Interrupt(BaseCallback):
        def __init__(self, steps: int) -> None:
            super().__init__()
            self.steps = steps

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.steps:
                raise KeyboardInterrupt
            return True

    def arm(steps: int) -> None:
        real = train_module.CallbackList
        # train() builds a CallbackList only when it has callbacks: pass one (e.g. --save-freq).
        monkeypatch.setattr(train_module, "CallbackList", lambda callbacks: real([*callbacks, Interrupt(steps)]))

    return arm

"""
The callbacks ``pgzoo train`` adds to every run: evaluations and checkpoints written atomically into the run folder
(:mod:`pgzoo.zoo.runs` names the files), so that Ctrl-C at any moment leaves no half-written file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback, EvalCallback
from stable_baselines3.common.vec_env import VecEnv

from pgzoo.zoo.fileio import atomic_save_model
from pgzoo.zoo.runs import EVALUATIONS, checkpoint_name


class SaveOnNewBest(BaseCallback):
    """
    Called by ``EvalCallback`` on a new best mean reward: saves the model atomically.

    :param path: The file (the run's ``best_model.zip``).
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _on_step(self) -> bool:
        atomic_save_model(self.model, self.path)
        return True


class AtomicEvalCallback(EvalCallback):
    """
    SB3's ``EvalCallback``, but ``evaluations.npz`` is replaced atomically: SB3 rewrites it in place at every
    evaluation, so a Ctrl-C during the write would leave half a file and lose every earlier point.

    :param eval_env: The evaluation env.
    :param log_path: The run folder (``evaluations.npz`` goes there).
    :param kwargs: ``EvalCallback``'s other arguments.
    """

    def __init__(self, eval_env: VecEnv, *, log_path: Path, **kwargs: Any) -> None:
        super().__init__(eval_env, log_path=str(log_path), **kwargs)
        self.final_path = log_path / EVALUATIONS
        self.log_path = str(log_path / ".evaluations.partial")  # where SB3 writes (np.savez adds .npz)

    def _on_step(self) -> bool:
        partial = Path(f"{self.log_path}.npz")
        try:
            go_on = super()._on_step()
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        if partial.is_file():
            os.replace(partial, self.final_path)
        return go_on


class AtomicCheckpoint(BaseCallback):
    """
    Save ``rl_model_<steps>_steps.zip`` every ``save_freq`` calls (one call = one step of each env).

    :param save_freq: Calls between checkpoints.
    :param folder: Run folder.
    """

    def __init__(self, save_freq: int, folder: Path) -> None:
        super().__init__()
        self.save_freq, self.folder = save_freq, folder

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            atomic_save_model(self.model, self.folder / checkpoint_name(self.num_timesteps))
        return True

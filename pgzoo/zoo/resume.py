"""
Training that survives being stopped: a checkpoint of everything a run needs to go on, kept up to date while it
trains, and picked up by the next :func:`pgzoo.zoo.train.train` given the same folder.

A checkpoint holds the model (with its optimizer state), the replay buffer of off-policy algorithms, the
``VecNormalize`` statistics when the env has them, the env steps taken, the training time so far, and whatever
progress the caller keeps (``pgzoo benchmark`` keeps its learning curve there). It is written every ``save_freq``
env steps (at the next rollout boundary, so that no collected step is left untrained) and when training is
interrupted with Ctrl-C, into a new folder of its own. Its files are flushed to disk, then ``checkpoint.json`` is
replaced atomically to name that folder and its files; only then are older folders deleted. A crash at any moment
therefore leaves the previous checkpoint or the new one, never a mix of both.

A resumed run is not bit-identical to an uninterrupted one: its envs start new episodes, and its random generators
are seeded again with ``seed + env steps taken``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecNormalize

from pgzoo.zoo.envs import load_vecnormalize_stats, save_vecnormalize_stats
from pgzoo.zoo.errors import ZooError
from pgzoo.zoo.fileio import atomic_write_text, check_finite_weights
from pgzoo.zoo.runs import VECNORMALIZE_JSON

STATE_FILE = "checkpoint.json"
MODEL_FILE = "model.zip"
REPLAY_BUFFER_FILE = "replay_buffer.pkl"


@dataclass
class Checkpoint:
    """
    A complete checkpoint found on disk.

    :param folder: The ``steps_<n>`` folder holding its files.
    :param num_timesteps: Env steps the model had taken.
    :param train_time_s: Wall-clock training time up to the checkpoint, over every earlier sitting.
    :param extra: The caller's progress (see :class:`Resume`).
    """

    folder: Path
    num_timesteps: int
    train_time_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    def restore(self, algo_class: type[BaseAlgorithm], env: Any, device: str | Any, **kwargs: Any) -> BaseAlgorithm:
        """
        Load the model (and its replay buffer and ``VecNormalize`` statistics) into a fresh training ``env``.

        :param algo_class: The algorithm the checkpoint was saved from.
        :param env: The new training env (its ``VecNormalize`` wrapper, if any, gets the saved statistics).
        :param device: Torch device.
        :param kwargs: Attributes to set on the loaded model (e.g. ``tensorboard_log``).
        :return: The model, ready to ``learn(..., reset_num_timesteps=False)``.
        """
        if isinstance(env, VecNormalize) and (self.folder / VECNORMALIZE_JSON).is_file():
            load_vecnormalize_stats(env, self.folder / VECNORMALIZE_JSON)
        model = algo_class.load(self.folder / MODEL_FILE, env=env, device=device, **kwargs)
        buffer_file = self.folder / REPLAY_BUFFER_FILE
        if buffer_file.is_file():
            model.load_replay_buffer(buffer_file)  # type: ignore[attr-defined]
        return model


@dataclass
class Resume:
    """
    Where and how often a run keeps its checkpoint.

    :param folder: The run's own checkpoint folder (one per run: two runs sharing it would resume each other).
    :param save_freq: Env steps (all envs or workers together) between two checkpoints; ``<= 0``: only on Ctrl-C.
    :param digest: Fingerprint of the run's settings; a checkpoint saved with another one is ignored (stale).
    :param extra_state: Called at each checkpoint for the caller's progress (JSON-friendly), given back as
        :attr:`Checkpoint.extra` when the run resumes.
    """

    folder: Path
    save_freq: int = 100_000
    digest: str = ""
    extra_state: Callable[[], dict[str, Any]] | None = None

    def latest(self) -> Checkpoint | None:
        """The current checkpoint, or ``None`` when there is none, it is incomplete or it has another digest."""
        try:
            state = json.loads((self.folder / STATE_FILE).read_text())
            folder = self.folder / state["folder"]
            # The first checkpoints written named no files (only their model file can be checked).
            files = [MODEL_FILE, *state.get("files", [])]
            if state["digest"] != self.digest or not all((folder / name).is_file() for name in files):
                return None
            return Checkpoint(folder, int(state["num_timesteps"]), float(state["train_time_s"]), dict(state["extra"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, model: BaseAlgorithm, train_time_s: float) -> Checkpoint:
        """
        Write a new checkpoint of ``model``, then make it the current one and delete the older ones.

        :param model: The model being trained.
        :param train_time_s: Wall-clock training time so far, earlier sittings included.
        :return: The new checkpoint.
        :raises DivergedError: When the weights hold NaN or inf (the current checkpoint stays the one to resume from).
        """
        check_finite_weights(model, MODEL_FILE)
        self.folder.mkdir(parents=True, exist_ok=True)
        # A name of its own, even at the same step count: the current checkpoint is never touched.
        name = f"steps_{model.num_timesteps:012d}-{uuid.uuid4().hex[:8]}"
        staging = self.folder / f".staging-{name}"
        staging.mkdir()
        try:
            model.save(staging / MODEL_FILE)
            if getattr(model, "replay_buffer", None) is not None:
                model.save_replay_buffer(staging / REPLAY_BUFFER_FILE)  # type: ignore[attr-defined]
            env = model.get_env()
            if isinstance(env, VecNormalize):
                save_vecnormalize_stats(env, staging / VECNORMALIZE_JSON)
            files = sorted(path.name for path in staging.iterdir())
            for file in files:
                _fsync(staging / file)
            staging.rename(self.folder / name)
            _fsync(self.folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        extra = self.extra_state() if self.extra_state is not None else {}
        state = {"folder": name, "files": files, "num_timesteps": int(model.num_timesteps), "train_time_s": train_time_s,
                 "digest": self.digest, "extra": extra}  # fmt: skip
        atomic_write_text(self.folder / STATE_FILE, json.dumps(state, indent=1, allow_nan=True))
        for old in self.folder.iterdir():
            if old.is_dir() and old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        return Checkpoint(self.folder / name, int(model.num_timesteps), train_time_s, extra)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """
        Hold the run's lock (``<folder>.lock`` beside it) while it trains: a second process that starts the same run
        (say, the same benchmark started twice) gets an error, instead of training it too and deleting the first
        one's checkpoints. The lock goes with the process that holds it, however it ends.

        :raises ZooError: When another process holds it.
        """
        try:
            import fcntl
        except ImportError:  # not on POSIX: no lock
            yield
            return
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        with open(self.folder.parent / f"{self.folder.name}.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ZooError(f"the run of {self.folder} is already in progress in another process") from None
            yield

    def clear(self) -> None:
        """Delete the checkpoint folder (once the run has finished and its result is safe)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _fsync(path: Path) -> None:
    """Flush a file's or a folder's content to disk (a rename is only as durable as what it names)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class ResumeCallback(BaseCallback):
    """
    Save a checkpoint every ``resume.save_freq`` env steps.

    The save waits for the next rollout to start: the steps collected so far have then been trained on (SB3 stores
    an off-policy step's transition, and trains on an on-policy rollout, after calling back). An algorithm that
    trains in the background (A3C, whose workers have ``trains_during_evaluation``) is saved at once.

    :param resume: Where and how often.
    :param train_time_offset: Training time of earlier sittings, in seconds.
    """

    def __init__(self, resume: Resume, train_time_offset: float = 0.0) -> None:
        super().__init__()
        self.resume = resume
        self.train_time_offset = train_time_offset
        self._start: float | None = None
        self._next_save = 0
        self._save_due = False

    def _on_training_start(self) -> None:
        self._start = time.perf_counter()
        self._next_save = self.num_timesteps + self.resume.save_freq

    def train_time(self) -> float:
        """Training time so far, earlier sittings included."""
        return self.train_time_offset + (time.perf_counter() - self._start if self._start is not None else 0.0)

    def _on_step(self) -> bool:
        if self.resume.save_freq > 0 and self._next_save <= self.num_timesteps:
            while self._next_save <= self.num_timesteps:
                self._next_save += self.resume.save_freq
            self._save_due = True
            if getattr(self.model, "trains_during_evaluation", False):
                self._save()
        return True

    def _on_rollout_start(self) -> None:
        if self._save_due:
            self._save()

    def _save(self) -> None:
        self._save_due = False
        self.resume.save(self.model, self.train_time())

"""
Running one benchmark run: train it through :func:`pgzoo.zoo.train.train` (the same code as ``pgzoo train``) while
:class:`CurveCallback` records its learning curve, resume it from its checkpoint, and return its
:class:`~pgzoo.zoo.benchmark.record.RunRecord` with the files of its final agent (:class:`FinishedRun`).

It runs in the benchmark's process, in a pool process or in a Ray task, and writes only the run's models under its
logs folder, on the machine it runs on: the driver writes the record and the agent.
"""

from __future__ import annotations

import datetime
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import stable_baselines3
import torch as th

from pgzoo.common.benchmark import TimedEvaluationCallback
from pgzoo.common.utils import available_cores
from pgzoo.version import __version__
from pgzoo.zoo.benchmark.agents import agent_folder, kept_files
from pgzoo.zoo.benchmark.plan import RunSpec
from pgzoo.zoo.benchmark.record import RunRecord, is_finished, read_record
from pgzoo.zoo.envs import deterministic_eval_default, make_zoo_env
from pgzoo.zoo.fileio import atomic_write
from pgzoo.zoo.hyperparams import load_entry, preprocess_hyperparams
from pgzoo.zoo.resume import Resume
from pgzoo.zoo.runs import EVALUATIONS, read_run_config
from pgzoo.zoo.train import train


@dataclass
class FinishedRun:
    """
    What a run sends back to the driver.

    :param record: Its record.
    :param agent_files: Content of each file its agent keeps, by path relative to the run folder (``None`` when the
        run was found finished by another benchmark: its agent is already written).
    """

    record: RunRecord
    agent_files: dict[str, bytes] | None = None


def _machine() -> dict[str, Any]:
    cpu_model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_count": available_cores(),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def _versions() -> dict[str, str]:
    return {"pgzoo": __version__, "torch": th.__version__, "stable_baselines3": stable_baselines3.__version__,
            "gymnasium": gymnasium.__version__}  # fmt: skip


class CurveCallback(TimedEvaluationCallback):
    """
    Record the learning curve: every ``eval_freq`` env steps, episodes on a separate evaluation env.

    Unlike the zoo's ``EvalCallback`` it times its evaluations, so that steps per second can be reported for
    training alone, and it triggers on env steps rather than callback calls (A3C calls back once per worker report).

    :param env_id: Env id of the run.
    :param hyperparams: The run's hyperparameter entry (the evaluation env gets its wrappers and normalization).
    :param seed: Seed of the run (the evaluation env's seeds are derived from it).
    :param eval_freq: Env steps between two points of the curve.
    :param n_eval_episodes: Episodes per point.
    :param curve: Points ``[steps, mean, std]`` recorded by earlier sittings of a resumed run; new points follow them.
    :param eval_time_offset: Seconds those sittings spent evaluating.
    :param episodes: ``[steps, episode rewards, episode lengths]`` of each point of those sittings.
    :param deterministic: Whether the episodes take the most likely actions; ``None``: the env's protocol
        (:func:`~pgzoo.zoo.envs.deterministic_eval_default`).
    """

    def __init__(
        self,
        env_id: str,
        hyperparams: dict[str, Any],
        seed: int,
        eval_freq: int,
        n_eval_episodes: int,
        curve: list[list[float]] | None = None,
        eval_time_offset: float = 0.0,
        episodes: list[list[Any]] | None = None,
        *,
        deterministic: bool | None = None,
    ) -> None:
        if deterministic is None:
            deterministic = deterministic_eval_default(env_id)
        super().__init__(None, eval_freq, n_eval_episodes=n_eval_episodes, deterministic=deterministic)
        self.env_id, self.hyperparams, self.seed = env_id, hyperparams, seed
        self.curve: list[list[float]] = list(curve or [])
        self.episodes: list[list[Any]] = list(episodes or [])
        self.eval_time_offset = eval_time_offset

    @property
    def eval_time_s(self) -> float:
        """Seconds spent evaluating the curve, earlier sittings included."""
        return self.eval_time_offset + self.eval_seconds

    def _init_callback(self) -> None:
        config = preprocess_hyperparams(dict(self.hyperparams), where=self.env_id)
        # Its own seeds: neither the training envs' nor those of the final evaluation (seed + 10000 in train()).
        self.eval_env = make_zoo_env(self.env_id, config, n_envs=1, seed=self.seed + 20_000, training=False)

    def _evaluated_until(self) -> int:
        # The last point recorded, not the checkpoint's step: a point that an interruption cut short is made as soon
        # as training resumes, instead of missing from the curve.
        return int(self.curve[-1][0]) if self.curve else 0

    def _on_evaluation(self, mean_reward: float, std_reward: float) -> bool:
        self.curve.append([int(self.num_timesteps), mean_reward, std_reward])
        self.episodes.append([int(self.num_timesteps), self.last_episode_rewards, self.last_episode_lengths])
        return True

    def save_evaluations(self, path: Path) -> None:
        """
        Write the curve's episodes as SB3's ``evaluations.npz`` (``timesteps``, ``results``, ``ep_lengths``), atomically.

        :param path: Target file.
        """
        count = len(self.episodes)
        timesteps = np.array([point[0] for point in self.episodes], dtype=np.int64)
        results = np.array([point[1] for point in self.episodes], dtype=np.float64).reshape(count, self.n_eval_episodes)
        lengths = np.array([point[2] for point in self.episodes], dtype=np.int64).reshape(count, self.n_eval_episodes)
        atomic_write(path, lambda file: np.savez(file, timesteps=timesteps, results=results, ep_lengths=lengths))

    def _on_training_end(self) -> None:
        if self.eval_env is not None:
            self.eval_env.close()


def run_one(spec: RunSpec) -> FinishedRun:
    """
    Train and evaluate one run and return its record and its agent's files.

    Called in-process, in a pool process or in a Ray task; it writes the run's models under ``spec.log_folder`` on
    the machine it runs on, and nothing else.

    :param spec: The run.
    :return: The record and the agent's files.
    :raises KeyboardInterrupt: When training was interrupted (an unfinished run must not be recorded).
    """
    raw = load_entry(spec.algo, spec.env_id, spec.hyperparams_file, options={"n_timesteps": spec.n_timesteps}).raw
    start = time.perf_counter()

    def progress() -> dict[str, Any]:
        # What the record needs from earlier sittings besides the model: saved with every checkpoint.
        return {"curve": curve.curve, "episodes": curve.episodes, "eval_time_s": curve.eval_time_s,
                "resumed_at": resumed_at, "wall_clock_s": wall_clock_before + time.perf_counter() - start}  # fmt: skip

    # The curve's settings are part of the digest: a curve must not change its frequency halfway.
    digest = f"{spec.entry_digest}-{spec.eval_freq}-{spec.curve_episodes}"
    resume = Resume(spec.checkpoint_folder, spec.resume_freq, digest, extra_state=progress)
    # Held until the record is made: a second process must not train (or clear) the same run meanwhile.
    with resume.exclusive():
        if spec.result_file is not None and not spec.fresh_start and is_finished(Path(spec.result_file), spec.entry_digest):
            # Another benchmark (on the same folders) finished this run since this one planned its runs.
            return FinishedRun(read_record(spec.result_file))
        if spec.fresh_start:
            resume.clear()
        checkpoint = resume.latest()
        earlier = checkpoint.extra if checkpoint is not None else {}
        resumed_at = [*earlier.get("resumed_at", []), checkpoint.num_timesteps] if checkpoint is not None else []
        wall_clock_before = float(earlier.get("wall_clock_s", 0.0))
        # The curve and the final evaluation follow the env's protocol (Atari: sampled actions, whole games).
        deterministic = deterministic_eval_default(spec.env_id)
        curve = CurveCallback(spec.env_id, raw, spec.seed, spec.eval_freq, spec.curve_episodes, earlier.get("curve"),
                              float(earlier.get("eval_time_s", 0.0)), earlier.get("episodes"),
                              deterministic=deterministic)  # fmt: skip
        previous_threads = th.get_num_threads()
        th.set_num_threads(spec.threads)
        try:
            result = train(
                spec.algo,
                spec.env_id,
                seed=spec.seed,
                log_folder=spec.log_folder,
                hyperparams_file=spec.hyperparams_file,
                n_timesteps=spec.n_timesteps,
                eval_freq=0,  # the curve is recorded (and timed) by CurveCallback
                final_eval_episodes=spec.eval_episodes,
                deterministic_eval=deterministic,
                device=spec.device,
                verbose=0,
                resume=resume,
                extra_callbacks=[curve],
            )
        finally:
            th.set_num_threads(previous_threads)
        wall_clock = wall_clock_before + time.perf_counter() - start
        # train() times model.learn(), which includes the curve's evaluations: take them out of the training time.
        train_time = max(result.train_time_s - curve.eval_time_s, 0.0)
        if result.interrupted:
            raise KeyboardInterrupt
        curve.save_evaluations(result.run_folder / EVALUATIONS)
        kept = {
            str(path.relative_to(result.run_folder)): path.read_bytes() for path in kept_files(result.run_folder, spec.env_id)
        }
        record = RunRecord(
            algo=spec.algo,
            env=spec.env_id,
            seed=spec.seed,
            n_timesteps=spec.n_timesteps,
            entry_digest=spec.entry_digest,
            # The run's config.yml: the entry it trained with, as `pgzoo push` publishes it.
            hyperparams=read_run_config(result.run_folder, spec.env_id),
            hyperparams_file=str(result.hyperparams_file),
            final_mean_reward=result.mean_reward,
            final_std_reward=result.std_reward,
            eval_episodes=result.n_eval_episodes,
            deterministic_eval=deterministic,
            curve=curve.curve,
            curve_episodes=spec.curve_episodes,
            eval_freq=spec.eval_freq,
            env_steps=result.n_timesteps,
            train_time_s=train_time,
            curve_eval_time_s=curve.eval_time_s,
            wall_clock_s=wall_clock,
            steps_per_second=result.n_timesteps / train_time if train_time > 0 else None,
            resumed_at_steps=resumed_at,
            torch_threads=spec.threads,
            cpus=spec.cpus,
            device=spec.device,
            run_folder=str(result.run_folder),
            # The logs folder beside the record that keeps the final agent (relative to the record's folder).
            agent=agent_folder("", spec.algo, spec.env_id, spec.n_timesteps, spec.seed).name,
            versions=_versions(),
            machine=_machine(),
            # Wall-clock and steps/s mean little on a busy machine: keep the evidence next to them.
            load_average_1min=os.getloadavg()[0],
            date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        )
        return FinishedRun(record, kept)


__all__ = ["CurveCallback", "FinishedRun", "run_one"]

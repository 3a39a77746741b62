"""
``pgzoo benchmark``: train every (algo, env, seed) with the tuned hyperparameters and keep one JSON file per run.

Each run trains through :func:`pgzoo.zoo.train.train` (the same code as ``pgzoo train``) and records its learning
curve (:class:`CurveCallback`: deterministic episodes on a separate env every ``--eval-freq`` steps, timed so that
steps per second count training only), then the final model's deterministic evaluation on another evaluation env.
The record is written atomically to ``<results_dir>/<algo>_<env>_n<steps>_seed<k>.json`` as soon as the run ends,
so that a second invocation skips finished runs and an interrupted benchmark resumes where it stopped. A run
itself keeps a checkpoint every ``--resume-freq`` env steps (and on Ctrl-C) under
``<log folder>/resume/<algo>_<env>_n<steps>_seed<k>/`` (:mod:`pgzoo.zoo.resume`): a run longer than one sitting
continues from there, its learning curve and training time included, and its record lists where it resumed.

Runs go one after another, in ``--jobs N`` local processes, or as Ray tasks (``--ray`` / ``--ray-address``).
Workers only *return* their record: the driver writes every JSON file, so results land on the machine that launched
the benchmark even when the tasks ran on other nodes of a Ray cluster.

:mod:`pgzoo.zoo.report` turns the saved runs into ``benchmark.md`` and its plots beside the results folder (by default
``benchmarks/benchmark.md`` and ``benchmarks/plots/``), after the runs or alone with ``--report``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import platform
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgzoo.common.benchmark import TimedEvaluationCallback
from pgzoo.common.utils import sigterm_raises
from pgzoo.zoo.errors import HyperparamsError, MissingEntryError, ZooError, check_seed_range

#: Rows the committed table must have (issue 6), in table order: (algo, env id).
REQUIRED_ROWS: tuple[tuple[str, str], ...] = (
    ("reinforce", "CartPole-v1"),
    ("reinforce", "Acrobot-v1"),
    ("reinforce", "LunarLander-v3"),
    ("dpg", "Pendulum-v1"),
    ("dpg", "MountainCarContinuous-v0"),
    ("dpg", "LunarLanderContinuous-v3"),
    ("a3c", "CartPole-v1"),
    ("a3c", "Acrobot-v1"),
    ("a3c", "LunarLander-v3"),
    ("a3c", "Pendulum-v1"),
)

#: Rows added when compute allows (their budget is stated in the table like any other row).
OPTIONAL_ROWS: tuple[tuple[str, str], ...] = (
    ("dpg", "BipedalWalker-v3"),
    ("a3c", "BipedalWalker-v3"),
    ("dpg", "HalfCheetah-v5"),
    ("a3c", "HalfCheetah-v5"),
    ("dpg", "Hopper-v5"),
    ("a3c", "Hopper-v5"),
)

#: Default number of seeds of a benchmark row.
DEFAULT_SEEDS = 3
#: Default number of deterministic episodes of the final evaluation (the issue asks for at least 20).
DEFAULT_EVAL_EPISODES = 20
#: Default number of points of the learning curve when ``--eval-freq`` is not given.
DEFAULT_CURVE_POINTS = 20
#: Schema version of the per-run JSON files (bumped when a field changes meaning). Version 2 adds ``agent``: the
#: run's final model is kept next to its record (records of version 1 have none and still load).
SCHEMA_VERSION = 2
#: Key of a worker's return value carrying the kept files to the driver (popped before the record is written).
AGENT_FILES_KEY = "_agent_files"
#: Run number of the one run in a kept agent's logs folder: ``<agent>/<algo>/<env>_1``.
AGENT_RUN_ID = 1
#: Default env steps between two checkpoints of a run (see :mod:`pgzoo.zoo.resume`).
DEFAULT_RESUME_FREQ = 100_000


@dataclass(frozen=True)
class RunSpec:
    """
    One benchmark run: everything a worker (local process or Ray task) needs, and nothing unpicklable.

    :param algo: Registry name of the algorithm (normalized).
    :param env_id: Gymnasium env id.
    :param seed: Random seed of the run.
    :param n_timesteps: Training budget (from the hyperparameter file, or the ``--n-timesteps`` override).
    :param eval_freq: Evaluate the learning curve every ``eval_freq`` env steps.
    :param curve_episodes: Deterministic episodes per point of the learning curve.
    :param eval_episodes: Deterministic episodes of the final evaluation.
    :param log_folder: Root of the zoo's logs layout where the run's models and ``evaluations.npz`` go.
    :param hyperparams_file: rl-zoo3 style file to read instead of the packaged ``<algo>.yml``, or ``None``.
    :param device: Torch device.
    :param threads: Torch threads inside the run (1 makes runs in parallel processes comparable).
    :param cpus: CPUs the run occupies (its worker processes for A3C), used to size Ray tasks.
    :param entry_digest: :func:`entry_digest` of the hyperparameters the run trains with.
    :param resume_freq: Env steps between two checkpoints of the run (``<= 0``: only on Ctrl-C).
    :param fresh_start: Discard the run's checkpoint and train from scratch (``--overwrite``).
    :param result_file: Where the run's record goes: a run that another benchmark finished since this one planned its
        runs is not trained again (``None``: not checked).
    """

    algo: str
    env_id: str
    seed: int
    n_timesteps: int
    eval_freq: int
    curve_episodes: int
    eval_episodes: int
    log_folder: str
    hyperparams_file: str | None = None
    device: str = "cpu"
    threads: int = 1
    cpus: int = 1
    entry_digest: str = ""
    resume_freq: int = DEFAULT_RESUME_FREQ
    fresh_start: bool = False
    result_file: str | None = None

    @property
    def name(self) -> str:
        """Human-readable name, e.g. ``reinforce CartPole-v1 seed 0``."""
        return f"{self.algo} {self.env_id} seed {self.seed}"

    @property
    def checkpoint_folder(self) -> Path:
        """Where the run keeps its checkpoint while it trains, on the machine that runs it."""
        return Path(self.log_folder) / "resume" / result_path("", self.algo, self.env_id, self.n_timesteps, self.seed).stem


@dataclass
class BenchmarkSummary:
    """
    What :func:`run_benchmark` did.

    :param finished: Result files written by this invocation.
    :param skipped: Result files that already existed (runs not repeated).
    :param failed: ``(run name, error message)`` for runs that raised.
    """

    finished: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def result_path(results_dir: str | Path, algo: str, env_id: str, n_timesteps: int, seed: int) -> Path:
    """
    Return the JSON file of one run: ``<results_dir>/<algo>_<env>_n<steps>_seed<seed>.json``.

    The budget is part of the name so that a longer run of the same row (e.g. BipedalWalker at 1M and at 5M steps)
    never overwrites or masquerades as a shorter one.

    :param results_dir: Folder of the per-run files.
    :param algo: Registry name of the algorithm.
    :param env_id: Gymnasium env id.
    :param n_timesteps: Training budget.
    :param seed: Random seed.
    """
    from pgzoo.zoo.envs import env_folder_name

    return Path(results_dir) / f"{algo}_{env_folder_name(env_id)}_n{n_timesteps}_seed{seed}.json"


def agent_folder(results_dir: str | Path, algo: str, env_id: str, n_timesteps: int, seed: int) -> Path:
    """
    Return the folder that keeps one run's final agent: its record's path without ``.json``.

    It is a logs folder of its own (rl-zoo3's layout) holding one run, ``<algo>/<env>_1/``, so that
    ``pgzoo enjoy --algo ALGO --env ENV -f <that folder>`` plays it and ``pgzoo push`` / ``pgzoo publish`` share it.

    :param results_dir: Folder of the per-run files.
    :param algo: Registry name of the algorithm.
    :param env_id: Gymnasium env id.
    :param n_timesteps: Training budget.
    :param seed: Random seed.
    """
    return result_path(results_dir, algo, env_id, n_timesteps, seed).with_suffix("")


def kept_files(run_folder: Path, env_id: str) -> list[Path]:
    """
    The files of a finished run that its kept agent holds: what plays it and what describes it, nothing more.

    The model zip (SB3's format: it holds the optimizer state, which SB3's ``load`` requires), ``config.yml`` and
    ``args.yml``, the normalization statistics as JSON, ``evaluations.npz`` (the learning curve) and the training
    monitor files. No replay buffer, no checkpoint and no pickled ``VecNormalize`` (the JSON is what pgzoo loads).

    :param run_folder: ``<log folder>/<algo>/<env>_<N>`` of the run.
    :param env_id: Its env id.
    """
    from pgzoo.zoo.envs import env_folder_name
    from pgzoo.zoo.runs import VECNORMALIZE_JSON

    name = env_folder_name(env_id)
    wanted = [f"{name}.zip", f"{name}/config.yml", f"{name}/args.yml", f"{name}/{VECNORMALIZE_JSON}", "evaluations.npz"]
    files = [run_folder / rel for rel in wanted if (run_folder / rel).is_file()]
    return files + sorted(run_folder.glob("*.monitor.csv"))


def agent_results(record: dict[str, Any]) -> dict[str, Any]:
    """
    The ``results.json`` of a kept agent: its record's final evaluation, as ``pgzoo push`` publishes it.

    :param record: A run record (from :func:`run_one`, or a file of an earlier version).
    """
    from pgzoo.zoo.hub import results_document

    return results_document(
        env_id=record["env"],
        algo=record["algo"],
        mean_reward=record["final_mean_reward"],
        std_reward=record["final_std_reward"],
        n_eval_episodes=record["eval_episodes"],
        deterministic=record.get("deterministic_eval", True),
        eval_datetime=record.get("date", ""),
        n_timesteps=record["n_timesteps"],  # the budget, as the benchmark table states it
        env_steps=record["env_steps"],
        seed=record["seed"],
    )


def write_agent(target: Path, algo: str, env_id: str, files: dict[str, bytes]) -> Path:
    """
    Write a kept agent (see :func:`agent_folder`) atomically: filled in a temporary folder beside, then renamed.

    :param target: The agent's logs folder; an earlier one (``--overwrite``) is replaced.
    :param algo: Registry name of the algorithm.
    :param env_id: Gymnasium env id.
    :param files: Content of each kept file by its path relative to the run folder.
    :return: The run folder inside ``target``.
    """
    import shutil
    import tempfile

    from pgzoo.zoo.envs import env_folder_name
    from pgzoo.zoo.fileio import atomic_write

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    run = Path(algo) / f"{env_folder_name(env_id)}_{AGENT_RUN_ID}"
    try:
        for rel, content in files.items():
            atomic_write(staging / run / rel, lambda file, data=content: file.write(data))  # type: ignore[misc]
        staging.chmod(0o777 & ~_umask())
        if target.exists():
            shutil.rmtree(target)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target / run


def copy_agent(record_file: str | Path, agents_folder: str | Path) -> Path:
    """
    Copy the agent a record keeps into a collection in rl-zoo3's layout, ``<agents_folder>/<algo>/<env>_1/``.

    The copy replaces the collection's earlier agent of (algo, env), and its ``results.json`` is the record's final
    evaluation, so that ``pgzoo publish`` publishes what the benchmark measured.

    :param record_file: A run record written by ``pgzoo benchmark`` (schema 2: it names its agent).
    :param agents_folder: The collection (e.g. the repository's ``agents/``).
    :return: The agent's run folder in the collection.
    :raises ZooError: When the record keeps no agent (older records, or one whose agent was deleted).
    """
    import shutil

    from pgzoo.zoo.envs import env_folder_name
    from pgzoo.zoo.fileio import atomic_write_text

    record_file = Path(record_file)
    record = json.loads(record_file.read_text())
    name = f"{env_folder_name(record['env'])}_{AGENT_RUN_ID}"
    source = record_file.parent / str(record.get("agent", "")) / record["algo"] / name
    if not record.get("agent") or not source.is_dir():
        raise ZooError(f"{record_file} keeps no agent (records before schema 2 have none): run the benchmark again")
    target = Path(agents_folder) / record["algo"] / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    atomic_write_text(target / "results.json", json.dumps(agent_results(record), indent=2) + "\n")
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_envs(algos: Iterable[str]) -> list[tuple[str, str]]:
    """
    Rows benchmarked when ``--envs`` is not given.

    pgzoo algorithms get their required and optional rows; an SB3 baseline gets the envs of the pgzoo rows it is the
    reference of (A2C for REINFORCE and A3C, DDPG for DPG), so that its curve can be drawn next to theirs.

    :param algos: Normalized algorithm names.
    """
    from pgzoo.zoo.report import REFERENCE_ALGOS

    rows: list[tuple[str, str]] = []
    for algo in algos:
        if any(algo == a for a, _ in REQUIRED_ROWS + OPTIONAL_ROWS):
            rows += [(a, e) for a, e in REQUIRED_ROWS + OPTIONAL_ROWS if a == algo]
        else:
            envs = [e for a, e in REQUIRED_ROWS if REFERENCE_ALGOS.get(a) == algo]
            rows += [(algo, e) for e in dict.fromkeys(envs)]
    return rows


def _cpus_of(algo_class: type, model_kwargs: dict[str, Any]) -> int:
    # A3C trains with n_workers processes of its own: a Ray task must reserve that many CPUs, or several A3C runs
    # would be packed on the same cores and their steps/s would mean nothing.
    if model_kwargs.get("n_workers"):
        return int(model_kwargs["n_workers"])
    from pgzoo.zoo.algos import accepts_parameter

    if accepts_parameter(algo_class, "n_workers"):
        return os.cpu_count() or 1  # the algorithm's own default: one worker per core
    return 1


def plan_runs(
    algos: Sequence[str] | None,
    envs: Sequence[str] | None,
    *,
    n_seeds: int = DEFAULT_SEEDS,
    first_seed: int = 0,
    n_timesteps: int | None = None,
    eval_freq: int | None = None,
    curve_episodes: int = 5,
    eval_episodes: int = DEFAULT_EVAL_EPISODES,
    log_folder: str | Path = "logs/benchmark",
    hyperparams_file: str | Path | None = None,
    device: str = "cpu",
    threads: int = 1,
    resume_freq: int = DEFAULT_RESUME_FREQ,
    verbose: int = 1,
) -> list[RunSpec]:
    """
    Validate the request and list the runs, before anything is trained (so that a typo fails in a second).

    With both ``algos`` and ``envs`` the rows are their cross product, minus pairs whose hyperparameter file has no
    entry for the env (e.g. DPG on CartPole-v1), which are reported and skipped. Without ``envs``, an optional row
    (:data:`OPTIONAL_ROWS`) without an entry is skipped the same way; a required row without one is an error.

    :param algos: Algorithm names; ``None`` means pgzoo's three.
    :param envs: Env ids; ``None`` means :func:`default_envs`.
    :param n_seeds: Number of seeds per row: ``first_seed .. first_seed + n_seeds - 1``.
    :param first_seed: First seed of each row (to split a row's seeds between machines or sessions).
    :param n_timesteps: Budget override (tiny tests); ``None`` uses each entry's ``n_timesteps``.
    :param eval_freq: Env steps between points of the learning curve; ``None`` gives
        :data:`DEFAULT_CURVE_POINTS` points per run.
    :param curve_episodes: Episodes per point of the learning curve.
    :param eval_episodes: Episodes of the final deterministic evaluation.
    :param log_folder: Root of the logs layout for the runs' models.
    :param hyperparams_file: File to read instead of the packaged ``<algo>.yml`` (only with a single algorithm).
    :param device: Torch device.
    :param threads: Torch threads per run.
    :param resume_freq: Env steps between two checkpoints of a run (``<= 0``: only on Ctrl-C).
    :param verbose: Print skipped pairs when > 0.
    :return: The runs, row by row, seeds in order.
    :raises ZooError: Unknown algorithm or env, bad hyperparameters, no run left, bad numbers.
    """
    from pgzoo.zoo.algos import PGZOO_ALGOS, get_algo_class, normalize_algo_name
    from pgzoo.zoo.envs import check_env_id
    from pgzoo.zoo.hyperparams import get_env_hyperparams, preprocess_hyperparams

    if n_seeds <= 0:
        raise ZooError(f"--seeds must be positive, got {n_seeds}")
    check_seed_range("--first-seed", first_seed, n_seeds)
    if eval_episodes <= 0 or curve_episodes <= 0:
        raise ZooError("--eval-episodes and --curve-episodes must be positive")
    names = [normalize_algo_name(a) for a in (algos or PGZOO_ALGOS)]
    names = list(dict.fromkeys(names))
    if hyperparams_file is not None and len(names) > 1:
        raise HyperparamsError("--hyperparams applies to one algorithm: give a single --algos with it")
    if envs:
        for env_id in envs:
            check_env_id(env_id)
        rows = [(a, e) for a in names for e in dict.fromkeys(envs)]
    else:
        rows = default_envs(names)

    runs: list[RunSpec] = []
    for algo, env_id in rows:
        algo_class = get_algo_class(algo)
        try:
            raw, source = get_env_hyperparams(algo, env_id, hyperparams_file)
        except MissingEntryError:
            # An explicit cross product naturally contains pairs that make no sense (DPG on a discrete env), and an
            # optional row joins the defaults only once its algorithm has an entry for it.
            if envs or (algo, env_id) in OPTIONAL_ROWS:
                if verbose:
                    print(f"skipping {algo} on {env_id}: no hyperparameters for it")
                continue
            raise
        if n_timesteps is not None:
            raw["n_timesteps"] = n_timesteps
        config = preprocess_hyperparams(raw, where=f"{env_id} in {source}")
        if config.n_timesteps <= 0:
            raise HyperparamsError(f"{env_id} in {source} has no n_timesteps: add one or pass --n-timesteps")
        freq = eval_freq if eval_freq is not None else max(config.n_timesteps // DEFAULT_CURVE_POINTS, 1)
        runs += [
            RunSpec(
                algo=algo,
                env_id=env_id,
                seed=seed,
                n_timesteps=config.n_timesteps,
                eval_freq=freq,
                curve_episodes=curve_episodes,
                eval_episodes=eval_episodes,
                log_folder=str(log_folder),
                hyperparams_file=None if hyperparams_file is None else str(hyperparams_file),
                device=device,
                threads=threads,
                cpus=_cpus_of(algo_class, config.model_kwargs),
                entry_digest=entry_digest(raw),
                resume_freq=resume_freq,
            )
            for seed in range(first_seed, first_seed + n_seeds)
        ]
    if not runs:
        raise ZooError("nothing to benchmark: no requested (algo, env) pair has hyperparameters")
    return runs


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
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def _versions() -> dict[str, str]:
    import gymnasium
    import stable_baselines3
    import torch

    from pgzoo.version import __version__

    return {"pgzoo": __version__, "torch": torch.__version__, "stable_baselines3": stable_baselines3.__version__,
            "gymnasium": gymnasium.__version__}  # fmt: skip


class CurveCallback(TimedEvaluationCallback):
    """
    Record the learning curve: every ``eval_freq`` env steps, deterministic episodes on a separate evaluation env.

    Unlike the zoo's ``EvalCallback`` it times its evaluations, so that steps per second can be reported for
    training alone, and it triggers on env steps rather than callback calls (A3C calls back once per worker report).

    :param env_id: Env id of the run.
    :param hyperparams: The run's hyperparameter entry (the evaluation env gets its wrappers and normalization).
    :param seed: Seed of the run (the evaluation env's seeds are derived from it).
    :param eval_freq: Env steps between two points of the curve.
    :param n_eval_episodes: Deterministic episodes per point.
    :param curve: Points ``[steps, mean, std]`` recorded by earlier sittings of a resumed run; new points follow them.
    :param eval_time_offset: Seconds those sittings spent evaluating.
    :param episodes: ``[steps, episode rewards, episode lengths]`` of each point of those sittings.
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
    ) -> None:
        super().__init__(None, eval_freq, n_eval_episodes=n_eval_episodes, deterministic=True)
        self.env_id, self.hyperparams, self.seed = env_id, hyperparams, seed
        self.curve: list[list[float]] = list(curve or [])
        self.episodes: list[list[Any]] = list(episodes or [])
        self.eval_time_offset = eval_time_offset

    @property
    def eval_time_s(self) -> float:
        """Seconds spent evaluating the curve, earlier sittings included."""
        return self.eval_time_offset + self.eval_seconds

    def _init_callback(self) -> None:
        from pgzoo.zoo.envs import make_zoo_env
        from pgzoo.zoo.hyperparams import preprocess_hyperparams

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
        import numpy as np

        from pgzoo.zoo.fileio import atomic_write

        count = len(self.episodes)
        timesteps = np.array([point[0] for point in self.episodes], dtype=np.int64)
        results = np.array([point[1] for point in self.episodes], dtype=np.float64).reshape(count, self.n_eval_episodes)
        lengths = np.array([point[2] for point in self.episodes], dtype=np.int64).reshape(count, self.n_eval_episodes)
        atomic_write(path, lambda file: np.savez(file, timesteps=timesteps, results=results, ep_lengths=lengths))

    def _on_training_end(self) -> None:
        if self.eval_env is not None:
            self.eval_env.close()


def run_one(spec: RunSpec) -> dict[str, Any]:
    """
    Train and evaluate one run and return its record (see :func:`write_result` for the file).

    Called in-process, in a pool process or in a Ray task; it writes the run's models under ``spec.log_folder`` on
    the machine it runs on, and nothing else.

    :param spec: The run.
    :return: The JSON-friendly record.
    :raises KeyboardInterrupt: When training was interrupted (an unfinished run must not be recorded).
    """
    import torch as th

    from pgzoo.zoo.hyperparams import get_env_hyperparams, load_yaml
    from pgzoo.zoo.resume import Resume
    from pgzoo.zoo.train import train

    raw, _ = get_env_hyperparams(spec.algo, spec.env_id, spec.hyperparams_file)
    raw["n_timesteps"] = spec.n_timesteps
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
            return dict(json.loads(Path(spec.result_file).read_text()))
        if spec.fresh_start:
            resume.clear()
        checkpoint = resume.latest()
        earlier = checkpoint.extra if checkpoint is not None else {}
        resumed_at = [*earlier.get("resumed_at", []), checkpoint.num_timesteps] if checkpoint is not None else []
        wall_clock_before = float(earlier.get("wall_clock_s", 0.0))
        curve = CurveCallback(spec.env_id, raw, spec.seed, spec.eval_freq, spec.curve_episodes, earlier.get("curve"),
                              float(earlier.get("eval_time_s", 0.0)), earlier.get("episodes"))  # fmt: skip
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
                deterministic_eval=True,
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
        from pgzoo.zoo.envs import env_folder_name

        curve.save_evaluations(result.run_folder / "evaluations.npz")
        config_file = result.run_folder / env_folder_name(spec.env_id) / "config.yml"
        kept = {
            str(path.relative_to(result.run_folder)): path.read_bytes() for path in kept_files(result.run_folder, spec.env_id)
        }
        return {
            "schema_version": SCHEMA_VERSION,
            "algo": spec.algo,
            "env": spec.env_id,
            "seed": spec.seed,
            "n_timesteps": spec.n_timesteps,
            "entry_digest": spec.entry_digest,
            # The run's config.yml: the entry it trained with, as `pgzoo push` publishes it.
            "hyperparams": load_yaml(config_file),
            "hyperparams_file": str(result.hyperparams_file),
            "final_mean_reward": result.mean_reward,
            "final_std_reward": result.std_reward,
            "eval_episodes": result.n_eval_episodes,
            "deterministic_eval": True,
            "curve": curve.curve,
            "curve_episodes": spec.curve_episodes,
            "eval_freq": spec.eval_freq,
            "env_steps": result.n_timesteps,
            "train_time_s": train_time,
            "curve_eval_time_s": curve.eval_time_s,
            "wall_clock_s": wall_clock,
            "steps_per_second": result.n_timesteps / train_time if train_time > 0 else None,
            "resumed_at_steps": resumed_at,
            "torch_threads": spec.threads,
            "cpus": spec.cpus,
            "device": spec.device,
            "run_folder": str(result.run_folder),
            # The logs folder beside the record that keeps the final agent (relative to the record's folder).
            "agent": agent_folder("", spec.algo, spec.env_id, spec.n_timesteps, spec.seed).name,
            AGENT_FILES_KEY: kept,
            "versions": _versions(),
            "machine": _machine(),
            # Wall-clock and steps/s mean little on a busy machine: keep the evidence next to them.
            "load_average_1min": os.getloadavg()[0],
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }


def write_result(path: str | Path, record: dict[str, Any]) -> Path:
    """
    Write a run's record atomically (temporary file in the same folder, then ``os.replace``).

    A crash or Ctrl-C during the write leaves either no file or the complete one, never half a JSON that a resumed
    benchmark would mistake for a finished run.

    :param path: Target file.
    :param record: JSON-friendly record.
    :return: The path written.
    """
    from pgzoo.zoo.fileio import atomic_write_text

    path = Path(path)
    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True, allow_nan=True) + "\n")
    return path


#: Entry keys that do not change how a run trains, left out of :func:`entry_digest`.
NOT_DIGESTED = ("n_timesteps", "tuning_seeds")


def entry_digest(raw: dict[str, Any]) -> str:
    """
    Fingerprint of a hyperparameter entry, its budget left out (the budget is part of the result's file name), and
    its ``tuning_seeds`` too: they record how the entry was chosen, not how it trains.

    A saved run counts as finished only for the entry it was trained with: after tuning, the old result is stale.

    :param raw: The entry as read from the YAML file.
    """
    settings = {key: value for key, value in raw.items() if key not in NOT_DIGESTED}
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


def current_entry(algo: str, env_id: str, hyperparams_file: str | Path | None = None) -> tuple[dict[str, Any], Path] | None:
    """
    The entry that would be used now for runs made with ``hyperparams_file``, as ``(entry, file)``, or ``None`` when
    there is no such entry.

    :param algo: Registry name of the algorithm.
    :param env_id: Gymnasium env id.
    :param hyperparams_file: The file the run used; the packaged file when ``None`` or no longer there.
    """
    from pgzoo.zoo.hyperparams import get_env_hyperparams

    if hyperparams_file is not None and not Path(hyperparams_file).is_file():
        hyperparams_file = None
    try:
        return get_env_hyperparams(algo, env_id, hyperparams_file)
    except ZooError:
        return None


def current_entry_digest(algo: str, env_id: str, hyperparams_file: str | Path | None = None) -> str | None:
    """
    :func:`entry_digest` of the entry that would be used now (see :func:`current_entry`), or ``None`` without one.

    :param algo: Registry name of the algorithm.
    :param env_id: Gymnasium env id.
    :param hyperparams_file: The file the run used; the packaged file when ``None`` or no longer there.
    """
    entry = current_entry(algo, env_id, hyperparams_file)
    return None if entry is None else entry_digest(entry[0])


def is_finished(path: Path, digest: str | None = None) -> bool:
    """
    Whether ``path`` holds a complete run record (a corrupt file counts as unfinished and is redone).

    :param path: The result file.
    :param digest: When given, the record must also have been trained with these hyperparameters.
    """
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict) or "final_mean_reward" not in record:
        return False
    return digest is None or record.get("entry_digest") == digest


#: Seconds a pool worker whose parent died gets to save its run's checkpoint before it exits anyway.
ORPHAN_GRACE_S = 120.0
#: Set in a pool worker once it runs a run (a worker whose parent died then gets time to save its checkpoint).
_RUNNING = threading.Event()


def _pool_initializer() -> None:
    # The parent stops its workers, with one SIGTERM to each worker that runs a run: a Ctrl-C that reaches the whole
    # process group must not interrupt a run a second time while it saves its checkpoint, and an idle worker must
    # not die (the pool would count it as broken and kill the others mid-save).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, name="pgzoo-orphan-watch", daemon=True).start()


def _exit_when_orphaned() -> None:
    # A parent that dies without stopping us (SIGKILL, a crash) can no longer record our result: stop as a Ctrl-C
    # would (the run keeps its checkpoint, so the next benchmark resumes it) rather than train on as an orphan.
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is None:
        return
    parent.join()
    os.kill(os.getpid(), signal.SIGTERM)  # a run in progress turns it into KeyboardInterrupt; idle, it is ignored
    time.sleep(ORPHAN_GRACE_S if _RUNNING.is_set() else 0.0)
    os._exit(1)


def _pool_worker(spec: RunSpec) -> dict[str, Any]:
    # Fresh spawned interpreter: one torch thread before anything else creates a thread pool.
    import torch as th

    th.set_num_threads(spec.threads)
    _RUNNING.set()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Stopped, the run keeps a checkpoint and raises KeyboardInterrupt, as in a sequential benchmark.
    with sigterm_raises(lambda signum: KeyboardInterrupt()):
        return run_one(spec)


def _run_sequential(specs: list[RunSpec], on_done: Callable[[RunSpec, dict[str, Any] | BaseException], None]) -> None:
    for spec in specs:
        try:
            record: dict[str, Any] | BaseException = run_one(spec)
        except KeyboardInterrupt:
            raise
        except Exception as error:
            record = error
        on_done(spec, record)


def _run_pool(specs: list[RunSpec], jobs: int, on_done: Callable[[RunSpec, dict[str, Any] | BaseException], None]) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    # spawn: a fork of a process that already ran torch can deadlock; max_tasks_per_child=1 gives every run a
    # fresh interpreter, so no state (seeds, thread pools, leaked memory) carries from one run to the next.
    executor = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_pool_initializer,
        max_tasks_per_child=1,
    )
    pending: dict[Future[dict[str, Any]], RunSpec] = {executor.submit(_pool_worker, s): s for s in specs}
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                spec = pending.pop(future)
                error = future.exception()
                on_done(spec, future.result() if error is None else error)
    except KeyboardInterrupt:
        # Runs not started yet are dropped; each running one keeps a checkpoint, and the workers have exited before
        # the interrupt goes on. ProcessPoolExecutor has no public handle on its processes.
        for process in list(executor._processes.values()):
            process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
        for future, spec in pending.items():
            if not future.cancelled() and future.exception() is None:
                on_done(spec, future.result())  # finished while the others stopped
        raise
    executor.shutdown(wait=True)


def _run_ray(
    specs: list[RunSpec],
    address: str | None,
    num_cpus: int | None,
    on_done: Callable[[RunSpec, dict[str, Any] | BaseException], None],
) -> None:
    try:
        import ray
    except ImportError:
        raise ZooError("--ray / --ray-address need Ray: pip install 'pgzoo[ray]'") from None

    started = False
    if not ray.is_initialized():
        if address is not None:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        remote = ray.remote(max_retries=0)(run_one)
        # A run asking for more CPUs than the whole cluster has would wait forever: cap it (and say so).
        total = max(int(ray.cluster_resources().get("CPU", 1)), 1)
        if any(spec.cpus > total for spec in specs):
            print(f"warning: some runs want more CPUs than the Ray cluster's {total}; they get {total}", file=sys.stderr)
        refs = {remote.options(num_cpus=min(spec.cpus, total), name=spec.name).remote(spec): spec for spec in specs}
        try:
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                for ref in done:
                    spec = refs.pop(ref)
                    try:
                        record: dict[str, Any] | BaseException = ray.get(ref)
                    except Exception as error:
                        record = error
                    on_done(spec, record)
        except KeyboardInterrupt:
            for ref in refs:
                ray.cancel(ref, force=True)
            raise
    finally:
        if started:
            ray.shutdown()


def run_benchmark(
    specs: list[RunSpec],
    results_dir: str | Path = "benchmarks/results",
    *,
    jobs: int = 1,
    use_ray: bool = False,
    ray_address: str | None = None,
    overwrite: bool = False,
    verbose: int = 1,
) -> BenchmarkSummary:
    """
    Run every spec whose result file does not exist yet, saving each record as soon as its run ends.

    :param specs: Runs from :func:`plan_runs`.
    :param results_dir: Folder of the per-run JSON files.
    :param jobs: Local processes (``1``: in this process, one after another); with a local Ray instance, its CPUs.
    :param use_ray: Submit each run as a Ray task (a local instance unless ``ray_address`` is given).
    :param ray_address: Address of the Ray cluster to join (implies ``use_ray``).
    :param overwrite: Run again from scratch even when the result file exists (checkpoints are discarded).
    :param verbose: 0 silent, 1 one line per run.
    :return: A :class:`BenchmarkSummary`.
    """
    from pgzoo.zoo.fileio import check_writable_folder
    from pgzoo.zoo.resume import Resume

    # Before any training: a run whose record can't be written is a run lost.
    check_writable_folder(results_dir, f"--results-dir {results_dir}")
    summary = BenchmarkSummary()
    todo: list[RunSpec] = []
    for spec in specs:
        path = result_path(results_dir, spec.algo, spec.env_id, spec.n_timesteps, spec.seed)
        if not overwrite and is_finished(path, spec.entry_digest):
            summary.skipped.append(path)
            # Left behind when the benchmark stopped between a run's end and the write of its record.
            Resume(spec.checkpoint_folder).clear()
        else:
            if verbose and is_finished(path):
                print(f"{spec.name}: hyperparameters changed since {path} was measured, running it again")
            todo.append(dataclasses.replace(spec, fresh_start=overwrite, result_file=str(path)))
    if verbose:
        print(f"{len(specs)} runs: {len(summary.skipped)} already finished in {results_dir}, {len(todo)} to run")

    def on_done(spec: RunSpec, outcome: dict[str, Any] | BaseException) -> None:
        count = len(summary.finished) + len(summary.failed) + 1
        if isinstance(outcome, BaseException):
            message = str(outcome) if isinstance(outcome, ZooError) else f"{type(outcome).__name__}: {outcome}"
            summary.failed.append((spec.name, message))
            if verbose:
                print(f"[{count}/{len(todo)}] {spec.name}: FAILED: {message}", file=sys.stderr)
            return
        files = outcome.pop(AGENT_FILES_KEY, None)
        if files is not None:
            files["results.json"] = (json.dumps(agent_results(outcome), indent=2) + "\n").encode()
            # Before the record: a finished record always has its agent beside it.
            write_agent(agent_folder(results_dir, spec.algo, spec.env_id, spec.n_timesteps, spec.seed), spec.algo,
                        spec.env_id, files)  # fmt: skip
        path = write_result(result_path(results_dir, spec.algo, spec.env_id, spec.n_timesteps, spec.seed), outcome)
        summary.finished.append(path)
        # Only now that the record is on disk (a run that ran on another node of a Ray cluster leaves its own).
        Resume(spec.checkpoint_folder).clear()
        if verbose:
            print(
                f"[{count}/{len(todo)}] {spec.name}: {outcome['final_mean_reward']:.2f} +/- "
                f"{outcome['final_std_reward']:.2f} after {outcome['env_steps']} steps "
                f"({outcome['wall_clock_s']:.1f} s) -> {path}"
            )

    if not todo:
        return summary
    if use_ray or ray_address is not None:
        _run_ray(todo, ray_address, jobs if jobs > 1 else None, on_done)
    elif jobs > 1:
        _run_pool(todo, jobs, on_done)
    else:
        _run_sequential(todo, on_done)
    return summary


_EXAMPLES = """\
Each finished run is saved as <results-dir>/<algo>_<env>_n<steps>_seed<k>.json; runs whose file exists are
skipped, so an interrupted benchmark resumes where it stopped. A run in progress keeps a checkpoint every
--resume-freq steps and on Ctrl-C (in -f DIR/resume/): a long run continues from it in the next invocation.
Models and evaluations.npz go to -f DIR.
The report is regenerated from every saved run in --results-dir. It goes beside that folder unless --output says
otherwise: <results-dir>/../benchmark.md and <results-dir>/../plots/<env>.png (by default benchmarks/benchmark.md
and benchmarks/plots/, the published report: give a --results-dir of your own for trial runs).

examples:
  pgzoo benchmark                                     # pgzoo's required, then optional rows, 3 seeds, tuned budgets
  pgzoo benchmark --algos reinforce a2c --envs CartPole-v1 --seeds 3 --jobs 2
  pgzoo benchmark --algos a3c --envs Pendulum-v1 --ray-address auto
  pgzoo benchmark --algos reinforce --envs CartPole-v1 -n 5000 --eval-episodes 5 --results-dir /tmp/b/results
  pgzoo benchmark --report                            # only regenerate benchmark.md and the plots
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """
    Register ``pgzoo benchmark`` on the CLI's subparsers.

    :param subparsers: The object returned by ``ArgumentParser.add_subparsers``.
    :return: The new subparser.
    """
    from pgzoo.zoo.argtypes import positive_int

    parser = subparsers.add_parser(
        "benchmark",
        help="train (algo, env, seed) runs with tuned hyperparameters and write their report (benchmark.md)",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--algos", nargs="+", help="algorithms (default: reinforce dpg a3c)")
    parser.add_argument("--envs", nargs="+", help="env ids (default: each algorithm's benchmark rows)")
    parser.add_argument(
        "--seeds", type=positive_int, default=DEFAULT_SEEDS, help="number of seeds per row, from --first-seed (default 3)"
    )
    parser.add_argument(
        "--first-seed", type=int, default=0, help="start the seeds here: K..K+N-1 (split a row between machines)"
    )
    parser.add_argument("-n", "--n-timesteps", type=positive_int, help="budget override (default: the file's n_timesteps)")
    parser.add_argument(
        "--eval-episodes",
        type=positive_int,
        default=DEFAULT_EVAL_EPISODES,
        help=f"deterministic episodes of the final evaluation (default {DEFAULT_EVAL_EPISODES})",
    )
    parser.add_argument(
        "--eval-freq", type=positive_int, help=f"env steps between curve points (default: {DEFAULT_CURVE_POINTS} points)"
    )
    parser.add_argument("--curve-episodes", type=positive_int, default=5, help="episodes per curve point (default 5)")
    parser.add_argument("-f", "--folder", default="logs/benchmark", help="logs folder of the runs (default logs/benchmark)")
    parser.add_argument("--results-dir", default="benchmarks/results", help="per-run JSON files (default benchmarks/results)")
    parser.add_argument(
        "--output", help="report file; its plots go to plots/ beside it (default: benchmark.md beside --results-dir)"
    )
    parser.add_argument("--readme", help="also replace the table between the benchmark markers of this README")
    parser.add_argument("--jobs", type=positive_int, default=1, help="local processes (default 1: one run after another)")
    parser.add_argument("--ray", action="store_true", help="run each run as a task of a local Ray instance")
    parser.add_argument("--ray-address", help="run each run as a task of this Ray cluster (e.g. auto, ray://host:10001)")
    parser.add_argument("--overwrite", action="store_true", help="run again even if the run's result file exists")
    parser.add_argument("--report", action="store_true", help="only regenerate the report from the saved runs")
    parser.add_argument("--no-report", action="store_true", help="do not regenerate the report after the runs")
    parser.add_argument("--hyperparams", "-conf", dest="hyperparams_file", metavar="FILE", help="rl-zoo3 style YAML file")
    parser.add_argument(
        "--resume-freq",
        type=int,
        default=DEFAULT_RESUME_FREQ,
        help=f"env steps between checkpoints a stopped run continues from (default {DEFAULT_RESUME_FREQ}; 0: only on Ctrl-C)",
    )
    parser.add_argument("--threads", type=positive_int, default=1, help="torch threads per run (default 1)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu: small MLPs are fastest there)")
    parser.add_argument("--verbose", type=int, default=1, help="0 quiet, 1 one line per run (default)")
    return parser


def main(args: argparse.Namespace) -> int:
    """
    Run ``pgzoo benchmark`` with parsed arguments.

    :param args: Namespace produced by the parser of :func:`add_parser`.
    :return: Exit status: 0 when every run finished (or was already finished), 1 when some failed.
    """
    from pgzoo.zoo.report import check_readme, write_report

    status = 0
    if args.readme is not None and (args.report or not args.no_report):
        check_readme(args.readme)  # before the runs, not after hours of training
    if not args.report:
        specs = plan_runs(
            args.algos,
            args.envs,
            n_seeds=args.seeds,
            first_seed=args.first_seed,
            n_timesteps=args.n_timesteps,
            eval_freq=args.eval_freq,
            curve_episodes=args.curve_episodes,
            eval_episodes=args.eval_episodes,
            log_folder=args.folder,
            hyperparams_file=args.hyperparams_file,
            device=args.device,
            threads=args.threads,
            resume_freq=args.resume_freq,
            verbose=args.verbose,
        )
        # SIGTERM (`kill`, the end of a session) stops a run as Ctrl-C does: it keeps a checkpoint to resume from.
        with sigterm_raises(lambda signum: KeyboardInterrupt()):
            summary = run_benchmark(
                specs,
                args.results_dir,
                jobs=args.jobs,
                use_ray=args.ray,
                ray_address=args.ray_address,
                overwrite=args.overwrite,
                verbose=args.verbose,
            )
        if summary.failed:
            print(f"{len(summary.failed)} run(s) failed:", file=sys.stderr)
            for name, message in summary.failed:
                print(f"  {name}: {message}", file=sys.stderr)
            status = 1
    if args.report or not args.no_report:
        path = write_report(args.results_dir, args.output, readme=args.readme)
        print(f"Report written to {path}")
    return status


__all__ = [
    "OPTIONAL_ROWS",
    "REQUIRED_ROWS",
    "BenchmarkSummary",
    "CurveCallback",
    "RunSpec",
    "add_parser",
    "agent_folder",
    "agent_results",
    "copy_agent",
    "main",
    "plan_runs",
    "result_path",
    "run_benchmark",
    "run_one",
    "write_result",
]

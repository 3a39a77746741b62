"""
Planning a benchmark: the runs it makes (:class:`RunSpec`, one per (algo, env, seed), validated before anything
trains, by :func:`plan_runs`) and the fingerprint of the hyperparameter entry a run trains with
(:func:`entry_digest`), by which a saved run counts as finished only for the entry it was trained with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgzoo.common.utils import available_cores
from pgzoo.zoo.algos import PGZOO_ALGOS, accepts_parameter, get_algo_class, normalize_algo_name
from pgzoo.zoo.benchmark.record import result_path
from pgzoo.zoo.benchmark.rows import OPTIONAL_ROWS, default_rows
from pgzoo.zoo.envs import check_env_id
from pgzoo.zoo.errors import HyperparamsError, MissingEntryError, ZooError, check_seed_range
from pgzoo.zoo.hyperparams import get_env_hyperparams, load_entry

#: Default number of seeds of a benchmark row.
DEFAULT_SEEDS = 3
#: Default number of deterministic episodes of the final evaluation (the issue asks for at least 20).
DEFAULT_EVAL_EPISODES = 20
#: Default number of points of the learning curve when ``--eval-freq`` is not given.
DEFAULT_CURVE_POINTS = 20
#: Default number of deterministic episodes per point of the learning curve.
DEFAULT_CURVE_EPISODES = 5
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


def _cpus_of(algo_class: type, model_kwargs: dict[str, Any]) -> int:
    # A3C trains with n_workers processes of its own: a Ray task must reserve that many CPUs, or several A3C runs
    # would be packed on the same cores and their steps/s would mean nothing.
    if model_kwargs.get("n_workers"):
        return int(model_kwargs["n_workers"])
    if accepts_parameter(algo_class, "n_workers"):
        return available_cores()  # the algorithm's own default: one worker per core
    return 1


def plan_runs(
    algos: Sequence[str] | None,
    envs: Sequence[str] | None,
    *,
    n_seeds: int = DEFAULT_SEEDS,
    first_seed: int = 0,
    n_timesteps: int | None = None,
    eval_freq: int | None = None,
    curve_episodes: int = DEFAULT_CURVE_EPISODES,
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
    (:data:`~pgzoo.zoo.benchmark.rows.OPTIONAL_ROWS`) without an entry is skipped the same way; a required row
    without one is an error.

    :param algos: Algorithm names; ``None`` means pgzoo's three.
    :param envs: Env ids; ``None`` means :func:`~pgzoo.zoo.benchmark.rows.default_rows`.
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
        rows = default_rows(names)

    runs: list[RunSpec] = []
    for algo, env_id in rows:
        algo_class = get_algo_class(algo)
        try:
            entry = load_entry(
                algo,
                env_id,
                hyperparams_file,
                options={"n_timesteps": n_timesteps},
                budget_hint="add one or pass --n-timesteps",
            )
        except MissingEntryError:
            # An explicit cross product naturally contains pairs that make no sense (DPG on a discrete env), and an
            # optional row joins the defaults only once its algorithm has an entry for it.
            if envs or (algo, env_id) in OPTIONAL_ROWS:
                if verbose:
                    print(f"skipping {algo} on {env_id}: no hyperparameters for it")
                continue
            raise
        raw, config = entry.raw, entry.config
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


__all__ = [
    "DEFAULT_CURVE_EPISODES",
    "DEFAULT_CURVE_POINTS",
    "DEFAULT_EVAL_EPISODES",
    "DEFAULT_RESUME_FREQ",
    "DEFAULT_SEEDS",
    "RunSpec",
    "current_entry",
    "current_entry_digest",
    "entry_digest",
    "plan_runs",
]

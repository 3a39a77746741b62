"""
The run folder, rl-zoo3's layout: ``<log_folder>/<algo>/<env>_<run>/``. This module owns every name in it and both
directions, writing (``pgzoo train``, ``pgzoo pull``) and reading (``enjoy``, ``push``, ``publish``, the benchmark).

A run folder holds ``<env>.zip`` (final model), ``best_model.zip``, ``rl_model_<steps>_steps.zip`` checkpoints,
``evaluations.npz``, ``<rank>.monitor.csv`` files, ``error.log`` when the env failed during training, and ``<env>/``
with ``config.yml`` (the hyperparameters), ``args.yml`` (the command's arguments) and, when the env is normalized,
``vecnormalize.json`` (+ ``.pkl``). A run pulled from the Hub also has ``<env>/hub.json`` naming its origin: it is
not trusted by default.
"""

from __future__ import annotations

import json
import pickle
import re
import traceback
from pathlib import Path
from typing import Any

import yaml
from stable_baselines3.common.vec_env import VecNormalize

from pgzoo.zoo.envs import env_folder_name, save_vecnormalize_stats
from pgzoo.zoo.errors import ExperimentNotFoundError
from pgzoo.zoo.fileio import atomic_write, atomic_write_text
from pgzoo.zoo.hyperparams import ZooConfig, load_yaml, preprocess_hyperparams, to_saveable

#: ``<env>/config.yml``: the hyperparameters the run trained with, as in the file (rl-zoo3's name).
CONFIG_FILE = "config.yml"
#: ``<env>/args.yml``: the arguments of the command that trained it.
ARGS_FILE = "args.yml"
#: ``<env>/vecnormalize.json``: the observation and reward statistics in pgzoo's safe format (no pickle).
VECNORMALIZE_JSON = "vecnormalize.json"
#: ``<env>/vecnormalize.pkl``: SB3's pickled ``VecNormalize``, what rl-zoo3 and ``VecNormalize.load`` read.
VECNORMALIZE_PKL = "vecnormalize.pkl"
#: rl-zoo3's name for that pickle, in runs pulled from its repositories.
RL_ZOO_VECNORMALIZE_PKL = "vec_normalize.pkl"
#: ``<env>/hub.json``: marker written by ``pgzoo pull``: the run came from the Hub.
HUB_MARKER = "hub.json"
#: The best model of the evaluations during training.
BEST_MODEL = "best_model.zip"
#: SB3's ``EvalCallback`` results: the learning curve.
EVALUATIONS = "evaluations.npz"
#: The traceback of an env that failed during training.
ERROR_LOG = "error.log"
#: The run's final evaluation as measured when it was trained (a kept benchmark agent's), and a Hub repository's.
RESULTS_FILE = "results.json"
#: The training monitor files of a run (see :func:`monitor_name`).
MONITOR_GLOB = "*.monitor.csv"


def final_model_name(env_id: str) -> str:
    """``<env>.zip``: the name of a run's final model."""
    return f"{env_folder_name(env_id)}.zip"


def checkpoint_name(num_timesteps: int) -> str:
    """``rl_model_<steps>_steps.zip``: the name of the checkpoint saved after ``num_timesteps`` steps."""
    return f"rl_model_{num_timesteps}_steps.zip"


def monitor_name(rank: int) -> str:
    """``<rank>.monitor.csv``: the episode log of training env ``rank`` (SB3's ``Monitor`` adds ``.monitor.csv``)."""
    return f"{rank}.monitor.csv"


def run_folder_path(log_folder: str | Path, algo: str, env_id: str, run_id: int) -> Path:
    """``<log_folder>/<algo>/<env>_<run_id>``."""
    return Path(log_folder) / algo / f"{env_folder_name(env_id)}_{run_id}"


def latest_run_id(algo_folder: Path, env_id: str, *, with_model: bool = False) -> int:
    """
    Highest ``N`` among ``<algo_folder>/<env>_N`` folders, or 0 when there is none.

    :param algo_folder: ``<log_folder>/<algo>``.
    :param env_id: The env whose runs are counted.
    :param with_model: Only count folders holding a model zip (a run that failed before saving one is not "latest").
    """
    pattern = re.compile(rf"^{re.escape(env_folder_name(env_id))}_(\d+)$")
    ids = [
        int(m.group(1))
        for p in algo_folder.glob("*")
        if p.is_dir() and (m := pattern.match(p.name)) and (not with_model or any(p.glob("*.zip")))
    ]
    return max(ids, default=0)


def new_run_folder(log_folder: str | Path, algo: str, env_id: str) -> Path:
    """Create and return the next run folder ``<log_folder>/<algo>/<env>_<N+1>``."""
    algo_folder = Path(log_folder) / algo
    algo_folder.mkdir(parents=True, exist_ok=True)
    run_id = latest_run_id(algo_folder, env_id) + 1
    while True:  # another process may take the same id at the same time
        path = run_folder_path(log_folder, algo, env_id, run_id)
        try:
            path.mkdir()
            return path
        except FileExistsError:
            run_id += 1


def find_run_folder(log_folder: str | Path, algo: str, env_id: str, exp_id: int = 0) -> Path:
    """
    Return the run folder for ``exp_id`` (0: the latest run that saved a model).

    :raises ExperimentNotFoundError: When there is no such run.
    """
    algo_folder = Path(log_folder) / algo
    if exp_id == 0:
        exp_id = latest_run_id(algo_folder, env_id, with_model=True)
        if exp_id == 0:
            raise ExperimentNotFoundError(
                f"no trained {algo} agent for {env_id} in {algo_folder} "
                f"(train one with `pgzoo train --algo {algo} --env {env_id} -f {log_folder}`, or `pgzoo pull`)"
            )
    path = run_folder_path(log_folder, algo, env_id, exp_id)
    if not path.is_dir():
        raise ExperimentNotFoundError(f"run folder {path} does not exist")
    return path


def model_file(run_folder: Path, env_id: str, *, load_best: bool = False, load_checkpoint: int | None = None) -> Path:
    """
    Return the model zip of a run: final model, best model or a checkpoint.

    :raises ExperimentNotFoundError: When the file does not exist.
    """
    if load_checkpoint is not None:
        path = run_folder / checkpoint_name(load_checkpoint)
    elif load_best:
        path = run_folder / BEST_MODEL
    else:
        path = run_folder / final_model_name(env_id)
    if not path.is_file():
        found = sorted(p.name for p in run_folder.glob("*.zip"))
        raise ExperimentNotFoundError(f"model file {path} does not exist (models in that run: {', '.join(found) or 'none'})")
    return path


def config_folder(run_folder: Path, env_id: str) -> Path:
    """The ``<env>/`` folder of a run (config.yml, args.yml, vecnormalize)."""
    return run_folder / env_folder_name(env_id)


def read_run_config(run_folder: Path, env_id: str) -> dict[str, Any]:
    """The raw hyperparameters saved in ``<env>/config.yml`` (empty when missing)."""
    path = config_folder(run_folder, env_id) / CONFIG_FILE
    content = load_yaml(path) if path.is_file() else {}
    return dict(content or {})


def hub_origin(run_folder: Path, env_id: str) -> dict[str, Any] | None:
    """The ``hub.json`` marker of a pulled run, or ``None`` for a run trained here."""
    path = config_folder(run_folder, env_id) / HUB_MARKER
    return json.loads(path.read_text()) if path.is_file() else None


def load_run_config(run_folder: Path, env_id: str, *, trust_remote_code: bool = False) -> ZooConfig:
    """
    Processed hyperparameters of a run; a pulled run names only harmless wrappers and callbacks unless ``trust_remote_code``.
    """
    trusted = trust_remote_code or hub_origin(run_folder, env_id) is None
    where = str(config_folder(run_folder, env_id) / CONFIG_FILE)
    return preprocess_hyperparams(read_run_config(run_folder, env_id), where=where, trust_imports=trusted)


def vecnormalize_file(run_folder: Path, env_id: str) -> Path | None:
    """The run's safe ``vecnormalize.json``, or ``None``."""
    path = config_folder(run_folder, env_id) / VECNORMALIZE_JSON
    return path if path.is_file() else None


def vecnormalize_pickle(run_folder: Path, env_id: str) -> Path | None:
    """The run's SB3 ``vecnormalize.pkl`` (rl-zoo3 name ``vec_normalize.pkl`` also accepted), or ``None``."""
    for name in (VECNORMALIZE_PKL, RL_ZOO_VECNORMALIZE_PKL):
        path = config_folder(run_folder, env_id) / name
        if path.is_file():
            return path
    return None


def newest_run_folder(log_folder: str | Path, algo: str, env_id: str) -> Path | None:
    """
    The run folder with the highest number, a model in it or not (the run being trained), or ``None``.

    :param log_folder: Root of the logs layout.
    :param algo: Registry name of the algorithm.
    :param env_id: The env.
    """
    run_id = latest_run_id(Path(log_folder) / algo, env_id)
    return run_folder_path(log_folder, algo, env_id, run_id) if run_id else None


# --- Writing ------------------------------------------------------------------------------------------------------


def write_run_config(run_folder: Path, env_id: str, hyperparams: dict[str, Any], args: dict[str, Any]) -> None:
    """
    Create ``<env>/`` and write ``config.yml`` and ``args.yml`` into it, atomically.

    :param run_folder: A new run folder.
    :param env_id: Its env.
    :param hyperparams: The entry trained with (overrides applied), as in the file.
    :param args: The arguments of the command.
    """
    folder = config_folder(run_folder, env_id)
    folder.mkdir()
    atomic_write_text(folder / CONFIG_FILE, yaml.safe_dump(to_saveable(hyperparams), sort_keys=True))
    atomic_write_text(folder / ARGS_FILE, yaml.safe_dump(to_saveable(args), sort_keys=True))


def save_vecnormalize(run_folder: Path, env_id: str, env: VecNormalize) -> None:
    """
    Write the statistics of a normalized training env: ``vecnormalize.json`` and SB3's ``vecnormalize.pkl``.

    :param run_folder: The run folder.
    :param env_id: Its env.
    :param env: The training env.
    """
    folder = config_folder(run_folder, env_id)
    save_vecnormalize_stats(env, folder / VECNORMALIZE_JSON)
    # The pickle is what rl-zoo3 and plain SB3 read (`VecNormalize.load`); it is never uploaded to the Hub.
    atomic_write(folder / VECNORMALIZE_PKL, lambda file: pickle.dump(env, file))


def write_error_log(run_folder: Path, error: BaseException) -> Path:
    """
    Write ``error``'s traceback to ``<run>/error.log``.

    :param run_folder: The run folder.
    :param error: The exception (an env's own, say).
    :return: The file written.
    """
    path = run_folder / ERROR_LOG
    atomic_write_text(path, "".join(traceback.format_exception(type(error), error, error.__traceback__)))
    return path


def remove_unused_run(run_folder: Path, env_id: str, n_envs: int) -> None:
    """
    Delete a run folder that holds only what :func:`write_run_config` and the training envs' monitors wrote, as a
    training that failed before it started leaves it (``enjoy`` would take it for the latest run, one without a model).

    A folder holding anything else (a model, a checkpoint, a file the user put there) is left untouched.

    :param run_folder: The folder.
    :param env_id: Its env.
    :param n_envs: Number of training envs (one ``<rank>.monitor.csv`` each).
    """
    cfg_folder = config_folder(run_folder, env_id)
    written = {cfg_folder, cfg_folder / CONFIG_FILE, cfg_folder / ARGS_FILE}
    written |= {run_folder / monitor_name(rank) for rank in range(n_envs)}
    try:
        found = set(run_folder.rglob("*"))
        if not found <= written:
            return
        # Deepest first: files before the folder that holds them.
        for path in sorted(found, key=lambda p: len(p.parts), reverse=True):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()
        run_folder.rmdir()
    except OSError:
        # Something appeared meanwhile, or the file system refused: keep the rest rather than hide the first error.
        pass

"""The on-disk layout of a training run (rl-zoo3's): ``<log_folder>/<algo>/<env>_<run>/``.

A run folder holds ``<env>.zip`` (final model), ``best_model.zip``, ``rl_model_<steps>_steps.zip`` checkpoints,
``evaluations.npz``, ``<rank>.monitor.csv`` files and ``<env>/`` with ``config.yml`` (the hyperparameters),
``args.yml`` (the command's arguments) and, when the env is normalized, ``vecnormalize.json`` (+ ``.pkl``).
A run pulled from the Hub also has ``<env>/hub.json`` naming its origin: it is not trusted by default.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pgzoo.zoo.envs import VECNORMALIZE_JSON, VECNORMALIZE_PKL, env_folder_name
from pgzoo.zoo.errors import ExperimentNotFoundError
from pgzoo.zoo.hyperparams import ZooConfig, load_yaml, preprocess_hyperparams

#: Marker written by ``pgzoo pull`` into ``<env>/``: the run came from the Hub.
HUB_MARKER = "hub.json"


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
        path = algo_folder / f"{env_folder_name(env_id)}_{run_id}"
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
    path = algo_folder / f"{env_folder_name(env_id)}_{exp_id}"
    if not path.is_dir():
        raise ExperimentNotFoundError(f"run folder {path} does not exist")
    return path


def model_file(run_folder: Path, env_id: str, *, load_best: bool = False, load_checkpoint: int | None = None) -> Path:
    """
    Return the model zip of a run: final model, best model or a checkpoint.

    :raises ExperimentNotFoundError: When the file does not exist.
    """
    if load_checkpoint is not None:
        path = run_folder / f"rl_model_{load_checkpoint}_steps.zip"
    elif load_best:
        path = run_folder / "best_model.zip"
    else:
        path = run_folder / f"{env_folder_name(env_id)}.zip"
    if not path.is_file():
        found = sorted(p.name for p in run_folder.glob("*.zip"))
        raise ExperimentNotFoundError(f"model file {path} does not exist (models in that run: {', '.join(found) or 'none'})")
    return path


def config_folder(run_folder: Path, env_id: str) -> Path:
    """The ``<env>/`` folder of a run (config.yml, args.yml, vecnormalize)."""
    return run_folder / env_folder_name(env_id)


def read_run_config(run_folder: Path, env_id: str) -> dict[str, Any]:
    """The raw hyperparameters saved in ``<env>/config.yml`` (empty when missing)."""
    path = config_folder(run_folder, env_id) / "config.yml"
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
    where = str(config_folder(run_folder, env_id) / "config.yml")
    return preprocess_hyperparams(read_run_config(run_folder, env_id), where=where, trust_imports=trusted)


def vecnormalize_file(run_folder: Path, env_id: str) -> Path | None:
    """The run's safe ``vecnormalize.json``, or ``None``."""
    path = config_folder(run_folder, env_id) / VECNORMALIZE_JSON
    return path if path.is_file() else None


def vecnormalize_pickle(run_folder: Path, env_id: str) -> Path | None:
    """The run's SB3 ``vecnormalize.pkl`` (rl-zoo3 name ``vec_normalize.pkl`` also accepted), or ``None``."""
    for name in (VECNORMALIZE_PKL, "vec_normalize.pkl"):
        path = config_folder(run_folder, env_id) / name
        if path.is_file():
            return path
    return None

"""
The agent a benchmark run keeps: its final model and what describes it, in a logs folder of its own beside the run's
record (:func:`agent_folder`), written atomically by the driver; and the agents collection (``agents/``) they are
copied into (:func:`copy_agent`) and read back from for the README's table (:func:`load_agents`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pgzoo.zoo.benchmark.record import RunRecord, read_record, result_path
from pgzoo.zoo.envs import env_folder_name
from pgzoo.zoo.errors import ZooError
from pgzoo.zoo.fileio import atomic_write, atomic_write_text, current_umask
from pgzoo.zoo.hub import results_document
from pgzoo.zoo.runs import (
    ARGS_FILE,
    CONFIG_FILE,
    EVALUATIONS,
    MONITOR_GLOB,
    RESULTS_FILE,
    VECNORMALIZE_JSON,
    final_model_name,
)

#: Run number of the one run in a kept agent's logs folder: ``<agent>/<algo>/<env>_1``.
AGENT_RUN_ID = 1


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
    name = env_folder_name(env_id)
    wanted = [
        final_model_name(env_id),
        *(f"{name}/{file}" for file in (CONFIG_FILE, ARGS_FILE, VECNORMALIZE_JSON)),
        EVALUATIONS,
    ]
    files = [run_folder / rel for rel in wanted if (run_folder / rel).is_file()]
    return files + sorted(run_folder.glob(MONITOR_GLOB))


def agent_results(record: RunRecord) -> dict[str, Any]:
    """
    The ``results.json`` of a kept agent: its record's final evaluation, as ``pgzoo push`` publishes it.

    :param record: A run record (from :func:`~pgzoo.zoo.benchmark.run.run_one`, or a file of an earlier version).
    """
    return results_document(
        env_id=record.env,
        algo=record.algo,
        mean_reward=record.final_mean_reward,
        std_reward=record.final_std_reward,
        n_eval_episodes=record.eval_episodes,
        deterministic=record.deterministic_eval,
        eval_datetime=record.date,
        n_timesteps=record.n_timesteps,  # the budget, as the benchmark table states it
        env_steps=record.env_steps,
        seed=record.seed,
    )


def agent_results_text(record: RunRecord) -> str:
    """:func:`agent_results` as the content of ``results.json``."""
    return json.dumps(agent_results(record), indent=2) + "\n"


def write_agent(target: Path, algo: str, env_id: str, files: dict[str, bytes]) -> Path:
    """
    Write a kept agent (see :func:`agent_folder`) atomically: filled in a temporary folder beside, then renamed.

    :param target: The agent's logs folder; an earlier one (``--overwrite``) is replaced.
    :param algo: Registry name of the algorithm.
    :param env_id: Gymnasium env id.
    :param files: Content of each kept file by its path relative to the run folder.
    :return: The run folder inside ``target``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    run = Path(algo) / f"{env_folder_name(env_id)}_{AGENT_RUN_ID}"
    try:
        for rel, content in files.items():
            atomic_write(staging / run / rel, lambda file, data=content: file.write(data))  # type: ignore[misc]
        staging.chmod(0o777 & ~current_umask())
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
    record_file = Path(record_file)
    record = read_record(record_file)
    name = f"{env_folder_name(record.env)}_{AGENT_RUN_ID}"
    source = record_file.parent / str(record.agent or "") / record.algo / name
    if not record.agent or not source.is_dir():
        raise ZooError(f"{record_file} keeps no agent (records before schema 2 have none): run the benchmark again")
    target = Path(agents_folder) / record.algo / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    atomic_write_text(target / RESULTS_FILE, agent_results_text(record))
    return target


def load_agents(agents_folder: str | Path) -> list[RunRecord]:
    """
    Read the ``results.json`` of every agent of a collection (``<folder>/<algo>/<env>_<N>/``) as run records.

    Each record holds what a ``results.json`` says (``algo``, ``env``, ``n_timesteps``, ``seed`` and the final
    evaluation), which is what :func:`~pgzoo.zoo.benchmark.scoring.group_rows` and
    :func:`~pgzoo.zoo.benchmark.table.pretrained_table` use.

    :param agents_folder: The collection (e.g. ``agents``).
    :return: The records; an agent without a readable ``results.json`` is skipped with a warning.
    """
    records = []
    for path in sorted(Path(agents_folder).glob(f"*/*_*/{RESULTS_FILE}")):
        try:
            results = json.loads(path.read_text())
            records.append(
                RunRecord(
                    algo=path.parent.parent.name,
                    env=str(results["env_id"]),
                    n_timesteps=int(results["n_timesteps"]),
                    seed=int(results.get("seed", 0)),
                    final_mean_reward=float(results["mean_reward"]),
                    final_std_reward=float(results["std_reward"]),
                    eval_episodes=int(results["n_eval_episodes"]),
                )
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"warning: skipping {path}: {error}")
    return records


__all__ = [
    "AGENT_RUN_ID",
    "agent_folder",
    "agent_results",
    "agent_results_text",
    "copy_agent",
    "kept_files",
    "load_agents",
    "write_agent",
]

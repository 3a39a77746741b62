"""
The run record: :class:`RunRecord`, what one finished benchmark run measured, its JSON form (one file per run,
``<results_dir>/<algo>_<env>_n<steps>_seed<k>.json``, written atomically) and its schema version.

Records of every schema version read back: version 1 has no ``agent`` (and the earliest lack ``resumed_at_steps`` and
``load_average_1min``); a field a record lacks is left out of its JSON form again, so a record reads and writes back
unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgzoo.zoo.envs import env_folder_name
from pgzoo.zoo.errors import ZooError
from pgzoo.zoo.fileio import atomic_write_text

#: Schema version of the records written now (bumped when a field changes meaning). Version 2 adds ``agent``: the
#: run's final model is kept next to its record.
SCHEMA_VERSION = 2


class RecordError(ZooError):
    """A run record that can't be read (a half-written file, an incomplete or foreign JSON file)."""


#: Marks a field that older records may lack: ``None`` stands for "absent" and is left out of the JSON form.
_OPTIONAL = {"optional": True}
#: Fields checked to be numbers when a record is read.
_NUMBERS: dict[str, type] = {"seed": int, "n_timesteps": int, "eval_episodes": int, "final_mean_reward": float,
                             "final_std_reward": float}  # fmt: skip


@dataclass
class RunRecord:
    """
    What one benchmark run measured; its JSON form has one key per field.

    :param algo: Registry name of the algorithm.
    :param env: Gymnasium env id.
    :param seed: Random seed of the run.
    :param n_timesteps: Training budget (the table's *Timesteps*).
    :param final_mean_reward: Mean reward of the final model's deterministic evaluation.
    :param final_std_reward: Its standard deviation across episodes.
    :param eval_episodes: Episodes of the final evaluation.
    :param schema_version: Version of the record's format (:data:`SCHEMA_VERSION` for new records).
    :param entry_digest: Fingerprint of the hyperparameter entry the run trained with (see
        :func:`pgzoo.zoo.benchmark.plan.entry_digest`).
    :param hyperparams: The run's ``config.yml``: the entry it trained with.
    :param hyperparams_file: The hyperparameter file the entry was read from.
    :param deterministic_eval: Whether the final evaluation was deterministic.
    :param curve: The learning curve, points ``[env steps, mean reward, std reward]``.
    :param curve_episodes: Deterministic episodes per point of the curve.
    :param eval_freq: Env steps between two points of the curve.
    :param env_steps: Env steps actually trained.
    :param train_time_s: Seconds of training, the curve's evaluations left out.
    :param curve_eval_time_s: Seconds spent evaluating the curve.
    :param wall_clock_s: Seconds of the whole run, earlier sittings of a resumed run included.
    :param steps_per_second: ``env_steps / train_time_s``, ``None`` without training time.
    :param torch_threads: Torch threads of the run.
    :param cpus: CPUs the run occupied.
    :param device: Torch device.
    :param run_folder: The run's logs folder, on the machine that ran it.
    :param versions: Versions of pgzoo, torch, SB3 and gymnasium.
    :param machine: CPU count and model, platform and Python version.
    :param date: When the run ended (ISO 8601, UTC).
    :param resumed_at_steps: Env steps at which each later sitting resumed the run (``None``: an early record).
    :param load_average_1min: The machine's 1-minute load average at the end of the run (``None``: an early record).
    :param agent: The folder beside the record that keeps the final agent (``None``: a schema 1 record).
    """

    algo: str
    env: str
    seed: int
    n_timesteps: int
    final_mean_reward: float
    final_std_reward: float
    eval_episodes: int
    schema_version: int = SCHEMA_VERSION
    entry_digest: str = ""
    hyperparams: dict[str, Any] = field(default_factory=dict)
    hyperparams_file: str = ""
    deterministic_eval: bool = True
    curve: list[list[float]] = field(default_factory=list)
    curve_episodes: int = 0
    eval_freq: int = 0
    env_steps: int = 0
    train_time_s: float = 0.0
    curve_eval_time_s: float = 0.0
    wall_clock_s: float = 0.0
    steps_per_second: float | None = None
    torch_threads: int = 1
    cpus: int = 1
    device: str = "cpu"
    run_folder: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    date: str = ""
    resumed_at_steps: list[int] | None = field(default=None, metadata=_OPTIONAL)
    load_average_1min: float | None = field(default=None, metadata=_OPTIONAL)
    agent: str | None = field(default=None, metadata=_OPTIONAL)

    def to_json(self) -> dict[str, Any]:
        """The record's JSON form: every field, but those of :data:`_OPTIONAL` fields the record lacks."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if not (f.metadata.get("optional") and getattr(self, f.name) is None)
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "record") -> RunRecord:
        """
        Read a record's JSON form (of any schema version); keys that are not fields are ignored.

        :param data: The parsed JSON.
        :param where: What it was read from, for the error message.
        :raises RecordError: When ``data`` lacks a field of a finished run or has one of the wrong type.
        """
        if not isinstance(data, dict) or "final_mean_reward" not in data:
            raise RecordError(f"incomplete result {where}")
        known = {f.name for f in dataclasses.fields(cls)}
        try:
            record = cls(**{key: value for key, value in data.items() if key in known})
            # What the table computes with must be numbers, whatever an edited file holds.
            for name, kind in _NUMBERS.items():
                setattr(record, name, kind(getattr(record, name)))
        except (TypeError, ValueError) as error:
            raise RecordError(f"incomplete result {where}: {error}") from None
        return record


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
    return Path(results_dir) / f"{algo}_{env_folder_name(env_id)}_n{n_timesteps}_seed{seed}.json"


def write_record(path: str | Path, record: RunRecord) -> Path:
    """
    Write a run's record atomically (temporary file in the same folder, then ``os.replace``).

    A crash or Ctrl-C during the write leaves either no file or the complete one, never half a JSON that a resumed
    benchmark would mistake for a finished run.

    :param path: Target file.
    :param record: The record.
    :return: The path written.
    """
    path = Path(path)
    atomic_write_text(path, json.dumps(record.to_json(), indent=2, sort_keys=True, allow_nan=True) + "\n")
    return path


def read_record(path: str | Path) -> RunRecord:
    """
    Read a run's record.

    :param path: The result file.
    :raises RecordError: When the file can't be read or is not a finished run's record.
    """
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise RecordError(f"unreadable result {path}: {error}") from None
    return RunRecord.from_json(data, str(path))


def is_finished(path: Path, digest: str | None = None) -> bool:
    """
    Whether ``path`` holds a complete run record (a corrupt file counts as unfinished and is redone).

    :param path: The result file.
    :param digest: When given, the record must also have been trained with these hyperparameters.
    """
    try:
        record = read_record(path)
    except RecordError:
        return False
    return digest is None or record.entry_digest == digest


def load_results(results_dir: str | Path) -> list[RunRecord]:
    """
    Read every finished run record in ``results_dir`` (unreadable or incomplete files are skipped with a warning).

    :param results_dir: Folder of the per-run JSON files.
    :return: The records, in file name order.
    """
    records = []
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            records.append(read_record(path))
        except RecordError as error:
            print(f"warning: skipping {error}")
    return records


__all__ = [
    "SCHEMA_VERSION",
    "RecordError",
    "RunRecord",
    "is_finished",
    "load_results",
    "read_record",
    "result_path",
    "write_record",
]

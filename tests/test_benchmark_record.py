"""
The benchmark's run record (:class:`RunRecord`): its JSON form round-trips, the committed records of every schema
version read back unchanged, and the benchmark package keeps its one-way imports.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from pgzoo.zoo.benchmark import rows
from pgzoo.zoo.benchmark.record import (
    SCHEMA_VERSION,
    RecordError,
    RunRecord,
    is_finished,
    load_results,
    read_record,
    write_record,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PACKAGE = ROOT / "pgzoo" / "zoo" / "benchmark"


def _full_record() -> RunRecord:
    return RunRecord(
        algo="dpg", env="Pendulum-v1", seed=3, n_timesteps=20_000, final_mean_reward=-150.5, final_std_reward=80.25,
        eval_episodes=20, entry_digest="0123456789abcdef", hyperparams={"n_timesteps": 20_000, "gamma": 0.98},
        hyperparams_file="hyperparams/dpg.yml", curve=[[1000, -1200.0, 50.0], [2000, -300.5, 20.0]], curve_episodes=5,
        eval_freq=1000, env_steps=20_000, train_time_s=12.5, curve_eval_time_s=3.25, wall_clock_s=20.0,
        steps_per_second=1600.0, torch_threads=1, cpus=1, device="cpu", run_folder="logs/dpg/Pendulum-v1_1",
        versions={"pgzoo": "1.0"}, machine={"cpu_count": 2}, date="2026-01-01T00:00:00+00:00", resumed_at_steps=[500],
        load_average_1min=1.5, agent="dpg_Pendulum-v1_n20000_seed3",
    )  # fmt: skip


def test_a_record_written_reads_back_equal(tmp_path: Path) -> None:
    record = _full_record()
    path = write_record(tmp_path / "run.json", record)
    assert read_record(path) == record
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION == 2 and data["agent"] == "dpg_Pendulum-v1_n20000_seed3"
    assert set(data) == set(RunRecord.__dataclass_fields__)  # one key per field, nothing else
    assert is_finished(path, "0123456789abcdef") and not is_finished(path, "fedcba9876543210")


@pytest.mark.parametrize(
    ("name", "version"),
    [("dpg_Pendulum-v1_n10000_seed0.json", 1), ("dpg_MountainCarContinuous-v0_n60000_seed20.json", 2)],
)
def test_committed_records_of_each_schema_read_back_unchanged(name: str, version: int) -> None:
    data = json.loads((RESULTS / name).read_text())
    record = read_record(RESULTS / name)
    assert record.schema_version == version and record.to_json() == data  # nothing lost, nothing added
    assert (record.algo, record.env, record.seed) == (data["algo"], data["env"], data["seed"])
    assert record.final_mean_reward == data["final_mean_reward"] and record.curve == data["curve"]
    assert record.agent == data.get("agent") and (record.agent is None) == (version == 1)


def test_every_committed_record_reads() -> None:
    records = load_results(RESULTS)
    assert len(records) == len(list(RESULTS.glob("*.json"))) > 0
    assert {r.schema_version for r in records} <= {1, SCHEMA_VERSION}


def test_a_broken_record_is_a_record_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    half = tmp_path / "half.json"
    half.write_text('{"algo": "a2c", "fin')
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"final_mean_reward": 1.0}))  # a finished run has an algo, an env, a seed...
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**_full_record().to_json(), "seed": "three"}))
    for path in (half, foreign, wrong):
        with pytest.raises(RecordError, match=path.name):
            read_record(path)
        assert not is_finished(path)
    write_record(tmp_path / "good.json", _full_record())
    assert load_results(tmp_path) == [_full_record()]
    out = capsys.readouterr().out
    assert "warning: skipping unreadable result" in out and out.count("warning: skipping incomplete result") == 2


def test_the_rows_come_from_the_shipped_data_file() -> None:
    assert len(rows.REQUIRED_ROWS) == 10 and rows.REQUIRED_ROWS[0] == ("reinforce", "CartPole-v1")
    assert rows.REFERENCE["Pendulum-v1"]["ddpg"] == (-152.10, 94.28, 20_000)
    assert set(rows.REFERENCE_ALGOS) == {algo for algo, _ in rows.REQUIRED_ROWS}
    assert {env for _, env in rows.REQUIRED_ROWS + rows.OPTIONAL_ROWS} <= set(rows.REFERENCE)
    assert rows.default_rows(["a2c"]) == [("a2c", e) for e in ("CartPole-v1", "Acrobot-v1", "LunarLander-v3", "Pendulum-v1")]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_the_benchmark_imports_go_one_way() -> None:
    # The order of the package's docstring: a module imports only those listed before it, and never the CLI.
    order = ["rows", "record", "plan", "agents", "run", "executors", "driver", "scoring", "table", "plots", "readme",
             "report", "command"]  # fmt: skip
    assert sorted(order) == sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    for index, name in enumerate(order):
        imported = _imports(PACKAGE / f"{name}.py")
        assert "pgzoo.zoo.cli" not in imported, name
        inside = {module.rsplit(".", 1)[1] for module in imported if module.startswith("pgzoo.zoo.benchmark.")}
        assert inside <= set(order[:index]), f"{name} imports {inside - set(order[:index])}"
    assert not _imports(PACKAGE / "__init__.py")

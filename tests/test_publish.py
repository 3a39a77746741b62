"""
``pgzoo publish`` against the local Hub look-alike (tests/hub_server.py), on a small collection made in the test:
tiny ``pgzoo benchmark`` runs whose kept agents are copied into an ``agents/`` folder, as the repository's is made.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from hub_server import FakeHub, serving

os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from pgzoo.zoo.benchmark.agents import copy_agent
from pgzoo.zoo.cli import main
from pgzoo.zoo.enjoy import load_agent
from pgzoo.zoo.hub import load_from_hub

TOKEN = "hf_test_token_do_not_leak"
ROOT = Path(__file__).resolve().parents[1]
#: (algo, env, budget) of the collection: one normalized env (REINFORCE Acrobot) and one off-policy agent.
AGENTS = [("reinforce", "Acrobot-v1", 500), ("dpg", "Pendulum-v1", 300)]
REPOS = ["me/dpg-Pendulum-v1", "me/reinforce-Acrobot-v1"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeHub]:
    with serving(tmp_path_factory.mktemp("hf_home"), TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``agents/`` made as the repository's: benchmark runs (tiny budgets), their kept agents copied."""
    tmp = tmp_path_factory.mktemp("collection")
    for algo, env_id, budget in AGENTS:
        assert main(["benchmark", "--algos", algo, "--envs", env_id, "--seeds", "1", "-n", str(budget),
                     "--eval-freq", str(budget), "--curve-episodes", "1", "--eval-episodes", "2", "--no-report",
                     "-f", str(tmp / "logs"), "--results-dir", str(tmp / "results")]) == 0  # fmt: skip
    for record in sorted((tmp / "results").glob("*.json")):
        copy_agent(record, tmp / "agents")
    return tmp / "agents"


def _publish(collection: Path, *extra: str) -> int:
    return main(["publish", "--org", "me", "-f", str(collection), "--video-length", "10", *extra])


@pytest.fixture(scope="module")
def published(hub: FakeHub, collection: Path) -> FakeHub:
    assert _publish(collection) == 0
    return hub


def test_publish_pushes_every_agent_with_what_the_ecosystem_reads(published: FakeHub, collection: Path) -> None:
    assert sorted(published.repos) == REPOS
    files = published.repos["me/reinforce-Acrobot-v1"].files
    assert {"reinforce-Acrobot-v1.zip", "config.yml", "env_kwargs.yml", "vecnormalize.json", "results.json", "README.md",
            "replay.mp4", "args.yml", "train_eval_metrics.zip"} <= set(files)  # fmt: skip
    assert not [name for name in files if name.endswith(".pkl")]
    # results.json is the benchmark's final evaluation, with huggingface_sb3's key names too.
    local = json.loads((collection / "reinforce" / "Acrobot-v1_1" / "results.json").read_text())
    results = json.loads(files["results.json"])
    assert results["mean_reward"] == local["mean_reward"] and results["n_eval_episodes"] == 2
    assert results["is_deterministic"] is True and results["n_evaluation_episodes"] == 2 and results["n_timesteps"] >= 500
    # rl-zoo3's downloader: args.yml, env_kwargs.yml, and the metrics archive it unpacks into the run folder.
    args = yaml.safe_load(files["args.yml"])
    assert args["env"] == "Acrobot-v1" and args["seed"] == 0 and "env_kwargs" in args  # rl-zoo3's enjoy reads it
    assert yaml.safe_load(files["env_kwargs.yml"]) == {}
    with zipfile.ZipFile(io.BytesIO(files["train_eval_metrics.zip"])) as archive:
        names = archive.namelist()
        assert "evaluations.npz" in names and "0.monitor.csv" in names and len(names) == 1 + 4  # 4 envs
        with np.load(io.BytesIO(archive.read("evaluations.npz"))) as evaluations:
            assert evaluations["results"].shape[0] >= 1 and evaluations["results"].shape[1] == 1  # 1 episode a point


def test_model_card_metadata_reads_back_with_huggingface_hub(published: FakeHub) -> None:
    from huggingface_hub import ModelCard

    card = ModelCard(published.repos["me/dpg-Pendulum-v1"].files["README.md"].decode())
    results = json.loads(published.repos["me/dpg-Pendulum-v1"].files["results.json"])
    assert card.data.library_name == "stable-baselines3" and card.data.model_name == "DPG"
    (result,) = card.data.eval_results
    assert result.task_type == "reinforcement-learning"
    assert result.dataset_type == result.dataset_name == "Pendulum-v1"
    assert result.metric_type == "mean_reward"
    assert result.metric_value == f"{results['mean_reward']:.2f} +/- {results['std_reward']:.2f}"


def test_a_second_publish_uploads_nothing(published: FakeHub, collection: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commits = {repo: list(published.repos[repo].commits) for repo in REPOS}
    capsys.readouterr()
    assert _publish(collection) == 0
    out = capsys.readouterr().out
    assert {repo: published.repos[repo].commits for repo in REPOS} == commits
    assert "| dpg/Pendulum-v1 | me/dpg-Pendulum-v1 |" in out and "2 unchanged" in out and "uploaded" not in out


def test_published_agents_load_back_safely_and_act_as_the_local_ones(published: FakeHub, collection: Path) -> None:
    for algo, env_id, _ in AGENTS:
        local = load_agent(algo, env_id, collection)
        try:
            remote = load_from_hub(f"me/{algo}-{env_id}")  # default: safe loading, nothing unpickled
            space = local.env.observation_space
            space.seed(0)
            observations = np.stack([space.sample() for _ in range(16)])
            # The policy alone: normalization is checked by comparing the statistics the env of each holds.
            expected = local.model.predict(observations, deterministic=True)[0]
            np.testing.assert_allclose(remote.predict(observations, deterministic=True)[0], expected, rtol=1e-6)
            local_env, remote_env = local.env, remote.get_env()
            if hasattr(local_env, "obs_rms"):
                np.testing.assert_allclose(remote_env.obs_rms.mean, local_env.obs_rms.mean)
                np.testing.assert_allclose(remote_env.obs_rms.var, local_env.obs_rms.var)
            remote_env.close()
        finally:
            local.env.close()


def test_a_failing_agent_is_reported_and_the_others_go_on(
    hub: FakeHub, collection: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "agents"
    shutil.copytree(collection, broken)
    (broken / "dpg" / "Pendulum-v1_1" / "Pendulum-v1.zip").write_bytes(b"not a zip")
    capsys.readouterr()
    assert main(["publish", "--org", "other", "-f", str(broken), "--video-length", "0"]) == 1
    captured = capsys.readouterr()
    assert "| dpg/Pendulum-v1 | other/dpg-Pendulum-v1 | - | FAILED |" in captured.out
    assert "| reinforce/Acrobot-v1 | other/reinforce-Acrobot-v1 |" in captured.out and "1 uploaded, 1 failed" in captured.out
    assert captured.err.startswith("error: other/dpg-Pendulum-v1: ") and captured.err.count("\n") == 1
    assert "other/reinforce-Acrobot-v1" in hub.repos and "other/dpg-Pendulum-v1" not in hub.repos


def test_dry_run_and_only_write_packages(collection: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))  # no stored token either: a dry run needs none
    out = tmp_path / "packages"
    assert _publish(collection, "--only", "dpg/Pendulum-v1", "--dry-run", str(out)) == 0
    assert [p.name for p in out.iterdir()] == ["dpg-Pendulum-v1"]
    files = {p.name for p in (out / "dpg-Pendulum-v1").iterdir()}
    assert {"dpg-Pendulum-v1.zip", "README.md", "results.json", "args.yml", "train_eval_metrics.zip"} <= files


def test_bad_input_is_one_line_before_any_work(
    collection: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    cases = [
        (["--only", "dpg/CartPole-v1"], "no such agent"),
        (["-f", str(tmp_path / "missing")], "no such folder"),
        ([], "no Hugging Face token"),
    ]
    for extra, message in cases:
        assert _publish(collection, *extra) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert _publish(collection, "--dry-run", str(tmp_path / "full")) == 2
    assert "new or empty folder" in capsys.readouterr().err


def test_a_record_of_schema_1_keeps_no_agent_to_copy(tmp_path: Path) -> None:
    from pgzoo.zoo.benchmark.record import load_results
    from pgzoo.zoo.errors import ZooError

    old = json.loads((ROOT / "benchmarks" / "results" / "dpg_Pendulum-v1_n10000_seed0.json").read_text())
    assert "agent" not in old and old["schema_version"] == 1
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "old.json").write_text(json.dumps(old))
    assert load_results(tmp_path / "results")[0].final_mean_reward == old["final_mean_reward"]  # still read
    with pytest.raises(ZooError, match="keeps no agent"):
        copy_agent(tmp_path / "results" / "old.json", tmp_path / "agents")
    assert not (tmp_path / "agents").exists()

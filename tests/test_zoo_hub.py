"""
push / pull / load_from_hub against a local Hub look-alike (tests/hub_server.py): no internet needed.

The server starts before ``huggingface_hub`` is imported by this module, and ``HF_ENDPOINT`` points at it (pgzoo
also reads the endpoint at call time, so the order of test modules does not matter).
"""

from __future__ import annotations

import base64
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from hub_server import FakeHub, serving

os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from pgzoo.zoo.cli import main
from pgzoo.zoo.enjoy import load_agent, run_agent
from pgzoo.zoo.errors import HubError, UnsafeModelError
from pgzoo.zoo.hub import load_from_hub, pull, push
from pgzoo.zoo.train import train

TOKEN = "hf_test_token_do_not_leak"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeHub]:
    with serving(tmp_path_factory.mktemp("hf_home"), TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logs = tmp_path_factory.mktemp("logs")
    train("a2c", "CartPole-v1", seed=0, log_folder=logs, n_timesteps=256, eval_freq=0, final_eval_episodes=1,
          hyperparams={"n_envs": 2, "policy_kwargs": "dict(net_arch=[16], activation_fn=nn.ReLU)", "normalize": True},
          verbose=0)  # fmt: skip
    return logs


def _actions(agent, n: int = 200) -> list:
    return run_agent(agent, n_timesteps=n, verbose=False).actions


def test_push_pull_enjoy_round_trip(hub: FakeHub, trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(trained), "--org", "me",
                 "--n-eval-episodes", "2", "--video-length", "20", "-m", "my agent"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Pushed" in out and "me/a2c-CartPole-v1" in out
    files = hub.repos["me/a2c-CartPole-v1"].files
    assert {"a2c-CartPole-v1.zip", "config.yml", "results.json", "README.md", "vecnormalize.json", "replay.mp4"} <= set(files)
    assert not [name for name in files if name.endswith(".pkl")], "no pickle is uploaded"
    results = json.loads(files["results.json"])
    assert results["n_eval_episodes"] == 2 and results["deterministic"] is True and "eval_datetime" in results
    card = files["README.md"].decode()
    assert "library_name: stable-baselines3" in card and "- reinforcement-learning" in card and "- CartPole-v1" in card
    assert "name: A2C" in card and "type: mean_reward" in card and "TODO" not in card
    assert 'load_from_hub("me/a2c-CartPole-v1")' in card and "pip install pgzoo" in card
    # The token never lands in a file.
    assert all(TOKEN.encode() not in data for data in files.values())
    assert not [p for p in trained.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]

    fresh = tmp_path / "fresh"
    assert main(["pull", "--repo-id", "me/a2c-CartPole-v1", "-f", str(fresh)]) == 0
    run = fresh / "a2c" / "CartPole-v1_1"
    assert (run / "CartPole-v1.zip").is_file() and (run / "CartPole-v1" / "hub.json").is_file()
    assert (run / "CartPole-v1" / "vecnormalize.json").is_file()

    original = load_agent("a2c", "CartPole-v1", trained, seed=5)
    pulled = load_agent("a2c", "CartPole-v1", fresh, seed=5)
    assert _actions(pulled) == _actions(original)
    np.testing.assert_allclose(pulled.env.obs_rms.mean, original.env.obs_rms.mean)

    model = load_from_hub("me/a2c-CartPole-v1", seed=5)
    obs = model.get_env().reset()
    assert model.predict(obs, deterministic=True)[0].shape == (1,)
    assert main(["enjoy", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(fresh), "-n", "50", "--no-render"]) == 0


def test_push_needs_a_token(trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_home"))
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "no_token"))
    assert main(["push", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(trained), "--org", "me"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no Hugging Face token") and "--dry-run" in err and "\n" not in err
    # A dry run packages locally without a token.
    local = tmp_path / "package"
    result = push("a2c", "CartPole-v1", trained, "me/a2c-CartPole-v1", dry_run=True, local_dir=local, video_length=0,
                  n_eval_episodes=1)  # fmt: skip
    assert result.url is None and (local / "README.md").is_file() and (local / "a2c-CartPole-v1.zip").is_file()


def test_missing_repo_and_file(hub: FakeHub, trained: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(HubError, match=r"repository me/nothing-here not found"):
        pull("me/nothing-here", tmp_path, algo="a2c", env_id="CartPole-v1")
    hub.add_repo("me/a2c-Acrobot-v1", {"README.md": b"hello"})
    with pytest.raises(HubError, match=r"no model zips"):
        pull("me/a2c-Acrobot-v1", tmp_path)
    with pytest.raises(HubError, match=r"file 'missing.zip' not found in me/a2c-Acrobot-v1"):
        pull("me/a2c-Acrobot-v1", tmp_path, filename="missing.zip")
    assert main(["pull", "--repo-id", "me/unknown-repo", "-f", str(tmp_path)]) == 2
    assert "cannot tell the algorithm" in capsys.readouterr().err
    with pytest.raises(HubError, match=r"bad repo id"):
        pull("not a repo", tmp_path)


def _model_bytes(trained: Path) -> bytes:
    return (trained / "a2c" / "CartPole-v1_1" / "CartPole-v1.zip").read_bytes()


class _Payload:
    """Unpickling this creates a marker file: the proof that code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _with_data(zip_bytes: bytes, edit) -> bytes:
    """Rewrite the 'data' JSON of a model zip with ``edit``."""
    source, target = zipfile.ZipFile(io.BytesIO(zip_bytes)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for item in source.namelist():
            content = source.read(item)
            if item == "data":
                data = json.loads(content)
                edit(data)
                content = json.dumps(data).encode()
            out.writestr(item, content)
    return target.getvalue()


def test_pickle_payloads_are_refused(hub: FakeHub, trained: Path, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    blob = base64.b64encode(pickle.dumps(_Payload(str(marker)))).decode()

    def poison(data: dict) -> None:
        data["policy_kwargs"] = {":type:": "<class 'dict'>", ":serialized:": blob, "activation_fn": "<class 'evil.Payload'>"}

    config = b"policy: MlpPolicy\n"
    hub.add_repo(
        "evil/a2c-CartPole-v1", {"a2c-CartPole-v1.zip": _with_data(_model_bytes(trained), poison), "config.yml": config}
    )
    with pytest.raises(UnsafeModelError, match=r"does not unpickle.*--trust-remote-code"):
        load_from_hub("evil/a2c-CartPole-v1")
    assert not marker.exists()
    fresh = tmp_path / "logs"
    pull("evil/a2c-CartPole-v1", fresh)
    assert main(["enjoy", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(fresh), "--no-render", "-n", "5"]) == 2
    assert not marker.exists()

    # Tensors files holding objects are refused by torch's weights_only loader.
    import torch as th

    buffer = io.BytesIO()
    th.save({"weights": _Payload(str(marker))}, buffer)
    source, poisoned = zipfile.ZipFile(io.BytesIO(_model_bytes(trained))), io.BytesIO()
    with zipfile.ZipFile(poisoned, "w") as out:
        for item in source.namelist():
            out.writestr(item, buffer.getvalue() if item == "policy.pth" else source.read(item))
    hub.add_repo("evil/a2c-CartPole-v1", {"a2c-CartPole-v1.zip": poisoned.getvalue()})
    with pytest.raises(UnsafeModelError, match=r"policy.pth holds objects other than tensors"):
        load_from_hub("evil/a2c-CartPole-v1")
    assert not marker.exists()


@pytest.mark.parametrize(
    "stats",
    [b"not json", b"[1, 2]", b'{"obs_rms": {"mean": [0, 0, 0, 0], "var": [-1, 1, 1, 1], "count": 1}}', b"[" * 10**5],
)
def test_pull_checks_the_normalization_statistics(hub: FakeHub, trained: Path, tmp_path: Path, stats: bytes) -> None:
    config = b"policy: MlpPolicy\nnormalize: true\n"
    files = {"a2c-CartPole-v1.zip": _model_bytes(trained), "config.yml": config, "vecnormalize.json": stats}
    hub.add_repo("evil/a2c-CartPole-v1", files)
    with pytest.raises(HubError, match=r"^vecnormalize.json of evil/a2c-CartPole-v1: ") as error:
        pull("evil/a2c-CartPole-v1", tmp_path / "logs")
    assert "\n" not in str(error.value)
    assert not list((tmp_path / "logs").rglob("CartPole-v1_*"))  # nothing left behind


def test_statistics_without_clipping_load_back(tmp_path: Path) -> None:
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    from pgzoo.zoo.envs import load_vecnormalize_stats, save_vecnormalize_stats

    save_vecnormalize_stats(VecNormalize(make_vec_env("CartPole-v1"), clip_obs=float("inf")), tmp_path / "stats.json")
    loaded = VecNormalize(make_vec_env("CartPole-v1"))
    load_vecnormalize_stats(loaded, tmp_path / "stats.json")
    assert loaded.clip_obs == float("inf")


def _with_member(zip_bytes: bytes, member: str, content: bytes) -> bytes:
    source, target = zipfile.ZipFile(io.BytesIO(zip_bytes)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.namelist():
            out.writestr(item, content if item == member else source.read(item))
    return target.getvalue()


@pytest.mark.parametrize(
    "case", ["wide-layers", "expanded-tensor", "wide-features", "zip-bomb", "deep-json", "bare-tensor", "bad-value"]
)
def test_hostile_model_files_are_one_line_errors(trained: Path, tmp_path: Path, case: str) -> None:
    import torch as th
    from stable_baselines3 import A2C
    from stable_baselines3.common.env_util import make_vec_env

    from pgzoo.zoo.errors import ZooError
    from pgzoo.zoo.safe_load import load_model_safely

    original, tensor, expanded = _model_bytes(trained), io.BytesIO(), io.BytesIO()
    th.save(th.zeros(3), tensor)
    # A tensor that claims 10**9 values in a few bytes (stride 0) must not vouch for a huge layer.
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        weights = th.load(io.BytesIO(archive.read("policy.pth")), weights_only=True)
    th.save({**weights, "huge": th.zeros(1).expand(10**9)}, expanded)
    widened = _with_member(original, "policy.pth", expanded.getvalue())
    hostile, message = {
        # A few bytes asking for a network of many gigabytes, refused before it is built.
        "wide-layers": (_with_data(original, lambda data: data.update(policy_kwargs={"net_arch": [10**5, 10**5]})),
                        "larger than any saved weight"),
        "expanded-tensor": (_with_data(widened, lambda data: data.update(policy_kwargs={"net_arch": [10**5]})),
                            "larger than any saved weight"),
        "wide-features": (_with_data(original, lambda data: data.update(
            policy_kwargs={"features_extractor_kwargs": {"features_dim": 10**6}})), "larger than any saved weight"),
        "zip-bomb": (_with_member(original, "data", b" " * (17 * 2**20) + b"{}"), "entry would unpack to"),
        "deep-json": (_with_member(original, "data", b"[" * 100_000 + b"]" * 100_000), "is not JSON a model saves"),
        "bare-tensor": (_with_member(original, "policy.pth", tensor.getvalue()), "does not hold a policy's weights"),
        "bad-value": (_with_data(original, lambda data: data.update(n_steps=-5)), "cannot rebuild A2C from it"),
    }[case]  # fmt: skip
    path = tmp_path / "hostile.zip"
    path.write_bytes(hostile)
    with pytest.raises(ZooError, match=message) as error:
        load_model_safely(path, A2C, make_vec_env("CartPole-v1"), config={"policy": "MlpPolicy"})
    assert "\n" not in str(error.value)


def test_rl_zoo_repo_with_pickled_vecnormalize(hub: FakeHub, trained: Path) -> None:
    """A repository laid out as rl-zoo3 pushes it (OrderedDict config, vec_normalize.pkl)."""
    run = trained / "a2c" / "CartPole-v1_1"
    config = (
        "!!python/object/apply:collections.OrderedDict\n"
        "- - - n_envs\n    - 2\n  - - normalize\n    - true\n  - - policy\n    - MlpPolicy\n"
        "  - - policy_kwargs\n    - dict(net_arch=[16], activation_fn=nn.ReLU)\n"
    )
    hub.add_repo(
        "sb3/a2c-CartPole-v1",
        {
            "a2c-CartPole-v1.zip": _model_bytes(trained),
            "config.yml": config.encode(),
            "env_kwargs.yml": b"{}\n",
            "vec_normalize.pkl": (run / "CartPole-v1" / "vecnormalize.pkl").read_bytes(),
        },
    )
    # The pickle holds only statistics: the restricted unpickler reads it, no trust needed, and reads what SB3 does.
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    model = load_from_hub("sb3/a2c-CartPole-v1")
    sb3 = VecNormalize.load(str(run / "CartPole-v1" / "vecnormalize.pkl"), make_vec_env("CartPole-v1"))
    assert model.get_env().obs_rms.count == sb3.obs_rms.count > 0
    np.testing.assert_array_equal(model.get_env().obs_rms.mean, sb3.obs_rms.mean)
    np.testing.assert_array_equal(model.get_env().obs_rms.var, sb3.obs_rms.var)
    assert load_from_hub("sb3/a2c-CartPole-v1", trust_remote_code=True).get_env().obs_rms.count == sb3.obs_rms.count


def test_cli_end_to_end_subprocess(hub: FakeHub, tmp_path: Path) -> None:
    """The installed entry point, as a user runs it: train, push, pull, enjoy."""
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_TOKEN": TOKEN, "HF_HUB_DISABLE_XET": "1", "PYTHONPATH": str(ROOT)}

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "pgzoo", *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=180)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    out = run("train", "--algo", "reinforce", "--env", "CartPole-v1", "-n", "200", "--seed", "0", "--eval-freq", "0",
              "--final-eval-episodes", "2", "--verbose", "0", "-params", "policy_kwargs:dict(net_arch=[8])")  # fmt: skip
    assert "Evaluation of reinforce on CartPole-v1" in out.splitlines()[-1]
    out = run("push", "--algo", "reinforce", "--env", "CartPole-v1", "--org", "cli", "--video-length", "0",
              "--n-eval-episodes", "1")  # fmt: skip
    assert "cli/reinforce-CartPole-v1" in out
    run("pull", "--repo-id", "cli/reinforce-CartPole-v1", "-f", "pulled")
    out = run("enjoy", "--algo", "reinforce", "--env", "CartPole-v1", "-f", "pulled", "-n", "600", "--no-render")
    assert "Episode 1: reward" in out


def test_push_packages_the_chosen_checkpoint(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    train("a2c", "CartPole-v1", seed=0, log_folder=logs, n_timesteps=64, eval_freq=0, final_eval_episodes=0,
          save_freq=32, hyperparams={"n_envs": 2, "policy_kwargs": "dict(net_arch=[8])"}, verbose=0)  # fmt: skip
    checkpoint = logs / "a2c" / "CartPole-v1_1" / "rl_model_32_steps.zip"
    local = tmp_path / "package"
    assert main(["push", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(logs), "--org", "me", "--dry-run",
                 "--local-dir", str(local), "--video-length", "0", "--n-eval-episodes", "1",
                 "--load-checkpoint", "32", "--device", "cpu"]) == 0  # fmt: skip
    assert (local / "a2c-CartPole-v1.zip").read_bytes() == checkpoint.read_bytes()


def test_interrupted_pull_leaves_no_run_folder(
    hub: FakeHub, trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add_repo(
        "me/a2c-Pendulum-v1", {"a2c-Pendulum-v1.zip": (trained / "a2c" / "CartPole-v1_1" / "CartPole-v1.zip").read_bytes()}
    )
    from pgzoo.zoo.fileio import atomic_write_text

    def disk_full(path: Path, text: str) -> None:
        if path.name != "hub.json":
            raise OSError("No space left on device")
        atomic_write_text(path, text)

    monkeypatch.setattr("pgzoo.zoo.hub.atomic_write_text", disk_full)
    with pytest.raises(OSError, match="No space left"):
        pull("me/a2c-Pendulum-v1", tmp_path)
    # Nothing half-written is left for enjoy to find (and unpickle): the run folder appears whole or not at all.
    assert list((tmp_path / "a2c").iterdir()) == []


def _args(trained: Path, *extra: str) -> list[str]:
    return ["push", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(trained), "--video-length", "0",
            "--n-eval-episodes", "1", "--device", "cpu", *extra]  # fmt: skip


def test_dry_run_needs_no_org(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The `push --dry-run --local-dir hub/` line of docs/hub.md, without --org or --repo-id."""
    local = tmp_path / "hub"
    assert main(_args(trained, "--dry-run", "--local-dir", str(local))) == 0
    assert "YOUR_ORG/a2c-CartPole-v1" in capsys.readouterr().out
    assert 'load_from_hub("YOUR_ORG/a2c-CartPole-v1")' in (local / "README.md").read_text()
    # Without --dry-run the repository must be named.
    assert main(_args(trained)) == 2
    assert "give --repo-id ORG/NAME or --org ORG" in capsys.readouterr().err


def test_push_never_uploads_or_touches_other_files(hub: FakeHub, trained: Path, tmp_path: Path, capsys) -> None:
    # A reused --local-dir: its files would be uploaded with the new agent, and user files overwritten.
    local = tmp_path / "hub1"
    local.mkdir()
    (local / "reinforce-CartPole-v1.zip").write_bytes(b"an older package")
    (local / "README.md").write_text("my notes")
    assert main(_args(trained, "--org", "me2", "--local-dir", str(local))) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "not empty" in err and "\n" not in err
    assert sorted(p.name for p in local.iterdir()) == ["README.md", "reinforce-CartPole-v1.zip"]
    assert (local / "README.md").read_text() == "my notes" and "me2/a2c-CartPole-v1" not in hub.repos
    # Folders a rename can't safely take: a link, the working directory. Refused before the evaluation runs.
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    assert main(_args(trained, "--org", "me2", "--local-dir", str(tmp_path / "link"))) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    here = tmp_path / "here"
    here.mkdir()
    previous = Path.cwd()
    os.chdir(here)
    try:
        assert main(_args(trained, "--org", "me2", "--local-dir", ".")) == 2
    finally:
        os.chdir(previous)
    assert "is the working directory or holds it" in capsys.readouterr().err
    # An empty folder holds exactly what is uploaded; files left on the Hub by an earlier push that this
    # package does not have (an older replay) are deleted, other files of the repository are kept.
    hub.add_repo("me2/a2c-CartPole-v1", {"replay.mp4": b"older agent", "vecnormalize.json": b"{}", "notes.txt": b"keep"})
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(_args(trained, "--org", "me2", "--local-dir", str(empty))) == 0
    files = hub.repos["me2/a2c-CartPole-v1"].files
    packaged = {p.name for p in empty.iterdir()}
    assert packaged == {
        "a2c-CartPole-v1.zip",
        "config.yml",
        "env_kwargs.yml",
        "vecnormalize.json",
        "results.json",
        "README.md",
        "args.yml",  # these two: what rl-zoo3's downloader fetches with no fallback
        "train_eval_metrics.zip",
    }
    assert set(files) == packaged | {"notes.txt"} and files["vecnormalize.json"] != b"{}"
    assert not list(tmp_path.glob(".*")), "no staging folder is left behind"


def test_pull_validates_before_anything_lands(hub: FakeHub, trained: Path, tmp_path: Path, capsys) -> None:
    hub.add_repo("bad/a2c-CartPole-v1", {"a2c-CartPole-v1.zip": _model_bytes(trained), "config.yml": b"- a\n- b\n"})
    with pytest.raises(HubError, match=r"config.yml of bad/a2c-CartPole-v1 holds a YAML list"):
        pull("bad/a2c-CartPole-v1", tmp_path)
    assert main(["pull", "--repo-id", "bad/a2c-CartPole-v1", "-f", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: config.yml of bad/a2c-CartPole-v1") and "\n" not in err
    hub.add_repo("bad/a2c-Acrobot-v1", {"a2c-Acrobot-v1.zip": b"not a zip", "config.yml": b"{}\n"})
    with pytest.raises(HubError, match=r"a2c-Acrobot-v1.zip of bad/a2c-Acrobot-v1 is not a zip file"):
        pull("bad/a2c-Acrobot-v1", tmp_path)
    # A failed pull leaves no run folder (nor a staging folder).
    assert [p.name for p in tmp_path.rglob("*") if p.is_file() or p.name.startswith(".")] == []


def test_pull_warns_about_an_unknown_env(hub: FakeHub, trained: Path, tmp_path: Path, capsys) -> None:
    hub.add_repo("me/a2c-Foo-v1", {"a2c-Foo-v1.zip": _model_bytes(trained)})
    assert main(["pull", "--repo-id", "me/a2c-Foo-v1", "-f", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "warning: 'Foo-v1' (from the repository name) is not a registered env id" in out and "--env" in out


@pytest.mark.parametrize("trust", [False, True])
def test_enjoy_a_corrupt_pulled_zip(trained: Path, tmp_path: Path, trust: bool, capsys) -> None:
    import shutil

    run = tmp_path / "a2c" / "CartPole-v1_1"
    shutil.copytree(trained / "a2c" / "CartPole-v1_1", run)
    (run / "CartPole-v1" / "hub.json").write_text("{}")
    (run / "CartPole-v1.zip").write_bytes(b"truncated download")
    flags = ["--trust-remote-code"] if trust else []
    assert main(["enjoy", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(tmp_path), "--no-render", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {run / 'CartPole-v1.zip'} is not a zip file"

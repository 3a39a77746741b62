"""
The release: ``python -m build`` makes a wheel and an sdist that ship the package and its hyperparameters only, and
the wheel, installed into a fresh virtualenv, trains from the shipped hyperparameters with ``pgzoo train``.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HYPERPARAMS = sorted(p.name for p in (ROOT / "hyperparams").glob("*.yml"))
#: The benchmark's rows and reference results, data of the package.
ROWS = "pgzoo/zoo/benchmark/rows.yml"
# What stays in the repository: never in a wheel or an sdist.
NOT_SHIPPED = ("tests/", "benchmarks/", "docs/", "scripts/", "logs/", "hub/", ".ci/")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # An isolated build, as a release makes it (pip fetches the build backend from the package index).
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def _only(folder: Path, pattern: str) -> Path:
    found = list(folder.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_the_wheel_ships_the_package_and_its_hyperparameters_only(dist: Path) -> None:
    with zipfile.ZipFile(_only(dist, "*.whl")) as wheel:
        names = wheel.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(wheel.read(info))
    assert {name.split("/")[0] for name in names} == {"pgzoo", info.split("/")[0]}
    assert sorted(n for n in names if n.endswith(".yml")) == sorted([*(f"pgzoo/hyperparams/{h}" for h in HYPERPARAMS), ROWS])
    assert "pgzoo/py.typed" in names and any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if n.endswith((".zip", ".npz", ".png", ".json"))]
    # Complete metadata: what PyPI shows.
    assert metadata["Name"] == "pgzoo" and metadata["License-Expression"] == "MIT"
    assert {"docs", "extra", "ray", "test"} <= set(metadata.get_all("Provides-Extra"))
    assert {u.split(",")[0] for u in metadata.get_all("Project-URL")} >= {"Documentation", "Source", "Issues", "Changelog"}
    assert "Topic :: Scientific/Engineering :: Artificial Intelligence" in metadata.get_all("Classifier")
    assert "reinforcement-learning" in metadata["Keywords"]
    assert (
        "pgzoo = pgzoo.zoo.cli:main"
        in zipfile.ZipFile(_only(dist, "*.whl")).read(info.replace("METADATA", "entry_points.txt")).decode()
    )


def test_the_sdist_leaves_tests_benchmarks_docs_and_agents_out(dist: Path) -> None:
    with tarfile.open(_only(dist, "*.tar.gz")) as sdist:
        names = [name.split("/", 1)[1] for name in sdist.getnames() if "/" in name]
    for folder in NOT_SHIPPED:
        assert not [n for n in names if n.startswith(folder)], folder
    assert {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "pgzoo/__init__.py"} <= set(names)
    assert sorted(n for n in names if n.endswith(".yml")) == sorted([*(f"hyperparams/{h}" for h in HYPERPARAMS), ROWS])


def test_the_wheel_installs_into_a_fresh_virtualenv_and_trains(dist: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)  # no system site-packages
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True
        ).stdout.strip()
    )
    # The dependencies (torch is gigabytes) come from this interpreter's site-packages through a .pth file; that
    # folder's own .pth files (this checkout's editable install) are not read, so `import pgzoo` finds the wheel.
    ours = [p for p in sys.path if p.rstrip("/").endswith("site-packages")]
    (site / "deps-of-the-test.pth").write_text("\n".join(ours) + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(_only(dist, "*.whl"))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-3000:]

    work = tmp_path / "work"  # not the checkout: nothing of it on the path
    work.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)
    where = subprocess.run(
        [python, "-c", "import pgzoo; print(pgzoo.__file__)"], cwd=work, env=env, capture_output=True, text=True
    )
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout + where.stderr
    train = [env_dir / "bin" / "pgzoo", "train", "--algo", "reinforce", "--env", "CartPole-v1", "-n", "2000"]
    train += ["--seed", "0", "--eval-freq", "0", "--final-eval-episodes", "2", "--verbose", "0"]
    done = subprocess.run(train, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "Evaluation of reinforce on CartPole-v1 after" in done.stdout.splitlines()[-1]
    run = work / "logs" / "reinforce" / "CartPole-v1_1"
    assert (run / "CartPole-v1.zip").is_file()
    # The shipped entry of reinforce.yml was used: its 8 envs, each with its monitor file.
    assert len(list(run.glob("*.monitor.csv"))) == 8
    assert "n_envs: 8" in (run / "CartPole-v1" / "config.yml").read_text()

"""
Sharing agents through the Hugging Face Hub: ``pgzoo push``, ``pgzoo pull`` and :func:`load_from_hub`.

A pushed repository holds ``<algo>-<env>.zip`` (the model), ``config.yml`` (hyperparameters), ``env_kwargs.yml``,
``vecnormalize.json`` when the env is normalized (statistics as JSON: no pickle is ever uploaded), ``results.json``,
``replay.mp4`` when the env can render, and a ``README.md`` model card whose metadata the Hub's RL leaderboard reads.
It also holds what rl-zoo3's downloader fetches with no fallback: ``args.yml`` and ``train_eval_metrics.zip``
(``evaluations.npz`` and the training monitor files, when the run has them).

``huggingface_hub`` is imported inside the functions, never at module import, so that ``HF_ENDPOINT`` can be set
before it is read; the endpoint is also passed explicitly on every call, read from the environment at call time.
The token comes from ``huggingface_hub.get_token()`` (``HF_TOKEN`` or ``hf auth login``) and is only handed to
the HTTP client: it is never written to a file, a log or the card.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from pgzoo.zoo.algos import ALGOS, get_algo_class, normalize_algo_name
from pgzoo.zoo.envs import (
    check_env_id,
    env_folder_name,
    read_vecnormalize_stats,
    successor_env_id,
)
from pgzoo.zoo.errors import HubError, ModelZipChoiceError, UnknownEnvError, ZooError, one_line
from pgzoo.zoo.fileio import atomic_write_text, check_writable_folder
from pgzoo.zoo.runs import (
    ARGS_FILE,
    CONFIG_FILE,
    EVALUATIONS,
    HUB_MARKER,
    MONITOR_GLOB,
    RESULTS_FILE,
    RL_ZOO_VECNORMALIZE_PKL,
    VECNORMALIZE_JSON,
    VECNORMALIZE_PKL,
    final_model_name,
    find_run_folder,
    read_run_config,
    vecnormalize_file,
)

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
#: Files fetched by ``pull`` besides the model zip: those it uses (the video and anything else stay on the Hub).
_PULLED_FILES = (
    "config.yml",
    "env_kwargs.yml",
    VECNORMALIZE_JSON,
    RL_ZOO_VECNORMALIZE_PKL,
    VECNORMALIZE_PKL,
    RESULTS_FILE,
    "README.md",
)
#: The replay: recorded anew by every packaging (video encoding is not byte-for-byte reproducible).
REPLAY = "replay.mp4"
#: Files a push writes only for some agents: deleted from the repository when the new package lacks them, so
#: that an earlier agent's normalization statistics or replay never sit next to the new model.
_OPTIONAL_FILES = [VECNORMALIZE_JSON, REPLAY]
#: Organization in the card of a dry run given neither ``--org`` nor ``--repo-id``.
DRY_RUN_ORG = "YOUR_ORG"
#: rl-zoo3's archive of a run's learning curve and monitor files (its downloader unpacks it into the run folder).
TRAIN_EVAL_METRICS = "train_eval_metrics.zip"


def endpoint() -> str:
    """The Hub endpoint: ``HF_ENDPOINT`` when set, else the public Hub."""
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or "https://huggingface.co"


def public_endpoint() -> str:
    """:func:`endpoint` without the ``user:password@`` it may hold: what files and messages may show."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(endpoint())
    if parts.username is None and parts.password is None:
        return endpoint()
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    return urlunsplit(parts._replace(netloc=netloc + (f":{parts.port}" if parts.port else "")))


def default_repo_name(algo: str, env_id: str) -> str:
    """Repository name used by default: ``<algo>-<env>`` (``a3c-CartPole-v1``)."""
    return f"{algo}-{env_folder_name(env_id)}"


def check_repo_id(repo_id: str) -> str:
    """
    Validate an ``ORG/NAME`` repository id.

    :raises HubError: When it is not of that form.
    """
    if not _REPO_ID.match(repo_id) or ".." in repo_id:
        raise HubError(f"bad repo id {repo_id!r}: expected ORG/NAME, e.g. my-org/reinforce-CartPole-v1")
    return repo_id


def _hub_error(error: Exception, repo_id: str, filename: str | None = None) -> HubError:
    """Translate ``huggingface_hub`` exceptions into one-line zoo errors."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if isinstance(error, RepositoryNotFoundError):
        return HubError(f"repository {repo_id} not found on {public_endpoint()} (check the id; private repos need a token)")
    if isinstance(error, RevisionNotFoundError):
        return HubError(f"revision not found in {repo_id} on {public_endpoint()}")
    if isinstance(error, EntryNotFoundError):
        return HubError(f"file {filename!r} not found in {repo_id} on {public_endpoint()}")
    if isinstance(error, HfHubHTTPError):
        return HubError(f"Hub request for {repo_id} failed: {_redact(one_line(error))}")
    return HubError(f"cannot reach the Hub at {public_endpoint()} for {repo_id}: {_redact(one_line(error))}")


def _redact(text: str) -> str:
    """``text`` with the endpoint's credentials (a URL quoted by ``huggingface_hub``) left out."""
    return text.replace(endpoint(), public_endpoint())


@dataclass
class PushResult:
    """
    Outcome of :func:`push`.

    :param repo_id: Target repository.
    :param folder: Local folder holding the packaged repository.
    :param url: URL of the commit, or ``None`` for a dry run.
    :param mean_reward: Evaluation mean reward.
    :param std_reward: Evaluation standard deviation.
    :param files: Names of the packaged files.
    """

    repo_id: str
    folder: Path
    url: str | None
    mean_reward: float
    std_reward: float
    files: list[str]


def results_document(
    *,
    env_id: str,
    algo: str,
    mean_reward: float,
    std_reward: float,
    n_eval_episodes: int,
    deterministic: bool,
    eval_datetime: str,
    **extra: Any,
) -> dict[str, Any]:
    """
    The content of ``results.json``: pgzoo's keys, and huggingface_sb3's names of the same facts.

    :param env_id: Env id.
    :param algo: Registry name of the algorithm.
    :param mean_reward: Mean episode reward of the evaluation.
    :param std_reward: Standard deviation of the episode rewards.
    :param n_eval_episodes: Episodes evaluated.
    :param deterministic: Whether the actions were deterministic.
    :param eval_datetime: When the evaluation ran (ISO 8601).
    :param extra: Further facts (e.g. ``n_timesteps`` and ``seed`` of a benchmark run).
    """
    return {
        "env_id": env_id,
        "algo": algo,
        "mean_reward": float(mean_reward),
        "std_reward": float(std_reward),
        "n_eval_episodes": int(n_eval_episodes),
        "n_evaluation_episodes": int(n_eval_episodes),
        "deterministic": bool(deterministic),
        "is_deterministic": bool(deterministic),
        "eval_datetime": eval_datetime,
        **extra,
    }


def _deterministic_zip(path: Path, files: dict[str, Path]) -> None:
    """
    Zip ``files`` (archive name -> file) with fixed timestamps, so that the same files give the same bytes.

    :param path: The archive to write.
    :param files: Its members.
    """
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name].read_bytes())


def _write_rl_zoo_files(run_folder: Path, algo: str, env_id: str, folder: Path) -> None:
    """
    Write what rl-zoo3's downloader fetches with no fallback: ``args.yml`` and ``train_eval_metrics.zip``.

    :param run_folder: The run being packaged.
    :param algo: Registry name of the algorithm.
    :param env_id: Env id.
    :param folder: The package folder.
    """
    from pgzoo.zoo.hyperparams import load_yaml

    args_file = run_folder / env_folder_name(env_id) / ARGS_FILE
    saved = load_yaml(args_file) if args_file.is_file() else None
    # A run pulled from the Hub, or trained elsewhere, has none: the facts pgzoo knows.
    args = dict(saved) if isinstance(saved, Mapping) else {"algo": algo, "env": env_id}
    # rl-zoo3's enjoy reads this key without a default.
    args.setdefault("env_kwargs", read_run_config(run_folder, env_id).get("env_kwargs"))
    atomic_write_text(folder / "args.yml", yaml.safe_dump(args, sort_keys=True))
    members = {p.name: p for p in [run_folder / EVALUATIONS, *run_folder.glob(MONITOR_GLOB)] if p.is_file()}
    _deterministic_zip(folder / TRAIN_EVAL_METRICS, members)


def _model_card(
    *, algo: str, algo_name: str, env_id: str, repo_id: str, results: dict[str, Any], config: dict[str, Any], has_video: bool
) -> str:
    """The README.md: Hub RL metadata (library, tags, model-index) and usage, hyperparameters, evaluation."""
    from pgzoo.version import __version__
    from pgzoo.zoo.algos import PGZOO_ALGOS

    mean, std = results["mean_reward"], results["std_reward"]
    metadata = {
        # pgzoo agents are Stable-Baselines3 models: the Hub and its leaderboard know this library name.
        "library_name": "stable-baselines3",
        "tags": [env_id, "deep-reinforcement-learning", "reinforcement-learning", "stable-baselines3", "pgzoo"],
        "model-index": [
            {
                "name": algo_name,
                "results": [
                    {
                        "task": {"type": "reinforcement-learning", "name": "reinforcement-learning"},
                        "dataset": {"name": env_id, "type": env_id},
                        "metrics": [
                            {
                                "type": "mean_reward",
                                "value": f"{mean:.2f} +/- {std:.2f}",
                                "name": "mean_reward",
                                "verified": False,
                            }
                        ],
                    }
                ],
            }
        ],
    }
    origin = "pgzoo" if algo in PGZOO_ALGOS else "Stable-Baselines3 / sb3-contrib (baseline trained with pgzoo's zoo)"
    mode = "deterministic" if results["deterministic"] else "stochastic"
    hyperparams = yaml.safe_dump(config, sort_keys=True).strip() or "{}"
    video = "\n![replay](replay.mp4)\n" if has_video else ""
    return f"""---
{yaml.safe_dump(metadata, sort_keys=False).strip()}
---

# {algo_name} agent playing {env_id}

A {algo_name} agent ({origin}) trained on `{env_id}` with [pgzoo](https://pypi.org/project/pgzoo/) {__version__}.
{video}
## Evaluation

| metric | value |
|---|---|
| mean reward | {mean:.2f} |
| std reward | {std:.2f} |
| episodes | {results["n_eval_episodes"]} ({mode} actions) |
| evaluated on | {results["eval_datetime"]} |

## Usage

```bash
pip install pgzoo
# download into the logs layout, then watch the agent
pgzoo pull --repo-id {repo_id} -f logs/
pgzoo enjoy --algo {algo} --env {env_id} -f logs/
```

In Python (the model comes back with its env, normalization statistics included):

```python
from pgzoo.zoo import load_from_hub

model = load_from_hub("{repo_id}")
env = model.get_env()
obs = env.reset()
for _ in range(1000):
    action, _ = model.predict(obs, deterministic=True)
    obs, rewards, dones, infos = env.step(action)
```

Loading never unpickles anything by default: weights are read with `torch.load(weights_only=True)` and the rest
from plain JSON / YAML.

## Training

```bash
pgzoo train --algo {algo} --env {env_id} -f logs/
```

## Hyperparameters

```yaml
{hyperparams}
```
"""


def package(
    algo: str,
    env_id: str,
    log_folder: str | Path,
    repo_id: str,
    folder: str | Path,
    *,
    exp_id: int = 0,
    load_best: bool = False,
    load_checkpoint: int | None = None,
    n_eval_episodes: int = 10,
    deterministic: bool = True,
    video_length: int = 1000,
    trust_remote_code: bool = False,
    seed: int = 0,
    device: str = "auto",
    results: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """
    Write the repository's files for a trained run into ``folder`` (evaluating the agent and recording a replay).

    :param algo: Registry name of the algorithm.
    :param env_id: Env id.
    :param log_folder: Root of the logs layout.
    :param repo_id: Target repository (used in the card's usage code).
    :param folder: Output folder (created; files already there are overwritten).
    :param exp_id: Run number, 0 for the latest.
    :param load_best: Package ``best_model.zip`` instead of the final model.
    :param load_checkpoint: Package the checkpoint saved after this many steps instead of the final model.
    :param n_eval_episodes: Evaluation episodes for ``results.json`` and the card.
    :param deterministic: Deterministic evaluation.
    :param video_length: Steps of ``replay.mp4``; 0 skips the video.
    :param trust_remote_code: Needed to re-package a run pulled from the Hub that only loads with pickle.
    :param seed: Seed of the evaluation env.
    :param device: Torch device the agent is evaluated on.
    :param results: The agent's evaluation as already measured (a ``results.json`` of the run, e.g. the benchmark's
        final evaluation): published as it is instead of evaluating again, which also makes the package the same
        every time (``pgzoo publish`` then sees an unchanged repository).
    :return: ``results.json``'s content and the packaged file names.
    """
    from stable_baselines3.common.evaluation import evaluate_policy

    from pgzoo.zoo.enjoy import load_agent
    from pgzoo.zoo.record_video import record_video

    algo = normalize_algo_name(algo)
    load = functools.partial(
        load_agent,
        algo,
        env_id,
        log_folder,
        exp_id=exp_id,
        load_best=load_best,
        load_checkpoint=load_checkpoint,
        trust_remote_code=trust_remote_code,
        device=device,
        seed=seed,
    )
    agent = load()  # also when the evaluation is given: a model that does not load is not published
    try:
        if results is None:
            rewards, _ = evaluate_policy(
                agent.model, agent.env, n_eval_episodes, deterministic=deterministic, return_episode_rewards=True
            )
            results = results_document(
                env_id=env_id,
                algo=algo,
                mean_reward=float(np.mean(rewards)),
                std_reward=float(np.std(rewards)),
                n_eval_episodes=n_eval_episodes,
                deterministic=deterministic,
                eval_datetime=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            )
        else:
            results = _complete_results(results, algo, env_id)
    finally:
        agent.env.close()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = default_repo_name(algo, env_id)
    shutil.copyfile(agent.model_path, folder / f"{name}.zip")
    config = read_run_config(agent.run_folder, env_id)
    atomic_write_text(folder / "config.yml", yaml.safe_dump(config, sort_keys=True))
    atomic_write_text(folder / "env_kwargs.yml", yaml.safe_dump(config.get("env_kwargs") or {}))
    stats = vecnormalize_file(agent.run_folder, env_id)
    if stats is not None:
        shutil.copyfile(stats, folder / VECNORMALIZE_JSON)
    elif config.get("normalize"):
        raise ZooError(f"{agent.run_folder} normalizes observations but has no {VECNORMALIZE_JSON} to publish")
    atomic_write_text(folder / RESULTS_FILE, json.dumps(results, indent=2))
    _write_rl_zoo_files(agent.run_folder, algo, env_id, folder)

    has_video = False
    if video_length > 0:
        try:
            video_agent = load(render_mode="rgb_array")
            try:
                record_video(video_agent, folder / REPLAY, n_timesteps=video_length, deterministic=deterministic)
            finally:
                video_agent.env.close()
            has_video = True
        except Exception as error:  # rendering is optional: a headless box without a renderer still publishes
            print(f"warning: no {REPLAY} ({error})")
    card = _model_card(
        algo=algo,
        algo_name=get_algo_class(algo).__name__,
        env_id=env_id,
        repo_id=repo_id,
        results=results,
        config=config,
        has_video=has_video,
    )
    atomic_write_text(folder / "README.md", card)
    return results, sorted(p.name for p in folder.iterdir() if p.is_file())


def push(
    algo: str,
    env_id: str,
    log_folder: str | Path,
    repo_id: str,
    *,
    exp_id: int = 0,
    load_best: bool = False,
    load_checkpoint: int | None = None,
    commit_message: str | None = None,
    n_eval_episodes: int = 10,
    deterministic: bool = True,
    video_length: int = 1000,
    local_dir: str | Path | None = None,
    dry_run: bool = False,
    private: bool = False,
    trust_remote_code: bool = False,
    device: str = "auto",
    results: Mapping[str, Any] | None = None,
) -> PushResult:
    """
    Package a trained run and upload it to the Hub (``create_repo`` + ``upload_folder``).

    :param algo: Registry name of the algorithm.
    :param env_id: Env id.
    :param log_folder: Root of the logs layout.
    :param repo_id: ``ORG/NAME``; the convention is ``ORG/<algo>-<env>``.
    :param exp_id: Run number, 0 for the latest.
    :param load_best: Publish ``best_model.zip`` rather than the final model.
    :param load_checkpoint: Publish the checkpoint saved after this many steps rather than the final model.
    :param commit_message: Commit message (a default one names the algorithm and the env).
    :param n_eval_episodes: Evaluation episodes for ``results.json`` and the card.
    :param deterministic: Deterministic evaluation.
    :param video_length: Steps recorded into ``replay.mp4``; 0 skips the video.
    :param local_dir: Keep the packaged repository in this folder, which must be new or empty so that it holds
        exactly what is uploaded (default: a temporary folder, removed).
    :param dry_run: Only package (into ``local_dir``, required), upload nothing; needs no token.
    :param private: Create the repository as private.
    :param trust_remote_code: Allow re-publishing a run pulled from the Hub that only loads with pickle.
    :param device: Torch device the agent is evaluated on before packaging.
    :param results: The agent's evaluation as already measured, published instead of evaluating (see :func:`package`).
    :raises HubError: Without a token (unless ``dry_run``), or when the Hub refuses the upload.
    :raises ZooError: When ``local_dir`` is a file or a folder that is not empty.
    """
    algo = normalize_algo_name(algo)
    check_repo_id(repo_id)
    if dry_run and local_dir is None:
        raise HubError("--dry-run packages into --local-dir DIR: give that folder")
    target = Path(local_dir) if local_dir is not None else None
    if target is not None:
        _check_empty_folder(target)
    token = None if dry_run else hub_token()
    find_run_folder(log_folder, algo, env_id, exp_id)  # fail before evaluating when the run is missing
    if target is not None:
        check_writable_folder(target.parent, f"--local-dir {target}")
    # Packaged next to --local-dir, then renamed into place: a failed packaging leaves no half-filled folder.
    staging = Path(tempfile.mkdtemp(prefix=".pgzoo-push-", dir=target.parent if target is not None else None))
    folder = staging / "package"  # made by package() with mkdir: a plain folder's permissions, unlike mkdtemp's
    try:
        results, files = package(
            algo,
            env_id,
            log_folder,
            repo_id,
            folder,
            exp_id=exp_id,
            load_best=load_best,
            load_checkpoint=load_checkpoint,
            n_eval_episodes=n_eval_episodes,
            deterministic=deterministic,
            video_length=video_length,
            trust_remote_code=trust_remote_code,
            device=device,
            results=results,
        )
        if target is not None:
            if target.is_dir():
                target.rmdir()  # empty (checked above); a folder can only be renamed to a free name everywhere
            folder = folder.rename(target)
        url = None
        if token is not None:
            message = commit_message or f"Upload {algo} agent for {env_id} (pgzoo)"
            url = upload_package(folder, repo_id, token=token, commit_message=message, private=private)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PushResult(repo_id, folder, url, results["mean_reward"], results["std_reward"], files)


def hub_token() -> str:
    """
    The Hugging Face token to upload with.

    :raises HubError: When there is none.
    """
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise HubError(
            "no Hugging Face token: set HF_TOKEN or run `hf auth login` (huggingface-cli login); "
            "or package locally with --dry-run"
        )
    return token


def upload_package(folder: Path, repo_id: str, *, token: str, commit_message: str, private: bool = False) -> str:
    """
    Upload a packaged repository (from :func:`package`): create the repository if needed, then one commit that also
    deletes the optional files the package lacks.

    :param folder: The package folder.
    :param repo_id: ``ORG/NAME``.
    :param token: Hugging Face token.
    :param commit_message: Commit message.
    :param private: Create the repository as private.
    :return: The URL of the commit.
    :raises HubError: When the Hub refuses.
    """
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint(), token=token)
    try:
        api.create_repo(repo_id, exist_ok=True, private=private)
        commit = api.upload_folder(
            folder_path=str(folder), repo_id=repo_id, commit_message=commit_message, delete_patterns=_OPTIONAL_FILES
        )
    except Exception as error:
        raise _hub_error(error, repo_id) from None
    return str(getattr(commit, "commit_url", commit))


def _complete_results(results: Mapping[str, Any], algo: str, env_id: str) -> dict[str, Any]:
    """
    A measured ``results.json`` (pgzoo's or huggingface_sb3's key names) in :func:`results_document`'s form.

    :raises ZooError: When it lacks the mean or the standard deviation.
    """
    given = dict(results)
    try:
        mean, std = float(given.pop("mean_reward")), float(given.pop("std_reward"))
    except (KeyError, TypeError, ValueError):
        raise ZooError(f"the evaluation of {algo} on {env_id} has no numeric mean_reward and std_reward") from None
    episodes = given.pop("n_eval_episodes", given.pop("n_evaluation_episodes", 0))
    given.pop("n_evaluation_episodes", None)
    deterministic = given.pop("deterministic", given.pop("is_deterministic", True))
    given.pop("is_deterministic", None)
    for key in ("env_id", "algo"):
        given.pop(key, None)
    return results_document(
        env_id=env_id,
        algo=algo,
        mean_reward=mean,
        std_reward=std,
        n_eval_episodes=int(episodes),
        deterministic=bool(deterministic),
        eval_datetime=str(given.pop("eval_datetime", "")),
        **given,
    )


def _check_empty_folder(folder: Path) -> None:
    """
    Refuse a ``--local-dir`` that holds files: they would be uploaded with the agent, or overwritten by it.

    :param folder: The folder asked for; it may not exist yet.
    :raises ZooError: When it is a file, a link, the working directory or a folder that is not empty.
    """
    # The package is renamed into place: a link would be replaced, not followed, and the working directory (or a
    # folder above it) can't be renamed over.
    if folder.is_symlink():
        raise ZooError(f"--local-dir {folder} is a symbolic link: give a new or empty folder")
    if folder.exists() and Path.cwd().resolve().is_relative_to(folder.resolve()):
        raise ZooError(f"--local-dir {folder} is the working directory or holds it: give a new or empty folder")
    if folder.exists() and not folder.is_dir():
        raise ZooError(f"--local-dir {folder} is a file: give a new or empty folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise ZooError(
            f"--local-dir {folder} is not empty: give a new or empty folder, so that it holds exactly what is "
            "uploaded (pgzoo never overwrites or deletes files it did not write)"
        )


def _split_repo_name(repo_id: str) -> tuple[str, str] | None:
    """``org/a2c-CartPole-v1`` -> ``("a2c", "CartPole-v1")`` when the prefix is a known algorithm."""
    name = repo_id.split("/", 1)[1]
    for algo in sorted(ALGOS, key=len, reverse=True):
        if name.lower().startswith(algo + "-") and len(name) > len(algo) + 1:
            return algo, name[len(algo) + 1 :]
    return None


def _read_mapping(path: Path, repo_id: str) -> dict[str, Any]:
    """
    Read a downloaded YAML file that must hold a mapping (``config.yml``, ``env_kwargs.yml``).

    :param path: The downloaded file.
    :param repo_id: Its repository, named in error messages instead of the temporary download folder.
    :return: Its content; ``{}`` for an empty file.
    :raises HubError: When it is not valid YAML or not a mapping.
    """
    from pgzoo.zoo.hyperparams import load_yaml

    where = f"{path.name} of {repo_id}"
    try:
        content = load_yaml(path)
    except ZooError as error:
        raise HubError(str(error).replace(str(path), where)) from None
    if content is None:
        return {}
    if not isinstance(content, Mapping):
        raise HubError(f"{where} holds a YAML {type(content).__name__}, not a mapping of names to values")
    return dict(content)


def _check_pulled_config(config: dict[str, Any], repo_id: str) -> None:
    """
    Check a downloaded ``config.yml`` as ``enjoy`` will read it, so that a value it cannot use is refused by ``pull``
    rather than left for ``enjoy``; a class outside the allow-list is left for ``enjoy --trust-remote-code``.

    :param config: Its content.
    :param repo_id: Its repository, for the message.
    :raises HubError: When a value is one the zoo cannot use.
    """
    from pgzoo.zoo.errors import HyperparamsError, UntrustedClassError
    from pgzoo.zoo.hyperparams import preprocess_hyperparams

    try:
        preprocess_hyperparams(config, where=f"config.yml of {repo_id}", trust_imports=False)
    except UntrustedClassError:
        pass
    except HyperparamsError as error:
        raise HubError(str(error)) from None


def _warn_if_unknown_env(env_id: str, from_repo_name: bool) -> None:
    """
    Warn when ``env_id`` is not registered; not an error, as the env may come from a package that enjoy's
    ``--gym-packages`` imports.

    :param env_id: The env id the run will be filed under.
    :param from_repo_name: It was guessed from the repository name rather than given.
    """
    successor = successor_env_id(env_id)
    if successor is not None:
        print(f"note: {env_id} is no longer registered in gymnasium; enjoy plays the agent in {successor} if it fits")
        return
    try:
        check_env_id(env_id)
    except UnknownEnvError:
        origin = " (from the repository name)" if from_repo_name else ""
        hint = "pass --env ENV_ID if the repository name does not end with the agent's env; " if from_repo_name else ""
        print(
            f"warning: {env_id!r}{origin} is not a registered env id: {hint}"
            "enjoy needs --gym-packages PACKAGE if a package registers it"
        )


def _download(repo_id: str, filename: str, folder: Path, revision: str | None) -> Path:
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id, filename, revision=revision, local_dir=folder, endpoint=endpoint()))
    except Exception as error:
        raise _hub_error(error, repo_id, filename) from None


#: Zips rl_zoo3's ``push_to_hub`` puts next to the model: never taken for it.
NOT_MODEL_ZIPS = ("train_eval_metrics.zip",)


def _model_zip(repo_id: str, files: list[str], algo: str, env_id: str) -> str:
    """
    The model zip of a repository: named after the repository (``sb3/ppo-LunarLander-v2`` holds
    ``ppo-LunarLander-v2.zip``) or after the algorithm and env, else its only zip besides :data:`NOT_MODEL_ZIPS`.

    :param repo_id: The repository.
    :param files: Its files.
    :param algo: Algorithm of the agent.
    :param env_id: Env of the agent.
    :raises ModelZipChoiceError: When no zip, or several, could be the model.
    """
    zips = [name for name in files if name.endswith(".zip") and "/" not in name]
    for preferred in (f"{repo_id.split('/', 1)[1]}.zip", f"{default_repo_name(algo, env_id)}.zip"):
        if preferred in zips:
            return preferred
    models = [name for name in zips if name not in NOT_MODEL_ZIPS]
    if len(models) == 1:
        return models[0]
    raise ModelZipChoiceError(repo_id, zips)


def pull(
    repo_id: str,
    log_folder: str | Path = "logs",
    *,
    algo: str | None = None,
    env_id: str | None = None,
    revision: str | None = None,
    filename: str | None = None,
    verbose: bool = True,
) -> Path:
    """
    Download a model repository into the logs layout, so that ``pgzoo enjoy`` and :func:`load_agent` find it.

    Works for repositories pushed by pgzoo and by rl-zoo3 / huggingface_sb3 (``sb3/a2c-CartPole-v1``). The run
    gets a ``hub.json`` marker: its files are then never unpickled without ``trust_remote_code``.

    :param repo_id: ``ORG/NAME``.
    :param log_folder: Root of the logs layout.
    :param algo: Algorithm, when the repository name does not start with ``<algo>-``.
    :param env_id: Env id, when the repository name does not end with it.
    :param revision: Branch, tag or commit.
    :param filename: Model zip to use, when the repository has several.
    :param verbose: Print what is odd about the env id (unknown, or retired in favour of a newer version).
    :return: The new run folder ``<log_folder>/<algo>/<env>_<N>``; it appears only once everything was downloaded
        and checked, so a failed pull leaves no run folder.
    :raises HubError: When the repository or a file is missing, the model is not a zip, or ``config.yml`` /
        ``env_kwargs.yml`` is not a YAML mapping.
    """
    from pgzoo.zoo.runs import new_run_folder
    from pgzoo.zoo.safe_load import read_zip_data

    check_repo_id(repo_id)
    guessed = _split_repo_name(repo_id)
    env_from_repo_name = env_id is None
    if algo is None or env_id is None:
        if guessed is None:
            raise HubError(f"cannot tell the algorithm and env from {repo_id!r} (not <algo>-<env>): pass --algo and --env")
        algo, env_id = algo or guessed[0], env_id or guessed[1]
    algo = normalize_algo_name(algo)
    if verbose:
        _warn_if_unknown_env(env_id, env_from_repo_name)

    from huggingface_hub import HfApi

    try:
        files = HfApi(endpoint=endpoint()).list_repo_files(repo_id, revision=revision)
    except Exception as error:
        raise _hub_error(error, repo_id) from None
    if filename is None:
        filename = _model_zip(repo_id, files, algo, env_id)
    algo_folder = Path(log_folder) / algo
    check_writable_folder(algo_folder, f"-f {log_folder}")
    # Staged next to the run folder (same file system), then moved into place by one rename.
    staging = Path(tempfile.mkdtemp(prefix=".pgzoo-pull-", dir=algo_folder))
    try:
        downloads = staging / "download"
        model = _download(repo_id, filename, downloads, revision)
        extra = [f for f in files if f in _PULLED_FILES]
        fetched = {name: _download(repo_id, name, downloads, revision) for name in extra}
        try:
            read_zip_data(model, name=f"{filename} of {repo_id}")
        except ZooError as error:
            raise HubError(str(error)) from None
        config = _read_mapping(fetched["config.yml"], repo_id) if "config.yml" in fetched else {}
        _check_pulled_config(config, repo_id)
        if VECNORMALIZE_JSON in fetched:
            try:
                read_vecnormalize_stats(fetched[VECNORMALIZE_JSON])
            except ZooError as error:
                raise HubError(f"{VECNORMALIZE_JSON} of {repo_id}: {error}") from None
        if "env_kwargs.yml" in fetched and not config.get("env_kwargs"):
            env_kwargs = _read_mapping(fetched["env_kwargs.yml"], repo_id)
            if env_kwargs:
                config["env_kwargs"] = env_kwargs

        staged_run = staging / "run"  # made with mkdir: a plain folder's permissions, unlike mkdtemp's
        env_name = env_folder_name(env_id)
        cfg_folder = staged_run / env_name
        cfg_folder.mkdir(parents=True)
        # Where each file of the repository went, relative to the run folder (error messages name the repo's file).
        placed = {final_model_name(env_id): filename}
        model.replace(staged_run / final_model_name(env_id))
        atomic_write_text(cfg_folder / CONFIG_FILE, yaml.safe_dump(config, sort_keys=True))
        if "config.yml" in fetched:
            placed[f"{env_name}/{CONFIG_FILE}"] = "config.yml"
        if VECNORMALIZE_JSON in fetched:
            fetched[VECNORMALIZE_JSON].replace(cfg_folder / VECNORMALIZE_JSON)
            placed[f"{env_name}/{VECNORMALIZE_JSON}"] = VECNORMALIZE_JSON
        for pickled in (RL_ZOO_VECNORMALIZE_PKL, VECNORMALIZE_PKL):
            if pickled in fetched:  # read by the restricted unpickler; SB3's only with trust_remote_code
                fetched[pickled].replace(cfg_folder / VECNORMALIZE_PKL)
                placed[f"{env_name}/{VECNORMALIZE_PKL}"] = pickled
        for name in (RESULTS_FILE, "README.md"):
            if name in fetched:
                fetched[name].replace(staged_run / name)
        marker = {"repo_id": repo_id, "revision": revision, "filename": filename, "endpoint": public_endpoint(),
                  "files": placed}  # fmt: skip
        atomic_write_text(cfg_folder / HUB_MARKER, json.dumps(marker, indent=2))

        run_folder = new_run_folder(log_folder, algo, env_id)  # reserves the next run number (an empty folder)
        try:
            os.replace(staged_run, run_folder)  # POSIX replaces the empty folder in one step
        except OSError:  # Windows cannot replace a folder: free the name first
            with suppress(OSError):
                run_folder.rmdir()
            staged_run.rename(run_folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return run_folder


def load_from_hub(
    repo_id: str,
    *,
    algo: str | None = None,
    env_id: str | None = None,
    revision: str | None = None,
    filename: str | None = None,
    trust_remote_code: bool = False,
    device: str = "auto",
    seed: int | None = 0,
) -> Any:
    """
    Download a model from the Hub and return it ready to act: ``model.get_env()`` is its env, normalization
    statistics loaded.

    Nothing is unpickled unless ``trust_remote_code=True``: see :mod:`pgzoo.zoo.safe_load`.

    :param repo_id: ``ORG/NAME`` (e.g. ``my-org/reinforce-CartPole-v1`` or rl-zoo3's ``sb3/a2c-CartPole-v1``).
    :param algo: Algorithm, when the repository name does not start with ``<algo>-``.
    :param env_id: Env id, when the repository name does not end with it.
    :param revision: Branch, tag or commit.
    :param filename: Model zip, when the repository has several.
    :param trust_remote_code: Fall back to SB3's pickle-based loading for what cannot be loaded safely.
    :param device: Torch device.
    :param seed: Seed of the env.
    :raises HubError: When the repository or a file is missing.
    :raises UnsafeModelError: When the model needs unpickling and ``trust_remote_code`` is not set.
    """
    from pgzoo.zoo.enjoy import load_agent

    with tempfile.TemporaryDirectory(prefix="pgzoo-hub-") as tmp:
        # Quiet: loading the agent reports what is odd about its env id.
        run_folder = pull(repo_id, tmp, algo=algo, env_id=env_id, revision=revision, filename=filename, verbose=False)
        algo_name, env_name = run_folder.parent.name, run_folder.name.rsplit("_", 1)[0]
        guessed = _split_repo_name(repo_id)
        try:
            agent = load_agent(
                algo or algo_name,
                env_id or (guessed[1] if guessed else env_name),
                tmp,
                trust_remote_code=trust_remote_code,
                device=device,
                seed=seed,
            )
        except ZooError as error:
            raise _without_download_folder(error, Path(tmp), repo_id, run_folder) from None
    return agent.model


def _without_download_folder(error: ZooError, folder: Path, repo_id: str, run_folder: Path) -> ZooError:
    """
    ``error`` naming the repository's files instead of the temporary folder they were downloaded to (it is gone
    by the time the user reads the message).

    :param error: Raised while loading the downloaded run.
    :param folder: The temporary logs folder.
    :param repo_id: The repository.
    :param run_folder: The run folder in ``folder``; its ``hub.json`` names the model file of the repository.
    """
    marker = next(run_folder.glob(f"*/{HUB_MARKER}"), None)
    placed = json.loads(marker.read_text()).get("files", {}) if marker is not None else {}

    def repository_name(match: re.Match[str]) -> str:
        path = Path(match.group(0))
        local = path.relative_to(run_folder).as_posix() if path.is_relative_to(run_folder) else ""
        return f"{placed.get(local, path.name)} of {repo_id}"

    message = re.sub(re.escape(str(folder)) + r"[^\s:,;'\"]*", repository_name, str(error))
    try:
        return type(error)(message)
    except TypeError:  # a subclass with other arguments
        return ZooError(message)

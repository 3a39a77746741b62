"""
``pgzoo publish``: push every agent of a logs folder (e.g. the repository's ``agents/``) to ``<org>/<algo>-<env>``.

Each agent is packaged by :func:`pgzoo.zoo.hub.package` and uploaded by :func:`pgzoo.zoo.hub.upload_package`, the
code of ``pgzoo push``. An agent whose run folder holds a ``results.json`` (a benchmark's final evaluation) is
published with that evaluation rather than a new one, so that its package is the same every time: a repository
whose files already equal the package (the replay aside, which no encoder reproduces byte for byte) is skipped, and
a second ``publish`` uploads nothing. One agent that fails (a damaged model, a refused upload) is reported and the
others go on; the command then exits with status 1. ``--dry-run`` writes the packages into a folder instead.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgzoo.zoo.errors import ZooError

#: What :func:`publish` did with one agent (the ``status`` of a :class:`PublishOutcome`).
UPLOADED, UNCHANGED, PACKAGED, FAILED = "uploaded", "unchanged", "packaged", "FAILED"


@dataclass(frozen=True)
class AgentRun:
    """
    One agent of a logs folder.

    :param algo: Registry name of the algorithm (the ``<algo>/`` folder).
    :param env_id: Its env id (from ``<env>/args.yml``, else the run folder's name).
    :param run_folder: ``<folder>/<algo>/<env>_<N>``: the latest run of (algo, env) that holds a model.
    """

    algo: str
    env_id: str
    run_folder: Path

    @property
    def name(self) -> str:
        """``algo/env``, as ``--only`` selects it."""
        return f"{self.algo}/{self.env_id}"

    @property
    def exp_id(self) -> int:
        """The run number ``N``."""
        return int(self.run_folder.name.rsplit("_", 1)[1])


@dataclass
class PublishOutcome:
    """
    What :func:`publish` did with one agent.

    :param agent: The agent.
    :param repo_id: Its repository.
    :param status: :data:`UPLOADED`, :data:`UNCHANGED`, :data:`PACKAGED` (dry run) or :data:`FAILED`.
    :param mean_reward: Mean reward published (``None`` when it failed before).
    :param std_reward: Its standard deviation.
    :param detail: The commit URL, the package folder, or the error.
    """

    agent: AgentRun
    repo_id: str
    status: str
    mean_reward: float | None = None
    std_reward: float | None = None
    detail: str = ""


def find_agents(folder: str | Path, only: list[str] | None = None) -> list[AgentRun]:
    """
    The agents of a logs folder: the latest run holding a model of each ``<algo>/<env>_<N>``.

    :param folder: Root of the logs layout.
    :param only: ``ALGO/ENV`` selections; ``None`` takes every agent.
    :raises ZooError: When the folder holds no agent, or a selection matches none.
    """
    from pgzoo.zoo.algos import ALGOS
    from pgzoo.zoo.envs import env_folder_name
    from pgzoo.zoo.hyperparams import load_yaml
    from pgzoo.zoo.runs import ARGS_FILE, config_folder, latest_run_id

    root = Path(folder)
    if not root.is_dir():
        raise ZooError(f"-f {folder}: no such folder (give a logs folder such as agents/)")
    agents: dict[tuple[str, str], AgentRun] = {}
    for algo_folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name in ALGOS):
        for run in sorted(p for p in algo_folder.iterdir() if p.is_dir() and "_" in p.name):
            folder_env = run.name.rsplit("_", 1)[0]
            args_file = config_folder(run, folder_env) / ARGS_FILE
            saved = load_yaml(args_file) if args_file.is_file() else None
            env_id = str(saved["env"]) if isinstance(saved, dict) and saved.get("env") else folder_env
            if env_folder_name(env_id) != folder_env or (algo_folder.name, env_id) in agents:
                continue
            exp_id = latest_run_id(algo_folder, env_id, with_model=True)
            if exp_id:
                agents[(algo_folder.name, env_id)] = AgentRun(algo_folder.name, env_id, algo_folder / f"{folder_env}_{exp_id}")
    found = sorted(agents.values(), key=lambda a: (a.algo, a.env_id))
    if not found:
        raise ZooError(f"no agent in {folder} (expected <algo>/<env>_<N>/<env>.zip, rl-zoo3's logs layout)")
    if only:
        names = {a.name for a in found}
        unknown = [s for s in only if s not in names]
        if unknown:
            raise ZooError(f"--only {' '.join(unknown)}: no such agent in {folder} (it has: {', '.join(sorted(names))})")
        found = [a for a in found if a.name in only]
    return found


def stored_results(agent: AgentRun) -> dict[str, Any] | None:
    """
    The ``results.json`` kept in the agent's run folder (the evaluation measured when it was trained), or ``None``.

    :raises ZooError: When the file is there but is not a JSON object.
    """
    from pgzoo.zoo.runs import RESULTS_FILE

    path = agent.run_folder / RESULTS_FILE
    if not path.is_file():
        return None
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ZooError(f"{path}: not readable JSON ({error})") from None
    if not isinstance(results, dict):
        raise ZooError(f"{path}: expected a JSON object")
    return results


def remote_matches(repo_id: str, package: Path, token: str | None) -> bool:
    """
    Whether the repository holds exactly the package's files with the same content (``replay.mp4`` only by name).

    :param repo_id: ``ORG/NAME``.
    :param package: The package folder.
    :param token: Hugging Face token (a private repository needs it).
    :raises HubError: When the Hub cannot be asked (a missing repository is just ``False``).
    """
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import RepositoryNotFoundError

    from pgzoo.zoo.hub import REPLAY, _hub_error, endpoint

    local = {p.name for p in package.iterdir() if p.is_file()}
    try:
        remote = set(HfApi(endpoint=endpoint(), token=token).list_repo_files(repo_id))
    except RepositoryNotFoundError:
        return False
    except Exception as error:
        raise _hub_error(error, repo_id) from None
    remote.discard(".gitattributes")
    if remote != local:
        return False
    with tempfile.TemporaryDirectory(prefix="pgzoo-publish-") as tmp:
        for name in sorted(local - {REPLAY}):
            try:
                path = hf_hub_download(repo_id, name, local_dir=tmp, endpoint=endpoint(), token=token)
            except Exception as error:
                raise _hub_error(error, repo_id, name) from None
            if Path(path).read_bytes() != (package / name).read_bytes():
                return False
    return True


def publish(
    folder: str | Path,
    org: str,
    *,
    only: list[str] | None = None,
    dry_run_dir: str | Path | None = None,
    n_eval_episodes: int = 10,
    video_length: int = 1000,
    commit_message: str | None = None,
    private: bool = False,
    device: str = "auto",
    verbose: int = 1,
) -> list[PublishOutcome]:
    """
    Package every agent of ``folder`` and upload each to ``<org>/<algo>-<env>`` unless the repository already holds it.

    :param folder: Root of the logs layout (e.g. ``agents``).
    :param org: Hugging Face organization or user.
    :param only: ``ALGO/ENV`` selections; ``None`` publishes every agent.
    :param dry_run_dir: Upload nothing: write each package to ``<dry_run_dir>/<algo>-<env>/`` (a new or empty folder).
    :param n_eval_episodes: Evaluation episodes of an agent without a ``results.json``.
    :param video_length: Steps of ``replay.mp4``; 0 skips it.
    :param commit_message: Commit message (default: names the algorithm, the env and pgzoo).
    :param private: Create new repositories as private.
    :param device: Torch device the agents are loaded on.
    :param verbose: 1 prints a line per agent as it is done.
    :return: One outcome per agent, in order.
    :raises ZooError: Before anything is packaged: bad organization, no agent, unknown selection, no token, a dry-run
        folder that is not empty.
    """
    from pgzoo.zoo.hub import check_repo_id, default_repo_name, hub_token, package, upload_package

    agents = find_agents(folder, only)
    repo_ids = {agent: check_repo_id(f"{org}/{default_repo_name(agent.algo, agent.env_id)}") for agent in agents}
    target = None if dry_run_dir is None else Path(dry_run_dir)
    if target is not None:
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise ZooError(f"--dry-run {target}: give a new or empty folder (it receives one package per agent)")
        target.mkdir(parents=True, exist_ok=True)
    token = None if target is not None else hub_token()

    outcomes: list[PublishOutcome] = []
    for agent in agents:
        repo_id = repo_ids[agent]
        outcome = PublishOutcome(agent, repo_id, FAILED)
        staging = Path(tempfile.mkdtemp(prefix=".pgzoo-publish-", dir=target))
        try:
            package_folder = staging / "package"
            results, _ = package(
                agent.algo,
                agent.env_id,
                folder,
                repo_id,
                package_folder,
                exp_id=agent.exp_id,
                n_eval_episodes=n_eval_episodes,
                video_length=video_length,
                device=device,
                results=stored_results(agent),
            )
            outcome.mean_reward, outcome.std_reward = results["mean_reward"], results["std_reward"]
            if target is not None:
                destination = target / default_repo_name(agent.algo, agent.env_id)
                package_folder.rename(destination)
                outcome.status, outcome.detail = PACKAGED, str(destination)
            elif token is not None and remote_matches(repo_id, package_folder, token):
                outcome.status = UNCHANGED
            elif token is not None:
                message = commit_message or f"Upload {agent.algo} agent for {agent.env_id} (pgzoo publish)"
                outcome.detail = upload_package(package_folder, repo_id, token=token, commit_message=message, private=private)
                outcome.status = UPLOADED
        except Exception as error:  # one agent's failure must not stop the others: it is reported at the end
            outcome.detail = str(error) if isinstance(error, ZooError) else f"{type(error).__name__}: {error}"
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        outcomes.append(outcome)
        if verbose:
            print(f"[{len(outcomes)}/{len(agents)}] {repo_id}: {outcome.status}", flush=True)
    return outcomes


def format_table(outcomes: list[PublishOutcome]) -> str:
    """
    The summary of a :func:`publish` as a Markdown table.

    :param outcomes: Its outcomes.
    """
    lines = ["| Agent | Repository | Mean ± std | Status | Detail |", "|---|---|---:|---|---|"]
    for o in outcomes:
        score = "-" if o.mean_reward is None else f"{o.mean_reward:.2f} ± {o.std_reward:.2f}"
        detail = o.detail.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {o.agent.name} | {o.repo_id} | {score} | {o.status} | {detail} |")
    return "\n".join(lines)


__all__ = ["AgentRun", "PublishOutcome", "find_agents", "format_table", "publish", "remote_matches"]

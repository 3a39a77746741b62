"""Loading a trained agent from the logs layout and running it (``pgzoo enjoy``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from pgzoo.zoo.algos import check_device, get_algo_class, normalize_algo_name
from pgzoo.zoo.envs import check_env_id, make_zoo_env, read_vecnormalize_stats, successor_env_id
from pgzoo.zoo.errors import UnsafeModelError, ZooError
from pgzoo.zoo.runs import (
    find_run_folder,
    hub_origin,
    load_run_config,
    model_file,
    vecnormalize_file,
    vecnormalize_pickle,
)
from pgzoo.zoo.safe_load import check_saved_spaces, load_model_safely, read_zip_data
from pgzoo.zoo.sb3_compat import trusted_load_model, trusted_load_vecnormalize


@dataclass
class Agent:
    """
    A model ready to act, with the env it was trained for.

    :param model: The algorithm instance.
    :param env: Its vectorized env (normalization statistics loaded and frozen).
    :param run_folder: The run it came from.
    :param model_path: The zip that was loaded.
    :param env_id: The env it plays: the one asked for, or the current version of a retired id.
    """

    model: Any
    env: VecEnv
    run_folder: Path
    model_path: Path
    env_id: str = ""


def load_agent(
    algo: str,
    env_id: str,
    log_folder: str | Path = "logs",
    *,
    exp_id: int = 0,
    load_best: bool = False,
    load_checkpoint: int | None = None,
    trust_remote_code: bool = False,
    device: str = "auto",
    n_envs: int = 1,
    seed: int | None = 0,
    render_mode: str | None = None,
) -> Agent:
    """
    Load an agent from ``<log_folder>/<algo>/<env>_<exp_id>`` for evaluation or replay.

    A run trained on this machine is loaded with SB3's ``load``. A run pulled from the Hub (it has a ``hub.json``
    marker) is loaded without unpickling (see :mod:`pgzoo.zoo.safe_load`) unless ``trust_remote_code`` is set.

    :param algo: Registry name of the algorithm.
    :param env_id: Env id.
    :param log_folder: Root of the logs layout.
    :param exp_id: Run number; 0 means the latest.
    :param load_best: Load ``best_model.zip`` instead of the final model.
    :param load_checkpoint: Load the checkpoint saved at this many steps.
    :param trust_remote_code: Allow unpickling files of a run pulled from the Hub.
    :param device: Torch device.
    :param n_envs: Number of envs.
    :param seed: Seed of the env.
    :param render_mode: ``"human"``, ``"rgb_array"`` or ``None``.
    :raises ZooError: When the run, the model or the env cannot be found or loaded safely.
    """
    algo = normalize_algo_name(algo)
    successor = successor_env_id(env_id)
    if successor is None:
        check_env_id(env_id)
    check_device(device)
    algo_class = get_algo_class(algo)
    run_folder = find_run_folder(log_folder, algo, env_id, exp_id)
    path = model_file(run_folder, env_id, load_best=load_best, load_checkpoint=load_checkpoint)
    trusted = trust_remote_code or hub_origin(run_folder, env_id) is None
    config = load_run_config(run_folder, env_id, trust_remote_code=trust_remote_code)

    stats = vecnormalize_file(run_folder, env_id)
    unpickle_stats = None
    if config.normalize_kwargs is not None and stats is None:
        stats, unpickle_stats = _pickled_statistics(run_folder, env_id, trusted)
    env = make_zoo_env(
        successor or env_id, config, n_envs=n_envs, seed=seed, training=False, render_mode=render_mode,
        vecnormalize_path=stats,
    )  # fmt: skip
    if successor is not None:
        _check_successor_fits(env_id, successor, path, env)
    if unpickle_stats is not None:
        env = trusted_load_vecnormalize(unpickle_stats, env.venv if isinstance(env, VecNormalize) else env)
        env.training, env.norm_reward = False, False

    if trusted:
        check_saved_spaces(read_zip_data(path), env, path)  # before SB3's load, which is given the env's spaces
        model = trusted_load_model(algo_class, path, env, device)
    else:
        model_config = {"policy": config.policy, **config.model_kwargs}
        model = load_model_safely(path, algo_class, env, config=model_config, device=device)
    if seed is not None:
        # Loading seeds the env again with the model's training seed (SB3's off-policy _setup_model): the seed
        # asked for wins, so that an evaluation on seed k sees the episodes of seed k whatever the algorithm.
        env.seed(seed)
    return Agent(model=model, env=env, run_folder=run_folder, model_path=path, env_id=successor or env_id)


def _check_successor_fits(env_id: str, successor: str, path: Path, env: VecEnv) -> None:
    """
    Play an agent of a retired env id in its successor only when the model's saved spaces fit it, and say so.

    :param env_id: The id the agent was trained on.
    :param successor: Its current version (:func:`~pgzoo.zoo.envs.successor_env_id`).
    :param path: The model zip.
    :param env: The successor's env.
    :raises ZooError: When the spaces differ.
    """
    try:
        check_saved_spaces(read_zip_data(path), env, path)
    except ZooError as error:
        env.close()
        raise ZooError(
            f"{env_id} is no longer registered in gymnasium and the agent does not fit its successor {successor}: {error}"
        ) from None
    print(
        f"note: {env_id} is no longer registered in gymnasium; playing the agent in {successor}, which has the same "
        "observation and action spaces (its dynamics may differ from the ones the agent was trained on)"
    )


def _pickled_statistics(run_folder: Path, env_id: str, trusted: bool) -> tuple[Path | None, Path | None]:
    """
    Where a normalized run without ``vecnormalize.json`` gets its statistics: its ``vecnormalize.pkl`` read by the
    restricted unpickler when it holds only statistics, else (trusted runs only) unpickled by SB3's loader.

    :return: ``(file for the safe reader, file to unpickle)``, at most one of them set.
    :raises UnsafeModelError: When the pickle holds more than statistics and the run is not trusted.
    """
    pickled = vecnormalize_pickle(run_folder, env_id)
    if pickled is None:
        return None, None
    try:
        read_vecnormalize_stats(pickled)
    except UnsafeModelError:
        if not trusted:
            raise
        return None, pickled
    return pickled, None


@dataclass
class EnjoyResult:
    """
    Outcome of :func:`run_agent`.

    :param episode_rewards: Undiscounted reward of each finished episode.
    :param episode_lengths: Length of each finished episode.
    :param actions: The actions taken by the first env, step by step.
    """

    episode_rewards: list[float]
    episode_lengths: list[int]
    actions: list[Any]


def run_agent(
    agent: Agent,
    *,
    n_timesteps: int = 1000,
    deterministic: bool = True,
    render: bool = False,
    verbose: bool = True,
) -> EnjoyResult:
    """
    Run ``agent`` for ``n_timesteps`` steps, printing each finished episode's reward.

    Rewards are read from the ``Monitor`` wrapper, so they are the env's raw rewards even when normalized.

    :param agent: From :func:`load_agent`.
    :param n_timesteps: Number of steps.
    :param deterministic: Deterministic actions (``--stochastic`` turns this off).
    :param render: Call ``env.render()`` each step (``human`` render mode).
    :param verbose: Print episode rewards.
    """
    env, model = agent.env, agent.model
    obs = env.reset()
    state, episode_start = None, np.ones((env.num_envs,), dtype=bool)
    rewards: list[float] = []
    lengths: list[int] = []
    actions: list[Any] = []
    for _ in range(n_timesteps):
        action, state = model.predict(obs, state=state, episode_start=episode_start, deterministic=deterministic)
        actions.append(np.asarray(action)[0].tolist())
        obs, _, dones, infos = env.step(action)
        episode_start = dones
        if render:
            env.render()
        for info in infos:
            episode = info.get("episode")
            if episode is not None:
                rewards.append(float(episode["r"]))
                lengths.append(int(episode["l"]))
                if verbose:
                    print(f"Episode {len(rewards)}: reward {episode['r']:.2f}, length {episode['l']}")
    if verbose:
        if rewards:
            print(f"{len(rewards)} episodes: mean reward {np.mean(rewards):.2f} +/- {np.std(rewards):.2f}")
        else:
            print(f"No episode finished in {n_timesteps} steps")
    return EnjoyResult(episode_rewards=rewards, episode_lengths=lengths, actions=actions)

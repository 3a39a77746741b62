"""
One A3C actor-learner: n-step rollout, advantage actor-critic loss and gradients, on a local copy of the model.

Both backends use this file. They differ only in where the weights come from before a rollout and where the
gradients go after it (shared memory on one machine, a parameter-server actor with Ray); see
``pgzoo/a3c/local.py`` and ``pgzoo/a3c/ray_backend.py``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.utils import explained_variance, obs_as_tensor, set_random_seed
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, unwrap_vec_wrapper
from torch.nn import functional as F

from pgzoo.a3c.envs import EnvSource
from pgzoo.a3c.normalization import (
    Moments,
    NormalizedFlattenExtractor,
    RolloutStats,
    normalizers,
    return_normalizer,
    vec_normalize_statistics,
)
from pgzoo.a3c.shortcuts import evaluate_actions, sample_action, skip_distribution_checks
from pgzoo.common.errors import DivergenceError
from pgzoo.common.utils import MAX_SEED, limit_torch_threads, remaining_progress


@dataclasses.dataclass
class LearnerConfig:
    """
    Everything a worker needs besides the model, sent once when it starts.

    :param env_source: Recipe for the worker's environments.
    :param lr_schedule: Learning rate as a function of the remaining progress (1 to 0).
    :param n_steps: Steps per env in each rollout (the paper's t_max).
    :param gamma: Discount factor.
    :param gae_lambda: GAE lambda; 1.0 gives the paper's n-step returns.
    :param ent_coef: Entropy bonus coefficient.
    :param vf_coef: Value loss coefficient.
    :param max_grad_norm: Gradient norm clipping threshold.
    :param normalize_advantage: Whether to normalize the advantages of each rollout.
    :param total_timesteps: The run stops once the model has taken this many env steps (earlier runs included):
        a worker claims the steps of a rollout from this budget before running it, so the run ends within one
        rollout of it.
    :param initial_timesteps: Env steps the model had taken when this run started (``learn(...,
        reset_num_timesteps=False)`` continues from there, for the budget and the learning rate schedule).
    :param seed: Seed of the run (``None``: random); worker ``rank`` uses ``seed * n_workers + rank``.
    :param n_workers: Number of workers.
    :param report_interval: Seconds between a worker's progress reports to the main process.
    :param reward_scale: Factor applied to the rewards the loss sees (returns, values and advantages are in these
        units; before ``normalize_reward``'s division, if any); episode rewards reported to the main process stay
        the env's.
    :param sde_sample_freq: With a gSDE policy: steps of a rollout between draws of new noise matrices (-1: one draw
        at the start of each rollout).
    """

    env_source: EnvSource
    lr_schedule: Any
    n_steps: int
    gamma: float
    gae_lambda: float
    ent_coef: float
    vf_coef: float
    max_grad_norm: float
    normalize_advantage: bool
    total_timesteps: int
    seed: int | None
    n_workers: int
    report_interval: float = 0.01
    reward_scale: float = 1.0
    initial_timesteps: int = 0
    sde_sample_freq: int = -1


@dataclasses.dataclass
class Report:
    """
    What a worker tells the main process: progress since its previous report.

    :param steps: Env steps taken.
    :param updates: Gradient updates applied.
    :param episodes: ``Monitor`` infos (``r``, ``l``, ``t``) of finished episodes.
    :param successes: ``is_success`` flags of finished episodes that report one.
    :param losses: Sums over the updates of ``policy_loss``, ``value_loss``, ``entropy_loss``, ``explained_variance``.
    """

    steps: int = 0
    updates: int = 0
    episodes: list[dict[str, float]] = dataclasses.field(default_factory=list)
    successes: list[bool] = dataclasses.field(default_factory=list)
    losses: dict[str, float] = dataclasses.field(default_factory=dict)

    def merge(self, other: Report) -> None:
        """Add ``other``'s progress to this report."""
        self.steps += other.steps
        self.updates += other.updates
        self.episodes.extend(other.episodes)
        self.successes.extend(other.successes)
        for key, value in other.losses.items():
            self.losses[key] = self.losses.get(key, 0.0) + value


def worker_seed(seed: int | None, n_workers: int, rank: int) -> int | None:
    """
    Seed of worker ``rank``: distinct per worker, and equal to ``seed`` with a single worker.

    Taken modulo ``2**32``, the seeds NumPy accepts: a large zoo seed times ``n_workers`` would pass it.
    """
    return None if seed is None else (seed * n_workers + rank) % MAX_SEED


class ActorLearner:
    """
    A worker's own environments and its local copy of the model.

    :param policy: The worker's private policy (not the shared one): weights are copied into it before each
        rollout, so they can't change while it runs.
    :param config: The run's settings.
    :param rank: Index of this worker.
    """

    def __init__(self, policy: ActorCriticPolicy, config: LearnerConfig, rank: int) -> None:
        limit_torch_threads(1)
        self.policy = policy
        self.config = config
        self.rank = rank
        seed = worker_seed(config.seed, config.n_workers, rank)
        # Unseeded, a worker still draws fresh entropy: forkserver's children all start from the server's random
        # state, so without it every worker would sample the same exploration noise.
        set_random_seed(seed if seed is not None else int(np.random.SeedSequence().generate_state(1)[0]))
        # Seeds of envs: worker `rank` gets n_envs consecutive seeds of its own, disjoint from other workers.
        env_seed = None if seed is None else seed * config.env_source.n_envs
        self.env: VecEnv = config.env_source.make(env_seed)
        #: With a ``VecNormalize`` env: the worker's copy of the wrapper, which normalizes with the shared statistics
        #: (copied into it before each rollout) and doesn't update them itself: workers merge what they saw instead.
        self.vec_normalize: VecNormalize | None = unwrap_vec_wrapper(self.env, VecNormalize)  # type: ignore[assignment]
        self.env_statistics = vec_normalize_statistics(policy) if self.vec_normalize is not None else None
        if self.vec_normalize is not None and self.env_statistics is not None:
            self.env_statistics.copy_to(self.vec_normalize)  # the first observations too
        self.obs: Any = self.env.reset()
        self.policy.set_training_mode(False)
        # Looked up once: `policy.device` and `parameters()` walk the module tree at every call.
        self.device = policy.device
        self.parameters = list(policy.parameters())
        self.normalizes_obs = any(isinstance(module, NormalizedFlattenExtractor) for module in normalizers(policy))
        self.return_normalizer = return_normalizer(policy)
        #: Discounted return of each env's episode so far, for the return statistics (with ``normalize_reward``).
        self.discounted_returns = np.zeros(self.env.num_envs, dtype=np.float64)
        #: Raw discounted return of each env's episode so far, as ``VecNormalize`` keeps it (with its ``gamma``).
        self.raw_returns = np.zeros(self.env.num_envs, dtype=np.float64)
        #: What the last rollout adds to the shared normalizers (with ``normalize_obs`` or ``normalize_reward``, or a
        #: ``VecNormalize`` env whose ``training`` flag is set), or None.
        self.rollout_stats: RolloutStats | None = None
        skip_distribution_checks()

    def close(self) -> None:
        """Close the worker's environments."""
        self.env.close()

    @property
    def rollout_steps(self) -> int:
        """Env steps of one rollout (what a worker claims from the budget before running it)."""
        return self.config.n_steps * self.env.num_envs

    def learning_rate(self, steps_done: int) -> float:
        """Learning rate once all workers together have taken ``steps_done`` env steps."""
        return float(self.config.lr_schedule(remaining_progress(steps_done, self.config.total_timesteps)))

    def compute_gradients(self) -> Report:
        """
        Run one n-step rollout with the current local weights and leave the loss gradients in ``policy``'s ``.grad``.

        :return: The rollout's steps, finished episodes and losses (with ``updates=1``).
        """
        cfg, policy, env, device = self.config, self.policy, self.env, self.device
        report = Report(updates=1)
        observations, actions, rewards, dones, values, seen_returns = [], [], [], [], [], []
        vec_normalize, env_statistics = self.vec_normalize, self.env_statistics
        if vec_normalize is not None and env_statistics is not None:
            env_statistics.copy_to(vec_normalize)
        updates_env_stats = vec_normalize is not None and env_statistics is not None and env_statistics.updates_stats
        raw_observations: list[Any] = []
        raw_returns: list[np.ndarray] = []

        # 1. Rollout: n_steps steps of every env, without gradients.
        for step in range(cfg.n_steps):
            with th.no_grad():
                if policy.use_sde and (step == 0 or (cfg.sde_sample_freq > 0 and step % cfg.sde_sample_freq == 0)):
                    policy.reset_noise(env.num_envs)
                action, value = sample_action(policy, obs_as_tensor(self.obs, device))
            env_action = action.cpu().numpy()
            if isinstance(policy.action_space, spaces.Box):
                if policy.squash_output:
                    env_action = policy.unscale_action(env_action)
                else:
                    # The Gaussian is unbounded; the env only sees the clipped action, the loss the sampled one.
                    env_action = np.clip(env_action, policy.action_space.low, policy.action_space.high)
            next_obs, reward, done, infos = env.step(env_action)
            if updates_env_stats:
                assert vec_normalize is not None
                # What VecNormalize(training=True) would have merged into its statistics at this step.
                raw_observations.append(vec_normalize.get_original_obs())
                self.raw_returns = self.raw_returns * vec_normalize.gamma + vec_normalize.get_original_reward()
                raw_returns.append(self.raw_returns.copy())
                self.raw_returns[done] = 0.0
            reward = reward.astype(np.float32) * np.float32(cfg.reward_scale)
            if self.return_normalizer is not None:
                self.discounted_returns = self.discounted_returns * cfg.gamma + reward
                seen_returns.append(self.discounted_returns.copy())
                self.discounted_returns[done] = 0.0
                reward = self.return_normalizer.normalize(reward)
            self._bootstrap_truncated(reward, done, infos)
            for index in np.flatnonzero(done):
                if "episode" in infos[index]:
                    report.episodes.append(infos[index]["episode"])
                if "is_success" in infos[index]:
                    report.successes.append(bool(infos[index]["is_success"]))
            observations.append(self.obs)
            actions.append(action)
            rewards.append(reward)
            dones.append(done)
            values.append(value.flatten())
            self.obs = next_obs
        report.steps = cfg.n_steps * env.num_envs

        # 2. Returns: n-step returns bootstrapped from V(s_{t+n}), cut at episode ends (GAE when gae_lambda < 1).
        with th.no_grad():
            next_value = policy.predict_values(obs_as_tensor(self.obs, device)).flatten()
        values_t = th.stack(values)
        not_done = 1.0 - th.as_tensor(np.stack(dones), dtype=th.float32)
        rewards_t = th.as_tensor(np.stack(rewards))
        advantages = th.zeros_like(values_t)
        running = th.zeros_like(next_value)
        for t in reversed(range(cfg.n_steps)):
            delta = rewards_t[t] + cfg.gamma * next_value * not_done[t] - values_t[t]
            running = delta + cfg.gamma * cfg.gae_lambda * not_done[t] * running
            advantages[t] = running
            next_value = values_t[t]
        returns = (advantages + values_t).flatten()
        advantages = advantages.flatten()

        # 3. Loss of the whole rollout as one batch, with gradients.
        batch_actions = th.cat(actions)
        if isinstance(policy.action_space, spaces.Discrete):
            batch_actions = batch_actions.long().flatten()
        elif isinstance(policy.action_space, spaces.Box):
            # The distribution's log_prob takes flat actions; a multi-dimensional Box was reshaped for the env.
            batch_actions = batch_actions.reshape(len(batch_actions), -1)
        batch_obs = _stack_obs(observations, device)
        # None unless this rollout adds to statistics: a frozen VecNormalize must not get the last rollout's again.
        self.rollout_stats = None
        if self.normalizes_obs or self.return_normalizer is not None or updates_env_stats:
            self.rollout_stats = RolloutStats(
                # A Box space (normalize_obs refuses others): the batch is one tensor.
                observations=Moments.of(batch_obs.cpu().numpy()) if self.normalizes_obs else None,  # type: ignore[union-attr]
                returns=Moments.of(np.concatenate(seen_returns)) if seen_returns else None,
            )
            if updates_env_stats:
                assert vec_normalize is not None and env_statistics is not None
                self.rollout_stats.env_observations = _raw_moments(raw_observations, env_statistics.keys)
                # As VecNormalize(training=True), whether or not it normalizes rewards.
                self.rollout_stats.env_returns = Moments.of(np.concatenate(raw_returns))
        policy.set_training_mode(True)  # as SB3's train(): dropout is on for the loss, off in rollouts
        value_pred, log_prob, entropy = evaluate_actions(policy, batch_obs, batch_actions)
        policy.set_training_mode(False)
        if cfg.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        policy_loss = -(advantages * log_prob).mean()
        value_loss = F.mse_loss(returns, value_pred.flatten())
        # Without a closed-form entropy (e.g. squashed Gaussian), -log_prob estimates it.
        entropy_loss = -th.mean(-log_prob) if entropy is None else -th.mean(entropy)
        loss = policy_loss + cfg.ent_coef * entropy_loss + cfg.vf_coef * value_loss

        # 4. Gradients, clipped, left in the local parameters for the backend to apply to the shared model.
        for param in self.parameters:
            param.grad = None
        loss.backward()
        th.nn.utils.clip_grad_norm_(self.parameters, cfg.max_grad_norm)
        report.losses = {
            "policy_loss": policy_loss.item(),
            "value_loss": value_loss.item(),
            "entropy_loss": entropy_loss.item(),
            "explained_variance": float(explained_variance(values_t.flatten().cpu().numpy(), returns.cpu().numpy())),
        }
        # Checked on the floats logged anyway (no extra transfer); the gradients reach the shared weights only after
        # this returns, so a NaN loss never does.
        if not all(math.isfinite(report.losses[key]) for key in ("policy_loss", "value_loss", "entropy_loss")):
            raise DivergenceError("A3C's loss is NaN or inf")
        return report

    def _bootstrap_truncated(self, reward: np.ndarray, done: np.ndarray, infos: list[dict[str, Any]]) -> None:
        """Add gamma * V(last obs) to the reward of episodes cut by a time limit: they did not really end."""
        truncated = [
            index
            for index in np.flatnonzero(done)
            if infos[index].get("TimeLimit.truncated", False) and infos[index].get("terminal_observation") is not None
        ]
        if not truncated:
            return
        terminal_obs = _stack_obs([infos[index]["terminal_observation"] for index in truncated], self.device, single=True)
        with th.no_grad():
            terminal_values = self.policy.predict_values(terminal_obs).flatten().cpu().numpy()
        reward[truncated] += self.config.gamma * terminal_values


def _raw_moments(raw_observations: list[Any], keys: list[str]) -> dict[str, Moments]:
    """Moments of a rollout's raw observations (batches), by normalized key (``""``: a Box space)."""
    if not keys:
        return {}
    if isinstance(raw_observations[0], dict):
        return {key: Moments.of(np.concatenate([obs[key] for obs in raw_observations])) for key in keys}
    return {"": Moments.of(np.concatenate(raw_observations))}


def _stack_obs(observations: list[Any], device: th.device, single: bool = False) -> th.Tensor | dict[str, th.Tensor]:
    """
    Join (dict) observations into one batch tensor (dict of tensors).

    :param observations: Batches of observations (``single=False``) or single observations (``single=True``).
    :param device: Torch device of the result.
    :param single: Whether each element is one observation rather than a batch.
    """
    join = np.stack if single else np.concatenate
    if isinstance(observations[0], dict):
        return {key: th.as_tensor(join([obs[key] for obs in observations])).to(device) for key in observations[0]}
    return th.as_tensor(join(observations)).to(device)

"""REINFORCE: Monte-Carlo policy gradient (Williams, 1992), with an optional learned baseline."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import explained_variance, obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv
from torch.nn import functional as F

from pgzoo.common.errors import check_finite_loss
from pgzoo.common.utils import ProgressStopsAtZero, check_positive
from pgzoo.reinforce.buffers import EpisodeBuffer
from pgzoo.reinforce.policies import CnnPolicy, MlpPolicy, MultiInputPolicy, REINFORCEPolicy

SelfREINFORCE = TypeVar("SelfREINFORCE", bound="REINFORCE")

SUPPORTED_ACTION_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def discounted_returns(rewards: np.ndarray, dones: np.ndarray, gamma: float) -> np.ndarray:
    """
    Discounted reward-to-go of every step within its own episode.

    :param rewards: Rewards, shape ``(n_steps, n_envs)``, consecutive steps of each environment
    :param dones: Whether the episode ended at that step, same shape
    :param gamma: Discount factor
    :return: ``G_t = r_t + gamma * G_{t+1}``, restarting at every episode end; same shape
    """
    returns = np.zeros_like(rewards, dtype=np.float32)
    next_return = np.zeros(rewards.shape[1], dtype=np.float32)
    for step in reversed(range(len(rewards))):
        next_return = rewards[step] + gamma * next_return * (1.0 - dones[step])
        returns[step] = next_return
    return returns


class REINFORCE(ProgressStopsAtZero, OnPolicyAlgorithm):
    """
    REINFORCE: Monte-Carlo policy gradient with an optional learned baseline.

    The policy gradient of each step uses the discounted return of the rest of *its own episode*,
    so updates are made from whole episodes only: the algorithm steps the environments until the
    episodes that have ended hold at least ``n_episodes`` episodes and ``n_steps`` steps, then makes
    one gradient step on all of them. Episodes still running on other environments are kept for the
    next update rather than cut (they are not terminal states). An episode cut by a time limit
    (``TimeLimit.truncated``) is bootstrapped with the baseline's value of its last observation;
    without a baseline it is treated as terminal.

    With ``use_baseline=True`` (the default) the advantage is ``G_t - V(s_t)`` and V is fitted to the
    returns with weight ``vf_coef``; with ``use_baseline=False`` there is no value network and the
    gradient uses ``G_t`` directly (normalized when ``normalize_advantage`` is set).

    Episodes must end: an episode that runs past :attr:`max_episode_length` steps (100k by default; set the
    attribute on the model to allow longer ones) stops training with an error that suggests a ``TimeLimit``,
    instead of stepping (and storing the steps) forever.

    Paper: Williams (1992), "Simple statistical gradient-following algorithms for connectionist
    reinforcement learning"; Sutton & Barto (2018), section 13.4 for the baseline.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy, or a class)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate, a constant or a function of the remaining progress (from 1 to 0)
    :param n_episodes: Minimum number of ended episodes per update (``None``: no minimum)
    :param n_steps: Minimum number of steps in the ended episodes per update, summed over all
        environments (``None``: no minimum). At least one of ``n_episodes`` and ``n_steps`` is needed.
    :param gamma: Discount factor
    :param use_baseline: Whether to learn the state value V(s) and subtract it from the returns
    :param normalize_advantage: Whether to normalize the advantages (or returns, without baseline) of each batch
    :param ent_coef: Entropy coefficient of the loss
    :param vf_coef: Value-function coefficient of the loss (only used with a baseline)
    :param max_grad_norm: The maximum value for gradient clipping
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: The log location for tensorboard (if None, no logging)
    :param policy_kwargs: Additional arguments to be passed to the policy on creation
    :param verbose: Verbosity level: 0 for no output, 1 for info messages, 2 for debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run
    :param monitor_wrapper: Whether to wrap the environment in a ``Monitor`` when it is created by the algorithm
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    policy: REINFORCEPolicy
    rollout_buffer: EpisodeBuffer  # type: ignore[assignment]
    #: Longest episode REINFORCE waits for before it concludes that the env's episodes never end.
    max_episode_length: int = 100_000

    def __init__(
        self,
        policy: str | type[REINFORCEPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-3,
        n_episodes: int | None = 4,
        n_steps: int | None = None,
        gamma: float = 0.99,
        use_baseline: bool = True,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        monitor_wrapper: bool = True,
        _init_setup_model: bool = True,
    ):
        if n_episodes is None and n_steps is None:
            raise ValueError("REINFORCE needs `n_episodes` or `n_steps` (or both) to know when to update")
        check_positive("n_episodes", n_episodes, allow_none=True)
        check_positive("n_steps", n_steps, allow_none=True)
        check_positive("max_grad_norm", max_grad_norm)
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"`gamma` must be in [0, 1], got {gamma!r}")

        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps or 0,
            gamma=gamma,
            gae_lambda=1.0,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=False,
            sde_sample_freq=-1,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            monitor_wrapper=monitor_wrapper,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=False,
        )
        # Without an env (as in ``load``) the spaces come later, from a model that passed this check when it was made.
        if env is not None and not isinstance(self.action_space, SUPPORTED_ACTION_SPACES):
            supported = ", ".join(space.__name__ for space in SUPPORTED_ACTION_SPACES)
            raise ValueError(f"REINFORCE does not support the action space {self.action_space}; supported: {supported}")

        self.n_episodes = n_episodes
        self.n_steps = n_steps  # type: ignore[assignment]
        self.use_baseline = use_baseline
        self.normalize_advantage = normalize_advantage

        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        self.rollout_buffer = EpisodeBuffer(self.n_envs, self.n_episodes, self.n_steps)
        if isinstance(self.policy_class, type) and issubclass(self.policy_class, REINFORCEPolicy):
            self.policy_kwargs["use_baseline"] = self.use_baseline
        elif not self.use_baseline:
            raise ValueError(f"use_baseline=False needs a REINFORCEPolicy, got the policy class {self.policy_class}")
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space, self.action_space, self.lr_schedule, **self.policy_kwargs
        )
        self.policy = self.policy.to(self.device)

    def _setup_learn(self, total_timesteps: int, *args: Any, **kwargs: Any) -> tuple[int, BaseCallback]:
        last_obs = self._last_obs
        result = super()._setup_learn(total_timesteps, *args, **kwargs)
        if self._last_obs is not last_obs:
            # The environments were reset: the episodes in progress are gone.
            self.rollout_buffer.reset()
        return result

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: RolloutBuffer,
        n_rollout_steps: int,
    ) -> bool:
        """
        Step the environments with the current policy until enough whole episodes have ended.

        :param env: The training environment
        :param callback: Callback called at every step
        :param rollout_buffer: Unused, the episodes go to ``self.rollout_buffer`` (kept for SB3's signature)
        :param n_rollout_steps: Unused (kept for SB3's signature): see ``n_episodes`` and ``n_steps``
        :return: True if the function returned with enough episodes, False if the callback stopped training.
        """
        assert self._last_obs is not None, "No previous observation was provided"
        self.policy.set_training_mode(False)
        episodes = self.rollout_buffer
        callback.on_rollout_start()

        while not episodes.is_ready():
            with th.no_grad():
                actions = self.policy._predict(obs_as_tensor(self._last_obs, self.device)).cpu().numpy()  # type: ignore[arg-type]
            # The episodes keep the distribution's flat actions (what evaluate_actions takes); the env gets them
            # in its action space's shape, which differs for a multi-dimensional Box.
            clipped_actions = actions.reshape((-1, *self.action_space.shape))  # type: ignore[arg-type, misc]
            if isinstance(self.action_space, spaces.Box):
                clipped_actions = np.clip(clipped_actions, self.action_space.low, self.action_space.high)

            new_obs, rewards, dones, infos = env.step(clipped_actions)
            self.num_timesteps += env.num_envs

            callback.update_locals(locals())
            if not callback.on_step():
                return False
            self._update_info_buffer(infos, dones)

            if self.use_baseline:
                self._bootstrap_truncated(rewards, dones, infos)
            episodes.add(self._last_obs, actions, rewards, dones)  # type: ignore[arg-type]
            if episodes.running_length.max() > self.max_episode_length:
                raise RuntimeError(
                    f"REINFORCE learns from whole episodes, but an episode has run {self.max_episode_length} steps "
                    "without ending: wrap the env in gymnasium.wrappers.TimeLimit (or, if its episodes really are "
                    "longer, set `model.max_episode_length` higher)"
                )
            self._last_obs = new_obs  # type: ignore[assignment]
            self._last_episode_starts = dones

        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    def _bootstrap_truncated(self, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]]) -> None:
        """Add ``gamma * V(s_last)`` to the last reward of episodes cut by a time limit (they did not terminate)."""
        for env_index in np.flatnonzero(dones):
            info = infos[env_index]
            if info.get("TimeLimit.truncated", False) and info.get("terminal_observation") is not None:
                terminal_obs = self.policy.obs_to_tensor(info["terminal_observation"])[0]
                with th.no_grad():
                    rewards[env_index] += self.gamma * self.policy.predict_values(terminal_obs).item()

    def train(self) -> None:
        """One policy-gradient step on the episodes collected since the last update."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)

        batch = self.rollout_buffer.pop_finished()
        returns = discounted_returns(batch.rewards, batch.dones, self.gamma)[batch.finished]
        observations = obs_as_tensor(
            {key: obs[batch.finished] for key, obs in batch.observations.items()}
            if isinstance(batch.observations, dict)
            else batch.observations[batch.finished],
            self.device,
        )
        actions = th.as_tensor(batch.actions[batch.finished], device=self.device)
        if isinstance(self.action_space, spaces.Discrete):
            actions = actions.long().flatten()
        returns_tensor = th.as_tensor(returns, device=self.device)

        values, log_prob, entropy = self.policy.evaluate_actions(observations, actions)  # type: ignore[arg-type]
        values = values.flatten()
        advantages = returns_tensor - values.detach() if self.use_baseline else returns_tensor
        if self.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)

        policy_loss = -(advantages * log_prob).mean()
        # Entropy bonus: -E[log pi] when the distribution has no closed-form entropy.
        entropy_loss = -th.mean(-log_prob) if entropy is None else -th.mean(entropy)
        value_loss = F.mse_loss(values, returns_tensor) if self.use_baseline else th.zeros((), device=self.device)
        loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss

        check_finite_loss(loss, "REINFORCE's loss")
        self.policy.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
        self.policy.optimizer.step()
        self._n_updates += 1

        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/batch_steps", len(returns))
        self.logger.record("train/policy_loss", policy_loss.item())
        self.logger.record("train/entropy_loss", entropy_loss.item())
        self.logger.record("train/loss", loss.item())
        if self.use_baseline:
            self.logger.record("train/value_loss", value_loss.item())
            self.logger.record("train/explained_variance", explained_variance(values.detach().cpu().numpy(), returns))
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())

    def learn(
        self: SelfREINFORCE,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "REINFORCE",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfREINFORCE:
        """
        Train the policy for (at least) ``total_timesteps`` environment steps.

        Updates happen on whole episodes, so training may run a few steps past ``total_timesteps``
        to finish the episodes of the last update.

        :param total_timesteps: Number of environment steps to train for (summed over environments)
        :param callback: Callback(s) called at every step
        :param log_interval: Number of updates between two logger dumps
        :param tb_log_name: Name of the run for tensorboard logging
        :param reset_num_timesteps: Whether to reset the step counter (False continues a previous run)
        :param progress_bar: Display a progress bar using tqdm and rich
        :return: The trained model
        """
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )

"""Deep deterministic policy gradient (Silver et al. 2014; Lillicrap et al. 2015) on SB3's off-policy machinery."""

from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import FloatSchedule, get_parameters_by_name
from torch.nn import functional as F

from pgzoo.common.errors import DivergenceError
from pgzoo.common.utils import ProgressStopsAtZero, check_positive
from pgzoo.dpg.policies import (
    ACTOR_GROUP,
    CRITIC_GROUP,
    Actor,
    CnnPolicy,
    Critic,
    DPGPolicy,
    MlpPolicy,
    MultiInputPolicy,
    check_box_action_space,
)
from pgzoo.dpg.shortcuts import actor_actions, clear_grads, detached_critic_value, sample_batch, trail_targets

SelfDPG = TypeVar("SelfDPG", bound="DPG")


class DPG(ProgressStopsAtZero, OffPolicyAlgorithm):
    """
    Deep Deterministic Policy Gradient: an off-policy actor-critic with a deterministic actor.

    The critic Q(s, a) learns by temporal differences towards targets computed with slowly moving (Polyak-averaged)
    copies of actor and critic; the actor mu(s) ascends Q along grad_a Q(s, a) at a = mu(s), chained through
    grad_theta mu(s). Both gradients are taken on the same minibatch from the critic as it was before the update and
    applied by one optimizer step (``policy.optimizer``, one parameter group per network). Exploration comes from
    ``action_noise`` added to mu(s).

    Deterministic Policy Gradient Algorithms, Silver et al. 2014: https://proceedings.mlr.press/v32/silver14.html
    Continuous control with deep reinforcement learning, Lillicrap et al. 2015: https://arxiv.org/abs/1509.02971

    :param policy: Policy class or alias (``"MlpPolicy"``, ``"CnnPolicy"``, ``"MultiInputPolicy"``).
    :param env: Environment, or its Gymnasium id. Its action space must be a bounded ``Box``.
    :param learning_rate: Adam learning rate, a constant or a schedule of the remaining progress (1 to 0).
        Used by the actor, and by the critic unless ``critic_learning_rate`` is given.
    :param buffer_size: Capacity of the replay buffer, in transitions.
    :param learning_starts: Number of environment steps of uniformly random actions collected before learning starts.
    :param batch_size: Number of transitions sampled for each gradient step.
    :param tau: Polyak coefficient of the target networks: ``target <- (1 - tau) * target + tau * online``.
    :param gamma: Discount factor.
    :param train_freq: Update the model every ``train_freq`` steps, or pass a tuple such as ``(5, "step")``
        or ``(2, "episode")``.
    :param gradient_steps: Gradient steps after each rollout; ``-1`` does as many as environment steps collected.
    :param action_noise: Exploration noise added to the actor's actions in the [-1, 1] scale, e.g.
        ``NormalActionNoise`` or ``OrnsteinUhlenbeckActionNoise`` (see ``pgzoo.common.noise.make_action_noise``).
        Without it, exploration after ``learning_starts`` relies on the policy's own changes only.
    :param replay_buffer_class: Replay buffer class, e.g. ``HerReplayBuffer``; ``None`` picks ``ReplayBuffer``,
        ``DictReplayBuffer`` for Dict observations, or ``NStepReplayBuffer`` when ``n_steps > 1``.
    :param replay_buffer_kwargs: Keyword arguments for the replay buffer.
    :param optimize_memory_usage: Store each observation once in the replay buffer (halves its memory).
    :param n_steps: Length of the n-step returns used in the critic targets (1: one-step TD).
    :param critic_learning_rate: Separate learning rate (or schedule) for the critic; ``None``: the critic follows
        ``lr_schedule`` as the actor does (so a zero schedule freezes both). Given, only the critic's step size
        changes: it is applied to the critic's parameter group of the one optimizer step, the actor's gradient still
        comes from the critic as it was before that step, and ``train/critic_learning_rate`` is logged. Lillicrap
        et al. used 1e-3 for the critic and 1e-4 for the actor.
    :param stats_window_size: Number of episodes averaged in the rollout logs.
    :param tensorboard_log: Tensorboard log folder (``None``: no tensorboard).
    :param policy_kwargs: Keyword arguments for the policy, e.g. ``net_arch=dict(pi=[64, 64], qf=[400, 300])``.
    :param verbose: 0 silent, 1 info, 2 debug.
    :param seed: Seed of the random generators.
    :param device: Torch device (``"cpu"``, ``"cuda"``, ``"auto"``).
    :param _init_setup_model: Whether to build the networks and buffer at construction.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    policy: DPGPolicy
    actor: Actor
    actor_target: Actor
    critic: Critic
    critic_target: Critic

    def __init__(
        self,
        policy: str | type[DPGPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-3,
        buffer_size: int = 1_000_000,
        learning_starts: int = 100,
        batch_size: int = 256,
        tau: float = 0.005,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 1,
        gradient_steps: int = 1,
        action_noise: ActionNoise | None = None,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        n_steps: int = 1,
        critic_learning_rate: float | Schedule | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        if isinstance(getattr(env, "action_space", None), spaces.Space):
            check_box_action_space(env.action_space)  # type: ignore[union-attr]
        _check_hyperparameters(
            buffer_size=buffer_size,
            learning_starts=learning_starts,
            batch_size=batch_size,
            tau=tau,
            gamma=gamma,
            train_freq=train_freq,
            gradient_steps=gradient_steps,
            n_steps=n_steps,
            learning_rates={"learning_rate": learning_rate, "critic_learning_rate": critic_learning_rate},
        )
        super().__init__(
            policy,
            env,
            learning_rate,
            buffer_size,
            learning_starts,
            batch_size,
            tau,
            gamma,
            train_freq,
            gradient_steps,
            action_noise=action_noise,
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            optimize_memory_usage=optimize_memory_usage,
            n_steps=n_steps,
            policy_kwargs=policy_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            seed=seed,
            sde_support=False,
            support_multi_env=True,
        )
        # Environments given by id are only built by the base class: check them as soon as they exist.
        if env is not None:
            check_box_action_space(self.action_space)
        self.critic_learning_rate = critic_learning_rate

        if _init_setup_model:
            self._setup_model()

    def _setup_lr_schedule(self) -> None:
        super()._setup_lr_schedule()
        #: The critic's own schedule, or ``None``: it follows ``lr_schedule`` (read at every ``train()``, so setting
        #: ``model.lr_schedule`` changes both networks' rates, as it does SB3's DDPG's).
        self.critic_lr_schedule = None if self.critic_learning_rate is None else FloatSchedule(self.critic_learning_rate)

    def _setup_model(self) -> None:
        with warnings.catch_warnings():
            if _is_configured_n_step_buffer(self.replay_buffer_class, self.replay_buffer_kwargs, self.n_steps):
                # A loaded n-step model comes back with the buffer class and kwargs SB3 chose for it: SB3 then warns
                # that n_steps is ignored, although the kwargs carry it. Only that case is silenced.
                warnings.filterwarnings("ignore", message=r"`n_steps=\d+` is ignored", category=UserWarning)
            super()._setup_model()
        self.actor = self.policy.actor
        self.actor_target = self.policy.actor_target
        self.critic = self.policy.critic
        self.critic_target = self.policy.critic_target
        # Flat tensor lists, built once, so the Polyak update is a single fused call per gradient step.
        self._online_params: list[th.Tensor] = [*self.actor.parameters(), *self.critic.parameters()]
        self._target_params: list[th.Tensor] = [*self.actor_target.parameters(), *self.critic_target.parameters()]
        # Batch-norm statistics are not learnt by gradient: targets copy them as they are (tau = 1).
        self._online_stats = [
            *get_parameters_by_name(self.actor, ["running_"]),
            *get_parameters_by_name(self.critic, ["running_"]),
        ]
        self._target_stats = [
            *get_parameters_by_name(self.actor_target, ["running_"]),
            *get_parameters_by_name(self.critic_target, ["running_"]),
        ]

    def _sample_action(
        self,
        learning_starts: int,
        action_noise: ActionNoise | None = None,
        n_envs: int = 1,
    ) -> tuple[np.ndarray, np.ndarray]:
        """
        Choose the next actions: uniform during warm-up, then mu(s) plus exploration noise.

        :param learning_starts: Number of warm-up steps with uniformly random actions.
        :param action_noise: Exploration noise, added in the actor's [-1, 1] scale.
        :param n_envs: Number of environments.
        :return: The actions for the environment and their [-1, 1]-scaled version for the replay buffer.
        """
        if self.num_timesteps < learning_starts:
            return super()._sample_action(learning_starts, action_noise, n_envs)
        assert self._last_obs is not None, "self._last_obs was not set"
        # _last_obs comes from the (wrapped) training env, already batched and in the observation space's layout.
        action_shape: tuple[int, ...] = self.action_space.shape  # type: ignore[assignment]
        scaled_action = actor_actions(self.actor, self._last_obs, self.device).reshape((-1, *action_shape))
        if action_noise is not None:
            scaled_action = np.clip(scaled_action + action_noise(), -1, 1)
        return self.policy.unscale_action(scaled_action), scaled_action

    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        """
        Do ``gradient_steps`` updates of critic, actor and targets, each on a fresh minibatch from the replay buffer.

        :param gradient_steps: Number of gradient steps.
        :param batch_size: Number of transitions per minibatch.
        """
        assert self.replay_buffer is not None, "train() needs the replay buffer built by _setup_model()"
        self.policy.set_training_mode(True)
        actor_lr = self.lr_schedule(self._current_progress_remaining)
        critic_schedule = self.lr_schedule if self.critic_lr_schedule is None else self.critic_lr_schedule
        critic_lr = critic_schedule(self._current_progress_remaining)
        optimizer = self.policy.optimizer
        actor_group, critic_group = optimizer.param_groups[ACTOR_GROUP], optimizer.param_groups[CRITIC_GROUP]
        actor_group["lr"], critic_group["lr"] = actor_lr, critic_lr
        optimizer_params = [*actor_group["params"], *critic_group["params"]]

        critic_losses, actor_losses = [], []
        for _ in range(gradient_steps):
            batch = sample_batch(self.replay_buffer, batch_size, env=self._vec_normalize_env)
            # n-step buffers give each transition its own discount gamma ** k (k < n_steps where an episode ended).
            discounts = self.gamma if batch.discounts is None else batch.discounts

            # Critic: regress Q(s, a) on the TD target bootstrapped from the slowly moving target networks.
            with th.no_grad():
                next_q = self.critic_target(batch.next_observations, self.actor_target(batch.next_observations))
                target_q = batch.rewards + (1.0 - batch.dones) * discounts * next_q
            critic_loss = F.mse_loss(self.critic(batch.observations, batch.actions), target_q)

            # Actor: the deterministic policy gradient grad_a Q(s, a)|a=mu(s) * grad_theta mu(s), which autograd
            # chains for us. Both gradients come from the critic as it was before this step (as in OpenAI Baselines'
            # DDPG) so that one optimizer step applies them together. The critic's weights are detached here: the
            # actor loss does not reach them, so one backward pass gives each network the gradient of its own loss.
            actor_loss = -detached_critic_value(self.critic, batch.observations, self.actor(batch.observations)).mean()

            clear_grads(optimizer_params)
            (critic_loss + actor_loss).backward()
            optimizer.step()

            # Targets trail the online networks: target <- target + tau * (online - target).
            trail_targets(self._target_params, self._online_params, self.tau)
            if self._target_stats:
                with th.no_grad():
                    th._foreach_copy_(self._target_stats, self._online_stats)

            # Kept as tensors: converting each to a Python float would synchronise a GPU at every step.
            critic_losses.append(critic_loss.detach())
            actor_losses.append(actor_loss.detach())

        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/learning_rate", actor_lr)
        if self.critic_learning_rate is not None:
            self.logger.record("train/critic_learning_rate", critic_lr)
        if critic_losses:
            # Both means in one transfer; checked once per train() call: a NaN loss stays NaN in its mean.
            critic_loss_mean, actor_loss_mean = th.stack(critic_losses + actor_losses).view(2, -1).mean(dim=1).tolist()
            if not (math.isfinite(critic_loss_mean) and math.isfinite(actor_loss_mean)):
                raise DivergenceError("DPG's critic or actor loss is NaN or inf")
            self.logger.record("train/critic_loss", critic_loss_mean)
            self.logger.record("train/actor_loss", actor_loss_mean)

    def learn(
        self: SelfDPG,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "DPG",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfDPG:
        """
        Train the agent.

        :param total_timesteps: Number of environment steps to train for.
        :param callback: Callback(s) called at every step.
        :param log_interval: Log every ``log_interval`` episodes.
        :param tb_log_name: Name of the tensorboard run.
        :param reset_num_timesteps: Whether to restart the timestep count (``False`` continues a previous run).
        :param progress_bar: Whether to show a progress bar (needs tqdm and rich).
        :return: The trained model.
        """
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )

    def _excluded_save_params(self) -> list[str]:
        return [
            *super()._excluded_save_params(),
            "actor",
            "actor_target",
            "critic",
            "critic_target",
            "_online_params",
            "_target_params",
            "_online_stats",
            "_target_stats",
        ]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "policy.optimizer"], []


def _is_configured_n_step_buffer(buffer_class: type[ReplayBuffer] | None, buffer_kwargs: dict[str, Any], n_steps: int) -> bool:
    """
    Whether the replay buffer is an n-step one whose kwargs already give the model's ``n_steps``.

    :param buffer_class: The model's ``replay_buffer_class``.
    :param buffer_kwargs: The model's ``replay_buffer_kwargs``.
    :param n_steps: The model's ``n_steps``.
    :return: True for a model that SB3 set up with n-step returns (a loaded one), False otherwise.
    """
    return (
        buffer_class is not None
        and issubclass(buffer_class, NStepReplayBuffer)
        and n_steps > 1
        and buffer_kwargs.get("n_steps") == n_steps
    )


def _check_hyperparameters(
    *,
    buffer_size: int,
    learning_starts: int,
    batch_size: int,
    tau: float,
    gamma: float,
    train_freq: int | tuple[int, str],
    gradient_steps: int,
    n_steps: int,
    learning_rates: dict[str, float | Schedule | None],
) -> None:
    """Raise a ``ValueError`` naming the first hyperparameter outside its valid range."""
    check_positive("buffer_size", buffer_size)
    check_positive("batch_size", batch_size)
    check_positive("n_steps", n_steps)
    if isinstance(learning_starts, bool) or not learning_starts >= 0:
        raise ValueError(f"`learning_starts` must be >= 0, got {learning_starts!r}")
    # As in SB3, zeros are accepted where they mean something: tau=0 freezes the targets, gradient_steps=0 only
    # collects, a learning rate of 0 freezes the weights.
    if not 0.0 <= tau <= 1.0:
        raise ValueError(f"`tau` must be in [0, 1], got {tau!r}")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"`gamma` must be in [0, 1], got {gamma!r}")
    if isinstance(gradient_steps, bool) or not gradient_steps >= -1:
        raise ValueError(f"`gradient_steps` must be >= 0, or -1 for as many as env steps collected, got {gradient_steps!r}")
    check_positive("train_freq", train_freq[0] if isinstance(train_freq, tuple) else train_freq)
    for name, rate in learning_rates.items():
        if (rate is None and name != "learning_rate") or callable(rate):
            continue
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate >= 0:
            raise ValueError(f"`{name}` must be a number >= 0 or a schedule, got {rate!r}")

"""Asynchronous Advantage Actor-Critic (A3C), Mnih et al. 2016, https://arxiv.org/abs/1602.01783."""

from __future__ import annotations

import collections
import contextlib
import io
import pathlib
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import unwrap_wrapper
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize, unwrap_vec_wrapper

from pgzoo.a3c.envs import EnvSource, check_sendable, env_source
from pgzoo.a3c.learner import LearnerConfig, Report
from pgzoo.a3c.local import LocalRunner, default_start_method
from pgzoo.a3c.normalization import NormalizedFlattenExtractor, ReturnNormalizer, VecNormalizeStatistics
from pgzoo.a3c.policies import CnnPolicy, MlpPolicy, MultiInputPolicy, ReturnNormalizing
from pgzoo.a3c.runner import Runner
from pgzoo.a3c.shared_optim import SharedAdam, SharedRMSprop, _SharedStateMixin
from pgzoo.common.utils import ProgressStopsAtZero, available_cores, check_positive, sigterm_raises

SelfA3C = TypeVar("SelfA3C", bound="A3C")

BACKENDS = ("local", "ray")


class A3C(ProgressStopsAtZero, OnPolicyAlgorithm):
    """
    Asynchronous Advantage Actor-Critic (A3C).

    ``n_workers`` actor-learners each step their own copy of the environment (a small ``DummyVecEnv`` of
    ``n_envs_per_worker`` envs), compute the advantage actor-critic loss of an ``n_steps`` rollout and apply its
    gradients to one shared model, asynchronously and without locks (Hogwild), with shared optimizer statistics.
    The main process's ``policy`` gets the shared model's latest weights whenever workers report, and doesn't change
    in between, so ``predict``, ``save``, ``EvalCallback`` and friends use the weights the workers are training, as
    one model: an evaluation plays every episode with the same weights (and ``EvalCallback`` saves as best model the
    weights it evaluated), not with weights that change under it. After ``learn()`` it holds the final weights and
    optimizer state. Changes made to it during ``learn()`` are overwritten at the next report.

    Callbacks run in the main process: ``on_step()`` is called once per ``n_envs_per_worker`` env steps of any worker
    (one step of one worker's VecEnv), in bursts as the workers report (every ``report_interval`` seconds), so an
    ``eval_freq`` of ``k`` calls means about ``k * n_envs_per_worker`` env steps. ``num_timesteps`` counts the env
    steps of all workers; a callback returning False stops every worker after its current update. A callback's
    ``self.locals`` holds ``dones`` and ``infos`` as a VecEnv of ``n_envs_per_worker`` envs would give them: the
    episodes the workers finished, each ending at one of these calls with its ``Monitor`` info under ``"episode"``
    (``StopTrainingOnMaxEpisodes`` counts them). Per-step ``rewards``, ``actions`` and observations stay in the workers.

    Runs with more than one worker are not bit-reproducible (their interleaving depends on the OS scheduler); a
    seeded run with ``n_workers=1`` is. In the first ``learn()`` call, worker ``rank`` is seeded with
    ``seed * n_workers + rank`` and its envs with consecutive seeds from ``(seed * n_workers + rank) *
    n_envs_per_worker``; later calls replace ``seed`` with ``seed`` plus the number of updates done so far, so that
    training in chunks doesn't replay the same episodes.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy, or an ActorCriticPolicy class).
    :param env: The environment: an env id, a picklable callable returning a ``gymnasium.Env`` (wrappers applied
        inside), or a ``gymnasium.Env`` / ``VecEnv`` (``DummyVecEnv`` or ``SubprocVecEnv``) whose envs workers can
        rebuild from their spec (``gym.make``, ``make_vec_env`` with an id; wrappers that record their arguments),
        possibly wrapped in ``VecFrameStack``, ``VecTransposeImage`` and ``VecNormalize``, which every worker applies
        again around its own envs. A ``VecNormalize`` normalizes with statistics shared by all workers and synced
        into the given wrapper whenever they report (see :mod:`pgzoo.a3c.normalization`); its ``training`` flag
        reaches the workers (at the start of ``learn()`` and whenever they report). An env that can't be rebuilt is
        refused here with an error saying what to pass. The main process keeps a copy of it for spaces and
        evaluation only. If that copy is a ``DummyVecEnv`` whose
        envs write monitor files (``make_vec_env(..., monitor_dir=...)``), the workers' training episodes are
        written to those files.
    :param learning_rate: Learning rate, constant or a function of the remaining progress (1 to 0), computed in the
        workers from the steps of all workers.
    :param n_steps: Steps of each env per rollout and update (the paper's t_max).
    :param gamma: Discount factor.
    :param gae_lambda: Generalized Advantage Estimation lambda; 1.0 (default) gives the paper's n-step returns.
    :param ent_coef: Entropy bonus coefficient.
    :param vf_coef: Value loss coefficient.
    :param max_grad_norm: Maximum norm of each worker's gradient (clipped before it is applied).
    :param rms_prop_eps: Epsilon of the shared RMSProp.
    :param use_rms_prop: Whether to use shared RMSProp (as in the paper) or, if False, shared Adam. Ignored when
        ``policy_kwargs`` names an ``optimizer_class``.
    :param normalize_advantage: Whether to normalize the advantages of each rollout.
    :param reward_scale: Factor applied to rewards in the workers' loss (returns and values are learned in these
        units), a fixed alternative to ``normalize_reward``; e.g. 0.1 on Pendulum-v1, whose rewards reach -16 per
        step. Logged episode rewards are unscaled.
    :param normalize_obs: Normalize observations with running mean and variance shared by all workers (what
        ``VecNormalize(norm_obs=True)`` does, with the statistics in the model instead of the env). They are part of
        the policy (its features extractor, :class:`~pgzoo.a3c.normalization.NormalizedFlattenExtractor`), so
        ``predict``, ``save`` and ``load`` apply them. Needs a non-image Box observation space.
    :param normalize_reward: Divide the rewards the loss sees by the standard deviation of the envs' discounted
        returns (with ``gamma``) and clip them to [-10, 10], with running statistics shared by all workers (what
        ``VecNormalize(norm_reward=True)`` does). The statistics are buffers of a
        :class:`~pgzoo.a3c.normalization.ReturnNormalizer` submodule of the policy, saved and loaded with it.
    :param use_sde: Whether to explore with generalized State Dependent Exploration (gSDE) instead of independent
        Gaussian noise at each step (Box action spaces); each worker draws its own noise matrices.
    :param sde_sample_freq: With ``use_sde``: draw new noise matrices every ``sde_sample_freq`` steps of a rollout
        (-1: only at the start of each rollout).
    :param n_workers: Number of actor-learners (default: the number of available cores; more workers than cores
        only adds contention). A model saved with the default takes the cores of the machine that loads it.
    :param n_envs_per_worker: Env copies stepped together by each worker (default: the number of envs of a VecEnv
        passed as ``env``, else 1). Batching a few envs per worker cuts Python overhead per step a lot.
    :param backend: ``"local"`` (worker processes on this machine, parameters in shared memory) or ``"ray"`` (Ray
        actors exchanging gradients and weights with a parameter-server actor; needs the ``ray`` extra).
    :param ray_address: With ``backend="ray"``: address of the Ray cluster to join, or None to use the Ray instance
        already initialized in this process or else start a local one.
    :param start_method: With ``backend="local"``: ``"forkserver"`` (default where available) or ``"spawn"``.
    :param env_kwargs: Keyword arguments for the env constructor (with an env id or a callable ``env``).
    :param report_interval: Seconds between a worker's progress reports to the main process (local backend). The
        main process's step count, callbacks and copy of the weights lag the workers by about this much: an
        evaluation every ``k`` steps evaluates the weights of a few updates later.
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over.
    :param tensorboard_log: The log location for tensorboard (if None, no logging).
    :param policy_kwargs: Additional arguments to be passed to the policy on creation.
    :param verbose: Verbosity level: 0 for no output, 1 for info messages, 2 for debug messages.
    :param seed: Seed for the pseudo random generators (see above for workers).
    :param device: Torch device; only ``"cpu"`` (or ``"auto"`` resolving to it) is supported, since the shared model
        lives in shared CPU memory.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    # Callbacks (an evaluation, say) run in the main process while the workers keep training: time spent in them
    # is not time taken from training, which timing code (pgzoo.common.benchmark) needs to know.
    trains_during_evaluation: ClassVar[bool] = True
    policy: ActorCriticPolicy

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str | Callable[..., gym.Env] | None,
        learning_rate: float | Schedule = 7e-4,
        n_steps: int = 5,
        gamma: float = 0.99,
        gae_lambda: float = 1.0,
        ent_coef: float = 0.01,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        rms_prop_eps: float = 1e-5,
        use_rms_prop: bool = True,
        normalize_advantage: bool = False,
        reward_scale: float = 1.0,
        normalize_obs: bool = False,
        normalize_reward: bool = False,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        n_workers: int | None = None,
        n_envs_per_worker: int | None = None,
        backend: str = "local",
        ray_address: str | None = None,
        start_method: str | None = None,
        env_kwargs: dict[str, Any] | None = None,
        report_interval: float = 0.01,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "cpu",
        _init_setup_model: bool = True,
    ):
        check_positive("n_workers", n_workers, allow_none=True)
        check_positive("n_envs_per_worker", n_envs_per_worker, allow_none=True)
        check_positive("n_steps", n_steps)
        check_positive("report_interval", report_interval)
        check_positive("reward_scale", reward_scale)
        if backend not in BACKENDS:
            raise ValueError(f"Unknown `backend` {backend!r}: use one of {BACKENDS}")
        if start_method is not None and start_method not in ("forkserver", "spawn"):
            raise ValueError(
                f"`start_method` must be 'forkserver' or 'spawn' (fork deadlocks with torch), got {start_method!r}"
            )
        # "auto" picks a GPU when there is one; A3C still runs on the CPU then.
        if device != "auto" and th.device(device).type != "cpu":
            raise ValueError(
                f"A3C keeps its shared model in shared CPU memory and only runs on the CPU, got device={device!r}"
            )
        self.n_workers = n_workers or available_cores()
        #: Whether ``n_workers`` follows the cores of the machine the model is on (it is then not saved, so a model
        #: trained on a large machine and loaded on a small one starts the small one's count).
        self._workers_per_core = n_workers is None
        self.backend = backend
        self.ray_address = ray_address
        self.start_method = start_method or default_start_method()
        self.env_kwargs = env_kwargs
        self.report_interval = report_interval
        self.rms_prop_eps = rms_prop_eps
        self.use_rms_prop = use_rms_prop
        self.normalize_advantage = normalize_advantage
        self.reward_scale = reward_scale
        self.normalize_obs = normalize_obs
        self.normalize_reward = normalize_reward
        self._env_source: EnvSource | None = None

        if env is not None:
            if n_envs_per_worker is None:
                n_envs_per_worker = env.num_envs if isinstance(env, VecEnv) else 1
            elif isinstance(env, VecEnv) and env.num_envs != n_envs_per_worker:
                raise ValueError(
                    f"`n_envs_per_worker`={n_envs_per_worker} differs from the {env.num_envs} envs of the VecEnv passed as "
                    "`env`; the main process keeps one worker's worth of envs, so make them equal (or pass an env id)."
                )
            self._env_source = env_source(env, env_kwargs, n_envs_per_worker)
            _check_one_normalization(self._env_source, normalize_obs, normalize_reward)
            # The main process keeps one worker's worth of envs (callbacks get their dones and infos): built from the
            # recipe unless the user's VecEnv already is that, or a single env instance is all that's asked for.
            if not isinstance(env, VecEnv) and (not isinstance(env, gym.Env) or n_envs_per_worker > 1):
                env = self._env_source.make(seed)
        self.n_envs_per_worker = n_envs_per_worker or 1

        policy_kwargs = dict(policy_kwargs or {})
        if normalize_obs:
            if "features_extractor_class" in policy_kwargs:
                raise ValueError(
                    "normalize_obs=True sets the policy's features extractor: leave features_extractor_class out of "
                    "policy_kwargs (or normalize inside your own extractor)"
                )
            policy_kwargs["features_extractor_class"] = NormalizedFlattenExtractor
        if "optimizer_class" not in policy_kwargs:
            if use_rms_prop:
                policy_kwargs["optimizer_class"] = SharedRMSprop
                policy_kwargs["optimizer_kwargs"] = dict(alpha=0.99, eps=rms_prop_eps, weight_decay=0)
            else:
                policy_kwargs["optimizer_class"] = SharedAdam

        super().__init__(
            policy,
            env,  # type: ignore[arg-type]
            learning_rate=learning_rate,
            n_steps=n_steps,
            gamma=gamma,
            gae_lambda=gae_lambda,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            device="cpu",
            seed=seed,
            _init_setup_model=False,
            supported_action_spaces=(spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary),
        )
        self._n_updates = 0
        self.worker_pids: list[int] = []
        self._runner: Runner | None = None
        self._env_normalization: tuple[VecNormalize, VecNormalizeStatistics] | None = None
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        # No rollout buffer: each worker keeps its own rollout.
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        policy_kwargs = dict(self.policy_kwargs)
        builds_normalizer = isinstance(self.policy_class, type) and issubclass(self.policy_class, ReturnNormalizing)
        if self.normalize_reward and builds_normalizer:
            policy_kwargs["normalize_reward"] = True
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space, self.action_space, self.lr_schedule, use_sde=self.use_sde, **policy_kwargs
        )
        if self.normalize_reward and not builds_normalizer:
            # A policy class of the user's (or of a model saved by an older pgzoo): the statistics still go in a
            # submodule, shared, synced, saved and loaded like the weights.
            self.policy.return_normalizer = ReturnNormalizer()
        self.policy = self.policy.to(self.device)
        if self.env is not None:
            self.n_envs_per_worker = self.env.num_envs

    def _excluded_save_params(self) -> list[str]:
        # The env recipe may hold user functions; it is rebuilt from the env given to `load()` / `set_env()`.
        excluded = [
            *super()._excluded_save_params(),
            "_env_source",
            "worker_pids",
            "_runner",
            "_monitor_files",
            "_pending_episodes",
            "_env_normalization",
        ]
        return [*excluded, "n_workers"] if self._workers_per_core else excluded

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfA3C],
        path: str | pathlib.Path | io.BufferedIOBase,
        env: GymEnv | None = None,
        device: th.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        **kwargs: Any,
    ) -> SelfA3C:
        """
        Load a model saved with :meth:`save`, as SB3's ``load`` does.

        :param path: File (or file-like object) to load from.
        :param env: The env to train or predict with (``None``: set one later with ``set_env``).
        :param device: Torch device; A3C runs on the CPU.
        :param custom_objects: Saved attributes to replace instead of unpickling them.
        :param print_system_info: Print the system info of the saving and the loading machine.
        :param force_reset: Reset the env before the next ``learn()``.
        :param kwargs: Attributes to change on the loaded model. ``n_workers=k`` fixes the worker count from now on
            (the next ``save`` keeps it); ``n_workers=None`` makes it follow the cores of the machine again.
        :return: The loaded model.
        """
        if "n_workers" in kwargs:
            n_workers = kwargs["n_workers"]
            check_positive("n_workers", n_workers, allow_none=True)
            kwargs.update(n_workers=n_workers or available_cores(), _workers_per_core=n_workers is None)
        return super().load(  # type: ignore[return-value]
            path, env, device, custom_objects, print_system_info, force_reset, **kwargs
        )

    def save(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        """
        Save the model; called during ``learn()`` (by a callback), with the workers' latest weights and optimizer
        state, which on the Ray backend live in the parameter server.

        :param path: File (or file-like object) to save to.
        :param exclude: Names of attributes to leave out, on top of the defaults.
        :param include: Names of attributes to save that are left out by default.
        """
        if self._runner is not None:
            self._runner.sync_model()
        super().save(path, exclude, include)

    def set_random_seed(self, seed: int | None = None) -> None:
        """
        Seed the main process's generators, the action space and the env, as SB3 does, and make ``seed`` the one the
        workers of the next ``learn()`` derive theirs from (they run in other processes: seeding this one alone
        would leave their random streams unchanged).

        :param seed: The seed; ``None`` changes nothing.
        """
        super().set_random_seed(seed)
        if seed is not None:
            self.seed = seed

    def set_env(self, env: GymEnv, force_reset: bool = True) -> None:
        """
        Set the environment, which workers will rebuild from its spec (see ``env`` in the class docstring).

        :param env: A ``gymnasium.Env`` or ``VecEnv`` the workers can rebuild (see ``env`` in the class docstring).
        :param force_reset: Force a ``reset()`` before training.
        """
        source = env_source(env, None, env.num_envs if isinstance(env, VecEnv) else 1)
        _check_one_normalization(source, self.normalize_obs, self.normalize_reward)
        super().set_env(env, force_reset)
        self._env_source = source

    def train(self) -> None:
        """Not used: the workers train (see ``pgzoo/a3c/learner.py``)."""
        raise NotImplementedError("A3C trains in its workers; call learn()")

    def learn(
        self: SelfA3C,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 100,
        tb_log_name: str = "A3C",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfA3C:
        """
        Train with ``n_workers`` asynchronous workers until they have taken ``total_timesteps`` env steps together.

        :param total_timesteps: Env steps of all workers together.
        :param callback: Callback(s) called in the main process (see the class docstring for when).
        :param log_interval: Dump the logs every ``log_interval`` updates (of any worker).
        :param tb_log_name: Name of the run for tensorboard logging.
        :param reset_num_timesteps: Whether to reset the current timestep number (used in logging).
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: The trained model.
        """
        if self._env_source is None:
            raise ValueError(
                "A3C has no environment to train on: pass `env` to the constructor or to load(), or call set_env()"
            )
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        callback.on_training_start(locals(), globals())
        if self.num_timesteps >= total_timesteps:
            # As SB3's learn(): nothing left to train (learn(0), or a budget already reached); no worker is started.
            callback.on_training_end()
            return self
        self._env_normalization = self._attach_env_normalization()
        try:
            runner = self._make_runner(total_timesteps)
        except BaseException:
            self._detach_env_normalization()
            raise
        self._pending_steps = 0
        self._pending_episodes: collections.deque[dict[str, Any]] = collections.deque()
        self._log_sums: Report = Report()
        self._monitor_files = _monitor_files(self.env)
        self._monitor_rows_written = 0
        continue_training = True
        # SystemExit: learn() stops its workers, then the process ends as SIGTERM asked.
        with sigterm_raises(lambda signum: SystemExit(128 + signum)):
            try:
                self._runner = runner
                runner.start()
                self.worker_pids = runner.worker_pids
                callback.on_rollout_start()
                while not runner.finished:
                    report = runner.poll(timeout=0.05)
                    if report is None:
                        continue
                    if not self._consume(report, callback, log_interval, total_timesteps, continue_training):
                        continue_training = False
                        runner.request_stop()
                self.num_timesteps += self._pending_steps
                # Polls bring the weights only: the final optimizer state (and weights) too, for a later save.
                runner.sync_model()
            finally:
                if not runner.finished:
                    # Stopped early (Ctrl-C, a worker's error): keep what the workers learned if it can be had.
                    with contextlib.suppress(Exception):
                        runner.sync_model()
                self._runner = None
                runner.close()
                self._detach_env_normalization()
        callback.on_rollout_end()
        callback.on_training_end()
        return self

    def _attach_env_normalization(self) -> tuple[VecNormalize, VecNormalizeStatistics] | None:
        """
        With a ``VecNormalize`` env: its statistics, as buffers of the policy that the backends share with the
        workers as they share the weights (see :mod:`pgzoo.a3c.normalization`).
        """
        assert self._env_source is not None
        env = unwrap_vec_wrapper(self.env, VecNormalize) if self.env is not None else None
        if self._env_source.vec_normalize is None or not isinstance(env, VecNormalize):
            return None
        statistics = VecNormalizeStatistics(env)
        self.policy.vec_normalize_statistics = statistics
        return env, statistics

    def _sync_env_normalization(self) -> None:
        """
        Give the user's ``VecNormalize`` the workers' latest statistics (the policy's copy has them), and the workers
        its ``training`` flag if it changed (a callback freezing the statistics, say).
        """
        if self._env_normalization is not None:
            env, statistics = self._env_normalization
            statistics.copy_to(env)
            if bool(env.training) != statistics.updates_stats and self._runner is not None:
                self._runner.set_env_statistics_updating(bool(env.training))
                statistics.updating.fill_(bool(env.training))

    def _detach_env_normalization(self) -> None:
        self._sync_env_normalization()
        if self._env_normalization is not None:
            del self.policy.vec_normalize_statistics
            self._env_normalization = None

    def _learner_config(self, total_timesteps: int) -> LearnerConfig:
        """The settings sent to every worker for a run of ``total_timesteps`` env steps."""
        assert self._env_source is not None
        return LearnerConfig(
            env_source=self._env_source,
            lr_schedule=self.lr_schedule,
            n_steps=self.n_steps,
            gamma=self.gamma,
            gae_lambda=self.gae_lambda,
            ent_coef=self.ent_coef,
            vf_coef=self.vf_coef,
            max_grad_norm=self.max_grad_norm,
            normalize_advantage=self.normalize_advantage,
            total_timesteps=total_timesteps,
            # Offset by the updates so far: each learn() call of a seeded model starts fresh (but reproducible)
            # random streams instead of replaying the first call's.
            seed=None if self.seed is None else self.seed + self._n_updates,
            n_workers=self.n_workers,
            report_interval=self.report_interval,
            reward_scale=self.reward_scale,
            initial_timesteps=self.num_timesteps,
            sde_sample_freq=self.sde_sample_freq,
        )

    def _make_runner(self, total_timesteps: int) -> Runner:
        if self.use_sde:
            # Drawn outside autograd: the backends deep-copy the policy, and torch can't copy a tensor that is part of
            # a graph, as the noise drawn by the policy's constructor and by SB3's load() is.
            with th.no_grad():
                self.policy.reset_noise()
        config = self._learner_config(total_timesteps)
        check_sendable(config.lr_schedule, "the learning rate schedule")
        check_sendable(self.policy_kwargs, "`policy_kwargs`")
        if self.backend == "ray":
            from pgzoo.a3c.ray_backend import RayRunner

            return RayRunner(self.policy, config, self.ray_address)
        optimizer = self.policy.optimizer
        if not isinstance(optimizer, _SharedStateMixin):
            raise ValueError(
                "The local backend needs a shared optimizer (SharedRMSprop, SharedRMSpropTFLike or SharedAdam from "
                f"pgzoo.a3c), got {type(optimizer).__name__} from policy_kwargs['optimizer_class']."
            )
        return LocalRunner(self.policy, config, self.start_method)

    def _consume(
        self, report: Report, callback: BaseCallback, log_interval: int, total_timesteps: int, continue_training: bool
    ) -> bool:
        """
        Account for a worker report: steps, episodes, callbacks (while ``continue_training``) and logs.

        :return: False if a callback asked to stop.
        """
        assert self.ep_info_buffer is not None and self.ep_success_buffer is not None
        # Before the callbacks: an EvalCallback copies the training env's statistics to its own env.
        self._sync_env_normalization()
        self.ep_info_buffer.extend(report.episodes)
        self._write_monitor_rows(report.episodes)
        self.ep_success_buffer.extend(report.successes)
        self._pending_episodes.extend(_episode_infos(report))
        self._log_sums.merge(Report(updates=report.updates, losses=report.losses))
        previous_updates, self._n_updates = self._n_updates, self._n_updates + report.updates
        # One on_step() per step of one worker's VecEnv, as SB3 calls it once per step of its VecEnv.
        self._pending_steps += report.steps
        while self._pending_steps >= self.n_envs:
            self._pending_steps -= self.n_envs
            self.num_timesteps += self.n_envs
            if continue_training:
                self._update_current_progress_remaining(self.num_timesteps, total_timesteps)
                dones, infos = self._next_step_ends()
                callback.update_locals(locals())
                continue_training = callback.on_step()
        if log_interval is not None and self._n_updates // log_interval > previous_updates // log_interval:
            self._dump_train_logs()
        return continue_training

    def _next_step_ends(self) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """
        ``dones`` and ``infos`` for a callback's ``on_step()``, as a VecEnv of ``n_envs`` would give them: the episodes
        the workers finished, up to ``n_envs`` per call, each with its ``Monitor`` info under ``"episode"``.
        """
        n_ended = min(len(self._pending_episodes), self.n_envs)
        dones = np.arange(self.n_envs) < n_ended
        infos = [self._pending_episodes.popleft() for _ in range(n_ended)] + [{} for _ in range(self.n_envs - n_ended)]
        return dones, infos

    def _write_monitor_rows(self, episodes: list[dict[str, float]]) -> None:
        """Write the workers' episodes to the given env's monitor files, in turn: its own envs never step."""
        if not self._monitor_files:
            return
        for episode in episodes:
            monitor = self._monitor_files[self._monitor_rows_written % len(self._monitor_files)]
            assert monitor.results_writer is not None
            monitor.results_writer.write_row(
                {"r": episode["r"], "l": episode["l"], "t": round(time.time() - monitor.t_start, 6)}
            )
            self._monitor_rows_written += 1

    def _dump_train_logs(self) -> None:
        sums = self._log_sums
        if sums.updates:
            for key, value in sums.losses.items():
                self.logger.record(f"train/{key}", value / sums.updates)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/learning_rate", self.lr_schedule(self._current_progress_remaining))
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())
        self._log_sums = Report()
        self.dump_logs(self._n_updates)


def _check_one_normalization(source: EnvSource, normalize_obs: bool, normalize_reward: bool) -> None:
    """Refuse normalizing twice: with a ``VecNormalize`` env and with A3C's own ``normalize_obs``/``normalize_reward``."""
    if source.vec_normalize is not None and (normalize_obs or normalize_reward):
        raise ValueError(
            "The env is wrapped in VecNormalize, which already normalizes (with statistics shared by all workers): "
            "leave normalize_obs and normalize_reward False, or pass the env unwrapped."
        )


def _episode_infos(report: Report) -> list[dict[str, Any]]:
    """The ``info`` dicts of the episodes in ``report``: ``episode``, and ``is_success`` when every episode has one."""
    infos: list[dict[str, Any]] = [{"episode": episode} for episode in report.episodes]
    if len(report.successes) == len(infos):
        for info, success in zip(infos, report.successes, strict=True):
            info["is_success"] = success
    return infos


def _monitor_files(env: VecEnv | None) -> list[Monitor]:
    """The ``Monitor`` wrappers of ``env``'s copies that write a CSV file (only a ``DummyVecEnv``'s can be reached)."""
    if not isinstance(env, DummyVecEnv):
        return []
    monitors = [unwrap_wrapper(copy, Monitor) for copy in env.envs]
    return [monitor for monitor in monitors if isinstance(monitor, Monitor) and monitor.results_writer is not None]

"""
Training an agent the rl-zoo3 way: hyperparameters from a YAML file, evaluation and checkpoints during
training, everything written to a run folder (``<log_folder>/<algo>/<env>_<run>/``, see :mod:`pgzoo.zoo.runs`).

:func:`train` is the public entry point (``pgzoo train``, ``pgzoo tune`` and ``pgzoo benchmark`` call it). It reads
top to bottom as four steps: :func:`prepare` (check the input, read the entry, seed), :func:`build` (env, model and
callbacks), :func:`fit` (``learn``, with its failures turned into the zoo's errors by type) and :func:`finish` (save
the model and the statistics, evaluate).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, sync_envs_normalization

from pgzoo.common.errors import DivergenceError, WorkerError
from pgzoo.common.noise import make_action_noise
from pgzoo.common.utils import MAX_SEED
from pgzoo.zoo.algos import accepts_parameter, check_device, get_algo_class, is_off_policy, normalize_algo_name
from pgzoo.zoo.callbacks import AtomicCheckpoint, AtomicEvalCallback, SaveOnNewBest
from pgzoo.zoo.envs import check_env_id, deterministic_eval_default, env_folder_name, make_zoo_env
from pgzoo.zoo.errors import DivergedError, EnvFailedError, HyperparamsError, ZooError, check_seed_range, one_line
from pgzoo.zoo.fileio import atomic_save_model, check_writable_folder, non_finite_tensor
from pgzoo.zoo.hyperparams import Entry, load_entry
from pgzoo.zoo.resume import Checkpoint, Resume, ResumeCallback
from pgzoo.zoo.runs import (
    BEST_MODEL,
    final_model_name,
    new_run_folder,
    remove_unused_run,
    save_vecnormalize,
    write_error_log,
    write_run_config,
)


@dataclass
class TrainResult:
    """
    What :func:`train` produced.

    :param algo: Registry name of the algorithm.
    :param env_id: Env id.
    :param seed: Seed used.
    :param run_folder: ``<log_folder>/<algo>/<env>_<run>``.
    :param model_path: The final model zip.
    :param best_model_path: ``best_model.zip`` when evaluation during training saved one, else ``None``.
    :param n_timesteps: Environment steps actually trained (less than asked when interrupted).
    :param mean_reward: Mean episode reward of the final model on the evaluation env.
    :param std_reward: Standard deviation of those rewards.
    :param n_eval_episodes: Number of evaluation episodes.
    :param deterministic: Whether evaluation used deterministic actions.
    :param interrupted: Whether training was stopped with Ctrl-C.
    :param train_time_s: Wall-clock training time in seconds (earlier sittings of a resumed run included).
    :param hyperparams_file: The YAML file the hyperparameters came from.
    :param resumed_from: Env steps of the checkpoint this sitting continued from (0: trained from scratch).
    """

    algo: str
    env_id: str
    seed: int
    run_folder: Path
    model_path: Path
    best_model_path: Path | None
    n_timesteps: int
    mean_reward: float
    std_reward: float
    n_eval_episodes: int
    deterministic: bool
    interrupted: bool
    train_time_s: float
    hyperparams_file: Path
    resumed_from: int = 0

    def summary(self) -> str:
        """One line describing the evaluation, as printed at the end of ``pgzoo train``."""
        mode = "deterministic" if self.deterministic else "stochastic"
        note = " (interrupted)" if self.interrupted else ""
        return (
            f"Evaluation of {self.algo} on {self.env_id} after {self.n_timesteps} steps{note}: "
            f"mean reward {self.mean_reward:.2f} +/- {self.std_reward:.2f} over {self.n_eval_episodes} "
            f"{mode} episodes; model saved to {self.model_path}"
        )


#: What usually makes training diverge, for the error that says it did.
_DIVERGED = "(an env returning NaN or inf observations or rewards, or too high a learning rate)"


@dataclass
class Experiment:
    """
    What :func:`prepare` settled: the checked input of one :func:`train` call.

    :param algo: Registry name of the algorithm.
    :param algo_class: Its class.
    :param env_id: Env id.
    :param entry: The hyperparameters (overrides and options applied).
    :param seed: The run's seed (drawn when the caller gave none).
    :param checkpoint: The checkpoint this sitting continues from, or ``None``.
    """

    algo: str
    algo_class: type[BaseAlgorithm]
    env_id: str
    entry: Entry
    seed: int
    checkpoint: Checkpoint | None

    @property
    def resumed_from(self) -> int:
        """Env steps of the checkpoint this sitting continues from (0: from scratch)."""
        return self.checkpoint.num_timesteps if self.checkpoint is not None else 0

    @property
    def sitting_seed(self) -> int:
        """The seed of this sitting: a resumed one must not replay the first sitting's random numbers and states."""
        return (self.seed + self.resumed_from) % MAX_SEED

    @property
    def earlier_train_time(self) -> float:
        """Training time of the earlier sittings, in seconds."""
        return self.checkpoint.train_time_s if self.checkpoint is not None else 0.0


@dataclass
class Parts:
    """
    What :func:`build` made: the model, its envs and the callbacks of ``learn``.

    :param model: The algorithm, new or restored from the checkpoint.
    :param env: The training env.
    :param eval_env: The evaluation env, or ``None`` when nothing is evaluated.
    :param callbacks: The callbacks, in the order they run.
    :param resume_callback: The one keeping the resume checkpoint, or ``None``.
    """

    model: BaseAlgorithm
    env: VecEnv
    eval_env: VecEnv | None
    callbacks: list[BaseCallback]
    resume_callback: ResumeCallback | None


def prepare(
    algo: str,
    env_id: str,
    *,
    seed: int | None,
    hyperparams: dict[str, Any] | None,
    hyperparams_file: str | Path | None,
    n_timesteps: int | None,
    n_workers: int | None,
    device: str,
    eval_episodes: int,
    final_eval_episodes: int,
    tensorboard_log: str | Path | None,
    resume: Resume | None,
) -> Experiment:
    """
    Check the input of :func:`train` (nothing is written before it passes), read the entry and seed every generator.

    The parameters are :func:`train`'s.

    :return: The :class:`Experiment`.
    :raises ZooError: On bad input.
    """
    algo = normalize_algo_name(algo)
    check_env_id(env_id)
    check_device(device)
    if eval_episodes <= 0:
        raise ZooError(f"eval_episodes must be a positive number of episodes, got {eval_episodes}")
    if final_eval_episodes < 0:
        raise ZooError(f"final_eval_episodes must be >= 0 (0 skips the final evaluation), got {final_eval_episodes}")
    if seed is not None:
        check_seed_range("seed", seed)
    if tensorboard_log is not None:
        check_writable_folder(tensorboard_log, f"-tb {tensorboard_log}")
    algo_class = get_algo_class(algo)
    if n_workers is not None and not accepts_parameter(algo_class, "n_workers"):
        raise HyperparamsError(f"--n-workers does not apply to {algo} (only to algorithms with workers, e.g. a3c)")
    entry = load_entry(
        algo,
        env_id,
        hyperparams_file,
        overrides=hyperparams,
        options={"n_timesteps": n_timesteps, "n_workers": n_workers},
        budget_hint="use -n N or -params n_timesteps:N",
    )
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31 - 1))
    experiment = Experiment(algo, algo_class, env_id, entry, seed, resume.latest() if resume is not None else None)
    set_random_seed(experiment.sitting_seed)
    return experiment


def build(
    experiment: Experiment,
    run_folder: Path,
    undo: contextlib.ExitStack,
    *,
    eval_freq: int,
    eval_episodes: int,
    final_eval_episodes: int,
    deterministic_eval: bool,
    save_freq: int,
    device: str,
    tensorboard_log: str | Path | None,
    verbose: int,
    resume: Resume | None,
    extra_callbacks: list[BaseCallback] | None,
) -> Parts:
    """
    Make the envs, the model (or restore it from the checkpoint) and the callbacks of a run.

    :param experiment: What :func:`prepare` settled.
    :param run_folder: The run folder.
    :param undo: Where the envs' ``close`` is registered, for a failure before training starts.
    :param eval_freq: See :func:`train`, as are the other parameters.
    :return: The :class:`Parts`.
    :raises HyperparamsError: When the entry's noise, callbacks or model arguments do not fit.
    """
    config, where, algo_class = experiment.entry.config, experiment.entry.where, experiment.algo_class
    env = make_zoo_env(experiment.env_id, config, n_envs=config.n_envs, seed=experiment.sitting_seed, monitor_dir=run_folder)
    undo.callback(env.close)
    model_kwargs = dict(config.model_kwargs)
    if config.noise_type is not None:
        if not is_off_policy(algo_class):
            raise HyperparamsError(f"noise_type in {where}: {experiment.algo} does not take action noise")
        n_actions = int(np.prod(env.action_space.shape or (1,)))
        try:
            model_kwargs["action_noise"] = make_action_noise(
                config.noise_type, config.noise_std, n_actions, n_envs=env.num_envs
            )
        except ValueError as error:
            raise HyperparamsError(f"noise_type / noise_std in {where}: {error}") from None
    if tensorboard_log is not None:
        model_kwargs["tensorboard_log"] = str(Path(tensorboard_log) / env_folder_name(experiment.env_id))
    model = _make_model(experiment, env, model_kwargs, device, verbose)

    callbacks = [*(_make_callback(cls, kwargs, where) for cls, kwargs in config.callbacks), *(extra_callbacks or [])]
    eval_env: VecEnv | None = None
    if eval_freq > 0 or final_eval_episodes > 0:
        eval_env = make_zoo_env(experiment.env_id, config, n_envs=1, seed=experiment.seed + 10_000, training=False)
        undo.callback(eval_env.close)
    if eval_freq > 0 and eval_env is not None:
        callbacks.append(
            AtomicEvalCallback(
                eval_env,
                callback_on_new_best=SaveOnNewBest(run_folder / BEST_MODEL),
                n_eval_episodes=eval_episodes,
                eval_freq=max(eval_freq // config.n_envs, 1),
                log_path=run_folder,
                deterministic=deterministic_eval,
                verbose=verbose,
            )
        )
    if save_freq > 0:
        callbacks.append(AtomicCheckpoint(max(save_freq // config.n_envs, 1), run_folder))
    resume_callback = None
    if resume is not None:
        # Last: a checkpoint then includes what the other callbacks recorded at the same step.
        resume_callback = ResumeCallback(resume, experiment.earlier_train_time)
        callbacks.append(resume_callback)
    return Parts(model, env, eval_env, callbacks, resume_callback)


def _make_model(experiment: Experiment, env: VecEnv, model_kwargs: dict[str, Any], device: str, verbose: int) -> BaseAlgorithm:
    """
    The algorithm of ``experiment`` on ``env``: restored from its checkpoint, or new.

    :param experiment: What :func:`prepare` settled.
    :param env: The training env.
    :param model_kwargs: The constructor's arguments.
    :param device: Torch device.
    :param verbose: Verbosity.
    :raises HyperparamsError: When the algorithm refuses the entry's arguments.
    """
    algo_class, checkpoint = experiment.algo_class, experiment.checkpoint
    if checkpoint is not None:
        log_kwargs = {key: model_kwargs[key] for key in ("tensorboard_log",) if key in model_kwargs}
        model = checkpoint.restore(algo_class, env, device, verbose=verbose, **log_kwargs)
        # Also what A3C's workers derive their seeds from.
        model.seed = experiment.sitting_seed
        model.set_random_seed(experiment.sitting_seed)
        if verbose:
            print(f"Resuming from the checkpoint at {experiment.resumed_from} steps in {checkpoint.folder}")
        return model
    config = experiment.entry.config
    try:
        return algo_class(config.policy, env, seed=experiment.seed, device=device, verbose=verbose, **model_kwargs)
    except (TypeError, ValueError, AssertionError, RuntimeError) as error:
        # SB3 checks the spaces, the policy and the schedules with asserts and ValueError; torch refuses a negative
        # layer size with RuntimeError. Another RuntimeError (a CUDA failure, say) is not the entry's fault, and only a
        # model whose layers are all built can be told apart from one that failed building them: re-raise those.
        if isinstance(error, RuntimeError) and not _bad_layer_size(config.model_kwargs):
            raise
        message = f"cannot build {algo_class.__name__} for {experiment.entry.where}: {one_line(error)}"
        raise HyperparamsError(message) from None


def _bad_layer_size(model_kwargs: dict[str, Any]) -> bool:
    """
    Whether ``policy_kwargs``' ``net_arch`` names a layer size below 1 (torch then refuses to build the layer).

    :param model_kwargs: The constructor's arguments.
    """
    arch = (model_kwargs.get("policy_kwargs") or {}).get("net_arch")
    sizes: list[Any] = []
    for item in arch.values() if isinstance(arch, dict) else (arch or []):
        sizes += item if isinstance(item, list | tuple) else [item]
    return any(isinstance(size, int) and size < 1 for size in sizes)


@dataclass
class Fitted:
    """
    How :func:`fit` ended.

    :param interrupted: Whether training stopped early (Ctrl-C, or the env failed).
    :param env_failure: The env's failure, when it stopped training.
    :param train_time_s: Training time, earlier sittings included.
    """

    interrupted: bool
    env_failure: EnvFailedError | None
    train_time_s: float


def fit(experiment: Experiment, parts: Parts, run_folder: Path, *, progress_bar: bool, verbose: int) -> Fitted:
    """
    Train ``parts.model`` up to the budget; Ctrl-C and an env's failure stop it with what was learned kept.

    :param experiment: What :func:`prepare` settled.
    :param parts: What :func:`build` made.
    :param run_folder: The run folder.
    :param progress_bar: Show a progress bar.
    :param verbose: Say that Ctrl-C saves the model when > 0.
    :return: :class:`Fitted`.
    :raises DivergedError: When training diverged (nothing is saved).
    :raises ZooError: When an A3C worker failed (the model the other workers trained is saved).
    """
    model, budget = parts.model, experiment.entry.config.n_timesteps
    start = time.perf_counter()
    interrupted, env_failure = False, None
    try:
        if budget > experiment.resumed_from:
            model.learn(
                total_timesteps=budget - experiment.resumed_from,
                callback=CallbackList(parts.callbacks) if parts.callbacks else None,
                progress_bar=progress_bar and _progress_bar_available(),
                tb_log_name=experiment.algo,
                reset_num_timesteps=experiment.checkpoint is None,
            )
    except (KeyboardInterrupt, EnvFailedError) as error:
        # Ctrl-C, or the env failed: keep what was learned so far; the model is saved like a finished run's.
        interrupted = True
        env_failure = error if isinstance(error, EnvFailedError) else None
        if verbose and env_failure is None:
            print("\nInterrupted: saving the model trained so far")
        if parts.resume_callback is not None:
            parts.resume_callback.resume.save(model, parts.resume_callback.train_time())
    except WorkerError as error:
        raise _worker_failed(error, model, run_folder / final_model_name(experiment.env_id)) from None
    except DivergedError as error:
        # A checkpoint or the best model was refused: the weights hold NaN or inf.
        raise DivergedError(f"{error} {_DIVERGED}") from None
    except DivergenceError as error:
        raise _diverged(model, error) from None
    except ValueError as error:
        # Other libraries' algorithms (SB3's) meet NaN as a ValueError of torch's distributions: it is a divergence
        # when the weights or the observations they were given are not finite.
        if _training_state_is_finite(model):
            raise
        raise _diverged(model, error) from None
    return Fitted(interrupted, env_failure, time.perf_counter() - start + experiment.earlier_train_time)


def _diverged(model: BaseAlgorithm, error: BaseException) -> DivergedError:
    """The error saying that training diverged, with ``error`` as the reason."""
    return DivergedError(f"training diverged after {model.num_timesteps} steps: {one_line(error)} {_DIVERGED}")


def _worker_failed(error: WorkerError, model: BaseAlgorithm, model_path: Path) -> ZooError:
    """
    The one-line error for a failed A3C worker. The model the other workers trained is saved, as on Ctrl-C, unless
    the worker diverged (no model of a diverged run is kept).

    :param error: What the runner raised.
    :param model: The model.
    :param model_path: Where the final model goes.
    """
    cause = error.cause or str(error).strip().splitlines()[-1].strip()
    if error.diverged:
        return DivergedError(f"training diverged after {model.num_timesteps} steps: an A3C worker failed: {cause} {_DIVERGED}")
    atomic_save_model(model, model_path)
    return ZooError(f"an A3C worker failed after {model.num_timesteps} steps: {cause}")


def _training_state_is_finite(model: BaseAlgorithm) -> bool:
    """
    Whether the model's weights and the last observations it was given are all finite.

    :param model: The model.
    """
    if non_finite_tensor(model) is not None:
        return False
    last_obs = getattr(model, "_last_obs", None)
    arrays = last_obs.values() if isinstance(last_obs, dict) else [last_obs]
    return all(
        not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.floating) or bool(np.isfinite(array).all())
        for array in arrays
    )


def finish(
    experiment: Experiment,
    parts: Parts,
    fitted: Fitted,
    run_folder: Path,
    *,
    final_eval_episodes: int,
    deterministic_eval: bool,
) -> TrainResult:
    """
    Save the final model and the normalization statistics, then evaluate the model.

    :param experiment: What :func:`prepare` settled.
    :param parts: What :func:`build` made.
    :param fitted: How :func:`fit` ended.
    :param run_folder: The run folder.
    :param final_eval_episodes: See :func:`train`.
    :param deterministic_eval: See :func:`train`.
    :return: The :class:`TrainResult`.
    :raises DivergedError: When the weights hold NaN or inf (no model is saved).
    :raises EnvFailedError: When the env failed during training (after the model is saved).
    """
    model, env_id = parts.model, experiment.env_id
    try:
        model_path = atomic_save_model(model, run_folder / final_model_name(env_id))
    except DivergedError as error:
        raise DivergedError(f"{error} {_DIVERGED}") from None
    train_env = model.get_env()
    if isinstance(train_env, VecNormalize):
        save_vecnormalize(run_folder, env_id, train_env)
    if fitted.env_failure is not None:
        failure = fitted.env_failure
        cause = failure.__cause__ or failure
        log = write_error_log(run_folder, cause)
        failed = EnvFailedError(
            f"{one_line(failure)} after {model.num_timesteps} steps; the model trained so far is saved to {model_path} "
            f"(traceback in {log})"
        )
        raise failed from cause

    mean_reward = std_reward = float("nan")
    if parts.eval_env is not None and final_eval_episodes > 0:
        if train_env is not None:
            sync_envs_normalization(train_env, parts.eval_env)
        rewards, _ = evaluate_policy(
            model,
            parts.eval_env,
            n_eval_episodes=final_eval_episodes,
            deterministic=deterministic_eval,
            return_episode_rewards=True,
        )
        mean_reward, std_reward = float(np.mean(rewards)), float(np.std(rewards))
    best_path = run_folder / BEST_MODEL
    return TrainResult(
        algo=experiment.algo,
        env_id=env_id,
        seed=experiment.seed,
        run_folder=run_folder,
        model_path=model_path,
        best_model_path=best_path if best_path.is_file() else None,
        n_timesteps=int(model.num_timesteps),
        mean_reward=mean_reward,
        std_reward=std_reward,
        n_eval_episodes=final_eval_episodes,
        deterministic=deterministic_eval,
        interrupted=fitted.interrupted,
        train_time_s=fitted.train_time_s,
        hyperparams_file=experiment.entry.source,
        resumed_from=experiment.resumed_from,
    )


def _make_callback(cls: type, kwargs: dict[str, Any], where: str) -> BaseCallback:
    """
    Instantiate a ``callback`` of the hyperparameters.

    :param cls: The callback class.
    :param kwargs: Its arguments from the entry.
    :param where: Where the entry comes from, for errors.
    :raises HyperparamsError: When the class rejects the arguments.
    """
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, AssertionError) as error:
        raise HyperparamsError(f"callback {cls.__name__} in {where}: {one_line(error)}") from None


def train(
    algo: str,
    env_id: str,
    *,
    seed: int | None = None,
    log_folder: str | Path = "logs",
    hyperparams: dict[str, Any] | None = None,
    hyperparams_file: str | Path | None = None,
    n_timesteps: int | None = None,
    eval_freq: int = 10_000,
    eval_episodes: int = 5,
    final_eval_episodes: int = 10,
    deterministic_eval: bool | None = None,
    save_freq: int = -1,
    n_workers: int | None = None,
    device: str = "auto",
    tensorboard_log: str | Path | None = None,
    verbose: int = 1,
    progress_bar: bool = False,
    args_to_save: dict[str, Any] | None = None,
    resume: Resume | None = None,
    extra_callbacks: list[BaseCallback] | None = None,
) -> TrainResult:
    """
    Train ``algo`` on ``env_id`` with the env's entry of the hyperparameter file and save the run.

    :param algo: Registry name (``reinforce``, ``a3c``, ``a2c``, ``ppo``, ...; see :data:`pgzoo.zoo.algos.ALGOS`).
    :param env_id: Gymnasium env id.
    :param seed: Random seed; drawn at random when ``None`` (and reported in the result and ``args.yml``).
    :param log_folder: Root of the logs layout.
    :param hyperparams: Overrides applied on top of the file's entry (``-params``), e.g. ``{"n_timesteps": 300}``.
    :param hyperparams_file: rl-zoo3 style YAML file; defaults to the packaged ``<algo>.yml``.
    :param n_timesteps: Training budget; overrides the file's ``n_timesteps`` when given.
    :param eval_freq: Evaluate every ``eval_freq`` steps (all envs together); ``<= 0`` disables it.
    :param eval_episodes: Episodes per evaluation during training.
    :param final_eval_episodes: Episodes of the evaluation after training (reported in the result); 0 skips it.
    :param deterministic_eval: Whether evaluations use deterministic actions; ``None``: the env's protocol
        (:func:`~pgzoo.zoo.envs.deterministic_eval_default`: sampled actions for Atari, the most likely elsewhere).
    :param save_freq: Save a checkpoint every ``save_freq`` steps (all envs together); ``<= 0`` disables it.
    :param n_workers: Worker processes, for algorithms that have them (A3C).
    :param device: Torch device (``"auto"``, ``"cpu"``, ``"cuda"``).
    :param tensorboard_log: Folder for TensorBoard logs, or ``None``.
    :param verbose: 0 silent, 1 information.
    :param progress_bar: Show a progress bar (needs ``tqdm`` and ``rich``).
    :param args_to_save: Arguments recorded in ``<env>/args.yml`` (the CLI passes its parsed arguments).
    :param resume: Keep a checkpoint of the run there (see :mod:`pgzoo.zoo.resume`), and if it already holds one
        saved with the same settings, continue from it up to ``n_timesteps`` instead of starting over.
    :param extra_callbacks: Callbacks of the caller (``pgzoo benchmark``'s learning curve, ``pgzoo tune``'s pruning),
        run after the entry's own: they are not hyperparameters, so ``config.yml`` never lists them.
    :return: A :class:`TrainResult`.
    :raises ZooError: On bad input (unknown algo, env or device, bad hyperparameters, a model the algorithm cannot
        build...). Until training starts, a failure removes the run folder again (see
        :func:`pgzoo.zoo.runs.remove_unused_run`).
    """
    experiment = prepare(
        algo,
        env_id,
        seed=seed,
        hyperparams=hyperparams,
        hyperparams_file=hyperparams_file,
        n_timesteps=n_timesteps,
        n_workers=n_workers,
        device=device,
        eval_episodes=eval_episodes,
        final_eval_episodes=final_eval_episodes,
        tensorboard_log=tensorboard_log,
        resume=resume,
    )
    if deterministic_eval is None:
        deterministic_eval = deterministic_eval_default(env_id)
    try:
        run_folder = new_run_folder(log_folder, experiment.algo, env_id)
    except OSError as error:
        raise ZooError(f"cannot create a run folder in {log_folder}: {error.strerror or error} ({error.filename})") from None
    with contextlib.ExitStack() as undo:
        # Until training starts, a failure (or Ctrl-C) leaves no run folder behind: `enjoy` would take it for the
        # latest run, one without a model.
        undo.callback(remove_unused_run, run_folder, env_id, experiment.entry.config.n_envs)
        saved_args = {"algo": experiment.algo, "env": env_id, "seed": experiment.seed, "log_folder": str(log_folder)}
        write_run_config(run_folder, env_id, experiment.entry.raw, {**saved_args, **(args_to_save or {})})
        parts = build(
            experiment,
            run_folder,
            undo,
            eval_freq=eval_freq,
            eval_episodes=eval_episodes,
            final_eval_episodes=final_eval_episodes,
            deterministic_eval=deterministic_eval,
            save_freq=save_freq,
            device=device,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            resume=resume,
            extra_callbacks=extra_callbacks,
        )
        undo.pop_all()

    # From here on the run folder stays; its envs are closed however training ends.
    with contextlib.ExitStack() as closing:
        closing.callback(parts.env.close)
        if parts.eval_env is not None:
            closing.callback(parts.eval_env.close)
        fitted = fit(experiment, parts, run_folder, progress_bar=progress_bar, verbose=verbose)
        return finish(
            experiment,
            parts,
            fitted,
            run_folder,
            final_eval_episodes=final_eval_episodes,
            deterministic_eval=deterministic_eval,
        )


def _progress_bar_available() -> bool:
    try:
        import rich  # noqa: F401
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


__all__ = [
    "Experiment",
    "Fitted",
    "Parts",
    "TrainResult",
    "ZooError",
    "build",
    "finish",
    "fit",
    "prepare",
    "train",
]

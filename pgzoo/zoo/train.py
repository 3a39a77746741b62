"""
Training an agent the rl-zoo3 way: hyperparameters from a YAML file, evaluation and checkpoints during
training, everything written to ``<log_folder>/<algo>/<env>_<run>/``.

:func:`train` is the public entry point (``pgzoo train`` and ``pgzoo benchmark`` call it).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, EvalCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, sync_envs_normalization

from pgzoo.a3c.runner import WorkerError
from pgzoo.common.noise import make_action_noise
from pgzoo.common.utils import MAX_SEED
from pgzoo.zoo.algos import accepts_parameter, check_device, get_algo_class, is_off_policy, normalize_algo_name
from pgzoo.zoo.envs import (
    VECNORMALIZE_JSON,
    VECNORMALIZE_PKL,
    check_env_id,
    env_folder_name,
    make_zoo_env,
    save_vecnormalize_stats,
)
from pgzoo.zoo.errors import DivergedError, EnvFailedError, HyperparamsError, ZooError, check_seed_range, one_line
from pgzoo.zoo.experiment import new_run_folder
from pgzoo.zoo.fileio import atomic_save_model, atomic_write, atomic_write_text, check_writable_folder
from pgzoo.zoo.hyperparams import (
    get_env_hyperparams,
    preprocess_hyperparams,
    to_saveable,
)
from pgzoo.zoo.resume import Resume, ResumeCallback


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


class _SaveOnNewBest(BaseCallback):
    """Called by ``EvalCallback`` on a new best mean reward: saves ``best_model.zip`` atomically."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _on_step(self) -> bool:
        atomic_save_model(self.model, self.path)
        return True


class _AtomicEvalCallback(EvalCallback):
    """
    SB3's ``EvalCallback``, but ``evaluations.npz`` is replaced atomically: SB3 rewrites it in place at every
    evaluation, so a Ctrl-C during the write would leave half a file and lose every earlier point.

    :param log_path: The run folder (``evaluations.npz`` goes there).
    :param kwargs: ``EvalCallback``'s other arguments.
    """

    def __init__(self, eval_env: VecEnv, *, log_path: Path, **kwargs: Any) -> None:
        super().__init__(eval_env, log_path=str(log_path), **kwargs)
        self.final_path = log_path / "evaluations.npz"
        self.log_path = str(log_path / ".evaluations.partial")  # where SB3 writes (np.savez adds .npz)

    def _on_step(self) -> bool:
        partial = Path(f"{self.log_path}.npz")
        try:
            go_on = super()._on_step()
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        if partial.is_file():
            os.replace(partial, self.final_path)
        return go_on


class _AtomicCheckpoint(BaseCallback):
    """
    Save ``rl_model_<steps>_steps.zip`` every ``save_freq`` calls (one call = one step of each env).

    :param save_freq: Calls between checkpoints.
    :param folder: Run folder.
    """

    def __init__(self, save_freq: int, folder: Path) -> None:
        super().__init__()
        self.save_freq, self.folder = save_freq, folder

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            atomic_save_model(self.model, self.folder / f"rl_model_{self.num_timesteps}_steps.zip")
        return True


def _env_failed(error: EnvFailedError, num_timesteps: int, model_path: Path, run_folder: Path) -> EnvFailedError:
    """
    The one-line error for an env that failed during training, its traceback written to ``<run>/error.log``.

    :param error: What the env wrapper raised (the env's own exception is its ``__cause__``).
    :param num_timesteps: Steps trained.
    :param model_path: Where the model trained so far was saved.
    :param run_folder: The run folder.
    """
    log = run_folder / "error.log"
    cause = error.__cause__ or error
    atomic_write_text(log, "".join(traceback.format_exception(type(cause), cause, cause.__traceback__)))
    failed = EnvFailedError(
        f"{one_line(error)} after {num_timesteps} steps; the model trained so far is saved to {model_path} "
        f"(traceback in {log})"
    )
    failed.__cause__ = cause
    return failed


def _seed_everything(seed: int) -> None:
    from stable_baselines3.common.utils import set_random_seed

    set_random_seed(seed)


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


def _remove_unused_run(run_folder: Path, env_name: str, n_envs: int) -> None:
    """
    Delete the run folder of a :func:`train` call that failed before training, if it holds only what that call wrote.

    A folder holding anything else (a model, a checkpoint, a file the user put there) is left untouched.

    :param run_folder: The folder the call created.
    :param env_name: Its ``<env>/`` subfolder's name (``config.yml``, ``args.yml``).
    :param n_envs: Number of training envs (one ``<rank>.monitor.csv`` each).
    """
    cfg_folder = run_folder / env_name
    written = {cfg_folder, cfg_folder / "config.yml", cfg_folder / "args.yml"}
    written |= {run_folder / f"{rank}.monitor.csv" for rank in range(n_envs)}
    try:
        found = set(run_folder.rglob("*"))
        if not found <= written:
            return
        # Deepest first: files before the folder that holds them.
        for path in sorted(found, key=lambda p: len(p.parts), reverse=True):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()
        run_folder.rmdir()
    except OSError:
        # Something appeared meanwhile, or the file system refused: keep the rest rather than hide the first error.
        pass


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
    deterministic_eval: bool = True,
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
    :param deterministic_eval: Whether evaluations use deterministic actions.
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
        build...). Until training starts, a failure removes the run folder again (see :func:`_remove_unused_run`).
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
    raw, source = get_env_hyperparams(algo, env_id, hyperparams_file)
    raw.update(hyperparams or {})
    if n_timesteps is not None:
        raw["n_timesteps"] = n_timesteps
    if n_workers is not None:
        if not accepts_parameter(algo_class, "n_workers"):
            raise HyperparamsError(f"--n-workers does not apply to {algo} (only to algorithms with workers, e.g. a3c)")
        raw["n_workers"] = n_workers
    where = f"{env_id} in {source}" + (" with the overrides" if hyperparams else "")
    config = preprocess_hyperparams(raw, where=where)
    if config.n_timesteps <= 0:
        raise HyperparamsError(f"n_timesteps must be given ({where} has none): use -n N or -params n_timesteps:N")
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31 - 1))
    checkpoint = resume.latest() if resume is not None else None
    resumed_from = checkpoint.num_timesteps if checkpoint is not None else 0
    # A resumed sitting must not replay the first sitting's random numbers and initial states.
    sitting_seed = (seed + resumed_from) % MAX_SEED
    _seed_everything(sitting_seed)

    try:
        run_folder = new_run_folder(log_folder, algo, env_id)
    except OSError as error:
        raise ZooError(f"cannot create a run folder in {log_folder}: {error.strerror or error} ({error.filename})") from None
    env_name = env_folder_name(env_id)
    cfg_folder = run_folder / env_name
    with contextlib.ExitStack() as undo:
        # Until training starts, a failure (or Ctrl-C) leaves no run folder behind: `enjoy` would take it for the
        # latest run, one without a model.
        undo.callback(_remove_unused_run, run_folder, env_name, config.n_envs)
        cfg_folder.mkdir()
        atomic_write_text(cfg_folder / "config.yml", yaml.safe_dump(to_saveable(raw), sort_keys=True))
        saved_args = {"algo": algo, "env": env_id, "seed": seed, "log_folder": str(log_folder), **(args_to_save or {})}
        atomic_write_text(cfg_folder / "args.yml", yaml.safe_dump(to_saveable(saved_args), sort_keys=True))

        env = make_zoo_env(env_id, config, n_envs=config.n_envs, seed=sitting_seed, monitor_dir=run_folder)
        undo.callback(env.close)
        model_kwargs = dict(config.model_kwargs)
        if config.noise_type is not None:
            if not is_off_policy(algo_class):
                raise HyperparamsError(f"noise_type in {where}: {algo} does not take action noise")
            try:
                model_kwargs["action_noise"] = make_action_noise(
                    config.noise_type, config.noise_std, int(np.prod(env.action_space.shape or (1,))), n_envs=env.num_envs
                )
            except ValueError as error:
                raise HyperparamsError(f"noise_type / noise_std in {where}: {error}") from None
        if tensorboard_log is not None:
            model_kwargs["tensorboard_log"] = str(Path(tensorboard_log) / env_name)
        if checkpoint is not None:
            log_kwargs = {key: model_kwargs[key] for key in ("tensorboard_log",) if key in model_kwargs}
            model = checkpoint.restore(algo_class, env, device, verbose=verbose, **log_kwargs)
            # Also what A3C's workers derive their seeds from.
            model.seed = sitting_seed
            model.set_random_seed(sitting_seed)
            if verbose:
                print(f"Resuming from the checkpoint at {resumed_from} steps in {checkpoint.folder}")
        else:
            try:
                model = algo_class(config.policy, env, seed=seed, device=device, verbose=verbose, **model_kwargs)
            except (TypeError, ValueError, AssertionError, RuntimeError) as error:
                # SB3 checks the spaces, the policy and the schedules with asserts and ValueError; torch refuses a
                # negative layer size with RuntimeError (other RuntimeErrors, a CUDA failure say, are not the entry's).
                if isinstance(error, RuntimeError) and "negative dimension" not in str(error):
                    raise
                raise HyperparamsError(f"cannot build {algo_class.__name__} for {where}: {one_line(error)}") from None

        callbacks: list[BaseCallback] = [
            *(_make_callback(cls, kwargs, where) for cls, kwargs in config.callbacks),
            *(extra_callbacks or []),
        ]
        eval_env: VecEnv | None = None
        best_path = run_folder / "best_model.zip"
        if eval_freq > 0 or final_eval_episodes > 0:
            eval_env = make_zoo_env(env_id, config, n_envs=1, seed=seed + 10_000, training=False)
            undo.callback(eval_env.close)
        if eval_freq > 0 and eval_env is not None:
            callbacks.append(
                _AtomicEvalCallback(
                    eval_env,
                    callback_on_new_best=_SaveOnNewBest(best_path),
                    n_eval_episodes=eval_episodes,
                    eval_freq=max(eval_freq // config.n_envs, 1),
                    log_path=run_folder,
                    deterministic=deterministic_eval,
                    verbose=verbose,
                )
            )
        if save_freq > 0:
            callbacks.append(_AtomicCheckpoint(max(save_freq // config.n_envs, 1), run_folder))
        resume_callback = None
        if resume is not None:
            # Last: a checkpoint then includes what the other callbacks recorded at the same step.
            resume_callback = ResumeCallback(resume, checkpoint.train_time_s if checkpoint is not None else 0.0)
            callbacks.append(resume_callback)
        undo.pop_all()

    # From here on the run folder stays; its envs are closed however training ends.
    with contextlib.ExitStack() as closing:
        closing.callback(env.close)
        if eval_env is not None:
            closing.callback(eval_env.close)
        interrupted = False
        env_failure: EnvFailedError | None = None
        start = time.perf_counter()
        try:
            try:
                if config.n_timesteps > resumed_from:
                    model.learn(
                        total_timesteps=config.n_timesteps - resumed_from,
                        callback=CallbackList(callbacks) if callbacks else None,
                        progress_bar=progress_bar and _progress_bar_available(),
                        tb_log_name=algo,
                        reset_num_timesteps=checkpoint is None,
                    )
            except (KeyboardInterrupt, EnvFailedError) as error:
                # Ctrl-C, or the env failed: keep what was learned so far; the model is saved below like a finished run.
                interrupted = True
                env_failure = error if isinstance(error, EnvFailedError) else None
                if verbose and env_failure is None:
                    print("\nInterrupted: saving the model trained so far")
                if resume_callback is not None:
                    resume.save(model, resume_callback.train_time())  # type: ignore[union-attr]
            except WorkerError as error:
                # A worker died: its traceback is in the message; keep what the others learned, as Ctrl-C does.
                atomic_save_model(model, run_folder / f"{env_name}.zip")
                last_line = str(error).strip().splitlines()[-1].strip()
                hint = f" {_DIVERGED}" if "nan" in last_line.lower() else ""
                raise ZooError(f"an A3C worker failed after {model.num_timesteps} steps: {last_line}{hint}") from None
            except ValueError as error:
                if "nan" not in str(error).lower():
                    raise
                raise DivergedError(f"training diverged after {model.num_timesteps} steps: {one_line(error)}") from None
            train_time = time.perf_counter() - start + (checkpoint.train_time_s if checkpoint is not None else 0.0)
            # Refused (DivergedError) when the weights hold NaN or inf, as every checkpoint is.
            model_path = atomic_save_model(model, run_folder / f"{env_name}.zip")
        except DivergedError as error:
            raise DivergedError(f"{error} {_DIVERGED}") from None
        train_env = model.get_env()
        if isinstance(train_env, VecNormalize):
            save_vecnormalize_stats(train_env, cfg_folder / VECNORMALIZE_JSON)
            # The pickle is what rl-zoo3 and plain SB3 read (`VecNormalize.load`); it is never uploaded to the Hub.
            atomic_write(cfg_folder / VECNORMALIZE_PKL, lambda file: pickle.dump(train_env, file))
        if env_failure is not None:
            raise _env_failed(env_failure, model.num_timesteps, model_path, run_folder)

        mean_reward = std_reward = float("nan")
        if eval_env is not None and final_eval_episodes > 0:
            if train_env is not None:
                sync_envs_normalization(train_env, eval_env)
            rewards, _ = evaluate_policy(
                model,
                eval_env,
                n_eval_episodes=final_eval_episodes,
                deterministic=deterministic_eval,
                return_episode_rewards=True,
            )
            mean_reward, std_reward = float(np.mean(rewards)), float(np.std(rewards))
    return TrainResult(
        algo=algo,
        env_id=env_id,
        seed=seed,
        run_folder=run_folder,
        model_path=model_path,
        best_model_path=best_path if best_path.is_file() else None,
        n_timesteps=int(model.num_timesteps),
        mean_reward=mean_reward,
        std_reward=std_reward,
        n_eval_episodes=final_eval_episodes,
        deterministic=deterministic_eval,
        interrupted=interrupted,
        train_time_s=train_time,
        hyperparams_file=source,
        resumed_from=resumed_from,
    )


def _progress_bar_available() -> bool:
    try:
        import rich  # noqa: F401
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def result_to_dict(result: TrainResult) -> dict[str, Any]:
    """A JSON-friendly dict of a :class:`TrainResult`."""
    return {key: str(value) if isinstance(value, Path) else value for key, value in asdict(result).items()}


__all__ = ["TrainResult", "ZooError", "result_to_dict", "train"]

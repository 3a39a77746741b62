"""
``pgzoo tune``: search hyperparameters of a pgzoo algorithm on an env with Optuna.

Each trial samples hyperparameters from the algorithm's search space (:data:`SEARCH_SPACES`), trains them with
:func:`pgzoo.zoo.train.train` on top of the env's entry of ``hyperparams/<algo>.yml`` and scores the final model by
its mean evaluation reward, with the actions ``pgzoo train`` evaluates with (the most likely ones; sampled for Atari,
as the RL Zoo evaluates it). While training, the trial reports the learning curve to Optuna
(``--n-evaluations`` points), so that the pruner stops trials that lag behind the others. With ``--storage`` (e.g.
``sqlite:///tune.db``) a study survives interruptions and several ``pgzoo tune`` processes can share it.

The best trial is printed and written as a YAML entry (``--output``) ready to be merged into ``hyperparams/<algo>.yml``.
Optuna is an optional dependency: ``pip install optuna`` (or ``pip install 'pgzoo[extra]'``).
"""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from stable_baselines3.common.callbacks import BaseCallback

from pgzoo.zoo.errors import DivergedError, ZooError, check_seed_range, one_line

_GAMMAS = [0.9, 0.95, 0.98, 0.99, 0.995, 0.999]
_NET_ARCHS = {"small": [64, 64], "medium": [128, 128], "large": [256, 256]}
_ACTIVATIONS = {"tanh": "nn.Tanh", "relu": "nn.ReLU"}


def _learning_rate(trial: Any, low: float, high: float) -> float | str:
    rate = trial.suggest_float("learning_rate", low, high, log=True)
    # A linearly decaying rate often helps policy gradients settle; the zoo reads "lin_<initial>" as that schedule.
    return f"lin_{rate:.3g}" if trial.suggest_categorical("lr_schedule", ["constant", "linear"]) == "linear" else rate


def _policy_kwargs(trial: Any, *, activation: bool = True) -> str:
    arch = _NET_ARCHS[trial.suggest_categorical("net_arch", list(_NET_ARCHS))]
    parts = [f"net_arch={arch}"]
    if activation:
        parts.append(f"activation_fn={_ACTIVATIONS[trial.suggest_categorical('activation_fn', list(_ACTIVATIONS))]}")
    return f"dict({', '.join(parts)})"


def sample_reinforce(trial: Any) -> dict[str, Any]:
    """
    REINFORCE's search space: step size, discount, episodes per update, baseline and entropy bonus.

    :param trial: Optuna trial.
    :return: Hyperparameters in the zoo's file format.
    """
    return {
        "learning_rate": _learning_rate(trial, 1e-4, 1e-2),
        "gamma": trial.suggest_categorical("gamma", _GAMMAS),
        "n_episodes": trial.suggest_categorical("n_episodes", [1, 2, 4, 8, 16]),
        "use_baseline": trial.suggest_categorical("use_baseline", [True, False]),
        "normalize_advantage": trial.suggest_categorical("normalize_advantage", [True, False]),
        "ent_coef": trial.suggest_float("ent_coef", 1e-8, 0.05, log=True),
        "max_grad_norm": trial.suggest_categorical("max_grad_norm", [0.5, 1.0, 5.0, 10.0]),
        "policy_kwargs": _policy_kwargs(trial),
    }


def sample_a3c(trial: Any) -> dict[str, Any]:
    """
    A3C's search space: step size, envs per worker and rollout length, discount, GAE, loss weights, optimizer.

    :param trial: Optuna trial.
    :return: Hyperparameters in the zoo's file format.
    """
    return {
        # Below 1e-4 a few hundred thousand steps barely move the policy: such trials were all pruned on LunarLander.
        "learning_rate": _learning_rate(trial, 1e-4, 5e-3),
        "n_envs": trial.suggest_categorical("n_envs", [1, 4, 8, 16]),
        "n_steps": trial.suggest_categorical("n_steps", [5, 8, 16, 32]),
        "gamma": trial.suggest_categorical("gamma", _GAMMAS),
        "gae_lambda": trial.suggest_categorical("gae_lambda", [0.9, 0.95, 0.98, 1.0]),
        "ent_coef": trial.suggest_float("ent_coef", 1e-8, 0.05, log=True),
        "vf_coef": trial.suggest_float("vf_coef", 0.2, 1.0),
        "max_grad_norm": trial.suggest_categorical("max_grad_norm", [0.5, 1.0, 5.0]),
        "use_rms_prop": trial.suggest_categorical("use_rms_prop", [True, False]),
        "normalize_advantage": trial.suggest_categorical("normalize_advantage", [True, False]),
        "policy_kwargs": _policy_kwargs(trial),
    }


def sample_dpg(trial: Any) -> dict[str, Any]:
    """
    DPG's search space: step size, replay and update schedule, target smoothing, exploration noise, network size.

    :param trial: Optuna trial.
    :return: Hyperparameters in the zoo's file format.
    """
    train_freq = trial.suggest_categorical("train_freq", [1, 4, 16, 64])
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 3e-3, log=True),
        "gamma": trial.suggest_categorical("gamma", _GAMMAS),
        "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256]),
        "buffer_size": trial.suggest_categorical("buffer_size", [100_000, 1_000_000]),
        "learning_starts": trial.suggest_categorical("learning_starts", [100, 1000, 10_000]),
        "tau": trial.suggest_categorical("tau", [0.001, 0.005, 0.01, 0.02]),
        # One gradient step per collected step keeps the replay ratio of the original algorithm.
        "train_freq": train_freq,
        "gradient_steps": train_freq,
        "noise_type": trial.suggest_categorical("noise_type", ["normal", "ornstein-uhlenbeck"]),
        "noise_std": trial.suggest_float("noise_std", 0.05, 0.8),
        "policy_kwargs": _policy_kwargs(trial, activation=False),
    }


#: Algorithm -> function sampling its hyperparameters from an Optuna trial.
SEARCH_SPACES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "reinforce": sample_reinforce,
    "a3c": sample_a3c,
    "dpg": sample_dpg,
}


class TrialPruningCallback(BaseCallback):
    """
    Report each new point of the learning curve to the Optuna trial, and stop training when it should be pruned.

    The zoo's ``EvalCallback`` appends every evaluation to ``evaluations.npz`` in the run folder; this callback reads
    the file when it changes instead of evaluating a second time.

    :param trial: The Optuna trial being trained.
    :param log_folder: Log folder of the trial. The run is its newest run folder: one made by an earlier search in
        the same folder holds another trial's curve.
    :param algo: The algorithm trained (its runs are in ``<log_folder>/<algo>/``).
    :param env_id: The env trained on.
    :param step_offset: Added to the steps reported: a trial's later seeds continue its curve after the earlier ones.
    """

    def __init__(self, trial: Any, log_folder: str | Path, algo: str, env_id: str, step_offset: int = 0) -> None:
        super().__init__()
        self.trial, self.log_folder, self.step_offset = trial, Path(log_folder), step_offset
        self.algo, self.env_id = algo, env_id
        #: Whether this callback stopped training (the objective then raises ``TrialPruned``).
        self.pruned = False
        self.path: Path | None = None
        self.mtime_ns = 0
        self.reported = 0

    def _on_training_start(self) -> None:
        from pgzoo.zoo.runs import EVALUATIONS, newest_run_folder

        # train() makes the run folder before training starts: the newest one is this run's.
        run_folder = newest_run_folder(self.log_folder, self.algo, self.env_id)
        if run_folder is not None:
            self.path = run_folder / EVALUATIONS

    def _on_step(self) -> bool:
        if self.path is None:
            return True
        try:
            mtime_ns = self.path.stat().st_mtime_ns
            if mtime_ns == self.mtime_ns:
                return True  # no new evaluation since the last look (a stat per step is cheap)
            with np.load(self.path) as data:
                steps, results = data["timesteps"], data["results"]
            self.mtime_ns = mtime_ns
        except (OSError, ValueError, KeyError):  # being rewritten right now: look again at the next step
            return True
        for step, rewards in zip(steps[self.reported :].tolist(), list(results[self.reported :]), strict=True):
            self.trial.report(float(np.mean(rewards)), step=self.step_offset + int(step))
        self.reported = len(steps)
        if self.trial.should_prune():
            self.trial.set_user_attr("pruned_at", int(self.num_timesteps))
            self.pruned = True
            return False  # stops training; the objective then raises TrialPruned
        return True


def _import_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ZooError("pgzoo tune needs Optuna: pip install optuna (or pip install 'pgzoo[extra]')") from None
    return optuna


def tune(
    algo: str,
    env_id: str,
    *,
    n_trials: int = 20,
    n_timesteps: int | None = None,
    n_evaluations: int = 5,
    eval_episodes: int = 10,
    sampler: str = "tpe",
    pruner: str = "median",
    n_startup_trials: int = 5,
    seed: int = 0,
    n_seeds: int = 1,
    storage: str | None = None,
    study_name: str | None = None,
    timeout: float | None = None,
    log_folder: str | Path = "logs/tune",
    hyperparams_file: str | Path | None = None,
    output: str | Path | None = None,
    verbose: int = 1,
) -> tuple[dict[str, Any], float, Path]:
    """
    Search hyperparameters of ``algo`` on ``env_id`` and write the best entry as YAML.

    :param algo: pgzoo algorithm with a search space (:data:`SEARCH_SPACES`).
    :param env_id: Gymnasium env id.
    :param n_trials: Trials to run in this call (a shared ``storage`` adds them to the study's earlier ones).
    :param n_timesteps: Training budget per trial; ``None`` uses the entry's ``n_timesteps``.
    :param n_evaluations: Points of the learning curve reported to the pruner.
    :param eval_episodes: Deterministic episodes per evaluation (curve points and final score).
    :param sampler: ``"tpe"`` or ``"random"``.
    :param pruner: ``"median"`` or ``"none"``.
    :param n_startup_trials: Trials sampled at random, and never pruned, before the sampler and pruner kick in.
    :param seed: Seed of the sampler and of every trial's first training run.
    :param n_seeds: Training runs per trial, with seeds ``seed``, ``seed + 1``, ...; the trial's score is the mean of
        their final rewards. More than one costs time but keeps the search from tuning to one seed's luck.
    :param storage: Optuna storage URL (e.g. ``sqlite:///tune.db``) to resume or share a study; ``None``: in memory.
    :param study_name: Study name in the storage (default ``<algo>-<env>``).
    :param timeout: Stop starting new trials after this many seconds.
    :param log_folder: Root folder of the trials' runs (``trial_<n>[_seed<k>]/<algo>/<env>_1``).
    :param hyperparams_file: File whose entry the samples are applied on (default: the packaged ``<algo>.yml``).
    :param output: YAML file for the best entry (default ``<log_folder>/<algo>_<env>_best.yml``); an existing one is
        kept unless it holds a result no better for the same algorithm, env and budget (see :func:`_write_best`).
    :param verbose: 0 quiet, 1 one line per trial.
    :return: The best entry (file format), its score, and the YAML file written.
    :raises ZooError: Unknown algorithm or env, no search space, Optuna missing, bad counts, a storage that does not
        open, an output that cannot be written (all checked before the search), no trial completed.
    :raises KeyboardInterrupt: On Ctrl-C, after writing the best trial completed by then (if any).
    """
    from pgzoo.zoo.algos import normalize_algo_name
    from pgzoo.zoo.envs import check_env_id, env_folder_name
    from pgzoo.zoo.hyperparams import load_entry

    algo = normalize_algo_name(algo)
    check_env_id(env_id)
    if algo not in SEARCH_SPACES:
        raise ZooError(f"no search space for {algo!r}: pgzoo tune supports {', '.join(SEARCH_SPACES)}")
    _check_counts(n_trials, n_evaluations, eval_episodes, n_seeds, n_timesteps, n_startup_trials, seed, timeout)
    entry = load_entry(algo, env_id, hyperparams_file, options={"n_timesteps": n_timesteps})
    budget = entry.config.n_timesteps
    output = Path(output) if output else Path(log_folder) / f"{algo}_{env_folder_name(env_id)}_best.yml"
    # Now rather than after hours of search: without --storage, a failed write would lose the search's result.
    _check_writable(output)
    optuna = _import_optuna()
    study = _open_study(
        optuna,
        study_name or f"{algo}-{env_folder_name(env_id)}",
        storage,
        sampler,
        pruner,
        n_startup_trials=n_startup_trials,
        seed=seed,
        n_warmup_steps=budget // 3,
    )
    objective = Objective(
        algo,
        env_id,
        budget=budget,
        seed=seed,
        n_seeds=n_seeds,
        n_evaluations=n_evaluations,
        eval_episodes=eval_episodes,
        log_folder=Path(log_folder) / f"{algo}_{env_folder_name(env_id)}",
        hyperparams_file=hyperparams_file,
    )

    # A sampled combination may be rejected by the algorithm (e.g. an unstable network raising on NaN), or make
    # training diverge (train() saves no NaN model and raises DivergedError): that trial fails and the search goes on.
    interrupted = False
    try:
        failures = (ValueError, RuntimeError, DivergedError)
        callbacks = [functools.partial(_log_trial, verbose=verbose)]
        study.optimize(objective, n_trials=n_trials, timeout=timeout, callbacks=callbacks, catch=failures)
    except KeyboardInterrupt:
        # Ctrl-C ends the search, not its result: the best trial completed so far is written as usual.
        interrupted = True
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        if interrupted:
            raise KeyboardInterrupt
        raise ZooError("no trial completed (all pruned or failed): try more trials or a larger budget")
    best = study.best_trial
    # Rebuild the entry from the best trial's parameters with the same sampling code, so the YAML is exactly what ran.
    best_entry = {**entry.raw, **SEARCH_SPACES[algo](optuna.trial.FixedTrial(best.params)), "n_timesteps": budget}
    # The search looked at these seeds (and the base entry at its own): the benchmark must report others.
    best_entry["tuning_seeds"] = sorted({*entry.config.tuning_seeds, *range(seed, seed + n_seeds)})
    text = _best_entry_text(algo, env_id, best_entry, best, len(study.trials), eval_episodes, budget, seed, n_seeds)
    path = _write_best(output, text, algo, env_id, budget, float(best.value), verbose)
    if interrupted:
        print(f"interrupted: the best of the trials completed so far is in {path}", file=sys.stderr)
        raise KeyboardInterrupt
    return best_entry, float(best.value), path


def _check_counts(
    n_trials: int,
    n_evaluations: int,
    eval_episodes: int,
    n_seeds: int,
    n_timesteps: int | None,
    n_startup_trials: int,
    seed: int,
    timeout: float | None,
) -> None:
    """
    Check :func:`tune`'s numbers (the parameters are its own).

    :raises ZooError: When one is out of range, named by its option.
    """
    counts = {"--n-trials": n_trials, "--n-evaluations": n_evaluations, "--eval-episodes": eval_episodes,
              "--n-seeds": n_seeds, "--n-timesteps": 1 if n_timesteps is None else n_timesteps}  # fmt: skip
    for option, value in counts.items():
        if value <= 0:
            raise ZooError(f"{option} must be positive, got {value}")
    if n_startup_trials < 0:
        raise ZooError(f"--n-startup-trials must be >= 0, got {n_startup_trials}")
    check_seed_range("--seed", seed, n_seeds)
    if timeout is not None and not timeout > 0:
        raise ZooError(f"--timeout must be positive, got {timeout}")


def _open_study(
    optuna: Any,
    name: str,
    storage: str | None,
    sampler: str,
    pruner: str,
    *,
    n_startup_trials: int,
    seed: int,
    n_warmup_steps: int,
) -> Any:
    """
    Create the Optuna study, or load it from ``storage``.

    :param optuna: The ``optuna`` module.
    :param name: Study name.
    :param storage: Storage URL, or ``None`` for memory.
    :param sampler: ``"tpe"`` or ``"random"``.
    :param pruner: ``"median"`` or ``"none"``.
    :param n_startup_trials: Random, unpruned trials first.
    :param seed: The sampler's seed.
    :param n_warmup_steps: Steps of a trial before the median pruner may stop it.
    :raises ZooError: On an unknown sampler or pruner, or a storage that does not open.
    """
    # Optuna's own INFO lines repeat every parameter; this command prints one line per trial instead.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samplers = {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler}
    if sampler not in samplers:
        raise ZooError(f"unknown sampler {sampler!r}: use tpe or random")
    sampler_kwargs = {"n_startup_trials": n_startup_trials} if sampler == "tpe" else {}
    if pruner == "median":
        # No pruning before a third of the curve: early rewards say little about where a run ends.
        the_pruner = optuna.pruners.MedianPruner(n_startup_trials=n_startup_trials, n_warmup_steps=n_warmup_steps)
    elif pruner == "none":
        the_pruner = optuna.pruners.NopPruner()
    else:
        raise ZooError(f"unknown pruner {pruner!r}: use median or none")
    try:
        return optuna.create_study(
            study_name=name,
            storage=storage,
            load_if_exists=True,
            direction="maximize",
            sampler=samplers[sampler](seed=seed, **sampler_kwargs),
            pruner=the_pruner,
        )
    except Exception as error:
        if storage is None:
            raise
        # A missing driver is an ImportError, an unparsable URL or a study of another direction a ValueError-like error.
        raise ZooError(f"cannot open --storage {storage!r}: {one_line(error)}") from None


class Objective:
    """
    What Optuna maximizes: a trial's sampled hyperparameters trained with :func:`pgzoo.zoo.train.train` on each seed,
    scored by the mean final reward.

    :param algo: The algorithm.
    :param env_id: The env.
    :param budget: Training steps per seed.
    :param seed: The first seed.
    :param n_seeds: Seeds per trial.
    :param n_evaluations: Points of the learning curve reported to the pruner.
    :param eval_episodes: Episodes per evaluation.
    :param log_folder: Folder of the trials' runs (``trial_<n>[_seed<k>]/``).
    :param hyperparams_file: The file whose entry the samples are applied on.
    """

    def __init__(
        self,
        algo: str,
        env_id: str,
        *,
        budget: int,
        seed: int,
        n_seeds: int,
        n_evaluations: int,
        eval_episodes: int,
        log_folder: Path,
        hyperparams_file: str | Path | None,
    ) -> None:
        self.algo, self.env_id, self.budget, self.seed, self.n_seeds = algo, env_id, budget, seed, n_seeds
        self.n_evaluations, self.eval_episodes = n_evaluations, eval_episodes
        self.log_folder, self.hyperparams_file = log_folder, hyperparams_file

    def __call__(self, trial: Any) -> float:
        params = SEARCH_SPACES[self.algo](trial)
        scores = [self.train_one_seed(trial, params, index) for index in range(self.n_seeds)]
        trial.set_user_attr("seed_scores", scores)
        return float(np.mean(scores))

    def train_one_seed(self, trial: Any, params: dict[str, Any], index: int) -> float:
        """
        Train the trial's hyperparameters on its ``index``-th seed and return the final mean reward.

        :param trial: The Optuna trial.
        :param params: Its sampled hyperparameters.
        :param index: Which of its seeds.
        :raises optuna.TrialPruned: When the pruner stopped it, or training diverged.
        :raises KeyboardInterrupt: When training was interrupted.
        """
        from pgzoo.zoo.train import train

        optuna = _import_optuna()
        suffix = f"_seed{self.seed + index}" if self.n_seeds > 1 else ""
        folder = self.log_folder / f"trial_{trial.number}{suffix}"
        check = TrialPruningCallback(trial, folder, self.algo, self.env_id, step_offset=index * self.budget)
        result = train(
            self.algo,
            self.env_id,
            seed=self.seed + index,
            log_folder=folder,
            hyperparams=params,
            hyperparams_file=self.hyperparams_file,
            n_timesteps=self.budget,
            eval_freq=max(self.budget // self.n_evaluations, 1),
            eval_episodes=self.eval_episodes,
            final_eval_episodes=self.eval_episodes,
            verbose=0,
            extra_callbacks=[check],
        )
        if result.interrupted:
            raise KeyboardInterrupt
        if check.pruned:
            raise optuna.TrialPruned()
        if math.isnan(result.mean_reward):
            raise optuna.TrialPruned()  # diverged: nothing to learn from its score
        return result.mean_reward


def _log_trial(study: Any, trial: Any, *, verbose: int) -> None:
    """
    Print one line for a finished trial (Optuna's callback after each trial).

    :param study: The study.
    :param trial: The trial.
    :param verbose: Nothing is printed at 0.
    """
    if not verbose:
        return
    complete = trial.state.name == "COMPLETE"
    value = f"{trial.value:.2f}" if complete else trial.state.name.lower()
    best = f"{study.best_value:.2f}" if any(t.state.name == "COMPLETE" for t in study.trials) else "-"
    seeds = trial.user_attrs.get("seed_scores")
    per_seed = f" per seed {', '.join(f'{score:.2f}' for score in seeds)}" if seeds and len(seeds) > 1 else ""
    print(f"trial {trial.number}: {value}{per_seed} (best {best}) {trial.params}", flush=True)


def _best_entry_text(
    algo: str,
    env_id: str,
    entry: dict[str, Any],
    best: Any,
    n_trials: int,
    eval_episodes: int,
    budget: int,
    seed: int,
    n_seeds: int,
) -> str:
    """
    The YAML file of the best entry, with the header that :func:`_recorded_score` reads back.

    :param algo: The algorithm.
    :param env_id: The env.
    :param entry: The entry.
    :param best: The best Optuna trial.
    :param n_trials: Trials in the study.
    :param eval_episodes: Episodes per evaluation.
    :param budget: Training steps per seed.
    :param seed: The first seed.
    :param n_seeds: Seeds per trial.
    """
    from pgzoo.zoo.envs import deterministic_eval_default
    from pgzoo.zoo.hyperparams import to_saveable

    seeds = f"seeds {seed}-{seed + n_seeds - 1}" if n_seeds > 1 else f"seed {seed}"
    actions = "deterministic" if deterministic_eval_default(env_id) else "stochastic"
    header = (
        f"# pgzoo tune {algo}: best of {n_trials} trials (trial {best.number}), mean {actions} reward "
        f"{best.value:.2f} over {eval_episodes} episodes after {budget} steps, {seeds}\n"
    )
    return header + yaml.safe_dump({env_id: to_saveable(entry)}, sort_keys=False)


def _check_writable(path: Path) -> None:
    """
    Make sure the file ``path`` can be written at the end of the search.

    :param path: The ``--output`` file.
    :raises ZooError: When it cannot be.
    """
    from pgzoo.zoo.fileio import check_writable_folder

    if path.is_dir():
        raise ZooError(f"--output {path} is a folder: give a file name")
    check_writable_folder(path.parent, f"the folder of --output {path}")


#: What the header of a file written by :func:`tune` says about its result: algorithm, score and budget.
_HEADER = re.compile(
    r"^# pgzoo tune (\S+): .* mean (?:deterministic|stochastic) reward (\S+) over \d+ episodes after (\d+) steps"
)


def _recorded_score(path: Path, algo: str, env_id: str, budget: int) -> float | None:
    """
    The score of the result ``path`` holds, when it is ``pgzoo tune``'s best ``algo`` entry for ``env_id`` at
    ``budget`` steps.

    :param path: An existing output file.
    :param algo: Algorithm of the new result.
    :param env_id: Env id of the new result.
    :param budget: Training steps per trial of the new result.
    :return: Its score, or ``None`` when the file holds anything else (an edited file, another algorithm, env or
        budget).
    """
    try:
        text = path.read_text()
        match = _HEADER.match(text)
        if match is None or match.group(1) != algo or int(match.group(3)) != budget:
            return None
        if list(yaml.safe_load(text) or {}) != [env_id]:
            return None
        return float(match.group(2))
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return None


def _write_best(output: Path, text: str, algo: str, env_id: str, budget: int, score: float, verbose: int) -> Path:
    """
    Write the best entry atomically to ``output``, unless that would replace a better result or someone else's file.

    ``output`` is replaced only when it holds an earlier ``pgzoo tune`` result for the same algorithm, env and budget
    that scores
    no more than ``score`` (so resuming a study with ``--storage`` updates it). Otherwise it is kept, and the entry goes
    to the first free ``<stem>.<n><suffix>`` beside it.

    :param output: The requested file.
    :param text: The file's content.
    :param algo: Algorithm of the result.
    :param env_id: Env id of the result.
    :param budget: Training steps per trial.
    :param score: The best trial's score.
    :param verbose: Say what was replaced or kept when > 0.
    :return: The file written.
    """
    from pgzoo.zoo.fileio import atomic_write_text

    path = output
    if output.exists():
        previous = _recorded_score(output, algo, env_id, budget)
        if previous is not None and previous <= score:
            if verbose:
                print(f"replacing {output}: its earlier result scored {previous:.2f}")
        else:
            number = 1
            while (path := output.with_name(f"{output.stem}.{number}{output.suffix}")).exists():
                number += 1
            if verbose:
                held = (
                    f"a better result ({previous:.2f})"
                    if previous is not None
                    else f"no tune result for {env_id} at {budget} steps"
                )
                print(f"kept {output}: it holds {held}; this result goes to {path}")
    atomic_write_text(path, text)
    return path


__all__ = ["SEARCH_SPACES", "Objective", "TrialPruningCallback", "tune"]

"""
Measure two claims of the policy-gradient lecture that pgzoo's algorithms come from.

1. DPG (Silver et al. 2014, continuous bandit): the advantage of the deterministic policy gradient over the stochastic
   one grows with the number of action dimensions m. pgzoo's DPG and REINFORCE (Gaussian policy, with and without its
   learned baseline) learn ``pgzoo/QuadraticBandit-v0`` for m = 10, 25, 50, on the same budget of env steps and the
   same samples per update (``N_ENVS`` one-step episodes, then one gradient step). As in the paper, each method's step
   size is tuned per m: a small grid on a separate seed, ranked by the mean log-cost over the run. The script plots the
   cost of the policy's deterministic action against env steps and tabulates the steps each method needs to reach a
   fixed cost, with the stochastic / deterministic ratio.
2. REINFORCE: a learned baseline reduces the variance of the gradient estimate. REINFORCE with and without the
   baseline learns CartPole-v1 and the bandit with the same seeds and learning rate; along training the script
   measures the variance of the policy-gradient estimate across independent batches (the trace of its covariance).

Every run is cached as JSON under ``--out`` (default ``benchmarks/lecture``), keyed by its full configuration, so a
rerun skips finished runs and only redraws plots and tables. ``--smoke`` runs a tiny version of everything (for tests).

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python scripts/lecture_claims.py [--out benchmarks/lecture] [--smoke]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv
from torch import nn

from pgzoo import DPG, REINFORCE
from pgzoo.common.noise import make_action_noise
from pgzoo.common.utils import limit_torch_threads
from pgzoo.envs import QUADRATIC_BANDIT_ID, QuadraticBanditEnv
from pgzoo.envs.bandit import ACTION_BOUND
from pgzoo.reinforce.reinforce import discounted_returns

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "lecture"

#: Methods of the bandit experiment: the deterministic one first (the denominator of the ratios).
DETERMINISTIC = "dpg"
STOCHASTIC = ("reinforce_baseline", "reinforce")
METHODS = (DETERMINISTIC, *STOCHASTIC)
LABELS = {
    "dpg": "DPG (deterministic)",
    "reinforce_baseline": "REINFORCE + baseline (Gaussian)",
    "reinforce": "REINFORCE, no baseline (Gaussian)",
}
COLORS = {"dpg": "tab:blue", "reinforce_baseline": "tab:orange", "reinforce": "tab:green"}


@dataclass(frozen=True)
class Settings:
    """Sizes of the whole experiment; :data:`FULL` is what the committed results used, :data:`SMOKE` is for tests."""

    action_dims: tuple[int, ...]
    seeds: tuple[int, ...]
    #: Seed of the step-size search, kept apart from the seeds that are reported.
    tune_seed: int
    #: Learning rates tried per m (Adam): DPG's actor (its critic keeps a fixed rate), and both REINFORCE variants.
    dpg_lr_grid: tuple[float, ...]
    reinforce_lr_grid: tuple[float, ...]
    bandit_steps: int
    eval_every: int
    #: "Fixed costs" of the table: steps until the deterministic action's cost is at most each of these.
    cost_thresholds: tuple[float, ...]
    # Baseline claim.
    variance_action_dim: int
    variance_bandit_lr: float
    cartpole_steps: int
    cartpole_lr: float
    variance_every: int
    variance_batches: int

    def lr_grid(self, method: str) -> tuple[float, ...]:
        """The learning rates tried for ``method``."""
        return self.dpg_lr_grid if method == DETERMINISTIC else self.reinforce_lr_grid


FULL = Settings(
    action_dims=(10, 25, 50),
    seeds=(0, 1, 2, 3, 4),
    tune_seed=1000,
    dpg_lr_grid=(1e-3, 3e-3, 1e-2),
    reinforce_lr_grid=(1e-2, 3e-2, 1e-1),
    bandit_steps=32_768,
    eval_every=1024,
    cost_thresholds=(10.0, 1.0),
    variance_action_dim=10,
    variance_bandit_lr=1e-2,
    cartpole_steps=40_000,
    cartpole_lr=2e-3,
    variance_every=5_000,
    variance_batches=10,
)
SMOKE = Settings(
    action_dims=(2, 4),
    seeds=(0, 1),
    tune_seed=1000,
    dpg_lr_grid=(1e-2,),
    reinforce_lr_grid=(1e-2, 3e-2),
    bandit_steps=512,
    eval_every=128,
    cost_thresholds=(10.0, 1.0),
    variance_action_dim=2,
    variance_bandit_lr=1e-2,
    cartpole_steps=600,
    cartpole_lr=2e-3,
    variance_every=300,
    variance_batches=3,
)

#: One-step episodes per update for every bandit method (DPG: env steps between two gradient steps).
N_ENVS = 16
#: Episodes per update on CartPole (as in hyperparams/reinforce.yml).
CARTPOLE_ENVS = 8
GAMMA = 0.99
#: Exploration width in action units, the same for both families: REINFORCE's initial std and DPG's noise std.
EXPLORATION_STD = 1.0
#: DPG's critic: an MLP Q(s, a) (pgzoo's DPG has no compatible linear critic), with a fixed Adam rate and replay size.
DPG_CRITIC = dict(net_arch=[256, 256], learning_rate=1e-3, buffer_size=2048, batch_size=256, learning_starts=256)


# --------------------------------------------------------------------------------------------------- bandit runs


@dataclass(frozen=True)
class BanditRun:
    """One training run on the bandit: everything that determines its result (and its cache file)."""

    method: str
    action_dim: int
    learning_rate: float
    seed: int
    steps: int
    eval_every: int

    @property
    def name(self) -> str:
        return f"{self.method}_m{self.action_dim}_lr{self.learning_rate:g}_n{self.steps}_seed{self.seed}"


def scaled_bandit(action_dim: int) -> Callable[[gym.Env], gym.Env]:
    """
    Wrapper that divides the reward by the cost of the initial action a = 0, so that rewards start near -1 for every
    m (a fixed rescaling, the same for all methods; it keeps critic and baseline targets of order one).
    """
    initial_cost = float(QuadraticBanditEnv(action_dim).cost(np.zeros(action_dim)))

    def wrap(env: gym.Env) -> gym.Env:
        return gym.wrappers.TransformReward(env, lambda reward: reward / initial_cost)

    return wrap


def bandit_env(action_dim: int, n_envs: int, seed: int) -> VecEnv:
    return make_vec_env(
        QUADRATIC_BANDIT_ID,
        n_envs=n_envs,
        seed=seed,
        env_kwargs={"action_dim": action_dim},
        wrapper_class=scaled_bandit(action_dim),
    )


def _zero_last_linear(module: nn.Module) -> None:
    """Zero the last linear layer, so that the policy's (mean) action starts at a = 0 for every method and seed."""
    last = [layer for layer in module.modules() if isinstance(layer, nn.Linear)][-1]
    with th.no_grad():
        last.weight.zero_()
        last.bias.zero_()


def make_bandit_model(run: BanditRun, env: VecEnv) -> BaseAlgorithm:
    """
    :param run: The run.
    :param env: Its training environments (``N_ENVS`` of them).
    :return: The untrained model; every method's policy starts at the action a = 0 (cost 1 after scaling).
    """
    if run.method == DETERMINISTIC:
        dpg = DPG(
            "MlpPolicy",
            env,
            learning_rate=run.learning_rate,
            critic_learning_rate=DPG_CRITIC["learning_rate"],
            buffer_size=DPG_CRITIC["buffer_size"],
            batch_size=DPG_CRITIC["batch_size"],
            learning_starts=DPG_CRITIC["learning_starts"],
            # One-step episodes: the critic's target is the reward itself whatever gamma and tau are.
            gamma=0.0,
            train_freq=1,
            gradient_steps=1,
            action_noise=make_action_noise("normal", EXPLORATION_STD / ACTION_BOUND, run.action_dim, env.num_envs),
            policy_kwargs={"net_arch": {"pi": [], "qf": DPG_CRITIC["net_arch"]}},
            seed=run.seed,
            device="cpu",
        )
        _zero_last_linear(dpg.actor)
        dpg.actor_target.load_state_dict(dpg.actor.state_dict())
        return dpg
    reinforce = REINFORCE(
        "MlpPolicy",
        env,
        learning_rate=run.learning_rate,
        n_episodes=env.num_envs,
        gamma=GAMMA,
        use_baseline=run.method == "reinforce_baseline",
        # Normalising a batch of one-step returns from one constant observation would subtract the batch mean: a
        # baseline of its own, which would hide the difference between the two variants.
        normalize_advantage=False,
        policy_kwargs={"net_arch": {"pi": [], "vf": []}, "log_std_init": float(np.log(EXPLORATION_STD))},
        seed=run.seed,
        device="cpu",
    )
    _zero_last_linear(reinforce.policy.action_net)
    return reinforce


class Checkpoints(BaseCallback):
    """
    Call ``measure(model)`` at step 0 and then every ``every`` env steps, keeping ``(step, result)`` pairs.

    :param every: Env steps between two measurements.
    :param measure: What to record.
    """

    def __init__(self, every: int, measure: Callable[[BaseAlgorithm], Any]):
        super().__init__()
        self.every = every
        self.measure = measure
        self.history: list[tuple[int, Any]] = []
        self.next_at = 0

    def _on_training_start(self) -> None:
        self._record()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_at:
            self._record()
        return True

    def _record(self) -> None:
        self.history.append((self.num_timesteps, self.measure(self.model)))
        self.next_at = self.num_timesteps + self.every


def deterministic_action(model: BaseAlgorithm) -> np.ndarray:
    observation = np.ones((1, 1), dtype=np.float32)
    action, _ = model.predict(observation, deterministic=True)
    return np.asarray(action)[0]


def train_bandit(run: BanditRun) -> dict[str, Any]:
    """Train one run and return its learning curve: the cost of the deterministic action against env steps."""
    env = bandit_env(run.action_dim, N_ENVS, run.seed)
    problem = QuadraticBanditEnv(run.action_dim)
    model = make_bandit_model(run, env)
    curve = Checkpoints(run.eval_every, lambda m: float(problem.cost(deterministic_action(m))))
    start = time.process_time()
    model.learn(run.steps, callback=curve)
    env.close()
    steps, costs = zip(*curve.history, strict=True)
    return {"steps": list(steps), "cost": list(costs), "cpu_seconds": time.process_time() - start}


# --------------------------------------------------------------------------------------------- gradient variance


@dataclass(frozen=True)
class VarianceRun:
    """One REINFORCE run of the baseline experiment."""

    env: str  # "CartPole-v1" or "bandit"
    use_baseline: bool
    learning_rate: float
    seed: int
    steps: int
    every: int
    batches: int
    action_dim: int

    @property
    def name(self) -> str:
        env = "CartPole-v1" if self.env == "CartPole-v1" else f"bandit_m{self.action_dim}"
        baseline = "baseline" if self.use_baseline else "nobaseline"
        return f"{env}_{baseline}_lr{self.learning_rate:g}_n{self.steps}_seed{self.seed}"


def collect_episodes(model: REINFORCE, env: VecEnv, n_episodes: int) -> list[dict[str, np.ndarray]]:
    """
    Run the current (stochastic) policy until ``n_episodes`` episodes have ended.

    :return: One dict per episode with its ``observations``, ``actions`` (as the policy sampled them) and ``rewards``.
    """
    running: list[dict[str, list[np.ndarray]]] = [
        {"observations": [], "actions": [], "rewards": []} for _ in range(env.num_envs)
    ]
    episodes: list[dict[str, np.ndarray]] = []
    observations = env.reset()
    action_space = model.action_space
    while len(episodes) < n_episodes:
        with th.no_grad():
            actions = model.policy._predict(model.policy.obs_to_tensor(observations)[0]).cpu().numpy()
        env_actions = actions
        if isinstance(action_space, gym.spaces.Box):
            env_actions = np.clip(actions, action_space.low, action_space.high)
        next_observations, rewards, dones, _ = env.step(env_actions)
        for index, episode in enumerate(running):
            episode["observations"].append(np.asarray(observations)[index])
            episode["actions"].append(actions[index])
            episode["rewards"].append(np.asarray(rewards[index], dtype=np.float32))
            if dones[index]:
                episodes.append({key: np.stack(values) for key, values in episode.items()})
                running[index] = {"observations": [], "actions": [], "rewards": []}
        observations = next_observations
    return episodes[:n_episodes]


def policy_gradients(model: REINFORCE, batch: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """
    The REINFORCE estimate of the policy gradient from one batch of episodes, as ``train()`` forms it (mean over the
    batch's steps, no advantage normalisation), w.r.t. the policy's own parameters (not the value head's).

    :return: ``{"no_baseline": grad}`` using the returns G_t, plus ``{"baseline": grad}`` using G_t - V(s_t) when the
        model learns a baseline. Both come from the same episodes.
    """
    policy = model.policy
    observations = th.as_tensor(np.concatenate([episode["observations"] for episode in batch]), dtype=th.float32)
    actions = th.as_tensor(np.concatenate([episode["actions"] for episode in batch]))
    if isinstance(model.action_space, gym.spaces.Discrete):
        actions = actions.long().flatten()
    returns = th.as_tensor(
        np.concatenate(
            [
                discounted_returns(episode["rewards"][:, None], _episode_end(len(episode["rewards"])), model.gamma)[:, 0]
                for episode in batch
            ]
        )
    )
    values, log_prob, _ = policy.evaluate_actions(observations, actions)
    value_params = {id(param) for param in policy.value_net.parameters()}
    params = [param for param in policy.parameters() if id(param) not in value_params]
    advantages = {"no_baseline": returns}
    if model.use_baseline:
        advantages["baseline"] = returns - values.flatten().detach()
    gradients = {}
    for key, advantage in advantages.items():
        loss = -(advantage * log_prob).mean()
        grads = th.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        gradients[key] = th.cat([g.flatten() for g in grads if g is not None]).numpy().astype(np.float64)
    return gradients


def _episode_end(length: int) -> np.ndarray:
    dones = np.zeros((length, 1), dtype=np.float32)
    dones[-1] = 1.0
    return dones


def gradient_variance(model: REINFORCE, env: VecEnv, n_batches: int) -> dict[str, float]:
    """
    Draw ``n_batches`` independent batches (as many episodes as one update uses) from the current policy and measure
    the spread of the gradient estimates: ``var`` is the trace of their covariance, the mean squared distance to their
    mean; ``mean_sq`` is the squared norm of their mean (the signal). Episodes cut by CartPole's time limit count as
    ended (no bootstrap), for both estimators alike.
    """
    episodes_per_batch = model.n_episodes or env.num_envs
    estimates: dict[str, list[np.ndarray]] = {}
    for _ in range(n_batches):
        batch = collect_episodes(model, env, episodes_per_batch)
        for key, gradient in policy_gradients(model, batch).items():
            estimates.setdefault(key, []).append(gradient)
    result = {}
    for key, grads in estimates.items():
        stacked = np.stack(grads)
        mean = stacked.mean(axis=0)
        result[f"{key}_var"] = float(((stacked - mean) ** 2).sum(axis=1).mean())
        result[f"{key}_mean_sq"] = float((mean**2).sum())
    return result


def train_variance(run: VarianceRun) -> dict[str, Any]:
    """Train REINFORCE with or without baseline, measuring gradient variance and the learning curve along the way."""
    if run.env == "CartPole-v1":
        env = make_vec_env("CartPole-v1", n_envs=CARTPOLE_ENVS, seed=run.seed)
        probe = make_vec_env("CartPole-v1", n_envs=CARTPOLE_ENVS, seed=run.seed + 10_000)
        model = REINFORCE(
            "MlpPolicy",
            env,
            learning_rate=run.learning_rate,
            n_episodes=CARTPOLE_ENVS,
            gamma=GAMMA,
            use_baseline=run.use_baseline,
            normalize_advantage=False,
            seed=run.seed,
            device="cpu",
        )
    else:
        env = bandit_env(run.action_dim, N_ENVS, run.seed)
        probe = bandit_env(run.action_dim, N_ENVS, run.seed + 10_000)
        spec = BanditRun(
            "reinforce_baseline" if run.use_baseline else "reinforce",
            run.action_dim,
            run.learning_rate,
            run.seed,
            run.steps,
            run.every,
        )
        model = make_bandit_model(spec, env)
        assert isinstance(model, REINFORCE)
    problem = QuadraticBanditEnv(run.action_dim)

    def measure(m: BaseAlgorithm) -> dict[str, float]:
        assert isinstance(m, REINFORCE)
        result = gradient_variance(m, probe, run.batches)
        if run.env == "CartPole-v1":
            # Mean undiscounted return of the last 20 training episodes (NaN before the first one ends).
            returns = [info["r"] for info in list(m.ep_info_buffer)[-20:]]
            result["return"] = float(np.mean(returns)) if returns else float("nan")
        else:
            result["cost"] = float(problem.cost(deterministic_action(m)))
        return result

    curve = Checkpoints(run.every, measure)
    start = time.process_time()
    model.learn(run.steps, callback=curve)
    env.close()
    probe.close()
    steps, records = zip(*curve.history, strict=True)
    return {"steps": list(steps), "records": list(records), "cpu_seconds": time.process_time() - start}


# ------------------------------------------------------------------------------------------------------ caching


class NotCached(LookupError):
    """A run asked for with ``cached_only`` has no stored result."""


def cached(
    folder: Path, name: str, config: dict[str, Any], compute: Callable[[], dict[str, Any]], cached_only: bool = False
) -> dict[str, Any]:
    """
    Return the result stored in ``folder/name.json`` if it was made with the same ``config``; otherwise compute it and
    store it (written to a temporary file first, so an interrupted run leaves no half-written result behind).

    :param cached_only: Raise :class:`NotCached` instead of computing a missing result.
    """
    path = folder / f"{name}.json"
    if path.exists():
        stored = json.loads(path.read_text())
        if stored.get("config") == config:
            return stored["result"]
    if cached_only:
        raise NotCached(name)
    print(f"  run {name}", flush=True)
    result = compute()
    folder.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({"config": config, "result": result}))
    os.replace(temporary, path)
    return result


def bandit_result(out: Path, run: BanditRun, cached_only: bool = False) -> dict[str, Any]:
    return cached(out / "runs", run.name, asdict(run), lambda: train_bandit(run), cached_only)


def variance_result(out: Path, run: VarianceRun) -> dict[str, Any]:
    return cached(out / "runs", run.name, asdict(run), lambda: train_variance(run))


# ------------------------------------------------------------------------------------------------- experiments


def tune_step_sizes(out: Path, settings: Settings, methods: Sequence[str] = METHODS) -> dict[tuple[str, int], float]:
    """
    Pick each method's learning rate per m on the tuning seed: the one with the lowest mean log-cost over the run
    (the area under the curve of the plot, so both speed and final cost count).
    """
    chosen = {}
    for action_dim in settings.action_dims:
        for method in methods:
            scores = {}
            for learning_rate in settings.lr_grid(method):
                run = BanditRun(
                    method, action_dim, learning_rate, settings.tune_seed, settings.bandit_steps, settings.eval_every
                )
                costs = np.asarray(bandit_result(out, run)["cost"])
                scores[learning_rate] = (
                    float(np.mean(np.log10(np.maximum(costs, 1e-12)))) if np.all(np.isfinite(costs)) else np.inf
                )
            chosen[(method, action_dim)] = min(scores, key=lambda rate: scores[rate])
    return chosen


def steps_to_reach(steps: Sequence[int], costs: Sequence[float], threshold: float) -> float:
    """First env step at which the cost is at most ``threshold`` (``inf`` if never)."""
    for step, cost in zip(steps, costs, strict=True):
        if cost <= threshold:
            return float(step)
    return float("inf")


def score_function_spread(action_dim: int, n_batches: int = 2000, seed: int = 0) -> dict[str, float]:
    """
    The mechanism behind claim 1, without training: at the common starting policy (mean a = 0, std
    :data:`EXPLORATION_STD`), how noisy is one batch's (``N_ENVS`` samples) REINFORCE estimate of the gradient with
    respect to the mean? The exact gradient is ``2 C (a* - mu) / c(0)`` (scaled reward); the deterministic policy
    gradient with an exact critic is that, with no noise at all.

    :return: The relative variance ``trace(Cov) / |true gradient|^2`` without baseline and with the exact baseline
        (the expected reward), and the cosine between one batch's estimate and the true gradient (median).
    """
    problem = QuadraticBanditEnv(action_dim)
    initial_cost = float(problem.cost(np.zeros(action_dim)))
    rng = np.random.default_rng(seed)
    noise = rng.normal(scale=EXPLORATION_STD, size=(n_batches, N_ENVS, action_dim))
    rewards = -np.asarray(problem.cost(noise.reshape(-1, action_dim))).reshape(n_batches, N_ENVS) / initial_cost
    true_gradient = 2.0 * problem.cost_matrix @ problem.target / initial_cost
    expected_reward = -(initial_cost + EXPLORATION_STD**2 * np.trace(problem.cost_matrix)) / initial_cost
    result = {}
    for key, advantage in (("no_baseline", rewards), ("baseline", rewards - expected_reward)):
        # d log N(a; mu, s^2) / d mu = (a - mu) / s^2, averaged over the batch as REINFORCE.train() does.
        estimates = np.einsum("bn,bni->bi", advantage, noise) / (N_ENVS * EXPLORATION_STD**2)
        spread = ((estimates - true_gradient) ** 2).sum(axis=1).mean()
        cosine = estimates @ true_gradient / (np.linalg.norm(estimates, axis=1) * np.linalg.norm(true_gradient))
        result[f"{key}_relative_variance"] = float(spread / (true_gradient @ true_gradient))
        result[f"{key}_median_cosine"] = float(np.median(cosine))
    return result


def bandit_experiment(
    out: Path, settings: Settings, methods: Sequence[str] = METHODS, cached_only: bool = False
) -> dict[str, Any] | None:
    """
    Tune, train and report claim 1. With only some ``methods`` (to spread runs over processes), only train them.
    With ``cached_only``, report the seeds whose runs are finished and train nothing more (the table says how many).

    :return: The summary, or ``None`` when only some methods were run.
    """
    chosen = tune_step_sizes(out, settings, methods)
    curves: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for action_dim in settings.action_dims:
        for method in methods:
            runs = [
                BanditRun(method, action_dim, chosen[(method, action_dim)], seed, settings.bandit_steps, settings.eval_every)
                for seed in settings.seeds
            ]
            curves[(method, action_dim)] = []
            for run in runs:
                try:
                    curves[(method, action_dim)].append(bandit_result(out, run, cached_only))
                except NotCached:
                    continue
    if tuple(methods) != METHODS:
        return None
    spread = {action_dim: score_function_spread(action_dim) for action_dim in settings.action_dims}
    (out / "bandit_gradient_spread.json").write_text(json.dumps(spread, indent=1))
    rows = []
    for threshold in settings.cost_thresholds:
        for action_dim in settings.action_dims:
            reached = {
                method: [steps_to_reach(c["steps"], c["cost"], threshold) for c in curves[(method, action_dim)]]
                for method in METHODS
            }
            medians = {method: float(np.median(values)) for method, values in reached.items()}
            rows.append(
                {
                    "threshold": threshold,
                    "action_dim": action_dim,
                    "learning_rate": {method: chosen[(method, action_dim)] for method in METHODS},
                    # None: that seed never reached the threshold within the budget.
                    "steps_to_threshold": {m: [_finite_or_none(v) for v in values] for m, values in reached.items()},
                    "median_steps": {m: _finite_or_none(v) for m, v in medians.items()},
                    "final_cost_median": {
                        method: float(np.median([c["cost"][-1] for c in curves[(method, action_dim)]])) for method in METHODS
                    },
                    "ratio": {method: _ratio(medians[method], medians[DETERMINISTIC]) for method in STOCHASTIC},
                }
            )
    summary = {"budget": settings.bandit_steps, "seeds": list(settings.seeds), "rows": rows}
    plot_bandit(out / "bandit_cost.png", curves, settings)
    (out / "bandit_table.md").write_text(bandit_table(summary))
    (out / "bandit_summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def _finite_or_none(value: float) -> float | None:
    return None if np.isinf(value) else value


def _ratio(stochastic: float, deterministic: float) -> float | str:
    """Stochastic / deterministic steps; a string when one of them never reached the threshold."""
    if np.isinf(deterministic) and np.isinf(stochastic):
        return "neither reached"
    if np.isinf(deterministic):
        return "< 1 (DPG did not reach)"
    if np.isinf(stochastic):
        return "> 1 (only DPG reached)"
    return stochastic / deterministic


def _steps_text(value: float | None) -> str:
    return "not reached" if value is None else f"{value:,.0f}"


def bandit_table(summary: dict[str, Any]) -> str:
    """The table of the README: per cost threshold and m, median steps of each method and the ratios to DPG."""
    lines = [
        f"Median env steps over seeds {summary['seeds']} until the cost of the policy's deterministic action is at most "
        f"the threshold (budget {summary['budget']:,} steps; in brackets: the learning rate tuned for that method and m, "
        "and how many seeds reached the threshold).",
        "",
        "| cost <= | m | "
        + " | ".join(LABELS[m] for m in METHODS)
        + " | "
        + " | ".join(f"ratio {LABELS[m].split(' (')[0]} / DPG" for m in STOCHASTIC)
        + " |",
        "|---|---|" + "---|" * (len(METHODS) + len(STOCHASTIC)),
    ]
    for row in summary["rows"]:
        cells = []
        for method in METHODS:
            per_seed = row["steps_to_threshold"][method]
            n_reached = sum(value is not None for value in per_seed)
            cells.append(
                f"{_steps_text(row['median_steps'][method])} ({row['learning_rate'][method]:g}; {n_reached}/{len(per_seed)})"
            )
        ratios = [r if isinstance(r, str) else f"{r:.2f}" for r in (row["ratio"][m] for m in STOCHASTIC)]
        lines.append(f"| {row['threshold']:g} | {row['action_dim']} | " + " | ".join(cells + ratios) + " |")
    lines.append("")
    finals = {row["action_dim"]: row["final_cost_median"] for row in summary["rows"]}
    lines.append(
        f"Median cost after {summary['budget']:,} steps: "
        + "; ".join(
            f"m={action_dim}: " + ", ".join(f"{method} {final[method]:.3g}" for method in METHODS)
            for action_dim, final in finals.items()
        )
    )
    return "\n".join(lines) + "\n"


def variance_experiment(out: Path, settings: Settings) -> dict[str, Any]:
    results: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for env, learning_rate, steps in (
        ("CartPole-v1", settings.cartpole_lr, settings.cartpole_steps),
        ("bandit", settings.variance_bandit_lr, settings.bandit_steps),
    ):
        for use_baseline in (False, True):
            runs = [
                VarianceRun(
                    env,
                    use_baseline,
                    learning_rate,
                    seed,
                    steps,
                    settings.variance_every,
                    settings.variance_batches,
                    settings.variance_action_dim,
                )
                for seed in settings.seeds
            ]
            results[(env, use_baseline)] = [variance_result(out, run) for run in runs]
    summary = {}
    for env in ("CartPole-v1", "bandit"):
        with_b = [r["records"] for r in results[(env, True)]]
        without = [r["records"] for r in results[(env, False)]]
        # Same policy, two estimators: the variance ratio measured on the baseline runs' own checkpoints.
        same_policy = [
            rec["no_baseline_var"] / rec["baseline_var"] for recs in with_b for rec in recs if rec["baseline_var"] > 0
        ]
        summary[env] = {
            "median_variance_ratio_same_policy": float(np.median(same_policy)),
            "median_variance_own_run": {
                "no_baseline": float(np.median([rec["no_baseline_var"] for recs in without for rec in recs])),
                "baseline": float(np.median([rec["baseline_var"] for recs in with_b for rec in recs])),
            },
        }
        key = "return" if env == "CartPole-v1" else "cost"
        summary[env][f"final_{key}_median"] = {
            "no_baseline": float(np.median([recs[-1][key] for recs in without])),
            "baseline": float(np.median([recs[-1][key] for recs in with_b])),
        }
    plot_variance(out / "baseline_variance.png", results, settings)
    (out / "baseline_summary.json").write_text(json.dumps(summary, indent=1))
    return summary


# ------------------------------------------------------------------------------------------------------- plots


def _band(ax: Any, steps: np.ndarray, values: np.ndarray, color: str, label: str, linestyle: str = "-") -> None:
    """Median over seeds, with the band between the lowest and highest seed."""
    ax.plot(steps, np.nanmedian(values, axis=0), color=color, label=label, linestyle=linestyle)
    ax.fill_between(steps, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color=color, alpha=0.2, linewidth=0)


def plot_bandit(path: Path, curves: dict[tuple[str, int], list[dict[str, Any]]], settings: Settings) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(settings.action_dims), figsize=(4.2 * len(settings.action_dims), 3.4), squeeze=False)
    for ax, action_dim in zip(axes[0], settings.action_dims, strict=True):
        for method in METHODS:
            runs = curves[(method, action_dim)]
            steps = np.asarray(runs[0]["steps"])
            length = min(len(r["cost"]) for r in runs)
            values = np.stack([np.asarray(r["cost"][:length]) for r in runs])
            _band(ax, steps[:length], values, COLORS[method], LABELS[method])
        for threshold in settings.cost_thresholds:
            ax.axhline(threshold, color="grey", linewidth=0.8, linestyle=":")
        ax.set_yscale("log")
        ax.set_title(f"m = {action_dim}")
        ax.set_xlabel("env steps")
    axes[0][0].set_ylabel("cost of the deterministic action")
    axes[0][0].legend(fontsize=7)
    counts = sorted({len(runs) for runs in curves.values()})
    seeds = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    fig.suptitle(f"QuadraticBandit: median and min-max over {seeds} seeds", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_variance(path: Path, results: dict[tuple[str, bool], list[dict[str, Any]]], settings: Settings) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(9, 6.4))
    for row, env in enumerate(("CartPole-v1", "bandit")):
        key, ylabel = ("return", "training return (last 20 episodes)") if env == "CartPole-v1" else ("cost", "cost")
        for use_baseline, color in ((False, "tab:green"), (True, "tab:orange")):
            runs = results[(env, use_baseline)]
            length = min(len(r["steps"]) for r in runs)
            steps = np.asarray(runs[0]["steps"][:length])
            own = "baseline_var" if use_baseline else "no_baseline_var"
            label = "with baseline" if use_baseline else "without baseline"
            variance = np.stack([[rec[own] for rec in r["records"][:length]] for r in runs])
            _band(axes[row][0], steps, variance, color, f"{label} (own run)")
            if use_baseline:
                same = np.stack([[rec["no_baseline_var"] for rec in r["records"][:length]] for r in runs])
                _band(axes[row][0], steps, same, "tab:grey", "no baseline, on the baseline run's policy", linestyle="--")
            curve = np.stack([[rec[key] for rec in r["records"][:length]] for r in runs])
            _band(axes[row][1], steps, curve, color, label)
        name = env if env == "CartPole-v1" else f"QuadraticBandit m={settings.variance_action_dim}"
        axes[row][0].set_yscale("log")
        axes[row][0].set_title(f"{name}: variance of the gradient estimate", fontsize=9)
        axes[row][0].set_ylabel("trace of covariance")
        axes[row][1].set_title(f"{name}: learning curve", fontsize=9)
        axes[row][1].set_ylabel(ylabel)
        if env != "CartPole-v1":
            axes[row][1].set_yscale("log")
        for ax in axes[row]:
            ax.set_xlabel("env steps")
        axes[row][0].legend(fontsize=7)
    fig.suptitle(f"REINFORCE with and without baseline: median and min-max over {len(settings.seeds)} seeds", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


# -------------------------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=None, help=f"results folder (default {DEFAULT_OUT}; smoke: add /smoke)")
    parser.add_argument("--smoke", action="store_true", help="tiny budgets and dimensions, for a quick test")
    parser.add_argument("--only", choices=("bandit", "baseline"), default=None, help="run one of the two experiments")
    parser.add_argument(
        "--action-dims",
        type=int,
        nargs="+",
        default=None,
        help="bandit: run only these m (e.g. one m per process, in parallel); a last run without it draws all of them",
    )
    parser.add_argument(
        "--methods", nargs="+", choices=METHODS, default=list(METHODS), help="bandit: train only these methods (no report)"
    )
    parser.add_argument("--cached-only", action="store_true", help="bandit: report the finished runs only, train nothing")
    args = parser.parse_args(argv)
    settings = SMOKE if args.smoke else FULL
    if args.action_dims:
        settings = dataclasses.replace(settings, action_dims=tuple(args.action_dims))
    out = args.out or (DEFAULT_OUT / "smoke" if args.smoke else DEFAULT_OUT)
    out.mkdir(parents=True, exist_ok=True)
    limit_torch_threads(1)
    start = time.process_time()
    if args.only in (None, "bandit"):
        print("claim 1: deterministic vs stochastic policy gradient on the quadratic bandit", flush=True)
        methods = [m for m in METHODS if m in args.methods]
        if bandit_experiment(out, settings, methods, args.cached_only) is not None:
            print((out / "bandit_table.md").read_text(), flush=True)
    if args.only in (None, "baseline"):
        print("claim 2: REINFORCE's baseline and the variance of its gradient", flush=True)
        summary = variance_experiment(out, settings)
        print(json.dumps(summary, indent=1), flush=True)
    print(f"done in {time.process_time() - start:.0f} CPU seconds (this process; cached runs cost nothing)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

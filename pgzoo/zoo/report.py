"""
The benchmark report: ``benchmark.md`` and ``plots/<env>.png`` beside the results folder (``benchmarks/benchmark.md``
and ``benchmarks/plots/`` for the published one), built only from the per-run JSON files that ``pgzoo benchmark``
saved (never from numbers typed by hand).

A row is one (algo, env, budget) with all its measured seeds. Next to it stands the RL Zoo's published result for the
closest SB3 algorithm (:data:`REFERENCE`, copied from the RL Zoo benchmark; one seed each there), and whether the row
is "within reference" (:meth:`Row.within_reference`): it reaches the reference mean minus the reference std, with the
same or fewer training steps. Where the RL Zoo has no result for the closest algorithm, a stronger one may stand there
for context (:data:`CONTEXT_ALGOS`): the row is not judged against it, but the table says whether it would meet its bar.

Tuning and reporting are kept apart: the seeds an entry was chosen on (its ``tuning_seeds``) are not reported when the
row has at least :data:`REQUIRED_SEEDS` other seeds. With :data:`INTERVAL_MIN_SEEDS` or more, the row also shows the
interquartile mean (IQM) with a 95% bootstrap confidence interval (Agarwal et al., 2021, "Deep Reinforcement Learning
at the Edge of the Statistical Precipice"), and the interval, not the mean, decides whether it reaches its bar.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: RL Zoo benchmark (rl-baselines3-zoo's benchmark.md): env id -> algo -> (mean, std, training steps).
#: Envs are keyed by the id pgzoo trains on; :data:`REFERENCE_ENV_VERSIONS` says when the RL Zoo used another one.
REFERENCE: dict[str, dict[str, tuple[float, float, int]]] = {
    "CartPole-v1": {"a2c": (500.00, 0.00, 500_000), "ppo": (500.00, 0.00, 100_000)},
    "Acrobot-v1": {"a2c": (-83.35, 17.21, 500_000), "ppo": (-73.51, 18.20, 1_000_000)},
    "LunarLander-v3": {"a2c": (155.75, 80.42, 200_000), "ppo": (242.12, 31.82, 1_000_000)},
    "Pendulum-v1": {
        "a2c": (-162.97, 103.21, 1_000_000),
        "ppo": (-172.23, 104.16, 100_000),
        "ddpg": (-152.10, 94.28, 20_000),
        "td3": (-151.86, 90.23, 20_000),
    },
    "MountainCarContinuous-v0": {
        "a2c": (91.17, 0.26, 100_000),
        "ppo": (88.34, 2.57, 20_000),
        "ddpg": (93.51, 0.05, 300_000),
        "td3": (93.48, 0.08, 300_000),
    },
    "LunarLanderContinuous-v3": {
        "a2c": (84.23, 145.91, 5_000_000),
        "ppo": (270.86, 32.07, 1_000_000),
        "ddpg": (230.22, 92.37, 300_000),
        "td3": (207.45, 67.56, 300_000),
    },
    "BipedalWalker-v3": {
        "a2c": (299.75, 23.46, 5_000_000),
        "ppo": (287.94, 2.45, 5_000_000),
        "ddpg": (197.49, 141.58, 1_000_000),
        "td3": (305.99, 56.89, 1_000_000),
    },
    "HalfCheetah-v5": {
        "a2c": (3041.17, 157.27, 1_000_000),
        "ppo": (5819.10, 663.53, 1_000_000),
        "td3": (9655.67, 969.92, 1_000_000),
    },
    "Hopper-v5": {
        "a2c": (733.45, 376.57, 1_000_000),
        "ppo": (2410.44, 10.03, 1_000_000),
        "td3": (3606.39, 4.03, 1_000_000),
    },
}

#: Env version the RL Zoo measured when it differs from the one pgzoo trains on.
REFERENCE_ENV_VERSIONS: dict[str, str] = {
    "LunarLander-v3": "LunarLander-v2",
    "LunarLanderContinuous-v3": "LunarLanderContinuous-v2",
    "HalfCheetah-v5": "HalfCheetah-v3 (MuJoCo)",
    "Hopper-v5": "Hopper-v3 (MuJoCo)",
}

#: Closest SB3 algorithm of each pgzoo algorithm: its RL Zoo result is the row's reference. A2C is REINFORCE / A3C's
#: synchronous actor-critic cousin; DDPG is DPG with deep networks.
REFERENCE_ALGOS: dict[str, str] = {"reinforce": "a2c", "a3c": "a2c", "dpg": "ddpg"}

#: Shown for context where the RL Zoo has no result for the closest algorithm (DDPG on the MuJoCo envs): TD3 is
#: DDPG plus twin critics, target smoothing and delayed actor updates, a stronger algorithm than DPG.
CONTEXT_ALGOS: dict[str, str] = {"dpg": "td3"}

#: Seeds a row needs to count as measured; also the size of the independent groups of seeds that must each reach the
#: bar (an entry is accepted when every such triple of its reported seeds does).
REQUIRED_SEEDS = 3

#: Seeds from which a row shows its IQM and bootstrap confidence interval, and is judged by the interval.
INTERVAL_MIN_SEEDS = 5

#: Confidence level and resamples of the bootstrap interval; the fixed seed keeps a regenerated report identical.
CONFIDENCE_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0

README_START = "<!-- benchmark-table:start -->"
README_END = "<!-- benchmark-table:end -->"
#: Markers of the README's table of the shipped agents (``agents/``).
PRETRAINED_START = "<!-- pretrained-table:start -->"
PRETRAINED_END = "<!-- pretrained-table:end -->"


@dataclass
class Row:
    """
    One line of the table: every measured seed of (algo, env, budget).

    :param algo: Algorithm.
    :param env_id: Env id.
    :param n_timesteps: Training budget of each run.
    :param records: The reported per-run records, sorted by seed: those on seeds the entry was not tuned on when
        there are at least :data:`REQUIRED_SEEDS` of them, else every record (see :attr:`on_tuning_seeds`).
    :param tuning_seeds: The entry's ``tuning_seeds``.
    :param tuning_records: Records on tuning seeds left out of :attr:`records`.
    """

    algo: str
    env_id: str
    n_timesteps: int
    records: list[dict[str, Any]]
    tuning_seeds: tuple[int, ...] = ()
    tuning_records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seeds(self) -> list[int]:
        """The seeds reported."""
        return [int(r["seed"]) for r in self.records]

    @property
    def on_tuning_seeds(self) -> bool:
        """Whether some reported seed is one the entry was tuned on (the row has too few other seeds)."""
        return bool(set(self.seeds) & set(self.tuning_seeds))

    @property
    def scores(self) -> list[float]:
        """Each reported seed's final mean reward, by seed."""
        return [float(r["final_mean_reward"]) for r in self.records]

    @property
    def mean(self) -> float:
        """Mean over seeds of each seed's final mean reward."""
        return _mean(self.scores)

    @property
    def std(self) -> float:
        """Standard deviation across seeds (population, ``ddof=0``) of each seed's final mean reward."""
        mean = self.mean
        return math.sqrt(_mean([(v - mean) ** 2 for v in self.scores]))

    def iqm_interval(self) -> tuple[float, float, float] | None:
        """
        ``(iqm, low, high)``: the interquartile mean of the seeds' scores and its bootstrap confidence interval
        (:data:`CONFIDENCE_LEVEL`, percentile method), or ``None`` with fewer than :data:`INTERVAL_MIN_SEEDS` seeds.
        """
        if len(self.records) < INTERVAL_MIN_SEEDS:
            return None
        return iqm_interval(self.scores)

    def triples(self) -> list[list[float]]:
        """The reported scores in consecutive groups of :data:`REQUIRED_SEEDS` seeds (an incomplete last group left out)."""
        scores, size = self.scores, REQUIRED_SEEDS
        return [scores[i : i + size] for i in range(0, len(scores) - size + 1, size)]

    @property
    def wall_clock_s(self) -> float:
        """Mean wall-clock of one run (training, curve evaluations and final evaluation)."""
        return _mean([float(r["wall_clock_s"]) for r in self.records])

    @property
    def steps_per_second(self) -> float:
        """Mean over runs of env steps per second of training."""
        return _mean([float(r["steps_per_second"] or math.nan) for r in self.records])

    def _published(self, algos: dict[str, str]) -> tuple[str, float, float, int] | None:
        algo = algos.get(self.algo, self.algo)
        result = REFERENCE.get(self.env_id, {}).get(algo)
        return None if result is None else (algo, *result)

    def reference(self) -> tuple[str, float, float, int] | None:
        """The RL Zoo result ``(algo, mean, std, steps)`` of the closest SB3 algorithm, or ``None``."""
        return self._published(REFERENCE_ALGOS)

    def context(self) -> tuple[str, float, float, int] | None:
        """Where :meth:`reference` is ``None``: the RL Zoo result of :data:`CONTEXT_ALGOS`' algorithm, if any."""
        return None if self.reference() is not None else self._published(CONTEXT_ALGOS)

    def _meets(self, published: tuple[str, float, float, int]) -> str:
        _, mean, std, steps = published
        bar = mean - std
        if self.n_timesteps > steps:
            return "no"
        interval = self.iqm_interval()
        if interval is not None:
            # The interval decides: a mean lifted by one lucky seed does not reach the bar.
            if interval[2] < bar:
                return "no"
            if interval[1] < bar:
                return "unsure"
        elif self.mean < bar:
            return "no"
        # And so must every independent triple of seeds, not only their pooled result.
        return "yes" if all(_mean(triple) >= bar for triple in self.triples()) else "unsure"

    def within_reference(self) -> str:
        """
        Whether the row reaches the bar, reference mean - reference std, with no more steps than the reference:

        - with :data:`INTERVAL_MIN_SEEDS` seeds or more: ``"yes"`` when the IQM's confidence interval lies above the
          bar and so does the mean of every triple of seeds (:meth:`triples`), ``"no"`` when the interval lies below
          it, ``"unsure"`` otherwise;
        - with fewer seeds: ``"yes"`` when the mean and every triple reach the bar, ``"no"`` when the mean does not.

        ``" (tuning seeds)"`` is added when the reported seeds include those the entry was tuned on. Without a
        reference: ``"-"``, or ``"- (TD3: yes)"`` and the like for the same test against the context result.
        """
        ref = self.reference()
        tuned = " (tuning seeds)" if self.on_tuning_seeds else ""
        if ref is not None:
            return self._meets(ref) + tuned
        context = self.context()
        return "-" if context is None else f"- ({context[0].upper()}: {self._meets(context)}){tuned}"


def iqm_interval(scores: list[float]) -> tuple[float, float, float]:
    """
    The interquartile mean of ``scores`` (the mean of the middle half, as ``scipy.stats.trim_mean(scores, 0.25)``)
    with its percentile bootstrap confidence interval (:data:`CONFIDENCE_LEVEL`, :data:`BOOTSTRAP_RESAMPLES`
    resamples, seeded so a regenerated report does not change).

    :param scores: One score per seed.
    :return: ``(iqm, low, high)``.
    """
    import numpy as np
    from scipy import stats

    data = np.asarray(scores, dtype=float)

    def iqm(sample: Any, axis: int = -1) -> Any:
        return stats.trim_mean(sample, 0.25, axis=axis)

    if np.ptp(data) == 0:
        # Every seed scored the same (CartPole's 500): the interval is that point (the bootstrap would warn).
        return float(data[0]), float(data[0]), float(data[0])
    result = stats.bootstrap(
        (data,), iqm, confidence_level=CONFIDENCE_LEVEL, n_resamples=BOOTSTRAP_RESAMPLES, method="percentile",
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )  # fmt: skip
    return float(iqm(data)), float(result.confidence_interval.low), float(result.confidence_interval.high)


def format_seeds(seeds: list[int] | tuple[int, ...]) -> str:
    """``[0, 1, 2, 10, 11]`` -> ``"0-2, 10-11"``; ``[]`` -> ``"-"``."""
    runs: list[list[int]] = []
    for seed in sorted(set(seeds)):
        if runs and seed == runs[-1][-1] + 1:
            runs[-1].append(seed)
        else:
            runs.append([seed])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs) or "-"


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def load_results(results_dir: str | Path) -> list[dict[str, Any]]:
    """
    Read every finished run record in ``results_dir`` (unreadable or incomplete files are skipped with a warning).

    :param results_dir: Folder of the per-run JSON files.
    :return: The records, in file name order.
    """
    records = []
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            print(f"warning: skipping unreadable result {path}: {error}")
            continue
        if not isinstance(record, dict) or "final_mean_reward" not in record:
            print(f"warning: skipping incomplete result {path}")
            continue
        records.append(record)
    return records


def _env_order(env_id: str) -> tuple[int, str]:
    envs = list(REFERENCE)
    return (envs.index(env_id) if env_id in envs else len(envs), env_id)


def _algo_order(algo: str) -> tuple[int, str]:
    # pgzoo's algorithms first, then the baselines they are compared with.
    order = ["reinforce", "a3c", "dpg"]
    return (order.index(algo) if algo in order else len(order), algo)


def group_rows(records: list[dict[str, Any]]) -> list[Row]:
    """
    Group records into table rows by (algo, env, budget), ordered by env then algorithm (pgzoo's first).

    :param records: Per-run records from :func:`load_results`.
    """
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[(record["algo"], record["env"], int(record["n_timesteps"]))].append(record)
    rows = []
    for (algo, env_id, n_timesteps), group in groups.items():
        group.sort(key=lambda r: int(r["seed"]))
        tuning = current_tuning_seeds(algo, env_id, group[0].get("hyperparams_file"))
        held_out = [r for r in group if int(r["seed"]) not in tuning]
        if len(held_out) >= REQUIRED_SEEDS:
            rows.append(Row(algo, env_id, n_timesteps, held_out, tuning, [r for r in group if r not in held_out]))
        else:
            rows.append(Row(algo, env_id, n_timesteps, group, tuning))
    return sorted(rows, key=lambda r: (_env_order(r.env_id), _algo_order(r.algo), r.n_timesteps))


def current_tuning_seeds(algo: str, env_id: str, hyperparams_file: str | Path | None = None) -> tuple[int, ...]:
    """
    The ``tuning_seeds`` of the entry that would be used now (empty when it records none or is gone).

    :param algo: Registry name of the algorithm.
    :param env_id: Gymnasium env id.
    :param hyperparams_file: The file the runs used; the packaged file when ``None`` or no longer there.
    """
    from pgzoo.zoo.benchmark import current_entry
    from pgzoo.zoo.errors import ZooError
    from pgzoo.zoo.hyperparams import parse_tuning_seeds

    entry = current_entry(algo, env_id, hyperparams_file)
    if entry is None:
        return ()
    raw, source = entry
    try:
        return parse_tuning_seeds(raw.get("tuning_seeds"), f"{env_id} in {source}")
    except ZooError:
        return ()


def format_steps(n: int) -> str:
    """``500000`` -> ``500k``, ``1000000`` -> ``1M``; other numbers as they are."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def _format_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _plot_name(env_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", env_id) + ".png"


def markdown_table(rows: list[Row]) -> str:
    """
    The benchmark table in GitHub Markdown.

    :param rows: Rows from :func:`group_rows`.
    """
    lines = [
        "| Algo | Env | Timesteps | Mean ± std (across seeds) | Seeds | Reported / tuned on | IQM [95% CI] "
        "| Wall-clock / run | Steps/s | RL Zoo reference | Ref. steps | Within ref. |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---|---:|:---:|",
    ]
    for row in rows:
        ref, context = row.reference(), row.context()
        if ref is not None:
            ref_text, ref_steps = f"{ref[0].upper()} {ref[1]:.2f} ± {ref[2]:.2f}", format_steps(ref[3])
        elif context is not None:
            ref_text = f"none ({context[0].upper()} {context[1]:.2f} ± {context[2]:.2f} for context)"
            ref_steps = format_steps(context[3])
        else:
            ref_text, ref_steps = "-", "-"
        interval = row.iqm_interval()
        iqm_text = "-" if interval is None else f"{interval[0]:.2f} [{interval[1]:.2f}, {interval[2]:.2f}]"
        lines.append(
            f"| {row.algo.upper()} | {row.env_id} | {format_steps(row.n_timesteps)} | {row.mean:.2f} ± {row.std:.2f} "
            f"| {len(row.records)} | {format_seeds(row.seeds)} / {format_seeds(row.tuning_seeds)} | {iqm_text} "
            f"| {_format_duration(row.wall_clock_s)} | {row.steps_per_second:.0f} "
            f"| {ref_text} | {ref_steps} | {row.within_reference()} |"
        )
    return "\n".join(lines)


def load_agents(agents_folder: str | Path) -> list[dict[str, Any]]:
    """
    Read the ``results.json`` of every agent of a collection (``<folder>/<algo>/<env>_<N>/``) as table records.

    Each record has the keys of a benchmark record that :func:`group_rows` and :func:`pretrained_table` use:
    ``algo``, ``env``, ``n_timesteps``, ``seed``, ``final_mean_reward``, ``final_std_reward``, ``eval_episodes``.

    :param agents_folder: The collection (e.g. ``agents``).
    :return: The records; an agent without a readable ``results.json`` is skipped with a warning.
    """
    records = []
    for path in sorted(Path(agents_folder).glob("*/*_*/results.json")):
        try:
            results = json.loads(path.read_text())
            records.append(
                {
                    "algo": path.parent.parent.name,
                    "env": results["env_id"],
                    "n_timesteps": int(results["n_timesteps"]),
                    "seed": int(results.get("seed", 0)),
                    "final_mean_reward": float(results["mean_reward"]),
                    "final_std_reward": float(results["std_reward"]),
                    "eval_episodes": int(results["n_eval_episodes"]),
                }
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"warning: skipping {path}: {error}")
    return records


def pretrained_table(rows: list[Row], agents_folder: str) -> str:
    """
    The table of a collection's agents in GitHub Markdown: one agent per row, with the command that plays it.

    :param rows: Rows from :func:`group_rows` of :func:`load_agents`' records (one record each).
    :param agents_folder: The collection as the command names it (e.g. ``agents``).
    """
    lines = [
        "| Algo | Env | Mean ± std (episodes) | Timesteps | Seed | Watch it |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in rows:
        for record in row.records:
            command = f"pgzoo enjoy --algo {row.algo} --env {row.env_id} -f {agents_folder}"
            lines.append(
                f"| {row.algo.upper()} | {row.env_id} | {record['final_mean_reward']:.2f} ± {record['final_std_reward']:.2f}"
                f" ({record['eval_episodes']}) | {format_steps(row.n_timesteps)} | {record['seed']} | `{command}` |"
            )
    return "\n".join(lines)


def write_pretrained_table(agents_folder: str | Path, readme: str | Path, link: str) -> int:
    """
    Replace the README's table of shipped agents (between :data:`PRETRAINED_START` and :data:`PRETRAINED_END`).

    :param agents_folder: The collection; the commands name it relative to the README's folder.
    :param readme: The README.
    :param link: The page that describes the collection, relative to the README.
    :return: The number of agents in the table.
    :raises ZooError: When the README lacks the markers.
    """
    from pgzoo.zoo.errors import ZooError

    check_readme(readme)
    records = load_agents(agents_folder)
    folder = Path(os.path.relpath(agents_folder, Path(readme).parent)).as_posix()
    table = pretrained_table(group_rows(records), folder)
    if not update_readme(readme, table, link, markers=(PRETRAINED_START, PRETRAINED_END), link_text="More"):
        raise ZooError(f"{readme} has no {PRETRAINED_START} ... {PRETRAINED_END} block")
    return len(records)


def _curve_band(records: list[dict[str, Any]]) -> tuple[Any, Any, Any] | None:
    # Seeds may evaluate at slightly different steps (A3C's workers report asynchronously): interpolate every seed
    # onto the union of their steps, over the range all of them cover.
    import numpy as np

    curves = [np.asarray(r["curve"], dtype=float) for r in records if r.get("curve")]
    if not curves:
        return None
    end = min(c[-1, 0] for c in curves)
    grid = np.unique(np.concatenate([c[:, 0] for c in curves]))
    grid = grid[grid <= end]
    values = np.stack([np.interp(grid, c[:, 0], c[:, 1]) for c in curves])
    return grid, values.mean(axis=0), values.std(axis=0)


def plot_env(env_id: str, rows: list[Row], path: str | Path) -> Path:
    """
    Draw the learning curves of every row on ``env_id`` (mean across seeds, band of one std) with the RL Zoo
    references as dashed horizontal lines (their final result; the RL Zoo publishes no curve), and save a PNG.

    :param env_id: Env id.
    :param rows: The rows of this env.
    :param path: PNG file to write.
    :return: The path written.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), dpi=100)
    axes = figure.add_subplot()
    for row in rows:
        band = _curve_band(row.records)
        if band is None:
            continue
        steps, mean, std = band
        n_seeds = len(row.records)
        label = f"{row.algo.upper()} ({n_seeds} seed{'s' if n_seeds > 1 else ''}, {format_steps(row.n_timesteps)} steps)"
        (line,) = axes.plot(steps, mean, label=label)
        axes.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    shown = {ref[0]: ref for row in rows if (ref := row.reference() or row.context()) is not None}
    # Grey shades and distinct dashes keep the references apart from the measured curves (which use the colour cycle).
    styles = [("dimgray", "--"), ("black", ":"), ("darkgray", "-.")]
    for (ref_algo, ref_mean, ref_std, ref_steps), (color, dashes) in zip(shown.values(), styles * 3, strict=False):
        label = f"RL Zoo {ref_algo.upper()}: {ref_mean:.1f} ± {ref_std:.1f} at {format_steps(ref_steps)} steps"
        axes.axhline(ref_mean, linestyle=dashes, linewidth=1.2, color=color, label=label)
        axes.axhspan(ref_mean - ref_std, ref_mean + ref_std, color=color, alpha=0.07)
    axes.set_title(env_id)
    axes.set_xlabel("environment steps")
    axes.set_ylabel("mean evaluation reward (deterministic)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="best")
    figure.tight_layout()
    from pgzoo.zoo.fileio import atomic_write

    path = Path(path)
    atomic_write(path, lambda file: figure.savefig(file, format="png"))
    return path


def missing_required(rows: list[Row]) -> list[str]:
    """Required rows (:data:`pgzoo.zoo.benchmark.REQUIRED_ROWS`) with fewer than :data:`REQUIRED_SEEDS` seeds."""
    from pgzoo.zoo.benchmark import REQUIRED_ROWS

    missing = []
    for algo, env_id in REQUIRED_ROWS:
        seeds = max((len(r.records) for r in rows if r.algo == algo and r.env_id == env_id), default=0)
        if seeds < REQUIRED_SEEDS:
            missing.append(f"{algo.upper()} on {env_id} ({seeds}/{REQUIRED_SEEDS} seeds measured)")
    return missing


def _distinct(records: list[dict[str, Any]], key: str) -> list[str]:
    seen = dict.fromkeys(json.dumps(r.get(key, {}), sort_keys=True) for r in records)
    return [", ".join(f"{k} {v}" for k, v in json.loads(s).items()) for s in seen]


def split_stale(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """
    Separate the runs trained with today's hyperparameter entries from those measured before a change.

    :param records: Run records from :func:`load_results`.
    :return: ``(current, stale)``.
    """
    from pgzoo.zoo.benchmark import current_entry_digest

    current: list[dict[str, Any]] = []
    stale: list[dict[str, Any]] = []
    for record in records:
        digest = current_entry_digest(record["algo"], record["env"], record.get("hyperparams_file"))
        (current if digest is not None and record.get("entry_digest") == digest else stale).append(record)
    return current, stale


def render_report(rows: list[Row], plots: dict[str, str], stale: list[dict[str, Any]] | None = None) -> str:
    """
    The whole ``benchmark.md``.

    :param rows: Rows from :func:`group_rows`.
    :param plots: Env id -> plot path relative to the report.
    :param stale: Runs left out of the table because their hyperparameters have changed since.
    """
    records = [r for row in rows for r in row.records]
    parts = [
        "# pgzoo benchmark",
        "",
        "<!-- Generated by `pgzoo benchmark --report` from benchmarks/results/*.json: do not edit by hand. -->",
        "",
        "Every number below was measured by `pgzoo benchmark` (reproduce with `scripts/run_benchmarks.sh`) and is read "
        "from the per-run files in `benchmarks/results/`. Each run trains with the tuned hyperparameters of "
        "`hyperparams/<algo>.yml` for the budget in the *Timesteps* column, then its final model is evaluated "
        "deterministically on a separate evaluation env.",
        "",
        markdown_table(rows) if rows else "_No run has been measured yet._",
        "",
        "Notes:",
        "",
        "- *Mean ± std*: mean over seeds of each seed's final mean reward, and the standard deviation of those per-seed "
        "means across seeds (population std). The RL Zoo reference is one seed, its std is across evaluation episodes.",
        "- *Seeds*: how many seeds are reported. *Reported / tuned on*: which, and the seeds the entry was chosen on (its "
        "`tuning_seeds` in `hyperparams/<algo>.yml`). A row reports only other seeds when it has at least "
        f"{REQUIRED_SEEDS} of them; otherwise its verdict says `(tuning seeds)`: the result is not a held-out one.",
        f"- *IQM [95% CI]*: for rows with {INTERVAL_MIN_SEEDS} or more seeds, the interquartile mean of the seeds' "
        "scores (mean of the middle half) with a 95% percentile bootstrap confidence interval (Agarwal et al., 2021).",
        "- *Within ref.*: whether the row reaches the bar, the reference mean minus the reference std, with no more "
        "training steps than the reference, the RL Zoo's result for the closest SB3 algorithm (A2C for REINFORCE and "
        f"A3C, DDPG for DPG). With {INTERVAL_MIN_SEEDS}+ seeds the confidence interval decides: `yes` when it lies "
        "above the bar, `no` when below, `unsure` when it contains the bar. With fewer seeds, `yes` when the mean "
        f"reaches it. `yes` also needs every group of {REQUIRED_SEEDS} consecutive reported seeds to reach the bar on "
        "its own (two independent triples for six seeds). `-` when the RL Zoo has no result; where it has no DDPG "
        "result (the MuJoCo envs), DPG's row shows TD3's, a stronger algorithm, for context, and in parentheses "
        "whether it would meet that bar too.",
        "- *Wall-clock / run*: mean duration of one run (training, curve evaluations, final evaluation). *Steps/s*: env "
        "steps divided by training time (the learning curve's evaluations are timed and left out).",
    ]
    versions = {env: REFERENCE_ENV_VERSIONS[env] for env in {r.env_id for r in rows} if env in REFERENCE_ENV_VERSIONS}
    if versions:
        parts.append(
            "- The RL Zoo measured "
            + ", ".join(f"{env} as {old}" for env, old in sorted(versions.items()))
            + ": the references of those rows are indicative."
        )
    if records:
        episodes = sorted({int(r["eval_episodes"]) for r in records})
        parts.append(f"- Final evaluation: {', '.join(map(str, episodes))} deterministic episodes per seed.")
        parts += ["", "Measured on:", ""]
        parts += [f"- {m}" for m in _distinct(records, "machine")]
        parts += [f"- {v}" for v in _distinct(records, "versions")]
        threads = sorted({int(r.get("torch_threads", 1)) for r in records})
        parts.append(f"- torch threads per run: {', '.join(map(str, threads))}")
        loads = [float(r["load_average_1min"]) for r in records if "load_average_1min" in r]
        if loads:
            parts.append(
                f"- 1-minute load average at the end of the runs: {min(loads):.1f} to {max(loads):.1f} "
                f"(above the number of CPUs, runs shared the machine: their wall-clock and steps/s are pessimistic)"
            )
    missing = missing_required(rows)
    parts += ["", "## Not measured yet", ""]
    parts += [f"- {m}" for m in missing] if missing else ["Every required row has been measured."]
    tuned = [(row, r) for row in rows for r in row.tuning_records]
    if tuned:
        parts += ["", "## Left out: runs on the seeds an entry was tuned on", ""]
        parts += [f"- {row.algo} {row.env_id} seed {r['seed']}: {float(r['final_mean_reward']):.2f}" for row, r in tuned]
    if stale:
        parts += ["", "## Left out: measured with older hyperparameters", ""]
        parts += [f"- {r['algo']} {r['env']} seed {r['seed']}, {r['n_timesteps']} steps" for r in stale]
    if plots:
        parts += ["", "## Learning curves", ""]
        parts.append(
            "Mean deterministic evaluation reward across seeds during training, shaded band of one std across seeds; "
            "dashed lines: the RL Zoo's final result for reference (its band: ± its std)."
        )
        for env_id, plot in plots.items():
            parts += ["", f"### {env_id}", "", f"![{env_id} learning curves]({plot})"]
    return "\n".join(parts) + "\n"


def check_readme(readme: str | Path) -> None:
    """
    Make sure ``readme`` is a file whose benchmark table can be replaced.

    :param readme: README file given with ``--readme``.
    :raises ZooError: When it is not an existing file.
    """
    from pgzoo.zoo.errors import ZooError

    if not Path(readme).is_file():
        raise ZooError(f"--readme {readme}: no such file (give the README whose benchmark table should be updated)")


def update_readme(
    readme: str | Path,
    table: str,
    link: str,
    *,
    markers: tuple[str, str] = (README_START, README_END),
    link_text: str = "Full report, notes and learning curves",
) -> bool:
    """
    Replace the text between the ``markers`` (by default :data:`README_START` and :data:`README_END`) with the table.

    :param readme: README file.
    :param table: Markdown table.
    :param link: Path of the full report, relative to the README.
    :param markers: The start and end markers of the block.
    :param link_text: What the line under the table says before the link.
    :return: Whether the README had the markers (and was updated).
    """
    from pgzoo.zoo.fileio import atomic_write_text

    path = Path(readme)
    text = path.read_text()
    start, end = markers
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        return False
    block = f"{start}\n{table}\n\n{link_text}: [{link}]({link})\n{end}"
    atomic_write_text(path, pattern.sub(lambda _: block, text, count=1))
    return True


def write_report(
    results_dir: str | Path = "benchmarks/results",
    output: str | Path | None = None,
    *,
    readme: str | Path | None = None,
) -> Path:
    """
    Regenerate the report and one plot per env (``<output folder>/plots/<env>.png``) from the saved runs.

    :param results_dir: Folder of the per-run JSON files.
    :param output: Markdown file to write; ``None``: ``benchmark.md`` beside ``results_dir`` (so the default
        ``benchmarks/results`` gives ``benchmarks/benchmark.md``, and a trial run's report stays with its results).
    :param readme: README whose benchmark markers get the table too, or ``None``.
    :return: The report's path.
    :raises ZooError: When ``readme`` is not a file, or the report cannot be written.
    """
    from pgzoo.zoo.errors import ZooError

    if readme is not None:
        check_readme(readme)
    output = Path(results_dir).parent / "benchmark.md" if output is None else Path(output)
    # A mistyped folder must not replace a published report (and the README's table) with an empty one.
    if not Path(results_dir).is_dir() or not any(Path(results_dir).glob("*.json")):
        raise ZooError(f"no run record in {results_dir} (check --results-dir): nothing to report, {output} left as is")
    try:
        _write_report_files(results_dir, output, readme)
    except OSError as error:
        raise ZooError(f"cannot write the report {output}: {error.strerror or error} ({error.filename or output})") from None
    return output


def _write_report_files(results_dir: str | Path, output: Path, readme: str | Path | None) -> None:
    from pgzoo.zoo.fileio import atomic_write_text

    current, stale = split_stale(load_results(results_dir))
    rows = group_rows(current)
    plots: dict[str, str] = {}
    by_env: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_env[row.env_id].append(row)
    for env_id, env_rows in by_env.items():
        if any(r.get("curve") for row in env_rows for r in row.records):
            plot = plot_env(env_id, env_rows, output.parent / "plots" / _plot_name(env_id))
            plots[env_id] = plot.relative_to(output.parent).as_posix()
    atomic_write_text(output, render_report(rows, plots, stale))
    if readme is not None:
        link = Path(os.path.relpath(output, Path(readme).parent)).as_posix()
        if not update_readme(readme, markdown_table(rows), link):
            print(f"warning: {readme} has no {README_START} ... {README_END} block; README not updated")


__all__ = [
    "INTERVAL_MIN_SEEDS",
    "PRETRAINED_END",
    "PRETRAINED_START",
    "REFERENCE",
    "REFERENCE_ALGOS",
    "Row",
    "check_readme",
    "current_tuning_seeds",
    "format_seeds",
    "group_rows",
    "iqm_interval",
    "load_agents",
    "load_results",
    "markdown_table",
    "plot_env",
    "pretrained_table",
    "render_report",
    "split_stale",
    "update_readme",
    "write_pretrained_table",
    "write_report",
]

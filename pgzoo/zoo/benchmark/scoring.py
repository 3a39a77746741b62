"""
Scoring the table's rows: the runs of one (algo, env, budget) grouped into a :class:`Row`, with their statistics
and whether they reach the RL Zoo's result (:meth:`Row.within_reference`): its mean minus its std, with the same or
fewer training steps. Where the RL Zoo has no result for the closest algorithm, a stronger one may stand there for
context (:data:`~pgzoo.zoo.benchmark.rows.CONTEXT_ALGOS`): the row is not judged against it, but the table says
whether it would meet its bar.

Tuning and reporting are kept apart: the seeds an entry was chosen on (its ``tuning_seeds``) are not reported when the
row has at least :data:`REQUIRED_SEEDS` other seeds. With :data:`INTERVAL_MIN_SEEDS` or more, the row also shows the
interquartile mean (IQM) with a 95% bootstrap confidence interval (Agarwal et al., 2021, "Deep Reinforcement Learning
at the Edge of the Statistical Precipice"), and the interval, not the mean, decides whether it reaches its bar.
Runs trained with an entry that has changed since are stale (:func:`split_stale`) and left out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pgzoo.zoo.benchmark.plan import current_entry, current_entry_digest
from pgzoo.zoo.benchmark.record import RunRecord
from pgzoo.zoo.benchmark.rows import CONTEXT_ALGOS, REFERENCE, REFERENCE_ALGOS, REQUIRED_ROWS
from pgzoo.zoo.errors import ZooError
from pgzoo.zoo.hyperparams import parse_tuning_seeds

#: Seeds a row needs to count as measured; also the size of the independent groups of seeds that must each reach the
#: bar (an entry is accepted when every such triple of its reported seeds does).
REQUIRED_SEEDS = 3

#: Seeds from which a row shows its IQM and bootstrap confidence interval, and is judged by the interval.
INTERVAL_MIN_SEEDS = 5

#: Confidence level and resamples of the bootstrap interval; the fixed seed keeps a regenerated report identical.
CONFIDENCE_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0


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
    records: list[RunRecord]
    tuning_seeds: tuple[int, ...] = ()
    tuning_records: list[RunRecord] = field(default_factory=list)

    @property
    def seeds(self) -> list[int]:
        """The seeds reported."""
        return [r.seed for r in self.records]

    @property
    def on_tuning_seeds(self) -> bool:
        """Whether some reported seed is one the entry was tuned on (the row has too few other seeds)."""
        return bool(set(self.seeds) & set(self.tuning_seeds))

    @property
    def scores(self) -> list[float]:
        """Each reported seed's final mean reward, by seed."""
        return [r.final_mean_reward for r in self.records]

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
        return _mean([r.wall_clock_s for r in self.records])

    @property
    def steps_per_second(self) -> float:
        """Mean over runs of env steps per second of training."""
        return _mean([r.steps_per_second or math.nan for r in self.records])

    def _published(self, algos: dict[str, str]) -> tuple[str, float, float, int] | None:
        algo = algos.get(self.algo, self.algo)
        result = REFERENCE.get(self.env_id, {}).get(algo)
        return None if result is None else (algo, *result)

    def reference(self) -> tuple[str, float, float, int] | None:
        """The RL Zoo result ``(algo, mean, std, steps)`` of the closest SB3 algorithm, or ``None``."""
        return self._published(REFERENCE_ALGOS)

    def context(self) -> tuple[str, float, float, int] | None:
        """
        Where :meth:`reference` is ``None``: the RL Zoo result of the algorithm shown for context
        (:data:`~pgzoo.zoo.benchmark.rows.CONTEXT_ALGOS`), if any.
        """
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

        ``" (tuning seeds)"`` is added when the reported seeds include those the entry was tuned on, and
        ``" (1 seed)"`` (or 2) when the row has fewer than :data:`REQUIRED_SEEDS`: it is not measured yet. Without a
        reference: ``"-"``, or ``"- (TD3: yes)"`` and the like for the same test against the context result.
        """
        ref = self.reference()
        n_seeds = len(self.records)
        tuned = " (tuning seeds)" if self.on_tuning_seeds else ""
        few = f" ({n_seeds} seed{'s' if n_seeds > 1 else ''})" if n_seeds < REQUIRED_SEEDS else ""
        if ref is not None:
            return self._meets(ref) + tuned + few
        context = self.context()
        return "-" if context is None else f"- ({context[0].upper()}: {self._meets(context)}){tuned}{few}"


def iqm_interval(scores: list[float]) -> tuple[float, float, float]:
    """
    The interquartile mean of ``scores`` (the mean of the middle half, as ``scipy.stats.trim_mean(scores, 0.25)``)
    with its percentile bootstrap confidence interval (:data:`CONFIDENCE_LEVEL`, :data:`BOOTSTRAP_RESAMPLES`
    resamples, seeded so a regenerated report does not change).

    :param scores: One score per seed.
    :return: ``(iqm, low, high)``.
    """
    from scipy import stats  # heavy: imported only when a row has enough seeds for an interval

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


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _env_order(env_id: str) -> tuple[int, str]:
    envs = list(REFERENCE)
    return (envs.index(env_id) if env_id in envs else len(envs), env_id)


def _algo_order(algo: str) -> tuple[int, str]:
    # pgzoo's algorithms first, then the baselines they are compared with.
    order = ["reinforce", "a3c", "dpg"]
    return (order.index(algo) if algo in order else len(order), algo)


def group_rows(records: list[RunRecord]) -> list[Row]:
    """
    Group records into table rows by (algo, env, budget), ordered by env then algorithm (pgzoo's first).

    :param records: Per-run records from :func:`~pgzoo.zoo.benchmark.record.load_results`.
    """
    groups: dict[tuple[str, str, int], list[RunRecord]] = defaultdict(list)
    for record in records:
        groups[(record.algo, record.env, record.n_timesteps)].append(record)
    rows = []
    for (algo, env_id, n_timesteps), group in groups.items():
        group.sort(key=lambda r: r.seed)
        # Runs of one entry may come from several copies of its file (another machine, a tuning folder): a seed
        # that any of them names as a tuning seed was looked at.
        files = dict.fromkeys(record.hyperparams_file or None for record in group)
        tuning = tuple(sorted(set().union(*(current_tuning_seeds(algo, env_id, file) for file in files))))
        held_out = [r for r in group if r.seed not in tuning]
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
    entry = current_entry(algo, env_id, hyperparams_file)
    if entry is None:
        return ()
    raw, source = entry
    try:
        return parse_tuning_seeds(raw.get("tuning_seeds"), f"{env_id} in {source}")
    except ZooError:
        return ()


def missing_required(rows: list[Row]) -> list[str]:
    """Required rows (:data:`~pgzoo.zoo.benchmark.rows.REQUIRED_ROWS`) with fewer than :data:`REQUIRED_SEEDS` seeds."""
    missing = []
    for algo, env_id in REQUIRED_ROWS:
        seeds = max((len(r.records) for r in rows if r.algo == algo and r.env_id == env_id), default=0)
        if seeds < REQUIRED_SEEDS:
            missing.append(f"{algo.upper()} on {env_id} ({seeds}/{REQUIRED_SEEDS} seeds measured)")
    return missing


def split_stale(records: list[RunRecord]) -> tuple[list[RunRecord], list[RunRecord]]:
    """
    Separate the runs trained with today's hyperparameter entries from those measured before a change.

    :param records: Run records from :func:`~pgzoo.zoo.benchmark.record.load_results`.
    :return: ``(current, stale)``.
    """
    current: list[RunRecord] = []
    stale: list[RunRecord] = []
    for record in records:
        digest = current_entry_digest(record.algo, record.env, record.hyperparams_file or None)
        (current if digest is not None and record.entry_digest == digest else stale).append(record)
    return current, stale


__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "CONFIDENCE_LEVEL",
    "INTERVAL_MIN_SEEDS",
    "REQUIRED_SEEDS",
    "Row",
    "current_tuning_seeds",
    "group_rows",
    "iqm_interval",
    "missing_required",
    "split_stale",
]

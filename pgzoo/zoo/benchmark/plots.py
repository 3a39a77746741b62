"""
The report's plots: the learning curves of every row of one env, mean across seeds with a band of one std, beside
the RL Zoo's results (:func:`plot_env`), saved as ``plots/<env>.png`` (:func:`plot_name`).

matplotlib is imported when a plot is drawn, not with this module: reading records and tables does not need it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from pgzoo.zoo.benchmark.record import RunRecord
from pgzoo.zoo.benchmark.scoring import Row
from pgzoo.zoo.benchmark.table import format_steps
from pgzoo.zoo.fileio import atomic_write

#: Folder of the plots, beside the report.
PLOTS_FOLDER = "plots"


def plot_name(env_id: str) -> str:
    """The file name of ``env_id``'s plot: the id with anything but letters, digits, ``.``, ``_`` and ``-`` replaced."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", env_id) + ".png"


def _curve_band(records: list[RunRecord]) -> tuple[Any, Any, Any] | None:
    # Seeds may evaluate at slightly different steps (A3C's workers report asynchronously): interpolate every seed
    # onto the union of their steps, over the range all of them cover.
    curves = [np.asarray(r.curve, dtype=float) for r in records if r.curve]
    if not curves:
        return None
    end = min(c[-1, 0] for c in curves)
    grid = np.unique(np.concatenate([c[:, 0] for c in curves]))
    grid = grid[grid <= end]
    values = np.stack([np.interp(grid, c[:, 0], c[:, 1]) for c in curves])
    return grid, values.mean(axis=0), values.std(axis=0)


def reward_label(rows: list[Row]) -> str:
    """
    The y axis's label: it names how the curves' episodes chose their actions, as each record says (Atari rows
    sample them, the others take the most likely ones), both when the plot has both.

    :param rows: The rows of one env.
    """
    protocols = {r.deterministic_eval for row in rows for r in row.records}
    kinds = [name for flag, name in ((True, "deterministic"), (False, "sampled actions")) if flag in protocols]
    return f"mean evaluation reward ({' / '.join(kinds)})" if kinds else "mean evaluation reward"


def plot_env(env_id: str, rows: list[Row], path: str | Path) -> Path:
    """
    Draw the learning curves of every row on ``env_id`` (mean across seeds, band of one std) with the RL Zoo
    references as dashed horizontal lines (their final result; the RL Zoo publishes no curve), and save a PNG.

    :param env_id: Env id.
    :param rows: The rows of this env.
    :param path: PNG file to write.
    :return: The path written.
    """
    from matplotlib.figure import Figure  # heavy, and only the report draws

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
    axes.set_ylabel(reward_label(rows))
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="best")
    figure.tight_layout()
    path = Path(path)
    atomic_write(path, lambda file: figure.savefig(file, format="png"))
    return path


__all__ = ["PLOTS_FOLDER", "plot_env", "plot_name", "reward_label"]

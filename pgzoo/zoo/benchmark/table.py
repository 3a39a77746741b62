"""
The benchmark's tables in GitHub Markdown: the table of measured rows (:func:`markdown_table`, in ``benchmark.md``
and the README) and the table of a collection's agents (:func:`pretrained_table`), with the number formats they share.
"""

from __future__ import annotations

from pgzoo.zoo.benchmark.scoring import Row


def format_seeds(seeds: list[int] | tuple[int, ...]) -> str:
    """``[0, 1, 2, 10, 11]`` -> ``"0-2, 10-11"``; ``[]`` -> ``"-"``."""
    runs: list[list[int]] = []
    for seed in sorted(set(seeds)):
        if runs and seed == runs[-1][-1] + 1:
            runs[-1].append(seed)
        else:
            runs.append([seed])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs) or "-"


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


def markdown_table(rows: list[Row]) -> str:
    """
    The benchmark table in GitHub Markdown.

    :param rows: Rows from :func:`~pgzoo.zoo.benchmark.scoring.group_rows`.
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


def pretrained_table(rows: list[Row], agents_folder: str) -> str:
    """
    The table of a collection's agents in GitHub Markdown: one agent per row, with the command that plays it.

    :param rows: Rows from :func:`~pgzoo.zoo.benchmark.scoring.group_rows` of
        :func:`~pgzoo.zoo.benchmark.agents.load_agents`' records (one record each).
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
                f"| {row.algo.upper()} | {row.env_id} | {record.final_mean_reward:.2f} ± {record.final_std_reward:.2f}"
                f" ({record.eval_episodes}) | {format_steps(row.n_timesteps)} | {record.seed} | `{command}` |"
            )
    return "\n".join(lines)


__all__ = ["format_seeds", "format_steps", "markdown_table", "pretrained_table"]

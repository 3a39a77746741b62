"""
Learning tests train from an entry the one way the zoo does: :func:`pgzoo.zoo.train.train`, which ``pgzoo train``,
``pgzoo benchmark`` and ``pgzoo tune`` also call, scored as the benchmark scores a run (its final model on
``DEFAULT_EVAL_EPISODES`` deterministic episodes of the separate evaluation env). A seed then means the same run, and
the same score, in a test as in the benchmark table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pgzoo.zoo.benchmark.plan import DEFAULT_EVAL_EPISODES
from pgzoo.zoo.train import TrainResult, train


def train_entry(algo: str, env_id: str, log_folder: Path, seed: int = 0, **kwargs: Any) -> TrainResult:
    """
    Train ``algo`` on ``env_id`` with its tuned entry of ``hyperparams/<algo>.yml`` and evaluate the final model.

    :param algo: Algorithm.
    :param env_id: Env id.
    :param log_folder: Logs folder of the run (a test's ``tmp_path``).
    :param seed: Seed of the run.
    :param kwargs: Other arguments of :func:`pgzoo.zoo.train.train` (``n_timesteps``, ``hyperparams``...).
    :return: The run's result; ``mean_reward`` is the benchmark's final score of this seed.
    """
    kwargs = {"eval_freq": 0, "final_eval_episodes": DEFAULT_EVAL_EPISODES, "verbose": 0, **kwargs}
    return train(algo, env_id, seed=seed, log_folder=log_folder, **kwargs)

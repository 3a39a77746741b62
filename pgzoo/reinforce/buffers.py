"""Storage of whole episodes for Monte-Carlo policy gradient."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Observation = np.ndarray | dict[str, np.ndarray]


@dataclass
class EpisodeBatch:
    """
    Steps of ``n_envs`` parallel environments laid out as ``(n_rows, n_envs, ...)`` arrays.

    ``finished[t, e]`` marks the steps that belong to an episode that has ended; only those are used
    for an update. Rows are consecutive environment steps, so returns can be computed by one
    backward scan over them.
    """

    observations: Observation
    actions: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    finished: np.ndarray


class EpisodeBuffer:
    """
    Collects the steps of parallel environments until enough whole episodes have ended.

    An episode still running when an update happens is kept and finished after the update, so no
    environment step is thrown away; its first steps were taken by the previous policy. With a
    single environment this never happens: updates only come right after an episode ends.

    :param n_envs: Number of parallel environments
    :param min_episodes: Update once at least this many episodes have ended (``None``: no minimum)
    :param min_steps: Update once the ended episodes hold at least this many steps (``None``: no minimum)
    """

    def __init__(self, n_envs: int, min_episodes: int | None, min_steps: int | None):
        self.n_envs = n_envs
        self.min_episodes = min_episodes or 0
        self.min_steps = min_steps or 0
        self.reset()

    def reset(self) -> None:
        """Forget every stored step, finished or not (e.g. after the environments were reset)."""
        self.observations: list[Observation] = []
        self.actions: list[np.ndarray] = []
        self.rewards: list[np.ndarray] = []
        self.dones: list[np.ndarray] = []
        # Per env: first row not yet used by an update, and last row that ended an episode.
        self.first_row = np.zeros(self.n_envs, dtype=np.int64)
        self.last_done_row = np.full(self.n_envs, -1, dtype=np.int64)
        self.running_length = np.zeros(self.n_envs, dtype=np.int64)
        self.finished_episodes = 0
        self.finished_steps = 0

    def add(self, observation: Observation, action: np.ndarray, reward: np.ndarray, done: np.ndarray) -> None:
        """
        Store one step of every environment.

        :param observation: Observations the actions were taken from
        :param action: Actions taken
        :param reward: Rewards received (already bootstrapped for time-limit truncations)
        :param done: Whether each environment's episode ended with this step
        """
        if isinstance(observation, dict):
            self.observations.append({key: np.array(value) for key, value in observation.items()})
        else:
            self.observations.append(np.array(observation))
        self.actions.append(np.array(action))
        self.rewards.append(np.asarray(reward, dtype=np.float32))
        self.dones.append(np.asarray(done, dtype=bool))
        self.running_length += 1
        self.finished_episodes += int(done.sum())
        self.finished_steps += int(self.running_length[done].sum())
        self.running_length[done] = 0
        self.last_done_row[done] = len(self.rewards) - 1

    def is_ready(self) -> bool:
        """Whether the ended episodes are enough for an update."""
        return (
            self.finished_episodes > 0
            and self.finished_episodes >= self.min_episodes
            and self.finished_steps >= self.min_steps
        )

    def pop_finished(self) -> EpisodeBatch:
        """
        Return every stored step, with the steps of ended episodes marked, and keep only the
        steps of the episodes still running.
        """
        rows = np.arange(len(self.rewards))[:, None]
        finished = (rows >= self.first_row) & (rows <= self.last_done_row)
        batch = EpisodeBatch(
            observations=_stack(self.observations),
            actions=np.stack(self.actions),
            rewards=np.stack(self.rewards),
            dones=np.stack(self.dones),
            finished=finished,
        )
        kept_from = int(self.last_done_row.min()) + 1
        for steps in (self.observations, self.actions, self.rewards, self.dones):
            del steps[:kept_from]
        self.first_row = self.last_done_row + 1 - kept_from
        self.last_done_row = self.first_row - 1
        self.finished_episodes = 0
        self.finished_steps = 0
        return batch


def _stack(observations: list[Observation]) -> Observation:
    first = observations[0]
    if isinstance(first, dict):
        return {key: np.stack([obs[key] for obs in observations]) for key in first}  # type: ignore[index]
    return np.stack(observations)  # type: ignore[arg-type]

"""pgzoo/QuadraticBandit-v0: the continuous bandit of Silver et al. (2014) used by scripts/lecture_claims.py."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import pgzoo  # noqa: F401  (registers the env)
from pgzoo.envs import QUADRATIC_BANDIT_ID, QuadraticBanditEnv
from pgzoo.envs.bandit import ACTION_BOUND, EIGENVALUES, TARGET_VALUE, make_cost_matrix


@pytest.mark.parametrize("action_dim", [1, 10, 50])
def test_spaces_and_one_step_episodes(action_dim: int) -> None:
    env = gym.make(QUADRATIC_BANDIT_ID, action_dim=action_dim)
    assert env.action_space == gym.spaces.Box(-ACTION_BOUND, ACTION_BOUND, (action_dim,), np.float32)
    assert env.observation_space.shape == (1,)
    observation, info = env.reset(seed=3)
    np.testing.assert_array_equal(observation, [1.0])
    assert info == {}
    observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
    np.testing.assert_array_equal(observation, [1.0])
    assert terminated and not truncated
    assert reward == pytest.approx(-info["cost"]) and reward < 0


def test_passes_gymnasium_checker() -> None:
    check_env(QuadraticBanditEnv(5), skip_render_check=True)


def test_reward_is_minus_the_quadratic_cost_with_its_maximum_at_the_target() -> None:
    env = QuadraticBanditEnv(action_dim=10, matrix_seed=7)
    env.reset(seed=0)
    target = np.full(10, TARGET_VALUE, dtype=np.float32)
    assert env.step(target)[1] == 0.0
    rng = np.random.default_rng(0)
    for _ in range(50):
        action = target + rng.normal(scale=1.0, size=10).astype(np.float32)
        delta = action.astype(np.float64) - TARGET_VALUE
        expected = -delta @ env.cost_matrix @ delta
        reward = env.step(action)[1]
        assert reward == pytest.approx(expected, rel=1e-9) and reward < 0.0
    # From a = 0 the cost is a*^T C a* = 16 * sum(C).
    assert env.cost(np.zeros(10)) == pytest.approx(16.0 * env.cost_matrix.sum())
    # A batch of actions gets one cost per row.
    batch = np.stack([target, np.zeros(10)])
    np.testing.assert_allclose(env.cost(batch), [0.0, env.cost(np.zeros(10))])


def test_actions_are_clipped_to_the_bounds() -> None:
    env = QuadraticBanditEnv(action_dim=3)
    env.reset(seed=0)
    _, reward_far, *_ = env.step(np.full(3, 100.0, dtype=np.float32))
    _, reward_bound, *_ = env.step(np.full(3, ACTION_BOUND, dtype=np.float32))
    assert reward_far == reward_bound


@pytest.mark.parametrize("action_dim", [2, 10, 25, 50])
def test_cost_matrix_is_symmetric_positive_definite_with_the_papers_eigenvalues(action_dim: int) -> None:
    matrix = QuadraticBanditEnv(action_dim).cost_matrix
    np.testing.assert_allclose(matrix, matrix.T)
    eigenvalues = np.linalg.eigvalsh(matrix)
    assert eigenvalues.min() > 0
    # Every eigenvalue is one of {0.1, 1} (up to rounding).
    assert np.all(np.min(np.abs(eigenvalues[:, None] - np.asarray(EIGENVALUES)[None]), axis=1) < 1e-9)
    # The eigenvectors are rotated, not the coordinate axes: C is not diagonal.
    assert np.abs(matrix - np.diag(np.diag(matrix))).max() > 1e-3


def test_matrix_is_fixed_by_its_seed_not_by_reset() -> None:
    first, second = QuadraticBanditEnv(10, matrix_seed=0), QuadraticBanditEnv(10, matrix_seed=0)
    np.testing.assert_array_equal(first.cost_matrix, second.cost_matrix)
    np.testing.assert_array_equal(first.cost_matrix, make_cost_matrix(10, 0))
    assert not np.allclose(first.cost_matrix, QuadraticBanditEnv(10, matrix_seed=1).cost_matrix)
    action = np.linspace(-3, 3, 10).astype(np.float32)
    rewards = []
    for seed in (0, 1, None):
        first.reset(seed=seed)
        rewards.append(first.step(action)[1])
    assert rewards[0] == rewards[1] == rewards[2]


def test_seeded_vector_envs_are_deterministic() -> None:
    def rollout() -> list[float]:
        envs = gym.make_vec(QUADRATIC_BANDIT_ID, num_envs=3, vectorization_mode="sync", action_dim=4)
        envs.reset(seed=11)
        envs.action_space.seed(11)
        rewards = [envs.step(envs.action_space.sample())[1] for _ in range(5)]
        envs.close()
        return np.concatenate(rewards).tolist()

    assert rollout() == rollout()


@pytest.mark.parametrize("action_dim", [0, -3, 2.5, True])
def test_bad_action_dim_is_a_clear_error(action_dim: object) -> None:
    with pytest.raises(ValueError, match="action_dim"):
        QuadraticBanditEnv(action_dim)  # type: ignore[arg-type]

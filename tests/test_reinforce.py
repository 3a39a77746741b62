import csv

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from entries import train_entry
from gymnasium import spaces
from matrix_env import MatrixActionEnv
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CheckpointCallback,
    EvalCallback,
    StopTrainingOnMaxEpisodes,
)
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import (
    FakeImageEnv,
    IdentityEnv,
    IdentityEnvBox,
    IdentityEnvMultiBinary,
    IdentityEnvMultiDiscrete,
    SimpleMultiObsEnv,
)
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack, VecNormalize

from pgzoo import REINFORCE
from pgzoo.reinforce.buffers import EpisodeBuffer
from pgzoo.reinforce.policies import ZeroBaseline
from pgzoo.reinforce.reinforce import discounted_returns


def tiny(env, **kwargs):
    kwargs.setdefault("n_episodes", 2)
    kwargs.setdefault("policy_kwargs", dict(net_arch=[16]))
    kwargs.setdefault("seed", 0)
    return REINFORCE(kwargs.pop("policy", "MlpPolicy"), env, **kwargs)


# --- Returns and episode storage -------------------------------------------------------------


def test_discounted_returns_restart_at_episode_end():
    rewards = np.array([[1.0], [1.0], [1.0], [1.0]], dtype=np.float32)
    dones = np.array([[False], [True], [False], [True]])
    returns = discounted_returns(rewards, dones, gamma=0.5)
    np.testing.assert_allclose(returns[:, 0], [1.5, 1.0, 1.5, 1.0])


def test_episode_buffer_keeps_running_episodes_for_next_update():
    buffer = EpisodeBuffer(n_envs=2, min_episodes=1, min_steps=None)
    # env 0 ends an episode at step 1; env 1 keeps running.
    for step, done in enumerate([[False, False], [True, False], [False, False]]):
        buffer.add(np.full((2, 1), step), np.zeros(2), np.ones(2), np.array(done))
    assert buffer.is_ready()
    batch = buffer.pop_finished()
    np.testing.assert_array_equal(batch.finished, [[True, False], [True, False], [False, False]])
    assert not buffer.is_ready()
    # env 1 ends its episode: all 4 of its steps, including the 3 taken before the update, are used.
    buffer.add(np.full((2, 1), 3), np.zeros(2), np.ones(2), np.array([False, True]))
    batch = buffer.pop_finished()
    np.testing.assert_array_equal(batch.finished, [[False, True], [False, True], [False, True], [False, True]])
    np.testing.assert_allclose(discounted_returns(batch.rewards, batch.dones, 1.0)[:, 1], [4, 3, 2, 1])
    # Only env 0's running episode (rows 2 and 3) is still stored.
    assert len(buffer.rewards) == 2


def test_episode_buffer_step_threshold():
    buffer = EpisodeBuffer(n_envs=1, min_episodes=None, min_steps=5)
    for done in [False, True, False, False]:
        buffer.add(np.zeros((1, 1)), np.zeros(1), np.ones(1), np.array([done]))
    assert not buffer.is_ready()  # 2 finished steps < 5
    buffer.add(np.zeros((1, 1)), np.zeros(1), np.ones(1), np.array([True]))
    assert buffer.is_ready()


def test_time_limit_truncation_is_bootstrapped():
    env = gym.make("CartPole-v1", max_episode_steps=5)
    model = tiny(env, n_episodes=1, normalize_advantage=False)
    with th.no_grad():
        model.policy.value_net.bias.fill_(10.0)
        model.policy.value_net.weight.zero_()
    captured = {}

    class Capture(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            captured["rewards"] = [step.copy() for step in self.model.rollout_buffer.rewards]

    model.learn(5, callback=Capture())
    # CartPole survives 5 steps from any start: the last reward is 1 + gamma * V(terminal) = 1 + 0.99 * 10.
    assert captured["rewards"][-1][0] == pytest.approx(1 + 0.99 * 10, rel=1e-5)
    assert captured["rewards"][0][0] == pytest.approx(1.0)


# --- Spaces ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [
        IdentityEnv(4, ep_length=10),
        IdentityEnvBox(ep_length=10),
        IdentityEnvMultiDiscrete(3, ep_length=10),
        IdentityEnvMultiBinary(3, ep_length=10),
    ],
    ids=["Discrete", "Box", "MultiDiscrete", "MultiBinary"],
)
@pytest.mark.parametrize("use_baseline", [True, False])
def test_action_spaces(env, use_baseline):
    model = tiny(env, use_baseline=use_baseline)
    model.learn(200)
    action, _ = model.predict(env.observation_space.sample())
    assert env.action_space.contains(action.astype(env.action_space.dtype))


def test_logs_the_gaussian_std_as_a2c_does(tmp_path):
    model = tiny("Pendulum-v1", n_episodes=1)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(400)
    rows = list(csv.DictReader((tmp_path / "progress.csv").read_text().splitlines()))
    assert rows and all(float(row["train/std"]) > 0 for row in rows if row["train/n_updates"])


def test_multi_dimensional_box_actions():
    model = tiny(MatrixActionEnv())
    model.learn(100)
    action, _ = model.predict(np.zeros(3, dtype=np.float32))
    assert action.shape == (2, 2) and model.action_space.contains(action)


def test_dict_observations():
    model = tiny(SimpleMultiObsEnv(random_start=False), policy="MultiInputPolicy")
    model.learn(200)
    obs = model.get_env().reset()
    model.predict(obs)


def test_image_observations_with_frame_stack():
    env = VecFrameStack(DummyVecEnv([lambda: FakeImageEnv(screen_height=36, screen_width=36)]), n_stack=2)
    model = tiny(env, policy="CnnPolicy", policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=16)))
    model.learn(64)
    assert model.predict(env.reset())[0].shape == (1,)


def test_unsupported_action_space_is_a_clear_error():
    class TupleActionEnv(IdentityEnv):
        def __init__(self):
            super().__init__(2)
            self.action_space = spaces.Tuple((spaces.Discrete(2), spaces.Discrete(2)))

    with pytest.raises(ValueError, match="does not support the action space Tuple"):
        REINFORCE("MlpPolicy", TupleActionEnv())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_episodes=0), "`n_episodes` must be a positive number, got 0"),
        (dict(n_episodes=None, n_steps=-5), "`n_steps` must be a positive number, got -5"),
        (dict(n_episodes=None, n_steps=None), "needs `n_episodes` or `n_steps`"),
        (dict(policy="NoSuchPolicy"), "NoSuchPolicy"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        REINFORCE(kwargs.pop("policy", "MlpPolicy"), "CartPole-v1", **kwargs)


class EndlessEnv(gym.Env):
    observation_space = spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(2, dtype=np.float32), 1.0, False, False, {}


def test_episodes_that_never_end_are_a_clear_error():
    model = tiny(EndlessEnv())
    model.max_episode_length = 50
    with pytest.raises(RuntimeError, match=r"50 steps without ending: wrap the env in gymnasium\.wrappers\.TimeLimit"):
        model.learn(200)


def test_nothing_left_to_train_is_a_no_op():
    # As SB3's A2C: learn(0), or a budget already reached, trains nothing and returns.
    model = tiny("CartPole-v1")
    assert model.learn(0) is model and model.num_timesteps == 0 and model._n_updates == 0
    model.learn(100)
    steps, updates = model.num_timesteps, model._n_updates
    model.learn(0, reset_num_timesteps=False)
    assert (model.num_timesteps, model._n_updates) == (steps, updates)


# --- Policy ----------------------------------------------------------------------------------


def test_discrete_probabilities_sum_to_one():
    model = tiny("CartPole-v1")
    obs = th.as_tensor(np.random.default_rng(0).normal(size=(32, 4)), dtype=th.float32, device=model.device)
    probs = model.policy.get_distribution(obs).distribution.probs
    th.testing.assert_close(probs.sum(dim=1), th.ones(32, device=model.device))


def test_without_baseline_there_is_no_value_network():
    with_baseline = tiny("CartPole-v1", use_baseline=True, policy_kwargs=dict(net_arch=[16, 16]))
    without = tiny("CartPole-v1", use_baseline=False, policy_kwargs=dict(net_arch=[16, 16]))
    assert isinstance(without.policy.value_net, ZeroBaseline)
    n_params = sum(p.numel() for p in without.policy.parameters())
    # Only the actor: 4*16+16 + 16*16+16 + 16*2+2.
    assert n_params == 4 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2
    assert n_params < sum(p.numel() for p in with_baseline.policy.parameters())
    optimized = {id(p) for group in without.policy.optimizer.param_groups for p in group["params"]}
    assert optimized == {id(p) for p in without.policy.parameters()}


# --- SB3 machinery ---------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = tiny(env, use_baseline=False)
    model.learn(300)
    observations = np.random.default_rng(1).normal(size=(20, 4)).astype(np.float32)
    actions, _ = model.predict(observations, deterministic=True)
    model.save(tmp_path / "reinforce.zip")

    loaded = REINFORCE.load(tmp_path / "reinforce.zip", env=env)
    assert loaded.use_baseline is False and isinstance(loaded.policy.value_net, ZeroBaseline)
    np.testing.assert_array_equal(loaded.predict(observations, deterministic=True)[0], actions)
    for original, restored in zip(model.policy.parameters(), loaded.policy.parameters(), strict=True):
        th.testing.assert_close(original, restored)
    # Predicting needs no env.
    without_env = REINFORCE.load(tmp_path / "reinforce.zip")
    np.testing.assert_array_equal(without_env.predict(observations, deterministic=True)[0], actions)
    # Training goes on after loading.
    steps = loaded.num_timesteps
    loaded.learn(200, reset_num_timesteps=False)
    assert loaded.num_timesteps >= steps + 200


def test_decaying_learning_rate_stops_at_zero_past_the_budget():
    # Updates wait for whole episodes (200 steps on Pendulum), so training ends past total_timesteps.
    model = tiny("Pendulum-v1", n_episodes=1, learning_rate=lambda progress: 1e-3 * progress)
    model.learn(150)
    assert model.num_timesteps == 200
    assert model._current_progress_remaining == 0.0
    assert model.policy.optimizer.param_groups[0]["lr"] == 0.0


def test_same_seed_same_parameters():
    def train():
        model = tiny(make_vec_env("CartPole-v1", n_envs=2), seed=3)
        model.learn(500)
        return th.nn.utils.parameters_to_vector(model.policy.parameters())

    th.testing.assert_close(train(), train())


def test_callbacks_are_called_and_can_stop_training(tmp_path):
    class Counter(BaseCallback):
        def __init__(self):
            super().__init__()
            self.calls = {"training_start": 0, "rollout_start": 0, "step": 0, "rollout_end": 0}

        def _on_training_start(self):
            self.calls["training_start"] += 1

        def _on_rollout_start(self):
            self.calls["rollout_start"] += 1

        def _on_step(self):
            self.calls["step"] += 1
            return True

        def _on_rollout_end(self):
            self.calls["rollout_end"] += 1

    counter = Counter()
    eval_callback = EvalCallback(make_vec_env("CartPole-v1"), eval_freq=100, n_eval_episodes=2, log_path=str(tmp_path))
    checkpoints = CheckpointCallback(save_freq=100, save_path=str(tmp_path / "checkpoints"))
    model = tiny("CartPole-v1")
    model.learn(10_000, callback=[counter, eval_callback, checkpoints, StopTrainingOnMaxEpisodes(max_episodes=10)])
    # Stopped after 10 episodes (a few hundred steps), far below 10,000 steps.
    assert 100 <= model.num_timesteps < 1_000
    assert counter.calls["training_start"] == 1
    assert counter.calls["step"] == model.num_timesteps
    assert counter.calls["rollout_start"] >= 3 and counter.calls["rollout_end"] >= 2
    assert (tmp_path / "evaluations.npz").exists()
    assert any((tmp_path / "checkpoints").iterdir())


def test_vec_normalize_tensorboard_and_progress_bar(tmp_path):
    env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=2, seed=0), gamma=0.99)
    model = tiny(env, tensorboard_log=str(tmp_path))
    model.learn(600, progress_bar=True)
    assert env.obs_rms.count > 600
    assert any(tmp_path.rglob("events.out.tfevents.*"))


def test_step_threshold_per_update():
    model = tiny(make_vec_env("CartPole-v1", n_envs=2, seed=0), n_episodes=None, n_steps=300)
    model.learn(1000)
    # Each update used at least 300 steps of ended episodes.
    assert 1 <= model._n_updates <= model.num_timesteps // 300


# --- Learning --------------------------------------------------------------------------------


@pytest.mark.parametrize("env_id, threshold", [("CartPole-v1", 475), ("Acrobot-v1", -100)])
def test_learns_with_zoo_hyperparameters(env_id, threshold, tmp_path):
    result = train_entry("reinforce", env_id, tmp_path)
    assert result.mean_reward >= threshold, result.mean_reward

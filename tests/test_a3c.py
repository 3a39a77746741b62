"""Tests of A3C on the local backend (worker processes on this machine)."""

from __future__ import annotations

import copy
import csv
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import psutil
import pytest
import torch as th
from gymnasium import spaces
from matrix_env import MatrixActionEnv
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback, StopTrainingOnMaxEpisodes
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import BitFlippingEnv, FakeImageEnv, SimpleMultiObsEnv
from stable_baselines3.common.logger import configure
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.torch_layers import FlattenExtractor
from stable_baselines3.common.vec_env import (
    SubprocVecEnv,
    VecFrameStack,
    VecMonitor,
    VecNormalize,
    VecTransposeImage,
)

from pgzoo import A3C
from pgzoo.a3c import MlpPolicy, SharedAdam, SharedRMSprop, SharedRMSpropTFLike, WorkerError
from pgzoo.a3c.learner import ActorLearner
from pgzoo.a3c.normalization import Moments, NormalizedFlattenExtractor, ReturnNormalizer, RolloutStats
from pgzoo.a3c.shortcuts import evaluate_actions, sample_action, skip_distribution_checks
from pgzoo.common.benchmark import StopAtRewardThreshold
from pgzoo.zoo.hyperparams import get_env_hyperparams, preprocess_hyperparams

HYPERPARAMS = Path(__file__).resolve().parents[1] / "hyperparams" / "a3c.yml"


def a3c_kwargs(env_id: str) -> tuple[dict[str, Any], int]:
    """A3C constructor arguments and n_timesteps of ``env_id``'s entry in hyperparams/a3c.yml, parsed by the zoo."""
    raw, _ = get_env_hyperparams("a3c", env_id, HYPERPARAMS)
    config = preprocess_hyperparams(raw, where=f"{env_id} in {HYPERPARAMS}")
    # The file's n_envs counts the envs of each worker.
    return {"n_envs_per_worker": config.n_envs, **config.model_kwargs}, config.n_timesteps


# --- Helpers sent to workers: module-level so they pickle by reference. --------------------------------------


class FaultyEnv(gym.Wrapper):
    """CartPole whose ``step`` raises (or kills its process) after ``fail_after`` steps."""

    def __init__(self, fail_after: int = 50, hard: bool = False):
        super().__init__(gym.make("CartPole-v1"))
        self.fail_after = fail_after
        self.hard = hard
        self.steps = 0

    def step(self, action: Any) -> Any:
        self.steps += 1
        if self.steps > self.fail_after:
            if self.hard:
                os._exit(3)
            # The wall time lets a test measure how long the error takes to reach the main process.
            raise RuntimeError(f"boom: the env broke on purpose at t={time.time():.3f}")
        return self.env.step(action)


def make_cartpole() -> gym.Env:
    return gym.make("CartPole-v1")


class DictObservation(gym.ObservationWrapper):
    """CartPole with its observation inside a dict."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.observation_space = gym.spaces.Dict({"state": env.observation_space})

    def observation(self, observation: Any) -> Any:
        return {"state": observation}


def make_dict_cartpole() -> gym.Env:
    return DictObservation(gym.make("CartPole-v1"))


def make_channel_last_images() -> gym.Env:
    return gym.wrappers.TimeLimit(FakeImageEnv(screen_height=36, screen_width=36, n_channels=1, discrete=True), 10)


# Registered, so that a VecEnv of them can be rebuilt from its spec as SB3 users build them (make_vec_env(id)).
gym.register("A3CTestImages-v0", entry_point=make_channel_last_images)
gym.register("A3CTestDictCartPole-v0", entry_point=make_dict_cartpole)
gym.register(
    "A3CTestMultiObs-v0",
    entry_point=SimpleMultiObsEnv,
    kwargs={"discrete_actions": True},
    max_episode_steps=20,
)


class Unpicklable:
    """An env factory that can't travel to another process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self) -> gym.Env:
        return gym.make("CartPole-v1")


class StopAfter(BaseCallback):
    """Returns False (or raises KeyboardInterrupt) at its ``n``-th call."""

    def __init__(self, n: int, interrupt: bool = False):
        super().__init__()
        self.n = n
        self.interrupt = interrupt
        self.stop_time = 0.0

    def _on_step(self) -> bool:
        if self.n_calls < self.n:
            return True
        self.stop_time = time.monotonic()
        if self.interrupt:
            raise KeyboardInterrupt
        return False


# --- Child-process accounting -------------------------------------------------------------------------------


def children() -> set[int]:
    return {child.pid for child in psutil.Process().children(recursive=True)}


@pytest.fixture(scope="module")
def warm() -> None:
    """Start the fork server and resource tracker once: they are long-lived helpers, not workers."""
    A3C("MlpPolicy", "CartPole-v1", n_workers=1, n_steps=5).learn(100)


@pytest.fixture
def no_leftover_workers(warm: None):
    """Fail the test if any process started during it is still alive at its end."""
    before = children()
    models: list[A3C] = []
    yield models
    deadline = time.monotonic() + 5
    while children() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert children() - before == set()
    for model in models:
        assert model.worker_pids, "the test should have started workers"
        assert not any(
            psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in model.worker_pids
        )


# --- Input checks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_workers": 0}, "n_workers"),
        ({"n_workers": -2}, "n_workers"),
        ({"n_steps": 0}, "n_steps"),
        ({"n_envs_per_worker": 0}, "n_envs_per_worker"),
        ({"reward_scale": 0.0}, "reward_scale"),
        ({"backend": "mpi"}, "backend"),
        ({"start_method": "fork"}, "fork"),
        ({"device": "cuda"}, "CPU"),
        ({"use_sde": True}, "gSDE"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        A3C("MlpPolicy", "CartPole-v1", **kwargs)


def test_unsupported_action_space() -> None:
    class TupleActions(gym.Env):
        observation_space = gym.spaces.Box(-1, 1, (2,))
        action_space = gym.spaces.Tuple((gym.spaces.Discrete(2), gym.spaces.Discrete(2)))

    with pytest.raises(AssertionError, match="only supports"):
        A3C("MlpPolicy", TupleActions, n_workers=1)


def test_unsendable_envs() -> None:
    with pytest.raises(ValueError, match="env id"):
        A3C("MlpPolicy", Unpicklable(), n_workers=1)
    with pytest.raises(ValueError, match="n_envs_per_worker"):
        A3C("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), n_envs_per_worker=3, n_workers=1)


@pytest.mark.parametrize(
    "make_env, match",
    [
        # A wrapper that doesn't record its arguments can't be rebuilt in the workers.
        (lambda: DictObservation(gym.make("CartPole-v1")), r"wrappers \['DictObservation'\]"),
        (lambda: VecMonitor(make_vec_env("CartPole-v1")), "VecMonitor"),
        # SB3's BitFlippingEnv has a placeholder spec: refused here, not in a worker.
        (lambda: BitFlippingEnv(), "placeholder"),
        (lambda: make_vec_env(lambda: FakeImageEnv()), "no registry spec"),
        (lambda: VecNormalize(make_vec_env("CartPole-v1"), gamma=0.9), "already normalizes"),
    ],
    ids=["unrecorded-wrapper", "vec-monitor", "placeholder-spec", "no-spec", "normalizing-twice"],
)
def test_envs_that_cannot_be_rebuilt_are_refused_at_construction(make_env: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        # normalize_obs matters to the last case only: the others are refused before it is looked at.
        A3C("MlpPolicy", make_env(), n_workers=1, normalize_obs=True)


def test_default_workers_is_core_count() -> None:
    assert A3C("MlpPolicy", "CartPole-v1").n_workers == len(os.sched_getaffinity(0))


def test_default_workers_follow_the_loading_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    A3C("MlpPolicy", "CartPole-v1").save(tmp_path / "default.zip")
    A3C("MlpPolicy", "CartPole-v1", n_workers=3).save(tmp_path / "three.zip")
    monkeypatch.setattr("pgzoo.a3c.a3c.available_cores", lambda: 7)  # a machine with other cores
    assert A3C.load(tmp_path / "default.zip").n_workers == 7
    assert A3C.load(tmp_path / "three.zip").n_workers == 3
    # Given at load, a count is the model's own from then on; None makes it follow the cores again.
    A3C.load(tmp_path / "default.zip", n_workers=2).save(tmp_path / "two.zip")
    A3C.load(tmp_path / "three.zip", n_workers=None).save(tmp_path / "cores.zip")
    monkeypatch.setattr("pgzoo.a3c.a3c.available_cores", lambda: 5)
    assert A3C.load(tmp_path / "two.zip").n_workers == 2 and A3C.load(tmp_path / "cores.zip").n_workers == 5
    with pytest.raises(ValueError, match="n_workers"):
        A3C.load(tmp_path / "two.zip", n_workers=0)


# --- Shared optimizer ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer_class", [SharedRMSprop, SharedRMSpropTFLike, SharedAdam])
def test_shared_optimizer_state_is_eager_and_shared(optimizer_class: type) -> None:
    net = th.nn.Linear(3, 2)
    optimizer = optimizer_class(net.parameters(), lr=1e-3)
    optimizer.share_memory()
    for param in net.parameters():
        state = optimizer.state[param]
        assert th.is_tensor(state["step"]) and state["step"].item() == 0
        assert all(value.is_shared() for value in state.values())
    # Reloading replaces the tensors; share_memory() shares the new ones again.
    optimizer.load_state_dict(optimizer.state_dict())
    optimizer.share_memory()
    assert all(value.is_shared() for state in optimizer.state.values() for value in state.values())


@pytest.mark.parametrize(
    ("shared_class", "torch_class", "kwargs"),
    [
        (SharedRMSprop, th.optim.RMSprop, {"lr": 1e-2, "alpha": 0.99, "eps": 1e-5}),
        (SharedRMSprop, th.optim.RMSprop, {"lr": 1e-2, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
        (SharedRMSpropTFLike, RMSpropTFLike, {"lr": 1e-2, "alpha": 0.99, "eps": 1e-5}),
        (SharedRMSpropTFLike, RMSpropTFLike, {"lr": 1e-2, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
        (SharedAdam, th.optim.Adam, {"lr": 1e-2, "eps": 1e-5}),
        (SharedAdam, th.optim.Adam, {"lr": 1e-2, "betas": (0.8, 0.9), "amsgrad": True, "weight_decay": 0.1}),
    ],
)
def test_shared_optimizer_steps_match_torch(shared_class: type, torch_class: type, kwargs: dict[str, Any]) -> None:
    th.manual_seed(0)
    net = th.nn.Sequential(th.nn.Linear(3, 4), th.nn.Tanh(), th.nn.Linear(4, 1))
    twin = copy.deepcopy(net)
    shared, reference = shared_class(net.parameters(), **kwargs), torch_class(twin.parameters(), **kwargs)
    shared.share_memory()
    for _ in range(5):
        inputs = th.randn(8, 3)
        for model, optimizer in ((net, shared), (twin, reference)):
            optimizer.zero_grad()
            model(inputs).pow(2).mean().backward()
            optimizer.step()
    for ours, theirs in zip(net.parameters(), twin.parameters(), strict=True):
        th.testing.assert_close(ours, theirs)


def test_shared_optimizer_refuses_options_it_does_not_implement() -> None:
    with pytest.raises(ValueError, match="maximize"):
        SharedAdam(th.nn.Linear(2, 1).parameters(), maximize=True)


def test_worker_code_does_not_import_dynamo() -> None:
    # torch._dynamo costs each worker ~70 MB of resident memory; a worker builds its policy copy and steps the
    # shared optimizer without it.
    script = """
import pickle
import sys
import torch as th
from pgzoo.a3c.local import private_copy
from pgzoo.a3c.shared_optim import SharedRMSprop
from stable_baselines3.common.policies import ActorCriticPolicy
import gymnasium as gym
sys.modules.pop("torch._dynamo", None)
policy = ActorCriticPolicy(gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(2), lambda _: 1e-3,
                           optimizer_class=SharedRMSprop)
assert "torch._dynamo" in sys.modules  # constructing a torch optimizer imports it (main process only)
data = pickle.dumps(policy)
for name in [name for name in sys.modules if name.startswith("torch._dynamo")]:
    del sys.modules[name]
policy = pickle.loads(data)  # as a worker receives it
local = private_copy(policy)
local.evaluate_actions(th.zeros(4, 3), th.zeros(4))[0].sum().backward()
th.nn.utils.clip_grad_norm_(list(local.parameters()), 0.5)
for shared, private in zip(policy.parameters(), local.parameters(), strict=True):
    shared.grad = private.grad
policy.optimizer.step()
assert "torch._dynamo" not in sys.modules, "a worker step imported torch._dynamo"
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("use_rms_prop", [True, False])
def test_workers_update_shared_model_and_optimizer(use_rms_prop: bool, no_leftover_workers: list[A3C]) -> None:
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=2, n_envs_per_worker=2, use_rms_prop=use_rms_prop, seed=1)
    no_leftover_workers.append(model)
    before = [param.detach().clone() for param in model.policy.parameters()]
    model.learn(2_000)
    assert model.num_timesteps >= 2_000
    assert any(not th.equal(old, new) for old, new in zip(before, model.policy.parameters(), strict=True))
    # Every worker's updates went through the one shared step counter (Hogwild may drop a few increments).
    steps = {state["step"].item() for state in model.policy.optimizer.state.values()}
    assert 0.9 * model._n_updates <= max(steps) <= model._n_updates
    assert model._n_updates >= 2_000 // (5 * 2)


@pytest.mark.timeout(120)
def test_one_worker_is_reproducible(no_leftover_workers: list[A3C]) -> None:
    weights = []
    for _ in range(2):
        model = A3C("MlpPolicy", "CartPole-v1", n_workers=1, n_envs_per_worker=2, seed=3, learning_rate=lambda p: 1e-3 * p)
        no_leftover_workers.append(model)
        model.learn(1_000)
        weights.append(th.nn.utils.parameters_to_vector(model.policy.parameters()))
    assert th.equal(weights[0], weights[1])


@pytest.mark.timeout(60)
def test_large_seeds_stay_in_numpy_range(no_leftover_workers: list[A3C]) -> None:
    # The zoo draws seeds up to 2**31 and accepts up to 2**32 - 1; times n_workers they would overflow np.random.seed.
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=2, n_steps=5, seed=2**32 - 1)
    no_leftover_workers.append(model)
    model.learn(100)
    assert model.num_timesteps >= 100


@pytest.mark.timeout(120)
def test_set_random_seed_seeds_the_workers(no_leftover_workers: list[A3C]) -> None:
    def weights_after_learning(seed: int) -> th.Tensor:
        model = A3C("MlpPolicy", "CartPole-v1", n_workers=1, n_envs_per_worker=2, n_steps=5, seed=0)
        no_leftover_workers.append(model)
        model.set_random_seed(seed)
        model.learn(100)
        return th.nn.utils.parameters_to_vector(model.policy.parameters()).detach()

    # Same starting weights (seed=0); what differs is the workers' random streams, as in SB3's A2C.
    assert th.equal(weights_after_learning(5), weights_after_learning(5))
    assert not th.equal(weights_after_learning(5), weights_after_learning(6))


@pytest.mark.timeout(120)
def test_a_script_without_main_guard_gets_a_hint(tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text("from pgzoo import A3C\nA3C('MlpPolicy', 'CartPole-v1', n_workers=1).learn(100)\n")
    done = subprocess.run([sys.executable, script.name], cwd=tmp_path, capture_output=True, text=True, timeout=100)
    assert done.returncode != 0 and "WorkerError" in done.stderr
    assert 'if __name__ == "__main__":' in done.stderr.splitlines()[-1]


def test_nothing_left_to_train_starts_no_worker() -> None:
    # As SB3's learn(): learn(0), a negative budget, or one already reached train nothing and return.
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=1, seed=0)
    assert model.learn(0) is model and model.learn(-5) is model
    assert model.num_timesteps == 0 and model._n_updates == 0 and model.worker_pids == []


def test_training_in_chunks_draws_new_episodes(no_leftover_workers: list[A3C]) -> None:
    def episode_rewards_per_chunk() -> list[list[float]]:
        # learning_rate 0: the weights stay put, so only the random streams can make the chunks differ.
        model = A3C("MlpPolicy", "CartPole-v1", n_workers=1, seed=0, learning_rate=0.0)
        no_leftover_workers.append(model)
        chunks = []
        for _ in range(3):
            model.learn(300, reset_num_timesteps=False)
            chunks.append([episode["r"] for episode in list(model.ep_info_buffer)[-4:]])
        return chunks

    chunks = episode_rewards_per_chunk()
    assert chunks[0] != chunks[1] and chunks[1] != chunks[2]
    assert episode_rewards_per_chunk() == chunks


# --- SB3 behaviour in the main process ---------------------------------------------------------------------


@pytest.mark.timeout(180)
def test_sb3_machinery(tmp_path: Path, no_leftover_workers: list[A3C]) -> None:
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=2, n_envs_per_worker=4, seed=0, tensorboard_log=str(tmp_path / "tb"))
    no_leftover_workers.append(model)
    logger = configure(str(tmp_path / "log"), ["csv", "tensorboard"])
    model.set_logger(logger)
    eval_callback = EvalCallback(make_vec_env("CartPole-v1", n_envs=2), eval_freq=500, n_eval_episodes=2, verbose=0)
    model.learn(6_000, callback=eval_callback, log_interval=20, progress_bar=True)

    assert model.num_timesteps >= 6_000
    assert len(model.ep_info_buffer) > 0
    assert eval_callback.n_calls >= 6_000 // 4 - 10 and eval_callback.best_mean_reward > -np.inf
    with open(tmp_path / "log" / "progress.csv") as file:
        rows = list(csv.DictReader(file))
    assert rows
    keys = ["rollout/ep_rew_mean", "train/policy_loss", "train/value_loss", "train/entropy_loss", "time/fps"]
    for key in [*keys, "train/explained_variance"]:
        assert any(row.get(key) for row in rows), key
    assert list((tmp_path / "log").glob("events.out.tfevents*"))

    model.save(tmp_path / "a3c.zip")
    obs = model.get_env().reset()
    expected, _ = model.predict(obs, deterministic=True)
    loaded = A3C.load(tmp_path / "a3c.zip", env=make_vec_env("CartPole-v1", n_envs=4))
    actions, _ = loaded.predict(obs, deterministic=True)
    assert np.array_equal(actions, expected)
    assert loaded.n_workers == 2
    loaded.learn(2_000, reset_num_timesteps=False)
    no_leftover_workers.append(loaded)
    # 2,000 more steps, not 2,000 more than the whole budget (each worker may finish its last rollout).
    assert model.num_timesteps + 2_000 <= loaded.num_timesteps <= model.num_timesteps + 2_000 + 2 * 4 * 5


@pytest.mark.timeout(60)
def test_worker_episodes_reach_the_monitor_files(tmp_path: Path, no_leftover_workers: list[A3C]) -> None:
    env = make_vec_env("CartPole-v1", n_envs=2, monitor_dir=str(tmp_path))
    model = A3C("MlpPolicy", env, n_workers=2, seed=0)
    no_leftover_workers.append(model)
    model.learn(3_000)

    files = sorted(tmp_path.glob("*.monitor.csv"))
    assert [path.name for path in files] == ["0.monitor.csv", "1.monitor.csv"]
    episodes = []
    for path in files:
        with open(path) as file:
            next(file)  # the JSON header line
            episodes.extend(csv.DictReader(file))
    assert len(episodes) > 3_000 // 500
    lengths = [int(episode["l"]) for episode in episodes]
    # Every finished episode once, none made up: their steps are the workers' steps minus unfinished episodes.
    assert model.num_timesteps - 2 * 2 * 500 <= sum(lengths) <= model.num_timesteps
    assert [float(episode["r"]) for episode in episodes] == lengths


@pytest.mark.timeout(60)
def test_load_without_env_needs_one(tmp_path: Path) -> None:
    A3C("MlpPolicy", "CartPole-v1", n_workers=1).save(tmp_path / "a3c.zip")
    with pytest.raises(ValueError, match="no environment"):
        A3C.load(tmp_path / "a3c.zip").learn(100)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "env",
    [
        make_cartpole,
        lambda: gym.make("CartPole-v1"),
        gym.make("CartPole-v1", max_episode_steps=50),
    ],
    ids=["function", "lambda", "env-instance"],
)
def test_env_kinds(env: Any, no_leftover_workers: list[A3C]) -> None:
    model = A3C("MlpPolicy", env, n_workers=2, n_envs_per_worker=2, seed=0)
    no_leftover_workers.append(model)
    # The main process keeps one worker's worth of envs, whatever the kind (callbacks get their dones).
    assert model.n_envs_per_worker == 2 and model.get_env().num_envs == 2
    model.learn(1_000)
    assert model.num_timesteps >= 1_000 and len(model.ep_info_buffer) > 0
    if isinstance(env, gym.Env):
        # Rebuilt from the spec, time limit included.
        assert max(info["l"] for info in model.ep_info_buffer) <= 50


@pytest.mark.timeout(120)
def test_continuous_actions_and_dict_observations(no_leftover_workers: list[A3C]) -> None:
    model = A3C("MlpPolicy", "Pendulum-v1", n_workers=2, n_envs_per_worker=2, n_steps=8, seed=0)
    no_leftover_workers.append(model)
    model.learn(1_000)
    assert model.num_timesteps >= 1_000
    model = A3C("MultiInputPolicy", make_dict_cartpole, n_workers=1, n_envs_per_worker=2)
    no_leftover_workers.append(model)
    model.learn(500)
    assert model.num_timesteps >= 500
    model = A3C("MlpPolicy", MatrixActionEnv, n_workers=1, n_envs_per_worker=2, n_steps=5)  # 2-D Box actions
    no_leftover_workers.append(model)
    model.learn(100)
    assert model.num_timesteps >= 100 and model.predict(np.zeros(3, dtype=np.float32))[0].shape == (2, 2)


@pytest.mark.timeout(120)
def test_channel_last_images_are_transposed_in_the_workers(tmp_path: Path, no_leftover_workers: list[A3C]) -> None:
    model = A3C("CnnPolicy", make_channel_last_images, n_workers=1, n_steps=5, seed=0)
    no_leftover_workers.append(model)
    model.learn(50)
    assert model.observation_space.shape == (1, 36, 36)
    model.save(tmp_path / "cnn.zip")
    gym.register("ChannelLastImages-v0", entry_point=make_channel_last_images)
    # load() wraps the env in VecTransposeImage, which the workers must see through.
    loaded = A3C.load(tmp_path / "cnn.zip", env=gym.make("ChannelLastImages-v0"), n_workers=1)
    no_leftover_workers.append(loaded)
    loaded.learn(50, reset_num_timesteps=False)

    multi = A3C("MultiInputPolicy", SimpleMultiObsEnv, n_workers=1, n_steps=5, seed=0)
    no_leftover_workers.append(multi)
    multi.learn(50)
    assert multi.num_timesteps >= 50


@pytest.fixture
def in_process_learner():
    """Lets a test run an ``ActorLearner`` in the test process, undoing its one-thread setting afterwards."""
    threads = th.get_num_threads()
    variables = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    yield
    th.set_num_threads(threads)
    for name, value in variables.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def test_unseeded_workers_draw_their_own_random_numbers(in_process_learner: None) -> None:
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=2, n_envs_per_worker=1)
    draws = []
    for rank in range(2):
        th.manual_seed(0)  # the state every forkserver child inherits from the server
        ActorLearner(model.policy, model._learner_config(1_000), rank=rank).close()
        draws.append(th.rand(4))
    assert not th.equal(draws[0], draws[1])


def test_loss_is_computed_in_training_mode(in_process_learner: None, monkeypatch: pytest.MonkeyPatch) -> None:
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=1, n_envs_per_worker=2, n_steps=4, seed=0)
    learner = ActorLearner(model.policy, model._learner_config(1_000), rank=0)
    modes = []

    def recording_evaluate_actions(policy: ActorCriticPolicy, *args: Any) -> Any:
        modes.append(policy.training)
        return evaluate_actions(policy, *args)

    monkeypatch.setattr("pgzoo.a3c.learner.evaluate_actions", recording_evaluate_actions)
    learner.compute_gradients()
    learner.close()
    assert modes == [True] and not model.policy.training  # dropout on for the loss only, off in rollouts


def test_reward_scale_scales_the_loss_not_the_reported_rewards(in_process_learner: None) -> None:
    """With a zero value head, returns and advantages are the scaled rewards: losses scale by s**2 and s."""
    reports = {}
    for scale in (1.0, 0.25):
        model = A3C("MlpPolicy", "CartPole-v1", n_workers=1, n_envs_per_worker=2, n_steps=64, reward_scale=scale, seed=0)
        with th.no_grad():
            model.policy.value_net.weight.zero_()
            model.policy.value_net.bias.zero_()
        # Same seed, same weights: both learners collect the same rollout (in this process, no worker).
        learner = ActorLearner(model.policy, model._learner_config(1_000), rank=0)
        reports[scale] = learner.compute_gradients()
        learner.close()
    unscaled, scaled = reports[1.0], reports[0.25]
    assert scaled.losses["value_loss"] == pytest.approx(0.25**2 * unscaled.losses["value_loss"], rel=1e-4)
    assert scaled.losses["policy_loss"] == pytest.approx(0.25 * unscaled.losses["policy_loss"], rel=1e-4)
    # CartPole pays 1 per step: the reported episode rewards are the env's, unscaled.
    assert scaled.episodes and [info["r"] for info in scaled.episodes] == [info["r"] for info in unscaled.episodes]
    assert all(info["r"] == info["l"] for info in scaled.episodes)


@pytest.mark.parametrize("sde_sample_freq, draws_per_rollout", [(-1, 1), (2, 4)])
def test_gsde_draws_noise_per_rollout_and_every_sde_sample_freq_steps(
    sde_sample_freq: int, draws_per_rollout: int, in_process_learner: None
) -> None:
    model = A3C(
        "MlpPolicy",
        "Pendulum-v1",
        n_workers=1,
        n_envs_per_worker=3,
        n_steps=8,
        use_sde=True,
        seed=0,
        sde_sample_freq=sde_sample_freq,
    )
    learner = ActorLearner(model.policy, model._learner_config(1_000), rank=0)
    draws: list[th.Tensor] = []
    reset_noise = learner.policy.reset_noise

    def record_draw(n_envs: int = 1) -> None:
        reset_noise(n_envs)
        draws.append(learner.policy.action_dist.exploration_matrices.clone())

    learner.policy.reset_noise = record_draw  # type: ignore[method-assign]
    for _ in range(2):
        learner.compute_gradients()
    learner.close()
    assert len(draws) == 2 * draws_per_rollout
    assert all(draw.shape[0] == 3 for draw in draws)  # one matrix per env
    assert not any(th.equal(earlier, later) for earlier, later in itertools.pairwise(draws))  # fresh noise each time
    # gSDE's log-std is a (latent, action) matrix, and it gets gradients.
    assert learner.policy.log_std.shape == (64, 1) and learner.policy.log_std.grad is not None


@pytest.mark.timeout(120)
def test_gsde_trains_in_workers_and_survives_save_load(tmp_path: Path, no_leftover_workers: list[A3C]) -> None:
    model = A3C(
        "MlpPolicy",
        "Pendulum-v1",
        n_workers=2,
        n_envs_per_worker=2,
        n_steps=8,
        use_sde=True,
        sde_sample_freq=4,
        policy_kwargs=dict(log_std_init=-2),
        seed=0,
    )
    no_leftover_workers.append(model)
    log_std = model.policy.log_std.detach().clone()
    model.learn(1_000)
    assert model.num_timesteps >= 1_000
    assert not th.equal(model.policy.log_std, log_std)
    model.save(tmp_path / "gsde.zip")
    loaded = A3C.load(tmp_path / "gsde.zip")
    assert loaded.use_sde and loaded.sde_sample_freq == 4
    obs = np.zeros((4, 3), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    # load() draws new noise with autograd on; training must still be able to copy the policy to its workers.
    loaded = A3C.load(tmp_path / "gsde.zip", env=gym.make("Pendulum-v1"), n_workers=1)
    no_leftover_workers.append(loaded)
    loaded.learn(200, reset_num_timesteps=False)


# --- Stopping and faults ------------------------------------------------------------------------------------


class WatchWeights(BaseCallback):
    """Records whether the policy's weights changed while one on_step() waited, and between on_step() calls."""

    def __init__(self) -> None:
        super().__init__()
        self.changed_during_call: list[bool] = []
        self.changed_between_calls: list[bool] = []
        self.last: list[th.Tensor] | None = None

    def _weights(self) -> list[th.Tensor]:
        return [param.detach().clone() for param in self.model.policy.parameters()]

    def _on_step(self) -> bool:
        before = self._weights()
        if self.last is not None:
            self.changed_between_calls.append(any(not th.equal(a, b) for a, b in zip(self.last, before, strict=True)))
        time.sleep(0.05)  # the workers keep training meanwhile
        self.last = self._weights()
        self.changed_during_call.append(any(not th.equal(a, b) for a, b in zip(before, self.last, strict=True)))
        return len(self.changed_during_call) < 30


@pytest.mark.timeout(60)
def test_callbacks_see_weights_that_do_not_change_under_them(no_leftover_workers: list[A3C]) -> None:
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=2, n_envs_per_worker=4, seed=0)
    no_leftover_workers.append(model)
    callback = WatchWeights()
    model.learn(1_000_000, callback=callback)
    assert len(callback.changed_during_call) == 30 and not any(callback.changed_during_call)
    # ... yet they follow the training: the policy got the shared weights at a later report.
    assert any(callback.changed_between_calls)


@pytest.mark.timeout(60)
def test_callbacks_see_finished_episodes(no_leftover_workers: list[A3C]) -> None:
    class RecordEnds(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.episodes: list[dict[str, float]] = []

        def _on_step(self) -> bool:
            dones, infos = self.locals["dones"], self.locals["infos"]
            assert dones.shape == (self.model.n_envs,) and len(infos) == self.model.n_envs
            self.episodes += [info["episode"] for done, info in zip(dones, infos, strict=True) if done]
            return True

    model = A3C("MlpPolicy", "CartPole-v1", n_workers=2, n_envs_per_worker=2, seed=0)
    no_leftover_workers.append(model)
    recorder, stop = RecordEnds(), StopTrainingOnMaxEpisodes(max_episodes=5)
    model.learn(100_000, callback=[recorder, stop])
    assert stop.n_episodes >= 5 and model.num_timesteps < 5_000
    assert recorder.episodes == list(model.ep_info_buffer)[: len(recorder.episodes)]


@pytest.mark.timeout(60)
def test_callback_false_stops_all_workers_promptly(no_leftover_workers: list[A3C]) -> None:
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=2, n_envs_per_worker=2)
    no_leftover_workers.append(model)
    callback = StopAfter(20)
    model.learn(10_000_000, callback=callback)
    assert time.monotonic() - callback.stop_time < 3.0
    assert model.num_timesteps < 100_000


@pytest.mark.timeout(60)
@pytest.mark.parametrize("hard", [False, True], ids=["exception", "process-death"])
def test_worker_failure_is_raised_in_main_process(hard: bool, no_leftover_workers: list[A3C]) -> None:
    model = A3C("MlpPolicy", FaultyEnv, env_kwargs={"fail_after": 300, "hard": hard}, n_workers=2)
    no_leftover_workers.append(model)
    start = time.monotonic()
    match = "exit code 3" if hard else "boom: the env broke on purpose"
    with pytest.raises(WorkerError, match=match) as error:
        model.learn(10_000_000)
    assert time.monotonic() - start < 20
    if not hard:
        assert "in step" in str(error.value) and "Traceback" in str(error.value)


@pytest.mark.timeout(60)
def test_a_worker_that_diverges_says_so_by_type(no_leftover_workers: list[A3C]) -> None:
    from broken_envs import NanRewardEnv

    model = A3C("MlpPolicy", NanRewardEnv, n_workers=1, seed=0, policy_kwargs={"net_arch": [8]})
    no_leftover_workers.append(model)
    with pytest.raises(WorkerError) as error:
        model.learn(2000)
    # The worker checks its loss before the update: the shared weights never hold NaN.
    assert error.value.diverged and error.value.cause == "DivergenceError: A3C's loss is NaN or inf"
    assert all(th.isfinite(p).all() for p in model.policy.parameters())


@pytest.mark.timeout(60)
def test_keyboard_interrupt_in_main_process_stops_workers(no_leftover_workers: list[A3C]) -> None:
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=2)
    no_leftover_workers.append(model)
    with pytest.raises(KeyboardInterrupt):
        model.learn(10_000_000, callback=StopAfter(50, interrupt=True))


@pytest.mark.timeout(60)
def test_sigint_stops_workers(no_leftover_workers: list[A3C]) -> None:
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=2)
    no_leftover_workers.append(model)
    # Aimed at the main thread, as a terminal's Ctrl-C in practice: a process-directed signal may land on the timer
    # thread, and CPython then handles it only once the main thread next checks for signals (it may not, for a while).
    timer = threading.Timer(3.0, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
    # Python's own Ctrl-C handler, even where the test runner inherited SIGINT ignored (a shell's background job).
    previous_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.learn(10_000_000)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous_handler)


TRAINING_SCRIPT = textwrap.dedent(
    """
    from stable_baselines3.common.callbacks import BaseCallback
    from pgzoo import A3C

    class PrintWorkerPids(BaseCallback):
        def _on_step(self):
            if self.n_calls == 1:
                print(*self.model.worker_pids, flush=True)
            return True

    if __name__ == "__main__":
        A3C("MlpPolicy", "CartPole-v1", n_workers=2).learn(10_000_000, callback=PrintWorkerPids())
    """
)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_killed_main_process_leaves_no_workers(signum: int, tmp_path: Path) -> None:
    """SIGTERM stops the workers through learn()'s clean-up; after SIGKILL they notice on their own and exit."""
    script = tmp_path / "train.py"
    script.write_text(TRAINING_SCRIPT)
    main = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert main.stdout is not None
        worker_pids = [int(pid) for pid in main.stdout.readline().split()]
        assert len(worker_pids) == 2
        helpers = [child.pid for child in psutil.Process(main.pid).children(recursive=True)]  # fork server too
        main.send_signal(signum)
        main.wait(timeout=30)
    finally:
        main.kill()
    assert main.returncode == (128 + signum if signum == signal.SIGTERM else -signum)

    def running(pid: int) -> bool:
        return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE

    deadline = time.monotonic() + 15
    while any(running(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in helpers if running(pid)]
    assert set(worker_pids) <= set(helpers)


# --- The VecEnvs SB3 users pass ------------------------------------------------------------------------------


def _rms(env: VecNormalize, key: str | None) -> Any:
    return env.obs_rms[key] if key is not None else env.obs_rms


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "env_id, policy, kwargs, key",
    [
        ("CartPole-v1", "MlpPolicy", {"clip_obs": 5.0, "clip_reward": 3.0, "gamma": 0.9, "epsilon": 1e-6}, None),
        ("CartPole-v1", "MlpPolicy", {"norm_obs": False}, None),
        ("A3CTestDictCartPole-v0", "MultiInputPolicy", {"norm_obs_keys": ["state"]}, "state"),
    ],
    ids=["box", "reward-only", "dict"],
)
def test_vec_normalize_is_shared_by_the_workers(
    env_id: str, policy: str, kwargs: dict[str, Any], key: str | None, tmp_path: Path, no_leftover_workers: list[A3C]
) -> None:
    env = VecNormalize(make_vec_env(env_id, n_envs=2, seed=0), **kwargs)
    model = A3C(policy, env, n_workers=2, n_steps=8, seed=0)
    no_leftover_workers.append(model)
    # The workers' envs: the same wrapper and settings, normalizing with the shared statistics only.
    worker_env = model._env_source.make(0)  # type: ignore[union-attr]
    assert isinstance(worker_env, VecNormalize) and not worker_env.training
    for name in ("norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma", "epsilon", "norm_obs_keys"):
        assert getattr(worker_env, name) == getattr(env, name), name
    worker_env.close()

    model.learn(1_000)
    assert model.get_env() is env
    # Every step of every worker reached the user's wrapper: its statistics count them, as A2C's would.
    assert env.ret_rms.count == pytest.approx(model.num_timesteps, abs=1e-3)
    if env.norm_obs:
        rms = _rms(env, key)
        # Plus the observations of learn()'s reset of the main env, as A2C's count includes them.
        assert rms.count == pytest.approx(model.num_timesteps + env.num_envs, abs=1e-3)
        assert np.abs(rms.mean).max() > 0.0 and rms.var.shape == (4,)
    # The policy stays SB3's: no statistics in its state dict (VecNormalize.save is their home).
    assert not any("obs_" in name or "ret_" in name for name in model.policy.state_dict())
    assert not hasattr(model.policy, "vec_normalize_statistics")

    # save/load as with A2C: the model, and the statistics with VecNormalize.save/load.
    model.save(tmp_path / "model.zip")
    env.save(str(tmp_path / "vecnormalize.pkl"))
    loaded_env = VecNormalize.load(str(tmp_path / "vecnormalize.pkl"), make_vec_env(env_id, n_envs=2, seed=1))
    loaded = A3C.load(tmp_path / "model.zip", env=loaded_env, n_workers=1)
    no_leftover_workers.append(loaded)
    counted = loaded_env.ret_rms.count
    loaded.learn(160, reset_num_timesteps=False)
    assert loaded_env.ret_rms.count == pytest.approx(counted + 160, abs=1e-3)

    # A frozen wrapper (training=False) stays frozen: workers normalize with it and don't update it.
    loaded_env.training = False
    frozen = copy.deepcopy(loaded_env.ret_rms)
    loaded.learn(160, reset_num_timesteps=False)
    assert loaded_env.ret_rms.count == frozen.count and np.array_equal(loaded_env.ret_rms.var, frozen.var)


@pytest.mark.timeout(120)
def test_eval_callback_is_synchronized_with_the_training_vec_normalize(no_leftover_workers: list[A3C]) -> None:
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=2, seed=0))
    eval_env = VecNormalize(make_vec_env("CartPole-v1", n_envs=1, seed=5), training=False, norm_reward=False)
    seen: list[tuple[float, float]] = []

    class RecordSync(BaseCallback):
        def _on_step(self) -> bool:
            # Called after the EvalCallback in the list: what it copied to eval_env is the training env's now.
            if eval_callback.n_calls % eval_callback.eval_freq == 0:
                seen.append((eval_env.obs_rms.count, env.obs_rms.count))
            return True

    eval_callback = EvalCallback(eval_env, eval_freq=100, n_eval_episodes=1, warn=False)
    model = A3C("MlpPolicy", env, n_workers=2, n_steps=8, seed=0)
    no_leftover_workers.append(model)
    model.learn(1_000, callback=[eval_callback, RecordSync()])
    assert len(seen) >= 3 and all(ours == theirs > 1 for ours, theirs in seen)
    assert seen[-1][0] > seen[0][0]  # the statistics grew between evaluations


@pytest.mark.timeout(120)
def test_freezing_vec_normalize_during_learn_reaches_the_workers(no_leftover_workers: list[A3C]) -> None:
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=2, seed=0))

    class Freeze(BaseCallback):
        frozen_at: float | None = None

        def _on_step(self) -> bool:
            if self.num_timesteps >= 400 and self.frozen_at is None:
                env.training = False  # as a user's callback would: from now on A2C's statistics stay put
                self.frozen_at = env.ret_rms.count
            return True

    freeze = Freeze()
    model = A3C("MlpPolicy", env, n_workers=2, n_steps=8, seed=0)
    no_leftover_workers.append(model)
    model.learn(4_000, callback=freeze)
    assert freeze.frozen_at is not None and not env.training
    # Rollouts already under way when the flag changed still count; the other ~3.5k steps don't.
    assert freeze.frozen_at <= env.ret_rms.count < freeze.frozen_at + 1_000 < model.num_timesteps


def test_workers_normalize_from_their_first_observation_with_the_shared_statistics(in_process_learner: None) -> None:
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=2, seed=0))
    env.obs_rms.mean, env.obs_rms.var = np.full(4, 3.0), np.full(4, 4.0)  # as VecNormalize.load would set them
    model = A3C("MlpPolicy", env, n_workers=1, n_steps=5, seed=0)
    model._env_normalization = model._attach_env_normalization()  # as learn() does before starting workers
    learner = ActorLearner(model.policy, model._learner_config(100), rank=0)
    try:
        assert learner.vec_normalize is not None
        raw = learner.vec_normalize.get_original_obs()
        np.testing.assert_allclose(learner.obs, np.clip((raw - 3.0) / np.sqrt(4.0 + 1e-8), -10, 10), rtol=1e-5)
    finally:
        learner.close()


def _worker_observations(model: A3C) -> Any:
    """The observations of an in-process worker's rollout, as its policy sees them."""
    learner = ActorLearner(model.policy, model._learner_config(1_000), rank=0)
    try:
        learner.compute_gradients()
        return learner.obs
    finally:
        learner.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "make_env, policy",
    [
        (lambda: VecFrameStack(make_vec_env("A3CTestImages-v0", n_envs=2), 4), "CnnPolicy"),
        (lambda: VecFrameStack(make_vec_env("A3CTestMultiObs-v0", n_envs=2), 3), "MultiInputPolicy"),
        (lambda: VecTransposeImage(make_vec_env("A3CTestImages-v0", n_envs=2)), "CnnPolicy"),
        (
            lambda: VecNormalize(VecFrameStack(make_vec_env("A3CTestMultiObs-v0", n_envs=2), 2), norm_obs_keys=["vec"]),
            "MultiInputPolicy",
        ),
    ],
    ids=["frame-stack-images", "frame-stack-dict", "transpose", "frame-stack-dict-normalized"],
)
def test_frame_stacking_and_transposition_happen_in_the_workers(
    make_env: Any, policy: str, in_process_learner: None, no_leftover_workers: list[A3C]
) -> None:
    env = make_env()
    model = A3C(policy, env, n_workers=2, n_steps=5, seed=0)
    no_leftover_workers.append(model)
    # The workers' observations are the main env's: stacked, channels first, images still uint8.
    obs = _worker_observations(model)
    expected = model.get_env().reset()  # type: ignore[union-attr]
    if isinstance(expected, dict):
        assert {key: (value.shape, value.dtype) for key, value in obs.items()} == {
            key: (value.shape, value.dtype) for key, value in expected.items()
        }
    else:
        assert obs.shape == expected.shape == (2, *model.observation_space.shape) and obs.dtype == np.uint8
    model.learn(100)
    assert model.num_timesteps >= 100


@pytest.mark.timeout(120)
def test_subproc_vec_env_from_make_vec_env(no_leftover_workers: list[A3C]) -> None:
    env = make_vec_env("CartPole-v1", n_envs=2, vec_env_cls=SubprocVecEnv, vec_env_kwargs={"start_method": "forkserver"})
    try:
        model = A3C("MlpPolicy", env, n_workers=2, n_steps=5, seed=0)
        no_leftover_workers.append(model)
        model.learn(200)
        assert model.num_timesteps >= 200 and len(model.ep_info_buffer) > 0  # type: ignore[arg-type]
    finally:
        env.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("n_steps, total", [(64, 64), (5, 123)])
def test_learn_stops_within_one_rollout_of_the_budget(n_steps: int, total: int, no_leftover_workers: list[A3C]) -> None:
    model = A3C("MlpPolicy", "CartPole-v1", n_workers=2, n_steps=n_steps, seed=0)
    no_leftover_workers.append(model)
    model.learn(total)
    # Workers claim a rollout from the budget before running it: at most one rollout more is taken.
    assert total <= model.num_timesteps < total + n_steps


# --- Learning -----------------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_cartpole_reaches_475(no_leftover_workers: list[A3C]) -> None:
    kwargs, n_timesteps = a3c_kwargs("CartPole-v1")
    kwargs["n_workers"] = 2
    model = A3C("MlpPolicy", "CartPole-v1", seed=0, **kwargs)
    no_leftover_workers.append(model)
    eval_env = make_vec_env("CartPole-v1", n_envs=10, seed=1_000)
    callback = StopAtRewardThreshold(eval_env, threshold=475, eval_freq=10_000, n_eval_episodes=10, deterministic=True)
    model.learn(n_timesteps, callback=callback)
    assert callback.result.reached, callback.result.evaluations


@pytest.mark.timeout(300)
def test_cartpole_with_vec_normalize_passed_in_reaches_475(no_leftover_workers: list[A3C]) -> None:
    kwargs, n_timesteps = a3c_kwargs("CartPole-v1")
    kwargs["n_workers"] = 2
    n_envs = kwargs.pop("n_envs_per_worker")
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=n_envs, seed=0), norm_reward=False)
    model = A3C("MlpPolicy", env, seed=0, **kwargs)
    no_leftover_workers.append(model)
    eval_env = VecNormalize(make_vec_env("CartPole-v1", n_envs=10, seed=1_000), training=False, norm_reward=False)
    # Evaluations copy the training statistics to eval_env (sync_envs_normalization), as with A2C.
    callback = StopAtRewardThreshold(eval_env, threshold=475, eval_freq=10_000, n_eval_episodes=10, deterministic=True)
    model.learn(n_timesteps, callback=callback)
    assert callback.result.reached, callback.result.evaluations
    assert eval_env.obs_rms.count > n_envs  # the evaluations normalized with the training statistics


# --- Shared observation normalization ----------------------------------------------------------------------------


def test_normalizer_merges_batches_like_one_batch() -> None:
    extractor = NormalizedFlattenExtractor(spaces.Box(-np.inf, np.inf, (3,)))
    rng = np.random.default_rng(0)
    batches = [rng.normal(5.0, 3.0, size=(n, 3)) for n in (7, 40, 1, 300)]
    for batch in batches:
        extractor.update(RolloutStats(observations=Moments.of(batch)))
    everything = np.concatenate(batches)
    assert extractor.obs_count.item() == pytest.approx(len(everything))
    np.testing.assert_allclose(extractor.obs_mean.numpy(), everything.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(extractor.obs_var.numpy(), everything.var(axis=0), rtol=1e-5)
    normalized = extractor(th.as_tensor(everything, dtype=th.float32)).numpy()
    np.testing.assert_allclose(normalized.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(normalized.std(axis=0), 1.0, atol=1e-4)
    assert extractor(th.full((1, 3), 1e6)).max().item() == 10.0  # clipped, as VecNormalize's clip_obs


def test_return_normalizer_divides_by_the_returns_std() -> None:
    normalizer = ReturnNormalizer()
    returns = np.random.default_rng(0).normal(-40.0, 5.0, size=(2000,))
    normalizer.update(RolloutStats(returns=Moments.of(returns[:1500])))
    normalizer.update(RolloutStats(observations=Moments.of(np.ones((3, 2)))))  # not its statistics
    normalizer.update(RolloutStats(returns=Moments.of(returns[1500:])))
    assert normalizer.return_count.item() == pytest.approx(2000)
    np.testing.assert_allclose(normalizer.return_var.item(), returns.var(), rtol=1e-4)  # plus the tiny prior
    rewards = np.array([returns.std(), -2 * returns.std(), 1e6], dtype=np.float32)
    np.testing.assert_allclose(normalizer.normalize(rewards), [1.0, -2.0, 10.0], rtol=1e-5)  # clipped at 10


@pytest.mark.timeout(120)
def test_normalize_obs_and_reward_are_shared_saved_and_applied(tmp_path: Path, no_leftover_workers: list[A3C]) -> None:
    model = A3C(
        "MlpPolicy", "Pendulum-v1", n_workers=2, n_envs_per_worker=2, normalize_obs=True, normalize_reward=True, seed=0
    )
    no_leftover_workers.append(model)
    model.learn(2_000)
    extractor = model.policy.features_extractor
    assert isinstance(extractor, NormalizedFlattenExtractor)
    # Every observation of both workers' rollouts reached the main process's statistics.
    assert extractor.obs_count.item() == pytest.approx(model.num_timesteps)
    assert np.all(np.abs(extractor.obs_mean.numpy()[:2]) <= 1.0) and extractor.obs_var[2].item() > 0.5
    # And one discounted return per env step (Pendulum's returns spread over tens).
    return_normalizer = model.policy.return_normalizer
    assert return_normalizer.return_count.item() == pytest.approx(model.num_timesteps)
    assert return_normalizer.return_var.item() > 10.0
    model.save(tmp_path / "a3c.zip")
    loaded = A3C.load(tmp_path / "a3c.zip")
    assert loaded.normalize_obs and th.equal(loaded.policy.features_extractor.obs_var, extractor.obs_var)
    assert th.equal(loaded.policy.return_normalizer.return_var, return_normalizer.return_var)
    obs = np.random.default_rng(0).uniform(-1, 1, size=(8, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    # The policy alone saves and loads back with its statistics, as any SB3 policy does.
    model.policy.save(tmp_path / "policy.pth")
    policy = MlpPolicy.load(tmp_path / "policy.pth")
    assert th.equal(policy.return_normalizer.return_var, return_normalizer.return_var)
    np.testing.assert_array_equal(policy.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])


def test_a_policy_class_of_the_users_still_gets_the_return_statistics() -> None:
    model = A3C(ActorCriticPolicy, "CartPole-v1", n_workers=1, normalize_reward=True)
    assert isinstance(model.policy.return_normalizer, ReturnNormalizer)


def test_normalize_obs_errors() -> None:
    with pytest.raises(ValueError, match="normalize_obs needs a Box observation space"):
        A3C("MultiInputPolicy", make_dict_cartpole, n_workers=1, normalize_obs=True)
    with pytest.raises(ValueError, match="leave features_extractor_class out"):
        A3C("MlpPolicy", "CartPole-v1", normalize_obs=True, policy_kwargs={"features_extractor_class": FlattenExtractor})


@pytest.mark.parametrize(
    ("action_space", "policy_kwargs"),
    [
        (spaces.Discrete(3), {}),
        (spaces.Discrete(3), {"share_features_extractor": False}),
        (spaces.Box(-1.0, 1.0, (2,)), {}),
        (spaces.MultiDiscrete([3, 2]), {}),  # SB3's own path
    ],
)
def test_rollout_sampling_and_loss_terms_match_the_policy(action_space: spaces.Space, policy_kwargs: dict[str, Any]) -> None:
    # The worker skips SB3's distribution objects where it can: same values, action distribution and loss terms.
    th.manual_seed(0)
    observation_space = spaces.Box(-1.0, 1.0, (3,))
    policy = ActorCriticPolicy(observation_space, action_space, lambda _: 1e-3, **policy_kwargs)
    repeats, n_obs = 5000, 4
    batch = th.as_tensor(np.stack([observation_space.sample() for _ in range(n_obs)])).repeat(repeats, 1)
    with th.no_grad():
        actions, values = sample_action(policy, batch)
        expected_actions, expected_values, _ = policy(batch)
    assert actions.shape == expected_actions.shape and actions.dtype == expected_actions.dtype
    th.testing.assert_close(values, expected_values)
    per_obs = actions.reshape(repeats, n_obs, -1).float()
    expected_per_obs = expected_actions.reshape(repeats, n_obs, -1).float()
    th.testing.assert_close(per_obs.mean(0), expected_per_obs.mean(0), atol=0.06, rtol=0.0)
    th.testing.assert_close(per_obs.std(0), expected_per_obs.std(0), atol=0.06, rtol=0.0)
    # The loss's values, log-probabilities and entropies too (Discrete actions go in as a 1-D tensor of indices).
    loss_actions = actions.long().flatten() if isinstance(action_space, spaces.Discrete) else actions
    for ours, sb3 in zip(
        evaluate_actions(policy, batch, loss_actions), policy.evaluate_actions(batch, loss_actions), strict=True
    ):
        th.testing.assert_close(ours, sb3)


def test_skipping_distribution_checks_changes_no_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without torch's argument validation, a Gaussian's log-probabilities and entropies are the same numbers."""
    monkeypatch.setattr(th.distributions.Distribution, "_validate_args", True)  # restored after the test
    policy = ActorCriticPolicy(spaces.Box(-1.0, 1.0, (3,)), spaces.Box(-1.0, 1.0, (2,)), lambda _: 1e-3)
    batch, actions = th.rand(16, 3), th.rand(16, 2)
    checked = evaluate_actions(policy, batch, actions)
    skip_distribution_checks()
    assert th.distributions.Distribution._validate_args is False
    for unchecked, reference in zip(evaluate_actions(policy, batch, actions), checked, strict=True):
        assert reference is not None and th.equal(unchecked, reference)


def test_the_zoos_env_wrappers_are_rebuilt_in_the_workers(in_process_learner: None) -> None:
    from pgzoo.zoo.envs import _ApplyWrappers

    # DictObservation doesn't record its arguments; the zoo's env_wrapper records them for it (and AtariWrapper).
    env = make_vec_env("CartPole-v1", n_envs=2, wrapper_class=_ApplyWrappers([(DictObservation, {})], "CartPole-v1"))
    model = A3C("MultiInputPolicy", env, n_workers=1, n_steps=5, seed=0)
    assert set(_worker_observations(model)) == {"state"}

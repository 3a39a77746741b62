"""Hyperparameter files, the restricted evaluator and the algorithm registry (no training here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch as th

from pgzoo.zoo.algos import get_algo_class, normalize_algo_name
from pgzoo.zoo.errors import HyperparamsError, UnknownAlgoError, UnsafeValueError
from pgzoo.zoo.hyperparams import (
    LinearSchedule,
    get_env_hyperparams,
    load_yaml,
    packaged_hyperparams_dir,
    parse_overrides,
    preprocess_hyperparams,
    to_saveable,
)
from pgzoo.zoo.safe_eval import resolve_class_name, safe_eval


def test_safe_eval_accepts_rl_zoo_policy_kwargs() -> None:
    value = safe_eval("dict(log_std_init=-2, ortho_init=False, activation_fn=nn.ReLU, net_arch=dict(pi=[64], vf=[64]))")
    assert value == {
        "log_std_init": -2,
        "ortho_init": False,
        "activation_fn": th.nn.ReLU,
        "net_arch": {"pi": [64], "vf": [64]},
    }
    assert safe_eval("dict(optimizer_class=th.optim.Adam, eps=1e-5 * 2)") == {"optimizer_class": th.optim.Adam, "eps": 2e-5}
    assert safe_eval("[dict(pi=[8], vf=[8])]") == [{"pi": [8], "vf": [8]}]
    assert safe_eval("{'norm_obs': True, 'norm_reward': False}") == {"norm_obs": True, "norm_reward": False}


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('touch /tmp/pwned')",
        "os.system('x')",
        "open('/etc/passwd')",
        "[x for x in range(3)]",
        "lambda: 1",
        "dict(**{'a': 1})",
        "nn.Module",
        "nn.Adam",  # a real class name, but in the wrong module
        "().__class__.__bases__",
        "10 ** 10 ** 10",
    ],
)
def test_safe_eval_refuses_code(source: str) -> None:
    with pytest.raises(UnsafeValueError, match=r"allowed:"):
        safe_eval(source, what="policy_kwargs")


def test_safe_eval_syntax_error_is_clear() -> None:
    with pytest.raises(UnsafeValueError, match=r"cannot parse policy_kwargs"):
        safe_eval("dict(net_arch=[64,", what="policy_kwargs")


def test_resolve_class_name_from_sb3_repr() -> None:
    assert resolve_class_name("<class 'torch.nn.modules.activation.Tanh'>") is th.nn.Tanh
    assert resolve_class_name("<class 'torch.optim.adam.Adam'>") is th.optim.Adam
    assert resolve_class_name("<class 'evil.module.Payload'>") is None


def test_preprocess_splits_zoo_keys_and_parses_values() -> None:
    raw = {
        "n_envs": 4,
        "n_timesteps": 1e5,
        "policy": "MlpPolicy",
        "learning_rate": "lin_0.001",
        "normalize": "dict(norm_obs=True, norm_reward=False)",
        "gamma": 0.9,
        "policy_kwargs": "dict(net_arch=[32], activation_fn=nn.Tanh)",
        "env_wrapper": [{"gymnasium.wrappers.TimeLimit": {"max_episode_steps": 50}}],
        "frame_stack": 2,
        "noise_type": "normal",
        "noise_std": 0.2,
        "callback": "stable_baselines3.common.callbacks.StopTrainingOnMaxEpisodes",
        "env_kwargs": "dict(sutton_barto_reward=True)",
        "train_freq": [1, "episode"],
    }
    config = preprocess_hyperparams(raw, where="test")
    assert (config.n_envs, config.n_timesteps, config.frame_stack) == (4, 100_000, 2)
    assert config.normalize_kwargs == {"norm_obs": True, "norm_reward": False, "gamma": 0.9}
    assert isinstance(config.model_kwargs["learning_rate"], LinearSchedule)
    assert config.model_kwargs["learning_rate"](0.5) == pytest.approx(0.0005)
    assert config.model_kwargs["policy_kwargs"] == {"net_arch": [32], "activation_fn": th.nn.Tanh}
    assert config.model_kwargs["train_freq"] == (1, "episode")
    import gymnasium as gym
    from stable_baselines3.common.callbacks import StopTrainingOnMaxEpisodes

    assert config.wrappers == [(gym.wrappers.TimeLimit, {"max_episode_steps": 50})]
    assert config.callbacks == [(StopTrainingOnMaxEpisodes, {})]
    assert config.env_kwargs == {"sutton_barto_reward": True}
    assert (config.noise_type, config.noise_std) == ("normal", 0.2)
    # config.yml round trip: the saved form parses back to the same thing.
    again = preprocess_hyperparams(to_saveable(raw), where="saved")
    assert again.model_kwargs["policy_kwargs"] == config.model_kwargs["policy_kwargs"]


@pytest.mark.parametrize(
    "raw",
    [
        {"env_wrapper": "mypackage.EvilWrapper"},
        # Library classes that write where the file says, or run the command line when imported.
        {"env_wrapper": [{"stable_baselines3.common.monitor.Monitor": {"filename": "/tmp/elsewhere"}}]},
        {"env_wrapper": [{"gymnasium.wrappers.RecordVideo": {"video_folder": "/tmp/v", "name_prefix": "../x"}}]},
        {"callback": "pgzoo.__main__.main"},
        {"callback": {"stable_baselines3.common.callbacks.CheckpointCallback": {"save_freq": 1, "save_path": "/"}}},
    ],
)
def test_untrusted_files_name_only_harmless_classes(raw: dict[str, Any]) -> None:
    with pytest.raises(UnsafeValueError, match=r"not among the classes a downloaded file may name.*--trust-remote-code"):
        preprocess_hyperparams(raw, where="hub", trust_imports=False)


def test_untrusted_files_keep_the_usual_wrappers() -> None:
    raw = {
        "env_wrapper": [
            "sb3_contrib.common.wrappers.TimeFeatureWrapper",
            {"gymnasium.wrappers.TimeLimit": {"max_episode_steps": 5}},
        ]
    }
    config = preprocess_hyperparams(raw, where="hub", trust_imports=False)
    assert [cls.__name__ for cls, _ in config.wrappers] == ["TimeFeatureWrapper", "TimeLimit"]
    # The same class by the path of the module that defines it.
    config = preprocess_hyperparams({"env_wrapper": "gymnasium.wrappers.common.TimeLimit"}, where="hub", trust_imports=False)
    assert [cls.__name__ for cls, _ in config.wrappers] == ["TimeLimit"]
    with pytest.raises(HyperparamsError, match=r"cannot import"):
        preprocess_hyperparams({"env_wrapper": "no_such_module.Wrapper"}, where="local")


def test_bad_values_are_reported() -> None:
    with pytest.raises(HyperparamsError, match=r"noise_type"):
        preprocess_hyperparams({"noise_type": "pink"})
    with pytest.raises(HyperparamsError, match=r"linear schedule"):
        preprocess_hyperparams({"learning_rate": "lin_fast"})
    with pytest.raises(HyperparamsError, match=r"n_envs"):
        preprocess_hyperparams({"n_envs": -1})
    with pytest.raises(UnsafeValueError):
        preprocess_hyperparams({"policy_kwargs": "dict(activation_fn=os.system)"})


@pytest.mark.parametrize("value", ["abc", [0.1], True, None])
def test_bad_noise_std_is_reported(value: object) -> None:
    # "abc" is what `-params noise_std:abc` gives; a list is `noise_std: [0.1]` in YAML.
    with pytest.raises(HyperparamsError, match=r"noise_std in here must be a number, got"):
        preprocess_hyperparams({"noise_type": "normal", "noise_std": value}, where="here")


def test_noise_std_accepts_numbers_and_numeric_strings() -> None:
    assert preprocess_hyperparams({"noise_std": 1}).noise_std == 1.0
    assert preprocess_hyperparams({"noise_std": "0.25"}).noise_std == 0.25


def test_unknown_normalize_key_is_reported() -> None:
    with pytest.raises(HyperparamsError, match=r"normalize in here: unknown VecNormalize argument\(s\) 'foo'; accepted:"):
        preprocess_hyperparams({"normalize": "dict(foo=1, norm_obs=True)"}, where="here")
    # The zoo passes these itself.
    with pytest.raises(HyperparamsError, match=r"'training'"):
        preprocess_hyperparams({"normalize": {"training": False}})
    assert preprocess_hyperparams({"normalize": "dict(norm_obs=False, clip_obs=5.0)"}).normalize_kwargs == {
        "norm_obs": False,
        "clip_obs": 5.0,
    }


def test_packaged_files_are_found() -> None:
    folder = packaged_hyperparams_dir()
    assert (folder / "reinforce.yml").is_file() and (folder / "a2c.yml").is_file()
    entry, path = get_env_hyperparams("a2c", "CartPole-v1")
    assert path.name == "a2c.yml" and entry["n_envs"] == 8


def test_env_missing_from_file_names_file_and_envs(tmp_path: Path) -> None:
    file = tmp_path / "mine.yml"
    file.write_text("CartPole-v1:\n  n_timesteps: 100\nPendulum-v1:\n  n_timesteps: 100\n")
    with pytest.raises(HyperparamsError, match=r"'Acrobot-v1' has no entry in .*mine.yml.*CartPole-v1, Pendulum-v1"):
        get_env_hyperparams("a2c", "Acrobot-v1", file)


def test_malformed_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("CartPole-v1:\n  n_envs: [1, 2\n")
    with pytest.raises(HyperparamsError, match=r"malformed YAML in .*bad.yml"):
        get_env_hyperparams("a2c", "CartPole-v1", bad)
    listing = tmp_path / "list.yml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(HyperparamsError, match=r"malformed hyperparameter file"):
        get_env_hyperparams("a2c", "CartPole-v1", listing)
    with pytest.raises(HyperparamsError, match=r"does not exist"):
        get_env_hyperparams("a2c", "CartPole-v1", tmp_path / "nope.yml")
    with pytest.raises(HyperparamsError, match=r"--hyperparams FILE"):
        get_env_hyperparams("qrdqn", "CartPole-v1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("!!python/object/apply:collections.OrderedDict {a: 1}", "expected the list of \\[key, value\\] pairs"),
        ("!!python/object/apply:collections.OrderedDict\n- [[1, 2, 3]]\n", "expected the list of \\[key, value\\] pairs"),
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
    ],
)
def test_hostile_yaml_structures_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.yml"
    path.write_text(text)
    with pytest.raises(HyperparamsError, match=message):
        load_yaml(path)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({1: "a"}, "every key must be a name"),
        ({"frame_stack": 10**8}, "frame_stack in hub must be at most 1000"),
        ({"frame_stack": float("inf")}, "must be a non-negative integer"),
        ({"n_timesteps": "((((9**64)**64)**64)**64)"}, "exponent too large"),
        ({"n_timesteps": "1/0"}, "division by zero"),
    ],
)
def test_hostile_values_are_one_line_errors(raw: dict[Any, Any], message: str) -> None:
    with pytest.raises(HyperparamsError, match=message):
        preprocess_hyperparams(raw, where="hub", trust_imports=False)


def test_alias_bombs_are_refused_and_anchors_still_work(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yml"
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(8)]
    bomb.write_text("\n".join(levels) + "\n")  # 10**9 values once expanded, from 9 lines
    with pytest.raises(HyperparamsError, match=r"expands to more than 1000000 values"):
        load_yaml(bomb)
    shared = tmp_path / "shared.yml"
    shared.write_text("base: &base {n_envs: 8}\nCartPole-v1:\n  <<: *base\n  n_timesteps: 100\n")
    assert load_yaml(shared)["CartPole-v1"] == {"n_envs": 8, "n_timesteps": 100}


def test_rl_zoo_ordered_dict_config_is_read_without_objects(tmp_path: Path) -> None:
    file = tmp_path / "config.yml"
    file.write_text(
        "!!python/object/apply:collections.OrderedDict\n"
        "- - - ent_coef\n    - 0.0\n  - - n_envs\n    - 8\n  - - policy\n    - MlpPolicy\n"
    )
    assert load_yaml(file) == {"ent_coef": 0.0, "n_envs": 8, "policy": "MlpPolicy"}
    evil = tmp_path / "evil.yml"
    evil.write_text("!!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(HyperparamsError, match=r"malformed YAML"):
        load_yaml(evil)


def test_overrides() -> None:
    assert parse_overrides(["n_timesteps:300", "learning_rate:lin_1e-3", "policy_kwargs:dict(net_arch=[8])", "gamma:0.9"]) == {
        "n_timesteps": 300,
        "learning_rate": "lin_1e-3",
        "policy_kwargs": {"net_arch": [8]},
        "gamma": 0.9,
    }
    with pytest.raises(HyperparamsError, match=r"key:value"):
        parse_overrides(["n_timesteps"])


def test_registry() -> None:
    from stable_baselines3 import A2C

    assert get_algo_class("A2C") is A2C
    assert normalize_algo_name("ppo-lstm") == "ppo_lstm"
    with pytest.raises(UnknownAlgoError, match=r"Did you mean a2c"):
        get_algo_class("a2d")


def test_load_entry_applies_overrides_then_options_and_checks_the_budget(tmp_path: Path) -> None:
    from pgzoo.zoo.hyperparams import load_entry

    file = tmp_path / "a2c.yml"
    file.write_text("CartPole-v1:\n  n_envs: 4\n  n_timesteps: 100\nAcrobot-v1:\n  n_envs: 2\n")
    entry = load_entry("a2c", "CartPole-v1", file, overrides={"n_envs": 2, "n_timesteps": 50}, options={"n_timesteps": 70})
    assert entry.raw == {"n_envs": 2, "n_timesteps": 70} and entry.config.n_timesteps == 70
    assert entry.source == file and entry.where == f"CartPole-v1 in {file} with the overrides"
    # An option left at None is not given: the entry's value stays.
    assert load_entry("a2c", "CartPole-v1", file, options={"n_timesteps": None}).config.n_timesteps == 100
    with pytest.raises(HyperparamsError, match=rf"^Acrobot-v1 in {file} has no n_timesteps: pass --n-timesteps$"):
        load_entry("a2c", "Acrobot-v1", file)
    assert load_entry("a2c", "Acrobot-v1", file, options={"n_timesteps": 10}).config.n_envs == 2


def test_the_evaluators_summary_names_every_allowed_class() -> None:
    from pgzoo.zoo.safe_eval import ALLOWED_CLASSES, ALLOWED_SUMMARY

    listed = ALLOWED_SUMMARY.split("and the classes ")[1].split(", ")
    assert [name.rsplit(".", 1)[-1] for name in listed] == [n for names in ALLOWED_CLASSES.values() for n in names]
    assert all(resolve_class_name(name) is not None for name in listed)  # written as a user may write them

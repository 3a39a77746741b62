"""
What SB3's own ``BaseAlgorithm.load`` does for models saved by older versions, for pgzoo's two ways of loading.

:mod:`pgzoo.zoo.safe_load` rebuilds a model from plain values and calls :func:`fix_policy_kwargs` and
:func:`set_parameters_compat`, which mirror the compatibility branches of SB3's loader (2.x):

* ``device`` saved in ``policy_kwargs`` is dropped (the current process chooses the device);
* ``net_arch=[dict(pi=..., vf=...)]`` (SB3 < 2.0) becomes ``dict(pi=..., vf=...)``;
* ``sde_net_arch`` (removed in SB3 1.5) is dropped when it asked for no extra layer;
* off-policy models (SAC, TQC, DQN...) keep the ``use_sde`` of their saved ``policy_kwargs`` (gSDE policies);
* DQN / QR-DQN saved before SB3 2.4 kept the target network's parameters in the optimizer: they are cut off;
* A2C / PPO saved before SB3 1.7 have no separate ``pi_features_extractor`` / ``vf_features_extractor`` weights:
  the shared extractor's are used, as SB3 does.

:func:`trusted_load_model` and :func:`trusted_load_vecnormalize` are the trusted path (``trust_remote_code``):
SB3's pickle-based loaders, made to read models and statistics saved with ``gym`` (SB3 < 2.0) as SB3's
``custom_objects`` lets them.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

from pgzoo.zoo.errors import ZooError, one_line
from pgzoo.zoo.safe_pickle import gymnasium_module_name

#: ``policy_kwargs`` keys SB3 once accepted and no longer does, with the value meaning "nothing asked".
REMOVED_POLICY_KWARGS: dict[str, Any] = {"sde_net_arch": None}


def fix_policy_kwargs(policy_kwargs: dict[str, Any], path: Path | str) -> dict[str, Any]:
    """
    Saved ``policy_kwargs`` as the current SB3 takes them (see the module docstring).

    :param policy_kwargs: As saved (plain values).
    :param path: The model file, for error messages.
    :return: A new dict.
    :raises ZooError: When a removed keyword asked for something the current SB3 cannot build.
    """
    fixed = dict(policy_kwargs)
    fixed.pop("device", None)
    net_arch = fixed.get("net_arch")
    if isinstance(net_arch, list) and net_arch and isinstance(net_arch[0], dict):
        fixed["net_arch"] = net_arch[0]
    for key, nothing in REMOVED_POLICY_KWARGS.items():
        if key in fixed:
            value = fixed.pop(key)
            if value not in (nothing, [], {}):
                raise ZooError(
                    f"{path}: policy_kwargs[{key!r}] = {value!r} asks for layers that Stable-Baselines3 no longer "
                    "builds; this model needs the SB3 version it was saved with"
                )
    return fixed


def restore_sde_kwargs(model: Any, policy_kwargs: dict[str, Any]) -> None:
    """
    Give an off-policy model its saved ``use_sde``: their constructor writes its own (default) ``use_sde`` into
    ``policy_kwargs``, where SB3's ``load`` has the saved one.

    :param model: The model, created with ``_init_setup_model=False``.
    :param policy_kwargs: The saved ``policy_kwargs``, fixed by :func:`fix_policy_kwargs`.
    """
    if "use_sde" in policy_kwargs and "use_sde" in model.policy_kwargs:
        model.policy_kwargs["use_sde"] = policy_kwargs["use_sde"]


def sb3_observation_space(env: Any) -> Any:
    """
    ``env``'s observation space as an SB3 model saves it: images channels first (SB3 wraps such an env in a
    ``VecTransposeImage``).

    :param env: A vectorized env.
    """
    from stable_baselines3.common.base_class import BaseAlgorithm

    return BaseAlgorithm._wrap_env(env, verbose=0, monitor_wrapper=False).observation_space


def set_parameters_compat(model: Any, params: dict[str, Any]) -> None:
    """
    ``model.set_parameters(params, exact_match=True)``, with SB3's fallbacks for older saves.

    :param model: The rebuilt model.
    :param params: State dicts by attribute name (``policy``, ``policy.optimizer``...).
    :raises RuntimeError: From torch, when the weights do not fit the model (:func:`describe_error` words it).
    :raises ValueError: From torch, when the optimizer state does not fit.
    """
    try:
        model.set_parameters(params, exact_match=True, device=model.device)
    except RuntimeError as error:
        message = str(error)
        if "pi_features_extractor" in message and "Missing key(s) in state_dict" in message:
            model.set_parameters(params, exact_match=False, device=model.device)  # SB3 < 1.7 A2C / PPO
        else:
            raise
    except ValueError:
        optimizer = params.get("policy.optimizer")
        groups = optimizer.get("param_groups") if isinstance(optimizer, dict) else None
        saved = groups[0].get("params") if isinstance(groups, list) and groups and isinstance(groups[0], dict) else None
        current = model.policy.optimizer.param_groups[0]["params"] if hasattr(model.policy, "optimizer") else []
        if not isinstance(groups, list) or not isinstance(saved, list) or len(saved) != 2 * len(current):
            raise
        # DQN / QR-DQN before SB3 2.4: the optimizer also listed the target network, after the online one.
        groups[0]["params"] = saved[: len(current)]
        model.set_parameters(params, exact_match=True, device=model.device)


def _state_dict_error(error: BaseException) -> str:
    """torch's ``load_state_dict`` message on one line, keeping the missing and unexpected keys."""
    text = " ".join(str(error).split())
    return re.sub(r"^Error\(s\) in loading state_dict for \w+: ", "", text)


def describe_error(error: BaseException) -> str:
    """
    One line for a failure inside SB3 or torch, keeping what a user needs (a state dict's keys span lines).

    :param error: The exception.
    """
    if "state_dict" in str(error):
        return _state_dict_error(error)
    return one_line(error)


class _GymToGymnasiumUnpickler(pickle.Unpickler):
    """A full (trusting) unpickler that reads ``gym.*`` names as ``gymnasium.*``."""

    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(gymnasium_module_name(module), name)


def trusted_load_vecnormalize(path: str | Path, venv: Any) -> Any:
    """
    SB3's ``VecNormalize.load`` (it unpickles: trusted files only), also for files saved with ``gym``.

    :param path: The ``vecnormalize.pkl``.
    :param venv: The env to wrap.
    :return: The ``VecNormalize``, around ``venv``.
    :raises ZooError: When the file cannot be unpickled.
    """
    try:
        with open(path, "rb") as file:
            vec_normalize = _GymToGymnasiumUnpickler(file).load()
        vec_normalize.set_venv(venv)
    except Exception as error:
        raise ZooError(f"{path}: cannot load the pickled normalization statistics: {one_line(error)}") from None
    return vec_normalize


def trusted_load_model(algo_class: Any, path: str | Path, env: Any, device: str) -> Any:
    """
    SB3's ``algo_class.load`` (it unpickles: trusted files only). The pickled spaces are replaced by the env's,
    whose shapes the caller checked against the plain ones saved next to them: models saved with ``gym`` then load
    without it, as with SB3's ``custom_objects``.

    :param algo_class: The algorithm class.
    :param path: The model zip.
    :param env: The env.
    :param device: Torch device.
    :raises ZooError: When SB3 cannot load it, in one line.
    """
    custom_objects = {"observation_space": sb3_observation_space(env), "action_space": env.action_space}
    try:
        return algo_class.load(str(path), env=env, device=device, custom_objects=custom_objects)
    except Exception as error:
        raise ZooError(f"{path}: Stable-Baselines3 cannot load it: {describe_error(error)}") from None

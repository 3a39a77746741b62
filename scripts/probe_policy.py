"""
What an actor-critic checkpoint does on one game: whether its network still tells frames apart.

A network that training has broken (dead units, a collapsed feature layer) gives the same value and the same action
probabilities whatever it sees; one that is merely slow to learn still varies them from frame to frame. This plays
``--steps`` steps of one evaluation env (built from the checkpoint's zoo entry, as ``pgzoo enjoy`` builds it),
sampling the actions, and prints the spread of the value estimates and of the policy's entropy.

Usage::

    python scripts/probe_policy.py CHECKPOINT.zip --algo a3c --env PongNoFrameskip-v4 [--steps 1500] [--seed 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch as th
from gymnasium import spaces

from pgzoo.zoo.algos import get_algo_class
from pgzoo.zoo.envs import check_env_id, make_zoo_env
from pgzoo.zoo.errors import ZooError
from pgzoo.zoo.hyperparams import get_env_hyperparams, preprocess_hyperparams
from pgzoo.zoo.safe_load import load_model_safely

#: Algorithms whose policy has both an action distribution and a value head.
ACTOR_CRITICS = ("a3c", "a2c", "ppo")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("checkpoint", type=Path, help="model zip")
    parser.add_argument("--algo", default="a3c", choices=ACTOR_CRITICS, help="algorithm of the checkpoint")
    parser.add_argument("--env", required=True, help="env id; its packaged entry gives the wrappers")
    parser.add_argument("--steps", type=int, default=1500, help="env steps to play")
    parser.add_argument("--seed", type=int, default=3, help="seed of the env")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    th.set_num_threads(1)
    try:
        check_env_id(args.env)  # also registers the env's package (ale_py for Atari ids)
        entry, _ = get_env_hyperparams(args.algo, args.env)
        config = preprocess_hyperparams(dict(entry))
        env = make_zoo_env(args.env, config, seed=args.seed, training=False)
        model = load_model_safely(
            args.checkpoint, get_algo_class(args.algo), env, config={**config.model_kwargs, "policy": config.policy}
        )
    except (ZooError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    values, entropies, actions = [], [], []
    obs = env.reset()
    for _ in range(args.steps):
        tensor = model.policy.obs_to_tensor(obs)[0]
        with th.no_grad():
            distribution = model.policy.get_distribution(tensor)
            values.append(model.policy.predict_values(tensor).item())
        entropies.append(distribution.entropy().item())
        action = distribution.get_actions().numpy()
        actions.append(action.flatten()[0])
        obs, _, _, _ = env.step(action)
    env.close()
    print(f"value   : mean {np.mean(values):.3f}, std {np.std(values):.3f}, range [{min(values):.3f}, {max(values):.3f}]")
    print(f"entropy : mean {np.mean(entropies):.3f}, range [{min(entropies):.3f}, {max(entropies):.3f}]")
    if isinstance(env.action_space, spaces.Discrete):
        print(f"actions : {np.bincount(np.asarray(actions, dtype=np.int64)).tolist()} (count of each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

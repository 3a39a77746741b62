"""
A3C's speed shortcuts, all in one place: each computes what SB3's policy methods compute, only faster on the small
networks a worker runs at every env step, where building SB3's distribution objects costs about as much as the
forward pass. Each has a test in ``tests/test_a3c.py`` that it equals SB3's own computation:

- :func:`sample_action` for ``policy(obs)`` in rollouts (no log-probability, no distribution object);
- :func:`evaluate_actions` for ``policy.evaluate_actions`` in the loss (categorical actions straight from the
  log-softmax);
- :func:`skip_distribution_checks`: torch's argument validation of distributions, off in worker processes.
"""

from __future__ import annotations

import torch as th
from stable_baselines3.common.distributions import CategoricalDistribution, DiagGaussianDistribution
from stable_baselines3.common.policies import ActorCriticPolicy


def skip_distribution_checks() -> None:
    """
    Turn off torch's argument validation of distributions (``Distribution.set_default_validate_args(False)``).

    It checks every parameter and sample on each call, which costs more than the small networks' forward pass. The
    setting is process-wide: call it only in a process that runs nothing but a worker. Valid arguments give the same
    results either way; invalid ones (NaN) are caught by the loss check instead.
    """
    th.distributions.Distribution.set_default_validate_args(False)


def _latents(policy: ActorCriticPolicy, obs: th.Tensor | dict[str, th.Tensor]) -> tuple[th.Tensor, th.Tensor]:
    """The actor's and the critic's latent features of ``obs`` (the first half of ``policy.forward``)."""
    features = policy.extract_features(obs)
    if policy.share_features_extractor:
        return policy.mlp_extractor(features)
    pi_features, vf_features = features
    return policy.mlp_extractor.forward_actor(pi_features), policy.mlp_extractor.forward_critic(vf_features)


def sample_action(policy: ActorCriticPolicy, obs: th.Tensor | dict[str, th.Tensor]) -> tuple[th.Tensor, th.Tensor]:
    """
    Sample actions and compute values, as ``policy(obs)`` does, without the action's log-probability.

    A rollout needs neither the log-probability nor a distribution object, and with small networks building
    them costs about as much as the forward pass: categorical and diagonal Gaussian actions are sampled straight
    from the logits and means. Other distributions take SB3's path.

    :param policy: The policy.
    :param obs: A batch of observations.
    :return: Actions (shaped like the action space, batched) and values.
    """
    latent_pi, latent_vf = _latents(policy, obs)
    values = policy.value_net(latent_vf)
    if isinstance(policy.action_dist, CategoricalDistribution):
        probabilities = th.softmax(policy.action_net(latent_pi), dim=-1)
        actions = th.multinomial(probabilities, 1).flatten()
    elif isinstance(policy.action_dist, DiagGaussianDistribution):
        means = policy.action_net(latent_pi)
        actions = means + th.randn_like(means) * policy.log_std.exp()
    else:
        actions = policy._get_action_dist_from_latent(latent_pi).get_actions()
    return actions.reshape((-1, *policy.action_space.shape)), values  # type: ignore[misc]


def evaluate_actions(
    policy: ActorCriticPolicy, obs: th.Tensor | dict[str, th.Tensor], actions: th.Tensor
) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
    """
    Values, log-probabilities of ``actions`` and entropies, as ``policy.evaluate_actions`` computes them; for
    categorical actions straight from the log-softmax of the logits (SB3's distribution objects cost more than
    the small networks' forward pass), for other distributions through SB3's.

    :param policy: The policy.
    :param obs: A batch of observations.
    :param actions: The actions taken (for Discrete spaces, their indices as a 1-D tensor).
    :return: Values, log-probabilities, entropies (None where the distribution has no closed form).
    """
    latent_pi, latent_vf = _latents(policy, obs)
    values = policy.value_net(latent_vf)
    if isinstance(policy.action_dist, CategoricalDistribution):
        log_probs = th.log_softmax(policy.action_net(latent_pi), dim=-1)
        log_prob = log_probs.gather(1, actions.long().view(-1, 1)).flatten()
        return values, log_prob, -(log_probs.exp() * log_probs).sum(dim=-1)
    distribution = policy._get_action_dist_from_latent(latent_pi)
    return values, distribution.log_prob(actions), distribution.entropy()

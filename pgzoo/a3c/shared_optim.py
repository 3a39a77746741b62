"""
Optimizers whose statistics live in shared memory, for Hogwild training across processes.

Their ``step()`` is written out here rather than inherited: torch's optimizer steps import ``torch._dynamo`` on
first use, which would add about 70 MB to every worker's resident memory for nothing (a worker never compiles).
The update rules are torch's own, checked against ``torch.optim`` in the tests.
"""

from __future__ import annotations

import math
from typing import Any

import torch as th

#: Options of torch's optimizers that the written-out steps don't implement.
_UNSUPPORTED_OPTIONS = ("maximize", "differentiable", "capturable")


def _check_supported(optimizer_name: str, defaults: dict[str, Any]) -> None:
    for option in _UNSUPPORTED_OPTIONS:
        if defaults.get(option):
            raise ValueError(f"{optimizer_name} does not support {option}=True")


class _SharedStateMixin:
    """
    Creates every parameter's optimizer state eagerly and moves it to shared memory.

    torch optimizers create their state lazily at the first ``step()``, inside the process that calls it, so each
    worker would silently keep statistics of its own. Creating the state up front, before the optimizer is sent
    to the workers, makes all of them read and update the same tensors. The step counter is a tensor too: a
    per-process count would make Adam's bias correction wrong.
    """

    state: Any
    param_groups: list[dict[str, Any]]

    def _fresh_state(self, param: th.Tensor, group: dict[str, Any]) -> dict[str, th.Tensor]:
        raise NotImplementedError

    def _state_of(self, param: th.Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The state of ``param``, created (in private memory) if :meth:`share_memory` was not called yet."""
        state = self.state[param]
        if not state:
            state.update(self._fresh_state(param, group))
        return state

    def share_memory(self) -> None:
        """
        Fill in any missing state and move all state tensors to shared memory (in place; idempotent).

        Call it again after ``load_state_dict()``, which replaces the state with ordinary tensors.
        """
        for group in self.param_groups:
            for param in group["params"]:
                state = self.state[param]
                for key, value in self._fresh_state(param, group).items():
                    state.setdefault(key, value)
                for key, value in state.items():
                    if th.is_tensor(value):
                        # The step counter may come back from a checkpoint as a float or a 0-d tensor of
                        # another dtype; keep it a float32 tensor so the update stays in place.
                        if key == "step":
                            value = value.to(th.float32)
                            state[key] = value
                        value.share_memory_()
                    elif key == "step":
                        state[key] = th.tensor(float(value), dtype=th.float32).share_memory_()


class SharedRMSprop(_SharedStateMixin, th.optim.RMSprop):
    """
    ``torch.optim.RMSprop`` with statistics shared between processes (the paper's "shared RMSProp").

    Takes the same arguments as :class:`torch.optim.RMSprop` (except ``maximize``, ``differentiable`` and
    ``capturable``); call :meth:`share_memory` before sending it to workers.
    """

    def __init__(self, params: Any, **kwargs: Any) -> None:
        super().__init__(params, **kwargs)
        _check_supported(type(self).__name__, self.defaults)

    def _fresh_state(self, param: th.Tensor, group: dict[str, Any]) -> dict[str, th.Tensor]:
        state = {
            "step": th.zeros((), dtype=th.float32),
            "square_avg": th.zeros_like(param, memory_format=th.preserve_format),
        }
        if group["momentum"] > 0:
            state["momentum_buffer"] = th.zeros_like(param, memory_format=th.preserve_format)
        if group["centered"]:
            state["grad_avg"] = th.zeros_like(param, memory_format=th.preserve_format)
        return state

    @th.no_grad()
    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        """
        Apply the parameters' gradients (RMSprop as in ``torch.optim.RMSprop``).

        :param closure: Optional function that re-evaluates the model and returns the loss.
        :return: The closure's loss, or ``None``.
        """
        loss = _evaluate(closure)
        for group in self.param_groups:
            alpha, eps, lr = group["alpha"], group["eps"], float(group["lr"])
            momentum, weight_decay = group["momentum"], group["weight_decay"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad if weight_decay == 0 else param.grad.add(param, alpha=weight_decay)
                state = self._state_of(param, group)
                state["step"] += 1
                square_avg = state["square_avg"]
                square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
                if group["centered"]:
                    grad_avg = state["grad_avg"]
                    grad_avg.lerp_(grad, 1 - alpha)
                    denominator = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(eps)
                else:
                    denominator = square_avg.sqrt().add_(eps)
                if momentum > 0:
                    buffer = state["momentum_buffer"]
                    buffer.mul_(momentum).addcdiv_(grad, denominator)
                    param.add_(buffer, alpha=-lr)
                else:
                    param.addcdiv_(grad, denominator, value=-lr)
        return loss


class SharedAdam(_SharedStateMixin, th.optim.Adam):
    """
    ``torch.optim.Adam`` with moments and step counter shared between processes.

    Takes the same arguments as :class:`torch.optim.Adam` (except ``maximize``, ``differentiable``, ``capturable``
    and a tensor learning rate); call :meth:`share_memory` before sending it to workers.
    """

    def __init__(self, params: Any, **kwargs: Any) -> None:
        super().__init__(params, **kwargs)
        _check_supported(type(self).__name__, self.defaults)
        if self.defaults.get("decoupled_weight_decay"):
            raise ValueError("SharedAdam does not support decoupled_weight_decay=True")

    def _fresh_state(self, param: th.Tensor, group: dict[str, Any]) -> dict[str, th.Tensor]:
        state = {
            "step": th.zeros((), dtype=th.float32),
            "exp_avg": th.zeros_like(param, memory_format=th.preserve_format),
            "exp_avg_sq": th.zeros_like(param, memory_format=th.preserve_format),
        }
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = th.zeros_like(param, memory_format=th.preserve_format)
        return state

    @th.no_grad()
    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        """
        Apply the parameters' gradients (Adam as in ``torch.optim.Adam``, bias correction from the shared counter).

        :param closure: Optional function that re-evaluates the model and returns the loss.
        :return: The closure's loss, or ``None``.
        """
        loss = _evaluate(closure)
        for group in self.param_groups:
            (beta1, beta2), eps, lr = group["betas"], group["eps"], float(group["lr"])
            weight_decay = group["weight_decay"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad if weight_decay == 0 else param.grad.add(param, alpha=weight_decay)
                state = self._state_of(param, group)
                state["step"] += 1
                # Read once after the increment: another worker may increment it again while this one computes.
                step = float(state["step"])
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if group["amsgrad"]:
                    th.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
                    exp_avg_sq = state["max_exp_avg_sq"]
                bias_correction1 = 1 - beta1**step
                bias_correction2_sqrt = math.sqrt(1 - beta2**step)
                denominator = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
                param.addcdiv_(exp_avg, denominator, value=-lr / bias_correction1)
        return loss


def _evaluate(closure: Any) -> Any:
    """The loss from an optimizer closure, computed with gradients enabled (``None`` without a closure)."""
    if closure is None:
        return None
    with th.enable_grad():
        return closure()

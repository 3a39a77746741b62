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
_UNSUPPORTED_OPTIONS = ("maximize", "differentiable", "capturable", "decoupled_weight_decay")


class _SharedStateMixin:
    """
    Creates every parameter's optimizer state eagerly and moves it to shared memory.

    torch optimizers create their state lazily at the first ``step()``, inside the process that calls it, so each
    worker would silently keep statistics of its own. Creating the state up front, before the optimizer is sent
    to the workers, makes all of them read and update the same tensors. The step counter is a tensor too: a
    per-process count would make Adam's bias correction wrong. :meth:`step` applies the optimizer's update rule
    (:meth:`_update`) without torch's step machinery.
    """

    state: Any
    param_groups: list[dict[str, Any]]
    defaults: dict[str, Any]

    def __init__(self, params: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(params, *args, **kwargs)  # type: ignore[call-arg]
        for option in _UNSUPPORTED_OPTIONS:
            if self.defaults.get(option):
                raise ValueError(f"{type(self).__name__} does not support {option}=True")

    def _fresh_state(self, param: th.Tensor, group: dict[str, Any]) -> dict[str, th.Tensor]:
        raise NotImplementedError

    def _update(self, param: th.Tensor, grad: th.Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Apply ``grad`` (weight decay included) to ``param``, given its state after the step count's increment."""
        raise NotImplementedError

    @th.no_grad()
    def step(self, closure: Any = None) -> Any:
        """
        Apply the parameters' gradients.

        :param closure: Optional function that re-evaluates the model and returns the loss.
        :return: The closure's loss, or ``None``.
        """
        loss = None
        if closure is not None:
            with th.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad
                if group["weight_decay"] != 0:
                    grad = grad.add(param, alpha=group["weight_decay"])
                state = self.state[param]
                if not state:  # share_memory() was not called: private state, as torch would create it
                    state.update(self._fresh_state(param, group))
                state["step"] += 1
                self._update(param, grad, state, group)
        return loss

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

    def _update(self, param: th.Tensor, grad: th.Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """RMSprop's update, as ``torch.optim.RMSprop`` computes it."""
        alpha = group["alpha"]
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        grad_avg = state["grad_avg"].lerp_(grad, 1 - alpha) if group["centered"] else None
        denominator = self._denominator(square_avg, grad_avg, group["eps"])
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]
            buffer.mul_(group["momentum"]).addcdiv_(grad, denominator)
            param.add_(buffer, alpha=-float(group["lr"]))
        else:
            param.addcdiv_(grad, denominator, value=-float(group["lr"]))

    @staticmethod
    def _denominator(square_avg: th.Tensor, grad_avg: th.Tensor | None, eps: float) -> th.Tensor:
        """
        :param square_avg: Running mean of the squared gradients.
        :param grad_avg: Running mean of the gradients when centered, else ``None``.
        :param eps: Epsilon.
        :return: What the gradient is divided by (a new tensor).
        """
        if grad_avg is None:
            return square_avg.sqrt().add_(eps)
        return square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(eps)


class SharedRMSpropTFLike(SharedRMSprop):
    """
    :class:`SharedRMSprop` with TensorFlow's RMSProp rule, as SB3's ``RMSpropTFLike`` (the RL Zoo's optimizer for
    A2C on Atari, and the A3C paper's): epsilon inside the square root and the second-moment estimate starting at
    ones. With the same ``eps``, the step is far smaller where the gradients are small: torch's rule divides by
    ``sqrt(v) + eps``, this one by ``sqrt(v + eps)``, which is at least ``sqrt(eps)``.

    Takes the arguments of :class:`SharedRMSprop`.
    """

    def _fresh_state(self, param: th.Tensor, group: dict[str, Any]) -> dict[str, th.Tensor]:
        state = super()._fresh_state(param, group)
        state["square_avg"].fill_(1.0)
        return state

    @staticmethod
    def _denominator(square_avg: th.Tensor, grad_avg: th.Tensor | None, eps: float) -> th.Tensor:
        if grad_avg is None:
            return square_avg.add(eps).sqrt_()
        return square_avg.addcmul(grad_avg, grad_avg, value=-1).add_(eps).sqrt_()


class SharedAdam(_SharedStateMixin, th.optim.Adam):
    """
    ``torch.optim.Adam`` with moments and step counter shared between processes.

    Takes the same arguments as :class:`torch.optim.Adam` (except ``maximize``, ``differentiable``, ``capturable``,
    ``decoupled_weight_decay`` and a tensor learning rate); call :meth:`share_memory` before sending it to workers.
    """

    def _fresh_state(self, param: th.Tensor, group: dict[str, Any]) -> dict[str, th.Tensor]:
        state = {
            "step": th.zeros((), dtype=th.float32),
            "exp_avg": th.zeros_like(param, memory_format=th.preserve_format),
            "exp_avg_sq": th.zeros_like(param, memory_format=th.preserve_format),
        }
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = th.zeros_like(param, memory_format=th.preserve_format)
        return state

    def _update(self, param: th.Tensor, grad: th.Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Adam's update, as ``torch.optim.Adam`` computes it, with bias correction from the shared step counter."""
        (beta1, beta2), eps = group["betas"], group["eps"]
        # Read once: another worker may increment the shared counter again while this one computes.
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
        param.addcdiv_(exp_avg, denominator, value=-float(group["lr"]) / bias_correction1)

"""Optimizers whose statistics live in shared memory, for Hogwild training across processes."""

from __future__ import annotations

from typing import Any

import torch as th


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

    Takes the same arguments as :class:`torch.optim.RMSprop`; call :meth:`share_memory` before sending it to workers.
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


class SharedAdam(_SharedStateMixin, th.optim.Adam):
    """
    ``torch.optim.Adam`` with moments and step counter shared between processes.

    Takes the same arguments as :class:`torch.optim.Adam`; call :meth:`share_memory` before sending it to workers.
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

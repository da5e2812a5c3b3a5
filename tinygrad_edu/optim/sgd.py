"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import kernels
from .optimizer import Optimizer, ParamsT, learning_rate, weight_decayed


class SGD(Optimizer):
    """Stochastic gradient descent, exactly PyTorch's ``torch.optim.SGD``.

    With learning rate γ, momentum μ, dampening τ and weight decay λ, each step does::

        g ← ∇θ + λ θ                     (if λ ≠ 0: L2 weight decay)
        b ← g          on the first step  (if μ ≠ 0: the momentum buffer)
        b ← μ b + (1 - τ) g  afterwards
        g ← g + μ b  if nesterov, else g ← b
        θ ← θ - γ g

    Nesterov momentum needs μ > 0 and τ = 0. The buffer is ``state[p]["momentum_buffer"]``.
    """

    def __init__(self, params: ParamsT, lr: float, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check_options(self, options: dict[str, Any], where: str) -> None:
        super()._check_options(options, where)
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(f"SGD: {where}nesterov=True needs momentum > 0 and dampening = 0; "
                             f"got momentum={options['momentum']!r}, "
                             f"dampening={options['dampening']!r}")

    def _update_group(self, ready: list[tuple[np.ndarray, np.ndarray, dict[str, Any]]],
                      group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        if group["weight_decay"] == 0 and group["momentum"] == 0:  # plain SGD: g itself
            kernels.subtract_scaled_([(param, learning_rate(lr, param.dtype), grad)
                                      for param, grad, _ in ready])
            return
        # a generator: each direction is made as the update reaches its parameter
        kernels.subtract_scaled_((param, learning_rate(lr, param.dtype),
                                  self._direction(param, grad, state, group))
                                 for param, grad, state in ready)

    def _direction(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                   group: dict[str, Any]) -> np.ndarray:
        """The step's direction for one parameter: its gradient, with the group's weight
        decay and momentum."""
        g = grad
        if group["weight_decay"] != 0:
            g = weight_decayed(grad, param, group["weight_decay"])
        if group["momentum"] != 0:
            g = self._momentum(g, state, group)
        return g

    @staticmethod
    def _momentum(g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> np.ndarray:
        """The step's direction with momentum: the buffer b (updated in place), or g + μ b
        with Nesterov's."""
        mu = group["momentum"]
        b = state.get("momentum_buffer")
        if b is None:
            # A new array: g may be the parameter's .grad, which is never written to
            # (and for a 0-d parameter g may be a NumPy scalar, which cannot be).
            first = np.asarray(g)
            b = state["momentum_buffer"] = kernels.aligned_copy(first, first.dtype)
        else:
            b *= mu
            b += (1 - group["dampening"]) * g
        return g + mu * b if group["nesterov"] else b

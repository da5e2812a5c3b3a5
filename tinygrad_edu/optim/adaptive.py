"""Optimizers with a per-coordinate step size: Adagrad, RMSprop, Adam and AdamW.

Each divides the step by a running measure of the gradient's size, so coordinates with
large gradients move less and coordinates with small gradients move more. The rules are
PyTorch's, step for step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, buffer, weight_decayed


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), exactly PyTorch's ``torch.optim.Adagrad``.

    With learning rate γ, lr decay η, weight decay λ and ``initial_accumulator_value``
    s₀, step t = 1, 2, ... does::

        g ← ∇θ + λ θ
        γ̃ ← γ / (1 + (t - 1) η)
        s ← s + g²                       (the sum of every squared gradient so far)
        θ ← θ - γ̃ g / (√s + ε)

    The sum only grows, so the steps shrink for good. State: ``step``, ``sum``.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        t = state["step"] = state.get("step", 0) + 1
        g = weight_decayed(grad, param, group["weight_decay"])
        lr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        s = buffer(state, "sum", param, group["initial_accumulator_value"])
        s += g * g
        param -= lr * g / (np.sqrt(s) + group["eps"])


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), exactly PyTorch's ``torch.optim.RMSprop``.

    With learning rate γ, smoothing α, momentum μ and weight decay λ, each step does::

        g ← ∇θ + λ θ
        v ← α v + (1 - α) g²             (a leaky average of squared gradients, v₀ = 0)
        ṽ ← v
        if centered:  a ← α a + (1 - α) g;  ṽ ← v - a²     (a variance, not a 2nd moment)
        if μ > 0:     b ← μ b + g / (√ṽ + ε);  θ ← θ - γ b      (b₀ = 0)
        else:         θ ← θ - γ g / (√ṽ + ε)

    State: ``step``, ``square_avg``, and ``grad_avg`` (centered), ``momentum_buffer``
    (μ > 0).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        state["step"] = state.get("step", 0) + 1
        g = weight_decayed(grad, param, group["weight_decay"])
        alpha = group["alpha"]
        v = buffer(state, "square_avg", param)
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            a = buffer(state, "grad_avg", param)
            a *= alpha
            a += (1 - alpha) * g
            # NOTE: v >= a² in exact arithmetic; rounding can take v - a² a hair below 0,
            # where the square root would be NaN, so it is clamped at 0.
            denom = np.sqrt(np.maximum(v - a * a, 0)) + group["eps"]
        else:
            denom = np.sqrt(v) + group["eps"]
        if group["momentum"] > 0:
            b = buffer(state, "momentum_buffer", param)
            b *= group["momentum"]
            b += g / denom
            param -= group["lr"] * b
        else:
            param -= group["lr"] * g / denom


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), exactly PyTorch's ``torch.optim.Adam``.

    With learning rate γ, betas (β₁, β₂) and weight decay λ, step t = 1, 2, ... does::

        g ← ∇θ + λ θ                     (L2 weight decay, folded into the gradient)
        m ← β₁ m + (1 - β₁) g            (first moment: momentum, m₀ = 0)
        v ← β₂ v + (1 - β₂) g²           (second moment: RMSprop's average, v₀ = 0)
        m̂ ← m / (1 - β₁ᵗ)
        v̂ ← v / (1 - β₂ᵗ), or with amsgrad:  v_max ← max(v_max, v);  v̂ ← v_max / (1 - β₂ᵗ)
        θ ← θ - γ m̂ / (√v̂ + ε)

    The bias corrections undo the pull towards the zero start: without them the first
    steps would be far too small. State: ``step``, ``exp_avg``, ``exp_avg_sq``, and
    ``max_exp_avg_sq`` (amsgrad).
    """

    # AdamW sets this: weight decay shrinks θ directly instead of being added to g.
    _decoupled_weight_decay = False

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        t = state["step"] = state.get("step", 0) + 1
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if self._decoupled_weight_decay:
            param *= 1 - lr * group["weight_decay"]
            g = grad
        else:
            g = weight_decayed(grad, param, group["weight_decay"])
        m = buffer(state, "exp_avg", param)
        m *= beta1
        m += (1 - beta1) * g
        v = buffer(state, "exp_avg_sq", param)
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            v_max = buffer(state, "max_exp_avg_sq", param)
            np.maximum(v_max, v, out=v_max)
            v = v_max
        # m̂ / (√v̂ + ε) with the corrections moved onto the scalars, as PyTorch computes it.
        denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + group["eps"]
        param -= lr / (1 - beta1**t) * m / denom


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019), exactly PyTorch's ``torch.optim.AdamW``.

    Adam with *decoupled* weight decay: before Adam's step (on the plain gradient),
    ::

        θ ← θ - γ λ θ

    With Adam's L2 decay, λ θ goes through the division by √v̂, so weights with large
    gradients are barely decayed; here every weight shrinks by the same factor 1 - γ λ.
    """

    _decoupled_weight_decay = True

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)

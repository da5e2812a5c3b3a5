"""Gradient clipping: keep one bad batch from throwing the weights far away.

Both functions *replace* each ``p.grad`` with a new array: the engine may share one
gradient array between several nodes, so editing it in place could change another node's
gradient too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .._checks import is_real
from ..value import Value
from .optimizer import grad_array, module_hint, require


def _with_grads(parameters: Value | Iterable[Value], owner: str) -> list[Value]:
    if isinstance(parameters, Value):
        parameters = [parameters]
    elif not isinstance(parameters, Iterable):
        raise TypeError(f"{owner}: parameters must be a Value or an iterable of Values; got "
                        f"{type(parameters).__name__}{module_hint(parameters)}")
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"{owner}: parameter {i} is a {type(p).__name__}, not a Value")
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Value | Iterable[Value], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale the gradients together so that their joint norm is at most ``max_norm``.

    The total norm treats every gradient as one long vector:
    ``total = (Σ_p Σ_i |g_pi|^q)^(1/q)`` for ``norm_type`` q (``inf``: the largest
    ``|g_pi|``). When ``max_norm / (total + 1e-6) < 1``, every gradient is multiplied by
    that factor, PyTorch's formula; the direction of the step is kept, only its length
    shrinks. Parameters without a gradient are ignored.

    Returns the total norm *before* clipping (watch it to see gradients explode). With
    ``error_if_nonfinite`` a NaN or infinite norm raises instead.
    """
    params = _with_grads(parameters, "clip_grad_norm_")
    require(is_real(max_norm) and max_norm >= 0, "clip_grad_norm_",
            "max_norm must be a number >= 0", max_norm)
    require(is_real(norm_type) and norm_type > 0, "clip_grad_norm_",
            "norm_type must be a number > 0 (or inf)", norm_type)
    # Each gradient's norm in float64, then the norm of those norms: the same number as
    # the norm of all the gradients concatenated.
    norms = [np.linalg.norm(g.astype(np.float64).ravel(), norm_type)
             for g in map(grad_array, params) if g.size]
    total = float(np.linalg.norm(norms, norm_type)) if norms else 0.0
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {total}; with error_if_nonfinite=False the "
                           f"gradients would be scaled anyway")
    scale = float(max_norm) / (total + 1e-6)
    if not scale >= 1.0:  # NaN included, as in PyTorch: a NaN norm makes every grad NaN
        for p in params:
            p.grad = grad_array(p) * scale
    return total


def clip_grad_value_(parameters: Value | Iterable[Value], clip_value: float) -> None:
    """Clip every gradient element to ``[-clip_value, clip_value]``.

    Unlike norm clipping this changes the direction of the step: each coordinate is cut
    on its own.
    """
    params = _with_grads(parameters, "clip_grad_value_")
    require(is_real(clip_value) and clip_value >= 0, "clip_grad_value_",
            "clip_value must be a number >= 0", clip_value)
    limit = float(clip_value)
    for p in params:
        p.grad = np.clip(grad_array(p), -limit, limit)

"""Central differences in float64 against the engine's backward, first and second order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import grad
from ..value import Value


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numeric one; the message says where."""


def _leaves(inputs: tuple[Any, ...], label: str) -> tuple[list[Any], list[int]]:
    """float64 copies of the inputs that require grad; everything else passes through."""
    xs: list[Any] = []
    checked: list[int] = []
    for i, x in enumerate(inputs):
        if isinstance(x, Value) and x.requires_grad:
            xs.append(Value(x.data, dtype=np.float64))
            checked.append(i)
        else:
            xs.append(x)
    if not checked:
        raise ValueError(f"{label}: no input is a Value that requires grad")
    return xs, checked


def _direction(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random direction to project on; 1 for a one-element shape, so that the numbers
    in an error message are the plain derivatives there."""
    if int(np.prod(shape)) == 1:
        return np.ones(shape)
    return np.asarray(rng.standard_normal(shape))


def _output(fn: Callable[..., Any], xs: list[Any], label: str) -> Value:
    out = fn(*xs)
    if not isinstance(out, Value):
        raise TypeError(f"{label}: fn must return a Value; got {type(out).__name__}")
    return out


def _check(fn: Callable[..., Value], inputs: tuple[Any, ...], eps: float, atol: float,
           rtol: float, seed: int, label: str) -> bool:
    xs, checked = _leaves(inputs, label)
    out = _output(fn, xs, label)
    r = _direction(np.random.default_rng(seed), out.shape)
    wrt = [xs[i] for i in checked]
    if out.requires_grad:
        analytic = grad(out, wrt, grad_outputs=r, allow_unused=True)
    else:
        analytic = (None,) * len(wrt)

    def projected(k: int, data: np.ndarray) -> float:
        trial = list(xs)
        trial[k] = Value(data)
        return float((_output(fn, trial, label).data * r).sum())

    for k, a in zip(checked, analytic):
        base = xs[k].data
        a = np.zeros_like(base) if a is None else np.asarray(a)
        numeric = np.empty_like(base)
        for j in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[j] += eps
            minus[j] -= eps
            numeric[j] = (projected(k, plus) - projected(k, minus)) / (2 * eps)
        _compare(a, numeric, k, atol, rtol, label)
    return True


def _compare(analytic: np.ndarray, numeric: np.ndarray, k: int, atol: float, rtol: float,
             label: str, reference: str = "numeric") -> None:
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if np.all(excess <= 0):
        return
    worst = int(np.argmax(excess))  # a NaN counts as the largest, as np.argmax has it
    j = np.unravel_index(worst, numeric.shape)  # () for a 0-d input
    raise GradcheckError(
        f"{label}: input {k} (shape {numeric.shape}), element {tuple(int(i) for i in j)}: "
        f"analytic {float(analytic[j]):.6g} vs {reference} {float(numeric[j]):.6g} "
        f"(atol={atol}, rtol={rtol})"
    )


def gradcheck(
    fn: Callable[..., Value],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check the gradient of ``fn`` with respect to every input Value that requires grad.

    A vector output is projected on a random direction ``r`` (so one backward pass checks
    the whole vector-Jacobian product ``r @ J``; a one-element output is used as is). Each
    element of each input is then moved by ``±eps`` and the central difference of
    ``sum(fn(...) * r)`` is compared with the analytic gradient:
    ``|analytic - numeric| <= atol + rtol * |numeric|``. Inputs are copied to float64
    first. Returns True, or raises ``GradcheckError`` naming the input, the worst
    element's index, and both values.
    """
    return _check(fn, inputs, eps, atol, rtol, seed, "gradcheck")


def gradgradcheck(
    fn: Callable[..., Value],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: ``gradcheck`` of the first-order gradient of ``fn``.

    The first-order gradient is computed with ``create_graph=True`` and projected on
    random directions ``u_k`` (fixed by ``seed``, one per input), giving the scalar
    ``sum_k <u_k, r @ dfn/dx_k>``; its gradient -- Hessian-vector products -- is checked
    numerically. Failures say ``gradgradcheck`` and report those projected values.

    First, the first-order gradient computed with ``create_graph=True`` must equal the one
    a plain backward gives (same tolerances): an op's backward may take another path when
    it records, and the numeric check alone differentiates that path without ever
    comparing it with the gradient training uses.
    """
    xs, checked = _leaves(inputs, "gradgradcheck")
    out = _output(fn, xs, "gradgradcheck")
    rng = np.random.default_rng(seed + 1)
    r = _direction(rng, out.shape)
    if out.requires_grad:
        _compare_recorded(out, xs, checked, r, atol, rtol)
    # NOTE: random even for one-element inputs: with every u_k = 1 the probe of a function
    # of x - y is g(x - y) - g(x - y) = 0 whatever the second derivative is.
    us = [np.asarray(rng.standard_normal(np.shape(xs[i].data))) for i in checked]

    def first_order(*args: Any) -> Value:
        wrt = [args[i] for i in checked]
        # `0 * sum(x)` keeps the result a function of every input even where fn is
        # linear (its gradient then is a constant and the second derivative is zero).
        total = sum((x * 0.0).sum() for x in wrt)
        y = fn(*args)
        if y.requires_grad:
            grads = grad(y, wrt, grad_outputs=r, create_graph=True, allow_unused=True)
            for g, u in zip(grads, us):
                if g is not None:
                    total = total + (g * u).sum()
        return total

    return _check(first_order, tuple(xs), eps, atol, rtol, seed, "gradgradcheck")


def _compare_recorded(out: Value, xs: list[Any], checked: list[int], r: np.ndarray,
                      atol: float, rtol: float) -> None:
    """The gradient of ``sum(out * r)`` with ``create_graph=True`` against the plain
    backward's, input by input (``grad`` keeps the graph, so one graph serves both)."""
    wrt = [xs[i] for i in checked]
    recorded = grad(out, wrt, grad_outputs=r, create_graph=True, allow_unused=True)
    plain = grad(out, wrt, grad_outputs=r, allow_unused=True)
    for k, p, g in zip(checked, plain, recorded):
        zeros = np.zeros(np.shape(xs[k].data))
        _compare(zeros if g is None else np.asarray(g), zeros if p is None else p, k, atol,
                 rtol, "gradgradcheck (first derivative under create_graph)", "plain backward")

"""Reductions over ``axis`` (None for all, an int, or a tuple) with NumPy's ``keepdims``.

Each backward first puts the reduced axes back (a reshape to the ``keepdims`` shape),
then spreads the gradient over them.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from .axes import keepdims_shape, normalize_axes


def _restore(ctx, grad):
    """The gradient of a reduction's output, reshaped to the keepdims shape (which it
    already has under ``keepdims=True``, where the reshape changes nothing)."""
    return grad.reshape(keepdims_shape(ctx.shape, ctx.axes))


def _start(ctx, x, axis, op):
    ctx.shape = x.shape
    ctx.axes = normalize_axes(axis, x.ndim, op)
    return ctx.axes


def _over_nothing(x, axes):
    """Whether a reduction of x over ``axes`` reduces some output element over no input
    element: one of the axes is empty. (An empty x reduced over axes of its other sizes has
    an empty result, as in NumPy and PyTorch.)"""
    return 0 in x.shape and any(x.shape[a] == 0 for a in axes)


class Sum(Function):
    """z = sum of x over axes;  dz/dx_i = 1 for every reduced element."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = _start(ctx, x, axis, "sum")
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_restore(ctx, grad), ctx.shape)


class Mean(Function):
    """z = sum of x over axes / n;  dz/dx_i = 1 / n, with n the number of reduced elements."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = _start(ctx, x, axis, "mean")
        ctx.count = math.prod([x.shape[a] for a in axes])
        if ctx.count == 0:
            raise ValueError(f"mean: no elements to average over axis {axis!r} of {x.shape}")
        return x.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_restore(ctx, grad) / ctx.count, ctx.shape)


class _Extremum(Function):
    """Shared by Max and Min: the gradient goes to the elements equal to the result.

    When several elements tie for the extremum, the gradient is split equally between
    them (as PyTorch's ``amax``/``amin`` do), so the total passed back is unchanged.
    """

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        op = type(ctx)
        axes = _start(ctx, x, axis, op.label)
        if _over_nothing(x, axes):
            raise ValueError(f"{op.label}: cannot reduce an empty Value of shape {x.shape} "
                             f"over axes {axes}")
        z = op.reduce(x, axis=axes, keepdims=keepdims)
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, z = ctx.saved_tensors
        hit = np.asarray(x) == np.asarray(_restore(ctx, z))
        share = hit / hit.sum(axis=ctx.axes, keepdims=True)
        return _restore(ctx, grad) * share


class Max(_Extremum):
    """z = max of x over axes;  dz/dx_i = 1 for the maximal element (ties share equally)."""

    reduce = staticmethod(np.max)
    label = "max"


class Min(_Extremum):
    """z = min of x over axes;  dz/dx_i = 1 for the minimal element (ties share equally)."""

    reduce = staticmethod(np.min)
    label = "min"


def _spread(ctx, x, axis, ddof, op):
    """Shared start of Var and Std: the axes, the degrees of freedom, and ``ctx.scale``,
    the largest |x| over the axes (1 where that is 0 or not finite).

    Dividing by the scale before squaring keeps every square at most 1, so no
    intermediate overflows, in float32 as in float64, even where x**2 would.
    """
    axes = _start(ctx, x, axis, op)
    count = math.prod([x.shape[a] for a in axes])
    ctx.dof = count - ddof
    if ctx.dof <= 0:
        raise ValueError(
            f"{op}: ddof={ddof} leaves no degrees of freedom for {count} element(s) "
            f"over axis {axis!r} of shape {x.shape}"
        )
    top = np.abs(x).max(axis=axes, keepdims=True)
    ctx.scale = np.where((top > 0) & np.isfinite(top), top, np.ones_like(top))
    ctx.save_for_backward(x)
    return x / ctx.scale


def _unit_centred(ctx, x):
    """(x - mean) / scale, computed as x / scale - mean(x / scale) so that it stays <= 2."""
    unit = x / ctx.scale
    return unit - unit.mean(axis=ctx.axes, keepdims=True)


def _reduced(ctx, z, keepdims):
    """A result computed with keepdims=True, in the shape the caller asked for."""
    return z if keepdims else z.reshape(
        [n for i, n in enumerate(ctx.shape) if i not in ctx.axes])


class Var(Function):
    """z = sum((x - mean)**2) / (n - ddof);  dz/dx_i = 2 (x_i - mean) / (n - ddof).

    ``ddof=0`` (the default, as in NumPy) is the biased variance; ``ddof=1`` the unbiased.
    Computed as scale**2 var(x / scale) (see ``_spread``).
    """

    @staticmethod
    def forward(ctx, x, *, axis=None, ddof=0, keepdims=False):
        unit = _spread(ctx, x, axis, ddof, "var")
        # NOTE: a variance above the dtype's largest number is inf, as in PyTorch, and
        # not a warning.
        with np.errstate(over="ignore"):
            z = unit.var(axis=ctx.axes, ddof=ddof, keepdims=True) * ctx.scale**2
        return _reduced(ctx, z, keepdims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _restore(ctx, grad) * _unit_centred(ctx, x) * (2 * ctx.scale / ctx.dof)


class Std(Function):
    """z = sqrt(var(x));  dz/dx_i = (x_i - mean) / ((n - ddof) z).

    Computed as scale std(x / scale) (see ``_spread``), so data near the dtype's largest
    number has a finite standard deviation and gradient (PyTorch's values).
    """

    @staticmethod
    def forward(ctx, x, *, axis=None, ddof=0, keepdims=False):
        unit = _spread(ctx, x, axis, ddof, "std")
        z = _reduced(ctx, unit.std(axis=ctx.axes, ddof=ddof, keepdims=True) * ctx.scale,
                     keepdims)
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, z = ctx.saved_tensors
        unit_std = _restore(ctx, z) / ctx.scale
        return _restore(ctx, grad) * _unit_centred(ctx, x) / (unit_std * ctx.dof)


class LogSumExp(Function):
    """z = log(sum(exp(x))) over axes;  dz/dx_i = exp(x_i - z) (the softmax).

    Computed as m + log(sum(exp(x - m))) with m the maximum, so large inputs never
    overflow.
    """

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = _start(ctx, x, axis, "logsumexp")
        if _over_nothing(x, axes):
            raise ValueError(f"logsumexp: cannot reduce an empty Value of shape {x.shape} "
                             f"over axes {axes}")
        m = x.max(axis=axes, keepdims=True)
        finite = np.isfinite(m)
        # where the maximum is inf or nan, so is the result (m + log n): shift by nothing
        # there, and exponentiate zeros, so that no exp overflows and no log sees 0
        shifted = np.where(finite, x - np.where(finite, m, 0), 0)
        z = _reduced(ctx, np.log(np.exp(shifted).sum(axis=axes, keepdims=True)) + m, keepdims)
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, z = ctx.saved_tensors
        return _restore(ctx, grad) * np.exp(x - _restore(ctx, z))

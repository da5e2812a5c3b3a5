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
    """The gradient of a reduction's output, reshaped to the keepdims shape."""
    return grad if ctx.keepdims else grad.reshape(keepdims_shape(ctx.shape, ctx.axes))


def _start(ctx, x, axis, keepdims, op):
    ctx.shape = x.shape
    ctx.axes = normalize_axes(axis, x.ndim, op)
    ctx.keepdims = bool(keepdims)
    return ctx.axes


class Sum(Function):
    """z = sum of x over axes;  dz/dx_i = 1 for every reduced element."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = _start(ctx, x, axis, keepdims, "sum")
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_restore(ctx, grad), ctx.shape)


class Mean(Function):
    """z = sum of x over axes / n;  dz/dx_i = 1 / n, with n the number of reduced elements."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = _start(ctx, x, axis, keepdims, "mean")
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
        axes = _start(ctx, x, axis, keepdims, op.label)
        if x.size == 0:
            raise ValueError(f"{op.label}: cannot reduce an empty Value of shape {x.shape}")
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


class Var(Function):
    """z = sum((x - mean)**2) / (n - ddof);  dz/dx_i = 2 (x_i - mean) / (n - ddof).

    ``ddof=0`` (the default, as in NumPy) is the biased variance; ``ddof=1`` the unbiased.
    """

    @staticmethod
    def forward(ctx, x, *, axis=None, ddof=0, keepdims=False):
        axes = _start(ctx, x, axis, keepdims, "var")
        count = int(np.prod([x.shape[a] for a in axes]))
        ctx.dof = count - ddof
        if ctx.dof <= 0:
            raise ValueError(
                f"var: ddof={ddof} leaves no degrees of freedom for {count} element(s) "
                f"over axis {axis!r} of shape {x.shape}"
            )
        ctx.save_for_backward(x)
        return x.var(axis=axes, ddof=ddof, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        centred = x - x.mean(axis=ctx.axes, keepdims=True)
        return _restore(ctx, grad) * centred * (2 / ctx.dof)


class LogSumExp(Function):
    """z = log(sum(exp(x))) over axes;  dz/dx_i = exp(x_i - z) (the softmax).

    Computed as m + log(sum(exp(x - m))) with m the maximum, so large inputs never
    overflow.
    """

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = _start(ctx, x, axis, keepdims, "logsumexp")
        if x.size == 0:
            raise ValueError(f"logsumexp: cannot reduce an empty Value of shape {x.shape}")
        m = x.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        z = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        if not keepdims:
            z = z.reshape([n for i, n in enumerate(x.shape) if i not in axes])
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, z = ctx.saved_tensors
        return _restore(ctx, grad) * np.exp(x - _restore(ctx, z))

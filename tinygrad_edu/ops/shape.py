"""Shape ops: they move or select elements without computing new values.

The gradient of each is the same movement run backwards: reshape back, transpose by the
inverse permutation, slice out what was concatenated, scatter back what was indexed.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from .axes import normalize_axes


class Reshape(Function):
    """z = x viewed with another shape;  the gradient is reshaped back."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a Value of shape {x.shape} ({x.size} elements) "
                f"into shape {shape}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Transpose(Function):
    """z = x with its axes permuted;  the gradient is permuted back by the inverse."""

    @staticmethod
    def forward(ctx, x, *, axes):
        n = x.ndim
        if len(axes) != n or not all(-n <= a < n for a in axes) or len({a % n for a in axes}) != n:
            hint = (" (PyTorch's transpose(dim0, dim1) is swapaxes(dim0, dim1) here)"
                    if len(axes) == 2 else "")
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of a "
                f"Value of shape {x.shape}{hint}"
            )
        axes = tuple(a % n for a in axes)
        ctx.inverse = tuple(int(i) for i in np.argsort(axes))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(ctx.inverse)


class BroadcastTo(Function):
    """z = x repeated along broadcast axes;  the engine's unbroadcast sums the gradient back."""

    @staticmethod
    def forward(ctx, x, *, shape):
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(
                f"broadcast_to: cannot broadcast a Value of shape {x.shape} to shape {shape}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad


def _is_basic(index) -> bool:
    """True for indices that select each element at most once (ints, slices, None, ...)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts
    )


class GetItem(Function):
    """z = x[index];  the gradient is scattered back into zeros of x's shape.

    Every form NumPy accepts works: ints, slices with steps, ``None``, ``...``, boolean
    masks and integer arrays. An element picked several times collects the sum.
    """

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.shape = x.shape
        ctx.index = index
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(
                f"getitem: index {index!r} into a Value of shape {x.shape}: {e}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return ScatterAdd.apply(grad, index=ctx.index, shape=ctx.shape)


class ScatterAdd(Function):
    """z = zeros(shape) with g added at index (the adjoint of GetItem);  dz/dg = z[index]."""

    @staticmethod
    def forward(ctx, g, *, index, shape):
        ctx.index = index
        z = np.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            z[index] = g
        else:
            np.add.at(z, index, g)
        return z

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, index=ctx.index)


def _along(axis: int, where) -> tuple:
    """An index that picks ``where`` (an int or a slice) on ``axis`` and everything else
    (NumPy takes the axes after it whole)."""
    return (slice(None),) * axis + (where,)


class Concatenate(Function):
    """z = the inputs joined along ``axis``;  each gets its slice of the gradient back."""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        if not xs:
            raise ValueError("concatenate: needs at least one Value")
        ndim = xs[0].ndim
        if ndim == 0:
            raise ValueError("concatenate: 0-d Values cannot be concatenated; use stack")
        shapes = [x.shape for x in xs]
        (ctx.axis,) = normalize_axes(axis, ndim, "concatenate")
        try:
            z = np.concatenate(xs, axis=ctx.axis)
        except ValueError:
            raise ValueError(
                f"concatenate: the shapes {shapes} must match except along axis {axis}"
            ) from None
        ctx.bounds = np.cumsum([0] + [s[ctx.axis] for s in shapes]).tolist()
        return z

    @staticmethod
    def backward(ctx, grad):
        b = ctx.bounds
        return tuple(
            grad[_along(ctx.axis, slice(b[i], b[i + 1]))] for i in range(len(b) - 1)
        )


class Stack(Function):
    """z = the inputs stacked along a new ``axis``;  each gets its slice of the gradient."""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        if not xs:
            raise ValueError("stack: needs at least one Value")
        shapes = [x.shape for x in xs]
        if len(set(shapes)) != 1:
            raise ValueError(f"stack: all Values must have the same shape; got {shapes}")
        (ctx.axis,) = normalize_axes(axis, xs[0].ndim + 1, "stack")
        return np.stack(xs, axis=ctx.axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad[_along(ctx.axis, i)] for i in range(grad.shape[ctx.axis]))


class Pad(Function):
    """z = x with constant borders (``np.pad``'s ``pad_width``);  the gradient is the
    interior slice."""

    @staticmethod
    def forward(ctx, x, *, pad_width, constant_values=0.0):
        if x.ndim == 0:
            raise ValueError("pad: a 0-d Value has no axes to pad")
        try:
            widths = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))
        except ValueError:
            raise ValueError(
                f"pad: pad_width {pad_width!r} does not fit a Value of shape {x.shape}; "
                f"give one (before, after) pair per axis"
            ) from None
        if not np.issubdtype(widths.dtype, np.integer):
            raise TypeError(f"pad: pad_width must be whole numbers of elements; got {pad_width!r}")
        if (widths < 0).any():
            raise ValueError(f"pad: pad_width must be >= 0; got {pad_width!r}")
        ctx.interior = tuple(
            slice(int(b), int(b) + n) for (b, _), n in zip(widths, x.shape)
        )
        return np.pad(x, widths, constant_values=constant_values)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.interior]

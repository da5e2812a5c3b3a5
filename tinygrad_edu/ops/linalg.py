"""Matrix multiplication with NumPy's rules (1-D, 2-D, batched N-D) and the fully
connected layer x W^T + b as one op."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from . import kernels


def _mT(x):
    """Swap the last two axes (a batched transpose); works on arrays and Values."""
    return x.swapaxes(-1, -2)


def _matmul_error(x, y):
    """Why NumPy could not multiply x and y, in the words of the shapes."""
    if x.ndim == 0 or y.ndim == 0:
        return ValueError(f"matmul: 0-d operands are not allowed (shapes {x.shape} and "
                          f"{y.shape}); use * for scaling")
    k_x = x.shape[-1]
    k_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if k_x != k_y:
        return ValueError(f"matmul: shapes {x.shape} and {y.shape} are not aligned "
                          f"({k_x} != {k_y})")
    return ValueError(f"matmul: the batch axes of shapes {x.shape} and {y.shape} do not "
                      f"broadcast")


class MatMul(Function):
    """z = x @ y;  dz/dx = g @ y^T,  dz/dy = x^T @ g  (over the last two axes).

    A 1-D ``x`` acts as a row (1, k) and a 1-D ``y`` as a column (k, 1), as in NumPy; the
    gradient formulas add that axis back, and the engine sums broadcast batch axes.
    """

    @staticmethod
    def forward(ctx, x, y):
        try:
            z = np.matmul(x, y)
        except ValueError:
            raise _matmul_error(x, y) from None
        ctx.save_for_backward(x, y)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        if x.ndim == 1 and y.ndim == 1:
            return grad * y if need_x else None, grad * x if need_y else None
        if x.ndim == 1:  # (k,) @ (..., k, n) -> (..., n): x is a row
            g = grad.reshape(grad.shape[:-1] + (1, grad.shape[-1]))
            gx = (g @ _mT(y)).reshape(grad.shape[:-1] + (x.shape[0],)) if need_x else None
            return gx, x[:, None] @ g if need_y else None
        if y.ndim == 1:  # (..., m, k) @ (k,) -> (..., m): y is a column
            g = grad.reshape(grad.shape + (1,))
            gy = (_mT(x) @ g).reshape(grad.shape[:-1] + (y.shape[0],)) if need_y else None
            return g @ y[None, :] if need_x else None, gy
        return grad @ _mT(y) if need_x else None, _mT(x) @ grad if need_y else None


class Linear(Function):
    """z = x W^T + b  (a fully connected layer; W is (out, in), x is (..., in));
    dz/dx = g W,  dz/dW = g^T x,  dz/db = g summed over the batch axes.

    One node instead of three (transpose, matmul, add), and the weight's gradient comes
    out in the weight's own memory layout, so the update ``W -= lr * grad`` runs at full
    speed. ``b`` may be None.
    """

    @staticmethod
    def forward(ctx, x, w, b=None):
        try:  # a number or a 0-d x has no feature axis, a 1-D w no second axis
            fits = x.shape[-1] == w.shape[1] and w.ndim == 2
        except (AttributeError, IndexError):
            fits = False
        if not fits:
            raise ValueError(
                f"linear: input of shape {np.shape(x)} does not fit a weight of shape {w.shape} "
                f"(the input's last axis must be in_features={w.shape[-1]})"
            )
        ctx.save_for_backward(x, w)
        z = kernels.matmul(x, w.T)
        if b is None:
            return z
        if b.dtype is z.dtype and b.shape == w.shape[:1]:  # the layer's own bias
            z += b  # into the product's own memory: no second output-sized array
            return z
        return z + b

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = kernels.matmul(grad, w) if needs[0] else None
        if grad.ndim != 2:  # every batch axis as one
            grad, x = grad.reshape((-1, grad.shape[-1])), x.reshape((-1, x.shape[-1]))
        gw = kernels.matmul(grad.T, x) if needs[1] else None
        if len(needs) == 2:
            return gx, gw
        return gx, gw, kernels.sum_along(grad, 0) if needs[2] else None

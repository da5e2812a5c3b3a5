"""Matrix multiplication with NumPy's rules: 1-D, 2-D and batched N-D."""

from __future__ import annotations

import numpy as np

from ..autograd import Function


def _mT(x):
    """Swap the last two axes (a batched transpose); works on arrays and Values."""
    return x.swapaxes(-1, -2)


class MatMul(Function):
    """z = x @ y;  dz/dx = g @ y^T,  dz/dy = x^T @ g  (over the last two axes).

    A 1-D ``x`` acts as a row (1, k) and a 1-D ``y`` as a column (k, 1), as in NumPy; the
    gradient formulas add that axis back, and the engine sums broadcast batch axes.
    """

    @staticmethod
    def forward(ctx, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(
                f"matmul: 0-d operands are not allowed (shapes {x.shape} and {y.shape}); "
                f"use * for scaling"
            )
        k_x = x.shape[-1]
        k_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
        if k_x != k_y:
            raise ValueError(
                f"matmul: shapes {x.shape} and {y.shape} are not aligned ({k_x} != {k_y})"
            )
        try:
            z = np.matmul(x, y)
        except ValueError:
            raise ValueError(
                f"matmul: the batch axes of shapes {x.shape} and {y.shape} do not broadcast"
            ) from None
        ctx.save_for_backward(x, y)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if x.ndim == 1 and y.ndim == 1:
            return grad * y, grad * x
        if x.ndim == 1:  # (k,) @ (..., k, n) -> (..., n): x is a row
            g = grad.reshape(grad.shape[:-1] + (1, grad.shape[-1]))
            gx = (g @ _mT(y)).reshape(grad.shape[:-1] + (x.shape[0],))
            return gx, x.reshape((-1, 1)) @ g
        if y.ndim == 1:  # (..., m, k) @ (k,) -> (..., m): y is a column
            g = grad.reshape(grad.shape + (1,))
            gy = (_mT(x) @ g).reshape(grad.shape[:-1] + (y.shape[0],))
            return g @ y.reshape((1, -1)), gy
        return grad @ _mT(y), _mT(x) @ grad

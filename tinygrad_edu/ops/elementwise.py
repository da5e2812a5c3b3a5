"""Elementwise ops: arithmetic, transcendental functions, and selection.

Every backward is written with operators and NumPy functions that both ndarrays and
Values understand, so the same formula runs fast on arrays and records a graph under
``create_graph=True``. Broadcasting is undone by the engine, not here.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function

# ----------------------------------------------------------------------------------------
# Arithmetic
# ----------------------------------------------------------------------------------------


class Add(Function):
    """z = x + y;  dz/dx = 1,  dz/dy = 1."""

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """z = x - y;  dz/dx = 1,  dz/dy = -1."""

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Function):
    """z = x * y;  dz/dx = y,  dz/dy = x."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * y, grad * x


class Div(Function):
    """z = x / y;  dz/dx = 1 / y,  dz/dy = -x / y**2 = -z / y."""

    @staticmethod
    def forward(ctx, x, y):
        z = x / y
        ctx.save_for_backward(y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        y, z = ctx.saved_tensors
        gx = grad / y
        return gx, -gx * z


class Neg(Function):
    """z = -x;  dz/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """z = x ** y;  dz/dx = y * x**(y - 1),  dz/dy = z * log(x)  (needs x > 0).

    With a constant exponent only the first derivative is computed. ``0 ** y`` has
    ``dz/dy = 0`` for ``y > 0`` (the limit); a negative base with an exponent that
    requires grad is an error, since ``log(x)`` is not real there.
    """

    @staticmethod
    def forward(ctx, x, y):
        z = x**y
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y, z = ctx.saved_tensors
        gx = None
        # x**c with a constant c = 0 is constant: skip the formula, whose x**-1 would
        # divide by zero at x = 0 (reached by second derivatives of x**1)
        constant_zero = not ctx.needs_input_grad[1] and not np.any(np.asarray(y))
        if ctx.needs_input_grad[0] and not constant_zero:
            gx = grad * y * x ** (y - 1)
        gy = None
        if ctx.needs_input_grad[1]:
            base = np.asarray(x)
            if (base < 0).any():
                raise ValueError(
                    f"pow backward: the gradient with respect to the exponent needs a "
                    f"base >= 0 (it is z * log(x)); got base values {base[base < 0][:5]}. "
                    f"Use a number or a Value with requires_grad=False as the exponent"
                )
            positive = base > 0
            safe_x = np.where(positive, x, 1.0)
            gy = np.where(positive, grad * z * np.log(safe_x), 0.0)
        return gx, gy


class Abs(Function):
    """z = |x|;  dz/dx = sign(x)  (0 at x = 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Cast(Function):
    """z = x in another float dtype; the engine casts the gradient back."""

    @staticmethod
    def forward(ctx, x, *, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


# ----------------------------------------------------------------------------------------
# Transcendental functions
# ----------------------------------------------------------------------------------------


class Exp(Function):
    """z = e**x;  dz/dx = z."""

    @staticmethod
    def forward(ctx, x):
        z = np.exp(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * z


class Log(Function):
    """z = ln(x);  dz/dx = 1 / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """z = sqrt(x);  dz/dx = 1 / (2 z)."""

    @staticmethod
    def forward(ctx, x):
        z = np.sqrt(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad / (2 * z)


class Sin(Function):
    """z = sin(x);  dz/dx = cos(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)


class Cos(Function):
    """z = cos(x);  dz/dx = -sin(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * np.sin(x)


# ----------------------------------------------------------------------------------------
# Selection: maximum, minimum, clip, where
# ----------------------------------------------------------------------------------------


class Maximum(Function):
    """z = max(x, y) elementwise;  dz/dx = [x > y],  dz/dy = [y > x].

    Where x == y the gradient is shared equally, 1/2 each, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        share = (x > y) + 0.5 * (x == y)
        return grad * share, grad * (1 - share)


class Minimum(Function):
    """z = min(x, y) elementwise;  dz/dx = [x < y],  dz/dy = [y < x]; ties share 1/2."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.minimum(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        share = (x < y) + 0.5 * (x == y)
        return grad * share, grad * (1 - share)


class Clip(Function):
    """z = min(max(x, lo), hi);  dz/dx = 1 where lo <= x <= hi, else 0 (as PyTorch's clamp).

    ``lo`` and ``hi`` are constants; either may be ``None``.
    """

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        if np.broadcast_shapes(np.shape(x), np.shape(lo), np.shape(hi)) != np.shape(x):
            raise ValueError(f"clip: bounds of shapes {np.shape(lo)} and {np.shape(hi)} "
                             f"must broadcast to the input's shape {np.shape(x)}, not enlarge it")
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        ctx.inside = inside
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.inside


class Where(Function):
    """z = a where cond else b;  dz/da = [cond],  dz/db = [not cond]. ``cond`` is constant."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        cond = ctx.cond
        return None, np.where(cond, grad, 0.0), np.where(cond, 0.0, grad)

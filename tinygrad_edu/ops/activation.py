"""Activation ops: one ``Function`` per activation, forward and derivative side by side,
from tanh, sigmoid and ReLU to GELU, and softmax and log-softmax along an axis.

Every backward is written with operators, Value-supported NumPy functions and other ops'
``apply``, so it also runs on Values under ``create_graph=True`` and gives second
derivatives. Every forward and backward is finite for finite inputs of any size: no
formula evaluates ``e**x`` where ``x`` can be large and positive, not even in the branch
of a ``where`` that is thrown away.

At a kink the derivative is PyTorch's choice; each docstring states it.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from . import kernels
from .axes import normalize_axes

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)  # also the derivative's factor: erf'(x/√2)/√2
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_GELU_CUBIC = 0.044715

# ----------------------------------------------------------------------------------------
# The classic three: tanh, sigmoid, ReLU
# ----------------------------------------------------------------------------------------


class Tanh(Function):
    """z = tanh(x);  dz/dx = 1 - z**2."""

    @staticmethod
    def forward(ctx, x):
        z = np.tanh(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * (1 - z * z)


class Sigmoid(Function):
    """z = 1 / (1 + e**-x);  dz/dx = z (1 - z).

    Computed from ``e**-|x|``, which never overflows: for x >= 0 it is 1 / (1 + e**-x),
    for x < 0 the equal e**x / (1 + e**x) (``kernels.sigmoid``).
    """

    @staticmethod
    def forward(ctx, x):
        z = kernels.sigmoid(x)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * (z * (1 - z))


class ReLU(Function):
    """z = max(x, 0);  dz/dx = 1 where x > 0, else 0 (so ReLU'(0) = 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return kernels.relu(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return kernels.relu_grad(grad, x)


# ----------------------------------------------------------------------------------------
# Erf: the primitive under the exact GELU
# ----------------------------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[np.float64])

# NOTE: past |x| = 40 the Gaussian e**(-x²) is 0 even in float64, and tanh(x) is ±1: the
# formulas below clip x there first, which changes no result but keeps x² and x³ of a
# huge x from overflowing.
_SATURATION = 40.0


def _saturated(x):
    """x clipped to [-40, 40], where e**(-x²) and tanh have reached their limits."""
    return np.clip(x, -_SATURATION, _SATURATION)


def _gaussian(x):
    """e**(-x²), for any finite x."""
    c = _saturated(x)
    return np.exp(-c * c)


class Erf(Function):
    """z = erf(x) = 2/√π ∫_0^x e**(-t²) dt;  dz/dx = 2/√π e**(-x²).

    NumPy has no erf, so ``math.erf`` runs per element (in float64, cast back to the
    input's dtype). Its derivative is made of ops, so erf is differentiable any number of
    times.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.asarray(_erf(x), dtype=np.result_type(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (_TWO_OVER_SQRT_PI * _gaussian(x))


# ----------------------------------------------------------------------------------------
# The ReLU family with a slope on the negative side
# ----------------------------------------------------------------------------------------


class PReLU(Function):
    """z = x for x > 0, else a x;  dz/dx = 1 for x > 0, else a;  dz/da = 0 for x > 0, else x.

    ``a`` is an input (a learned Value, broadcast against x) or a constant. At the kink
    x = 0 the slope is a, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, a):
        ctx.save_for_backward(x, a)
        return np.where(x > 0, x, a * x)

    @staticmethod
    def backward(ctx, grad):
        x, a = ctx.saved_tensors
        positive = x > 0
        gx = np.where(positive, grad, grad * a) if ctx.needs_input_grad[0] else None
        ga = np.where(positive, 0.0, grad * x) if ctx.needs_input_grad[1] else None
        return gx, ga


# NOTE: LeakyReLU and RReLU compute exactly what PReLU does, with a constant slope; they
# are subclasses only so that a graph names them.
class LeakyReLU(PReLU):
    """z = x for x > 0, else a x with a constant slope a;  dz/dx = 1 for x > 0, else a
    (a at x = 0, as in PyTorch)."""


class RReLU(PReLU):
    """z = x for x > 0, else a x with a constant per-element random slope a (or its mean
    in eval);  dz/dx = 1 for x > 0, else a (a at x = 0, as in PyTorch)."""


# ----------------------------------------------------------------------------------------
# Exponential linear units
# ----------------------------------------------------------------------------------------


class ELU(Function):
    """z = s x for x > 0, else s α (e**(c x) - 1);
    dz/dx = s for x > 0, else s α c e**(c x) = c (z + s α).

    ``alpha`` = α, ``scale`` = s, ``input_scale`` = c > 0, as in PyTorch's kernel. ELU has
    s = c = 1; CELU has c = 1/α; SELU has α = SELU_ALPHA, s = SELU_SCALE, c = 1. At x = 0
    the derivative is s α c (PyTorch's choice): α for ELU, 1 for CELU, s α ≈ 1.7581 for
    SELU.
    """

    @staticmethod
    def forward(ctx, x, *, alpha=1.0, scale=1.0, input_scale=1.0):
        # NOTE: min(x, 0), not x (with c > 0): e**(c x) of a large x would overflow in the
        # branch that where() throws away.
        negative = alpha * np.expm1(np.minimum(x, 0) * input_scale)
        z = scale * np.where(x > 0, x, negative)
        ctx.negative_coef = scale * alpha
        ctx.scale, ctx.input_scale = scale, input_scale
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, z = ctx.saved_tensors
        slope = np.where(x > 0, ctx.scale, ctx.input_scale * (z + ctx.negative_coef))
        return grad * slope


# NOTE: subclasses only so that a graph names them; the options select the variant.
class CELU(ELU):
    """ELU with input_scale = 1/α: z = max(x, 0) + min(0, α (e**(x/α) - 1));
    dz/dx = 1 for x > 0, else e**(x/α) (1 at x = 0: CELU is C¹)."""


class SELU(ELU):
    """ELU with α = SELU_ALPHA and scale = SELU_SCALE: z = s x for x > 0, else
    s α (e**x - 1);  dz/dx = s for x > 0, else s α e**x (s α at x = 0, as in PyTorch)."""


# ----------------------------------------------------------------------------------------
# Smooth ReLUs: GELU, SiLU, Mish, Softplus
# ----------------------------------------------------------------------------------------


def _gelu_s(x, approximate):
    """s with gelu(x) = x (1 + s) / 2: erf(x/√2), or tanh(√(2/π)(x + 0.044715 x³))."""
    if approximate == "tanh":
        c = _saturated(x)
        return np.tanh(_SQRT_2_OVER_PI * (c + _GELU_CUBIC * c * c * c))
    return Erf.apply(x * _SQRT_HALF)


class GELU(Function):
    """z = x Φ(x) = x (1 + s) / 2 with s = erf(x/√2);  dz/dx = (1 + s + x s') / 2,
    s' = √(2/π) e**(-x²/2).

    ``approximate="tanh"``: s = tanh(u), u = √(2/π)(x + 0.044715 x³),
    s' = (1 - s²) √(2/π)(1 + 3 · 0.044715 x²).
    """

    @staticmethod
    def forward(ctx, x, *, approximate="none"):
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        return x * (1 + _gelu_s(x, approximate)) / 2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = _gelu_s(x, ctx.approximate)
        if ctx.approximate == "tanh":
            c = _saturated(x)
            ds = (1 - s * s) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * c * c)
        else:
            ds = _SQRT_2_OVER_PI * _gaussian(x * _SQRT_HALF)
        return grad * ((1 + s + x * ds) / 2)


class SiLU(Function):
    """z = x σ(x) (also called swish);  dz/dx = σ(x) (1 + x (1 - σ(x)))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * Sigmoid.apply(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = Sigmoid.apply(x)
        return grad * (s * (1 + x * (1 - s)))


class Softplus(Function):
    """z = log(1 + e**(βx)) / β, and z = x where βx > threshold (PyTorch's linear region);
    dz/dx = σ(βx) = e**(β(x - z)), which is exactly 1 in the linear region (z = x there).

    Computed as (max(βx, 0) + log(1 + e**-|βx|)) / β; since β(x - z) <= 0 the derivative
    cannot overflow either.
    """

    @staticmethod
    def forward(ctx, x, *, beta=1.0, threshold=20.0):
        bx = beta * x
        soft = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
        z = np.where(bx > threshold, x, soft)
        ctx.beta = beta
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, z = ctx.saved_tensors
        return grad * np.exp(ctx.beta * (x - z))


class Mish(Function):
    """z = x tanh(softplus(x));  dz/dx = t + x (1 - t²) σ(x) with t = tanh(softplus(x))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.tanh(Softplus.apply(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = np.tanh(Softplus.apply(x))
        return grad * (t + x * (1 - t * t) * Sigmoid.apply(x))


# ----------------------------------------------------------------------------------------
# Other smooth activations
# ----------------------------------------------------------------------------------------


class LogSigmoid(Function):
    """z = log σ(x) = -softplus(-x) = min(x, 0) - log(1 + e**-|x|);  dz/dx = σ(-x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Sigmoid.apply(-x)


class Softsign(Function):
    """z = x / (1 + |x|);  dz/dx = 1 / (1 + |x|)².

    The second derivative, -2 sign(x) / (1 + |x|)³, jumps at 0; it is 0 there (sign(0) = 0).
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.abs(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        d = 1 + np.abs(x)
        return grad / d / d  # not d * d, which overflows for |x| near the largest float


class Tanhshrink(Function):
    """z = x - tanh(x);  dz/dx = tanh(x)²."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x - np.tanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = np.tanh(x)
        return grad * (t * t)


class Hardswish(Function):
    """z = x min(max(x + 3, 0), 6) / 6;
    dz/dx = 0 for x < -3, x/3 + 1/2 for -3 <= x <= 3, 1 for x > 3.

    At the kinks PyTorch's values: -1/2 at x = -3 (the right derivative), 3/2 at x = 3 (the
    left one).
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.where(x < -3, 0.0, np.where(x <= 3, x / 3 + 0.5, 1.0))


# ----------------------------------------------------------------------------------------
# Piecewise-linear activations: the slope is constant on each piece
# ----------------------------------------------------------------------------------------


class _PiecewiseLinear(Function):
    """Shared by the piecewise-linear activations: ``pieces(x, **options)`` returns the
    output and its slope dz/dx, side by side; backward multiplies by the slope, a constant,
    so the second derivative is 0."""

    @staticmethod
    def forward(ctx, x, **options):
        z, ctx.slope = type(ctx).pieces(x, **options)
        return z

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.slope


class Hardtanh(_PiecewiseLinear):
    """z = min(max(x, lo), hi);  dz/dx = 1 for lo < x < hi, else 0 (0 at both kinks, as
    PyTorch; unlike ``clip``, whose gradient passes at the bounds)."""

    @staticmethod
    def pieces(x, *, min_val, max_val):
        return np.clip(x, min_val, max_val), (min_val < x) & (x < max_val)


class ReLU6(Hardtanh):
    """Hardtanh with lo = 0, hi = 6: z = min(max(x, 0), 6);  dz/dx = 1 for 0 < x < 6, else 0
    (0 at both kinks, as PyTorch)."""


class Hardsigmoid(_PiecewiseLinear):
    """z = min(max(x + 3, 0), 6) / 6;  dz/dx = 1/6 for -3 < x < 3, else 0 (0 at the kinks,
    as PyTorch)."""

    @staticmethod
    def pieces(x):
        return np.clip(x + 3, 0, 6) / 6, ((-3 < x) & (x < 3)) / 6


class Softshrink(_PiecewiseLinear):
    """z = x - λ for x > λ, x + λ for x < -λ, else 0 (that is, x - clip(x, -λ, λ));
    dz/dx = 1 for |x| > λ, else 0 (0 at x = ±λ, as PyTorch)."""

    @staticmethod
    def pieces(x, *, lambd):
        return x - np.clip(x, -lambd, lambd), np.abs(x) > lambd


class Hardshrink(_PiecewiseLinear):
    """z = x for |x| > λ, else 0;  dz/dx = 1 for |x| > λ, else 0 (z = 0 and dz/dx = 0 at
    x = ±λ, as PyTorch)."""

    @staticmethod
    def pieces(x, *, lambd):
        outside = np.abs(x) > lambd
        return np.where(outside, x, 0), outside


class Threshold(_PiecewiseLinear):
    """z = x for x > threshold, else value;  dz/dx = 1 for x > threshold, else 0 (z = value
    and dz/dx = 0 at x = threshold, as PyTorch)."""

    @staticmethod
    def pieces(x, *, threshold, value):
        above = x > threshold
        return np.where(above, x, value), above


# ----------------------------------------------------------------------------------------
# Softmax and log-softmax along an axis
# ----------------------------------------------------------------------------------------


def _shifted(ctx, x, axis, op):
    """x minus its maximum along ``axis`` (stored on ctx as ``axes``): at most 0, so e**
    of it cannot overflow, and softmax and log-softmax do not change."""
    ctx.axes = normalize_axes(axis, x.ndim, op)
    return x - x.max(axis=ctx.axes, keepdims=True)


def _empty(ctx, x, axis, op):
    """The (log-)softmax of an empty x: an empty copy, saved for a backward that is empty
    too."""
    ctx.axes = normalize_axes(axis, x.ndim, op)
    z = x.copy()
    ctx.save_for_backward(z)
    return z


class Softmax(Function):
    """z_i = e**x_i / Σ_j e**x_j along axis;  backward: g ↦ z (g - Σ_j g_j z_j).

    Computed from x - max(x), so logits of any size never overflow. The softmax of an
    empty x is empty, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, *, axis=-1):
        if not x.size:  # an empty axis has no maximum
            return _empty(ctx, x, axis, "softmax")
        e = np.exp(_shifted(ctx, x, axis, "softmax"))
        z = e / e.sum(axis=ctx.axes, keepdims=True)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return z * (grad - (grad * z).sum(axis=ctx.axes, keepdims=True))


class LogSoftmax(Function):
    """z_i = x_i - log Σ_j e**x_j along axis;  backward: g ↦ g - e**z Σ_j g_j.

    Computed from x - max(x), so logits of any size never overflow. The log-softmax of
    an empty x is empty, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, *, axis=-1):
        if not x.size:  # an empty axis has no maximum, nor a log of its sum
            return _empty(ctx, x, axis, "log_softmax")
        shifted = _shifted(ctx, x, axis, "log_softmax")
        z = shifted - np.log(np.exp(shifted).sum(axis=ctx.axes, keepdims=True))
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad - np.exp(z) * grad.sum(axis=ctx.axes, keepdims=True)

"""Activation functions with PyTorch's names and arguments (``axis=``, or PyTorch's ``dim=``).

Each function checks its arguments and calls one op from ``tinygrad_edu.ops.activation``,
so a graph shows one node named after the activation; ``glu``, ``softmin`` and ``maxout``
are compositions of ops. ``docs/activations.md`` has the table of formulas, derivatives,
kink conventions, ranges and initializers.
"""

from __future__ import annotations

import numpy as np

from .._checks import real_number
from ..ops.activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    SELU_ALPHA,
    SELU_SCALE,
    Erf,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    RReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from ..ops.axes import normalize_axes, torch_axis_args
from ..rng import generator
from ..value import Value

# ----------------------------------------------------------------------------------------
# Sigmoid, tanh and the ReLU family
# ----------------------------------------------------------------------------------------


def sigmoid(x: Value) -> Value:
    """σ(x) = 1 / (1 + e**-x), in (0, 1);  σ' = σ (1 - σ)."""
    return Sigmoid.apply(x)


def tanh(x: Value) -> Value:
    """tanh(x), in (-1, 1);  tanh' = 1 - tanh²."""
    return Tanh.apply(x)


def relu(x: Value) -> Value:
    """max(x, 0);  derivative 1 for x > 0, else 0 (0 at x = 0, as PyTorch)."""
    return ReLU.apply(x)


def leaky_relu(x: Value, negative_slope: float = 0.01) -> Value:
    """x for x > 0, else negative_slope * x;  derivative negative_slope at x = 0."""
    return LeakyReLU.apply(x, real_number("leaky_relu", "negative_slope", negative_slope))


def prelu(x: Value, weight: Value) -> Value:
    """x for x > 0, else a * x with learned slopes a = ``weight``.

    ``weight`` holds one shared slope (shape ``(1,)`` or ``()``) or one slope per channel,
    shape ``(C,)``, where the channels are axis 1 as in PyTorch (so an input with fewer
    than 2 axes has one channel). At x = 0: d/dx = a, d/da = 0.
    """
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.ndim > 1 or weight.size not in (1, channels):
        raise ValueError(
            f"prelu: weight must have shape (1,), () or ({channels},) (one slope per "
            f"channel, axis 1 of input shape {tuple(x.shape)}); got shape "
            f"{tuple(weight.shape)}"
        )
    shape = () if weight.size == 1 else (channels,) + (1,) * (x.ndim - 2)
    if weight.shape != shape:
        weight = weight.reshape(shape)
    return PReLU.apply(x, weight)


def rrelu(
    x: Value,
    lower: float = 1 / 8,
    upper: float = 1 / 3,
    training: bool = False,
    seed: int | np.random.Generator | None = None,
) -> Value:
    """Randomized leaky ReLU: x for x > 0, else a * x.

    In training each element gets its own slope a ~ U(lower, upper), drawn from
    ``tinygrad_edu.rng.generator(seed)`` (None: the default generator, see
    ``manual_seed``); in eval a = (lower + upper) / 2. At x = 0 the derivative is a.
    """
    real_number("rrelu", "lower", lower)
    if not lower <= real_number("rrelu", "upper", upper):
        raise ValueError(f"rrelu: lower must be <= upper; got lower={lower}, upper={upper}")
    if not training:
        return RReLU.apply(x, (lower + upper) / 2)
    slopes = generator(seed).uniform(lower, upper, size=x.shape).astype(x.dtype)
    return RReLU.apply(x, slopes)


# ----------------------------------------------------------------------------------------
# Exponential linear units
# ----------------------------------------------------------------------------------------


def elu(x: Value, alpha: float = 1.0) -> Value:
    """x for x > 0, else alpha (e**x - 1);  derivative alpha at x = 0 (as PyTorch)."""
    return ELU.apply(x, alpha=real_number("elu", "alpha", alpha))


def celu(x: Value, alpha: float = 1.0) -> Value:
    """max(x, 0) + min(0, alpha (e**(x/alpha) - 1)), alpha > 0;  derivative 1 at x = 0."""
    if not real_number("celu", "alpha", alpha) > 0:
        raise ValueError(f"celu: alpha must be > 0; got {alpha}")
    return CELU.apply(x, alpha=alpha, input_scale=1 / alpha)


def selu(x: Value) -> Value:
    """scale (x for x > 0, else alpha (e**x - 1)) with PyTorch's constants
    alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946;
    derivative scale * alpha at x = 0 (as PyTorch)."""
    return SELU.apply(x, alpha=SELU_ALPHA, scale=SELU_SCALE)


# ----------------------------------------------------------------------------------------
# Smooth ReLUs and other smooth activations
# ----------------------------------------------------------------------------------------


def gelu(x: Value, approximate: str = "none") -> Value:
    """x Φ(x) = x (1 + erf(x/√2)) / 2; with ``approximate="tanh"``,
    x (1 + tanh(√(2/π)(x + 0.044715 x³))) / 2."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh'; got {approximate!r}")
    return GELU.apply(x, approximate=approximate)


def silu(x: Value) -> Value:
    """x σ(x) (swish)."""
    return SiLU.apply(x)


def mish(x: Value) -> Value:
    """x tanh(softplus(x))."""
    return Mish.apply(x)


def softplus(x: Value, beta: float = 1.0, threshold: float = 20.0) -> Value:
    """log(1 + e**(beta x)) / beta, and x itself where beta x > threshold (as PyTorch)."""
    real_number("softplus", "threshold", threshold)
    if real_number("softplus", "beta", beta) == 0:
        raise ValueError("softplus: beta must not be 0 (it divides by beta)")
    return Softplus.apply(x, beta=beta, threshold=threshold)


def softsign(x: Value) -> Value:
    """x / (1 + |x|), in (-1, 1)."""
    return Softsign.apply(x)


def logsigmoid(x: Value) -> Value:
    """log σ(x) = -softplus(-x), in (-inf, 0)."""
    return LogSigmoid.apply(x)


def tanhshrink(x: Value) -> Value:
    """x - tanh(x)."""
    return Tanhshrink.apply(x)


def erf(x: Value) -> Value:
    """The error function 2/√π ∫_0^x e**(-t²) dt, in (-1, 1)."""
    return Erf.apply(x)


# ----------------------------------------------------------------------------------------
# Hard (piecewise-linear) activations and shrinkage
# ----------------------------------------------------------------------------------------


def hardtanh(x: Value, min_val: float = -1.0, max_val: float = 1.0) -> Value:
    """x clipped to [min_val, max_val];  derivative 0 at both kinks (as PyTorch)."""
    real_number("hardtanh", "min_val", min_val)
    if min_val > real_number("hardtanh", "max_val", max_val):
        raise ValueError(f"hardtanh: min_val must be <= max_val; got min_val={min_val}, "
                         f"max_val={max_val}")
    return Hardtanh.apply(x, min_val=min_val, max_val=max_val)


def relu6(x: Value) -> Value:
    """min(max(x, 0), 6);  derivative 0 at 0 and 6 (as PyTorch)."""
    return ReLU6.apply(x, min_val=0.0, max_val=6.0)


def hardsigmoid(x: Value) -> Value:
    """relu6(x + 3) / 6, in [0, 1];  derivative 0 at x = ±3 (as PyTorch)."""
    return Hardsigmoid.apply(x)


def hardswish(x: Value) -> Value:
    """x relu6(x + 3) / 6;  derivative -1/2 at x = -3 and 3/2 at x = 3 (as PyTorch)."""
    return Hardswish.apply(x)


def _check_lambd(lambd: float, name: str) -> None:
    if not real_number(name, "lambd", lambd) >= 0:
        raise ValueError(f"{name}: lambd must be >= 0; got {lambd}")


def softshrink(x: Value, lambd: float = 0.5) -> Value:
    """x - lambd for x > lambd, x + lambd for x < -lambd, else 0;  derivative 0 at ±lambd."""
    _check_lambd(lambd, "softshrink")
    return Softshrink.apply(x, lambd=lambd)


def hardshrink(x: Value, lambd: float = 0.5) -> Value:
    """x for |x| > lambd, else 0;  value and derivative 0 at ±lambd (as PyTorch)."""
    _check_lambd(lambd, "hardshrink")
    return Hardshrink.apply(x, lambd=lambd)


def threshold(x: Value, threshold: float, value: float) -> Value:
    """x for x > threshold, else value;  derivative 0 at x = threshold (as PyTorch)."""
    real_number("threshold", "threshold", threshold)
    return Threshold.apply(x, threshold=threshold, value=real_number("threshold", "value", value))


# ----------------------------------------------------------------------------------------
# Along an axis: GLU, softmax, log-softmax, softmin
# ----------------------------------------------------------------------------------------


def glu(x: Value, axis: int = -1, *, dim: int | None = None) -> Value:
    """Gated linear unit: with a, b the first and second halves of x along ``axis``
    (or PyTorch's ``dim``), a σ(b). The axis must have even size."""
    axis, _ = torch_axis_args("glu", axis, -1, dim)
    (ax,) = normalize_axes(axis, x.ndim, "glu")
    n = x.shape[ax]
    if n % 2:
        raise ValueError(f"glu: axis {axis} of input shape {tuple(x.shape)} has odd size "
                         f"{n}; it must split into two halves")
    before = (slice(None),) * ax
    a = x[before + (slice(None, n // 2),)]
    b = x[before + (slice(n // 2, None),)]
    return a * Sigmoid.apply(b)


# NOTE: ``dim`` is PyTorch's name for ``axis``; passing both is an error.


def softmax(x: Value, axis: int = -1, *, dim: int | None = None) -> Value:
    """e**x_i / Σ_j e**x_j along ``axis``: positive, summing to 1; stable for any logits.
    Over an empty axis the result is empty."""
    axis, _ = torch_axis_args("softmax", axis, -1, dim)
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Value, axis: int = -1, *, dim: int | None = None) -> Value:
    """x_i - log Σ_j e**x_j along ``axis``: the log of softmax, computed stably."""
    axis, _ = torch_axis_args("log_softmax", axis, -1, dim)
    return LogSoftmax.apply(x, axis=axis)


def softmin(x: Value, axis: int = -1, *, dim: int | None = None) -> Value:
    """softmax(-x) along ``axis``: most weight on the smallest entries."""
    axis, _ = torch_axis_args("softmin", axis, -1, dim)
    return Softmax.apply(-x, axis=axis)


# ----------------------------------------------------------------------------------------
# Maxout
# ----------------------------------------------------------------------------------------


def maxout(x: Value, weight: Value, bias: Value | None = None) -> Value:
    """Maxout (Goodfellow et al., 2013): z_j = max_k (x @ weight[k].T + bias[k])_j.

    Layout, as ``k`` stacked ``Linear`` layers: ``weight`` has shape
    ``(pieces, out_features, in_features)`` and ``bias`` ``(pieces, out_features)``;
    ``x`` has shape ``(..., in_features)`` and the result ``(..., out_features)``. Where
    pieces tie for the maximum they share the gradient equally.
    """
    if weight.ndim != 3:
        raise ValueError(f"maxout: weight must have shape (pieces, out_features, "
                         f"in_features); got shape {tuple(weight.shape)}")
    pieces, out_features, in_features = weight.shape
    if x.ndim == 0 or x.shape[-1] != in_features:
        raise ValueError(f"maxout: input shape {tuple(x.shape)} must end in in_features = "
                         f"{in_features} (weight shape {tuple(weight.shape)})")
    if bias is not None and tuple(bias.shape) != (pieces, out_features):
        raise ValueError(f"maxout: bias must have shape ({pieces}, {out_features}) for weight "
                         f"shape {tuple(weight.shape)}; got shape {tuple(bias.shape)}")
    # All pieces in one matmul: row k * out_features + j of the flattened weight is
    # weight[k, j], so the result's last axis splits back into (pieces, out_features).
    y = x @ weight.reshape((pieces * out_features, in_features)).T
    if bias is not None:
        y = y + bias.reshape((pieces * out_features,))
    return y.reshape(tuple(y.shape[:-1]) + (pieces, out_features)).max(axis=-2)

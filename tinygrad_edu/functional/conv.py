"""Convolution and pooling as functions, with PyTorch's names and arguments, and the
random regularizers of convolutional networks (channel dropout, fractional max pooling,
stochastic depth).

Each function checks its arguments (an int or an (H, W) pair for every size option),
says clearly what does not fit, and calls an op from ``tinygrad_edu.ops.conv``, where
forward and backward are written out. Inputs are (N, C, H, W); a convolution's weight
is (out_channels, in_channels / groups, kH, kW), as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import dropout_p, is_int, is_real, pair, real_number, shape_of
from ..ops.conv import AdaptiveAvgPool2d, AvgPool2d, Conv2d, MaxPool2d
from ..rng import generator
from ..value import Value

Size = int | tuple[int, int]


def _image(op: str, x: Any) -> None:
    if not isinstance(x, (Value, np.ndarray)):
        raise TypeError(f"{op}: input must be a Value or an array of shape (N, C, H, W); "
                        f"got {type(x).__name__}")
    if len(shape_of(x)) != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W); got shape {shape_of(x)}")


def _fits(op: str, x: Any, kernel: tuple[int, int], padding: tuple[int, int],
          dilation: tuple[int, int]) -> None:
    """The (dilated) kernel must fit inside the padded input."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = tuple(n + 2 * p for n, p in zip(shape_of(x)[2:], padding))
    if span[0] > padded[0] or span[1] > padded[1]:
        dilated = "" if dilation == (1, 1) else f" (dilated to {span[0]}x{span[1]})"
        raise ValueError(f"{op}: the kernel {kernel[0]}x{kernel[1]}{dilated} is larger than "
                         f"the padded input {padded[0]}x{padded[1]} (input of shape "
                         f"{shape_of(x)}, padding={padding})")


# ----------------------------------------------------------------------------------------
# Convolution
# ----------------------------------------------------------------------------------------


def _check_conv(x: Any, weight: Any, bias: Any, groups: Any) -> int:
    """The shapes of a convolution's operands fit together; returns ``groups``."""
    op = "conv2d"
    _image(op, x)
    if len(shape_of(weight)) != 4:
        raise ValueError(f"{op}: weight must be 4-D (out_channels, in_channels / groups, kH, "
                         f"kW); got shape {shape_of(weight)}")
    if not is_int(groups) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int; got {groups!r}")
    channels, (out, per_group) = shape_of(x)[1], shape_of(weight)[:2]
    if channels % groups or out % groups:
        raise ValueError(f"{op}: groups={groups} must divide both the input's {channels} "
                         f"channels and the weight's {out} output channels")
    if per_group * groups != channels:
        raise ValueError(f"{op}: the input has {channels} channels, but a weight of shape "
                         f"{shape_of(weight)} with groups={groups} expects "
                         f"{per_group} * {groups} = {per_group * groups}")
    if bias is not None and shape_of(bias) != (out,):
        raise ValueError(f"{op}: bias must have shape ({out},), one per output channel; got "
                         f"shape {shape_of(bias)}")
    return int(groups)


def conv2d(x: Value, weight: Value, bias: Value | None = None, stride: Size = 1,
           padding: Size = 0, dilation: Size = 1, groups: int = 1) -> Value:
    """2-D cross-correlation, as PyTorch's ``conv2d``:

    y[n, o, i, j] = bias[o] + sum over c, a, b of
    weight[o, c, a, b] * x_padded[n, g(o) + c, i * stride + a * dilation, j * stride + b * dilation]

    where ``g(o)`` is the first input channel of output channel o's group. ``x`` is
    (N, C, H, W), ``weight`` (O, C / groups, kH, kW), ``bias`` (O,) or None; the output is
    (N, O, Ho, Wo) with Ho = (H + 2 padding - dilation (kH - 1) - 1) // stride + 1.
    ``padding`` adds zeros on both sides. Each size option is an int or an (H, W) pair.
    """
    groups = _check_conv(x, weight, bias, groups)
    stride = pair("conv2d", "stride", stride, 1)
    padding = pair("conv2d", "padding", padding, 0)
    dilation = pair("conv2d", "dilation", dilation, 1)
    _fits("conv2d", x, shape_of(weight)[2:], padding, dilation)
    args = (x, weight) if bias is None else (x, weight, bias)
    return Conv2d.apply(*args, stride=stride, padding=padding, dilation=dilation,
                        groups=groups)


# ----------------------------------------------------------------------------------------
# Pooling
# ----------------------------------------------------------------------------------------


def _pool_options(op: str, x: Any, kernel_size: Size, stride: Size | None,
                  padding: Size) -> dict[str, tuple[int, int]]:
    """Checked pooling options; ``stride`` defaults to ``kernel_size`` (as PyTorch)."""
    _image(op, x)
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else pair(op, "stride", stride, 1)
    padding = pair(op, "padding", padding, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding={padding} must be at most half of kernel_size="
                         f"{kernel}, so that every window holds part of the input")
    _fits(op, x, kernel, padding, (1, 1))
    return dict(kernel_size=kernel, stride=stride, padding=padding)


def max_pool2d(x: Value, kernel_size: Size, stride: Size | None = None,
               padding: Size = 0) -> Value:
    """The largest value in each window (padding counts as -inf), as PyTorch's
    ``max_pool2d``. The gradient goes to the first maximum of each window in row-major
    order. ``stride`` defaults to ``kernel_size``; every size is an int or an (H, W) pair.
    """
    return MaxPool2d.apply(x, **_pool_options("max_pool2d", x, kernel_size, stride, padding))


def avg_pool2d(x: Value, kernel_size: Size, stride: Size | None = None,
               padding: Size = 0) -> Value:
    """The mean of each window, padding counted as zeros (PyTorch's ``avg_pool2d`` with
    its default ``count_include_pad=True``). ``stride`` defaults to ``kernel_size``."""
    return AvgPool2d.apply(x, **_pool_options("avg_pool2d", x, kernel_size, stride, padding))


def adaptive_avg_pool2d(x: Value, output_size: int | tuple[int | None, int | None]) -> Value:
    """Average pooling to a fixed (Ho, Wo), as PyTorch's ``adaptive_avg_pool2d``: output
    pixel (i, j) is the mean over rows [floor(i H / Ho), ceil((i + 1) H / Ho)) and the
    same for columns. ``output_size`` is an int, or a pair where None keeps that size;
    ``output_size=1`` is global average pooling."""
    op = "adaptive_avg_pool2d"
    _image(op, x)
    hw = pair(op, "output_size", output_size, 1, none_ok=True)
    sizes = tuple(shape_of(x)[2 + i] if v is None else v for i, v in enumerate(hw))
    return AdaptiveAvgPool2d.apply(x, output_size=sizes)



# ----------------------------------------------------------------------------------------
# Channel dropout
# ----------------------------------------------------------------------------------------


def dropout2d(x: Value, p: float = 0.5, training: bool = True, seed: Any = None) -> Value:
    """Dropout of whole channels, as PyTorch's ``dropout2d``: in training each (n, c)
    feature map is zeroed with probability ``p`` and the kept ones are scaled by
    1 / (1 - p). Neighbouring pixels of a map are strongly correlated, so dropping single
    pixels barely regularizes a convolutional layer; dropping the map does. Identity when
    not ``training`` or when ``p == 0``; the mask comes from ``tinygrad_edu.rng``."""
    dropout_p("dropout2d", p)
    _image("dropout2d", x)
    if not training or p == 0.0:
        return x
    keep = generator(seed).random(shape_of(x)[:2] + (1, 1)) >= p
    return x * (keep / (1.0 - p)).astype(x.dtype)


# ----------------------------------------------------------------------------------------
# Random regularizers: fractional max pooling, stochastic depth
# ----------------------------------------------------------------------------------------


def _starts(samples: np.ndarray, size: int, out: int, pool: int) -> np.ndarray:
    """PyTorch's pseudo-random window starts along one axis, (N, C, out) from samples in
    [0, 1): with a = (size - pool) / (out - 1), start i = floor((i + u) a) - floor(u a),
    and the last window ends at the last row. Computed in the samples' dtype, as
    PyTorch computes in the input's."""
    u = samples[..., None]
    starts = np.full(samples.shape + (out,), size - pool, dtype=np.intp)
    if out > 1:
        alpha = samples.dtype.type(size - pool) / samples.dtype.type(out - 1)
        i = np.arange(out - 1, dtype=samples.dtype)
        starts[..., :-1] = np.floor((i + u) * alpha) - np.floor(u * alpha)
    return starts


def fractional_max_pool2d(x: Value, kernel_size: Size, output_size: Size | None = None,
                          output_ratio: float | tuple[float, float] | None = None,
                          seed: Any = None, samples: Any = None) -> Value:
    """Fractional max pooling (Graham, 2014), as PyTorch's ``fractional_max_pool2d``: max
    pooling over ``kernel_size`` windows placed at pseudo-random starts, so the output can
    shrink by any factor (``output_ratio=0.7``) or to any ``output_size``, each (n, c)
    map with its own windows.

    ``samples`` (N, C, 2) in [0, 1) fixes the windows (PyTorch's ``_random_samples``:
    [..., 0] for the columns, [..., 1] for the rows); otherwise they are drawn from
    ``tinygrad_edu.rng.generator(seed)``. The windows are picked out with indexing, then
    max pooled with stride ``kernel_size``, so the gradient (to the first maximum of
    each window, added up where windows overlap) and its derivatives come from those
    two ops."""
    op = "fractional_max_pool2d"
    _image(op, x)
    kernel = pair(op, "kernel_size", kernel_size, 1)
    n, c, h, w = shape_of(x)
    if (output_size is None) == (output_ratio is None):
        raise ValueError(f"{op}: give exactly one of output_size and output_ratio; got "
                         f"output_size={output_size!r}, output_ratio={output_ratio!r}")
    if output_size is None:
        ratio = output_ratio if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * 2
        if len(ratio) != 2 or not all(is_real(r) and 0 < r < 1 for r in ratio):
            raise ValueError(f"{op}: output_ratio must be a number in (0, 1) or a pair of "
                             f"them; got {output_ratio!r}")
        output_size = (int(h * ratio[0]), int(w * ratio[1]))
    out = pair(op, "output_size", output_size, 1)
    if out[0] + kernel[0] - 1 > h or out[1] + kernel[1] - 1 > w:
        raise ValueError(f"{op}: {out[0]}x{out[1]} windows of {kernel[0]}x{kernel[1]} do not "
                         f"fit in a {h}x{w} input (output + kernel - 1 must be <= input)")
    dtype = np.dtype(getattr(x, "dtype", np.float64))
    if samples is None:
        samples = generator(seed).random((n, c, 2)).astype(dtype)
    samples = np.asarray(samples, dtype=dtype)
    if samples.shape != (n, c, 2) or not np.all((samples >= 0) & (samples < 1)):
        raise ValueError(f"{op}: samples must be an (N, C, 2) = ({n}, {c}, 2) array of "
                         f"numbers in [0, 1); got shape {samples.shape}")
    rows = _starts(samples[..., 1], h, out[0], kernel[0])[..., None] + np.arange(kernel[0])
    cols = _starts(samples[..., 0], w, out[1], kernel[1])[..., None] + np.arange(kernel[1])
    index = (np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
             rows.reshape(n, c, -1, 1), cols.reshape(n, c, 1, -1))
    return max_pool2d(x[index], kernel)


def stochastic_depth(x: Value, p: float, mode: str = "row", training: bool = True,
                     seed: Any = None) -> Value:
    """Stochastic depth (Huang et al., 2016), as torchvision's ``stochastic_depth``: in
    training, zero a residual branch's output with probability ``p``, per example
    (``mode="row"``) or for the whole batch (``"batch"``), and scale the kept ones by
    1 / (1 - p). Used as ``x + stochastic_depth(branch(x), p)``, a dropped branch leaves
    the block the identity, so a deep network trains as a shallower one on average.
    Identity when not ``training`` or when ``p == 0``; ``p == 1`` drops every branch."""
    if not 0.0 <= real_number("stochastic_depth", "p", p) <= 1.0:
        raise ValueError(f"stochastic_depth: p is the probability of dropping the branch and "
                         f"must be in [0, 1]; got {p}")
    if mode not in ("row", "batch"):
        raise ValueError(f"stochastic_depth: mode must be 'row' or 'batch'; got {mode!r}")
    if not training or p == 0.0:
        return x
    shape = (np.shape(x)[0],) + (1,) * (np.ndim(x) - 1) if mode == "row" else (1,) * np.ndim(x)
    keep = generator(seed).random(shape) >= p
    scale = keep / (1.0 - p) if p < 1.0 else keep.astype(float)
    return x * scale.astype(x.dtype)

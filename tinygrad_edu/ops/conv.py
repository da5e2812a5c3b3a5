"""Convolution and pooling over (N, C, H, W) images, PyTorch's layouts and semantics.

A convolution is a matrix product in disguise: cut every window the kernel visits out of
the (zero-padded) input, lay each out as a row ("im2col"), and multiply the rows by the
kernels laid out as columns. Its gradients are the same trick run backwards: the
gradient of the rows is scattered back onto the windows they came from ("col2im").

Everything here is exact for any stride, padding, dilation and group count. The three
convolution ops are the three partial derivatives of one trilinear form, so each one's
backward is written with the other two and derivatives of any order come for free::

    L(x, w, g) = <conv2d(x, w), g>
    conv2d(x, w)            = dL/dg     (Conv2d)
    conv_transpose2d(g, w)  = dL/dx     (ConvTranspose2d: the input's gradient)
    conv2d_weight(x, g)     = dL/dw     (Conv2dWeight: the weight's gradient)

Shapes: x (N, C, H, W), weight (O, C / groups, kH, kW), output (N, O, Ho, Wo) with
``Ho = (H + 2 padding - dilation (kH - 1) - 1) // stride + 1`` (and the same for W).
The options arrive as pairs of ints, already checked (``tinygrad_edu.functional.conv``).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd import Function
from .shape import ScatterAdd

Pair = tuple[int, int]


# ----------------------------------------------------------------------------------------
# Windows: im2col and col2im
# ----------------------------------------------------------------------------------------


def _output_size(size: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Pair:
    """(Ho, Wo): how many windows fit along each axis of a padded input."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1  # type: ignore[return-value]
                 for n, k, s, p, d in zip(size, kernel, stride, padding, dilation))


def _windows(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
             fill: float = 0.0) -> np.ndarray:
    """A read-only view (N, C, Ho, Wo, kH, kW) of the windows of x padded with ``fill``:
    ``view[n, c, i, j, a, b] = x_padded[n, c, i sH + a dH, j sW + b dW]``."""
    (ph, pw), (sh, sw), (dh, dw) = padding, stride, dilation
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    span = (dh * (kernel[0] - 1) + 1, dw * (kernel[1] - 1) + 1)
    return sliding_window_view(x, span, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]


def _im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
            groups: int) -> np.ndarray:
    """The windows as rows, one matrix per group: (groups, N Ho Wo, C/groups kH kW).

    Row ``(n, i, j)`` of group ``q`` holds the window at output pixel (i, j) of image n
    over the group's input channels, channel-major then kernel row then kernel column,
    which is the order of a weight's ``(C/groups, kH, kW)`` axes."""
    win = _windows(x, kernel, stride, padding, dilation)
    n, c, ho, wo, kh, kw = win.shape
    win = win.reshape(n, groups, c // groups, ho, wo, kh, kw)
    return win.transpose(1, 0, 3, 4, 2, 5, 6).reshape(groups, n * ho * wo, -1)


def _col2im(cols: np.ndarray, size: Pair, kernel: Pair, stride: Pair, padding: Pair,
            dilation: Pair) -> np.ndarray:
    """The adjoint of ``_im2col``: add every row back onto the window it came from.

    ``cols`` is (groups, N, Ho, Wo, C/groups, kH, kW); the result is (N, C, H, W).
    One strided add per kernel offset (a, b): it covers the input pixels that offset
    touches in every window at once."""
    groups, n, ho, wo, cg, kh, kw = cols.shape
    (ph, pw), (sh, sw), (dh, dw) = padding, stride, dilation
    out = np.zeros((n, groups, cg, size[0] + 2 * ph, size[1] + 2 * pw), cols.dtype)
    cols = cols.transpose(1, 0, 4, 2, 3, 5, 6)  # (N, groups, C/groups, Ho, Wo, kH, kW)
    for a in range(kh):
        rows = slice(a * dh, a * dh + sh * (ho - 1) + 1, sh)
        for b in range(kw):
            out[..., rows, b * dw:b * dw + sw * (wo - 1) + 1:sw] += cols[..., a, b]
    out = out.reshape(n, groups * cg, size[0] + 2 * ph, size[1] + 2 * pw)
    return out[:, :, ph:ph + size[0], pw:pw + size[1]]


def _per_group(a: np.ndarray, groups: int) -> np.ndarray:
    """An (N, O, Ho, Wo) array as one matrix per group: (groups, N Ho Wo, O/groups)."""
    n, o, ho, wo = a.shape
    a = a.reshape(n, groups, o // groups, ho, wo).transpose(1, 0, 3, 4, 2)
    return a.reshape(groups, n * ho * wo, o // groups)


def _from_groups(y: np.ndarray, n: int, out_size: Pair) -> np.ndarray:
    """The inverse of ``_per_group``: (groups, N Ho Wo, O/groups) -> (N, O, Ho, Wo)."""
    groups, _, og = y.shape
    y = y.reshape(groups, n, *out_size, og).transpose(1, 0, 4, 2, 3)
    return y.reshape(n, groups * og, *out_size)


# ----------------------------------------------------------------------------------------
# Convolution: the three partial derivatives of <conv2d(x, w), g>
# ----------------------------------------------------------------------------------------


class Conv2d(Function):
    """y = conv2d(x, w) + b:  y[n, o, i, j] = b[o] + sum_{c, a, b'} w[o, c, a, b']
    x_pad[n, q C/G + c, i sH + a dH, j sW + b' dW]  (q = the group of channel o);

    dy/dx = conv_transpose2d(g, w),  dy/dw = conv2d_weight(x, g),  dy/db = g summed over
    (N, Ho, Wo). Forward: the input's windows as rows (im2col) times the kernels as
    columns, one matrix product per group.
    """

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding, dilation, groups):
        kernel = w.shape[2:]
        cols = _im2col(x, kernel, stride, padding, dilation, groups)
        y = np.matmul(cols, w.reshape(groups, w.shape[0] // groups, -1).swapaxes(1, 2))
        y = _from_groups(y, x.shape[0], _output_size(x.shape[2:], kernel, stride, padding,
                                                    dilation))
        if b is not None:
            y = y + b.reshape(1, -1, 1, 1)
        ctx.save_for_backward(x, w)
        ctx.options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        ctx.cols = cols  # the weight's gradient needs exactly these rows again
        return y

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gx = ConvTranspose2d.apply(grad, w, input_size=x.shape[2:], **ctx.options)
        if needs[1]:
            gw = Conv2dWeight.apply(x, grad, kernel_size=w.shape[2:], cols=ctx.cols,
                                    **ctx.options)
        if len(needs) == 2:
            return gx, gw
        if needs[2]:
            gb = grad.sum(axis=(0, 2, 3))
        return gx, gw, gb


class ConvTranspose2d(Function):
    """x' = conv_transpose2d(g, w), the gradient of conv2d with respect to its input:
    every output pixel g[n, o, i, j] spreads w[o] over the window it was computed from;

    with <x', G> = <conv2d(G, w), g>:  dx'/dg = conv2d(G, w),  dx'/dw = conv2d_weight(G, g).
    ``input_size`` is the (H, W) of conv2d's input (a stride can leave rows unvisited).
    """

    @staticmethod
    def forward(ctx, g, w, *, input_size, stride, padding, dilation, groups):
        out, cg, kh, kw = w.shape
        cols = np.matmul(_per_group(g, groups), w.reshape(groups, out // groups, -1))
        n, _, ho, wo = g.shape
        cols = cols.reshape(groups, n, ho, wo, cg, kh, kw)
        ctx.save_for_backward(g, w)
        ctx.options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return _col2im(cols, input_size, (kh, kw), stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gg = Conv2d.apply(grad, w, **ctx.options) if needs[0] else None
        gw = None
        if needs[1]:
            gw = Conv2dWeight.apply(grad, g, kernel_size=w.shape[2:], **ctx.options)
        return gg, gw


class Conv2dWeight(Function):
    """w' = conv2d_weight(x, g), the gradient of conv2d with respect to its weight:
    w'[o, c, a, b] = sum_{n, i, j} g[n, o, i, j] x_pad[n, q C/G + c, i sH + a dH, j sW + b dW];

    with <w', G> = <conv2d(x, G), g>:  dw'/dx = conv_transpose2d(g, G),  dw'/dg = conv2d(x, G).
    ``cols`` may hand over x's rows (im2col) when the caller already has them.
    """

    @staticmethod
    def forward(ctx, x, g, *, kernel_size, stride, padding, dilation, groups, cols=None):
        if cols is None:
            cols = _im2col(x, kernel_size, stride, padding, dilation, groups)
        gw = np.matmul(_per_group(g, groups).swapaxes(1, 2), cols)
        ctx.save_for_backward(x, g)
        ctx.options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return gw.reshape(g.shape[1], x.shape[1] // groups, *kernel_size)

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = None
        if needs[0]:
            gx = ConvTranspose2d.apply(g, grad, input_size=x.shape[2:], **ctx.options)
        return gx, Conv2d.apply(x, grad, **ctx.options) if needs[1] else None


# ----------------------------------------------------------------------------------------
# Pooling
# ----------------------------------------------------------------------------------------


class MaxPool2d(Function):
    """y[n, c, i, j] = max of x over window (i, j) (padding counts as -inf);

    dy/dx: each output's gradient goes to the one input it came from, added up where
    windows overlap. Of several equal maxima the first in row-major order wins, as in
    PyTorch; a NaN in a window is its maximum. The op is x[index] for the index it
    found, so its backward is ``ScatterAdd`` (whose own backward gathers again).
    """

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding):
        win = _windows(x, kernel_size, stride, padding, (1, 1), fill=-np.inf)
        n, c, ho, wo, kh, kw = win.shape
        win = win.reshape(n, c, ho, wo, kh * kw)
        k = win.argmax(axis=-1)  # the first maximum (or NaN)
        y = np.take_along_axis(win, k[..., None], axis=-1)[..., 0]
        # NOTE: a window whose real inputs are all -inf picks its first cell, which may
        # be padding; clipping moves it to the first real input, as PyTorch picks.
        rows = np.arange(ho)[:, None] * stride[0] - padding[0] + k // kw
        cols = np.arange(wo)[None, :] * stride[1] - padding[1] + k % kw
        ctx.index = (np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                     np.clip(rows, 0, x.shape[2] - 1), np.clip(cols, 0, x.shape[3] - 1))
        ctx.shape = x.shape
        return y

    @staticmethod
    def backward(ctx, grad):
        return ScatterAdd.apply(grad, index=ctx.index, shape=ctx.shape)


class AvgPool2d(Function):
    """y[n, c, i, j] = mean of x over window (i, j), padding counted as zeros (PyTorch's
    default ``count_include_pad=True``), so every window divides by kH kW;

    dy/dx: each output's gradient is spread evenly over its window, which is a transposed
    convolution of every channel with the constant kernel 1 / (kH kW).
    """

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding):
        ctx.options = dict(stride=stride, padding=padding, dilation=(1, 1), groups=1)
        ctx.kernel = np.full((1, 1, *kernel_size), 1.0 / (kernel_size[0] * kernel_size[1]),
                             dtype=x.dtype)
        ctx.shape = x.shape
        return _windows(x, kernel_size, stride, padding, (1, 1)).mean(axis=(-2, -1))

    @staticmethod
    def backward(ctx, grad):
        n, c, h, w = ctx.shape
        planes = grad.reshape((n * c, 1, *grad.shape[2:]))
        gx = ConvTranspose2d.apply(planes, ctx.kernel, input_size=(h, w), **ctx.options)
        return gx.reshape(ctx.shape)


def _averaging_matrix(size: int, out: int) -> np.ndarray:
    """P (out, size) with row i the mean over [floor(i size / out), ceil((i+1) size / out))."""
    p = np.zeros((out, size))
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        p[i, start:end] = 1.0 / (end - start)
    return p


class AdaptiveAvgPool2d(Function):
    """y = P_H x P_W^T per (n, c) plane: output pixel (i, j) is the mean over rows
    [floor(i H / Ho), ceil((i + 1) H / Ho)) and the same for columns, as in PyTorch;

    dy/dx = P_H^T g P_W. Averaging rows and averaging columns are two matrix products,
    so the backward is the two transposed products (linear, differentiable again).
    """

    @staticmethod
    def forward(ctx, x, *, output_size):
        ctx.p_h = _averaging_matrix(x.shape[2], output_size[0]).astype(x.dtype)
        ctx.p_w = _averaging_matrix(x.shape[3], output_size[1]).astype(x.dtype)
        return ctx.p_h @ x @ ctx.p_w.T

    @staticmethod
    def backward(ctx, grad):
        return ctx.p_h.T @ grad @ ctx.p_w


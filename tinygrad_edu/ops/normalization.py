"""Batch normalization in training mode as one op, its backward written out.

Per channel (axis 1), over the batch and every spatial axis, it standardizes x with the
batch's own mean and variance and applies the learned scale and shift. Composed of
elementwise ops and reductions it would record about a dozen nodes, each allocating and
walking a full-size array forward and back; as one node its backward is the closed-form
gradient, a few passes over the input.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from . import kernels

# ----------------------------------------------------------------------------------------
# Kernels: batch norm's passes over arrays, as rows and a chunk of the batch at a time
# ----------------------------------------------------------------------------------------

# Bytes of the batch per chunk: small enough to stay in the CPU's cache between the
# operations applied to it
_CHUNK_BYTES = 1 << 20


def _chunks(a, even=False):
    """Slices of the batch (axis 0) holding about ``_CHUNK_BYTES`` of ``a`` each, at least
    one sample per slice (``even`` as in ``kernels.chunks``): the parts that the passes
    below share among threads (``kernels.parallel_map``)."""
    return kernels.chunks(len(a), a[:1].nbytes, _CHUNK_BYTES, even)


def _rows(a):
    """An (N, C, ...) array as (N, C S), one row per sample (a view of a contiguous one)."""
    return a.reshape(a.shape[0], math.prod(a.shape[1:]))


def _row(per_channel, spatial):
    """A per-channel (1, C, 1, ...) array as a row (C S,): each channel's value repeated
    over its ``spatial`` positions.

    NOTE: NumPy runs an operation between (N, C S) rows and such a row in long loops over
    whole rows; with the (1, C, 1, ...) array itself it runs one short loop per sample
    and channel, which is much slower on a convolutional layer's activations.
    """
    flat = per_channel.ravel()
    return flat if spatial == 1 else np.repeat(flat, spatial)


def _moments(x, axes, count):
    """(mean, var, x - mean) over ``axes`` (kept as size-1 axes), which hold ``count``
    values per channel; var is the biased batch variance.

    Written with operators and methods that arrays and Values share: backward under
    ``create_graph`` calls it on the Value x so that the centered x and σ are recorded as
    functions of x and differentiate again. For an array, each chunk of the batch is
    centered (as rows, ``_row``) and its squares summed while it is in the cache.
    """
    mean = x.mean(axis=axes, keepdims=True)
    if type(x) is not np.ndarray:
        centered = x - mean
        return mean, kernels.channel_dot(centered, centered) / count, centered
    centered = kernels.empty(x.shape, x.dtype)
    rows, out, mean_row = _rows(x), _rows(centered), _row(mean, math.prod(x.shape[2:]))

    def center(part):
        np.subtract(rows[part], mean_row, out=out[part])
        return kernels.channel_dot(centered[part], centered[part])

    squares = sum(kernels.parallel_map(center, _chunks(x)))  # in the chunks' order
    return mean, squares / count, centered


def _centered_sums(grad, x, mean):
    """(x - mean, Σ grad, Σ grad (x - mean)) per channel, over every axis but 1 (kept as
    size-1 axes), for arrays: what batch norm's backward needs of x and grad.

    A chunk of the batch at a time: each chunk of x is centered and summed with grad's
    chunk while both are in the cache, so x and grad are read once. grad is summed as
    rows into one row, and the row's channels summed at the end.
    """
    centered = kernels.empty(x.shape, x.dtype)
    spatial = math.prod(x.shape[2:])
    rows, out, mean_row = _rows(x), _rows(centered), _row(mean, spatial)
    grad_rows = _rows(grad)

    def center_and_sum(part):
        np.subtract(rows[part], mean_row, out=out[part])
        return grad_rows[part].sum(axis=0), kernels.channel_dot(grad[part], centered[part])

    row_sums, dots = zip(*kernels.parallel_map(center_and_sum, _chunks(x)))
    grad_row, grad_dot = sum(row_sums), sum(dots)  # in the chunks' order
    grad_sum = grad_row if spatial == 1 else grad_row.reshape(x.shape[1], spatial).sum(axis=1)
    return centered, grad_sum.reshape(mean.shape), grad_dot


def _in_place_ok(out, *arrays):
    """Whether ``out`` and every other argument are ndarrays of ``out``'s dtype and ``out``
    is contiguous (its rows are views of it): then an in-place operation on ``out`` gives
    exactly what the operator would."""
    return all(type(a) is np.ndarray and a.dtype == out.dtype
               for a in (out, *arrays)) and out.flags.c_contiguous


def _scale_shift(centered, scale, shift):
    """centered scale + shift, per channel (``shift`` None means 0): batch norm's output.

    ``centered`` is a temporary no one else holds: for arrays of one dtype the result is
    written over it as rows (``_row``), a chunk of the batch at a time, the shift added
    while the scaled chunk is in the cache: no new full-size array, one pass through
    memory.
    """
    if not _in_place_ok(centered, scale, *([] if shift is None else [shift])):
        y = centered * scale
        return y if shift is None else y + shift
    spatial = math.prod(centered.shape[2:])
    rows, scale_row = _rows(centered), _row(scale, spatial)
    shift_row = None if shift is None else _row(shift, spatial)

    def scale_shift(part):
        block = rows[part]
        block *= scale_row
        if shift_row is not None:
            block += shift_row

    kernels.parallel_map(scale_shift, _chunks(centered, even=True))
    return centered


def _input_grad(grad, centered, scale, mean_grad, slope):
    """scale (grad - mean_grad - centered slope), per channel: batch norm's dx.

    For arrays of one dtype ``centered`` must be a temporary no one else holds: the
    result is written over it as rows, a chunk of the batch at a time, its four steps
    while the chunk is in the cache (see ``_scale_shift``). Values (under
    ``create_graph``) get the recorded formula.
    """
    if not _in_place_ok(centered, grad, scale, mean_grad, slope):
        return scale * (grad - mean_grad - centered * slope)
    spatial = math.prod(centered.shape[2:])
    rows, grad_rows = _rows(centered), _rows(grad)
    minus_slope, mean_grad, scale = (_row(v, spatial) for v in (-slope, mean_grad, scale))

    def input_grad(part):
        dx = rows[part]
        dx *= minus_slope
        dx += grad_rows[part]
        dx -= mean_grad
        dx *= scale

    kernels.parallel_map(input_grad, _chunks(centered, even=True))
    return centered


class BatchNorm(Function):
    """Training-mode batch norm of x (N, C, ...) with the batch's statistics, per channel:

        x̂ = (x - mean) / σ,  σ = sqrt(var + eps),  y = γ x̂ + β,

    mean and the biased var over N and every axis after C (m values per channel), γ and
    β of shape (C,) (``weight``/``bias``; ``None`` means 1 and 0). With g = dL/dy:

        dx = γ/σ (g - mean(g) - x̂ mean(g x̂)),  dγ = Σ g x̂,  dβ = Σ g.

    Forward keeps mean and 1/σ, not x̂ (x̂ = (x - mean) / σ): its centered copy of x
    becomes the output, and backward centers x again into the array that becomes dx,
    so each pass allocates one full-size array.

    ``running=(running_mean, running_var, momentum)`` also updates those arrays in place
    with PyTorch's rule ``running = (1 - momentum) running + momentum batch``, the
    variance with the unbiased estimate var m / (m - 1).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, *, eps, running=None):
        ctx.axes = (0, *range(2, x.ndim))
        ctx.per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        ctx.count = math.prod(x.shape[:1] + x.shape[2:])  # values per channel
        ctx.eps = eps
        mean, var, centered = _moments(x, ctx.axes, ctx.count)
        inv_std = (var + eps) ** -0.5
        if running is not None:
            _update_running(running, mean, var, ctx.count)
        ctx.mean, ctx.inv_std = mean, inv_std
        ctx.save_for_backward(x, weight)
        scale = inv_std if weight is None else weight.reshape(ctx.per_channel) * inv_std
        shift = None if bias is None else bias.reshape(ctx.per_channel)
        return _scale_shift(centered, scale, shift)  # γ x̂ + β = (x - mean) γ/σ + β

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        if type(x) is np.ndarray:  # forward's mean and 1/σ (grad is an array too)
            centered, d_beta, grad_dot = _centered_sums(grad, x, ctx.mean)
            inv_std = ctx.inv_std
        else:  # create_graph: x - mean and 1/σ as recorded functions of x
            _, var, centered = _moments(x, ctx.axes, ctx.count)
            inv_std = (var + ctx.eps) ** -0.5
            d_beta = grad.sum(axis=ctx.axes, keepdims=True)
            grad_dot = kernels.channel_dot(grad, centered)
        d_gamma = grad_dot * inv_std  # Σ g x̂
        dx = None
        if ctx.needs_input_grad[0]:
            scale = inv_std if weight is None else weight.reshape(ctx.per_channel) * inv_std
            # x̂ mean(g x̂) = (x - mean) (1/σ) dγ / m
            dx = _input_grad(grad, centered, scale, d_beta / ctx.count,
                             inv_std * d_gamma / ctx.count)
        channels = ctx.per_channel[1]
        return dx, d_gamma.reshape(channels), d_beta.reshape(channels)


def _update_running(running, mean, var, count):
    """running = (1 - momentum) running + momentum batch, in place, for the mean and the
    unbiased variance."""
    running_mean, running_var, momentum = running
    channels = running_mean.shape[0]
    running_mean *= 1 - momentum
    running_mean += momentum * mean.reshape(channels)
    running_var *= 1 - momentum
    running_var += momentum * var.reshape(channels) * count / (count - 1)

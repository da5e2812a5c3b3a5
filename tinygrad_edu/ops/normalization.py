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


def _moments(x, axes, count):
    """(mean, var, x - mean) over ``axes`` (kept as size-1 axes), which hold ``count``
    values per channel; var is the biased batch variance.

    Written with operators and methods that arrays and Values share: forward calls it on
    arrays, and backward under ``create_graph`` calls it on the Value x so that the
    centered x and σ are recorded as functions of x and differentiate again.
    """
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = kernels.channel_dot(centered, centered, axes) / count
    return mean, var, centered


def _same_dtype_arrays(*arrays):
    """Whether every argument is an ndarray of the first one's dtype: then an in-place
    operation gives exactly what the operator would."""
    return all(type(a) is np.ndarray and a.dtype == arrays[0].dtype for a in arrays)


def _scale_shift(centered, scale, shift):
    """centered scale + shift, per channel (``shift`` None means 0): batch norm's output.

    ``centered`` is a temporary no one else holds: for arrays of one dtype the result is
    written over it in two in-place passes, instead of a new full-size array per operator
    (each a new allocation and a pass through memory, which dominate on the large
    activations of a convolutional layer).
    """
    if not _same_dtype_arrays(centered, scale, *([] if shift is None else [shift])):
        y = centered * scale
        return y if shift is None else y + shift
    centered *= scale
    if shift is not None:
        centered += shift
    return centered


def _input_grad(grad, centered, scale, mean_grad, slope):
    """scale (grad - mean_grad - centered slope), per channel: batch norm's dx.

    For arrays of one dtype ``centered`` must be a temporary no one else holds: the
    result is written over it in four in-place passes (see ``_scale_shift``). Values
    (under ``create_graph``) get the recorded formula.
    """
    if not _same_dtype_arrays(grad, centered, scale, mean_grad, slope):
        return scale * (grad - mean_grad - centered * slope)
    dx = centered
    dx *= -slope
    dx += grad
    dx -= mean_grad
    dx *= scale
    return dx


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
        if type(x) is np.ndarray:  # plain arrays: forward's mean and 1/σ
            centered, inv_std = x - ctx.mean, ctx.inv_std
        else:  # create_graph: x - mean and 1/σ as recorded functions of the Value x
            _, var, centered = _moments(x, ctx.axes, ctx.count)
            inv_std = (var + ctx.eps) ** -0.5
        d_beta = grad.sum(axis=ctx.axes, keepdims=True)
        d_gamma = kernels.channel_dot(grad, centered, ctx.axes) * inv_std  # Σ g x̂
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

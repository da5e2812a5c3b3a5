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


def _standardize(x, axes, count, eps):
    """(mean, var, x̂, 1/σ) over ``axes`` (kept as size-1 axes), which hold ``count`` values
    per channel: var is the biased batch variance, σ = sqrt(var + eps), x̂ = (x - mean) / σ.

    Written with operators and methods that arrays and Values share: forward calls it on
    arrays, and backward under ``create_graph`` calls it on the Value x so that x̂ and σ
    are recorded as functions of x and differentiate again.
    """
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = kernels.channel_dot(centered, centered, axes) / count
    inv_std = (var + eps) ** -0.5
    return mean, var, centered * inv_std, inv_std


class BatchNorm(Function):
    """Training-mode batch norm of x (N, C, ...) with the batch's statistics, per channel:

        x̂ = (x - mean) / σ,  σ = sqrt(var + eps),  y = γ x̂ + β,

    mean and the biased var over N and every axis after C (m values per channel), γ and
    β of shape (C,) (``weight``/``bias``; ``None`` means 1 and 0). With g = dL/dy:

        dx = γ/σ (g - mean(g) - x̂ mean(g x̂)),  dγ = Σ g x̂,  dβ = Σ g.

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
        mean, var, x_hat, inv_std = _standardize(x, ctx.axes, ctx.count, eps)
        if running is not None:
            _update_running(running, mean, var, ctx.count)
        ctx.x_hat, ctx.inv_std = x_hat, inv_std
        ctx.save_for_backward(x, weight)
        y = x_hat if weight is None else x_hat * weight.reshape(ctx.per_channel)
        return y if bias is None else y + bias.reshape(ctx.per_channel)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        if type(x) is np.ndarray:  # plain arrays: forward's x̂ and 1/σ are the same numbers
            x_hat, inv_std = ctx.x_hat, ctx.inv_std
        else:  # create_graph: x̂ and 1/σ as recorded functions of the Value x
            _, _, x_hat, inv_std = _standardize(x, ctx.axes, ctx.count, ctx.eps)
        d_beta = grad.sum(axis=ctx.axes, keepdims=True)
        d_gamma = kernels.channel_dot(grad, x_hat, ctx.axes)
        dx = None
        if ctx.needs_input_grad[0]:
            scale = inv_std if weight is None else weight.reshape(ctx.per_channel) * inv_std
            dx = scale * (grad - d_beta / ctx.count - x_hat * (d_gamma / ctx.count))
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

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


def _input_grad(grad, centered, scale, mean_grad, slope):
    """scale (grad - mean_grad - centered slope), per channel: batch norm's dx.

    For arrays of one dtype, written into one new array in four in-place passes instead
    of a fresh full-size temporary per operator (each a new allocation and a pass through
    memory, which dominate on the large activations of a convolutional layer). Values
    (under ``create_graph``) get the recorded formula.
    """
    arrays = (grad, centered, scale, mean_grad, slope)
    if not all(type(a) is np.ndarray and a.dtype == grad.dtype for a in arrays):
        return scale * (grad - mean_grad - centered * slope)
    dx = centered * -slope
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

    x̂ is kept as x - mean and 1/σ (x̂ = (x - mean) / σ), so that forward writes one
    centered copy of x and the output, and no separate x̂.

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
        ctx.centered, ctx.inv_std = centered, inv_std
        ctx.save_for_backward(x, weight)
        scale = inv_std if weight is None else weight.reshape(ctx.per_channel) * inv_std
        y = centered * scale  # γ x̂ = (x - mean) γ/σ
        if bias is not None and np.can_cast(bias.dtype, y.dtype, "safe"):
            y += bias.reshape(ctx.per_channel)  # into the product's own memory
        elif bias is not None:
            y = y + bias.reshape(ctx.per_channel)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        if type(x) is np.ndarray:  # plain arrays: forward's x - mean and 1/σ are the same
            centered, inv_std = ctx.centered, ctx.inv_std
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

"""Loss ops: cross-entropy against class labels as one fused node."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from . import kernels


def label_index(labels, axis):
    """The index that picks each sample's labelled class: ``x[index]`` has labels' shape."""
    if labels.ndim == 1 and axis == 1:  # (N, C) scores, the common case
        return (kernels.row_starts(len(labels), 1), labels)
    grid = np.indices(labels.shape, sparse=True)
    return (*grid[:axis], labels, *grid[axis:])


class SoftmaxCrossEntropy(Function):
    """z = -log_softmax(x)[y] = logsumexp(x) - x_y along ``axis``, one loss per sample,
    then reduced (``"none"``, ``"sum"`` or ``"mean"`` over the samples);
    backward: g ↦ g (softmax(x) - onehot(y)), with g / N for the mean.

    Cross-entropy against class labels in one node instead of six (max, log-sum-exp,
    subtract, pick, negate, mean). ``labels`` has x's shape without ``axis`` (a
    non-negative int); a label outside [0, C) is a ValueError. Computed from x - max(x),
    so logits of any size never overflow.
    """

    @staticmethod
    def forward(ctx, x, *, labels, axis, reduction="none"):
        ctx.axis, ctx.reduction, ctx.count = axis, reduction, labels.size
        # each sample's labelled entry, as a position in x.reshape(-1) (of labels' shape);
        # ravel_multi_index refuses a label outside its axis
        ctx.flat = np.ravel_multi_index(label_index(labels, axis), x.shape)
        shifted = x - kernels.max_along(x, axis)
        e = np.exp(shifted)
        total = kernels.sum_along(e, axis)
        ctx.save_for_backward(x)
        ctx.e, ctx.total = e, total
        losses = np.log(total) - shifted.take(ctx.flat)
        if reduction == "none":
            return losses
        return losses.sum() / ctx.count if reduction == "mean" else losses.sum()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        g = kernels.softmax_minus_onehot(x, ctx.axis, ctx.flat, ctx.e, ctx.total)
        if ctx.reduction == "none":  # one gradient per sample: broadcast along the axis
            return g * np.expand_dims(grad, ctx.axis)
        if ctx.reduction == "mean":
            grad = grad / ctx.count
        return g * grad

"""Batch normalization as a function of the batch and the running statistics."""

from __future__ import annotations

import numpy as np

from ..value import Value


def batch_norm(x: Value, running_mean: np.ndarray | None, running_var: np.ndarray | None,
               weight: Value | None = None, bias: Value | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Value:
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (axis 1).

    In training (or without running statistics) mean and var are the batch's, over every
    axis but the channel one, with the biased variance; the running statistics, when
    given, are updated in place with PyTorch's convention
    ``running = (1 - momentum) * running + momentum * batch``, the variance with the
    unbiased estimate. Otherwise the running statistics are used. Gradients flow through
    the batch statistics, so batch norm is differentiated exactly, to any order.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...); got shape {x.shape}")
    channels = x.shape[1]
    axes = (0, *range(2, x.ndim))
    per_channel = (1, channels) + (1,) * (x.ndim - 2)
    count = x.size // channels
    use_batch = training or running_mean is None
    if use_batch:
        if count < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel to "
                             f"estimate a variance; got input of shape {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        if training and running_mean is not None and running_var is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean.data.reshape(channels)
            running_var *= 1 - momentum
            running_var += momentum * var.data.reshape(channels) * count / (count - 1)
        y = (x - mean) / (var + eps).sqrt()
    else:
        mean_c = np.asarray(running_mean, dtype=x.dtype).reshape(per_channel)
        std_c = np.sqrt(np.asarray(running_var, dtype=x.dtype) + eps).reshape(per_channel)
        y = (x - mean_c) / std_c
    if weight is not None:
        y = y * weight.reshape(per_channel)
    if bias is not None:
        y = y + bias.reshape(per_channel)
    return y

"""Batch normalization as a function of the batch and the running statistics."""

from __future__ import annotations

import math

import numpy as np

from ..ops.normalization import BatchNorm
from ..value import Value


def batch_norm(x: Value, running_mean: np.ndarray | None, running_var: np.ndarray | None,
               weight: Value | None = None, bias: Value | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Value:
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (axis 1).

    In training (or without running statistics) mean and var are the batch's, over every
    axis but the channel one, with the biased variance: one ``BatchNorm`` node, whose
    backward is written out and differentiates again under ``create_graph``. The running
    statistics, when given, are then updated in place with PyTorch's convention
    ``running = (1 - momentum) * running + momentum * batch``, the variance with the
    unbiased estimate. Otherwise the running statistics are used: y = x * scale + shift
    per channel, with scale = weight / sqrt(running_var + eps) and
    shift = bias - running_mean * scale.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...); got shape {x.shape}")
    channels = x.shape[1]
    if training or running_mean is None:
        if math.prod(x.shape[:1] + x.shape[2:]) < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel to "
                             f"estimate a variance; got input of shape {x.shape}")
        tracked = training and running_mean is not None and running_var is not None
        running = (running_mean, running_var, momentum) if tracked else None
        return BatchNorm.apply(x, weight, bias, eps=eps, running=running)
    per_channel = (1, channels) + (1,) * (x.ndim - 2)
    inv_std = (np.asarray(running_var, dtype=x.dtype) + eps) ** -0.5
    mean = np.asarray(running_mean, dtype=x.dtype)
    scale = inv_std if weight is None else weight * inv_std
    shift = -mean * scale if bias is None else bias - mean * scale
    return x * scale.reshape(per_channel) + shift.reshape(per_channel)

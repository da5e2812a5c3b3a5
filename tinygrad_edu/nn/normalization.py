"""Batch normalization layers with running statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import float_dtype, integer
from ..functional.normalization import batch_norm
from ..value import Value
from .module import Module, Parameter, check_input_dtype


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d: one mean and variance per channel (axis 1)."""

    dims: tuple[int, ...]  # the input ranks the subclass accepts

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        num_features = integer(type(self).__name__, "num_features", num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.dtype = float_dtype(type(self).__name__, dtype)
        self.weight = Parameter(np.ones(num_features), dtype=dtype) if affine else None
        self.bias = Parameter(np.zeros(num_features), dtype=dtype) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            # PyTorch's counter of training batches: with it the state_dict has PyTorch's
            # keys and loads into torch.nn.BatchNorm as it is
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x: Value) -> Value:
        if isinstance(x, (list, tuple)):
            raise TypeError(f"{type(self).__name__} normalizes over a batch: give an array "
                            f"Value of shape (N, C, ...), not a list of scalars")
        if x.ndim not in self.dims or x.shape[1] != self.num_features:
            expected = " or ".join(f"{d}-D" for d in self.dims)
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected a {expected}"
                             f" input with {self.num_features} channels on axis 1; got shape "
                             f"{x.shape}")
        check_input_dtype(type(self).__name__, x, self.dtype)
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=self.training, momentum=self.momentum, eps=self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm for (N, C) or (N, C, L) inputs."""

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm for (N, C, H, W) inputs: one mean and variance per channel."""

    dims = (4,)

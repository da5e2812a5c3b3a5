"""Convolutional layers: ``Conv2d``, pooling and stochastic depth as modules, with
PyTorch's names, arguments and weight layout (out_channels, in_channels / groups, kH, kW).

Each checks its options when it is built and calls one function of
``tinygrad_edu.functional.conv``; inputs are (N, C, H, W).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import integer, pair
from ..functional import conv as FC
from ..rng import generator, own_generator
from ..value import Value
from .layers import affine_parameters
from .module import Module, check_input_dtype

Size = int | tuple[int, int]


class Conv2d(Module):
    """y = conv2d(x, weight) + bias, with ``weight`` of shape (out_channels,
    in_channels / groups, kH, kW) and ``bias`` (out_channels,), as in PyTorch.

    Each output channel sees ``fan_in = in_channels / groups * kH * kW`` inputs. Without
    ``init``, weights and bias are drawn as PyTorch draws them (``kaiming_uniform`` with
    a = sqrt(5), that is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias from the same
    range); with ``init`` (a name such as "he" or a callable) the weights come from it and
    the bias starts at zero. ``seed`` and ``dtype`` work as in ``Linear``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Size, stride: Size = 1,
                 padding: Size = 0, dilation: Size = 1, groups: int = 1, bias: bool = True,
                 init: Any = None, seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        owner = type(self).__name__
        self.in_channels = integer(owner, "in_channels", in_channels)
        self.out_channels = integer(owner, "out_channels", out_channels)
        self.groups = integer(owner, "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{owner}: groups={groups} must divide both in_channels="
                             f"{in_channels} and out_channels={out_channels}")
        self.kernel_size = pair(owner, "kernel_size", kernel_size, 1)
        self.stride = pair(owner, "stride", stride, 1)
        self.padding = pair(owner, "padding", padding, 0)
        self.dilation = pair(owner, "dilation", dilation, 1)
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight, self.bias = affine_parameters(shape, bias, init, generator(seed), dtype)

    def forward(self, x: Value) -> Value:
        if getattr(x, "dtype", None) != self.weight.dtype:
            check_input_dtype(type(self).__name__, x, self.weight.dtype)
        return FC.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                         self.groups)

    def extra_repr(self) -> str:
        options = [f"{self.in_channels}, {self.out_channels}",
                   f"kernel_size={self.kernel_size}", f"stride={self.stride}"]
        for name, default in (("padding", (0, 0)), ("dilation", (1, 1)), ("groups", 1)):
            if getattr(self, name) != default:
                options.append(f"{name}={getattr(self, name)}")
        if self.bias is None:
            options.append("bias=False")
        return ", ".join(options)


class _Pool2d(Module):
    """Shared by MaxPool2d and AvgPool2d: a window, a stride (the window by default) and
    a padding, checked when the module is built."""

    def __init__(self, kernel_size: Size, stride: Size | None = None, padding: Size = 0) -> None:
        super().__init__()
        owner = type(self).__name__
        self.kernel_size = pair(owner, "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else pair(owner, "stride", stride, 1)
        self.padding = pair(owner, "padding", padding, 0)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The largest value in each window (see ``functional.max_pool2d``)."""

    def forward(self, x: Value) -> Value:
        return FC.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """The mean of each window, padding counted as zeros (see ``functional.avg_pool2d``)."""

    def forward(self, x: Value) -> Value:
        return FC.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input's (see
    ``functional.adaptive_avg_pool2d``); ``AdaptiveAvgPool2d(1)`` is global average
    pooling."""

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        pair(type(self).__name__, "output_size", output_size, 1, none_ok=True)
        self.output_size = output_size

    def forward(self, x: Value) -> Value:
        return FC.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class FractionalMaxPool2d(Module):
    """Max pooling over windows at pseudo-random places, to ``output_size`` or to
    ``output_ratio`` of the input's size (see ``functional.fractional_max_pool2d``). As
    in PyTorch, the windows are drawn afresh at every call, in training and evaluation
    alike; ``seed`` makes the draws reproducible."""

    def __init__(self, kernel_size: Size, output_size: Size | None = None,
                 output_ratio: float | tuple[float, float] | None = None,
                 seed: Any = None) -> None:
        super().__init__()
        owner = type(self).__name__
        self.kernel_size = pair(owner, "kernel_size", kernel_size, 1)
        if (output_size is None) == (output_ratio is None):
            raise ValueError(f"{owner}: give exactly one of output_size and output_ratio")
        self.output_size = None if output_size is None else pair(owner, "output_size",
                                                                 output_size, 1)
        self.output_ratio = output_ratio
        self._rng = own_generator(seed)

    def forward(self, x: Value) -> Value:
        return FC.fractional_max_pool2d(x, self.kernel_size, self.output_size,
                                        self.output_ratio, seed=self._rng)

    def extra_repr(self) -> str:
        size = (f"output_size={self.output_size}" if self.output_size is not None
                else f"output_ratio={self.output_ratio}")
        return f"kernel_size={self.kernel_size}, {size}"


class StochasticDepth(Module):
    """Drops a residual branch in training with probability ``p``, per example
    (``mode="row"``) or per batch (``"batch"``), as torchvision's ``StochasticDepth``;
    write the block as ``x + self.drop(branch(x))`` (see ``functional.stochastic_depth``).
    The identity in evaluation."""

    def __init__(self, p: float, mode: str = "row", seed: Any = None) -> None:
        super().__init__()
        FC.stochastic_depth(np.zeros(1), p, mode, training=False)  # checks p and mode
        self.p, self.mode = p, mode
        self._rng = own_generator(seed)

    def forward(self, x: Value) -> Value:
        return FC.stochastic_depth(x, self.p, self.mode, self.training, seed=self._rng)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"

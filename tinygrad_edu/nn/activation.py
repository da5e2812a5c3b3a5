"""Activation modules: each calls the function of the same name in
``tinygrad_edu.functional`` with the options it was built with.

Elementwise activations also map over a list of scalar Values, so micrograd-style scalar
networks can use them. ``activation_module("relu")`` builds one from its name, as
``MLP(activation=...)`` and ``Neuron(activation=...)`` do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._checks import integer
from ..functional import activation as F
from ..rng import generator, own_generator
from ..value import Value
from .module import Identity, Module, Parameter, check_input_dtype


class _Activation(Module):
    """``module(x)`` = ``function(x, **options)``."""

    function: Callable[..., Value]

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options

    def forward(self, x: Any) -> Any:
        return type(self).function(x, **self.options)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items())


class _Elementwise(_Activation):
    """An activation of each element alone: it also maps over a list of scalars."""

    def forward(self, x: Any) -> Any:
        if isinstance(x, (list, tuple)):
            return [type(self).function(v, **self.options) for v in x]
        if not self.options:  # the activation's defaults: a call without ** costs less
            return type(self).function(x)
        return type(self).function(x, **self.options)


class Sigmoid(_Elementwise):
    function = staticmethod(F.sigmoid)


class Tanh(_Elementwise):
    function = staticmethod(F.tanh)


class ReLU(_Elementwise):
    function = staticmethod(F.relu)


class LeakyReLU(_Elementwise):
    function = staticmethod(F.leaky_relu)

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__(negative_slope=negative_slope)


class ELU(_Elementwise):
    function = staticmethod(F.elu)

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)


class CELU(_Elementwise):
    function = staticmethod(F.celu)

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)


class SELU(_Elementwise):
    function = staticmethod(F.selu)


class GELU(_Elementwise):
    function = staticmethod(F.gelu)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__(approximate=approximate)


class SiLU(_Elementwise):
    function = staticmethod(F.silu)


class Mish(_Elementwise):
    function = staticmethod(F.mish)


class Softplus(_Elementwise):
    function = staticmethod(F.softplus)

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta=beta, threshold=threshold)


class Softsign(_Elementwise):
    function = staticmethod(F.softsign)


class Hardtanh(_Elementwise):
    function = staticmethod(F.hardtanh)

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__(min_val=min_val, max_val=max_val)


class ReLU6(_Elementwise):
    function = staticmethod(F.relu6)


class Hardsigmoid(_Elementwise):
    function = staticmethod(F.hardsigmoid)


class Hardswish(_Elementwise):
    function = staticmethod(F.hardswish)


class LogSigmoid(_Elementwise):
    function = staticmethod(F.logsigmoid)


class Tanhshrink(_Elementwise):
    function = staticmethod(F.tanhshrink)


class Softshrink(_Elementwise):
    function = staticmethod(F.softshrink)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__(lambd=lambd)


class Hardshrink(_Elementwise):
    function = staticmethod(F.hardshrink)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__(lambd=lambd)


class Threshold(_Elementwise):
    function = staticmethod(F.threshold)

    def __init__(self, threshold: float, value: float) -> None:
        super().__init__(threshold=threshold, value=value)


class GLU(_Activation):
    function = staticmethod(F.glu)

    def __init__(self, axis: int = -1) -> None:
        super().__init__(axis=axis)


class Softmax(_Activation):
    function = staticmethod(F.softmax)

    def __init__(self, axis: int = -1) -> None:
        super().__init__(axis=axis)


class LogSoftmax(_Activation):
    function = staticmethod(F.log_softmax)

    def __init__(self, axis: int = -1) -> None:
        super().__init__(axis=axis)


class Softmin(_Activation):
    function = staticmethod(F.softmin)

    def __init__(self, axis: int = -1) -> None:
        super().__init__(axis=axis)


class PReLU(Module):
    """Leaky ReLU with a learned slope: one shared (``num_parameters=1``) or one per
    channel (axis 1), starting at ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        num_parameters = integer("PReLU", "num_parameters", num_parameters)
        self.weight = Parameter(np.full(num_parameters, init), dtype=dtype)

    def forward(self, x: Any) -> Any:
        if isinstance(x, (list, tuple)):
            return [F.prelu(v, self.weight) for v in x]
        check_input_dtype("PReLU", x, self.weight.dtype)
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.weight.size}"


class RReLU(Module):
    """Leaky ReLU with a random slope in U(lower, upper) per element in training and the
    mean slope (lower + upper) / 2 in evaluation."""

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, seed: Any = None) -> None:
        super().__init__()
        self.lower, self.upper = lower, upper
        self._rng = own_generator(seed)

    def forward(self, x: Any) -> Any:
        if isinstance(x, (list, tuple)):
            return [self.forward(v) for v in x]
        return F.rrelu(x, self.lower, self.upper, training=self.training, seed=self._rng)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}"


class Maxout(Module):
    """max_k (x W_k^T + b_k) over ``pieces`` linear maps (Goodfellow et al., 2013): the
    lectures' maxout unit, which generalizes ReLU and leaky ReLU and never dies, at the
    cost of ``pieces`` times the parameters. ``weight`` is (pieces, out, in)."""

    def __init__(self, in_features: int, out_features: int, pieces: int = 2,
                 seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        in_features = integer("Maxout", "in_features", in_features)
        out_features = integer("Maxout", "out_features", out_features)
        pieces = integer("Maxout", "pieces", pieces)
        rng = generator(seed)
        bound = 1 / np.sqrt(in_features)  # each piece drawn like a Linear layer
        self.weight = Parameter(rng.uniform(-bound, bound, (pieces, out_features, in_features)),
                                dtype=dtype)
        self.bias = Parameter(rng.uniform(-bound, bound, (pieces, out_features)), dtype=dtype)

    def forward(self, x: Value) -> Value:
        check_input_dtype("Maxout", x, self.weight.dtype)
        return F.maxout(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        pieces, out, n_in = self.weight.shape
        return f"in_features={n_in}, out_features={out}, pieces={pieces}"


_BY_NAME: dict[str, type[Module]] = {
    "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU, "prelu": PReLU,
    "rrelu": RReLU, "elu": ELU, "celu": CELU, "selu": SELU, "gelu": GELU, "silu": SiLU,
    "swish": SiLU, "mish": Mish, "softplus": Softplus, "softsign": Softsign,
    "hardtanh": Hardtanh, "relu6": ReLU6, "hardsigmoid": Hardsigmoid, "hardswish": Hardswish,
    "logsigmoid": LogSigmoid, "tanhshrink": Tanhshrink, "softshrink": Softshrink,
    "hardshrink": Hardshrink,
}


def activation_module(activation: str | Module | None) -> Module:
    """The module for an activation given by name (``"relu"``, ``"leaky_relu"``, ...), as
    a module, or None (no activation: the identity)."""
    if activation is None:
        return Identity()
    if isinstance(activation, Module):
        return activation
    cls = _BY_NAME.get(str(activation).lower())
    if cls is None:
        raise ValueError(f"unknown activation {activation!r}; known: {sorted(_BY_NAME)}")
    return cls()

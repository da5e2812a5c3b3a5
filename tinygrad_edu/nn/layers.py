"""Layers: micrograd's Neuron and Layer, PyTorch's Linear, and the MLP built on Linear.

Every layer accepts either an array Value (one row per example, computed as one matrix
op) or a list of scalar Values (micrograd's way: every ``w_i * x_i`` becomes a node of
its own, so a graph view shows each multiply and add).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from .. import init as initializers
from ..functional import regularization as R
from ..ops.linalg import Linear as LinearOp
from ..rng import generator
from ..value import Value, stack
from .activation import activation_module
from .dropout import Dropout
from .module import Module, Parameter
from .normalization import BatchNorm1d

Init = Any  # a name understood by ``tinygrad_edu.init.get`` or a callable(shape, seed, dtype)


_SCALAR_LIST = (list, tuple)  # micrograd's way to pass inputs: a list of scalar Values


def _weights(init: Init, activation: str | None, shape: tuple[int, int], seed: Any,
             dtype: Any) -> np.ndarray:
    """Initial weights: ``init`` when given, else the lectures' choice for ``activation``."""
    make = initializers.get(init) if init is not None else initializers.for_activation(activation)
    return make(shape, seed=seed, dtype=dtype)


def _affine(x: Any, weight: Value, bias: Value | None) -> Value:
    """x W^T + b as one graph node; without a bias the node has no bias input."""
    return LinearOp.apply(x, weight) if bias is None else LinearOp.apply(x, weight, bias)


class Linear(Module):
    """y = x W^T + b, with PyTorch's layout: ``weight`` (out_features, in_features).

    Without ``init`` the weights and bias are drawn as PyTorch draws them,
    U(-1/sqrt(in_features), 1/sqrt(in_features)); with ``init`` (a name such as "he" or
    a callable) the weights come from it and the bias starts at zero.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: Init = None, seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        rng = generator(seed)
        shape = (out_features, in_features)
        if init is None:
            bound = 1 / np.sqrt(in_features)
            self.weight = Parameter(rng.uniform(-bound, bound, shape), dtype=dtype)
            b = rng.uniform(-bound, bound, out_features)
        else:
            self.weight = Parameter(initializers.get(init)(shape, seed=rng, dtype=dtype))
            b = np.zeros(out_features)
        self.bias = Parameter(b, dtype=dtype) if bias else None

    def forward(self, x: Any) -> Any:
        if isinstance(x, _SCALAR_LIST):
            if len(x) != self.in_features:
                raise ValueError(f"Linear: got {len(x)} inputs, expected {self.in_features}")
            w, b = self.weight, self.bias
            return [sum((w[o, i] * xi for i, xi in enumerate(x)), b[o] if b is not None else 0.0)
                    for o in range(self.out_features)]
        return _affine(x, self.weight, self.bias)  # the op checks x's shape

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class DropConnect(Linear):
    """A Linear layer whose weights, not activations, are dropped in training: each
    weight is zeroed with probability ``p`` per forward pass and the kept ones scaled by
    1 / (1 - p) (the lectures' DropConnect); in evaluation it is a plain Linear."""

    def __init__(self, in_features: int, out_features: int, p: float = 0.5, bias: bool = True,
                 init: Init = None, seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__(in_features, out_features, bias, init, seed, dtype)
        R._check_p(p, "DropConnect")
        self.p = p
        self._rng = None if seed is None else generator(seed)

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return super().forward(x)
        if isinstance(x, _SCALAR_LIST):
            raise TypeError("DropConnect: give an array Value, not a list of scalars")
        return _affine(x, R.dropout(self.weight, self.p, training=True, seed=self._rng),
                       self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, p={self.p}"


class Neuron(Module):
    """micrograd's neuron: act(sum_i w_i x_i + b), each w_i a 0-d Parameter of its own."""

    def __init__(self, nin: int, activation: str | None = "relu", init: Init = None,
                 seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        row = _weights(init, activation, (1, nin), seed, dtype)[0]
        self.w = [Parameter(v, dtype=dtype) for v in row]
        self.b = Parameter(0.0, dtype=dtype)
        self.activation = activation_module(activation)

    def forward(self, x: Any) -> Value:
        if isinstance(x, _SCALAR_LIST):
            if len(x) != len(self.w):
                raise ValueError(f"Neuron: got {len(x)} inputs, expected {len(self.w)}")
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        else:
            act = x @ stack(self.w) + self.b
        return self.activation(act)

    def extra_repr(self) -> str:
        return f"nin={len(self.w)}"


class Layer(Module):
    """micrograd's layer: ``nout`` neurons, each seeing all ``nin`` inputs.

    On a list of scalars it returns a list (a single Value when ``nout == 1``, as
    micrograd); on an array it computes all neurons as one matrix product.
    """

    def __init__(self, nin: int, nout: int, activation: str | None = "relu", init: Init = None,
                 seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        rng = generator(seed)
        self.neurons = [Neuron(nin, activation, init, rng, dtype) for _ in range(nout)]
        weights = _weights(init, activation, (nout, nin), rng, dtype)  # fans of the layer
        for neuron, row in zip(self.neurons, weights):
            for w, v in zip(neuron.w, row):
                w.data[...] = v
        self.activation = activation_module(activation)

    def forward(self, x: Any) -> Any:
        if isinstance(x, _SCALAR_LIST):
            out = [n(x) for n in self.neurons]
            return out[0] if len(out) == 1 else out
        weight = stack([stack(n.w) for n in self.neurons])
        return self.activation(x @ weight.T + stack([n.b for n in self.neurons]))

    def extra_repr(self) -> str:
        return f"nin={len(self.neurons[0].w)}, nout={len(self.neurons)}"


class Sequential(Module):
    """Modules applied in order; children are named "0", "1", ... as in PyTorch."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: item {i} is a {type(module).__name__}, "
                                f"not a Module")
            setattr(self, str(i), module)

    def __getitem__(self, index: int) -> Module:
        return list(self.children())[index]

    def __len__(self) -> int:
        return len(list(self.children()))

    def forward(self, x: Any) -> Any:
        for module in self.children():
            x = module(x)
        return x


class Flatten(Module):
    """Merge axes ``start_dim``..``end_dim`` (by default all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Value) -> Value:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class MLP(Module):
    """A multilayer perceptron: ``Linear`` layers of ``sizes`` with ``activation`` between
    them (optionally ``BatchNorm1d`` before and ``Dropout`` after each activation); the
    last layer has no activation.

    Without ``init``, hidden layers get the lectures' initializer for the activation
    (``tinygrad_edu.init.for_activation``: He for the ReLU family, Xavier for tanh and
    sigmoid, LeCun for SELU) and the output layer a gain-1 one. As in micrograd, calling
    it on a list of scalar Values builds a scalar graph and returns a single Value when
    the last layer has one unit.
    """

    def __init__(self, nin: int, sizes: Sequence[int], activation: str | None = "relu",
                 init: Init = None, batchnorm: bool = False, dropout: float = 0.0,
                 seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        activation_module(activation)  # an unknown name fails here, even with no hidden layer
        rng = generator(seed)
        widths = [nin, *sizes]
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(pairwise(widths)):
            last = i == len(sizes) - 1
            chosen = init if init is not None else (
                initializers.for_activation(None if last else activation))
            layers.append(Linear(n_in, n_out, init=chosen, seed=rng, dtype=dtype))
            if not last:
                if batchnorm:
                    layers.append(BatchNorm1d(n_out, dtype=dtype))
                layers.append(activation_module(activation))
                if dropout:
                    layers.append(Dropout(dropout, seed=rng))
        self.layers = layers

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        if isinstance(x, _SCALAR_LIST) and len(x) == 1:
            return x[0]
        return x

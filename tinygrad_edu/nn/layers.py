"""Layers: micrograd's Neuron and Layer, PyTorch's Linear, and the MLP built on Linear.

Every layer accepts either an array Value (one row per example, computed as one matrix
op) or a list of scalar Values (micrograd's way: every ``w_i * x_i`` becomes a node of
its own, so a graph view shows each multiply and add).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from .. import init as initializers
from .._checks import dropout_p, integer, is_int
from ..functional import regularization as R
from ..ops.linalg import Linear as LinearOp
from ..ops.linalg import LinearStack
from ..rng import generator, own_generator
from ..value import Value, stack
from .activation import ReLU, activation_module
from .dropout import Dropout
from .module import Module, Parameter, check_input_dtype
from .normalization import BatchNorm1d

Init = Any  # a name understood by ``tinygrad_edu.init.get`` or a callable(shape, seed, dtype)


_SCALAR_LIST = (list, tuple)  # micrograd's way to pass inputs: a list of scalar Values


def _weights(init: Init, activation: str | None, shape: tuple[int, int], seed: Any,
             dtype: Any) -> np.ndarray:
    """Initial weights: ``init`` when given, else the lectures' choice for ``activation``."""
    make = initializers.get(init) if init is not None else initializers.for_activation(activation)
    return make(shape, seed=seed, dtype=dtype)


def affine_parameters(shape: tuple[int, ...], bias: bool, init: Init, rng: np.random.Generator,
                      dtype: Any) -> tuple[Parameter, Parameter | None]:
    """The weight of ``shape`` (out, in, *kernel) and, with ``bias``, the bias (out,) of a
    Linear or Conv2d layer. Without ``init``, PyTorch's default: both drawn from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)); with ``init``, the weight from that initializer and
    a zero bias."""
    out = shape[0]
    if init is None:
        bound = 1 / np.sqrt(initializers.calculate_fan_in_and_fan_out(shape)[0])
        weight = rng.uniform(-bound, bound, shape)
        b = rng.uniform(-bound, bound, out)
    else:
        weight = initializers.get(init)(shape, seed=rng, dtype=dtype)
        b = np.zeros(out)
    return Parameter(weight, dtype=dtype), Parameter(b, dtype=dtype) if bias else None


def run_layers(layers: Sequence[Module], x: Any) -> Any:
    """Apply ``layers`` in order to ``x``, as ``nn.MLP`` and ``nn.Sequential`` do.

    On an array input, a run of ``Linear`` layers, each maybe followed by a ``ReLU`` (all
    of an MLP of ReLUs), runs as one op, ``LinearStack``: the same numbers as the layers
    one by one, one graph node instead of one or two per layer. A layer with forward
    hooks is not part of a run (a hook sees the layer's own output, so hooked layers, as
    ``viz.trace`` and ``diagnostics.Monitor`` hook them, run one by one), nor one whose
    weight is not of x's dtype (run alone, it says what is wrong), nor a lone ``Linear``.
    """
    i = 0
    while i < len(layers):
        if isinstance(x, _SCALAR_LIST):
            end = i
        else:
            params, relu, end = _linear_run(layers, i, getattr(x, "dtype", None))
        if end - i >= 2:
            x = LinearStack.apply(x, *params, relu=relu)
            i = end
        else:
            x = layers[i](x)
            i += 1
    return x


def _linear_run(layers: Sequence[Module], start: int,
                dtype: Any) -> tuple[list[Any], tuple[bool, ...], int]:
    """The run of ``Linear`` layers (each with the ``ReLU`` after it, if there is one)
    from ``layers[start]`` that ``LinearStack`` can run on an input of ``dtype``: their
    weights and biases in order, whether each is followed by a ReLU, and where the run
    ends."""
    params, relu = [], []
    i = start
    while (i < len(layers) and _unhooked(layers[i], Linear)
           and layers[i].weight._data.dtype is dtype):  # equal dtypes: as a rule one object
        activated = i + 1 < len(layers) and _unhooked(layers[i + 1], ReLU)
        params += (layers[i].weight, layers[i].bias)
        relu.append(activated)
        i += 2 if activated else 1
    return params, tuple(relu), i


def _unhooked(layer: Module, kind: type[Module]) -> bool:
    """Whether ``layer`` is a ``kind`` itself (not a subclass) without forward hooks."""
    return type(layer) is kind and not layer._forward_hooks


class Linear(Module):
    """y = x W^T + b, with PyTorch's layout: ``weight`` (out_features, in_features).

    ``dtype`` is the parameters' dtype (float64 by default); an input of another floating
    dtype is refused, as in PyTorch. ``seed`` (an int or a Generator) draws the initial
    weights reproducibly; None uses the library's default generator.

    Without ``init`` the weights and bias are drawn as PyTorch draws them,
    U(-1/sqrt(in_features), 1/sqrt(in_features)); with ``init`` (a name such as "he" or
    a callable) the weights come from it and the bias starts at zero.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: Init = None, seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        owner = type(self).__name__
        in_features = integer(owner, "in_features", in_features)
        out_features = integer(owner, "out_features", out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight, self.bias = affine_parameters((out_features, in_features), bias, init,
                                                   generator(seed), dtype)

    def forward(self, x: Any) -> Any:
        if isinstance(x, _SCALAR_LIST):
            if len(x) != self.in_features:
                raise ValueError(f"Linear: got {len(x)} inputs, expected {self.in_features}")
            w, b = self.weight, self.bias
            return [sum((w[o, i] * xi for i, xi in enumerate(x)), b[o] if b is not None else 0.0)
                    for o in range(self.out_features)]
        return self._array_forward(x)

    def _array_forward(self, x: Any, weight: Value | None = None) -> Value:
        """x W^T + b as one graph node, on an array input, its dtype checked; W is
        ``weight`` if given (a dropped-out copy), else the layer's own. Without a bias the
        node has no bias input."""
        if weight is None:
            weight = self.weight
        # inline, and equal dtypes are as a rule one object: every call passes here
        if getattr(x, "dtype", None) is not weight.dtype:
            check_input_dtype(type(self).__name__, x, weight.dtype)
        bias = self.bias  # the op checks x's shape
        return LinearOp.apply(x, weight) if bias is None else LinearOp.apply(x, weight, bias)

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
        dropout_p("DropConnect", p)
        self.p = p
        self._rng = own_generator(seed)

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return super().forward(x)
        if isinstance(x, _SCALAR_LIST):
            raise TypeError("DropConnect: give an array Value, not a list of scalars")
        check_input_dtype("DropConnect", x, self.weight.dtype)  # before drawing the mask
        return self._array_forward(
            x, R.dropout(self.weight, self.p, training=True, seed=self._rng))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, p={self.p}"


class Neuron(Module):
    """micrograd's neuron: act(sum_i w_i x_i + b), each w_i a 0-d Parameter of its own."""

    def __init__(self, nin: int, activation: str | None = "relu", init: Init = None,
                 seed: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        nin = integer("Neuron", "nin", nin)
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
            check_input_dtype("Neuron", x, self.b.dtype)
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
        nin, nout = integer("Layer", "nin", nin), integer("Layer", "nout", nout)
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
        check_input_dtype("Layer", x, self.neurons[0].b.dtype)
        weight = stack([stack(n.w) for n in self.neurons])
        return self.activation(x @ weight.T + stack([n.b for n in self.neurons]))

    def extra_repr(self) -> str:
        return f"nin={len(self.neurons[0].w)}, nout={len(self.neurons)}"


class _Container(Module):
    """Children held as attributes named by their keys ("0", "1", ... by default), so that
    ``named_parameters()`` gives PyTorch's names (``0.weight``); indexed by position."""

    def _add(self, name: str, module: Any) -> None:
        owner = type(self).__name__
        if not isinstance(module, Module):
            raise TypeError(f"{owner}: item {name} is a {type(module).__name__}, not a "
                            f"Module")
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"{owner}: a child's name must be a non-empty string without "
                             f"'.'; got {name!r}")
        if not isinstance(self.__dict__.get(name), Module) and hasattr(self, name):
            raise ValueError(f"{owner}: the name {name!r} would hide {owner}'s own "
                             f"attribute of that name; choose another")
        setattr(self, name, module)

    def _named(self) -> list[tuple[str, Module]]:
        return list(self.named_children())

    def _position(self, index: Any) -> int:
        """``index`` (an int, negative from the end) as a position, or IndexError."""
        n = len(self)
        if not is_int(index):
            raise TypeError(f"{type(self).__name__}: indices are ints or slices; got "
                            f"{index!r}")
        if not -n <= index < n:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for "
                             f"{n} modules")
        return int(index) % n

    def __getitem__(self, index: int | slice) -> Any:
        named = self._named()
        if isinstance(index, slice):
            return self._from(named[index])
        return named[self._position(index)][1]

    def __setitem__(self, index: int, module: Module) -> None:
        """Replace the child at position ``index`` (negative from the end), keeping its
        name and place: ``parameters()`` and ``state_dict()`` then see the new one."""
        if isinstance(index, slice):
            raise TypeError(f"{type(self).__name__}: assign one module at an int index; "
                            f"got a slice")
        name = self._named()[self._position(index)][0]
        self._add(name, module)

    def __len__(self) -> int:
        return len(self._named())

    def append(self, module: Module) -> _Container:
        """Add ``module`` at the end, named by its position (as PyTorch); returns self."""
        self._add(str(len(self)), module)
        return self

    def __iter__(self) -> Iterator[Module]:
        return iter(self.children())

    def _from(self, named: list[tuple[str, Module]]) -> _Container:
        raise NotImplementedError


class Sequential(_Container):
    """Modules applied in order. Children are named "0", "1", ... as in PyTorch, or by the
    keys of a dict given alone: ``Sequential(OrderedDict(fc=Linear(2, 3), act=ReLU()))``
    has parameters ``fc.weight`` and ``fc.bias``."""

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self._add(name, module)
        else:
            for i, module in enumerate(modules):
                self._add(str(i), module)

    def _from(self, named: list[tuple[str, Module]]) -> Sequential:
        return Sequential(OrderedDict(named))

    def forward(self, x: Any) -> Any:
        return run_layers(list(self.children()), x)


class ModuleList(_Container):
    """A list of modules whose parameters the parent finds (``0.weight``, ``1.weight``,
    ...), as PyTorch's: ``append``, ``extend``, ``insert``, indexing, slicing (a new
    ModuleList), ``len`` and iteration. It has no ``forward``: loop over it in yours."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _from(self, named: list[tuple[str, Module]]) -> ModuleList:
        return ModuleList(module for _, module in named)

    def _renumber(self, modules: list[Module]) -> None:
        for name, _ in self._named():
            delattr(self, name)
        self.extend(modules)

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each of ``modules``; returns this ModuleList."""
        if isinstance(modules, Module) or not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend: expected an iterable of Modules; got "
                            f"{type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (the ones after it move up one)."""
        modules = list(self)
        modules.insert(index, module)
        self._renumber(modules)

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self)
        del modules[index if isinstance(index, slice) else self._position(index)]
        self._renumber(modules)


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
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable):
            raise TypeError(f"MLP: sizes must be a list of layer widths, the output layer "
                            f"last (MLP(2, [16, 3])); got {sizes!r}")
        sizes = list(sizes)
        if not sizes:
            raise ValueError("MLP: sizes must hold at least one width, the output layer's "
                             "(MLP(2, [16, 3])); got [] (for no layer at all, use Identity)")
        widths = [integer("MLP", "nin", nin),
                  *(integer("MLP", f"sizes[{i}]", n) for i, n in enumerate(sizes))]
        rng = generator(seed)
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
        x = run_layers(self.layers, x)
        if isinstance(x, _SCALAR_LIST) and len(x) == 1:
            return x[0]
        return x

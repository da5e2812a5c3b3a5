"""Activation modules: each wraps a function of ``tinygrad_edu.functional``.

Elementwise activations also map over a list of scalar Values, so micrograd-style scalar
networks can use them.
"""

from __future__ import annotations

from typing import Any

from ..value import Value
from .module import Identity, Module


class _Elementwise(Module):
    """An activation applied to every element; ``name`` is what ``MLP(activation=...)``
    and ``Neuron(activation=...)`` call it."""

    name: str

    def fn(self, x: Value) -> Value:
        raise NotImplementedError

    def forward(self, x: Any) -> Any:
        if isinstance(x, (list, tuple)):
            return [self.fn(v) for v in x]
        return self.fn(x)


class ReLU(_Elementwise):
    """max(x, 0)."""

    name = "relu"

    def fn(self, x: Value) -> Value:
        return x.relu()


class Tanh(_Elementwise):
    """tanh(x)."""

    name = "tanh"

    def fn(self, x: Value) -> Value:
        return x.tanh()


class Sigmoid(_Elementwise):
    """1 / (1 + e^-x)."""

    name = "sigmoid"

    def fn(self, x: Value) -> Value:
        return x.sigmoid()


_BY_NAME: dict[str, type[_Elementwise]] = {
    cls.name: cls for cls in (ReLU, Tanh, Sigmoid)
}


def activation_module(activation: str | Module | None) -> Module:
    """The module for an activation given by name (``"relu"``), as a module, or None
    (no activation: the identity)."""
    if activation is None:
        return Identity()
    if isinstance(activation, Module):
        return activation
    cls = _BY_NAME.get(str(activation).lower())
    if cls is None:
        raise ValueError(f"unknown activation {activation!r}; known: {sorted(_BY_NAME)}")
    return cls()

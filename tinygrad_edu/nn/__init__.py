"""Layers and networks: ``Module``, ``Parameter``, micrograd's ``Neuron``/``Layer``,
``Linear``, ``MLP``, activations, batch norm, dropout and losses as modules."""

from .activation import ReLU, Sigmoid, Tanh
from .dropout import AlphaDropout, Dropout
from .layers import MLP, DropConnect, Flatten, Layer, Linear, Neuron, Sequential
from .module import Identity, Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d

__all__ = [
    "MLP",
    "AlphaDropout",
    "BatchNorm1d",
    "BatchNorm2d",
    "DropConnect",
    "Dropout",
    "Flatten",
    "Identity",
    "Layer",
    "Linear",
    "Module",
    "Neuron",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
]

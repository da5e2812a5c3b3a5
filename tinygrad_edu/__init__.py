"""tinygrad_edu: a small autograd engine for learning how neural networks train.

A ``Value`` (also ``Tensor``) holds a NumPy array, records every op made from it, and
``backward()`` runs reverse-mode autodiff over the recorded graph.
"""

from . import data, diagnostics, functional, init, nn, optim, viz
from .autograd import (
    Function,
    detect_anomaly,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .ops.kernels import empty_cache, get_num_threads, memory_reserved, set_num_threads
from .rng import manual_seed
from .serialization import load, save
from .train import fit
from .value import Tensor, Value, concatenate, matmul, maximum, minimum, pad, stack, where

__version__ = "0.1.0"

__all__ = [
    "Function",
    "Tensor",
    "Value",
    "__version__",
    "concatenate",
    "data",
    "detect_anomaly",
    "diagnostics",
    "empty_cache",
    "enable_grad",
    "fit",
    "functional",
    "get_num_threads",
    "grad",
    "init",
    "is_grad_enabled",
    "load",
    "manual_seed",
    "matmul",
    "maximum",
    "memory_reserved",
    "minimum",
    "nn",
    "no_grad",
    "optim",
    "pad",
    "save",
    "set_grad_enabled",
    "set_num_threads",
    "stack",
    "viz",
    "where",
]

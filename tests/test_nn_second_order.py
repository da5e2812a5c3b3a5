"""Every public module in ``nn`` has correct second derivatives with a recorded upstream
gradient: ``(module(x) ** 2).sum()`` differentiated twice, with respect to the input and
to every parameter, against float64 central differences (``gradgradcheck``), and
``backward(create_graph=True)`` through it works."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Value, nn
from tinygrad_edu.testing import gradgradcheck

# Inputs away from every activation's kinks (0, ±0.5, ±1, ±3, 6).
X = np.array([[-2.3, -0.7], [0.4, 1.6], [-1.3, 2.1]])
X4 = np.array([[[[-2.3], [0.7]], [[0.4], [1.6]]], [[[-1.3], [2.1]], [[0.2], [-0.8]]]])
PROBS = np.array([[0.2, 0.7], [0.6, 0.3], [0.85, 0.1]])
LABELS = np.array([0, 1, 0])
SIGNS = np.array([1.0, -1.0, 1.0])
# (2, 2, 3, 3) images with values 0.1 apart: no max-pool window has a tie.
IMAGES = np.random.default_rng(0).permutation(36).reshape(2, 2, 3, 3) * 0.1 - 1.75


def _mode(module: nn.Module, training: bool) -> nn.Module:
    return module.train(training)


def _seq() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 3, seed=0), nn.Tanh(), nn.Linear(3, 2, seed=1))


# name -> (a factory of a fresh module, the input, the extra arguments after the input).
# A random module is built again, from the same seed, for every evaluation, so each
# draws the same mask and the function being differentiated is deterministic.
CASES: dict[str, tuple[Callable[[], nn.Module], np.ndarray, tuple[Any, ...]]] = {
    "Identity": (nn.Identity, X, ()),
    "Flatten": (nn.Flatten, X4, ()),
    "Linear": (lambda: nn.Linear(2, 3, seed=0), X, ()),
    "Linear-no-bias": (lambda: nn.Linear(2, 3, bias=False, seed=0), X, ()),
    "DropConnect-train": (lambda: nn.DropConnect(2, 3, p=0.5, seed=0), X, ()),
    "DropConnect-eval": (lambda: nn.DropConnect(2, 3, seed=0).eval(), X, ()),
    "Neuron": (lambda: nn.Neuron(2, activation="tanh", seed=0), X, ()),
    "Layer": (lambda: nn.Layer(2, 3, activation="tanh", seed=0), X, ()),
    "MLP": (lambda: nn.MLP(2, [4, 2], activation="tanh", seed=0), X, ()),
    "MLP-batchnorm-dropout": (lambda: nn.MLP(2, [4, 2], activation="tanh", batchnorm=True,
                                             dropout=0.3, seed=0), X, ()),
    "Sequential": (_seq, X, ()),
    "Maxout": (lambda: nn.Maxout(2, 3, pieces=3, seed=0), X, ()),
    "BatchNorm1d-train": (lambda: nn.BatchNorm1d(2), X, ()),
    "BatchNorm1d-eval": (lambda: nn.BatchNorm1d(2).eval(), X, ()),
    "BatchNorm2d-train": (lambda: nn.BatchNorm2d(2), X4, ()),
    "BatchNorm2d-eval": (lambda: nn.BatchNorm2d(2).eval(), X4, ()),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 2, seed=0), IMAGES, ()),
    "Conv2d-options": (lambda: nn.Conv2d(2, 4, 2, stride=2, padding=1, dilation=(1, 2),
                                         groups=2, bias=False, seed=0), IMAGES, ()),
    "MaxPool2d": (lambda: nn.MaxPool2d(2, stride=1), IMAGES, ()),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1), IMAGES, ()),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((2, 1)), IMAGES, ()),
    "FractionalMaxPool2d": (lambda: nn.FractionalMaxPool2d(2, (2, 2), seed=0), IMAGES, ()),
    "StochasticDepth-train": (lambda: nn.StochasticDepth(0.5, "row", seed=0), IMAGES, ()),
    "StochasticDepth-eval": (lambda: nn.StochasticDepth(0.5).eval(), IMAGES, ()),
    "Dropout2d-train": (lambda: nn.Dropout2d(0.4, seed=0), IMAGES, ()),
    "Dropout2d-eval": (lambda: nn.Dropout2d(0.4, seed=0).eval(), IMAGES, ()),
    "Dropout-train": (lambda: nn.Dropout(0.4, seed=0), X, ()),
    "Dropout-eval": (lambda: nn.Dropout(0.4, seed=0).eval(), X, ()),
    "AlphaDropout-train": (lambda: nn.AlphaDropout(0.4, seed=0), X, ()),
    "AlphaDropout-eval": (lambda: nn.AlphaDropout(0.4, seed=0).eval(), X, ()),
    "PReLU": (lambda: nn.PReLU(2, init=0.3), X, ()),
    "RReLU-train": (lambda: nn.RReLU(seed=0), X, ()),
    "RReLU-eval": (lambda: nn.RReLU(seed=0).eval(), X, ()),
    "Threshold": (lambda: nn.Threshold(0.0, 20.0), X, ()),
    **{name: (getattr(nn, name), X, ()) for name in [
        "CELU", "ELU", "GELU", "GLU", "SELU", "Hardshrink", "Hardsigmoid", "Hardswish",
        "Hardtanh", "LeakyReLU", "LogSigmoid", "LogSoftmax", "Mish", "ReLU", "ReLU6", "SiLU",
        "Sigmoid", "Softmax", "Softmin", "Softplus", "Softshrink", "Softsign", "Tanh",
        "Tanhshrink"]},
    "GELU-tanh": (lambda: nn.GELU(approximate="tanh"), X, ()),
    "CrossEntropyLoss": (nn.CrossEntropyLoss, X, (LABELS,)),
    "CrossEntropyLoss-smoothing": (lambda: nn.CrossEntropyLoss(label_smoothing=0.1), X,
                                   (LABELS,)),
    "NLLLoss": (nn.NLLLoss, X, (LABELS,)),
    "MSELoss": (nn.MSELoss, X, (PROBS,)),
    "L1Loss": (nn.L1Loss, X, (PROBS,)),
    "HuberLoss": (nn.HuberLoss, X, (PROBS,)),
    "SmoothL1Loss": (nn.SmoothL1Loss, X, (PROBS,)),
    "BCELoss": (nn.BCELoss, PROBS, (np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.3]]),)),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss, X, (PROBS,)),
    "MultiMarginLoss": (nn.MultiMarginLoss, X, (LABELS,)),
    "MultiMarginLoss-p2": (lambda: nn.MultiMarginLoss(p=2), X, (LABELS,)),
    "SVMLoss": (nn.SVMLoss, X, (LABELS,)),
    "HingeLoss": (nn.HingeLoss, X[:, 0], (SIGNS,)),
}

# Public names in nn that are not modules one can call on an input, and why.
NOT_CALLABLE = {
    "Module": "the base class: it has no forward",
    "ModuleList": "a container: it has no forward (its modules are covered one by one)",
}


def _replace(module: nn.Module, path: str, value: Value) -> None:
    """Put ``value`` where the parameter named ``path`` ("layers.0.weight") sits."""
    *parents, last = path.split(".")
    owner: Any = module
    for part in parents:
        owner = owner[int(part)] if isinstance(owner, list) else getattr(owner, part)
    if isinstance(owner, list):
        owner[int(last)] = value
    else:
        setattr(owner, last, value)


def _squared_output(case: str) -> Callable[..., Value]:
    """``(x, *params) -> (module(x, *extra) ** 2).sum()`` on a fresh module whose
    parameters are the given Values."""
    make, _, extra = CASES[case]

    def f(x: Value, *params: Value) -> Value:
        module = make()
        names = [name for name, _ in module.named_parameters()]
        for name, value in zip(names, params, strict=True):
            _replace(module, name, value)
        assert not module.parameters()  # every parameter was replaced
        return (module(x, *extra) ** 2).sum()

    return f


@pytest.mark.parametrize("case", sorted(CASES))
def test_second_derivatives_with_a_recorded_upstream_gradient(case):
    make, x, _ = CASES[case]
    params = [Value(p.data.copy()) for p in make().parameters()]
    f = _squared_output(case)
    assert gradgradcheck(f, Value(x), *params)
    # And through the public path: grad with create_graph, then backward of a function of
    # the gradients reaches every input that the gradients depend on.
    inputs = [Value(x), *params]
    grads = tg.grad(f(*inputs), inputs, create_graph=True, allow_unused=True)
    total = sum((g ** 2).sum() for g in grads if g is not None)
    total.backward()
    assert all(v.grad is None or np.all(np.isfinite(v.grad)) for v in inputs)
    assert any(v.grad is not None for v in inputs)


def test_the_cases_cover_every_public_module():
    public = {name for name in nn.__all__
              if isinstance(getattr(nn, name), type) and issubclass(getattr(nn, name), nn.Module)}
    covered = {type(make()).__name__ for make, _, _ in CASES.values()}
    assert covered | set(NOT_CALLABLE) == public
    assert not covered & set(NOT_CALLABLE)

"""Losses as modules: each stores its options and calls the function of the same name in
``tinygrad_edu.functional`` (see that module and ``docs/losses.md`` for the formulas)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..functional import loss as L
from ..value import Value
from .module import Module


class _Loss(Module):
    """``loss(input, target)`` = ``function(input, target, **options)``."""

    function: Callable[..., Value]

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options

    def forward(self, input: Any, target: Any) -> Value:
        return type(self).function(input, target, **self.options)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items() if v is not None)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy against class labels or probabilities."""

    function = staticmethod(L.cross_entropy)

    def __init__(self, weight: Any = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight=weight, reduction=reduction, label_smoothing=label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities against class labels."""

    function = staticmethod(L.nll_loss)

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(weight=weight, reduction=reduction)


class MSELoss(_Loss):
    """Mean squared error."""

    function = staticmethod(L.mse_loss)

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    function = staticmethod(L.l1_loss)

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)


class HuberLoss(_Loss):
    """Quadratic within ``delta`` of the target, linear beyond."""

    function = staticmethod(L.huber_loss)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction, delta=delta)


class SmoothL1Loss(_Loss):
    """Huber loss divided by ``beta`` (PyTorch's smooth L1)."""

    function = staticmethod(L.smooth_l1_loss)

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction=reduction, beta=beta)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities."""

    function = staticmethod(L.binary_cross_entropy)

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(weight=weight, reduction=reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (sigmoid built in, stable for large logits)."""

    function = staticmethod(L.binary_cross_entropy_with_logits)

    def __init__(self, weight: Any = None, reduction: str = "mean",
                 pos_weight: Any = None) -> None:
        super().__init__(weight=weight, reduction=reduction, pos_weight=pos_weight)


class MultiMarginLoss(_Loss):
    """PyTorch's multi-class hinge loss (divided by the number of classes)."""

    function = staticmethod(L.multi_margin_loss)

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(p=p, margin=margin, weight=weight, reduction=reduction)


class SVMLoss(_Loss):
    """CS231n's multiclass SVM loss (MultiMarginLoss times the number of classes)."""

    function = staticmethod(L.svm_loss)

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(margin=margin, reduction=reduction)


class HingeLoss(_Loss):
    """micrograd's ±1-label hinge loss, mean(relu(1 - y * score))."""

    function = staticmethod(L.hinge_loss)

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)

"""Loss functions: how far predictions are from their targets, as a number to minimize.

Every loss is composed from differentiable ops, so first and second derivatives come from
the engine with no backward written here; cross-entropy against labels, the loss of
almost every training step, is one fused op (``ops.loss.SoftmaxCrossEntropy``).
Names, arguments, defaults and formulas follow ``torch.nn.functional``; ``docs/losses.md``
has the maths and when to use which loss.

Conventions shared by all the losses:

- ``reduction``: ``"mean"`` (the default) averages the per-element losses, ``"sum"`` adds
  them, ``"none"`` returns them unreduced.
- Class losses take scores of shape (C,), (N, C) or (N, C, d1, ...): the classes lie on
  axis 1, or on axis 0 of a single (C,) sample. Class labels have the input's shape
  without the class axis: (), (N,) or (N, d1, ...). They are integers, or whole numbers in
  a float array or in a Value with ``requires_grad=False`` (labels have no gradient).
- Inputs and targets may be Values, arrays, or lists of 0-d Values (micrograd style, which
  are stacked). Arguments that PyTorch places after its deprecated ``size_average`` and
  ``reduce`` are keyword-only here, so a positional argument means the same in both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import is_int, real_number, shape_of
from ..autograd import ValueBase
from ..ops.loss import SoftmaxCrossEntropy, label_index
from ..value import Value, stack, where

ValueLike = Value | ArrayLike | Sequence[Value]

_REDUCTIONS = ("mean", "sum", "none")
# PyTorch clamps the logarithms in binary_cross_entropy at -100.
_LOG_CLAMP = -100.0

# ----------------------------------------------------------------------------------------
# Shared helpers: conversion, validation, reduction
# ----------------------------------------------------------------------------------------


def _as_value(x: Any, dtype: Any = None) -> Value:
    """``x`` as a Value: Values pass through, a list holding Values is stacked, and
    anything else becomes a constant (``requires_grad=False``) of ``dtype``."""
    if isinstance(x, ValueBase):
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(e, ValueBase) for e in x):
        return stack([_as_value(e, dtype) for e in x])
    return Value(x, requires_grad=False, dtype=dtype)


def _constant(name: str, what: str, x: Any) -> np.ndarray:
    """The data of a non-differentiable argument (labels): a Value must not require grad."""
    if isinstance(x, ValueBase):
        if x.requires_grad:
            raise ValueError(f"{name}: {what} have no gradient, but got a Value that requires "
                             f"grad; pass an array, or a Value with requires_grad=False")
        return x.data
    return np.asarray(x)


def _few(values: np.ndarray) -> list:
    """Up to five distinct offending values, for an error message."""
    return np.unique(values)[:5].tolist()


def _check_reduction(name: str, reduction: str) -> None:
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none'; "
                         f"got {reduction!r}")


def _check_not_empty(name: str, size: int) -> None:
    """A mean over no elements is an error, not the NaN PyTorch returns."""
    if size == 0:
        raise ValueError(f"{name}: reduction='mean' of an empty batch is undefined "
                         f"(PyTorch returns nan); use reduction='sum'")


def _reduce(name: str, reduction: str, loss: Value, total: Any = None) -> Value:
    """Reduce per-element losses. ``"mean"`` divides by ``total`` when given (the summed
    class weights of the targets) and by the number of elements otherwise."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if total is None:
        _check_not_empty(name, loss.size)
        return loss.mean()
    if float(np.asarray(total)) == 0:
        raise ValueError(f"{name}: reduction='mean' divides by the summed weights of the "
                         f"targets' classes, which is 0 (PyTorch returns nan)")
    return loss.sum() / total


def _same_shape(name: str, input: Any, target: Any, reduction: str) -> tuple[Value, Value]:
    """Input and target of an elementwise loss, as Values of one shape."""
    _check_reduction(name, reduction)
    x = _as_value(input)
    y = _as_value(target, x.dtype)
    if x.shape != y.shape:
        raise ValueError(f"{name}: input of shape {x.shape} and target of shape {y.shape} "
                         f"differ; give a target of the input's shape (broadcasting would "
                         f"pair the wrong elements)")
    return x, y


def _broadcast_weight(name: str, what: str, weight: Any, x: Value) -> Value | None:
    """An elementwise loss's ``weight``/``pos_weight``: it must broadcast to x's shape."""
    if weight is None:
        return None
    w = _as_value(weight, x.dtype)
    try:
        fits = np.broadcast_shapes(w.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {what} of shape {w.shape} does not broadcast to the "
                         f"input's shape {x.shape}")
    return w


# ----------------------------------------------------------------------------------------
# Class losses: inputs with a class axis, integer labels, per-class weights
# ----------------------------------------------------------------------------------------


def _class_input(name: str, input: Any, max_ndim: int | None = None) -> tuple[Value, int]:
    """The scores as a Value, and their class axis: 0 for a (C,) sample, else 1."""
    x = _as_value(input)
    shape = x.shape
    if not shape or (max_ndim is not None and len(shape) > max_ndim):
        expected = "(C,) or (N, C)" if max_ndim == 2 else "(C,), (N, C) or (N, C, d1, ...)"
        raise ValueError(f"{name}: input must have shape {expected}, classes on axis 1 "
                         f"(or 0 for a single sample); got shape {shape}")
    axis = 0 if len(shape) == 1 else 1
    if not shape[axis]:
        raise ValueError(f"{name}: input of shape {shape} has no classes (axis {axis} "
                         f"is empty)")
    return x, axis


def _class_labels(name: str, target: Any, x: Value, axis: int,
                  probabilities: bool = False) -> np.ndarray:
    """Checked integer labels of x's shape without the class axis, each in [0, C)."""
    labels = _constant(name, "class labels", target)
    shape = x.shape
    expected = shape[:axis] + shape[axis + 1:]
    if labels.shape != expected:
        also = f" or class probabilities of shape {shape}" if probabilities else ""
        raise ValueError(f"{name}: input of shape {shape} needs class labels of shape "
                         f"{expected}{also}; got target of shape {labels.shape}")
    classes = shape[axis]
    kind = labels.dtype.kind
    if kind == "f":
        whole = np.isfinite(labels) & (labels == np.round(labels))
        if not whole.all():
            raise ValueError(f"{name}: class labels must be whole numbers; got "
                             f"{_few(labels[~whole])}")
        inside = not labels.size or (labels.min() >= 0 and labels.max() < classes)
    elif kind in "iu":
        # NOTE: read as unsigned, a negative label is huge, so one max checks both ends.
        as_unsigned = labels.astype(np.intp, copy=False).view(np.uintp)
        inside = not labels.size or as_unsigned.max() < classes
    else:
        raise TypeError(f"{name}: class labels must be integers; got dtype {labels.dtype}")
    if not inside:
        outside = (labels < 0) | (labels >= classes)
        raise ValueError(f"{name}: class labels must be in [0, {classes}) for input of shape "
                         f"{shape}; got {_few(labels[outside])}")
    return labels.astype(np.intp, copy=False)


def _class_weight(name: str, weight: Any, x: Value, axis: int) -> Any:
    """Per-class weights: None, or a Value/array of shape (C,)."""
    if weight is None:
        return None
    w = weight if isinstance(weight, ValueBase) else np.asarray(weight, dtype=x.dtype)
    classes = x.shape[axis]
    if w.shape != (classes,):
        raise ValueError(f"{name}: weight must have shape ({classes},), one per class of "
                         f"input shape {x.shape}; got shape {w.shape}")
    return w


def _class_problem(name: str, input: Any, target: Any, weight: Any, reduction: str,
                   max_ndim: int | None = None) -> tuple[Value, int, np.ndarray, Any]:
    """Validate a class loss's arguments: (scores, class axis, labels, class weights)."""
    _check_reduction(name, reduction)
    x, axis = _class_input(name, input, max_ndim)
    labels = _class_labels(name, target, x, axis)
    return x, axis, labels, _class_weight(name, weight, x, axis)


def _pick(x: Value, labels: np.ndarray, axis: int) -> Value:
    """x[..., labels, ...]: the entry of each sample's labelled class (integer indexing)."""
    return x[label_index(labels, axis)]


def _weighted(x: Value, w: Any, axis: int) -> Value:
    """x times per-class weights broadcast along the class axis (x itself without weights)."""
    if w is None:
        return x
    return x * w.reshape((-1,) + (1,) * (x.ndim - 1 - axis))


def _nll(logp: Value, labels: np.ndarray, w: Any, axis: int) -> tuple[Value, Any]:
    """Per-sample ``-w[y] * logp[y]``, and the mean's divisor: ``sum w[y]`` (None unweighted)."""
    loss = -_pick(logp, labels, axis)
    if w is None:
        return loss, None
    wy = w[labels]
    return loss * wy, wy.sum()


def nll_loss(input: ValueLike, target: ArrayLike, weight: ArrayLike | None = None, *,
             reduction: str = "mean") -> Value:
    """Negative log-likelihood of the labelled classes, given log-probabilities.

    ``loss_n = -w[y_n] * input[n, y_n]``. ``"mean"`` divides the sum by ``sum_n w[y_n]``
    (by N without weights), as PyTorch does. ``input`` holds log-probabilities, for example
    from ``x - x.logsumexp(axis=1, keepdims=True)``; ``cross_entropy`` does both steps.
    """
    x, axis, labels, w = _class_problem("nll_loss", input, target, weight, reduction)
    return _reduce("nll_loss", reduction, *_nll(x, labels, w, axis))


def cross_entropy(input: ValueLike, target: ValueLike, weight: ArrayLike | None = None, *,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Value:
    """Softmax cross-entropy of scores (logits) against class labels or probabilities.

    With ``logp = log_softmax(x)`` over the class axis, ``eps = label_smoothing`` and C
    classes, each sample's loss is ``-sum_c w_c q_c logp_c`` for the target distribution
    ``q`` (w = 1 without weights):

    - labels ``y``: ``q = (1 - eps) one_hot(y) + eps / C``, i.e.
      ``(1 - eps) (-w_y logp_y) + (eps / C) (-sum_c w_c logp_c)``; ``"mean"`` divides the
      sum by ``sum_n w[y_n]`` (by N without weights), as PyTorch does;
    - probabilities ``p`` of the input's shape (soft targets, e.g. from mixup):
      ``q = (1 - eps) p + eps / C``; ``"mean"`` divides by N whatever the weights.

    The target's shape decides which: the input's shape means probabilities, the input's
    shape without the class axis means labels. Probabilities may be a Value that requires
    grad (the loss is differentiable in them); they are not checked to sum to 1.
    ``log_softmax(x) = x - logsumexp(x)`` subtracts the largest score first, so logits of
    any size (±1e4 and beyond) give finite losses and gradients.
    """
    if _common_call(input, target, weight, reduction, label_smoothing):
        try:
            return SoftmaxCrossEntropy.apply(input, labels=target, axis=1, reduction=reduction)
        except ValueError:  # a label out of range: the checks below name it
            pass
    name = "cross_entropy"
    _check_reduction(name, reduction)
    if not 0.0 <= real_number(name, "label_smoothing", label_smoothing) <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1]; got {label_smoothing}")
    x, axis = _class_input(name, input)
    w = _class_weight(name, weight, x, axis)
    classes = x.shape[axis]
    if shape_of(target) == x.shape:
        q = _as_value(target, x.dtype)
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / classes
        logp = x - x.logsumexp(axis=axis, keepdims=True)
        return _reduce(name, reduction, -_weighted(logp * q, w, axis).sum(axis=axis))
    labels = _class_labels(name, target, x, axis, probabilities=True)
    if label_smoothing:
        logp = x - x.logsumexp(axis=axis, keepdims=True)
        loss, total = _nll(logp, labels, w, axis)
        uniform = -_weighted(logp, w, axis).sum(axis=axis)
        loss = loss * (1 - label_smoothing) + uniform * (label_smoothing / classes)
        return _reduce(name, reduction, loss, total)
    if w is None:  # one node, reduction included: the common case, every training step
        if reduction == "mean":
            _check_not_empty(name, labels.size)
        return SoftmaxCrossEntropy.apply(x, labels=labels, axis=axis, reduction=reduction)
    loss = SoftmaxCrossEntropy.apply(x, labels=labels, axis=axis)
    wy = w[labels]
    return _reduce(name, reduction, loss * wy, wy.sum())


def _common_call(input: Any, target: Any, weight: Any, reduction: Any,
                 label_smoothing: Any) -> bool:
    """Whether ``cross_entropy``'s arguments are those of a training step: a Value of
    (N, C) scores with N >= 1, integer labels of shape (N,) in an ndarray of NumPy's index
    type, no weights, no smoothing, a known reduction.

    Of such a call only the labels' range is left to check, and the op checks it as it
    computes each label's position (``np.ravel_multi_index`` raises for an index outside
    its axis); every other call, and this one if the op raises, goes through the checks
    that name what is wrong.
    """
    if not (isinstance(input, ValueBase) and type(target) is np.ndarray):
        return False
    shape = input._data.shape
    return (len(shape) == 2 and target.dtype is _INDEX and target.shape == shape[:1]
            and shape[0] > 0 and weight is None and type(label_smoothing) is float
            and label_smoothing == 0.0 and type(reduction) is str and reduction in _REDUCTIONS)


_INDEX = np.dtype(np.intp)


def _margin_sums(name: str, input: Any, target: Any, p: int, margin: float, weight: Any,
                 reduction: str) -> tuple[Value, int]:
    """Per-sample ``w[y] * sum_{i != y} max(0, margin - x_y + x_i)**p``, and C."""
    if not is_int(p) or p not in (1, 2):
        raise ValueError(f"{name}: p must be 1 or 2; got {p!r}")
    real_number(name, "margin", margin)
    x, axis, labels, w = _class_problem(name, input, target, weight, reduction, max_ndim=2)
    classes = x.shape[axis]  # the class axis is the last one of (C,) and (N, C)
    hinge = (x - _pick(x, labels, axis).unsqueeze(axis) + margin).relu()
    if p == 2:
        hinge = hinge * hinge
    others = np.expand_dims(labels, -1) != np.arange(classes)
    loss = where(others, hinge, 0.0).sum(axis=axis)
    return (loss if w is None else loss * w[labels]), classes


def multi_margin_loss(input: ValueLike, target: ArrayLike, p: int = 1, margin: float = 1.0,
                      weight: ArrayLike | None = None, *, reduction: str = "mean") -> Value:
    """PyTorch's multi-class margin (hinge) loss of scores x against labels y.

    ``loss_n = w[y] * sum_{i != y} max(0, margin - x[y] + x[i])**p / C`` for an input of
    shape (N, C) or (C,); ``p`` is 1 or 2. The weight multiplies after the power, as
    PyTorch computes it (its documentation writes it inside). ``"mean"`` averages over N
    whatever the weights. ``multi_margin_loss * C == svm_loss``.
    """
    loss, classes = _margin_sums("multi_margin_loss", input, target, p, margin, weight,
                                 reduction)
    return _reduce("multi_margin_loss", reduction, loss / classes)


def svm_loss(input: ValueLike, target: ArrayLike, margin: float = 1.0, *,
             reduction: str = "mean") -> Value:
    """The multiclass SVM loss of CS231n: ``loss_n = sum_{j != y} max(0, x[j] - x[y] + margin)``.

    The same sum as ``multi_margin_loss`` with ``p=1``, not divided by the number of
    classes C: ``svm_loss == C * multi_margin_loss``. Scores of shape (N, C) or (C,).
    """
    loss, _ = _margin_sums("svm_loss", input, target, 1, margin, None, reduction)
    return _reduce("svm_loss", reduction, loss)


def hinge_loss(scores: ValueLike, labels: ArrayLike, *, reduction: str = "mean") -> Value:
    """The binary hinge loss of micrograd's demo: ``mean(relu(1 - y * score))``, y = ±1.

    ``scores`` is a Value of shape (N,) or (N, 1) (or 0-d), or a list of N 0-d Values as a
    micrograd model returns them; ``labels`` holds N values, each -1 or +1, in either of
    those shapes. With ``reduction="none"`` the losses have the scores' shape.
    """
    name = "hinge_loss"
    _check_reduction(name, reduction)
    s = _as_value(scores)
    y = _constant(name, "labels", labels)
    for what, shape in (("scores", s.shape), ("labels", y.shape)):
        if len(shape) > 2 or math.prod(shape[1:]) != 1:
            raise ValueError(f"{name}: {what} must have shape (N,) or (N, 1); got {shape}")
    if y.size != s.size:
        raise ValueError(f"{name}: {s.size} score(s) but {y.size} label(s); give one label "
                         f"per score")
    signs = np.isin(y, (-1, 1))
    if not signs.all():
        raise ValueError(f"{name}: labels must be -1 or +1; got {_few(y[~signs])} "
                         f"(map 0/1 labels to ±1 with 2 * y - 1)")
    margins = 1 - s * y.reshape(s.shape).astype(s.dtype)
    return _reduce(name, reduction, margins.relu())


# ----------------------------------------------------------------------------------------
# Binary classification
# ----------------------------------------------------------------------------------------


def _softplus(x: Value) -> Value:
    """``log(1 + e**x) = logsumexp(0, x)``: stable for any x, and its derivative is the
    sigmoid everywhere (also at 0, where ``relu(x) + log(1 + e**-|x|)`` would give 0)."""
    return stack([np.zeros(x.shape, x.dtype), x]).logsumexp(axis=0)


def _check_probabilities(name: str, what: str, p: Value) -> None:
    inside = (p.data >= 0) & (p.data <= 1)
    if not inside.all():
        raise ValueError(f"{name}: {what} must be probabilities in [0, 1]; got "
                         f"{_few(p.data[~inside])}")


def _clamped_log(p: Value) -> Value:
    """``max(log(p), -100)`` for p in [0, 1], with a finite derivative everywhere: 1/p
    where the log is above -100, 0 where it is clamped.

    NOTE: the clamped elements take the log of 1 instead of their own, so that 1/p is never
    evaluated at p = 0; p below the dtype's smallest normal number counts as clamped too,
    since 1/p would overflow there (float32's floor, e**-100, is subnormal).
    """
    floor = max(math.exp(_LOG_CLAMP), float(np.finfo(p.dtype).tiny))
    above = p.data > floor
    return where(above, where(above, p, 1.0).log(), _LOG_CLAMP)


def binary_cross_entropy(input: ValueLike, target: ValueLike, weight: ArrayLike | None = None,
                         *, reduction: str = "mean") -> Value:
    """Cross-entropy of probabilities x in [0, 1] against targets y in [0, 1]:
    ``loss = -w (y log(x) + (1 - y) log(1 - x))``.

    As in PyTorch, each log is clamped at -100, so x = 0 or 1 gives a finite loss and a
    finite gradient (0 where a log is clamped). ``weight`` broadcasts to the input's shape;
    ``"mean"`` averages over all elements. Prefer ``binary_cross_entropy_with_logits`` on
    scores: it is exact where a sigmoid saturates to 0 or 1.
    """
    name = "binary_cross_entropy"
    x, y = _same_shape(name, input, target, reduction)
    _check_probabilities(name, "input", x)
    _check_probabilities(name, "target", y)
    w = _broadcast_weight(name, "weight", weight, x)
    loss = -(y * _clamped_log(x) + (1 - y) * _clamped_log(1 - x))
    return _reduce(name, reduction, loss if w is None else loss * w)


def binary_cross_entropy_with_logits(input: ValueLike, target: ValueLike,
                                     weight: ArrayLike | None = None, *,
                                     reduction: str = "mean",
                                     pos_weight: ArrayLike | None = None) -> Value:
    """Binary cross-entropy of scores x (logits) against targets y, sigmoid included:
    ``loss = w (pos_weight y softplus(-x) + (1 - y) softplus(x))``.

    That is ``-w (pos_weight y log(sigmoid(x)) + (1 - y) log(1 - sigmoid(x)))``, with
    ``-log(sigmoid(x)) = softplus(-x)`` and ``softplus(x) = logsumexp(0, x)`` computed
    without overflow, so logits of ±1e4 give exact, finite losses and gradients.
    ``weight`` and ``pos_weight`` (weights of the positive targets, e.g. one per class)
    broadcast to the input's shape.
    """
    name = "binary_cross_entropy_with_logits"
    x, y = _same_shape(name, input, target, reduction)
    w = _broadcast_weight(name, "weight", weight, x)
    pw = _broadcast_weight(name, "pos_weight", pos_weight, x)
    positive = y * _softplus(-x)
    loss = (positive if pw is None else positive * pw) + (1 - y) * _softplus(x)
    return _reduce(name, reduction, loss if w is None else loss * w)


# ----------------------------------------------------------------------------------------
# Regression
# ----------------------------------------------------------------------------------------


def mse_loss(input: ValueLike, target: ValueLike, *, reduction: str = "mean") -> Value:
    """Mean squared error: ``loss = (x - y)**2`` per element.

    A square beyond the dtype's range is inf, as in PyTorch (its gradient 2 (x - y) stays
    finite).
    """
    x, y = _same_shape("mse_loss", input, target, reduction)
    d = x - y
    # NOTE: the overflow of a huge difference's square is the true result (inf), not an
    # accident of the formula, so NumPy's warning about it is silenced.
    with np.errstate(over="ignore"):
        return _reduce("mse_loss", reduction, d * d)


def l1_loss(input: ValueLike, target: ValueLike, *, reduction: str = "mean") -> Value:
    """Mean absolute error: ``loss = |x - y|`` per element (gradient 0 where x == y)."""
    x, y = _same_shape("l1_loss", input, target, reduction)
    return _reduce("l1_loss", reduction, abs(x - y))


def _huber(d: Value, delta: float) -> Value:
    """``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - delta / 2)``."""
    near = np.abs(d.data) < delta
    # NOTE: the square takes 0 where it is not used, so a huge d cannot overflow there.
    small = where(near, d, 0.0)
    return where(near, 0.5 * small * small, delta * (abs(d) - 0.5 * delta))


def huber_loss(input: ValueLike, target: ValueLike, reduction: str = "mean",
               delta: float = 1.0) -> Value:
    """Huber loss: quadratic near the target, linear (slope ``delta``) beyond ``delta``.

    With ``d = x - y``: ``loss = 0.5 d**2`` if ``|d| < delta``, else
    ``delta (|d| - 0.5 delta)``. ``huber_loss(delta=b) == b * smooth_l1_loss(beta=b)``.
    """
    if not real_number("huber_loss", "delta", delta) > 0:
        raise ValueError(f"huber_loss: delta must be > 0; got {delta}")
    x, y = _same_shape("huber_loss", input, target, reduction)
    return _reduce("huber_loss", reduction, _huber(x - y, delta))


def smooth_l1_loss(input: ValueLike, target: ValueLike, *, reduction: str = "mean",
                   beta: float = 1.0) -> Value:
    """Smooth L1 loss: the Huber loss divided by its threshold, so the linear part has slope 1.

    With ``d = x - y``: ``loss = 0.5 d**2 / beta`` if ``|d| < beta``, else
    ``|d| - 0.5 beta``; ``beta = 0`` gives ``l1_loss``, as in PyTorch.
    """
    if not real_number("smooth_l1_loss", "beta", beta) >= 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0; got {beta}")
    x, y = _same_shape("smooth_l1_loss", input, target, reduction)
    d = x - y
    return _reduce("smooth_l1_loss", reduction, _huber(d, beta) / beta if beta else abs(d))

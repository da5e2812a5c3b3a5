"""The lectures' checks before and after training: the initial loss, overfitting a tiny
subset, and the verdict on a finished run (overfitting, underfitting, diverged, fine).

Each returns a ``CheckResult``; printing it gives the verdict with the numbers it rests on.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import nn
from .._checks import integer, is_int, is_real
from ..autograd import no_grad
from ..functional import loss as L
from ..functional.regularization import l2_penalty
from ..nn.module import Module
from ..optim import Adam
from ..rng import generator
from ..train import History, fit
from ..value import Value


@dataclass
class CheckResult:
    """What a check found: ``passed``, the ``measured`` number(s), what was ``expected``,
    and a ``message`` saying why (and, on failure, what to change). ``details`` holds
    whatever else the check computed (a History, the scores' spread, ...)."""

    name: str
    passed: bool
    measured: Any
    expected: Any
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.name}: {'PASS' if self.passed else 'FAIL'}: {self.message}"

    def __bool__(self) -> bool:
        return self.passed


# ----------------------------------------------------------------------------------------
# The initial loss
# ----------------------------------------------------------------------------------------


def _chance_loss(loss_fn: Any, classes: int) -> tuple[float, str]:
    """The loss of a model whose scores are all equal, and how it is written."""
    function = getattr(type(loss_fn), "function", loss_fn)
    margin = float(getattr(loss_fn, "options", {}).get("margin", 1.0))
    if function is L.cross_entropy:
        return math.log(classes), f"log({classes})"
    if function is L.svm_loss:
        return (classes - 1) * margin, f"C - 1 = {classes - 1}" + (
            "" if margin == 1.0 else f" times the margin {margin:g}")
    if function is L.multi_margin_loss:
        return (classes - 1) / classes * margin, f"(C - 1) / C = {classes - 1}/{classes}"
    raise TypeError(f"check_initial_loss: no chance-level loss is known for loss_fn "
                    f"{loss_fn!r}; expected softmax cross-entropy (nn.CrossEntropyLoss, "
                    f"F.cross_entropy) or the multiclass SVM loss (nn.SVMLoss, "
                    f"nn.MultiMarginLoss)")


def check_initial_loss(model: Module, X: Any, y: Any, loss_fn: Any = None, *,
                       weight_decay: float = 0.0, rtol: float = 0.2) -> CheckResult:
    """The untrained model's loss on ``(X, y)`` against chance level: log(C) for softmax
    cross-entropy (the default ``loss_fn``), C - 1 for the multiclass SVM loss, with C
    the width of the model's output. Passes within ``rtol`` (relative).

    With ``weight_decay`` > 0, the regularized loss, data loss + weight_decay / 2 *
    sum ||w||^2 (what an optimizer's ``weight_decay`` minimizes), must also be higher
    than the data loss. The model is evaluated in ``eval()`` mode, without a graph, and
    left in the mode it was in.
    """
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    if not (is_real(weight_decay) and weight_decay >= 0):
        raise ValueError(f"check_initial_loss: weight_decay must be a number >= 0; got "
                         f"{weight_decay!r}")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            scores = model(Value(X, requires_grad=False))
            if scores.ndim != 2 or scores.shape[1] < 2:
                raise ValueError(f"check_initial_loss: the model's output must be class "
                                 f"scores of shape (N, C) with C >= 2; got shape "
                                 f"{scores.shape}")
            classes = scores.shape[1]
            expected, formula = _chance_loss(loss_fn, classes)
            data_loss = float(loss_fn(scores, y).item())
            penalty = 0.5 * weight_decay * float(l2_penalty(model.parameters()).item())
    finally:
        model.train(was_training)
    spread = float(scores.data.std())
    name = "check_initial_loss"
    details = {"scores_std": spread, "classes": classes, "regularized": data_loss + penalty}
    numbers = f"loss {data_loss:.4f}, expected {expected:.4f} = {formula}"
    if not np.isfinite(data_loss):
        return CheckResult(name, False, data_loss, expected,
                           f"{numbers}: the loss is not finite before training; look for a "
                           f"log of 0 or an overflow in the forward pass", details)
    if data_loss > expected * (1 + rtol):
        return CheckResult(name, False, data_loss, expected,
                           f"{numbers}: too high; the untrained model is confidently wrong "
                           f"because its scores are large (std {spread:.3g}); start with "
                           f"smaller weights (init='small', or the last layer's weights "
                           f"times 0.01)", details)
    if data_loss < expected * (1 - rtol):
        return CheckResult(name, False, data_loss, expected,
                           f"{numbers}: lower than chance before any training; check that "
                           f"the labels do not leak into the input and that the loss "
                           f"averages over the batch", details)
    if weight_decay > 0 and not data_loss + penalty > data_loss:
        return CheckResult(name, False, data_loss, expected,
                           f"{numbers}, but the regularized loss {data_loss + penalty:.4f} "
                           f"is not higher: the weights are all zero", details)
    reg = (f"; with weight decay {weight_decay:g} it rises to {data_loss + penalty:.4f}"
           if weight_decay > 0 else "")
    return CheckResult(name, True, data_loss, expected,
                       f"{numbers}, within {rtol:.0%}: every class starts equally likely{reg}",
                       details)


# ----------------------------------------------------------------------------------------
# Overfitting a tiny subset
# ----------------------------------------------------------------------------------------


def _copy_for_training(model: Module, optimizer: Any) -> tuple[Module, Any]:
    """Deep copies of the model and its optimizer (the copy's optimizer holds the copy's
    parameters), without forward hooks (a Monitor on the model must not see the check),
    without dropout and without weight decay: nothing may keep it from fitting."""
    memo: dict[int, Any] = {id(m._forward_hooks): [] for m in model.modules()}
    model_copy, optimizer_copy = copy.deepcopy((model, optimizer), memo)
    for module in model_copy.modules():
        if isinstance(module, (nn.Dropout, nn.AlphaDropout)):
            module.p = 0.0
    if optimizer_copy is None:
        optimizer_copy = Adam(model_copy.parameters(), lr=0.01)
    else:
        owned = {id(p) for p in model_copy.parameters()}
        if not any(id(p) in owned for g in optimizer_copy.param_groups for p in g["params"]):
            raise ValueError("check_overfit: the optimizer does not hold the model's "
                             "parameters; build it as Optimizer(model.parameters(), ...)")
        for group in optimizer_copy.param_groups:
            if "weight_decay" in group:
                group["weight_decay"] = 0.0
    return model_copy, optimizer_copy


def check_overfit(model: Module, X: Any, y: Any, n: int = 20, epochs: int = 200,
                  optimizer: Any = None, loss_fn: Any = None, *, seed: Any = 0,
                  ) -> CheckResult:
    """Train a copy of ``model`` on ``n`` examples (drawn with ``seed``) as one full batch,
    with no regularization (dropout and weight decay off), until the training accuracy is
    100% or ``epochs`` run out. The model and optimizer passed in are left unchanged.

    ``optimizer`` is an optimizer over ``model.parameters()`` (copied with its options and
    state); None uses Adam with lr 0.01. On failure the message says which it is: the loss
    did not move (learning rate 0 or too small, no gradient reaching the weights), the
    output is the same for every example (the model ignores its input, e.g. all-zero
    weights whose units are all alike), or the loss fell but not far enough (capacity).
    """
    n_examples = len(X)
    if not (is_int(n) and 1 <= n <= n_examples):
        raise ValueError(f"check_overfit: n must be an int in [1, {n_examples}] (the number "
                         f"of examples); got {n!r}")
    epochs = integer("check_overfit", "epochs", epochs)
    rows = np.sort(generator(seed).choice(n_examples, size=int(n), replace=False))
    X_few, y_few = np.asarray(X)[rows], np.asarray(y)[rows]
    trained, opt = _copy_for_training(model, optimizer)
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    with np.errstate(all="ignore"):  # a diverging run is a finding here, reported below
        history = fit(trained, loss_fn, opt, (X_few, y_few), epochs=epochs,
                      callback=lambda epoch, h: h.train_acc[-1] == 1.0, progress=False)
        with no_grad():
            scores = trained(Value(X_few, requires_grad=False)).data
    accuracy = history.train_acc[-1]
    first, last = history.train_loss[0], history.train_loss[-1]
    spread = float(np.abs(scores - scores[:1]).max())
    name = "check_overfit"
    details = {"history": history, "output_spread": spread}
    numbers = (f"{n} examples, {history.epochs} epochs: loss {first:.4f} -> {last:.4f}, "
               f"train accuracy {_percent(accuracy)}")
    if accuracy == 1.0:
        return CheckResult(name, True, accuracy, 1.0,
                           f"{numbers}: the model can fit a tiny subset", details)
    if not np.isfinite(last):
        why = "the loss diverged: lower the learning rate"
    elif spread <= 1e-9 * (1 + float(np.abs(scores).max())):
        why = ("the output is the same for every example, so the model ignores its input: "
               "all-zero (or all-equal) weights make every unit compute the same thing and "
               "get the same gradient (symmetric units), or the forward pass drops the input")
    elif abs(first - last) <= 1e-3 * abs(first):
        why = ("the loss did not move: the learning rate is 0 or far too small, or no "
               "gradient reaches the weights")
    else:
        why = ("the loss fell but not to zero: the model lacks capacity (more units or "
               "layers) or needs more epochs or a higher learning rate")
    return CheckResult(name, False, accuracy, 1.0, f"{numbers}; {why}", details)


def _percent(accuracy: float | None) -> str:
    return "not measured" if accuracy is None else f"{accuracy:.0%}"


# ----------------------------------------------------------------------------------------
# The verdict on a run
# ----------------------------------------------------------------------------------------


def _trend(values: list[float], window: int) -> float:
    """The relative fall of ``values`` over the last ``window`` epochs (> 0: still
    falling)."""
    start, end = values[-window - 1], values[-1]
    return (start - end) / abs(start) if start else 0.0


def verdict(history: History, *, max_gap: float = 0.1, min_train_acc: float = 0.9,
            still_falling: float = 0.05) -> CheckResult:
    """Read a finished run's ``History`` as the lectures do; the result's ``measured`` is
    ``{"verdict", "gap", "trend"}`` and ``passed`` is True only for "fine".

    The rules, in order:

    - "diverged": a training loss is not finite, or the last is above the first.
    - "overfitting": the gap, train minus validation accuracy (or validation minus train
      loss, relative to the train loss, without accuracies), exceeds ``max_gap``; or the
      validation loss over the last quarter of the epochs (at least one) averages more
      than 1.2 times its best while the training loss still falls.
    - "underfitting": the training accuracy is below ``min_train_acc``; without
      accuracies, the trend (the training loss's relative fall over the last quarter of
      the epochs) is above ``still_falling``: it has not finished learning.
    - "fine" otherwise.
    """
    if not isinstance(history, History) or history.epochs == 0:
        raise ValueError(f"verdict: needs the History of at least one epoch (what fit "
                         f"returns); got {history!r}")
    train = history.train_loss
    window = max(1, history.epochs // 4)
    trend = _trend(train, window) if history.epochs > window else 0.0
    gap, what = _gap(history)
    val = [v for v in history.val_loss if v is not None]
    val_rising = bool(val) and float(np.mean(val[-window:])) > 1.2 * min(val) and trend > 0
    acc = history.train_acc[-1]
    unfit = acc < min_train_acc if acc is not None else trend > still_falling
    measured = {"gap": gap, "trend": trend}
    expected = (f"gap <= {max_gap:g}, validation loss near its best, " + (
        f"train accuracy >= {min_train_acc:.0%}" if acc is not None
        else f"trend <= {still_falling:g}"))
    numbers = (f"{what} {'n/a' if gap is None else f'{gap:.3f}'}, " + (
        "" if acc is None else f"train accuracy {acc:.1%}, ") + "training loss "
               f"{train[0]:.4f} -> {train[-1]:.4f} (fell {trend:.1%} over the last "
               f"{window} epoch{'s' * (window > 1)})" + (
                   f", validation loss best {min(val):.4f}, lately {np.mean(val[-window:]):.4f}"
                   if val else ""))
    if not all(np.isfinite(train)) or train[-1] > train[0]:
        label, advice = "diverged", "the loss went up: lower the learning rate"
    elif (gap is not None and gap > max_gap) or val_rising:
        label, advice = "overfitting", ("validation is falling behind training: more data, "
                                        "more regularization, or stop earlier")
    elif unfit:
        label, advice = "underfitting", ("the model has not fit the training data yet: "
                                         "train longer, raise the learning rate, or add "
                                         "capacity")
    else:
        label, advice = "fine", ("the model fits the training data and validation keeps "
                                 "up with it")
    measured["verdict"] = label
    return CheckResult("verdict", label == "fine", measured, expected,
                       f"{label}: {numbers}; {advice}", {"verdict": label})


def _gap(history: History) -> tuple[float | None, str]:
    """Train minus validation accuracy, or else the validation loss's excess over the
    training loss relative to it; None without validation data."""
    t_acc, v_acc = history.train_acc[-1], history.val_acc[-1]
    if t_acc is not None and v_acc is not None:
        return t_acc - v_acc, "gap (train - validation accuracy)"
    t_loss, v_loss = history.train_loss[-1], history.val_loss[-1]
    if v_loss is None:
        return None, "gap (no validation data)"
    return (v_loss - t_loss) / abs(t_loss) if t_loss else 0.0, "gap (relative loss)"

"""The learning-rate range test (Smith, 2017; fastai's ``lr_find``): train for a few
batches while the learning rate grows exponentially, and read off where the loss falls
fastest.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import integer, is_real
from ..nn.module import Module
from ..optim import SGD
from ..train import Batches, fit, progress_bar


@dataclass
class LRFinderResult:
    """What ``lr_find`` recorded: per step the learning rate, the raw and the smoothed
    loss; the ``suggestion`` (None when too few steps were finite) and the learning rate
    at which the loss diverged (None if it never did)."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float | None
    diverged_at: float | None
    reason: str = field(default="")

    def plot(self, path: str | os.PathLike) -> str:
        """The smoothed (and raw) loss against the learning rate on log axes, the
        suggestion marked; written to ``path``, which is returned."""
        from ..plots import plot_lr_find

        return plot_lr_find(self, path)

    def __str__(self) -> str:
        if not self.lrs:
            return "lr_find: no step was taken"
        head = f"lr_find: {len(self.lrs)} steps, lr {self.lrs[0]:.1e} to {self.lrs[-1]:.1e}"
        suggestion = ("no suggestion (too few finite losses)" if self.suggestion is None
                      else f"suggestion {self.suggestion:.1e} (steepest descent of the "
                           f"smoothed loss)")
        diverged = ("" if self.diverged_at is None
                    else f"; diverged at lr {self.diverged_at:.1e} ({self.reason})")
        return f"{head}; {suggestion}{diverged}"


def _check_range(lr_min: Any, lr_max: Any, steps: Any, beta: Any) -> None:
    for name, value in (("lr_min", lr_min), ("lr_max", lr_max)):
        if not (is_real(value) and math.isfinite(value) and value > 0):
            raise ValueError(f"lr_find: {name} must be a finite number > 0; got {value!r}")
    if not lr_min < lr_max:
        raise ValueError(f"lr_find: lr_min must be below lr_max; got lr_min={lr_min!r}, "
                         f"lr_max={lr_max!r}")
    integer("lr_find", "steps", steps, minimum=2)
    if not (is_real(beta) and 0 <= beta < 1):
        raise ValueError(f"lr_find: beta (the smoothing) must be in [0, 1); got {beta!r}")


def steepest(lrs: list[float], smoothed: list[float], skip_start: int = 10,
             skip_end: int = 5) -> float | None:
    """The learning rate where the smoothed loss falls fastest against log10(lr): the
    most negative slope (``np.gradient``, central differences) over the finite points,
    leaving out the first ``skip_start`` (the average of a few noisy losses) and the last
    ``skip_end`` (the climb into divergence), as fastai does; None with fewer than 3."""
    kept = list(zip(lrs, smoothed))[skip_start:len(lrs) - skip_end]
    points = [(lr, s) for lr, s in kept if np.isfinite(s)]
    if len(points) < 3:
        return None
    x = np.log10([lr for lr, _ in points])
    slope = np.gradient(np.array([s for _, s in points]), x)
    return float(points[int(np.argmin(slope))][0])


def lr_find(model: Module, loss_fn: Any, data: Batches | tuple[Any, Any],
            lr_min: float = 1e-7, lr_max: float = 10.0, steps: int = 100,
            optimizer: Any = None, *, beta: float = 0.98, diverge: float = 4.0,
            progress: bool = True) -> LRFinderResult:
    """Train ``model`` for up to ``steps`` batches of ``data`` (a DataLoader, a list of
    batches, or one full batch ``(X, y)``; reused epoch after epoch when shorter) with
    the learning rate of every parameter group raised exponentially from ``lr_min`` to
    ``lr_max``: step i uses lr_min * (lr_max / lr_min) ** (i / (steps - 1)).

    Each step's loss is recorded raw and smoothed by an exponential moving average with
    bias correction: avg = beta * avg + (1 - beta) * loss, smoothed = avg / (1 -
    beta ** (i + 1)). The test stops when the smoothed loss exceeds ``diverge`` (4) times
    its best or a loss is NaN or inf (reported as ``diverged_at``, no error or warning).

    The suggestion is the learning rate of the steepest descent: the most negative slope
    of the smoothed loss against log10(lr), leaving out the first 10 steps and the last 5
    (see ``steepest``). Pick it, or a little below, as the learning rate to train with.

    Afterwards the model's parameters and buffers, its training mode, the gradients, and
    the optimizer's state and options are restored exactly (bitwise). Random generators
    the training draws from (dropout, a shuffling DataLoader) have moved on.

    ``optimizer`` is an optimizer over ``model.parameters()``; None uses plain SGD.
    ``progress`` shows a bar on a terminal or in a notebook, nothing elsewhere.
    """
    _check_range(lr_min, lr_max, steps, beta)
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=lr_min)
    saved_model, saved_optimizer = model.state_dict(), optimizer.state_dict()
    saved_grads = [(p, p.grad) for p in model.parameters()]
    was_training = model.training
    factor = (lr_max / lr_min) ** (1 / (steps - 1))
    result = LRFinderResult([], [], [], None, None)
    bar = progress_bar("lr_find", steps, "step") if progress else None
    average = best = 0.0

    def set_lr(lr: float) -> None:
        for group in optimizer.param_groups:
            group["lr"] = lr

    def on_batch_end(step: int, loss: float, lr: float) -> bool:
        nonlocal average, best
        average = beta * average + (1 - beta) * loss
        smoothed = average / (1 - beta ** (step + 1))
        result.lrs.append(lr)
        result.losses.append(loss)
        result.smoothed.append(smoothed)
        if bar is not None:
            bar.update(1)
        if not np.isfinite(loss):
            result.diverged_at, result.reason = lr, f"the loss is {loss}"
            return True
        if step > 0 and smoothed > diverge * best:
            result.diverged_at = lr
            result.reason = f"smoothed loss {smoothed:.4g} > {diverge:g} x best {best:.4g}"
            return True
        best = smoothed if step == 0 else min(best, smoothed)
        set_lr(lr * factor)
        return step + 1 >= steps

    set_lr(lr_min)
    try:
        # Overflow and invalid values are what divergence looks like: recorded, not warned.
        with np.errstate(all="ignore"):
            fit(model, loss_fn, optimizer, data, epochs=steps, on_batch_end=on_batch_end,
                progress=False)
    finally:
        if bar is not None:
            bar.close()
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        for p, grad in saved_grads:
            p.grad = grad
        model.train(was_training)
    result.suggestion = steepest(result.lrs, result.smoothed)
    return result

"""``fit``: the common training loop, with progress, history, schedules and early stopping.

It is an ordinary loop you could write yourself (``docs/training.md`` shows it by hand):
for each epoch, for each batch, forward, loss, ``zero_grad``, ``backward``, ``step``; then
evaluate on the validation data without recording a graph.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .autograd import no_grad
from .nn.module import Module
from .optim.lr_scheduler import ReduceLROnPlateau
from .value import Value

Batches = Iterable[tuple[Any, Any]]  # a DataLoader, or anything yielding (X, y) batches


@dataclass
class History:
    """What happened in each epoch: losses and accuracies (``None`` where not measured)
    and the learning rate the epoch ran with."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float | None] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    val_acc: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None  # with early stopping: the epoch whose weights were kept

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def _batches(data: Batches | tuple[Any, Any]) -> Batches:
    """A tuple ``(X, y)`` of arrays is one full batch; anything else is iterated."""
    if isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], tuple):
        return [data]
    return data


def _accuracy(scores: np.ndarray, y: Any) -> float | None:
    """The fraction of correct predictions, for class labels and (N, C) scores (or
    probability targets); None when the task is not classification."""
    y = np.asarray(y.data if isinstance(y, Value) else y)
    if scores.ndim != 2:
        return None
    if y.shape == scores.shape and scores.shape[1] > 1 and np.allclose(y.sum(axis=1), 1):
        y = y.argmax(axis=1)  # probability targets: the most likely class
    if y.ndim != 1 or y.dtype.kind not in "iu":
        return None
    return float((scores.argmax(axis=1) == y).mean())


def _run_epoch(model: Module, loss_fn: Callable[..., Value], data: Batches,
               optimizer: Any = None, bar: Any = None) -> tuple[float, float | None]:
    """One pass over ``data``: train with ``optimizer`` if given, else just evaluate.
    Returns the mean loss and the accuracy, weighted by batch size."""
    total_loss = total_correct = 0.0
    count = 0
    measured_acc = True
    for X, y in data:
        n = len(X)
        out = model(Value(X, requires_grad=False))
        loss = loss_fn(out, y)
        if optimizer is not None:
            optimizer.zero_grad()
            # only the parameters' gradients are needed, and the graph only once
            loss.backward(intermediate_grads=False, retain_graph=False)
            optimizer.step()
        acc = _accuracy(out.data, y)
        measured_acc = measured_acc and acc is not None
        total_loss += loss.item() * n
        total_correct += (acc or 0.0) * n
        count += n
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"loss {total_loss / count:.4f}", refresh=False)
    if count == 0:
        raise ValueError("fit: the data yielded no batches")
    return total_loss / count, (total_correct / count if measured_acc else None)


def _progress_bar(total: int | None) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("fit(progress=True) shows a tqdm progress bar: pip install "
                          "'tinygrad_edu[progress]', or pass progress=False") from None
    return tqdm(total=total, unit="batch", dynamic_ncols=True)


def fit(
    model: Module,
    loss_fn: Callable[..., Value],
    optimizer: Any,
    train_data: Batches | tuple[Any, Any],
    val_data: Batches | tuple[Any, Any] | None = None,
    epochs: int = 10,
    *,
    scheduler: Any = None,
    early_stopping: int | None = None,
    callback: Callable[[int, History], bool | None] | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_data``; return the ``History``.

    ``train_data`` and ``val_data`` are DataLoaders (or any iterables of ``(X, y)``
    batches), or a tuple ``(X, y)`` of arrays used as one full batch. Each epoch trains
    in ``model.train()`` mode, then evaluates ``val_data`` in ``model.eval()`` mode
    under ``no_grad()``. Accuracy is recorded for class labels with (N, C) scores.

    ``scheduler`` is stepped once per epoch, after the optimizer's steps; a
    ``ReduceLROnPlateau`` gets the validation loss (or the training loss without
    validation data). ``early_stopping=k`` stops after ``k`` epochs without a better
    validation loss and restores the best weights. ``callback(epoch, history)`` runs
    after every epoch; returning True stops training, and so does a loss that is not
    finite (NaN or inf: the learning rate is too high). ``progress`` shows a tqdm bar
    with the epoch and the running loss. The model is left in evaluation mode.
    """
    if epochs < 1:
        raise ValueError(f"fit: epochs must be >= 1; got {epochs}")
    if early_stopping is not None and early_stopping < 1:
        raise ValueError(f"fit: early_stopping is a patience in epochs, >= 1; got "
                         f"{early_stopping}")
    history = History()
    best_loss, best_state, waited = np.inf, None, 0
    sized = hasattr(_batches(train_data), "__len__")
    bar = _progress_bar(epochs * len(_batches(train_data)) if sized else None) if progress else None
    try:
        for epoch in range(epochs):
            if bar is not None:
                bar.set_description(f"epoch {epoch + 1}/{epochs}")
            if _epoch(model, loss_fn, optimizer, train_data, val_data, scheduler, history, bar):
                break
            if early_stopping is not None:
                monitored = history.val_loss[-1] if val_data is not None else history.train_loss[-1]
                if monitored < best_loss:
                    best_loss, best_state, waited = monitored, model.state_dict(), 0
                    history.best_epoch = epoch
                else:
                    waited += 1
                    if waited >= early_stopping:
                        break
            if callback is not None and callback(epoch, history):
                break
    finally:
        if bar is not None:
            bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def _epoch(model: Module, loss_fn: Callable[..., Value], optimizer: Any,
           train_data: Batches | tuple[Any, Any], val_data: Batches | tuple[Any, Any] | None,
           scheduler: Any, history: History, bar: Any) -> bool:
    """Train one epoch, evaluate, record, step the schedule. True: the loss is not finite
    (training diverged), so stop."""
    history.lr.append(float(optimizer.param_groups[0]["lr"]))
    model.train()
    loss, acc = _run_epoch(model, loss_fn, _batches(train_data), optimizer, bar)
    history.train_loss.append(loss)
    history.train_acc.append(acc)
    if not np.isfinite(loss):  # diverged: nothing more to learn from this run
        history.val_loss.append(None)
        history.val_acc.append(None)
        return True
    model.eval()
    val_loss = val_acc = None
    if val_data is not None:
        with no_grad():
            val_loss, val_acc = _run_epoch(model, loss_fn, _batches(val_data))
        if bar is not None:
            bar.set_postfix_str(f"loss {loss:.4f}, validation {val_loss:.4f}")
    history.val_loss.append(val_loss)
    history.val_acc.append(val_acc)
    if scheduler is not None:
        if isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step(loss if val_loss is None else val_loss)
        else:
            scheduler.step()
    return False

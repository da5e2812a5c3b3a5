"""``fit``: the common training loop, with progress, history, schedules and early stopping.

It is an ordinary loop you could write yourself (``docs/training.md`` shows it by hand):
for each epoch, for each batch, forward, loss, ``zero_grad``, ``backward``, ``step``; then
evaluate on the validation data without recording a graph.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import integer
from .autograd import no_grad
from .nn.module import Module
from .optim.lr_scheduler import ReduceLROnPlateau
from .value import Value

Batches = Iterable[tuple[Any, Any]]  # a DataLoader, or anything yielding (X, y) batches


@dataclass
class History:
    """What happened in each epoch: losses and accuracies (``None`` where not measured)
    and the learning rate the epoch ran with; and in each training step (iteration):
    the batch's loss and the learning rate the step used."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float | None] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    val_acc: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None  # with early stopping: the epoch whose weights were kept
    batch_loss: list[float] = field(default_factory=list)
    batch_lr: list[float] = field(default_factory=list)

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
               optimizer: Any = None, after_step: Callable[[float, float], bool] | None = None,
               ) -> tuple[float, float | None, bool]:
    """One pass over ``data``: train with ``optimizer`` if given, else just evaluate.
    ``after_step(loss, running_mean_loss)`` runs after each batch; True stops the pass.
    Returns the mean loss and the accuracy, weighted by batch size, and whether
    ``after_step`` stopped the pass."""
    total_loss = total_correct = 0.0
    count = 0
    measured_acc = True
    stopped = False
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
        batch_loss = loss.item()
        total_loss += batch_loss * n
        total_correct += (acc or 0.0) * n
        count += n
        if after_step is not None and after_step(batch_loss, total_loss / count):
            stopped = True
            break
    if count == 0:
        raise ValueError("fit: the data yielded no batches")
    return total_loss / count, (total_correct / count if measured_acc else None), stopped


def progress_bar(owner: str, total: int | None, unit: str) -> Any:
    """tqdm's bar on stderr when it is a terminal, or its widget in a notebook; None
    elsewhere (a log file, CI), where each redraw of a bar would be one more line."""
    try:
        from tqdm.asyncio import tqdm as console_tqdm
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(f"{owner}(progress=True) shows a tqdm progress bar: pip install "
                          f"'tinygrad_edu[progress]', or pass progress=False") from None
    isatty = getattr(sys.stderr, "isatty", None)
    # tqdm.auto picks the notebook widget in Jupyter, where stderr is no terminal.
    if tqdm is not console_tqdm or (callable(isatty) and isatty()):
        return tqdm(total=total, unit=unit, dynamic_ncols=True, file=sys.stderr)
    return None


class _Progress:
    """What ``fit`` shows on stderr: tqdm's bar on a terminal or in a notebook; elsewhere
    (a log file, CI), where each redraw of a bar would be one more line, a line per epoch."""

    def __init__(self, epochs: int, total: int | None) -> None:
        self.epochs, self.epoch = epochs, 0
        self.stream = sys.stderr
        self.bar = progress_bar("fit", total, "batch")

    def start_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if self.bar is not None:
            self.bar.set_description(f"epoch {epoch + 1}/{self.epochs}")

    def step(self, running_loss: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"loss {running_loss:.4f}", refresh=False)

    def end_epoch(self, loss: float, val_loss: float | None) -> None:
        text = f"loss {loss:.4f}" + ("" if val_loss is None else f", validation {val_loss:.4f}")
        if self.bar is not None:
            self.bar.set_postfix_str(text)
        else:
            print(f"epoch {self.epoch + 1}/{self.epochs}: {text}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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
    on_batch_end: Callable[[int, float, float], bool | None] | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_data``; return the ``History``.

    ``train_data`` and ``val_data`` are DataLoaders (or any iterables of ``(X, y)``
    batches), or a tuple ``(X, y)`` of arrays used as one full batch. Each epoch trains
    in ``model.train()`` mode, then evaluates ``val_data`` in ``model.eval()`` mode
    under ``no_grad()``. Accuracy is recorded for class labels with (N, C) scores.

    ``scheduler`` is stepped once per epoch, after the optimizer's steps; a
    ``ReduceLROnPlateau`` gets the validation loss (or the training loss without
    validation data). ``early_stopping=k`` stops after ``k`` epochs in a row without a
    better validation loss (the training loss without validation data) and restores the
    best weights. ``callback(epoch, history)`` runs after every epoch and
    ``on_batch_end(step, loss, lr)`` after every training step (``step`` counts from 0
    across epochs; ``loss`` is the batch's, ``lr`` the one the step used, and changing
    ``optimizer.param_groups[...]["lr"]`` there sets the next step's); either returning
    True stops training (``on_batch_end`` after the epoch is evaluated), and so does a
    loss that is not finite (NaN or inf: the learning rate is too high). ``progress``
    shows a tqdm bar on a terminal or in a notebook, and a line per epoch elsewhere (a
    log file, CI). The model is left in evaluation mode.
    """
    integer("fit", "epochs", epochs)
    for name, fn, signature in (("callback", callback, "(epoch, history)"),
                                ("on_batch_end", on_batch_end, "(step, loss, lr)")):
        if fn is not None and not callable(fn):
            raise TypeError(f"fit: {name} must be a function {signature} returning True to "
                            f"stop; got {fn!r}")
    stopper = None if early_stopping is None else _EarlyStopping(early_stopping)
    history = History()
    sized = hasattr(_batches(train_data), "__len__")
    shown = _Progress(epochs, epochs * len(_batches(train_data)) if sized else None
                      ) if progress else None

    def after_step(loss: float, running_loss: float) -> bool:
        lr = float(optimizer.param_groups[0]["lr"])
        history.batch_loss.append(loss)
        history.batch_lr.append(lr)
        if shown is not None:
            shown.step(running_loss)
        step = len(history.batch_loss) - 1
        return bool(on_batch_end is not None and on_batch_end(step, loss, lr))

    try:
        for epoch in range(epochs):
            if shown is not None:
                shown.start_epoch(epoch)
            stop = _epoch(model, loss_fn, optimizer, train_data, val_data, scheduler, history,
                          after_step)
            if shown is not None:
                shown.end_epoch(history.train_loss[-1], history.val_loss[-1])
            if stop or (stopper is not None and stopper.update(epoch, model, history)):
                break
            if callback is not None and callback(epoch, history):
                break
    finally:
        if shown is not None:
            shown.close()
    if stopper is not None and stopper.best_state is not None:
        model.load_state_dict(stopper.best_state)
    model.eval()
    return history


class _EarlyStopping:
    """Stop after ``patience`` epochs in a row without a lower monitored loss, keeping the
    weights of the best epoch."""

    def __init__(self, patience: int) -> None:
        self.patience = integer("fit", "early_stopping (a patience in epochs)", patience)
        self.waited = 0
        self.best_loss, self.best_state = np.inf, None

    def update(self, epoch: int, model: Module, history: History) -> bool:
        """Record this epoch's loss; True: the patience is used up, stop."""
        monitored = history.val_loss[-1]
        if monitored is None:
            monitored = history.train_loss[-1]
        if monitored < self.best_loss:
            self.best_loss, self.best_state, self.waited = monitored, model.state_dict(), 0
            history.best_epoch = epoch
            return False
        self.waited += 1
        return self.waited >= self.patience


def _epoch(model: Module, loss_fn: Callable[..., Value], optimizer: Any,
           train_data: Batches | tuple[Any, Any], val_data: Batches | tuple[Any, Any] | None,
           scheduler: Any, history: History, after_step: Callable[[float, float], bool],
           ) -> bool:
    """Train one epoch, evaluate, record, step the schedule. True: stop, because the loss
    is not finite (training diverged) or ``after_step`` asked to."""
    history.lr.append(float(optimizer.param_groups[0]["lr"]))
    model.train()
    loss, acc, stopped = _run_epoch(model, loss_fn, _batches(train_data), optimizer,
                                    after_step)
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
            val_loss, val_acc, _ = _run_epoch(model, loss_fn, _batches(val_data))
    history.val_loss.append(val_loss)
    history.val_acc.append(val_acc)
    if scheduler is not None:
        if isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step(loss if val_loss is None else val_loss)
        else:
            scheduler.step()
    return stopped

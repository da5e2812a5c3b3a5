"""Training plots written to files: loss and accuracy curves, decision boundaries, the
learning rate. They need matplotlib (``pip install 'tinygrad_edu[plot]'``) and no display:
figures are drawn with matplotlib's Agg canvas, never through pyplot's global state.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .autograd import no_grad
from .train import History
from .value import Value


def _figure(ncols: int = 1) -> tuple[Any, list[Any]]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'tinygrad_edu[plot]'") from None
    figure = Figure(figsize=(5 * ncols, 4), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, [figure.add_subplot(1, ncols, i + 1) for i in range(ncols)]


def _save(figure: Any, path: str | os.PathLike) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.savefig(path, dpi=110)
    return path


def plot_history(history: History, path: str | os.PathLike) -> str:
    """Loss (and accuracy, when measured) per epoch, training and validation together:
    the gap between the two curves is how the lectures read overfitting. Returns the path.
    """
    has_acc = any(a is not None for a in history.train_acc)
    figure, axes = _figure(2 if has_acc else 1)
    epochs = np.arange(1, history.epochs + 1)
    panels = [("loss", history.train_loss, history.val_loss)]
    if has_acc:
        panels.append(("accuracy", history.train_acc, history.val_acc))
    for ax, (label, train, val) in zip(axes, panels):
        ax.plot(epochs, train, label="train")
        if any(v is not None for v in val):
            ax.plot(epochs, [np.nan if v is None else v for v in val], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    return _save(figure, path)


def plot_decision_boundary(model: Any, X: np.ndarray, y: np.ndarray,
                           path: str | os.PathLike, resolution: int = 200) -> str:
    """The class a 2-D classifier predicts over the plane, with the data on top."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: needs 2-D points of shape (N, 2); got "
                         f"{X.shape}")
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-9
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    with no_grad():
        scores = model(Value(grid, requires_grad=False)).data
    classes = scores.argmax(axis=1) if scores.ndim == 2 and scores.shape[1] > 1 else (
        scores.reshape(-1) > 0).astype(int)
    figure, (ax,) = _figure()
    ax.contourf(gx, gy, classes.reshape(gx.shape), alpha=0.3, cmap="viridis")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=12, cmap="viridis", edgecolors="k", linewidths=0.3)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    return _save(figure, path)


def plot_curves(curves: dict[str, Sequence[float]], path: str | os.PathLike,
                xlabel: str = "step", ylabel: str = "loss", log: bool = False) -> str:
    """Several named curves on one plot, e.g. the training loss of several optimizers."""
    figure, (ax,) = _figure()
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(figure, path)


def plot_lr(lrs: History | Sequence[float], path: str | os.PathLike) -> str:
    """The learning rate per epoch (a History's ``lr``, or any sequence)."""
    values = lrs.lr if isinstance(lrs, History) else list(lrs)
    figure, (ax,) = _figure()
    ax.plot(np.arange(1, len(values) + 1), values, marker=".")
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3)
    return _save(figure, path)

"""Training plots written to files: loss and accuracy curves, decision boundaries, the
learning rate, and the babysitting figures (activation histograms per layer, gradient
norms, update/weight ratios, the LR finder's curve) and the search's (score against each
parameter, best score so far). They need matplotlib (``pip install
'tinygrad_edu[plot]'``) and no display: figures are drawn with matplotlib's Agg canvas,
never through pyplot's global state. In Jupyter each written figure is also shown below
the cell.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .autograd import no_grad

# The search pictures live with the search (tinygrad_edu.search); plots offers them too.
from .search.plots import search_history as search_history
from .search.plots import search_scatter as search_scatter
from .train import History
from .value import Value

if TYPE_CHECKING:
    from .diagnostics import LRFinderResult, Monitor


def new_figure(ncols: int = 1) -> tuple[Any, list[Any]]:
    """A figure of ``ncols`` plots side by side, drawn off screen (no pyplot state), and
    its axes; for the package's own plots (the lessons', the search's)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'tinygrad_edu[plot]'") from None
    figure = Figure(figsize=(5 * ncols, 4), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, [figure.add_subplot(1, ncols, i + 1) for i in range(ncols)]


def save_figure(figure: Any, path: str | os.PathLike) -> str:
    """Write ``figure`` to ``path`` (folders made as needed), show it below the cell in
    Jupyter, and return the path."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    figure.savefig(path, dpi=110)
    _show_in_notebook(path)
    return path


def _show_in_notebook(path: str) -> None:
    """Show the written image below the cell when running in a Jupyter kernel (a script
    only gets the file)."""
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return
    ipython = sys.modules["IPython"]
    shell = ipython.get_ipython()
    if shell is not None and hasattr(shell, "kernel"):
        from IPython.display import Image, display

        display(Image(filename=path))


def plot_history(history: History, path: str | os.PathLike, verdict: bool = False) -> str:
    """Loss (and accuracy, when measured) per epoch, training and validation together:
    the gap between the two curves is how the lectures read overfitting. With
    ``verdict=True`` the title is ``diagnostics.verdict``'s reading of the run, with the
    gap and trend it used. Returns the path.
    """
    has_acc = any(a is not None for a in history.train_acc)
    figure, axes = new_figure(2 if has_acc else 1)
    if verdict:
        from .diagnostics import verdict as read

        found = read(history)
        gap = found.measured["gap"]
        figure.suptitle(f"{found.measured['verdict']}: gap "
                        f"{'n/a' if gap is None else f'{gap:.3f}'}, trend "
                        f"{found.measured['trend']:.1%}")
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
    return save_figure(figure, path)


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
    figure, (ax,) = new_figure()
    ax.contourf(gx, gy, classes.reshape(gx.shape), alpha=0.3, cmap="viridis")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=12, cmap="viridis", edgecolors="k", linewidths=0.3)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    return save_figure(figure, path)


def plot_curves(curves: dict[str, Sequence[float]], path: str | os.PathLike,
                xlabel: str = "step", ylabel: str = "loss", log: bool = False) -> str:
    """Several named curves on one plot, e.g. the training loss of several optimizers."""
    figure, (ax,) = new_figure()
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(figure, path)


def plot_lr(lrs: History | Sequence[float], path: str | os.PathLike) -> str:
    """The learning rate per epoch (a History's ``lr``, or any sequence)."""
    values = lrs.lr if isinstance(lrs, History) else list(lrs)
    figure, (ax,) = new_figure()
    ax.plot(np.arange(1, len(values) + 1), values, marker=".")
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3)
    return save_figure(figure, path)


# ----------------------------------------------------------------------------------------
# Babysitting: what a diagnostics.Monitor recorded, and the LR finder's curve
# ----------------------------------------------------------------------------------------


def plot_activation_histograms(monitor: Monitor, path: str | os.PathLike,
                               title: str | None = None) -> str:
    """The lectures' picture: the distribution of each activation layer's output at the
    last monitored step, one line per layer, in the order of the forward pass, labelled
    with its mean, std and dead or saturated share."""
    if not monitor.latest:
        raise ValueError("plot_activation_histograms: the monitor has recorded no "
                         "activation layer yet; train a step inside `with Monitor(model)`")
    figure, (ax,) = new_figure()
    figure.set_size_inches(7, 4)
    for name in monitor.latest:
        counts, edges = monitor.histogram(name)
        r = monitor.layers[name][-1]
        extra = (f", dead {r.dead}/{r.units}" if r.dead is not None else
                 f", saturated {r.saturated:.0%}" if r.saturated is not None else "")
        centers = (edges[:-1] + edges[1:]) / 2
        ax.plot(centers, counts / max(counts.sum(), 1),
                label=f"{name}: mean {r.mean:+.2f}, std {r.std:.2g}{extra}")
    ax.set_xlabel("activation")
    ax.set_ylabel("share of values")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small")
    if title:
        ax.set_title(title)
    return save_figure(figure, path)


def _weights(monitor: Monitor) -> list[str]:
    """The weight matrices' names (what the lectures plot), or every parameter's."""
    ndim = {name: p.ndim for name, p in monitor.model.named_parameters()}
    names = [name for name in monitor.params if ndim.get(name, 0) >= 2]
    return names or list(monitor.params)


def plot_grad_norms(monitor: Monitor, path: str | os.PathLike) -> str:
    """Each weight's gradient norm at the last monitored step, by layer, on a log scale:
    vanishing gradients show as a fall toward the input."""
    names = _weights(monitor)
    if not names:
        raise ValueError("plot_grad_norms: the monitor has recorded no step yet")
    norms = [monitor.params[n][-1].grad_norm or 0.0 for n in names]
    figure, (ax,) = new_figure()
    ax.bar(range(len(names)), norms)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize="small")
    ax.set_ylabel("gradient norm")
    if any(v > 0 for v in norms):
        ax.set_yscale("log")
    ax.grid(alpha=0.3, axis="y")
    return save_figure(figure, path)


def plot_update_ratios(monitor: Monitor, path: str | os.PathLike) -> str:
    """Each weight's update/weight ratio ||dw|| / ||w|| over the monitored steps, on a log
    scale, with the lectures' 1e-3 and the healthy band [1e-4, 1e-2] shaded."""
    names = _weights(monitor)
    if not names:
        raise ValueError("plot_update_ratios: the monitor has recorded no step yet")
    figure, (ax,) = new_figure()
    figure.set_size_inches(7, 4)
    for name in names:
        steps, ratios = monitor.series(name, "ratio")
        ax.plot(steps, [np.nan if r is None or r <= 0 else r for r in ratios], label=name)
    ax.axhspan(1e-4, 1e-2, color="green", alpha=0.08, label="healthy [1e-4, 1e-2]")
    ax.axhline(1e-3, color="k", linestyle="--", linewidth=1, label="1e-3")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("update / weight")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small")
    return save_figure(figure, path)


def plot_lr_find(result: LRFinderResult, path: str | os.PathLike) -> str:
    """The LR range test: raw and smoothed loss against the learning rate on a log axis,
    the suggestion marked (and where the loss diverged)."""
    if not result.lrs:
        raise ValueError("plot_lr_find: the result holds no step")
    figure, (ax,) = new_figure()
    finite = [(lr, raw, s) for lr, raw, s in zip(result.lrs, result.losses, result.smoothed)
              if np.isfinite(raw) and np.isfinite(s)]
    lrs, raw, smooth = (list(column) for column in zip(*finite)) if finite else ([], [], [])
    ax.plot(lrs, raw, color="0.75", linewidth=1, label="loss")
    ax.plot(lrs, smooth, label="smoothed")
    if result.suggestion is not None:
        ax.axvline(result.suggestion, color="red", linestyle="--",
                   label=f"suggestion {result.suggestion:.1e}")
    if result.diverged_at is not None:
        ax.axvline(result.diverged_at, color="k", linestyle=":",
                   label=f"diverged at {result.diverged_at:.1e}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    if smooth:  # the climb into divergence would squash the interesting part
        ax.set_ylim(min(smooth) * 0.9, max(smooth[0], min(smooth)) * 1.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(figure, path)

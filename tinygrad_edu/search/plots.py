"""The lectures' pictures of a search: the score against each parameter (coarse and fine
stages in their own colours, a log axis for a log dimension), and the best score so far
against the trial. matplotlib draws them, as ``tinygrad_edu.plots`` does."""

from __future__ import annotations

import os
from typing import Any

from .result import SearchResult, stage_order
from .space import Choice


def search_scatter(result: SearchResult, path: str | os.PathLike) -> str:
    """One panel per parameter: each complete trial's score against the value it tried
    (a log axis for a log range), a colour per stage; pruned and failed trials as grey
    crosses along the bottom (where the learning rate was too high, say). Returns the
    path."""
    from ..plots import save_figure

    return save_figure(_scatter(result), path)


def search_history(result: SearchResult, path: str | os.PathLike) -> str:
    """Each complete trial's score in the order of ``result.trials`` (a colour per stage)
    and the best score so far as a line. Returns the path."""
    from ..plots import save_figure

    return save_figure(_history(result), path)


def _scatter(result: SearchResult) -> Any:
    from ..plots import new_figure

    names = result._names()
    figure, axes = new_figure(len(names))
    done = [t for t in result.trials if t.state == "complete"]
    bottom = min((t.score for t in done), default=0.0)
    for ax, name in zip(axes, names):
        for i, stage in enumerate(stage_order(result.trials)):
            here = [t for t in done if t.stage == stage and name in t.params]
            ax.scatter([t.params[name] for t in here], [t.score for t in here], s=18,
                       color=f"C{i}", label=f"{stage} ({len(here)})")
        stopped = [t for t in result.trials if t.state in ("pruned", "failed")
                   and name in t.params]
        if stopped:
            ax.scatter([t.params[name] for t in stopped], [bottom] * len(stopped), marker="x",
                       color="0.5", label=f"pruned or failed ({len(stopped)})")
        dim = result.space.get(name)
        if dim is not None and not isinstance(dim, Choice) and dim.log:
            ax.set_xscale("log")
        ax.set_xlabel(name)
        ax.set_ylabel("score")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return figure


def _history(result: SearchResult) -> Any:
    from ..plots import new_figure

    figure, (ax,) = new_figure()
    better = max if result.direction == "maximize" else min
    best, line = None, []
    for t in result.trials:
        if t.state == "complete":
            best = t.score if best is None else better(best, t.score)
        line.append(best)
    order = range(1, len(result.trials) + 1)
    for i, stage in enumerate(stage_order(result.trials)):
        here = [(n, t.score) for n, t in zip(order, result.trials)
                if t.stage == stage and t.state == "complete"]
        ax.scatter([n for n, _ in here], [s for _, s in here], s=18, color=f"C{i}",
                   label=stage)
    ax.step(list(order), [float("nan") if b is None else b for b in line], where="post",
            color="k", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("score")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return figure

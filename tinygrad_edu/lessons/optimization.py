"""Lessons 11-13: optimizers, hyperparameter search, the update/weight ratio."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from .. import nn, search
from ..diagnostics import Monitor, lr_find
from ..optim import SGD, Adagrad, Adam, RMSprop
from ..plots import new_figure, plot_curves, save_figure
from ..train import fit
from ..value import Value
from .core import LessonResult, figure_path, finish, spiral_split

OPTIMIZERS: dict[str, Callable] = {
    "SGD": lambda ps, lr: SGD(ps, lr=lr),
    "momentum": lambda ps, lr: SGD(ps, lr=lr, momentum=0.9),
    "Nesterov": lambda ps, lr: SGD(ps, lr=lr, momentum=0.9, nesterov=True),
    # AdaGrad's steps shrink as its sum of squared gradients grows: it needs a larger rate
    "AdaGrad": lambda ps, lr: Adagrad(ps, lr=lr * 10),
    "RMSProp": lambda ps, lr: RMSprop(ps, lr=lr),
    "Adam": lambda ps, lr: Adam(ps, lr=lr),
}


def optimizers(fast: bool = False, out: str | os.PathLike = "lessons",
               seed: int = 0) -> LessonResult:
    """Lesson 11: on a ravine, f(x, y) = (x^2 + 50 y^2) / 2, SGD zig-zags across and creeps
    along; momentum, Nesterov and the adaptive methods get further in the same steps. On
    the spiral the same ranking shows in the loss curves."""
    steps, epochs = 100, (80 if fast else 200)
    scale = Value(np.array([1.0, 50.0]), requires_grad=False)
    paths, ravine = {}, {}
    for name, make in OPTIMIZERS.items():
        xy = nn.Parameter(np.array([-1.0, 1.0]))
        optimizer = make([xy], 0.025)
        path = [xy.data.copy()]
        for _ in range(steps):
            loss = (scale * xy * xy).sum() / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            path.append(xy.data.copy())
        paths[name] = np.array(path)
        ravine[name] = float((scale.data * xy.data ** 2).sum() / 2)
    figure, (ax,) = new_figure()
    figure.set_size_inches(8, 4)
    grid_x, grid_y = np.meshgrid(np.linspace(-1.2, 0.3, 100), np.linspace(-1.2, 1.2, 100))
    ax.contour(grid_x, grid_y, (grid_x ** 2 + 50 * grid_y ** 2) / 2, levels=15, alpha=0.4)
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], marker=".", markersize=3, label=name)
    ax.legend(fontsize="small")
    ax.set_title(f"{steps} steps on (x^2 + 50 y^2) / 2")
    figures = [save_figure(figure, figure_path(out, "lesson_11_ravine.png"))]
    X, y, _, _ = spiral_split(seed, n_per_class=40 if fast else 100)
    spiral_loss = {}
    for name, make in OPTIMIZERS.items():
        model = nn.MLP(2, [32, 32, 3], activation="relu", seed=seed)
        history = fit(model, nn.CrossEntropyLoss(), make(model.parameters(), 0.01), (X, y),
                      epochs=epochs, progress=False)
        spiral_loss[name] = history.train_loss
    figures.append(plot_curves(spiral_loss, figure_path(out, "lesson_11_spiral.png"),
                               xlabel="epoch", log=True))
    final = {name: curve[-1] for name, curve in spiral_loss.items()}
    return finish(LessonResult(
        11, "SGD zig-zags across a ravine and creeps along it; momentum, Nesterov and the "
        "adaptive methods get further in the same steps",
        {f"ravine loss after {steps} steps (lr 0.025)": ravine,
         f"spiral loss after {epochs} epochs (lr 0.01)": final},
        f"best on the ravine: {min(ravine, key=ravine.get)}; on the spiral: "
        f"{min(final, key=final.get)}", figures))


def random_vs_grid(fast: bool = False, out: str | os.PathLike = "lessons",
                   seed: int = 0) -> LessonResult:
    """Lesson 12: with the same budget of 9 trials and one hyperparameter that matters
    much more than the other, random search beats a 3x3 grid: it tries 9 values of the
    important one, the grid 3."""
    repetitions = 20 if fast else 200
    compared = search.random_vs_grid(repetitions, seed=seed)
    first = (compared.random, compared.grid)
    wins = compared.wins
    distinct = {name: compared.distinct(result) for name, result in zip(("random", "grid"), first)}
    figures = [search.search_scatter(result, figure_path(out, f"lesson_12_{name}.png"))
               for name, result in zip(("random", "grid"), first)]
    return finish(LessonResult(
        12, "random search beats grid search under the same budget",
        {"distinct values of the important parameter tried": distinct,
         f"random's best beats the grid's (of {repetitions})": wins / repetitions},
        f"random search won {wins} of {repetitions} toy problems", figures))


def update_ratio(fast: bool = False, out: str | os.PathLike = "lessons",
                 seed: int = 0) -> LessonResult:
    """Lesson 13: at a good learning rate the update/weight ratio ||dW|| / ||W|| is about
    1e-3; it moves with the learning rate (10x the rate, about 10x the ratio)."""
    X, y, _, _ = spiral_split(seed, n_per_class=50 if fast else 100)
    epochs = 20 if fast else 100
    probe = nn.MLP(2, [64, 64, 3], activation="relu", seed=seed)
    found = lr_find(probe, nn.CrossEntropyLoss(), (X, y), steps=60 if fast else 100,
                    optimizer=SGD(probe.parameters(), lr=1.0, momentum=0.9), progress=False)
    # the suggestion is where the loss falls steepest, as high as it still falls:
    # docs/babysitting.md's advice is a decade lower for a model with momentum
    good = found.suggestion / 10
    ratios, curves = {}, {}
    for factor in (0.1, 1.0, 10.0):
        model = nn.MLP(2, [64, 64, 3], activation="relu", seed=seed)
        with Monitor(model) as monitor:
            fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=good * factor,
                momentum=0.9), (X, y), epochs=epochs, on_batch_end=monitor, progress=False)
        per_step = np.array([[r.ratio for r in series] for name, series in monitor.params.items()
                             if name.endswith("weight")])
        curves[f"{factor:g}x"] = list(np.median(per_step, axis=0))
        ratios[f"{factor:g}x"] = float(np.median(per_step))
    path = plot_curves(curves, figure_path(out, "lesson_13_update_ratio.png"),
                       ylabel="median update/weight ratio", log=True)
    return finish(LessonResult(
        13, "the update/weight ratio is ~1e-3 at a good learning rate",
        {"lr_find's suggestion / 10": good, "median update/weight ratio at lr x": ratios},
        f"at a tenth of lr_find's suggestion the ratio is {ratios['1x']:.1e}", [found.plot(
            figure_path(out, "lesson_13_lr_find.png")), path]))

"""Lessons 1 and 3-6: activation functions and initialization."""

from __future__ import annotations

import functools
import os

import numpy as np

from .. import init, nn, viz
from ..diagnostics import Monitor
from ..optim import SGD
from ..plots import plot_activation_histograms, plot_curves
from ..train import fit
from .core import LessonResult, figure_path, finish, spiral_split, weight


def sigmoid_gradients(fast: bool = False, out: str | os.PathLike = "lessons",
                      seed: int = 0) -> LessonResult:
    """Lesson 1: sigmoid's derivative is at most 0.25, so each sigmoid layer shrinks the
    gradient flowing back; the first layer of a deep sigmoid net hardly learns."""
    X, y, _, _ = spiral_split(seed, n_per_class=20 if fast else 100)
    width = 8 if fast else 32
    norms, per_layer, views = {}, {}, []
    for depth in (2, 9):
        model = nn.MLP(2, [width] * (depth - 1) + [3], activation="sigmoid", seed=seed)
        with viz.trace(model):
            loss = nn.CrossEntropyLoss()(model(X), y)
        loss.backward()
        norms[depth] = float(np.linalg.norm(weight(model, "layers.0.weight").grad))
        per_layer[f"{depth} layers"] = [float(np.linalg.norm(p.grad)) for name, p in
                                        model.named_parameters() if name.endswith("weight")]
        if depth == 9:
            # NOTE: vanishing=1e-4 marks the nodes whose mean |grad| is 1e4 times below the
            # largest (the loss's 1); a mark's note reads "vanishing gradient: <ratio>"
            graph = viz.draw(loss, mode="backward", collapse=nn.Linear, vanishing=1e-4)
            marked = graph.source.count("vanishing gradient: ")
            views.append(str(viz.render(graph, figure_path(out, "lesson_01_backward.png"))))
    ratio = norms[2] / norms[9]
    curves = plot_curves(per_layer, figure_path(out, "lesson_01_grad_norms.png"),
                         xlabel="layer", ylabel="weight gradient norm", log=True)
    return finish(LessonResult(
        1, "sigmoid's derivative is at most 0.25: the gradient vanishes in deep sigmoid nets",
        {"first-layer grad norm, 2 layers": norms[2], "first-layer grad norm, 9 layers": norms[9],
         "2-layer / 9-layer": ratio, "nodes marked vanishing in the backward view": marked},
        f"the 9-layer net's first layer gets a gradient {ratio:.0f}x smaller",
        [*views, curves]))


def zero_init(fast: bool = False, out: str | os.PathLike = "lessons",
              seed: int = 0) -> LessonResult:
    """Lesson 3: when every weight starts with the same value, the units of a layer
    compute the same thing, get the same gradient, and stay identical however long they
    train. Zero is the lectures' case; a constant 0.1 shows the same while it learns (with
    zeros and balanced classes the first gradient is exactly zero, so nothing moves)."""
    X, y, _, _ = spiral_split(seed, n_per_class=30 if fast else 100)
    epochs = 20 if fast else 200
    spread, moved = {}, {}
    for name, how in (("zero init", "zeros"), ("constant 0.1 init",
                      functools.partial(init.constant, val=0.1)), ("random init", "xavier")):
        model = nn.MLP(2, [16, 3], activation="sigmoid", init=how, seed=seed)
        hidden = weight(model, "layers.0.weight")
        start = hidden.data.copy()
        spread[name] = []

        def record(epoch, history, hidden=hidden, series=spread[name]):
            # how far the most different unit's incoming weights are from the mean unit's
            series.append(float(np.abs(hidden.data - hidden.data.mean(axis=0)).max()))

        fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=1.0), (X, y),
            epochs=epochs, callback=record, progress=False)
        moved[name] = float(np.abs(hidden.data - start).max())
    path = plot_curves(spread, figure_path(out, "lesson_03_unit_spread.png"), xlabel="epoch",
                       ylabel="max |unit's weights - mean unit's|")
    return finish(LessonResult(
        3, "zero initialization: every unit in a layer stays identical through training",
        {"hidden units' spread": {k: v[-1] for k, v in spread.items()},
         "largest hidden weight change": moved},
        f"with a constant 0.1 init the hidden weights moved up to "
        f"{moved['constant 0.1 init']:.2g}, yet its 16 units differ by "
        f"{spread['constant 0.1 init'][-1]:.1g}",
        [path]))


def init_statistics(fast: bool = False, out: str | os.PathLike = "lessons",
                    seed: int = 0) -> LessonResult:
    """Lesson 4: the std of each layer's activations through a 10-layer net, for small
    random, large random, Xavier and He weights, with tanh and with ReLU."""
    width, n = (50, 200) if fast else (500, 1000)
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, width)), rng.integers(0, 3, n)
    stds, saturated, figures = {}, {}, []
    for activation in ("tanh", "relu"):
        for scheme in ("small", "normal", "xavier", "he"):
            model = nn.MLP(width, [width] * 10 + [3], activation=activation, init=scheme,
                           seed=seed)
            with Monitor(model) as monitor:
                # lr=0: one forward/backward pass to record the statistics at initialization
                fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.0), (X, y),
                    epochs=1, on_batch_end=monitor, progress=False)
            records = [series[-1] for series in monitor.layers.values()]
            key = f"{activation}/{scheme}"
            stds[key] = [r.std for r in records]
            saturated[key] = records[-1].saturated
            figures.append(plot_activation_histograms(
                monitor, figure_path(out, f"lesson_04_{activation}_{scheme}.png"),
                title=f"10 {activation} layers, {scheme} init"))
    figures.append(plot_curves(stds, figure_path(out, "lesson_04_stds.png"), xlabel="layer",
                               ylabel="activation std", log=True))
    return finish(LessonResult(
        4, "activation statistics through 10 layers depend on the initialization's scale",
        {"last-layer std": {k: v[-1] for k, v in stds.items()},
         "first-layer std": {k: v[0] for k, v in stds.items()},
         "tanh/normal last layer saturated": saturated["tanh/normal"]},
        f"last-layer std: tanh {stds['tanh/small'][-1]:.1g} (small) and "
        f"{stds['tanh/xavier'][-1]:.2g} (Xavier), ReLU {stds['relu/xavier'][-1]:.2g} (Xavier) "
        f"and {stds['relu/he'][-1]:.2g} (He)",
        figures))


def relu_vs_tanh(fast: bool = False, out: str | os.PathLike = "lessons",
                 seed: int = 0) -> LessonResult:
    """Lesson 5: on the same problem, from the same start, a ReLU net reaches a target
    loss in fewer steps than a tanh net."""
    X, y, _, _ = spiral_split(seed, n_per_class=50 if fast else 100)
    target, limit = 0.5, (600 if fast else 3000)
    steps, curves = {}, {}
    for activation in ("relu", "tanh"):
        model = nn.MLP(2, [32, 32, 3], activation=activation, init="xavier", seed=seed)
        history = fit(model, nn.CrossEntropyLoss(),
                      SGD(model.parameters(), lr=0.1, momentum=0.9), (X, y), epochs=limit,
                      on_batch_end=lambda step, loss, lr: loss < target, progress=False)
        curves[activation] = history.batch_loss
        reached = history.batch_loss[-1] < target
        steps[activation] = len(history.batch_loss) if reached else None
    path = plot_curves(curves, figure_path(out, "lesson_05_relu_tanh.png"), log=True)
    speedup = (steps["tanh"] or limit) / (steps["relu"] or limit)
    return finish(LessonResult(
        5, "ReLU converges faster than tanh",
        {f"steps to loss {target}": steps, "tanh steps / relu steps": speedup},
        f"ReLU reached the target in {speedup:.1f}x fewer steps (both start with Xavier "
        f"weights, SGD with momentum, lr 0.1)", [path]))


def dead_relus(fast: bool = False, out: str | os.PathLike = "lessons",
               seed: int = 0) -> LessonResult:
    """Lesson 6: a learning rate that is too high knocks ReLU units into the region where
    they are zero for every input, and there they stay: no gradient reaches them."""
    X, y, _, _ = spiral_split(seed, n_per_class=50 if fast else 100)
    epochs = 30 if fast else 200
    dead, accuracy, figures = {}, {}, []
    for name, lr in (("good lr 0.1", 0.1), ("too high lr 10", 10.0)):
        model = nn.MLP(2, [64, 64, 3], activation="relu", seed=seed)
        with Monitor(model) as monitor:
            history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=lr), (X, y),
                          epochs=epochs, on_batch_end=monitor, progress=False)
        accuracy[name] = history.train_acc[-1]
        last = [series[-1] for series in monitor.layers.values()]
        dead[name] = sum(r.dead for r in last) / sum(r.units for r in last)
        figures.append(plot_activation_histograms(
            monitor, figure_path(out, f"lesson_06_lr_{lr:g}.png"), title=f"ReLU net, {name}"))
    return finish(LessonResult(
        6, "dead ReLUs: a too-high learning rate kills units for good",
        {"dead share after training": dead, "training accuracy": accuracy},
        f"{dead['too high lr 10']:.0%} of the units are dead after lr 10, "
        f"{dead['good lr 0.1']:.0%} after lr 0.1",
        figures))

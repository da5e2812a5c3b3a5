"""Lessons 2 and 7-10: the data, batch norm, dropout and the first checks."""

from __future__ import annotations

import functools
import os

import numpy as np

from .. import init, nn
from ..data import DataLoader
from ..data.preprocessing import PCA, ZCA, Center, Standardize
from ..diagnostics import check_initial_loss, check_overfit, verdict
from ..optim import SGD
from ..plots import new_figure, plot_curves, plot_history, save_figure
from ..train import fit
from .core import LessonResult, figure_path, finish, spiral_split


def positive_inputs(fast: bool = False, out: str | os.PathLike = "lessons",
                    seed: int = 0) -> LessonResult:
    """Lesson 2: when every input is positive, the gradients of a neuron's weights
    (upstream gradient times input) all share the upstream gradient's sign, so the weights
    can only move all up or all down together and zig-zag towards weights of mixed signs."""
    n, epochs = (40, 2) if fast else (100, 4)
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 1.5, (n, 2))
    target = np.array([1.0, -1.0])
    y = X @ target
    paths, same_sign = {}, {}
    for name, inputs, outputs in (("positive inputs", X, y),
                                  ("zero-centred", Center().fit_transform(X), y - y.mean())):
        neuron = nn.Linear(2, 1, bias=False, init="zeros")
        w = neuron.weight
        path, signs = [w.data[0].copy()], []

        def record(step, loss, lr, w=w, path=path, signs=signs):
            signs.append(bool(np.sign(w.grad[0, 0]) == np.sign(w.grad[0, 1])))
            path.append(w.data[0].copy())

        fit(nn.Sequential(neuron, nn.Flatten(0)), nn.MSELoss(), SGD(neuron.parameters(), lr=0.1),
            DataLoader(inputs, outputs, batch_size=1, shuffle=True, seed=seed), epochs=epochs,
            on_batch_end=record, progress=False)
        paths[name], same_sign[name] = np.array(path), float(np.mean(signs))
    figure, (ax,) = new_figure()
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], marker=".", label=name)
    ax.plot(*target, "k*", markersize=12, label="best weights")
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.legend()
    ax.grid(alpha=0.3)
    path = save_figure(figure, figure_path(out, "lesson_02_zigzag.png"))
    return finish(LessonResult(
        2, "all-positive inputs force a neuron's weight gradients to share a sign",
        {"steps whose two weight gradients share a sign": same_sign},
        f"{same_sign['positive inputs']:.0%} of the steps moved both weights the same way "
        f"with positive inputs, {same_sign['zero-centred']:.0%} with centred ones", [path]))


def batchnorm_grid(fast: bool = False, out: str | os.PathLike = "lessons",
                   seed: int = 0) -> LessonResult:
    """Lesson 7: batch norm makes training insensitive to the initialization's scale and
    to the learning rate: over a grid of both, far more cells train well with it."""
    X, y, X_val, y_val = spiral_split(seed, n_per_class=40 if fast else 100)
    width, epochs = (16, 60) if fast else (64, 100)
    scales, lrs = (1e-3, 1e-1, 10.0), (1e-2, 1e-1, 1.0)
    accuracy = {}
    for batchnorm in (False, True):
        grid = np.zeros((len(scales), len(lrs)))
        for i, scale in enumerate(scales):
            for j, lr in enumerate(lrs):
                model = nn.MLP(2, [width, width, 3], activation="relu", batchnorm=batchnorm,
                               init=functools.partial(init.normal, std=scale), seed=seed)
                batches = DataLoader(X, y, batch_size=16 if fast else 32, shuffle=True,
                                     drop_last=True, seed=seed)
                history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=lr,
                              momentum=0.9), batches, (X_val, y_val), epochs=epochs,
                              progress=False)
                grid[i, j] = history.val_acc[-1] if len(history.val_acc) == epochs else 0.0
        accuracy["with BN" if batchnorm else "without BN"] = grid
    figure, axes = new_figure(ncols=2)
    for ax, (name, grid) in zip(axes, accuracy.items()):
        ax.imshow(grid, vmin=0, vmax=1, cmap="viridis")
        for (i, j), value in np.ndenumerate(grid):
            ax.text(j, i, f"{value:.0%}", ha="center", va="center", color="w")
        ax.set_xticks(range(len(lrs)), [f"{lr:g}" for lr in lrs])
        ax.set_yticks(range(len(scales)), [f"{s:g}" for s in scales])
        ax.set_xlabel("learning rate")
        ax.set_ylabel("init std")
        ax.set_title(f"validation accuracy, {name}")
    good = {name: int((grid >= 0.8).sum()) for name, grid in accuracy.items()}
    return finish(LessonResult(
        7, "batch norm makes training insensitive to initialization scale and learning rate",
        {"cells (of 9) at >= 80% validation accuracy": good,
         "mean accuracy over the grid": {name: float(g.mean()) for name, g in accuracy.items()}},
        f"{good['with BN']} of 9 settings train well with batch norm, "
        f"{good['without BN']} without it",
        [save_figure(figure, figure_path(out, "lesson_07_bn_grid.png"))]))


def dropout_gap(fast: bool = False, out: str | os.PathLike = "lessons",
                seed: int = 0) -> LessonResult:
    """Lesson 8: on a small training set, a big net memorizes it; dropout narrows the gap
    between training and validation accuracy."""
    X, y, X_val, y_val = spiral_split(seed, n_per_class=100)
    n = 60 if fast else 90
    width, epochs = (64, 150) if fast else (256, 400)
    gaps, figures, verdicts = {}, [], {}
    for p in (0.0, 0.5):
        model = nn.MLP(2, [width, width, 3], activation="relu", dropout=p, seed=seed)
        history = fit(model, nn.CrossEntropyLoss(),
                      SGD(model.parameters(), lr=0.1, momentum=0.9),
                      (X[:n], y[:n]), (X_val, y_val), epochs=epochs, progress=False)
        # the accuracy of the model in eval mode on its own training data: dropout's noise
        # is off, as it is for the validation data
        train_acc = float((model(X[:n]).data.argmax(axis=1) == y[:n]).mean())
        gaps[f"dropout {p}"] = train_acc - history.val_acc[-1]
        verdicts[f"dropout {p}"] = verdict(history).message.split(":")[0]
        figures.append(plot_history(history, figure_path(out, f"lesson_08_dropout_{p}.png"),
                                    verdict=True))
    return finish(LessonResult(
        8, "dropout narrows the train/validation gap on a small training set",
        {"train - validation accuracy": gaps, "verdict": verdicts},
        f"the gap is {gaps['dropout 0.0']:.3f} without dropout, {gaps['dropout 0.5']:.3f} "
        f"with p=0.5", figures))



def preprocessing(fast: bool = False, out: str | os.PathLike = "lessons",
                  seed: int = 0) -> LessonResult:
    """Lesson 9: zero-centring and standardizing the inputs speed up a linear classifier
    trained by gradient descent; PCA decorrelates 2-D data and whitening gives it the
    identity covariance (the lectures' picture)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((150 if fast else 600, 2))
    y = np.digitize(X[:, 0] + 0.3 * X[:, 1], [-0.5, 0.5])  # three classes in bands
    # off-centre, and the feature that matters most on the smaller scale: an
    # ill-conditioned loss
    X = X * np.array([1.0, 20.0]) + np.array([30.0, -50.0])
    steps = 100 if fast else 300
    final, curves = {}, {}
    for name, inputs in (("raw", X), ("centred", Center().fit_transform(X)),
                         ("standardized", Standardize().fit_transform(X))):
        best = None
        for lr in (1e-4, 1e-3, 1e-2, 1e-1, 1.0):  # each gets its best learning rate
            model = nn.Linear(2, 3, init="zeros")
            history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=lr),
                          (inputs, y), epochs=steps, progress=False)
            finite = len(history.train_loss) == steps
            if finite and (best is None or history.train_loss[-1] < best[-1]):
                best = history.train_loss
        final[name], curves[name] = best[-1], best
    loss_path = plot_curves(curves, figure_path(out, "lesson_09_loss.png"), xlabel="epoch",
                            log=True)
    cloud = rng.standard_normal((500, 2)) @ np.array([[2.0, 1.2], [0.0, 0.5]]) + [3.0, 2.0]
    views = {"original": cloud, "zero-centred": Center().fit_transform(cloud),
             "decorrelated (PCA)": PCA(n_components=2).fit_transform(cloud),
             "whitened (PCA)": PCA(n_components=2, whiten=True).fit_transform(cloud),
             "whitened (ZCA)": ZCA().fit_transform(cloud)}
    figure, axes = new_figure(ncols=len(views))
    for ax, (name, points) in zip(axes, views.items()):
        ax.scatter(points[:, 0], points[:, 1], s=3)
        ax.axhline(0, color="k", lw=0.5)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_aspect("equal", "datalim")
        ax.set_title(name)
    covariance = {name: float(np.cov(points.T)[0, 1]) for name, points in views.items()}
    return finish(LessonResult(
        9, "zero-centring and standardizing speed up a linear classifier; PCA decorrelates "
        "and whitening makes the covariance the identity",
        {f"loss after {steps} epochs at the best lr": final,
         "covariance of the two features": covariance},
        f"standardized inputs reach a {final['raw'] / final['standardized']:.1f}x lower loss "
        f"than raw ones, centred ones {final['raw'] / final['centred']:.1f}x",
        [loss_path, save_figure(figure, figure_path(out, "lesson_09_pca_whitening.png"))]))


def babysitting(fast: bool = False, out: str | os.PathLike = "lessons",
                seed: int = 0) -> LessonResult:
    """Lesson 10: before training, the softmax loss is about log C; a model that works
    can overfit 20 examples to 100% training accuracy."""
    X, y, _, _ = spiral_split(seed, n_per_class=50 if fast else 100)
    model = nn.MLP(2, [64, 64, 3], activation="relu", seed=seed)
    initial = check_initial_loss(model, X, y)
    overfit = check_overfit(model, X, y, n=20, epochs=100 if fast else 300, seed=seed)
    print(initial, overfit, sep="\n")
    path = plot_history(overfit.details["history"], figure_path(out, "lesson_10_overfit.png"))
    return finish(LessonResult(
        10, "babysitting: the initial loss is about log C, and 20 examples overfit to 100%",
        {"initial loss": initial.measured, "log C": float(np.log(3)),
         "training accuracy on 20 examples": overfit.measured},
        f"initial loss check {'passed' if initial else 'failed'}, overfit check "
        f"{'passed' if overfit else 'failed'}", [path]))

"""Lesson 14: transfer learning with the pretrained digits CNN."""

from __future__ import annotations

import os

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..data import train_test_split
from ..optim import Adam
from ..plots import plot_curves
from ..train import fit
from ..value import Value
from .core import LessonResult, LessonUnavailable, figure_path, finish

NEEDS = ("lesson 14 needs the pretrained CNN, tinygrad_edu.models.digits_cnn(pretrained=True), "
         "which this version of tinygrad_edu does not have")
PER_CLASS = 2
LR = 1e-2


def transfer_learning(fast: bool = False, out: str | os.PathLike = "lessons",
                      seed: int = 0) -> LessonResult:
    """Lesson 14: on a small dataset (the digits 5-9, two images each), features
    pretrained on the digits 0-4 beat training from scratch, frozen or fine-tuned.

    Each of ``seeds`` draws other training images (and another new classifier and
    scratch initialization); the accuracies are the means over them, since from ten
    images one draw alone says little."""
    try:
        from ..models import digits_cnn, digits_subset
    except ImportError as e:
        raise LessonUnavailable(NEEDS) from e
    X, y = digits_subset((5, 6, 7, 8, 9))
    seeds = range(seed, seed + (3 if fast else 10))
    epochs = 60 if fast else 100
    curves: dict[str, list[np.ndarray]] = {"scratch": [], "frozen features": [],
                                           "fine-tuned": []}
    for s in seeds:
        X_train, y_train, X_test, y_test = train_test_split(
            X, y, test=1 - 5 * PER_CLASS / len(y), stratify=True, seed=s)
        for name, run in curves.items():
            head = nn.Linear(128, 5, seed=s, dtype=np.float32)  # a new classifier
            if name == "scratch":
                model = digits_cnn(seed=100 + s)
                groups = [{"params": model.parameters()}]
                data = (X_train, y_train), (X_test, y_test)
            elif name == "fine-tuned":  # small steps keep what pretraining learned
                features = digits_cnn(pretrained=True)[:-1]
                model = nn.Sequential(*features, head)
                groups = [{"params": features.parameters(), "lr": LR / 10},
                          {"params": head.parameters()}]
                data = (X_train, y_train), (X_test, y_test)
            else:  # frozen: the features, batch norm included, are computed once
                features = digits_cnn(pretrained=True)[:-1]
                with no_grad():
                    fixed = [features(Value(x, requires_grad=False)).data
                             for x in (X_train, X_test)]
                model, groups = head, [{"params": head.parameters()}]
                data = (fixed[0], y_train), (fixed[1], y_test)
            history = fit(model, nn.CrossEntropyLoss(), Adam(groups, lr=LR), *data,
                          epochs=epochs, progress=False)
            run.append(np.array(history.val_acc))
    mean = {name: np.mean(runs, axis=0) for name, runs in curves.items()}
    path = plot_curves(mean, figure_path(out, "lesson_14_transfer.png"),
                       xlabel="epoch (one full-batch step)",
                       ylabel=f"test accuracy, mean of {len(seeds)} draws")
    accuracy = {name: float(m[-1]) for name, m in mean.items()}
    return finish(LessonResult(
        14, "transfer learning: pretrained features beat training from scratch on little data",
        {"training images": 5 * PER_CLASS, "seeds": len(seeds), "test accuracy": accuracy},
        f"with {5 * PER_CLASS} training images, the pretrained features reach "
        f"{accuracy['frozen features']:.0%} frozen and {accuracy['fine-tuned']:.0%} "
        f"fine-tuned, against {accuracy['scratch']:.0%} from scratch", [path]))

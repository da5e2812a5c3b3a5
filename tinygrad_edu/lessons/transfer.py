"""Lesson 14: transfer learning with the pretrained digits CNN."""

from __future__ import annotations

import os

import numpy as np

from .. import nn
from ..data import train_test_split
from ..optim import Adam
from ..plots import plot_curves
from ..train import fit
from .core import LessonResult, LessonUnavailable, figure_path, finish

NEEDS = ("lesson 14 needs the pretrained CNN, tinygrad_edu.models.digits_cnn(pretrained=True), "
         "which this version of tinygrad_edu does not have")


def transfer_learning(fast: bool = False, out: str | os.PathLike = "lessons",
                      seed: int = 0) -> LessonResult:
    """Lesson 14: on a small dataset (the digits 5-9, a few images each), features
    pretrained on the digits 0-4 beat training from scratch, frozen or fine-tuned."""
    try:
        from ..models import digits_cnn, digits_subset
    except ImportError as e:
        raise LessonUnavailable(NEEDS) from e
    X, y = digits_subset((5, 6, 7, 8, 9))
    per_class = 5 if fast else 10
    X_train, y_train, X_test, y_test = train_test_split(
        X, y, test=1 - 5 * per_class / len(y), stratify=True, seed=seed)
    epochs = 15 if fast else 40
    curves, accuracy = {}, {}
    for name in ("scratch", "frozen features", "fine-tuned"):
        features = nn.Sequential(*list(digits_cnn(pretrained=name != "scratch", seed=seed))[:9])
        if name == "frozen features":
            features.requires_grad_(False)
        # a new classifier for the new classes, as digits_cnn's docstring says
        model = nn.Sequential(features, nn.Linear(128, 5, seed=seed, dtype=np.float32))
        trainable = [p for p in model.parameters() if p.requires_grad]
        history = fit(model, nn.CrossEntropyLoss(), Adam(trainable, lr=3e-3),
                      (X_train, y_train), (X_test, y_test), epochs=epochs, progress=False)
        curves[name], accuracy[name] = history.val_acc, history.val_acc[-1]
    path = plot_curves(curves, figure_path(out, "lesson_14_transfer.png"), xlabel="epoch",
                       ylabel="test accuracy")
    return finish(LessonResult(
        14, "transfer learning: pretrained features beat training from scratch on little data",
        {"training images": len(y_train), "test accuracy": accuracy},
        f"with {len(y_train)} training images, pretrained features reach "
        f"{max(accuracy['frozen features'], accuracy['fine-tuned']):.0%} against "
        f"{accuracy['scratch']:.0%} from scratch", [path]))

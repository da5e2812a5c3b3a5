"""The small CNN of examples 10 and 11 for the 8x8 digits, and its pretrained weights.

``digits_cnn()`` builds the lectures' pattern twice (convolution, batch norm per channel,
ReLU, 2x2 max pooling) and a linear classifier:

    (1, 8, 8) -> conv 3x3 -> (16, 8, 8) -> pool -> (16, 4, 4)
              -> conv 3x3 -> (32, 4, 4) -> pool -> (32, 2, 2) -> linear -> num_classes

``digits_cnn(pretrained=True)`` loads weights trained on the digits 0-4 only, shipped with
the package (``PRETRAINED``, read by ``tinygrad_edu.load``: no pickle). ``pretrain()`` is
the recipe that made them; ``python -m tinygrad_edu.models`` runs it and writes the file,
the same arrays bit for bit on the same NumPy and machine, since every random draw comes
from a seed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..data import DataLoader, RandomAffine, load_digits, train_test_split
from ..optim import Adam
from ..optim.lr_scheduler import CosineAnnealingLR
from ..serialization import load
from ..train import fit
from ..value import Value

PRETRAINED = Path(__file__).with_name("digits_cnn_0to4.npz")
# The digits the shipped weights were trained on, and what pretrain() does with them.
PRETRAINED_DIGITS = (0, 1, 2, 3, 4)
PRETRAINED_SEED = 0
_EPOCHS = 15
_PROJECTOR_WIDTH = 256
ORIENTATIONS = 8  # the square's symmetries: 4 rotations, each also mirrored


def digits_cnn(pretrained: bool = False, num_classes: int = 5, seed: int = 0,
               ) -> nn.Sequential:
    """The CNN for (N, 1, 8, 8) float32 images with pixels in [0, 1], giving
    ``num_classes`` scores.

    Layers ``0``, ``4`` and ``9`` draw their initial weights from ``seed``, ``seed + 1``
    and ``seed + 2``. ``pretrained=True`` then loads ``PRETRAINED``: weights and batch-norm
    statistics trained on the digits 0-4 (``pretrain()``), with scores in that order, so it
    needs ``num_classes=5``; for another task, keep its first nine layers (the features)
    and put a new ``nn.Linear(128, k)`` after them.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise ValueError(f"digits_cnn: num_classes must be a positive int; got "
                         f"{num_classes!r}")
    if pretrained and num_classes != len(PRETRAINED_DIGITS):
        raise ValueError(f"digits_cnn: the pretrained weights classify the digits 0-4, so "
                         f"pretrained=True needs num_classes={len(PRETRAINED_DIGITS)}; got "
                         f"num_classes={num_classes} (replace the last layer instead)")
    f32 = np.float32
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, seed=seed, dtype=f32), nn.BatchNorm2d(16, dtype=f32),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, seed=seed + 1, dtype=f32),
        nn.BatchNorm2d(32, dtype=f32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, num_classes, seed=seed + 2, dtype=f32))
    if pretrained:
        model.load_state_dict(load(PRETRAINED))
        model.eval()
    return model


def digits_subset(digits: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 digits showing one of ``digits``, as (N, 1, 8, 8) float32 images and labels
    renumbered 0, 1, ... in the order of ``digits``. Needs the digits extra."""
    X, y = load_digits()
    keep = np.isin(y, digits)
    label = np.full(10, -1, dtype=np.int64)
    label[list(digits)] = np.arange(len(digits))
    return X[keep].reshape(-1, 1, 8, 8).astype(np.float32), label[y[keep]]


def pretraining_split() -> tuple[np.ndarray, ...]:
    """The digits 0-4 split as ``pretrain`` uses them: ``(X_train, y_train, X_test,
    y_test)``, a fifth of each digit held out (never seen in training)."""
    X, y = digits_subset(PRETRAINED_DIGITS)
    return train_test_split(X, y, test=0.2, stratify=True, seed=PRETRAINED_SEED)


def orientations(images: np.ndarray) -> np.ndarray:
    """The (N, C, H, W) square ``images`` in the square's 8 orientations, stacked as
    (8 N, C, H, W): rotated by 0, 90, 180 and 270 degrees, then the same four mirrored.
    Copy ``o`` of image ``i`` is at ``o * N + i``; ``o = 0`` is the image itself."""
    turned = [np.rot90(images, k, axes=(2, 3)) for k in range(4)]
    return np.ascontiguousarray(np.concatenate(turned + [t[..., ::-1] for t in turned]))


def distortions(seed: int | np.random.Generator | None = None) -> RandomAffine:
    """The pretraining's augmentation: each image rotated by up to 15 degrees, shifted by
    up to a pixel, scaled by 0.85-1.15 and sheared by up to 11.3 degrees (a shear factor
    of 0.2), resampled bilinearly: the small changes of slant, size and place that
    handwriting has."""
    return RandomAffine(degrees=15, translate=(1 / 8, 1 / 8), scale=(0.85, 1.15),
                        shear=math.degrees(math.atan(0.2)), interpolation="bilinear",
                        seed=seed)


def pretrain(seed: int = PRETRAINED_SEED, epochs: int = _EPOCHS) -> nn.Sequential:
    """Train ``digits_cnn(seed=seed)`` on the training part of ``pretraining_split()``;
    return it in evaluation mode.

    The features (layers 0-8) learn to tell apart 40 classes, each digit 0-4 in each of
    its 8 ``orientations()`` (self-supervised label augmentation: a mirrored 2 is a shape
    of its own), each image randomly distorted (``distortions()``), through a
    projector head (linear, batch norm, ReLU, linear) that is then thrown away: Adam at
    3e-3 with weight decay 1e-4 and a cosine schedule, batches of 64. Then the classifier
    (layer 9) is fitted to the upright digits 0-4 on the frozen features.
    """
    X_train, y_train, _, _ = pretraining_split()
    X = orientations(X_train)
    y = np.concatenate([y_train * ORIENTATIONS + o for o in range(ORIENTATIONS)])
    model = digits_cnn(num_classes=len(PRETRAINED_DIGITS), seed=seed)
    features, classifier = model[:-1], model[-1]
    f32 = np.float32
    projector = nn.Sequential(
        nn.Linear(128, _PROJECTOR_WIDTH, seed=seed + 3, dtype=f32),
        nn.BatchNorm1d(_PROJECTOR_WIDTH, dtype=f32), nn.ReLU(),
        nn.Linear(_PROJECTOR_WIDTH, len(PRETRAINED_DIGITS) * ORIENTATIONS, seed=seed + 4,
                  dtype=f32))
    net = nn.Sequential(features, projector)
    optimizer = Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
    loader = DataLoader(X, y, batch_size=64, shuffle=True, seed=seed,
                        transform=distortions(seed))
    fit(net, nn.CrossEntropyLoss(), optimizer, loader, epochs=epochs,
        scheduler=CosineAnnealingLR(optimizer, T_max=epochs), progress=False)
    features.eval()
    with no_grad():
        fixed = features(Value(X_train, requires_grad=False)).data
    optimizer = Adam(classifier.parameters(), lr=1e-2)
    fit(classifier, nn.CrossEntropyLoss(), optimizer, (fixed, y_train), epochs=200,
        progress=False)
    return model.eval()

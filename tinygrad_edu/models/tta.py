"""Test-time augmentation: average a classifier's predictions over shifted (and, where
the data allows, mirrored) copies of each test image, as the lectures describe for ResNet
(which averages over ten crops at evaluation)."""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd import no_grad
from ..functional import softmax
from ..nn import Module
from ..value import Value


def predict_tta(model: Module, images: np.ndarray, shift: int = 1, hflip: bool = False,
                ) -> np.ndarray:
    """Class probabilities for (N, C, H, W) ``images``: the mean of ``softmax(model(x))``
    over every copy ``x`` of the batch moved by (dy, dx) pixels, each in -shift..shift
    (the uncovered border filled with zeros, as ``RandomCrop``'s padding), and with
    ``hflip=True`` over the mirrored copies too. ``shift=0`` without ``hflip`` is the
    plain prediction.

    The model runs in evaluation mode under ``no_grad()`` and is put back in the mode it
    was in. Shift by at most what training's augmentation did: a copy unlike any training
    image only adds noise to the average.
    """
    x = np.asarray(images)
    if x.ndim != 4:
        raise ValueError(f"predict_tta: images must be (N, C, H, W); got shape {x.shape}")
    if isinstance(shift, bool) or not isinstance(shift, numbers.Integral) or shift < 0 \
            or 2 * shift >= min(x.shape[2:]):
        raise ValueError(f"predict_tta: shift must be an int in 0..{(min(x.shape[2:]) - 1) // 2}"
                         f" for {x.shape[2]}x{x.shape[3]} images; got {shift!r}")
    s = int(shift)
    h, w = x.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)))
    copies = [padded[:, :, s + dy:s + dy + h, s + dx:s + dx + w]
              for dy in range(-s, s + 1) for dx in range(-s, s + 1)]
    if hflip:
        copies += [c[..., ::-1] for c in copies]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            total = sum(softmax(model(Value(np.ascontiguousarray(c), requires_grad=False)),
                                axis=1).data for c in copies)
    finally:
        model.train(was_training)
    return total / len(copies)

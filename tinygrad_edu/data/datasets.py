"""Toy classification datasets drawn with NumPy, and scikit-learn's 8x8 digits.

Every function returns ``(X, y)``: ``X`` a float64 array with one row per sample and ``y``
an int64 array of class labels ``0 .. k-1``. The samples come sorted by class (all of
class 0, then all of class 1, ...), so shuffle them -- ``DataLoader(shuffle=True)`` or a
split does -- before training on mini-batches. ``seed`` is None (the library's default
generator, which ``tinygrad_edu.manual_seed`` reseeds), an int, or a ``np.random.Generator``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import integer, is_int, is_real
from ..rng import generator

# ---------------------------------------------------------------------------------------
# checks and shared pieces
# ---------------------------------------------------------------------------------------


def _scale(fn: str, name: str, value: Any) -> float:
    """``value`` as a finite float >= 0 (a noise level or a standard deviation)."""
    if not is_real(value) or not 0 <= value < np.inf:
        raise ValueError(f"{fn}: {name} must be a finite number >= 0; got {value!r}")
    return float(value)


def _even_counts(n: int, k: int) -> np.ndarray:
    """``n`` split into ``k`` counts that differ by at most one, the larger ones first."""
    return n // k + (np.arange(k) < n % k)


def _labels(counts: Any) -> np.ndarray:
    """int64 labels: ``counts[0]`` zeros, then ``counts[1]`` ones, and so on."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def _circle(t: np.ndarray) -> np.ndarray:
    """The points ``(cos t, sin t)`` of the unit circle, shape ``(len(t), 2)``."""
    return np.stack([np.cos(t), np.sin(t)], axis=1)


# ---------------------------------------------------------------------------------------
# toy datasets
# ---------------------------------------------------------------------------------------


def spiral(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2,
           seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """CS231n's spiral: ``n_classes`` arms winding out of the origin, one class per arm.

    Arm ``k`` has radius ``r = linspace(0, 1, n_per_class)`` and angle
    ``t = linspace(4k, 4(k + 1), n_per_class) + noise * N(0, 1)`` (radians); its points are
    ``(r sin t, r cos t)``. The noise turns points along their circle, so every point keeps
    its radius exactly.

    Returns ``X`` of shape ``(n_classes * n_per_class, 2)`` and ``y`` with ``n_per_class``
    labels of each class ``0 .. n_classes-1``. A linear classifier cannot separate the arms.
    """
    n_per_class = integer("spiral", "n_per_class", n_per_class)
    n_classes = integer("spiral", "n_classes", n_classes)
    noise = _scale("spiral", "noise", noise)
    rng = generator(seed)
    r = np.linspace(0.0, 1.0, n_per_class)
    arm = np.arange(n_classes)[:, None]
    # linspace(4k, 4(k + 1), n) is 4 (k + r): one row of angles per arm.
    t = 4.0 * (arm + r) + noise * rng.standard_normal((n_classes, n_per_class))
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=-1).reshape(-1, 2)
    return X, _labels([n_per_class] * n_classes)


def moons(n: int = 200, noise: float = 0.1,
          seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles of radius 1.

    Class 0 is the upper half circle ``(cos t, sin t)``, t in [0, pi], centred at (0, 0);
    class 1 the lower one ``(1 - cos t, 0.5 - sin t)``, centred at (1, 0.5). Gaussian noise
    of standard deviation ``noise`` is added to both coordinates.

    Returns ``X`` of shape ``(n, 2)`` and ``y`` with ``ceil(n / 2)`` zeros, then
    ``floor(n / 2)`` ones.
    """
    n = integer("moons", "n", n)
    noise = _scale("moons", "noise", noise)
    rng = generator(seed)
    counts = _even_counts(n, 2)
    upper = _circle(np.linspace(0.0, np.pi, counts[0]))
    lower = np.array([1.0, 0.5]) - _circle(np.linspace(0.0, np.pi, counts[1]))
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    return X, _labels(counts)


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5,
            seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one, both centred at the origin.

    Class 0 is the circle of radius 1, class 1 the circle of radius ``factor``
    (``0 <= factor < 1``), each with its points evenly spaced by angle. Gaussian noise of
    standard deviation ``noise`` is added to both coordinates.

    Returns ``X`` of shape ``(n, 2)`` and ``y`` with ``ceil(n / 2)`` zeros, then
    ``floor(n / 2)`` ones.
    """
    n = integer("circles", "n", n)
    noise = _scale("circles", "noise", noise)
    factor = _scale("circles", "factor", factor)
    if factor >= 1:
        raise ValueError(f"circles: factor (the inner radius) must be in [0, 1); got "
                         f"{factor!r}")
    rng = generator(seed)
    counts = _even_counts(n, 2)
    outer, inner = (_circle(np.linspace(0.0, 2 * np.pi, c, endpoint=False)) for c in counts)
    X = np.concatenate([outer, factor * inner]) + noise * rng.standard_normal((n, 2))
    return X, _labels(counts)


def blobs(n: int = 200, centers: int | ArrayLike = 3, std: float = 1.0,
          seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs, one class per centre.

    ``centers`` is either a number ``k`` of centres, drawn uniformly in the box
    ``[-10, 10] x [-10, 10]``, or an array of shape ``(k, d)`` of centres (any dimension
    ``d``). Each blob has standard deviation ``std`` in every coordinate.

    Returns ``X`` of shape ``(n, d)`` (``d = 2`` for a number of centres) and ``y`` with the
    ``n`` samples shared among the ``k`` classes as evenly as possible (the counts differ
    by at most one, the larger ones first).
    """
    n = integer("blobs", "n", n)
    std = _scale("blobs", "std", std)
    rng = generator(seed)
    if is_int(centers):
        centers = rng.uniform(-10.0, 10.0, size=(integer("blobs", "centers", centers), 2))
    else:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2 or 0 in centers.shape:
            raise ValueError(f"blobs: centers must be an int >= 1 or an array of shape "
                             f"(k, d) with k, d >= 1; got an array of shape {centers.shape}")
    counts = _even_counts(n, len(centers))
    X = np.repeat(centers, counts, axis=0) + std * rng.standard_normal((n, centers.shape[1]))
    return X, _labels(counts)


def xor(n: int = 200, noise: float = 0.1,
        seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Four Gaussian clusters at the corners (+-1, +-1), labelled by XOR of the signs.

    Class 0 sits at (-1, -1) and (1, 1), where the coordinates have the same sign; class 1
    at (-1, 1) and (1, -1). Each cluster has standard deviation ``noise`` in every
    coordinate. No single line separates the classes: the smallest problem that needs a
    hidden layer.

    Returns ``X`` of shape ``(n, 2)`` and ``y`` with ``ceil(n / 2)`` zeros, then
    ``floor(n / 2)`` ones; each class is shared evenly between its two corners.
    """
    n = integer("xor", "n", n)
    noise = _scale("xor", "noise", noise)
    rng = generator(seed)
    corners = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    counts = _even_counts(n, 2)
    per_corner = np.concatenate([_even_counts(c, 2) for c in counts])
    X = np.repeat(corners, per_corner, axis=0) + noise * rng.standard_normal((n, 2))
    return X, _labels(counts)


# ---------------------------------------------------------------------------------------
# a small real dataset
# ---------------------------------------------------------------------------------------


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 images of handwritten digits that scikit-learn ships (a copy of the
    test set of UCI's optical recognition of handwritten digits).

    Returns ``X`` of shape ``(1797, 64)``, float64, each row an image flattened row by row
    with its pixel counts 0..16 divided by 16, so ``X`` is **scaled to [0, 1]**
    (``X.reshape(-1, 8, 8)`` gives the images); and ``y``, int64, the digit 0..9 each image
    shows. Nothing is downloaded: scikit-learn includes the file. Needs the ``digits`` extra
    (``pip install tinygrad_edu[digits]``), which installs scikit-learn.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as e:
        raise ImportError("load_digits needs scikit-learn, which ships the digits: "
                          "pip install tinygrad_edu[digits]") from e
    digits = sklearn_load_digits()
    return digits.data.astype(np.float64) / 16.0, digits.target.astype(np.int64)

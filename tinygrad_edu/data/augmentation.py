"""Data augmentation: random changes to training images that keep their labels, and mixup.

Each transform is a callable on a whole batch, ``transform(X) -> X'``, so it can be passed
as a loader's ``transform=`` or chained with ``Compose``. Conventions:

- Images are float arrays of shape (N, C, H, W), or (N, H, W) for one channel (the result
  then has that shape too). Integer pixels are an error: convert them first, e.g.
  ``X.astype(np.float32) / 255``. The result has X's dtype; X is never modified.
- Every image in a batch gets its own random draw (its own flip, crop, factors, hole).
- ``seed=`` (an int or a ``np.random.Generator``) is resolved once, at construction, with
  ``tinygrad_edu.rng.generator``, so successive calls continue one stream; None draws from
  the library's default generator at call time, so ``tinygrad_edu.manual_seed`` applies.
- Arguments are checked at construction; sizes against the images at call time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import integer, is_real
from ..rng import generator, own_generator

# The ITU-R 601-2 luma weights of R, G, B, as torchvision's rgb_to_grayscale.
_LUMA = np.array([0.2989, 0.587, 0.114])
# RandomResizedCrop draws this many boxes before falling back to a central crop, as
# torchvision does.
_ATTEMPTS = 10

# ----------------------------------------------------------------------------------------
# Argument checks
# ----------------------------------------------------------------------------------------


def _size_pair(name: str, size: Any) -> tuple[int, int]:
    """An output size: an int s for (s, s), or a pair (h, w)."""
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return integer(name, "size[0]", size[0]), integer(name, "size[1]", size[1])
    return (integer(name, "size (an int or a pair (h, w))", size),) * 2


def _interval(name: str, what: str, value: Any, upper: float = math.inf) -> tuple[float, float]:
    """A pair (lo, hi) with 0 < lo <= hi <= upper."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {what} must be a pair (min, max) of numbers; got "
                         f"{value!r}") from None
    if not 0 < lo <= hi <= upper:
        bound = "" if upper == math.inf else f" <= {upper:g}"
        raise ValueError(f"{name}: {what} must satisfy 0 < min <= max{bound}; got {value!r}")
    return lo, hi


def _factor_range(name: str, what: str, value: Any) -> tuple[float, float]:
    """ColorJitter's factor range, as torchvision: v >= 0 means [max(0, 1 - v), 1 + v]; a
    pair (lo, hi) with 0 <= lo <= hi is taken as is."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or not 0 <= value[0] <= value[1]:
            raise ValueError(f"{name}: {what} as a pair must be (min, max) with "
                             f"0 <= min <= max; got {value!r}")
        return float(value[0]), float(value[1])
    if not (is_real(value) and value >= 0):
        raise ValueError(f"{name}: {what} must be >= 0 or a pair (min, max); got {value!r}")
    return max(0.0, 1.0 - value), 1.0 + value


def _images(name: str, X: ArrayLike) -> np.ndarray:
    """A float batch of shape (N, C, H, W) or (N, H, W)."""
    X = np.asarray(X)
    if X.dtype.kind != "f":
        raise TypeError(f"{name}: images must be a float array; got dtype {X.dtype} (convert "
                        f"8-bit pixels with X.astype(np.float32) / 255)")
    if X.ndim not in (3, 4):
        raise ValueError(f"{name}: images must have shape (N, C, H, W) or (N, H, W); got "
                         f"shape {X.shape}")
    return X


def _angle_range(name: str, what: str, value: Any) -> tuple[float, float]:
    """Degrees to draw from: a number v >= 0 for (-v, v), or a pair (min, max)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or not all(is_real(v) for v in value) or value[0] > value[1]:
            raise ValueError(f"{name}: {what} as a pair must be (min, max) numbers with "
                             f"min <= max; got {value!r}")
        return float(value[0]), float(value[1])
    if not (is_real(value) and value >= 0):
        raise ValueError(f"{name}: {what} must be a number >= 0 (for (-{what}, {what})) or "
                         f"a pair (min, max); got {value!r}")
    return -float(value), float(value)


# ----------------------------------------------------------------------------------------
# Per-image gathering: crops and bilinear resizing
# ----------------------------------------------------------------------------------------


def _along(a: np.ndarray, axis: int) -> np.ndarray:
    """Per-image values (N, k) shaped to lie along axis 2 (rows) or 3 (columns) of
    (N, C, H, W) images."""
    shape = [len(a), 1, 1, 1]
    shape[axis] = a.shape[1]
    return a.reshape(shape)


def _take(X: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
    """Rows (axis 2) or columns (axis 3) of each image: ``index[n]`` picks image n's."""
    return np.take_along_axis(X, _along(index, axis), axis)


def _crop(X: np.ndarray, top: np.ndarray, left: np.ndarray, h: int, w: int) -> np.ndarray:
    """``X[n, :, top[n]:top[n] + h, left[n]:left[n] + w]`` for every image n."""
    rows = _take(X, top[:, None] + np.arange(h), 2)
    return _take(rows, left[:, None] + np.arange(w), 3)


def _linear(X: np.ndarray, start: np.ndarray, length: np.ndarray, out: int,
            axis: int) -> np.ndarray:
    """Resample each image's span ``[start[n], start[n] + length[n])`` along ``axis`` to
    ``out`` pixels by linear interpolation.

    Pixels are unit squares with centres at integers (half-pixel centres, PyTorch's
    ``align_corners=False``): output pixel i samples the input at
    ``start + (i + 1/2) length / out - 1/2``, clamped to the span, so nothing outside it
    is read. There is no antialiasing: shrinking by more than 2 skips pixels.
    """
    last = (start + length - 1)[:, None]
    pos = np.clip(start[:, None] + (np.arange(out) + 0.5) * (length[:, None] / out) - 0.5,
                  start[:, None], last)
    lo = np.floor(pos).astype(np.intp)
    frac = _along(pos - lo, axis)
    return _take(X, lo, axis) * (1 - frac) + _take(X, np.minimum(lo + 1, last), axis) * frac


# ----------------------------------------------------------------------------------------
# Transforms
# ----------------------------------------------------------------------------------------


class _Transform:
    """A random transform of an image batch; subclasses write ``_apply(X, rng)`` for
    (N, C, H, W) float images."""

    def __init__(self, seed: int | np.random.Generator | None = None) -> None:
        self._rng = own_generator(seed)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def __call__(self, X: ArrayLike) -> np.ndarray:
        """The transformed batch, a new array of X's dtype (and ndim)."""
        X = _images(self._name, X)
        out = self._apply(X if X.ndim == 4 else X[:, None], generator(self._rng))
        return (out if X.ndim == 4 else out[:, 0]).astype(X.dtype, copy=False)

    def _apply(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


class RandomHorizontalFlip(_Transform):
    """Mirror each image left to right (``x[..., ::-1]``) with probability ``p``."""

    def __init__(self, p: float = 0.5, seed: int | np.random.Generator | None = None) -> None:
        if not (is_real(p) and 0 <= p <= 1):
            raise ValueError(f"{self._name}: p (the probability of a flip) must be in [0, 1]; "
                             f"got {p}")
        super().__init__(seed)
        self.p = p

    def _apply(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flip = rng.random(len(X)) < self.p
        return np.where(flip[:, None, None, None], X[..., ::-1], X)


class RandomCrop(_Transform):
    """Pad each image with ``padding`` zeros on every side, then cut out a window of
    ``size`` at a uniformly random position: the image shifted by up to ``padding`` pixels.

    ``size``: an int s for (s, s), or (h, w); it may not exceed the padded image
    (H + 2 padding, W + 2 padding). ``RandomCrop(32, padding=4)`` on 32 x 32 images is the
    usual CIFAR-10 augmentation. The padding is constant 0 (black for images in [0, 1];
    the mean for mean-subtracted ones).
    """

    def __init__(self, size: int | tuple[int, int], padding: int = 0,
                 seed: int | np.random.Generator | None = None) -> None:
        self.size = _size_pair(self._name, size)
        self.padding = integer(self._name, "padding", padding, minimum=0)
        super().__init__(seed)

    def _apply(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        (h, w), pad = self.size, self.padding
        X = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        H, W = X.shape[2:]
        if h > H or w > W:
            raise ValueError(f"{self._name}: crop size {(h, w)} is larger than the padded "
                             f"images, {(H, W)} (padding {pad})")
        top = rng.integers(0, H - h + 1, size=len(X))
        left = rng.integers(0, W - w + 1, size=len(X))
        return _crop(X, top, left, h, w)


class RandomResizedCrop(_Transform):
    """Cut a random box out of each image and resize it to ``size`` (bilinear).

    As torchvision: the box covers a fraction of the image's area drawn uniformly from
    ``scale`` and has an aspect ratio (width / height) drawn log-uniformly from ``ratio``;
    its sides are rounded to whole pixels and it is placed uniformly at random. A box that
    does not fit is drawn again, up to 10 times; then the whole image, cut to the nearest
    ratio in ``ratio`` and centred, is used. The resize is bilinear with half-pixel
    centres (PyTorch's ``align_corners=False``) and no antialiasing, written with NumPy.

    ``size``: an int s for (s, s), or (h, w); any size, smaller or larger than the images.
    ``scale``: (min, max) with 0 < min <= max <= 1. ``ratio``: (min, max) with
    0 < min <= max.
    """

    def __init__(self, size: int | tuple[int, int], scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3 / 4, 4 / 3),
                 seed: int | np.random.Generator | None = None) -> None:
        self.size = _size_pair(self._name, size)
        self.scale = _interval(self._name, "scale", scale, upper=1.0)
        self.ratio = _interval(self._name, "ratio", ratio)
        super().__init__(seed)

    def _fallback(self, H: int, W: int) -> tuple[int, int]:
        """The (height, width) of the central box used when no random box fits."""
        lo, hi = self.ratio
        if W / H < lo:
            return round(W / lo), W
        if W / H > hi:
            return H, round(H * hi)
        return H, W

    def _apply(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        N, _, H, W = X.shape
        area = H * W * rng.uniform(*self.scale, size=(N, _ATTEMPTS))
        aspect = np.exp(rng.uniform(*np.log(self.ratio), size=(N, _ATTEMPTS)))
        heights = np.round(np.sqrt(area / aspect)).astype(np.intp)
        widths = np.round(np.sqrt(area * aspect)).astype(np.intp)
        fits = (heights >= 1) & (heights <= H) & (widths >= 1) & (widths <= W)
        found, first = fits.any(axis=1), fits.argmax(axis=1)
        fallback_h, fallback_w = self._fallback(H, W)
        h = np.where(found, heights[np.arange(N), first], fallback_h)
        w = np.where(found, widths[np.arange(N), first], fallback_w)
        top = np.where(found, rng.integers(0, H - h + 1), (H - h) // 2)
        left = np.where(found, rng.integers(0, W - w + 1), (W - w) // 2)
        out_h, out_w = self.size
        return _linear(_linear(X, top, h, out_h, axis=2), left, w, out_w, axis=3)


class ColorJitter(_Transform):
    """Random brightness and contrast, with torchvision's meaning of the arguments.

    Each image gets factors b and c drawn uniformly from [max(0, 1 - brightness),
    1 + brightness] and [max(0, 1 - contrast), 1 + contrast] (or from a given pair
    (min, max)), and becomes

        brightness: x -> b x;   contrast: x -> c x + (1 - c) m,

    with m the image's mean gray level: the mean over the image of
    0.2989 R + 0.587 G + 0.114 B for three channels, of the channels' average otherwise.
    c = 0 gives a flat gray image, c = 1 the image itself. A factor range of 0 leaves the
    image unchanged.

    NOTE: the result is not clamped (torchvision clamps float images to [0, 1]), so any
    value range works, mean-subtracted images included. Without clamping the two steps
    commute, ``b (c x + (1 - c) m)``, so their order does not matter.
    """

    def __init__(self, brightness: float | tuple[float, float] = 0,
                 contrast: float | tuple[float, float] = 0,
                 seed: int | np.random.Generator | None = None) -> None:
        self.brightness = _factor_range(self._name, "brightness", brightness)
        self.contrast = _factor_range(self._name, "contrast", contrast)
        super().__init__(seed)

    def _apply(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        N, C = X.shape[:2]
        b = rng.uniform(*self.brightness, size=N).reshape(N, 1, 1, 1)
        c = rng.uniform(*self.contrast, size=N).reshape(N, 1, 1, 1)
        gray = _LUMA if C == 3 else np.full(C, 1 / C)
        m = (X.mean(axis=(2, 3)) @ gray).reshape(N, 1, 1, 1)
        return b * (c * X + (1 - c) * m)


class Cutout(_Transform):
    """Zero a ``size`` x ``size`` square of each image, over all its channels (DeVries and
    Taylor, 2017).

    As in the paper, the square's centre is a uniformly random pixel (for an even size,
    the pixel just below and right of the centre), so a square near a border is clipped to
    the image: the hole is exactly size x size only when it lies inside. ``size`` may not
    exceed the images' height or width.
    """

    def __init__(self, size: int, seed: int | np.random.Generator | None = None) -> None:
        self.size = integer(self._name, "size", size)
        super().__init__(seed)

    def _apply(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        N, _, H, W = X.shape
        s = self.size
        if s > min(H, W):
            raise ValueError(f"{self._name}: size {s} is larger than the images, {(H, W)}")
        top = rng.integers(0, H, size=N) - s // 2
        left = rng.integers(0, W, size=N) - s // 2
        rows = (np.arange(H) >= top[:, None]) & (np.arange(H) < top[:, None] + s)
        cols = (np.arange(W) >= left[:, None]) & (np.arange(W) < left[:, None] + s)
        return np.where(rows[:, None, :, None] & cols[:, None, None, :], 0, X)


class RandomAffine(_Transform):
    """Rotate, shift, scale and shear each image about its centre, by amounts drawn per
    image, as torchvision's ``RandomAffine``; where the image moved out of view, zeros.

    ``degrees``: a number d for an angle drawn uniformly from (-d, d), or (min, max);
    positive turns the image counter-clockwise as displayed (rows down), as ``np.rot90``.
    ``translate``: None, or (a, b) with 0 <= a, b <= 1: a shift drawn from (-a W, a W)
    pixels to the right and one from (-b H, b H) pixels down.
    ``scale``: None, or (min, max) with 0 < min <= max: a zoom factor.
    ``shear``: None, a number s for a horizontal shear angle drawn from (-s, s) degrees,
    (min, max), or (xmin, xmax, ymin, ymax) to shear vertically too. A horizontal shear
    by angle a moves each row by tan(a) times its height below the centre.
    ``interpolation``: ``"nearest"`` (torchvision's default) or ``"bilinear"``.

    The image is sheared vertically, then horizontally, then rotated and scaled, then
    shifted. Each output pixel takes the input where the inverse of that map sends it.
    """

    def __init__(self, degrees: float | tuple[float, float] = 0,
                 translate: tuple[float, float] | None = None,
                 scale: tuple[float, float] | None = None,
                 shear: float | tuple[float, ...] | None = None,
                 interpolation: str = "nearest",
                 seed: int | np.random.Generator | None = None) -> None:
        name = self._name
        self.degrees = _angle_range(name, "degrees", degrees)
        if translate is not None and not (
                isinstance(translate, (tuple, list)) and len(translate) == 2
                and all(is_real(t) and 0 <= t <= 1 for t in translate)):
            raise ValueError(f"{name}: translate must be None or a pair (a, b) of fractions "
                             f"of the width and height in [0, 1]; got {translate!r}")
        self.translate = (0.0, 0.0) if translate is None else tuple(map(float, translate))
        self.scale = (1.0, 1.0) if scale is None else _interval(name, "scale", scale)
        if isinstance(shear, (tuple, list)) and len(shear) == 4:
            shear = _angle_range(name, "shear[:2]", shear[:2]) + _angle_range(
                name, "shear[2:]", shear[2:])
        else:
            shear = (0.0, 0.0) if shear is None else _angle_range(name, "shear", shear)
            shear += (0.0, 0.0)
        self.shear = shear
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{name}: interpolation must be 'nearest' or 'bilinear'; got "
                             f"{interpolation!r}")
        self.interpolation = interpolation
        super().__init__(seed)

    def _apply(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        N, C, H, W = X.shape
        angle = np.deg2rad(rng.uniform(*self.degrees, size=N))
        shift = rng.uniform(-1, 1, size=(N, 2, 1)) * (np.array(self.translate) * (W, H))[:, None]
        zoom = rng.uniform(*self.scale, size=N)[:, None, None]
        sx, sy = np.tan(np.deg2rad([rng.uniform(*self.shear[:2], size=N),
                                    rng.uniform(*self.shear[2:], size=N)]))
        cos, sin = np.cos(angle), np.sin(angle)
        # (x, y) = (column, row) offsets from the centre; with rows pointing down, this
        # rotation turns counter-clockwise on screen.
        rotate = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
        shears = np.stack([np.stack([1 + sx * sy, sx], -1), np.stack([sy, np.ones(N)], -1)],
                          -2)  # [[1, sx], [0, 1]] @ [[1, 0], [sy, 1]]
        inverse = np.linalg.inv(zoom * rotate @ shears)
        rows, cols = np.meshgrid(np.arange(H) - (H - 1) / 2, np.arange(W) - (W - 1) / 2,
                                 indexing="ij")
        source = inverse @ (np.stack([cols.ravel(), rows.ravel()]) - shift)  # (N, 2, H W)
        out = _sample(X, source[:, 1] + (H - 1) / 2, source[:, 0] + (W - 1) / 2,
                      self.interpolation)
        return out.transpose(0, 2, 1).reshape(N, C, H, W)


def _sample(X: np.ndarray, rows: np.ndarray, cols: np.ndarray, interpolation: str,
            ) -> np.ndarray:
    """Each image ``X[n]`` read at the points ``(rows[n, k], cols[n, k])``, zero outside
    it, as an (N, K, C) array: the nearest pixel, or the bilinear mix of the four around."""
    N, _, H, W = X.shape
    padded = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))  # a zero border: outside reads it
    n = np.arange(N)[:, None]

    def pixels(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        return padded[n, :, np.clip(r + 1, 0, H + 1), np.clip(c + 1, 0, W + 1)]

    if interpolation == "nearest":
        return pixels(np.floor(rows + 0.5).astype(np.intp), np.floor(cols + 0.5).astype(np.intp))
    r0, c0 = np.floor(rows), np.floor(cols)
    fr, fc = (rows - r0)[..., None], (cols - c0)[..., None]
    r0, c0 = r0.astype(np.intp), c0.astype(np.intp)
    return ((1 - fr) * ((1 - fc) * pixels(r0, c0) + fc * pixels(r0, c0 + 1))
            + fr * ((1 - fc) * pixels(r0 + 1, c0) + fc * pixels(r0 + 1, c0 + 1)))


class Compose:
    """Apply transforms one after the other: ``Compose([f, g])(X) == g(f(X))``."""

    def __init__(self, transforms: Sequence[Callable[[np.ndarray], np.ndarray]]) -> None:
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(f"Compose: transforms[{i}] is not callable; got {t!r}")

    def __call__(self, X: ArrayLike) -> np.ndarray:
        for t in self.transforms:
            X = t(X)
        return X


# ----------------------------------------------------------------------------------------
# mixup
# ----------------------------------------------------------------------------------------


def _soft_targets(y: ArrayLike, n: int, num_classes: int | None) -> np.ndarray:
    """Targets as probabilities (n, C): one-hot rows for class labels (n,), or the given
    probabilities (n, C)."""
    y = np.asarray(y)
    if y.shape[:1] != (n,) or y.ndim > 2:
        raise ValueError(f"mixup: y must hold one class label (shape ({n},)) or one row of "
                         f"class probabilities (shape ({n}, C)) per sample of X; got shape "
                         f"{y.shape}")
    if num_classes is not None:
        integer("mixup", "num_classes", num_classes)
    if y.ndim == 2:
        if num_classes is not None and y.shape[1] != num_classes:
            raise ValueError(f"mixup: num_classes={num_classes}, but y holds probabilities "
                             f"of {y.shape[1]} classes")
        return y
    if y.dtype.kind not in "iu":
        raise TypeError(f"mixup: class labels must be integers; got dtype {y.dtype}")
    classes = int(y.max(initial=-1)) + 1 if num_classes is None else num_classes
    outside = (y < 0) | (y >= classes)
    if outside.any():
        raise ValueError(f"mixup: class labels must be in [0, {classes}); got "
                         f"{np.unique(y[outside])[:5].tolist()}")
    return np.eye(classes)[y]


def mixup(X: ArrayLike, y: ArrayLike, alpha: float = 0.2, num_classes: int | None = None,
          seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """mixup (Zhang et al., 2018): train on convex combinations of pairs of samples and of
    their targets.

    Each sample i is paired with sample j = perm[i] of a random permutation of the batch
    and mixed with its own lambda_i ~ Beta(alpha, alpha):

        x_i' = lambda_i x_i + (1 - lambda_i) x_j,    q_i = lambda_i t_i + (1 - lambda_i) t_j,

    where t is the one-hot target of a label (or the given probabilities). Small alpha
    draws lambda near 0 or 1 (mild mixing); alpha = 1 draws it uniformly. The paper's code
    draws one lambda per batch; one per sample has the same expectation with less
    variance between batches.

    ``X``: a float array (N, ...), images or features. ``y``: N integer class labels, or
    (N, C) probabilities. ``num_classes``: C for labels; None infers ``y.max() + 1``,
    which is too few when the batch lacks the last classes, so pass it when you know it.
    ``seed``: as everywhere, resolved with ``tinygrad_edu.rng.generator``.

    Returns ``(x', q)``: the mixed inputs (X's shape and dtype) and soft targets (N, C)
    whose rows sum to 1, ready for ``cross_entropy(logits, q)``.
    """
    if not (is_real(alpha) and 0 < alpha < math.inf):
        raise ValueError(f"mixup: alpha must be > 0 (and finite); got {alpha}")
    X = np.asarray(X)
    if X.dtype.kind != "f":
        raise TypeError(f"mixup: X must be a float array; got dtype {X.dtype}")
    if X.ndim == 0:
        raise ValueError("mixup: X must have shape (N, ...), one sample per row; got a 0-d "
                         "array")
    t = _soft_targets(y, len(X), num_classes)
    rng = generator(seed)
    lam = rng.beta(alpha, alpha, size=len(X))
    partner = rng.permutation(len(X))
    lam_x = lam.reshape((-1,) + (1,) * (X.ndim - 1))
    mixed = lam_x * X + (1 - lam_x) * X[partner]
    q = lam[:, None] * t + (1 - lam[:, None]) * t[partner]
    return mixed.astype(X.dtype, copy=False), q.astype(X.dtype, copy=False)

"""Mini-batches (``DataLoader``), ``TensorDataset``, and train/validation/test splits of
NumPy arrays.

Samples are the rows of ``X`` (its first axis) and the entries of ``y``. Randomness goes
through ``tinygrad_edu.rng``: ``seed`` is None (the library's default generator, which
``tinygrad_edu.manual_seed`` reseeds), an int, or a ``np.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import integer, is_real
from ..rng import generator, own_generator
from ..value import Value


def _check_xy(fn: str, X: ArrayLike,
              y: ArrayLike | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``X`` and ``y`` as arrays with the same number of samples (``y`` may be None)."""
    X = np.asarray(X)
    if X.ndim == 0:
        raise ValueError(f"{fn}: X must hold one row per sample; got a 0-d array")
    if y is None:
        return X, None
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != len(X):
        raise ValueError(f"{fn}: X and y must have the same number of samples; got X of "
                         f"shape {X.shape} and y of shape {y.shape}")
    return X, y


# ---------------------------------------------------------------------------------------
# datasets
# ---------------------------------------------------------------------------------------


class TensorDataset:
    """Arrays with the same number of samples, indexed together, as PyTorch's:
    ``TensorDataset(X, y)[i] == (X[i], y[i])``. ``DataLoader(TensorDataset(X, y))``
    batches them as ``DataLoader(X, y)`` does. ``tensors`` holds the arrays (a Value
    gives its data)."""

    def __init__(self, *tensors: ArrayLike | Value) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one array")
        arrays = tuple(np.asarray(t.data if isinstance(t, Value) else t) for t in tensors)
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: array {i} is 0-d; each array must hold one "
                                 f"entry per sample along its first axis")
            if len(a) != len(arrays[0]):
                raise ValueError(f"TensorDataset: every array must have the same number of "
                                 f"samples; got shapes {[x.shape for x in arrays]}")
        self.tensors = arrays

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.tensors)


def _collate(samples: Sequence[Any]) -> tuple[np.ndarray, ...]:
    """A dataset of ``(x, y, ...)`` samples as one array per field, each sample's field
    stacked along a new first axis (PyTorch's default collate)."""
    n = len(samples)
    if n == 0:
        raise ValueError("DataLoader: the dataset is empty")
    first = samples[0]
    width = len(first)
    fields: list[list[np.ndarray]] = [[] for _ in range(width)]
    for i in range(n):
        sample = samples[i]
        if not isinstance(sample, tuple) or len(sample) != width:
            raise ValueError(f"DataLoader: every sample must be a tuple of {width} fields like "
                             f"sample 0; sample {i} is {type(sample).__name__}"
                             + (f" of {len(sample)}" if isinstance(sample, tuple) else ""))
        for j, field in enumerate(sample):
            array = np.asarray(field.data if isinstance(field, Value) else field)
            if i and array.shape != fields[j][0].shape:
                raise ValueError(f"DataLoader: field {j} of sample {i} has shape "
                                 f"{array.shape} but sample 0's has shape {fields[j][0].shape}"
                                 f"; samples are stacked into a batch, so shapes must agree")
            fields[j].append(array)
    return tuple(np.stack(f) for f in fields)


def _arrays(data: Any, y: ArrayLike | None) -> tuple[np.ndarray, ...]:
    """What a DataLoader batches: ``(X, y)``, ``(X,)``, a TensorDataset's arrays, or the
    fields of a dataset of ``(x, y)`` samples (a list of tuples, or any object with
    ``__len__`` and ``__getitem__`` giving tuples)."""
    is_dataset = isinstance(data, TensorDataset) or (
        not isinstance(data, (np.ndarray, Value)) and hasattr(data, "__getitem__")
        and hasattr(data, "__len__") and len(data) > 0 and isinstance(data[0], tuple))
    if not is_dataset:
        X, y = _check_xy("DataLoader", data, y)
        return (X,) if y is None else (X, y)
    if y is not None:
        raise ValueError(f"DataLoader: y must be None when the data is a dataset of samples "
                         f"({type(data).__name__}); its samples carry the targets")
    return data.tensors if isinstance(data, TensorDataset) else _collate(data)


# ---------------------------------------------------------------------------------------
# mini-batches
# ---------------------------------------------------------------------------------------


class DataLoader:
    """Iterate over ``X`` (and ``y``) in mini-batches, one pass per ``for`` loop (an epoch).

    Each batch is ``(X_batch, y_batch)``, or ``X_batch`` alone when ``y`` is None, holding
    ``batch_size`` samples; the last batch holds the rest unless ``drop_last``, which skips
    it. ``len(loader)`` is the number of batches in an epoch. Batches are copies, so
    changing one never changes the data.

    In place of ``X`` and ``y``, PyTorch's habits work: a ``TensorDataset``, or a dataset
    of ``(x, y)`` samples (a list of tuples, or an object with ``__len__`` and
    ``__getitem__``), whose fields are stacked into one array each as PyTorch's default
    collate does; a batch then holds one array per field (the array alone for one field).

    With ``shuffle=True`` every epoch visits the samples in a new random order. An int or
    Generator ``seed`` is resolved once, here: the orders differ from epoch to epoch, and a
    loader built again with the same int seed repeats the same sequence of orders. With
    ``seed=None`` each epoch draws from the library's default generator, so
    ``tinygrad_edu.manual_seed`` makes a script reproducible.

    ``transform`` (a function of an X batch that returns an X batch, such as an
    augmentation) runs on every batch this loader yields, and on nothing else: give it to
    the training loader only, never to the one that evaluates.
    """

    def __init__(self, X: ArrayLike, y: ArrayLike | None = None, batch_size: int = 32,
                 shuffle: bool = False, drop_last: bool = False,
                 seed: int | np.random.Generator | None = None,
                 transform: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.arrays = _arrays(X, y)
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform must be a function of an X batch; got "
                            f"{transform!r}")
        self.batch_size = integer("DataLoader", "batch_size", batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.transform = transform
        # NOTE: resolved once, so one stream of random orders runs through all epochs; None
        # stays None and picks up the default generator each epoch (see manual_seed).
        self._rng = own_generator(seed)

    def __len__(self) -> int:
        """The number of batches in an epoch."""
        n = len(self.arrays[0])
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def __iter__(self) -> Iterator[np.ndarray | tuple[np.ndarray, ...]]:
        """Start an epoch: draw its order now (not at the first ``next``), then batch it."""
        n = len(self.arrays[0])
        order = generator(self._rng).permutation(n) if self.shuffle else np.arange(n)
        return self._batches(order)

    def _batches(self, order: np.ndarray
                 ) -> Iterator[np.ndarray | tuple[np.ndarray, ...]]:
        """The batches of one epoch, taking the samples in ``order``."""
        X, *rest = self.arrays
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = order[start:start + self.batch_size]
            X_batch = X[index]
            if self.transform is not None:
                X_batch = self.transform(X_batch)
            yield (X_batch, *(a[index] for a in rest)) if rest else X_batch


# ---------------------------------------------------------------------------------------
# splits
# ---------------------------------------------------------------------------------------


def train_val_test_split(X: ArrayLike, y: ArrayLike, val: float = 0.1, test: float = 0.1,
                         shuffle: bool = True, stratify: bool = False,
                         seed: int | np.random.Generator | None = None,
                         ) -> tuple[np.ndarray, ...]:
    """Split the samples three ways: ``(X_train, y_train, X_val, y_val, X_test, y_test)``.

    ``val`` and ``test`` are fractions of all the samples, each in [0, 1) with a sum below
    1; each part's size is rounded to the nearest integer, and training gets the rest.
    Every sample lands in exactly one part.

    ``shuffle=True`` assigns the samples at random (from ``seed``) and returns each part in
    random order; ``shuffle=False`` keeps the data's order and takes the parts in turn
    (train first, test last). ``stratify=True`` splits each class of ``y`` (1-D labels)
    separately, so every part keeps the class proportions of the whole to within a sample
    or two.
    """
    return _split("train_val_test_split", X, y, val, test, shuffle, stratify, seed)


def train_test_split(X: ArrayLike, y: ArrayLike, test: float = 0.2, shuffle: bool = True,
                     stratify: bool = False, seed: int | np.random.Generator | None = None,
                     ) -> tuple[np.ndarray, ...]:
    """Split the samples two ways: ``(X_train, y_train, X_test, y_test)``.

    The same as ``train_val_test_split`` with ``val=0``. Note the order of the result,
    each ``X`` next to its ``y`` (scikit-learn's function returns both ``X`` first).
    """
    X_train, y_train, _, _, X_test, y_test = _split("train_test_split", X, y, 0.0, test,
                                                    shuffle, stratify, seed)
    return X_train, y_train, X_test, y_test


def _split(fn: str, X: ArrayLike, y: ArrayLike, val: float, test: float, shuffle: bool,
           stratify: bool, seed: int | np.random.Generator | None) -> tuple[np.ndarray, ...]:
    X, y = _check_xy(fn, X, y)
    n = len(X)
    n_val, n_test = (_part_size(fn, name, fraction, n)
                     for name, fraction in (("val", val), ("test", test)))
    if val + test >= 1:
        raise ValueError(f"{fn}: val + test must be < 1 to leave samples to train on; got "
                         f"{val} + {test} = {val + test}")
    if n - n_val - n_test < 1:
        raise ValueError(f"{fn}: {n} samples leave none to train on after holding out "
                         f"{n_val} for validation and {n_test} for test")
    if stratify and y.ndim != 1:
        raise ValueError(f"{fn}: stratify needs y to be 1-D class labels; got y of shape "
                         f"{y.shape}")
    order = generator(seed).permutation(n) if shuffle else np.arange(n)
    if stratify:
        labels = np.unique(y, return_inverse=True)[1]
        groups = [order[labels[order] == c] for c in range(labels.max() + 1)]
    else:
        groups = [order]
    sizes = np.array([len(g) for g in groups])
    tests = _apportion(sizes, n_test)
    vals = _apportion(sizes - tests, n_val)
    # Within each group the first samples train, the next validate and the last test.
    part = np.zeros(n, dtype=np.int64)  # 0 train, 1 val, 2 test, by sample
    for group, n_group_val, n_group_test in zip(groups, vals, tests):
        part[group[len(group) - n_group_val - n_group_test:]] = 1
        part[group[len(group) - n_group_test:]] = 2
    # Each part is read out in `order`: random when shuffling, else the data's own order.
    indices = [order[part[order] == p] for p in range(3)]
    return tuple(a[index] for index in indices for a in (X, y))


def _part_size(fn: str, name: str, fraction: Any, n: int) -> int:
    """The number of samples ``fraction`` of ``n`` holds out, checked."""
    if not (is_real(fraction) and 0 <= fraction < 1):
        raise ValueError(f"{fn}: {name} must be a fraction in [0, 1); got {fraction!r}")
    size = round(float(fraction) * n)
    if fraction > 0 and size == 0:
        raise ValueError(f"{fn}: {name}={fraction} of {n} samples rounds to 0 samples; use "
                         f"a larger fraction or more data")
    return size


def _apportion(sizes: np.ndarray, total: int) -> np.ndarray:
    """Share ``total`` among groups in proportion to ``sizes`` (largest remainder method):
    each share is its exact quota rounded down or up, and the shares sum to ``total``."""
    quota = sizes * total / sizes.sum()
    shares = np.floor(quota).astype(np.int64)
    # The groups with the largest remainders get one more; ties go to the earlier group.
    shares[np.argsort(shares - quota, kind="stable")[:total - shares.sum()]] += 1
    return shares

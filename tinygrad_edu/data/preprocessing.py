"""Data preprocessing as in CS231n: zero-centering, standardization, PCA and whitening.

Every preprocessor computes its statistics from the *training* data with ``fit(X)`` and
applies those same statistics to any data (training, validation, test) with
``transform(X)``; ``fit_transform(X)`` does both on one array, and ``inverse_transform(Z)``
maps back. Fitting on all the data would leak the test set into training.

Shared conventions (``docs/preprocessing.md`` tells the story):

- ``X`` has one sample per row: (N, D) features or (N, ...) images such as (N, C, H, W).
  ``Center`` and ``Standardize`` keep the samples' shape; ``PCA`` and ``ZCA`` flatten each
  sample to D = prod(sample shape) values, because a covariance is between features.
- Statistics are float64 and use 1/N (the population variance, as ``np.std`` and the
  CS231n notes). Results have X's float dtype; integer and boolean inputs give float64.
- ``transform`` takes samples of the shape ``fit`` saw (kept in ``sample_shape_``); anything
  else is a ValueError that names the class and both shapes. ``transform`` before ``fit``
  is a RuntimeError.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike

from .._checks import is_int, is_real

_MODES = ("feature", "all", "channel")

P = TypeVar("P", bound="_Preprocessor")

# ----------------------------------------------------------------------------------------
# The fit / transform protocol
# ----------------------------------------------------------------------------------------


class _Preprocessor:
    """``fit`` learns statistics from training samples; ``transform`` applies them.

    Subclasses write ``_fit(X)``, ``_transform(X)`` and ``_inverse(Z)`` on checked float
    arrays, and ``_output_shape()`` when a transformed sample has another shape.
    """

    sample_shape_: tuple[int, ...] | None = None

    def fit(self: P, X: ArrayLike) -> P:
        """Learn the statistics of the training samples ``X``; returns self."""
        X = self._batch(X, "X")
        if len(X) == 0:
            raise ValueError(f"{self._name}: fit needs at least one sample; got X of shape "
                             f"{X.shape}")
        if not np.isfinite(X).all():
            raise ValueError(f"{self._name}: fit got non-finite values (nan or inf) in X")
        self._fit(X.astype(np.float64))
        self.sample_shape_ = X.shape[1:]
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """``X`` transformed with the statistics learned by ``fit``."""
        X = self._fitted_batch(X, "X", input=True)
        return self._transform(X).astype(X.dtype, copy=False)

    def fit_transform(self, X: ArrayLike) -> np.ndarray:
        """``fit(X)``, then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: ArrayLike) -> np.ndarray:
        """Undo ``transform``: the data in the original space and shape."""
        Z = self._fitted_batch(Z, "Z", input=False)
        return self._inverse(Z).astype(Z.dtype, copy=False)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _output_shape(self) -> tuple[int, ...]:
        """The shape of one transformed sample."""
        return self.sample_shape_

    def _batch(self, X: ArrayLike, what: str) -> np.ndarray:
        """X as a float array of at least two axes, one sample per row."""
        X = np.asarray(X)
        if X.ndim < 2:
            raise ValueError(f"{self._name}: {what} must have one sample per row, shape (N, D) "
                             f"or (N, C, H, W); got shape {X.shape}")
        return X if X.dtype.kind == "f" else X.astype(np.float64)

    def _fitted_batch(self, X: ArrayLike, what: str, input: bool) -> np.ndarray:
        """X checked against the shape of a fitted sample (input) or a transformed one."""
        if self.sample_shape_ is None:
            raise RuntimeError(f"{self._name}: not fitted; call fit(X) on the training data "
                               f"before transform or inverse_transform")
        sample_shape = self.sample_shape_ if input else self._output_shape()
        X = self._batch(X, what)
        if X.shape[1:] != sample_shape:
            raise ValueError(f"{self._name}: fitted on samples of shape {self.sample_shape_}, "
                             f"so {what} must have shape (N, {', '.join(map(str, sample_shape))}"
                             f"); got {what} of shape {X.shape}")
        return X

    def _fit(self, X: np.ndarray) -> None:
        raise NotImplementedError

    def _transform(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _inverse(self, Z: np.ndarray) -> np.ndarray:
        raise NotImplementedError


# ----------------------------------------------------------------------------------------
# Zero-centering and standardization
# ----------------------------------------------------------------------------------------


class Center(_Preprocessor):
    """Zero-centering: ``x - mean``, the mean taken over the training data.

    ``mode`` chooses what one mean covers:

    - ``"feature"`` (default): one mean per feature, ``mean = X.mean(axis=0)``; for images
      this is the *mean image* of shape (C, H, W), subtracted as AlexNet did;
    - ``"channel"``: one mean per channel (axis 1) over the samples and all the other axes,
      as VGG subtracts the mean colour; for (N, C, H, W) images ``mean_`` has shape
      (C, 1, 1). On (N, D) data a channel is a feature;
    - ``"all"``: one mean over every value.

    After ``fit``: ``mean_``, with the shape of one sample's axes (size 1 where the mean is
    shared), so that ``X - mean_`` broadcasts.
    """

    def __init__(self, mode: str = "feature") -> None:
        if not isinstance(mode, str) or mode not in _MODES:
            raise ValueError(f"{self._name}: mode must be 'feature', 'all' or 'channel'; "
                             f"got {mode!r}")
        self.mode = mode
        self.mean_: np.ndarray | None = None

    def _axes(self, X: np.ndarray) -> tuple[int, ...]:
        """The axes one statistic is taken over."""
        if self.mode == "feature":
            return (0,)
        if self.mode == "all":
            return tuple(range(X.ndim))
        return (0, *range(2, X.ndim))

    def _fit(self, X: np.ndarray) -> None:
        self.mean_ = X.mean(axis=self._axes(X), keepdims=True)[0]

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return X - self.mean_

    def _inverse(self, Z: np.ndarray) -> np.ndarray:
        return Z + self.mean_


class Standardize(Center):
    """Standardization: ``(x - mean) / std``, zero mean and unit variance per ``mode``.

    ``mode`` is ``"feature"`` (default), ``"channel"`` or ``"all"``, as in ``Center``; the
    standard deviation covers the same values as the mean: ``std = sqrt(mean((x - mean)**2))``
    (1/N, as ``np.std``).

    Constant values are left unscaled: where every training value a statistic covers is the
    same (peak-to-peak 0), the divisor is 1 instead of 0, so such a feature is only centred
    (to 0, up to rounding) instead of becoming nan. The test is exact equality; a feature that
    varies at all, however little, is divided by its standard deviation.

    After ``fit``: ``mean_`` and ``scale_`` (the divisor: the training std, 1 where the
    training values are constant), of the same shape.
    """

    def __init__(self, mode: str = "feature") -> None:
        super().__init__(mode)
        self.scale_: np.ndarray | None = None

    def _fit(self, X: np.ndarray) -> None:
        super()._fit(X)
        axes = self._axes(X)
        std = X.std(axis=axes, keepdims=True)[0]
        constant = np.ptp(X, axis=axes, keepdims=True)[0] == 0
        self.scale_ = np.where(constant, 1.0, std)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean_) / self.scale_

    def _inverse(self, Z: np.ndarray) -> np.ndarray:
        return Z * self.scale_ + self.mean_


# ----------------------------------------------------------------------------------------
# PCA and whitening
# ----------------------------------------------------------------------------------------


def _principal_axes(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean (D,), covariance eigenvalues S (D,) in decreasing order, and the unit
    eigenvectors as the columns of U (D, D), of the samples X flattened to (N, D).

    As in the CS231n notes: ``cov = Xc^T Xc / N`` for the centred data ``Xc``, and
    ``U, S, _ = svd(cov)``. An eigenvector's sign is arbitrary, so each column of U is
    flipped to make its largest-magnitude entry (the first, on a tie) positive.
    """
    X = X.reshape(len(X), -1)
    mean = X.mean(axis=0)
    Xc = X - mean
    U, S, _ = np.linalg.svd(Xc.T @ Xc / len(X), hermitian=True)
    peaks = U[np.abs(U).argmax(axis=0), np.arange(U.shape[1])]
    return mean, S, U * np.where(peaks < 0, -1.0, 1.0)


def _check_eps(name: str, eps: float) -> None:
    if not (is_real(eps) and eps > 0):
        raise ValueError(f"{name}: eps must be > 0 (it keeps 1/sqrt(S + eps) finite where an "
                         f"eigenvalue S is 0); got {eps}")


class PCA(_Preprocessor):
    """Principal component analysis: project onto the top principal axes of the training data.

    With the training covariance ``cov = Xc^T Xc / N = U diag(S) U^T`` (eigenvalues S in
    decreasing order), a sample x becomes ``z = U_k^T (x - mean)``: its coordinates along
    the k axes of largest variance, the first k columns of U. Those coordinates are
    uncorrelated, with variances ``S[:k]``.

    ``whiten=True`` also divides each coordinate by ``sqrt(S + eps)``, so the transformed
    training data have covariance ``diag(S / (S + eps))``, the identity up to eps: every
    direction gets unit variance (the lectures' PCA whitening). ``eps`` keeps directions of
    zero variance finite instead of dividing by 0.

    ``n_components``: k, between 1 and D; None keeps all D. Samples are flattened to D
    values: (N, C, H, W) images become (N, C*H*W), and ``transform`` returns (N, k);
    ``inverse_transform`` maps (N, k) back to the samples' shape (the projection onto the
    k axes, ``mean + U_k z``, which is exact only for data of rank <= k).

    After ``fit``: ``mean_`` (D,), ``components_`` (k, D) (the principal axes as rows,
    ``U_k^T``, the sign of each fixed so its largest-magnitude entry is positive),
    ``explained_variance_`` (k,) (the eigenvalues ``S[:k]``, decreasing) and
    ``explained_variance_ratio_`` (k,) (each as a fraction of the total variance, zeros for
    constant data).
    """

    def __init__(self, n_components: int | None = None, whiten: bool = False,
                 eps: float = 1e-5) -> None:
        if n_components is not None and not (is_int(n_components) and n_components >= 1):
            raise ValueError(f"{self._name}: n_components must be an int >= 1 or None; got "
                             f"{n_components!r}")
        _check_eps(self._name, eps)
        self.n_components = n_components
        self.whiten = whiten
        self.eps = eps
        self.mean_: np.ndarray | None = None
        self.components_: np.ndarray | None = None
        self.explained_variance_: np.ndarray | None = None
        self.explained_variance_ratio_: np.ndarray | None = None

    def _fit(self, X: np.ndarray) -> None:
        features = int(np.prod(X.shape[1:]))
        k = features if self.n_components is None else self.n_components
        if k > features:
            raise ValueError(f"{self._name}: n_components={k} is more than the {features} "
                             f"features of samples of shape {X.shape[1:]}")
        self.mean_, S, U = _principal_axes(X)
        total = S.sum()
        self.components_ = U[:, :k].T
        self.explained_variance_ = S[:k]
        self.explained_variance_ratio_ = S[:k] / total if total > 0 else np.zeros(k)

    def _output_shape(self) -> tuple[int, ...]:
        return (len(self.components_),)

    def _scale(self) -> np.ndarray | float:
        """What whitening divides the coordinates by (1 without whitening)."""
        return np.sqrt(self.explained_variance_ + self.eps) if self.whiten else 1.0

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return (X.reshape(len(X), -1) - self.mean_) @ self.components_.T / self._scale()

    def _inverse(self, Z: np.ndarray) -> np.ndarray:
        X = (Z * self._scale()) @ self.components_ + self.mean_
        return X.reshape(len(Z), *self.sample_shape_)


class ZCA(_Preprocessor):
    """ZCA whitening: PCA whitening rotated back, ``z = W (x - mean)``,
    ``W = U diag(1 / sqrt(S + eps)) U^T``.

    The transformed training data have covariance ``U diag(S / (S + eps)) U^T``, the D x D
    identity up to eps. Of all the whitening matrices W (any rotation of PCA whitening
    whitens), this one changes the data least, so whitened images still look like images
    (edges stand out). Samples are flattened to D values for the covariance, and the result
    has the samples' shape: (N, C, H, W) in, (N, C, H, W) out. ``inverse_transform``
    multiplies by ``W^-1 = U diag(sqrt(S + eps)) U^T`` and adds the mean back.

    After ``fit``: ``mean_`` (D,), ``W_`` (D, D), and as in ``PCA`` ``components_`` (D, D)
    (``U^T``) and ``explained_variance_`` (D,) (S).
    """

    def __init__(self, eps: float = 1e-5) -> None:
        _check_eps(self._name, eps)
        self.eps = eps
        self.mean_: np.ndarray | None = None
        self.W_: np.ndarray | None = None
        self.components_: np.ndarray | None = None
        self.explained_variance_: np.ndarray | None = None

    def _fit(self, X: np.ndarray) -> None:
        self.mean_, S, U = _principal_axes(X)
        self.components_ = U.T
        self.explained_variance_ = S
        self.W_ = (U / np.sqrt(S + self.eps)) @ U.T

    def _transform(self, X: np.ndarray) -> np.ndarray:
        Z = (X.reshape(len(X), -1) - self.mean_) @ self.W_  # W is symmetric: W^T = W
        return Z.reshape(X.shape)

    def _inverse(self, Z: np.ndarray) -> np.ndarray:
        U = self.components_.T
        W_inv = (U * np.sqrt(self.explained_variance_ + self.eps)) @ U.T
        return ((Z.reshape(len(Z), -1) @ W_inv) + self.mean_).reshape(Z.shape)

"""Dropout layers: they drop in training mode and are the identity in evaluation mode."""

from __future__ import annotations

from typing import Any

from .._checks import dropout_p
from ..functional import regularization as R
from ..functional.conv import dropout2d
from ..rng import own_generator
from ..value import Value
from .module import Module


class _Dropout(Module):
    """Shared by Dropout, AlphaDropout and Dropout2d: ``p`` and the generator the masks
    come from."""

    def __init__(self, p: float = 0.5, seed: Any = None) -> None:
        super().__init__()
        dropout_p(type(self).__name__, p)
        self.p = p
        self._rng = own_generator(seed)

    def _check(self, x: Any) -> None:
        if isinstance(x, (list, tuple)):
            raise TypeError(f"{type(self).__name__}: give an array Value, not a list of "
                            f"scalars")

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout(_Dropout):
    """Inverted dropout: in training, zero each element with probability ``p`` and scale
    the rest by 1 / (1 - p); in evaluation, the identity."""

    def forward(self, x: Value) -> Value:
        self._check(x)
        return R.dropout(x, self.p, self.training, seed=self._rng)


class AlphaDropout(_Dropout):
    """Dropout for SELU networks: keeps zero mean and unit variance (see alpha_dropout)."""

    def forward(self, x: Value) -> Value:
        self._check(x)
        return R.alpha_dropout(x, self.p, self.training, seed=self._rng)


class Dropout2d(_Dropout):
    """Channel dropout: in training, zero each (n, c) feature map with probability ``p``
    and scale the rest by 1 / (1 - p); in evaluation, the identity (see
    ``functional.dropout2d``)."""

    def forward(self, x: Value) -> Value:
        return dropout2d(x, self.p, self.training, seed=self._rng)

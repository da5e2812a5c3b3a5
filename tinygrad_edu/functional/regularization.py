"""Dropout (inverted, alpha) and weight penalties: the lectures' regularizers as functions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._checks import dropout_p
from ..ops.activation import SELU_ALPHA, SELU_SCALE
from ..rng import generator
from ..value import Value


def dropout(x: Value, p: float = 0.5, training: bool = True, seed: Any = None) -> Value:
    """Inverted dropout: zero each element with probability ``p`` and scale the kept ones
    by 1 / (1 - p), so the expected value is unchanged and evaluation needs no rescaling.

    Identity when not ``training`` or when ``p == 0``. The mask comes from
    ``tinygrad_edu.rng.generator(seed)``.
    """
    dropout_p("dropout", p)
    if not training or p == 0.0:
        return x
    keep = generator(seed).random(np.shape(x)) >= p
    return x * (keep / (1.0 - p)).astype(x.dtype)


def alpha_dropout(x: Value, p: float = 0.5, training: bool = True, seed: Any = None) -> Value:
    """Dropout that keeps SELU's self-normalization: dropped units take SELU's negative
    saturation value alpha' = -scale * alpha, then an affine map a x + b restores zero mean
    and unit variance: a = (q + alpha'^2 q p)^(-1/2), b = -a alpha' p, with q = 1 - p."""
    dropout_p("alpha_dropout", p)
    if not training or p == 0.0:
        return x
    alpha = -SELU_SCALE * SELU_ALPHA
    q = 1.0 - p
    a = (q + alpha**2 * q * p) ** -0.5
    b = -a * alpha * p
    keep = generator(seed).random(np.shape(x)) >= p
    return x * (a * keep).astype(x.dtype) + (a * alpha * ~keep + b).astype(x.dtype)


def l1_penalty(params: Iterable[Value]) -> Value:
    """sum over parameters of sum |w|: multiply by a strength and add to the loss."""
    return sum((abs(p).sum() for p in params), Value(0.0, requires_grad=False))


def l2_penalty(params: Iterable[Value]) -> Value:
    """sum over parameters of sum w^2 (the lectures' L2 regularization, without the 1/2)."""
    return sum(((p * p).sum() for p in params), Value(0.0, requires_grad=False))

"""Hypothesis strategies for property tests of ops: shapes, element domains, Values.

Built on ``hypothesis.extra.numpy``. A typical test::

    from hypothesis import given
    from tinygrad_edu.testing import gradcheck, strategies as ts

    @given(ts.values(domain=ts.positive()))
    def test_log(x):
        gradcheck(lambda x: x.log(), x)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..value import Value

MAX_SIDE = 3  # small sides keep finite differences cheap while still covering broadcasting


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = MAX_SIDE) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, 0-d included by default, with size-1 axes among the draws."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = MAX_SIDE,
                         ) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (leading and size-1 axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side,
    ).map(lambda b: tuple(b.input_shapes))


@dataclass(frozen=True)
class Domain:
    """Where elements are drawn: [lo, hi], keeping ``margin`` away from each of ``avoid``.

    Keeping away from kinks (ReLU at 0, |x| at 0) and poles makes central differences
    meaningful: within ``eps`` of a kink the numeric derivative is a blend of both sides.
    """

    lo: float = -3.0
    hi: float = 3.0
    avoid: tuple[float, ...] = ()
    margin: float = 0.0

    def elements(self) -> st.SearchStrategy[float]:
        floats = st.floats(self.lo, self.hi)  # finite bounds: no NaN, no infinity
        if not self.avoid:
            return floats
        return floats.filter(lambda v: all(abs(v - p) >= self.margin for p in self.avoid))


def real(lo: float = -3.0, hi: float = 3.0) -> Domain:
    """Any float in [lo, hi]."""
    return Domain(lo, hi)


def positive(lo: float = 0.1, hi: float = 3.0) -> Domain:
    """Floats in [lo, hi] with lo > 0: for log, sqrt, a divisor, a pow base."""
    if lo <= 0:
        raise ValueError(f"positive: lo must be > 0; got {lo}")
    return Domain(lo, hi)


def away_from(*points: float, margin: float = 0.1, lo: float = -3.0, hi: float = 3.0) -> Domain:
    """Floats in [lo, hi] at least ``margin`` from each point (a kink or a pole)."""
    return Domain(lo, hi, tuple(points), margin)


def arrays(shape: Any = None, domain: Domain | None = None, dtype: Any = np.float64,
           gap: float | None = None) -> st.SearchStrategy[np.ndarray]:
    """ndarrays of ``shape`` (drawn from ``shapes()`` when None) over ``domain``.

    ``gap=g`` gives elements at least ``g`` apart, drawn from a grid of multiples of ``g``
    in the domain: use it where ties change the derivative (max, min, sorting) -- mere
    distinctness is not enough, since two elements closer than ``eps`` swap order under
    a finite-difference nudge.
    """
    domain = domain or real()
    elements = domain.elements()
    if gap is not None:
        steps = st.integers(int(np.ceil(domain.lo / gap)), int(np.floor(domain.hi / gap)))
        elements = steps.map(lambda k: k * gap).filter(
            lambda v: all(abs(v - p) >= domain.margin for p in domain.avoid))
    return hnp.arrays(np.dtype(dtype), shape if shape is not None else shapes(),
                      elements=elements, unique=gap is not None)


def values(shape: Any = None, domain: Domain | None = None, dtype: Any = np.float64,
           requires_grad: bool = True, gap: float | None = None) -> st.SearchStrategy[Value]:
    """Values over ``domain``; ``shape`` may be a tuple or a strategy (default: any)."""
    return arrays(shape, domain, dtype, gap).map(
        lambda a: Value(a, requires_grad=requires_grad))


@st.composite
def shapes_and_axes(draw: Any, min_dims: int = 0, max_dims: int = 3,
                    max_side: int = MAX_SIDE) -> tuple[tuple[int, ...], Any]:
    """A shape and a valid ``axis`` argument for it: None, an int, or a tuple of ints."""
    shape = draw(shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side))
    ndim = len(shape)
    if ndim == 0:
        return shape, draw(st.sampled_from([None, ()]))
    single = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(tuple)
    return shape, draw(st.one_of(st.none(), single, several))

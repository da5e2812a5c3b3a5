"""The public Hypothesis strategies draw what they promise, every kind of it.

A strategy that quietly lost a kind of input (0-d, size-1 axes, a broadcast axis) would
take that coverage from every property test built on it while they all still passed. So
besides checking what each draw looks like, each promised kind is searched for with
``hypothesis.find``, which raises ``NoSuchExample`` when no draw has it.
"""

import numpy as np
import pytest
from hypothesis import find, given

from tinygrad_edu.testing import strategies as ts


def aligned(a: tuple[int, ...], b: tuple[int, ...]) -> list[tuple[int, int]]:
    """The pairs of sides NumPy compares when broadcasting ``a`` with ``b``."""
    return list(zip(a[::-1], b[::-1]))


def stretches(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """``a`` has a size-1 axis that broadcasting stretches to a longer side of ``b``."""
    return any(m == 1 and n > 1 for m, n in aligned(a, b))


# ----------------------------------------------------------------------------------------
# What every draw looks like
# ----------------------------------------------------------------------------------------


@given(shapes=ts.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)
    assert all(len(s) <= 3 and all(1 <= n <= ts.MAX_SIDE for n in s) for s in shapes)


@given(shape=ts.shapes())
def test_shapes_stay_within_the_default_bounds(shape):
    assert len(shape) <= 3 and all(1 <= n <= ts.MAX_SIDE for n in shape)


@given(x=ts.values(domain=ts.away_from(0.0, 1.0, margin=0.2)))
def test_away_from_keeps_its_margin(x):
    assert np.all(np.abs(x.data) >= 0.2) and np.all(np.abs(x.data - 1.0) >= 0.2)
    assert np.all((x.data >= -3.0) & (x.data <= 3.0))
    assert x.requires_grad and x.dtype == np.float64


@given(a=ts.arrays(domain=ts.real()))
def test_real_stays_in_its_default_range(a):
    assert a.dtype == np.float64 and np.all((a >= -3.0) & (a <= 3.0))


@given(a=ts.arrays(domain=ts.positive()))
def test_positive_stays_in_its_default_range(a):
    assert np.all((a >= 0.1) & (a <= 3.0))


@given(x=ts.values(ts.shapes(min_dims=1), ts.positive(0.5, 2.0), dtype=np.float32))
def test_positive_domain_and_dtype(x):
    assert x.dtype == np.float32 and np.all((x.data >= 0.5) & (x.data <= 2.0))


@given(x=ts.values((2,), requires_grad=False))
def test_values_can_be_constants(x):
    assert not x.requires_grad and x.shape == (2,)


@given(sa=ts.shapes_and_axes())
def test_shapes_and_axes_gives_valid_axes(sa):
    shape, axis = sa
    np.sum(np.ones(shape), axis=axis)  # NumPy accepts it


@given(a=ts.arrays((3, 3, 3), gap=0.1))
def test_gap_keeps_elements_apart(a):
    spacing = np.diff(np.sort(a.ravel()))
    assert np.all(spacing >= 0.1 - 1e-12)


@given(a=ts.arrays((3, 3), ts.away_from(0.0, margin=0.5), gap=0.25))
def test_gap_keeps_the_domain_margin(a):
    assert np.all(np.abs(a) >= 0.5) and np.all((a >= -3.0) & (a <= 3.0))


def test_positive_refuses_a_nonpositive_bound():
    with pytest.raises(ValueError, match=r"positive: lo must be > 0; got 0\.0"):
        ts.positive(0.0)


# ----------------------------------------------------------------------------------------
# Every kind of input each strategy promises is drawn
# ----------------------------------------------------------------------------------------

PROMISED = {
    # shapes(): 0-d included by default, size-1 axes among the draws, up to 3-D
    "shapes: 0-d": (ts.shapes(), lambda s: s == ()),
    "shapes: a size-1 axis beside a longer one": (ts.shapes(), lambda s: 1 in s and max(s) > 1),
    "shapes: 3-D": (ts.shapes(), lambda s: len(s) == 3),
    "shapes: the longest side": (ts.shapes(), lambda s: ts.MAX_SIDE in s),
    # broadcastable_shapes(): shapes that differ, through leading and size-1 axes
    "broadcastable: shapes that differ": (ts.broadcastable_shapes(), lambda s: s[0] != s[1]),
    "broadcastable: a 0-d with an array": (
        ts.broadcastable_shapes(), lambda s: s[0] == () and len(s[1]) > 0),
    "broadcastable: a leading axis only the second has": (
        ts.broadcastable_shapes(), lambda s: len(s[0]) < len(s[1])),
    "broadcastable: a leading axis only the first has": (
        ts.broadcastable_shapes(), lambda s: len(s[0]) > len(s[1])),
    "broadcastable: the first stretches a size-1 axis": (
        ts.broadcastable_shapes(), lambda s: stretches(s[0], s[1])),
    "broadcastable: the second stretches a size-1 axis": (
        ts.broadcastable_shapes(), lambda s: stretches(s[1], s[0])),
    "broadcastable: each stretches a size-1 axis of its own": (
        ts.broadcastable_shapes(), lambda s: stretches(s[0], s[1]) and stretches(s[1], s[0])),
    "broadcastable: two different 3-D shapes": (
        ts.broadcastable_shapes(), lambda s: len(s[0]) == len(s[1]) == 3 and s[0] != s[1]),
    "broadcastable: three shapes, all different": (
        ts.broadcastable_shapes(3), lambda s: len(set(s)) == 3),
    # shapes_and_axes(): None, an int (negative too), a tuple; () for a 0-d shape
    "shapes_and_axes: None": (ts.shapes_and_axes(), lambda sa: sa[1] is None),
    "shapes_and_axes: a negative int": (
        ts.shapes_and_axes(), lambda sa: isinstance(sa[1], int) and sa[1] < 0),
    "shapes_and_axes: a tuple of several axes": (
        ts.shapes_and_axes(), lambda sa: isinstance(sa[1], tuple) and len(sa[1]) >= 2),
    "shapes_and_axes: () on a 0-d shape": (ts.shapes_and_axes(), lambda sa: sa == ((), ())),
    # arrays() and values(): any shape by default, elements over the whole domain
    "arrays: 0-d by default": (ts.arrays(), lambda a: a.ndim == 0),
    "arrays: 3-D by default": (ts.arrays(), lambda a: a.ndim == 3),
    "arrays: near each end of the domain": (
        ts.arrays((3,)), lambda a: a.min() < -2.5 and a.max() > 2.5),
    "arrays: just outside a point kept away from": (
        ts.arrays((1,), ts.away_from(0.0, margin=0.1)), lambda a: abs(a[0]) < 0.2),
    "values: 0-d by default": (ts.values(), lambda v: v.data.ndim == 0),
}


@pytest.mark.parametrize("kind", PROMISED)
def test_strategy_draws_every_kind_it_promises(kind):
    strategy, condition = PROMISED[kind]
    assert condition(find(strategy, condition))

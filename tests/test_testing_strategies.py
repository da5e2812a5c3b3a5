"""The public Hypothesis strategies draw what they promise, every kind of it.

A strategy that quietly lost a kind of input (0-d, size-1 axes, a broadcast axis) would
take that coverage from every property test built on it while they all still passed. So
besides checking what each draw looks like, each promised kind is searched for with
``hypothesis.find``, which raises ``NoSuchExample`` when no draw has it.
"""

import numpy as np
import pytest
from hypothesis import find, given
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

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
# NOTE: each test builds its strategy inside its body and draws from it with st.data(), so
# that mutation testing (docs/testing.md) sees the strategy functions run during the test;
# a strategy built in the decorator is built once, at import, before any mutant is active.


@given(data=st.data())
def test_broadcastable_shapes_broadcast_within_their_bounds(data):
    shapes = data.draw(ts.broadcastable_shapes(3))
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)
    assert all(len(s) <= 3 and all(1 <= n <= ts.MAX_SIDE for n in s) for s in shapes)
    assert len(data.draw(ts.broadcastable_shapes())) == 2
    wide = data.draw(ts.broadcastable_shapes(2, min_dims=2, max_dims=4, min_side=2,
                                             max_side=5))
    assert all(len(s) <= 4 and all(2 <= n <= 5 for n in s) for s in wide)
    assert max(len(s) for s in wide) >= 2


SIDES_OF = {
    "shapes": (ts.shapes, lambda shape: shape),
    "broadcastable_shapes": (ts.broadcastable_shapes, lambda shapes: sum(shapes, ())),
    "shapes_and_axes": (ts.shapes_and_axes, lambda shape_axis: shape_axis[0]),
}


@pytest.mark.parametrize("name", SIDES_OF)
def test_no_side_is_ever_longer_than_max_side(name):
    strategy, sides = SIDES_OF[name]
    with pytest.raises(NoSuchExample):
        find(strategy(), lambda drawn: max(sides(drawn), default=0) > ts.MAX_SIDE)


@given(data=st.data())
def test_shapes_stay_within_their_bounds(data):
    shape = data.draw(ts.shapes())
    assert len(shape) <= 3 and all(1 <= n <= ts.MAX_SIDE for n in shape)
    shape = data.draw(ts.shapes(min_dims=2, max_dims=4, min_side=2, max_side=5))
    assert 2 <= len(shape) <= 4 and all(2 <= n <= 5 for n in shape)


@given(data=st.data())
def test_domains_keep_their_ranges_and_margins(data):
    assert np.all(np.abs(data.draw(ts.arrays((4,), ts.real(-1.0, 2.0))) - 0.5) <= 1.5)
    assert np.all(np.abs(data.draw(ts.arrays((4,), ts.real())) <= 3.0))
    positive = data.draw(ts.arrays((4,), ts.positive()))
    assert np.all((positive >= 0.1) & (positive <= 3.0))
    positive = data.draw(ts.arrays((4,), ts.positive(0.5, 2.0)))
    assert np.all((positive >= 0.5) & (positive <= 2.0))
    away = data.draw(ts.arrays((4,), ts.away_from(0.0, 1.0, margin=0.2)))
    assert np.all(np.abs(away) >= 0.2) and np.all(np.abs(away - 1.0) >= 0.2)
    assert np.all(np.abs(away) <= 3.0)
    near = data.draw(ts.arrays((4,), ts.away_from(0.0)))
    assert np.all(np.abs(near) >= 0.1) and np.all(np.abs(near) <= 3.0)
    narrow = data.draw(ts.arrays((4,), ts.away_from(0.0, lo=-1.0, hi=0.5)))
    assert np.all((narrow >= -1.0) & (narrow <= 0.5))


@given(data=st.data())
def test_values_have_the_domain_dtype_and_grad_asked_for(data):
    x = data.draw(ts.values((3,), ts.positive(0.5, 2.0), dtype=np.float32))
    assert x.dtype == np.float32 and x.shape == (3,) and x.requires_grad
    assert np.all((x.data >= 0.5) & (x.data <= 2.0))
    x = data.draw(ts.values((2,), requires_grad=False))
    assert not x.requires_grad and x.dtype == np.float64
    assert np.all(np.abs(x.data) <= 3.0)
    x = data.draw(ts.values((3, 3), gap=0.5))
    assert np.all(np.diff(np.sort(x.data.ravel())) >= 0.5 - 1e-12)


@given(data=st.data())
def test_shapes_and_axes_gives_valid_axes(data):
    shape, axis = data.draw(ts.shapes_and_axes())
    assert len(shape) <= 3 and all(n <= ts.MAX_SIDE for n in shape)
    np.sum(np.ones(shape), axis=axis)  # NumPy accepts it
    shape, axis = data.draw(ts.shapes_and_axes(min_dims=2, max_dims=4, max_side=5))
    assert 2 <= len(shape) <= 4 and all(n <= 5 for n in shape)
    np.sum(np.ones(shape), axis=axis)


@given(data=st.data())
def test_gap_keeps_elements_apart_and_the_domain_margin(data):
    a = data.draw(ts.arrays((3, 3, 3), gap=0.1))
    assert np.all(np.diff(np.sort(a.ravel())) >= 0.1 - 1e-12)
    a = data.draw(ts.arrays((3, 3), ts.away_from(1.0, margin=0.5), gap=0.25))
    assert np.all(np.abs(a - 1.0) >= 0.5) and np.all((a >= -3.0) & (a <= 3.0))
    assert np.all(np.isclose(a / 0.25, np.round(a / 0.25)))  # on the grid of multiples


def test_positive_refuses_a_nonpositive_bound():
    with pytest.raises(ValueError, match=r"positive: lo must be > 0; got 0\.0"):
        ts.positive(0.0)


# ----------------------------------------------------------------------------------------
# Every kind of input each strategy promises is drawn
# ----------------------------------------------------------------------------------------

def broadcastable():
    return ts.broadcastable_shapes()


# Each kind: a function making the strategy (called in the test, see the NOTE above) and
# the condition one of its draws must meet.
PROMISED = {
    # shapes(): 0-d included by default, size-1 axes among the draws, up to 3-D
    "shapes: 0-d": (ts.shapes, lambda s: s == ()),
    "shapes: a size-1 axis beside a longer one": (ts.shapes, lambda s: 1 in s and max(s) > 1),
    "shapes: 3-D": (ts.shapes, lambda s: len(s) == 3),
    "shapes: the longest side": (ts.shapes, lambda s: ts.MAX_SIDE in s),
    "broadcastable: the longest side": (broadcastable, lambda s: ts.MAX_SIDE in sum(s, ())),
    "broadcastable: as long a side as max_side asks": (
        lambda: ts.broadcastable_shapes(max_side=5), lambda s: 5 in sum(s, ())),
    "shapes: as long a side as max_side asks": (
        lambda: ts.shapes(max_side=5), lambda s: 5 in s),
    # broadcastable_shapes(): shapes that differ, through leading and size-1 axes
    "broadcastable: shapes that differ": (broadcastable, lambda s: s[0] != s[1]),
    "broadcastable: a 0-d with an array": (broadcastable,
                                           lambda s: s[0] == () and len(s[1]) > 0),
    "broadcastable: a leading axis only the second has": (
        broadcastable, lambda s: len(s[0]) < len(s[1])),
    "broadcastable: a leading axis only the first has": (
        broadcastable, lambda s: len(s[0]) > len(s[1])),
    "broadcastable: the first stretches a size-1 axis": (
        broadcastable, lambda s: stretches(s[0], s[1])),
    "broadcastable: the second stretches a size-1 axis": (
        broadcastable, lambda s: stretches(s[1], s[0])),
    "broadcastable: each stretches a size-1 axis of its own": (
        broadcastable, lambda s: stretches(s[0], s[1]) and stretches(s[1], s[0])),
    "broadcastable: two different 3-D shapes": (
        broadcastable, lambda s: len(s[0]) == len(s[1]) == 3 and s[0] != s[1]),
    "broadcastable: three shapes, all different": (
        lambda: ts.broadcastable_shapes(3), lambda s: len(set(s)) == 3),
    # shapes_and_axes(): None, an int (negative too), a tuple; () for a 0-d shape
    "shapes_and_axes: None": (ts.shapes_and_axes, lambda sa: sa[1] is None),
    "shapes_and_axes: a negative int": (
        ts.shapes_and_axes, lambda sa: isinstance(sa[1], int) and sa[1] < 0),
    "shapes_and_axes: a tuple of several axes": (
        ts.shapes_and_axes, lambda sa: isinstance(sa[1], tuple) and len(sa[1]) >= 2),
    "shapes_and_axes: () on a 0-d shape": (ts.shapes_and_axes, lambda sa: sa == ((), ())),
    # arrays() and values(): any shape by default, elements over the whole domain
    "arrays: 0-d by default": (ts.arrays, lambda a: a.ndim == 0),
    "arrays: 3-D by default": (ts.arrays, lambda a: a.ndim == 3),
    "arrays: near each end of the domain": (
        lambda: ts.arrays((3,)), lambda a: a.min() < -2.5 and a.max() > 2.5),
    "arrays: just outside a point kept away from": (
        lambda: ts.arrays((1,), ts.away_from(0.0)), lambda a: abs(a[0]) < 0.2),
    "values: 0-d by default": (ts.values, lambda v: v.data.ndim == 0),
    "away_from: exactly margin away (the margin is inclusive)": (
        lambda: ts.arrays((1,), ts.away_from(0.0, margin=0.5, lo=0.5, hi=1.0)),
        lambda a: a[0] == 0.5),
    "away_from with a gap: exactly margin away": (
        lambda: ts.arrays((1,), ts.away_from(0.0, margin=0.5), gap=0.25),
        lambda a: abs(a[0]) == 0.5),
    "positive: near its default lower bound": (
        lambda: ts.arrays((1,), ts.positive()), lambda a: a[0] < 0.2),
}


@pytest.mark.parametrize("kind", PROMISED)
def test_strategies_draw_every_kind_they_promise(kind):
    strategy, condition = PROMISED[kind]
    assert condition(find(strategy(), condition))

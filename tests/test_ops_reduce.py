"""Reductions over axis=None/int/tuple with keepdims: values match NumPy, gradients proved."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.testing import gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as ts

REDUCTIONS = {
    "sum": (lambda x, **kw: x.sum(**kw), np.sum),
    "mean": (lambda x, **kw: x.mean(**kw), np.mean),
    "var": (lambda x, **kw: x.var(**kw), np.var),
    "logsumexp": (
        lambda x, **kw: x.logsumexp(**kw),
        lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)),
    ),
}


def spaced(shape):
    """Elements at least 0.25 apart, so max/min never tie under a finite-difference nudge."""
    return ts.arrays(shape, ts.real(-10.0, 10.0), gap=0.25)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(sa=ts.shapes_and_axes(), keepdims=st.booleans(), data=st.data())
def test_reduction_values_and_gradients(name, sa, keepdims, data):
    shape, axis = sa
    ours, reference = REDUCTIONS[name]
    a = data.draw(ts.arrays(shape))
    x = Value(a)
    y = ours(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(y.data, reference(a, axis=axis, keepdims=keepdims), atol=1e-12)
    gradcheck(lambda x: ours(x, axis=axis, keepdims=keepdims), x)
    gradgradcheck(lambda x: ours(x, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["max", "min"])
@given(sa=ts.shapes_and_axes(), keepdims=st.booleans(), data=st.data())
def test_extremum_values_and_gradients(name, sa, keepdims, data):
    shape, axis = sa
    a = data.draw(spaced(shape))
    x = Value(a)
    y = getattr(x, name)(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(y.data, getattr(np, name)(a, axis=axis, keepdims=keepdims))
    gradcheck(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims) ** 2, x)
    gradgradcheck(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims) ** 2, x)


@given(sa=ts.shapes_and_axes(min_dims=1), ddof=st.integers(0, 1), data=st.data())
def test_var_and_std_with_ddof(sa, ddof, data):
    shape, axis = sa
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
    count = int(np.prod([shape[a] for a in axes]))
    a = data.draw(spaced(shape))
    x = Value(a)
    if count - ddof <= 0:
        with pytest.raises(ValueError, match=f"var: ddof={ddof} leaves no degrees of freedom"):
            x.var(axis=axis, ddof=ddof)
        return
    np.testing.assert_allclose(x.var(axis=axis, ddof=ddof).data, np.var(a, axis=axis, ddof=ddof))
    np.testing.assert_allclose(x.std(axis=axis, ddof=ddof).data, np.std(a, axis=axis, ddof=ddof))
    gradcheck(lambda x: x.var(axis=axis, ddof=ddof), x)
    gradgradcheck(lambda x: x.var(axis=axis, ddof=ddof), x)
    if np.all(np.var(a, axis=axis) > 0):
        gradcheck(lambda x: x.std(axis=axis, ddof=ddof), x)


def test_ties_share_the_gradient_equally():
    x = Value([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x.zero_grad()
    x.min().backward()
    np.testing.assert_allclose(x.grad, [[1, 0, 0], [0, 0, 0]])


def test_logsumexp_is_stable_for_large_inputs():
    x = Value([[1e4, 1e4 - 1.0], [-1e4, -1e4]])
    y = x.logsumexp(axis=1)
    np.testing.assert_allclose(y.data, [1e4 + np.log1p(np.exp(-1.0)), -1e4 + np.log(2.0)])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.sum(axis=1), [1.0, 1.0])


def test_reduction_axis_errors_name_the_op():
    x = Value(np.ones((2, 3)))
    with pytest.raises(ValueError, match="sum: axis 2 is out of range for a Value with 2"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match=r"mean: axis \(0, -2\) repeats an axis"):
        x.mean(axis=(0, -2))
    with pytest.raises(TypeError, match="max: axis must be None, an int or a tuple"):
        x.max(axis=1.5)
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty Value of shape \(0,\)"):
        Value(np.ones(0)).max()

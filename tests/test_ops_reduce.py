"""Reductions over axis=None/int/tuple with keepdims: values match NumPy, gradients proved."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.ops.reduce import LogSumExp, Max, Mean, Min, Std, Sum, Var
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
        gradgradcheck(lambda x: x.std(axis=axis, ddof=ddof) ** 2, x)


@pytest.mark.parametrize(
    ("dtype", "big"),
    [(np.float32, 1e30), (np.float32, 3e38), (np.float64, 1e300), (np.float64, 1e308)],
)
def test_std_of_huge_data_is_finite_with_pytorchs_gradient(dtype, big):
    x = Value(np.array([-big, big], dtype=dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = x.std()
        s.backward()
    np.testing.assert_allclose(s.data, big, rtol=1e-6)
    assert s.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad, [-0.5, 0.5], rtol=1e-6)


def test_var_does_not_overflow_when_the_result_fits():
    x = Value(np.float32([[-1.5e19, 1.5e19], [0.0, 0.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = x.var(axis=1)
        v.sum().backward()
        np.testing.assert_allclose(v.data, [2.25e38, 0.0], rtol=1e-6)
        np.testing.assert_allclose(x.grad, [[-1.5e19, 1.5e19], [0.0, 0.0]], rtol=1e-6)
        assert np.isinf(Value(np.float32([-1e30, 1e30])).var().data)  # 1e60: inf, as PyTorch


SHAPES_3D = [((2, 3, 4), (0, 2)), ((2, 3, 4), 1), ((2, 1, 3), 1), ((1, 3, 1, 2), (0, 2)),
             ((2, 2, 2), None), ((3, 1, 2), -1)]
# std's gradient is 1/std: over only size-1 axes the std is 0, so std sits those out
CASES_3D = [(name, shape, axis) for name in ("sum", "mean", "var", "std", "logsumexp", "max",
                                             "min") for shape, axis in SHAPES_3D
            if name != "std" or np.ones(shape).sum(axis=axis).max() > 1]


@pytest.mark.parametrize(("name", "shape", "axis"), CASES_3D)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_over_3d_shapes_and_size_one_axes(name, shape, axis, keepdims):
    a = np.random.default_rng(len(shape)).permutation(np.prod(shape)).reshape(shape) / 3.0
    x = Value(a)
    y = getattr(x, name)(axis=axis, keepdims=keepdims)
    reference = REDUCTIONS[name][1] if name in REDUCTIONS else getattr(np, name)
    np.testing.assert_allclose(y.data, reference(a, axis=axis, keepdims=keepdims))
    gradcheck(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims), x)
    gradgradcheck(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims) ** 2, x)


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
    with pytest.raises(ValueError, match=r"mean: no elements to average over axis 0 of \(0, 3\)"):
        Value(np.ones((0, 3))).mean(axis=0)
    with pytest.raises(ValueError, match=r"var: ddof=2 leaves no degrees of freedom for 2 "
                                         r"element\(s\) over axis 0 of shape \(2, 3\)"):
        x.var(axis=0, ddof=2)
    with pytest.raises(ValueError, match="std: axis 2 is out of range for a Value with 2"):
        x.std(axis=2)
    with pytest.raises(ValueError, match=r"logsumexp: axis \(1, -1\) repeats an axis"):
        x.logsumexp(axis=(1, -1))
    with pytest.raises(ValueError, match=r"logsumexp: cannot reduce an empty Value of shape "
                                         r"\(0,\)"):
        Value(np.ones(0)).logsumexp()


def test_reduction_ops_applied_directly_reduce_every_axis_as_numpy_does():
    # The ops' own defaults (a custom op may call them without options): all axes, no
    # kept dimensions, and for var/std NumPy's ddof=0.
    a = np.array([[1.0, -2.0, 4.0], [0.5, 3.0, -1.0]])
    expected = {Sum: a.sum(), Mean: a.mean(), Max: a.max(), Min: a.min(), Var: a.var(),
                Std: a.std(), LogSumExp: np.log(np.exp(a).sum())}
    for op, value in expected.items():
        out = op.apply(Value(a))
        assert out.shape == (), op.__name__
        np.testing.assert_allclose(out.data, value, rtol=1e-12, err_msg=op.__name__)


def test_std_of_each_row_is_exact_at_its_own_scale():
    # Rows 600 orders of magnitude apart: squaring either one directly, or scaling the small
    # one by the large one's size, would lose it to overflow or underflow.
    x = Value([[1e300, -1e300], [1e-300, 3e-300]])
    np.testing.assert_allclose(x.std(axis=1).data, [1e300, 1e-300], rtol=1e-12)


@pytest.mark.parametrize("row, expected", [([np.inf, 710.0], np.inf),
                                           ([-np.inf, -np.inf], -np.inf),
                                           ([np.nan, 1.0], np.nan)])
def test_logsumexp_of_an_infinite_or_nan_maximum_is_it_without_warnings(row, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = Value(np.array([row, [0.0, 0.0]])).logsumexp(axis=1)
    np.testing.assert_array_equal(z.data, [expected, np.log(2.0)])


@pytest.mark.parametrize("name", ["max", "min", "logsumexp"])
def test_an_empty_value_reduced_over_a_non_empty_axis_is_empty_and_over_an_empty_one_an_error(
        name):
    x = Value(np.ones((2, 0)))
    z = getattr(x, name)(axis=0)
    assert z.shape == (0,)
    z.sum().backward()
    assert x.grad.shape == (2, 0)
    with pytest.raises(ValueError, match=rf"{name}: cannot reduce an empty Value of shape "
                                         rf"\(2, 0\) over axes \(1,\)"):
        getattr(x, name)(axis=1)

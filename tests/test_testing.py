"""The public testing helpers catch wrong gradients and say where; strategies do as told."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Function, Value
from tinygrad_edu.testing import GradcheckError, check_op, gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as ts


class SquareWrongBackward(Function):
    """z = x**2 with the derivative off by a factor of two."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class SquareFrozenBackward(Function):
    """z = x**2 with a right first derivative that is not differentiable (uses the data)."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x * x

    @staticmethod
    def backward(ctx, grad):
        return grad * 2 * ctx.x


def test_gradcheck_reports_input_element_and_both_values():
    x = Value([1.0, 2.0, 3.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: SquareWrongBackward.apply(x).sum(), x)
    message = str(info.value)
    assert message.startswith("gradcheck: input 0 (shape (3,)), element (2,): analytic 3 ")
    assert "numeric 6" in message


def test_gradcheck_names_the_right_input():
    a, b = Value(1.0), Value(2.0)
    with pytest.raises(GradcheckError, match="gradcheck: input 1 "):
        gradcheck(lambda a, b: a * SquareWrongBackward.apply(b), a, b)


def test_gradcheck_passes_a_right_op_and_skips_constants():
    assert gradcheck(lambda x, c: x * c, Value([1.0, 2.0]), np.array([3.0, 4.0]))
    assert gradcheck(lambda x, c: x * c, Value(1.0), Value(2.0, requires_grad=False))


def test_gradcheck_computes_in_float64_even_for_float32_inputs():
    x = Value([0.3, 0.7], dtype=np.float32)
    assert gradcheck(lambda x: (x * x).sin(), x, atol=1e-8, rtol=1e-7)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    assert gradcheck(lambda x: SquareFrozenBackward.apply(x), Value([1.0, 2.0]))
    with pytest.raises(GradcheckError, match=r"^gradgradcheck: input 0 .*analytic 0 vs numeric 2"):
        gradgradcheck(lambda x: SquareFrozenBackward.apply(x).sum(), Value([1.0]))


def test_check_op_fails_on_a_wrong_op():
    with pytest.raises(GradcheckError):
        check_op(lambda x: SquareWrongBackward.apply(x), max_examples=5)


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="gradcheck: no input is a Value that requires grad"):
        gradcheck(lambda x: x * 2, Value(1.0, requires_grad=False))
    with pytest.raises(TypeError, match="gradcheck: fn must return a Value; got float"):
        gradcheck(lambda x: 1.0, Value(1.0))


@given(shapes=ts.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)
    assert all(len(s) <= 3 and all(1 <= n <= ts.MAX_SIDE for n in s) for s in shapes)


@given(x=ts.values(domain=ts.away_from(0.0, 1.0, margin=0.2)))
def test_away_from_keeps_its_margin(x):
    assert np.all(np.abs(x.data) >= 0.2) and np.all(np.abs(x.data - 1.0) >= 0.2)
    assert x.requires_grad and x.dtype == np.float64


@given(x=ts.values(ts.shapes(min_dims=1), ts.positive(0.5, 2.0), dtype=np.float32))
def test_positive_domain_and_dtype(x):
    assert x.dtype == np.float32 and np.all((x.data >= 0.5) & (x.data <= 2.0))


@given(sa=ts.shapes_and_axes())
def test_shapes_and_axes_gives_valid_axes(sa):
    shape, axis = sa
    np.sum(np.ones(shape), axis=axis)  # NumPy accepts it


@given(a=ts.arrays((3, 3, 3), gap=0.1))
def test_gap_keeps_elements_apart(a):
    spacing = np.diff(np.sort(a.ravel()))
    assert np.all(spacing >= 0.1 - 1e-12)


def test_check_op_with_gap_proves_max():
    check_op(lambda x: x.max(), gap=0.1, max_examples=10)


def test_check_op_refuses_a_domain_count_that_does_not_fit_fn():
    with pytest.raises(ValueError, match=r"check_op: 1 domain\(s\) given for a function of 2"):
        check_op(lambda x, y: x * y, ts.real())


def test_positive_refuses_a_nonpositive_bound():
    with pytest.raises(ValueError, match="positive: lo must be > 0"):
        ts.positive(0.0)


def test_check_op_rejects_shapes_that_do_not_match_the_domains():
    with pytest.raises(ValueError, match="check_op: shapes gave 1 shapes for 2 inputs"):
        check_op(lambda x, y: x * y, ts.real(), ts.real(),
                 shapes=st.just(((2,),)), max_examples=1)

"""gradcheck, gradgradcheck and check_op catch wrong gradients and say where."""

import numpy as np
import pytest
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


class DoubleFivePercentOff(Function):
    """z = 2x with the derivative 5% too large (2.1)."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2.1


class SquareFivePercentOffSecond(Function):
    """z = x**2 with a right first derivative, 2x, built from DoubleFivePercentOff: the
    second derivative comes out 5% too large."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * DoubleFivePercentOff.apply(x)


def test_gradcheck_fails_a_gradient_five_percent_wrong_at_the_default_tolerances():
    with pytest.raises(GradcheckError, match=r"^gradcheck: input 0 .*analytic 2\.1 vs numeric 2 "):
        gradcheck(lambda x: DoubleFivePercentOff.apply(x), Value(1.5))


def test_gradgradcheck_fails_a_second_derivative_five_percent_wrong_at_the_defaults():
    x = Value(1.5)
    assert gradcheck(lambda x: SquareFivePercentOffSecond.apply(x), x)
    with pytest.raises(GradcheckError,
                       match=r"^gradgradcheck: input 0 .*analytic 2\.1 vs numeric 2 "):
        gradgradcheck(lambda x: SquareFivePercentOffSecond.apply(x), x)


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


def test_check_op_with_gap_proves_max():
    check_op(lambda x: x.max(), gap=0.1, max_examples=10)


def test_check_op_refuses_a_domain_count_that_does_not_fit_fn():
    with pytest.raises(ValueError, match=r"check_op: 1 domain\(s\) given for a function of 2"):
        check_op(lambda x, y: x * y, ts.real())


def test_check_op_rejects_shapes_that_do_not_match_the_domains():
    with pytest.raises(ValueError, match="check_op: shapes gave 1 shapes for 2 inputs"):
        check_op(lambda x, y: x * y, ts.real(), ts.real(),
                 shapes=st.just(((2,),)), max_examples=1)

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


class SquareWithoutPlainGradient(SquareWrongBackward):
    """z = x**2 whose backward gives 2x g when it records (the saved x is then a Value) and
    no gradient at all on arrays."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x if isinstance(x, Value) else None


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


def square_whose_derivative_is(double: type[Function]) -> type[Function]:
    """z = x**2 with a right first derivative, 2x, computed by the op ``double``: the
    second derivative is whatever ``double``'s backward says it is."""

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * double.apply(x)

    return Square


# the second derivative comes out 5% too large
SquareFivePercentOffSecond = square_whose_derivative_is(DoubleFivePercentOff)


def test_gradcheck_fails_a_gradient_five_percent_wrong_at_the_default_tolerances():
    with pytest.raises(GradcheckError, match=r"^gradcheck: input 0 .*analytic 2\.1 vs numeric 2 "):
        gradcheck(lambda x: DoubleFivePercentOff.apply(x), Value(1.5))


def test_gradgradcheck_fails_a_second_derivative_five_percent_wrong_at_the_defaults():
    x = Value(1.5)
    assert gradcheck(lambda x: SquareFivePercentOffSecond.apply(x), x)
    # 2.1 and 2 times the seeded random direction 0.345584: 5% apart.
    with pytest.raises(GradcheckError,
                       match=r"^gradgradcheck: input 0 .*analytic 0\.725727 vs numeric 0\.691168 "):
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
    # The numeric value is the second derivative, 2, times the seeded random direction.
    with pytest.raises(GradcheckError,
                       match=r"^gradgradcheck: input 0 .*analytic 0 vs numeric 0\.69"):
        gradgradcheck(lambda x: SquareFrozenBackward.apply(x).sum(), Value([1.0]))


class SquareWrongWhenRecorded(SquareWrongBackward):
    """z = x**2 whose backward is right (2x g) on arrays but gives 3x g when it records
    (under create_graph the saved x arrives as a Value): a differentiable, wrong path."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x * (3 if isinstance(x, Value) else 2)


def test_gradgradcheck_compares_the_recorded_first_derivative_with_the_plain_one():
    x = Value([1.0, -2.0])
    assert gradcheck(lambda x: SquareWrongWhenRecorded.apply(x), x)
    # d/dx of the recorded 3 x r is 3 r, which the numeric check alone would accept.
    with pytest.raises(GradcheckError, match=r"^gradgradcheck \(first derivative under "
                                             r"create_graph\): input 0 .*vs plain backward "):
        gradgradcheck(lambda x: SquareWrongWhenRecorded.apply(x), x)


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


def test_check_op_checks_second_derivatives_unless_told_not_to():
    with pytest.raises(GradcheckError, match=r"^gradgradcheck: "):
        check_op(lambda x: SquareFrozenBackward.apply(x), max_examples=3)
    check_op(lambda x: SquareFrozenBackward.apply(x), second_order=False, max_examples=3)


def test_check_op_passes_tolerances_on():
    with pytest.raises(GradcheckError):
        check_op(lambda x: DoubleFivePercentOff.apply(x), second_order=False, max_examples=3)
    check_op(lambda x: DoubleFivePercentOff.apply(x), second_order=False, max_examples=3,
             rtol=0.1)


def test_check_op_draws_from_the_domains_shapes_and_gap_given():
    seen = []

    def spread_out(x, y):
        seen.append((x.shape, y.shape))
        # (gradcheck also calls fn with one element moved by eps)
        assert np.all((x.data >= 1.0 - 1e-5) & (x.data <= 2.0 + 1e-5))
        assert np.all(y.data <= -1.0 + 1e-5)
        assert np.all(np.diff(np.sort(x.data.ravel())) >= 0.25 - 1e-5)
        return x * y

    check_op(spread_out, ts.real(1.0, 2.0), ts.real(-3.0, -1.0),
             shapes=st.just(((3, 1), (2,))), gap=0.25, max_examples=3)
    assert set(seen) == {((3, 1), (2,))}


def test_check_op_runs_as_many_examples_as_asked():
    calls = []
    # Each example calls fn once for the analytic gradient and twice (+eps, -eps) per
    # element, here one: three calls.
    check_op(lambda x: calls.append(1) or x * 2.0, shapes=st.just(((1,),)),
             second_order=False, max_examples=2)
    assert 3 <= len(calls) <= 6


def test_check_op_failure_names_its_draws():
    with pytest.raises(GradcheckError) as info:
        check_op(lambda x: SquareWrongBackward.apply(x), max_examples=5)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "(shapes):" in notes and "(input 0):" in notes


def test_check_op_takes_functions_with_defaults_and_varargs():
    check_op(lambda x, y=2.0: x * y, max_examples=2)
    check_op(lambda *xs: xs[0] * xs[1], ts.real(), ts.real(), max_examples=2)
    with pytest.raises(ValueError, match=r"check_op: 3 domain\(s\) given for a function of "
                                         r"1 input\(s\); give one domain per input"):
        check_op(lambda x, y=2.0: x * y, ts.real(), ts.real(), ts.real())


def test_gradcheck_passes_inputs_and_outputs_that_do_not_depend_on_each_other():
    assert gradcheck(lambda x, y: x * 2.0, Value(1.0), Value(2.0))  # y unused
    assert gradcheck(lambda x: Value(3.0, requires_grad=False), Value(1.0))  # a constant
    assert gradgradcheck(lambda x, y: x * x, Value(1.0), Value(2.0))
    assert gradgradcheck(lambda x: x * 3.0, Value([1.0, 2.0]))  # linear: zero Hessian


def test_gradcheck_tolerance_bound_is_inclusive():
    # At 0 with eps=0.5 the central difference of 2x is exactly 2: nothing to spare.
    assert gradcheck(lambda x: x * 2.0, Value(0.0), eps=0.5, atol=0.0, rtol=0.0)
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: DoubleFivePercentOff.apply(x), Value(0.0), eps=0.5, atol=0.09,
                  rtol=0.0)


def test_gradcheck_default_seed_is_zero():
    x = Value([1.0, -2.0, 0.5])

    def message(check, **seed):
        with pytest.raises(GradcheckError) as info:
            check(lambda x: SquareFrozenBackward.apply(x) * SquareWrongBackward.apply(x), x,
                  **seed)
        return str(info.value)

    for check in (gradcheck, gradgradcheck):
        assert message(check) == message(check, seed=0) != message(check, seed=1)


def test_gradgradcheck_names_itself_in_its_errors():
    with pytest.raises(ValueError, match=r"^gradgradcheck: no input is a Value that requires"):
        gradgradcheck(lambda x: x * 2, Value(1.0, requires_grad=False))
    with pytest.raises(TypeError, match=r"^gradgradcheck: fn must return a Value; got float"):
        gradgradcheck(lambda x: 1.0, Value(1.0))


class DoubleWrongOffCentre(Function):
    """z = 2x whose backward adds ``grad - mean(grad)``: right for a gradient that is the
    same everywhere, wrong for any other."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2 + (grad - np.mean(grad))


SquareOffCentreSecond = square_whose_derivative_is(DoubleWrongOffCentre)


def test_gradgradcheck_probes_along_random_directions():
    # Summed, the output's gradient is all ones, and so would be the second-order probe if
    # it were not random: the error above would never show.
    x = Value([1.0, -2.0, 0.5])
    assert gradcheck(lambda x: SquareOffCentreSecond.apply(x).sum(), x)
    with pytest.raises(GradcheckError, match=r"^gradgradcheck: input 0 "):
        gradgradcheck(lambda x: SquareOffCentreSecond.apply(x).sum(), x)


class LogAddExpFirstOrderOnly(Function):
    """z = log(e**x + e**y) with right first derivatives that are constants under
    create_graph=True: a function of x - y, whose two first derivatives cancel when the
    second-order probe is 1 for both inputs."""

    @staticmethod
    def forward(ctx, x, y):
        z = np.logaddexp(x, y)
        ctx.wx, ctx.wy = np.exp(x - z), np.exp(y - z)
        return z

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.wx, grad * ctx.wy


def test_gradgradcheck_probes_one_element_inputs_along_random_directions():
    x, y = Value(1.0), Value(0.0)
    assert gradcheck(LogAddExpFirstOrderOnly.apply, x, y)
    with pytest.raises(GradcheckError, match=r"^gradgradcheck: input 0 \(shape \(\)\)"):
        gradgradcheck(LogAddExpFirstOrderOnly.apply, x, y)
    assert gradgradcheck(lambda x, y: (x.exp() + y.exp()).log(), x, y)


def test_gradcheck_reports_a_nan_derivative_as_the_worst_element():
    # sqrt at 0: the analytic derivative is infinite and the central difference NaN (it steps
    # below 0); element 0 is off too, but by less than any NaN.
    x = Value([4.0, 0.0, 1.0])
    with np.errstate(invalid="ignore", divide="ignore"), pytest.raises(
            GradcheckError, match=r"element \(1,\): analytic -?inf vs numeric nan"):
        gradcheck(lambda x: DoubleFivePercentOff.apply(x).sqrt(), x)


def test_gradcheck_reports_a_gradient_that_never_reaches_an_input():
    # y enters through its data only, so backward gives it nothing: its analytic gradient
    # is zero where the numeric one is not, and a vector input names an element of it.
    x, y = Value([1.0, -2.0, 3.0]), Value([0.5, 0.5, 0.5])
    with pytest.raises(GradcheckError, match=r"^gradcheck: input 1 \(shape \(3,\)\), element "
                                             r"\([0-2],\): analytic 0 vs numeric -?[0-9.]*[1-9]"):
        gradcheck(lambda x, y: x * y.data, x, y)
    with pytest.raises(GradcheckError, match=r"^gradcheck: input 0 \(shape \(2,\)\), element "
                                             r"\([01],\): analytic 0 vs numeric -?[0-9.]*[1-9]"):
        gradcheck(lambda x: Value(x.data * 2.0, requires_grad=False), Value([1.0, 1.0]))


def test_gradcheck_names_itself_when_fn_stops_returning_a_value_at_a_nudged_input():
    def fn(x):  # a Value near 1, a plain number further away
        return x * 2.0 if float(x.data) < 1.2 else 0.0

    with pytest.raises(TypeError, match=r"^gradcheck: fn must return a Value; got float"):
        gradcheck(fn, Value(1.0), eps=0.5)


def test_gradgradcheck_reports_a_gradient_only_the_recording_backward_gives():
    x = Value(np.array([1.0, -2.0, 0.5]))
    with pytest.raises(GradcheckError, match=r"^gradgradcheck \(first derivative under "
                                             r"create_graph\): input 0 \(shape \(3,\)\), "
                                             r"element \(1,\): analytic -3\.28647 vs plain "
                                             r"backward 0 \(atol=1e-05, rtol=0\.001\)$"):
        gradgradcheck(lambda x: SquareWithoutPlainGradient.apply(x), x)

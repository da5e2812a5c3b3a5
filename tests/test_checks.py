"""The shared argument checks: what each accepts, and each error message."""

import numpy as np
import pytest

from tinygrad_edu._checks import (
    dropout_p,
    float_dtype,
    integer,
    is_int,
    is_real,
    pair,
    real_number,
)


@pytest.mark.parametrize("value", [0, -3, 2.5, np.int64(4), np.float32(0.5), float("inf")])
def test_is_real_accepts_python_and_numpy_numbers(value):
    assert is_real(value)


@pytest.mark.parametrize("value", [True, False, "1", None, 1j, [1.0], np.array(1.0)])
def test_is_real_refuses_bools_strings_and_containers(value):
    assert not is_real(value)


def test_is_int_takes_numpy_ints_but_not_bools_or_floats():
    assert is_int(3) and is_int(np.int32(-2))
    assert not is_int(True) and not is_int(2.0) and not is_int(np.float64(2))


def test_real_number_returns_the_value_or_names_op_argument_and_value():
    assert real_number("leaky_relu", "negative_slope", -0.5) == -0.5
    with pytest.raises(TypeError, match=r"leaky_relu: negative_slope must be a real number; "
                                        r"got True \(a bool\)"):
        real_number("leaky_relu", "negative_slope", True)
    with pytest.raises(ValueError, match="elu: alpha must be a real number; got nan"):
        real_number("elu", "alpha", float("nan"))


def test_integer_returns_a_python_int_above_the_minimum():
    value = integer("Linear", "in_features", np.int64(3))
    assert value == 3 and type(value) is int
    assert integer("ReduceLROnPlateau", "patience", 0, minimum=0) == 0


@pytest.mark.parametrize(("value", "error", "message"), [
    (0, ValueError, "Linear: in_features must be an int >= 1; got 0"),
    (2.0, TypeError, r"Linear: in_features must be an int >= 1; got 2.0 \(a float\)"),
    (True, TypeError, r"Linear: in_features must be an int >= 1; got True \(a bool\)"),
    ("3", TypeError, r"Linear: in_features must be an int >= 1; got '3' \(a str\)"),
])
def test_integer_errors_name_op_argument_value_and_bound(value, error, message):
    with pytest.raises(error, match=message):
        integer("Linear", "in_features", value)


def test_integer_error_says_the_minimum_asked_for():
    with pytest.raises(ValueError, match="fit: patience must be an int >= 0; got -1"):
        integer("fit", "patience", -1, minimum=0)


def test_float_dtype_resolves_floating_dtypes():
    assert float_dtype("zeros", "float32") == np.float32
    assert float_dtype("zeros", np.float64) == np.float64


@pytest.mark.parametrize(("dtype", "shown"), [(np.int64, "int64"), (bool, "bool"),
                                              ("complex128", "complex128"),
                                              ("floaty", "'floaty'")])
def test_float_dtype_errors_name_the_op_and_the_dtype(dtype, shown):
    with pytest.raises(TypeError, match=f"zeros: dtype must be a floating type such as float32 "
                                        f"or float64; got {shown}$"):
        float_dtype("zeros", dtype)


@pytest.mark.parametrize(("p", "error", "message"), [
    (1.0, ValueError, r"Dropout: p is the probability of dropping a unit and must be in "
                      r"\[0, 1\); got 1.0"),
    (-0.1, ValueError, r"must be in \[0, 1\); got -0.1"),
    ("0.5", TypeError, r"Dropout: p must be a real number; got '0.5' \(a str\)"),
    (float("nan"), ValueError, "Dropout: p must be a real number; got nan"),
])
def test_dropout_p_is_in_zero_one(p, error, message):
    with pytest.raises(error, match=message):
        dropout_p("Dropout", p)
    assert dropout_p("Dropout", 0.0) is None


def test_pair_takes_an_int_or_two_and_returns_python_ints():
    assert pair("conv2d", "stride", 2, 1) == (2, 2)
    hw = pair("conv2d", "padding", (np.int64(0), 3), 0)
    assert hw == (0, 3) and all(type(v) is int for v in hw)
    assert pair("adaptive_avg_pool2d", "output_size", (None, 4), 1, none_ok=True) == (None, 4)


@pytest.mark.parametrize(("value", "none_ok", "error", "message"), [
    (0, False, ValueError, r"^conv2d: stride must be >= 1; got 0"),
    ((1, -2), False, ValueError, r"^conv2d: stride must be >= 1; got \(1, -2\)"),
    ((1, 2, 3), False, TypeError,
     r"^conv2d: stride must be an int or a pair of ints \(H, W\); got \(1, 2, 3\)"),
    (True, False, TypeError,
     r"^conv2d: stride must be an int or a pair of ints \(H, W\); got True"),
    ((None, 1.5), True, TypeError,
     r"^conv2d: stride must be an int, None or a pair of those \(H, W\); got \(None, 1.5\)"),
])
def test_pair_errors_name_op_argument_and_value(value, none_ok, error, message):
    with pytest.raises(error, match=message):
        pair("conv2d", "stride", value, 1, none_ok=none_ok)

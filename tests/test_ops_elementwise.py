"""Elementwise ops: first and second derivatives over broadcastable shapes, dtype kept."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import Value
from tinygrad_edu.testing import check_op, gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as ts

UNARY = {
    "neg": (lambda x: -x, ts.real()),
    "abs": (lambda x: abs(x), ts.away_from(0.0)),
    "exp": (lambda x: x.exp(), ts.real()),
    "log": (lambda x: x.log(), ts.positive()),
    "sqrt": (lambda x: x.sqrt(), ts.positive()),
    "sin": (lambda x: x.sin(), ts.real()),
    "cos": (lambda x: x.cos(), ts.real()),
    "tanh": (lambda x: x.tanh(), ts.real()),
    "sigmoid": (lambda x: x.sigmoid(), ts.real()),
    "relu": (lambda x: x.relu(), ts.away_from(0.0)),
    "pow_const": (lambda x: x**3, ts.real()),
    "pow_frac": (lambda x: x**1.5, ts.positive()),
    "rpow": (lambda x: 2.0**x, ts.real()),
    "clip": (lambda x: x.clip(-1.0, 1.0), ts.away_from(-1.0, 1.0)),
    "clip_low": (lambda x: x.clip(min=0.5), ts.away_from(0.5)),
}

BINARY = {
    "add": (lambda x, y: x + y, ts.real(), ts.real()),
    "sub": (lambda x, y: x - y, ts.real(), ts.real()),
    "mul": (lambda x, y: x * y, ts.real(), ts.real()),
    "div": (lambda x, y: x / y, ts.real(), ts.positive(0.5)),
    "pow": (lambda x, y: x**y, ts.positive(0.5), ts.real(-2.0, 2.0)),
    "radd_const": (lambda x, y: 2.0 + x * y, ts.real(), ts.real()),
    "rsub_const": (lambda x, y: 1.0 - x * y, ts.real(), ts.real()),
    "rdiv_const": (lambda x, y: 1.0 / (x * y), ts.positive(0.5), ts.positive(0.5)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients(name):
    fn, domain = UNARY[name]
    check_op(fn, domain)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients_broadcast(name):
    fn, *domains = BINARY[name]
    check_op(fn, *domains)


@st.composite
def apart(draw):
    """Two broadcastable arrays that never tie: x on a 0.5 grid, y offset by 0.25."""
    sx, sy = draw(ts.broadcastable_shapes(2))
    grid = st.integers(-6, 6).map(lambda k: k / 2)
    x = draw(hnp.arrays(np.float64, sx, elements=grid))
    y = draw(hnp.arrays(np.float64, sy, elements=grid.map(lambda v: v + 0.25)))
    return Value(x), Value(y)


@pytest.mark.parametrize("op", [tg.maximum, tg.minimum])
@given(xy=apart())
def test_maximum_minimum_gradients(op, xy):
    gradcheck(op, *xy)
    gradgradcheck(op, *xy)


def test_maximum_minimum_ties_share_gradient():
    x, y = Value([1.0, 2.0, 3.0]), Value([1.0, 0.0, 5.0])
    tg.maximum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(y.grad, [0.5, 0.0, 1.0])
    x.zero_grad()
    tg.minimum(x, Value(1.0)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.5, 0.0, 0.0])


@given(sc=ts.broadcastable_shapes(3), data=st.data())
def test_where_gradients(sc, data):
    cond = data.draw(ts.arrays(sc[0]).map(lambda a: a > 0))
    a, b = (Value(data.draw(ts.arrays(s))) for s in sc[1:])
    gradcheck(lambda a, b: tg.where(cond, a, b), a, b)
    gradgradcheck(lambda a, b: tg.where(cond, a * a, b * b), a, b)


def test_relu_kink_and_abs_kink_subgradient_is_zero():
    x = Value([0.0, -1.0, 2.0])
    (x.relu() + abs(x)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, -1.0, 2.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [3, 64, 300])  # float32 rows of 64 or more: a faster path
def test_relu_matches_numpy_on_special_values_at_every_width(dtype, width):
    special = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan], dtype)
    data = np.resize(special, (4, width))
    x = Value(data)
    y = x.relu()
    np.testing.assert_array_equal(y.data, np.maximum(data, 0))
    assert y.data.dtype == dtype
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, (data > 0).astype(dtype))
    y2 = Value(data).relu()  # the shared row of zeros was not changed by the first call
    np.testing.assert_array_equal(y2.data, y.data)


def test_sigmoid_is_stable_for_large_inputs():
    x = Value([-1e4, -800.0, 0.0, 800.0, 1e4])
    y = x.sigmoid()
    y.sum().backward()
    np.testing.assert_allclose(y.data, [0.0, 0.0, 0.5, 1.0, 1.0])
    assert np.all(np.isfinite(x.grad))


def test_pow_exponent_gradient_needs_nonnegative_base():
    x = Value(-2.0)
    (x ** Value(2.0, requires_grad=False)).backward()  # d/dx needs no log
    assert x.grad == -4.0
    z = Value(-2.0) ** Value(2.0)  # d/dy = z * log(x) is not real for x < 0
    with pytest.raises(ValueError, match=r"pow backward: .* base >= 0 .*requires_grad=False"):
        z.backward()
    w = Value(0.0, requires_grad=False) ** (b := Value(2.0))
    w.backward()
    assert b.grad == 0.0


def test_astype_casts_forward_and_gradient_back():
    x = Value([1.5, -2.0])
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and x.astype(np.float64, copy=False) is x
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, [3.0, -4.0])
    check_op(lambda x: x.astype(np.float64) * x)  # Cast is an op even to the same dtype
    with pytest.raises(TypeError, match="astype: dtype must be a floating type such as float32 "
                                        "or float64; got int64"):
        x.astype(np.int64)


FLOAT32_CASES = [fn for fn, _ in UNARY.values()] + [
    lambda x: x * x, lambda x: x / 3, lambda x: tg.maximum(x, 0.5), lambda x: tg.where(x > 0, x, 1)
]


@pytest.mark.parametrize("fn", FLOAT32_CASES)
def test_float32_is_preserved_through_forward_and_backward(fn):
    x = Value(np.linspace(0.2, 2.0, 6).reshape(2, 3), dtype=np.float32)
    y = fn(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == x.shape


def test_float32_mixed_with_float64_constant_casts_the_gradient_back():
    x = Value([1.0, 2.0], dtype=np.float32)
    y = x * np.array([1.0, 2.0])  # NumPy promotes to float64
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_comparisons_give_boolean_arrays_without_gradient():
    x = Value([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x > 2, [False, False, True])
    np.testing.assert_array_equal(x == Value([1.0, 0.0, 3.0]), [True, False, True])
    assert (x <= 1.0).dtype == bool and (x != 2.0).dtype == bool and (x >= 2).dtype == bool


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda a, b: a + b, r"Add: shapes \(2, 3\) and \(4,\) do not broadcast together"),
        (lambda a, b: a * b, r"Mul: shapes \(2, 3\) and \(4,\) do not broadcast together"),
        (lambda a, b: tg.maximum(a, b), r"Maximum: shapes \(2, 3\) and \(4,\) do not broadcast"),
        (lambda a, b: tg.where(np.ones(3) > 0, a, b),
         r"Where: shapes \(3,\) and \(2, 3\) and \(4,\) do not broadcast"),
    ],
)
def test_failed_broadcast_names_the_op_and_the_shapes(make, message):
    with pytest.raises(ValueError, match=message):
        make(Value(np.ones((2, 3))), Value(np.ones(4)))


def test_pow_second_derivative_at_zero_base_with_exponent_one():
    x = Value([0.0, 2.0])
    (g,) = tg.grad((x**2.0).sum(), x, create_graph=True)
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_array_equal(h, [2.0, 2.0])
    (g1,) = tg.grad((x**1.0).sum(), x, create_graph=True)
    np.testing.assert_array_equal(tg.grad(g1.sum() + (x * 0).sum(), x)[0], [0.0, 0.0])


def test_clip_passes_the_gradient_at_its_bounds_as_pytorchs_clamp():
    x = Value([-2.0, -1.0, 0.0, 1.0, 2.0])
    x.clip(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 1, 0])


def test_clip_refuses_bounds_that_would_enlarge_the_input():
    with pytest.raises(ValueError, match=r"^clip: bounds of shapes \(2, 3\) and \(\) must "
                                         r"broadcast to the input's shape \(3,\), not enlarge "
                                         r"it$"):
        Value(np.ones(3)).clip(np.zeros((2, 3)), None)

"""Activation functions: values against the formulas, first and second derivatives, the
derivative chosen at each kink, the default arguments pinned, stability for |x| up to the
top of each dtype's range, float32, empty axes, and argument errors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Value, grad
from tinygrad_edu.functional import activation as F
from tinygrad_edu.ops.activation import ELU, GELU, Softplus
from tinygrad_edu.testing import check_op, gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as ts

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# ----------------------------------------------------------------------------------------
# Plain-NumPy references, written from the formulas (float64, moderate inputs)
# ----------------------------------------------------------------------------------------

_erf = np.vectorize(math.erf)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log(1 + np.exp(beta * x)) / beta)


def _relu6(x):
    return np.minimum(np.maximum(x, 0), 6)


def _rrelu_train(x):
    slopes = np.random.default_rng(0).uniform(1 / 8, 1 / 3, size=x.shape)
    return np.where(x > 0, x, slopes * x)


AWAY_0 = ts.away_from(0.0)
AWAY_3 = ts.away_from(-3.0, 3.0, lo=-5.0, hi=5.0)
AWAY_HALF = ts.away_from(-0.5, 0.5)

# name: (function, reference, domain for the derivative checks: away from the kinks)
UNARY = {
    "sigmoid": (F.sigmoid, _sigmoid, ts.real()),
    "tanh": (F.tanh, np.tanh, ts.real()),
    "relu": (F.relu, lambda x: np.maximum(x, 0), AWAY_0),
    "leaky_relu": (F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), AWAY_0),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, negative_slope=0.2),
                       lambda x: np.where(x > 0, x, 0.2 * x), AWAY_0),
    "rrelu_eval": (lambda x: F.rrelu(x, 0.1, 0.3), lambda x: np.where(x > 0, x, 0.2 * x),
                   AWAY_0),
    "rrelu_train": (lambda x: F.rrelu(x, training=True, seed=0), _rrelu_train, AWAY_0),
    "elu": (F.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1), AWAY_0),
    "elu_1.5": (lambda x: F.elu(x, alpha=1.5), lambda x: np.where(x > 0, x, 1.5 * (np.exp(x) - 1)),
                AWAY_0),
    "celu_2": (lambda x: F.celu(x, alpha=2.0),
               lambda x: np.maximum(x, 0) + np.minimum(0, 2 * (np.exp(x / 2) - 1)), AWAY_0),
    "selu": (F.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1)),
             AWAY_0),
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), ts.real()),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                   * (x + 0.044715 * x**3))), ts.real()),
    "silu": (F.silu, lambda x: x * _sigmoid(x), ts.real()),
    "mish": (F.mish, lambda x: x * np.tanh(np.log(1 + np.exp(x))), ts.real()),
    "softplus": (F.softplus, _softplus, ts.real()),
    "softplus_beta2_threshold3": (lambda x: F.softplus(x, beta=2.0, threshold=3.0),
                                  lambda x: _softplus(x, 2.0, 3.0), ts.away_from(1.5)),
    # Softsign's second derivative jumps at 0.
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x)), AWAY_0),
    "logsigmoid": (F.logsigmoid, lambda x: np.log(_sigmoid(x)), ts.real()),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x), ts.real()),
    "erf": (F.erf, _erf, ts.real()),
    "hardtanh": (F.hardtanh, lambda x: np.clip(x, -1, 1), ts.away_from(-1.0, 1.0)),
    "hardtanh_-2_0.5": (lambda x: F.hardtanh(x, min_val=-2.0, max_val=0.5),
                        lambda x: np.clip(x, -2, 0.5), ts.away_from(-2.0, 0.5)),
    "relu6": (F.relu6, _relu6, ts.away_from(0.0, 6.0, lo=-2.0, hi=8.0)),
    "hardsigmoid": (F.hardsigmoid, lambda x: _relu6(x + 3) / 6, AWAY_3),
    "hardswish": (F.hardswish, lambda x: x * _relu6(x + 3) / 6, AWAY_3),
    "softshrink": (F.softshrink,
                   lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
                   AWAY_HALF),
    "hardshrink": (F.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0.0), AWAY_HALF),
    "threshold": (lambda x: F.threshold(x, 0.5, -2.0), lambda x: np.where(x > 0.5, x, -2.0),
                  ts.away_from(0.5)),
}

# Every kink of the functions above is on this grid (steps of 1/4).
GRID = np.linspace(-8.0, 8.0, 65)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_values_match_the_formula(name, dtype):
    fn, reference, _ = UNARY[name]
    y = fn(Value(GRID, dtype=dtype))
    assert y.dtype == dtype
    tolerance = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5,
                                                                             "atol": 1e-6}
    np.testing.assert_allclose(y.data, reference(GRID), **tolerance)


@pytest.mark.parametrize(
    ("fn", "x", "expected"),
    [
        (F.gelu, 1.0, 0.8413447460685429),
        (F.gelu, -1.0, -0.15865525393145707),
        (lambda x: F.gelu(x, approximate="tanh"), 1.0, 0.8411919906082768),
        (F.silu, 1.0, 0.7310585786300049),
        (F.mish, 1.0, 0.8650983882673103),
        (F.softplus, 1.0, 1.3132616875182228),
        (F.logsigmoid, -1.0, -1.3132616875182228),
        (F.elu, -1.0, -0.6321205588285577),
        (F.selu, -1.0, -1.1113307378125625),
        (F.selu, 1.0, 1.0507009873554805),
        (lambda x: F.celu(x, alpha=2.0), -1.0, -0.7869386805747332),
        (F.tanhshrink, 1.0, 0.23840584404423515),
        (F.erf, 0.5, 0.5204998778130465),
        (F.hardswish, 1.0, 2 / 3),
        (F.hardsigmoid, 1.0, 2 / 3),
        (F.softsign, 1.0, 0.5),
    ],
)
def test_known_values_on_0d_inputs(fn, x, expected):
    y = fn(Value(x))
    assert y.shape == () and y.item() == pytest.approx(expected, rel=1e-12)


# ----------------------------------------------------------------------------------------
# Derivatives: first and second, random shapes (0-d included), away from the kinks
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(UNARY))
def test_first_and_second_derivatives(name):
    fn, _, domain = UNARY[name]
    check_op(fn, domain)


def _grad_at(fn, points):
    x = Value(points)
    fn(x).sum().backward()
    return x.grad


# The derivative each function takes at its kinks: PyTorch's choice in every case.
KINKS = {
    "relu": (F.relu, [0.0], [0.0]),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), [0.0], [0.1]),
    "rrelu_eval": (lambda x: F.rrelu(x, 0.1, 0.3), [0.0], [0.2]),
    "elu": (lambda x: F.elu(x, alpha=1.5), [0.0], [1.5]),
    "celu": (lambda x: F.celu(x, alpha=2.0), [0.0], [1.0]),
    "selu": (F.selu, [0.0], [SELU_SCALE * SELU_ALPHA]),
    "hardtanh": (lambda x: F.hardtanh(x, -2.0, 0.5), [-2.0, 0.5], [0.0, 0.0]),
    "relu6": (F.relu6, [0.0, 6.0], [0.0, 0.0]),
    "hardsigmoid": (F.hardsigmoid, [-3.0, 3.0], [0.0, 0.0]),
    "hardswish": (F.hardswish, [-3.0, 3.0], [-0.5, 1.5]),
    "softshrink": (F.softshrink, [-0.5, 0.5], [0.0, 0.0]),
    "hardshrink": (F.hardshrink, [-0.5, 0.5], [0.0, 0.0]),
    "threshold": (lambda x: F.threshold(x, 0.5, -2.0), [0.5], [0.0]),
    # At beta * x == threshold softplus is still the smooth branch; above it, exactly linear.
    "softplus": (F.softplus, [20.0, 20.5], [_sigmoid(20.0), 1.0]),
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_derivative_at_the_kinks_is_pytorchs(name):
    fn, points, expected = KINKS[name]
    np.testing.assert_allclose(_grad_at(fn, points), expected, rtol=1e-15, atol=0)


def test_values_at_the_kinks():
    np.testing.assert_array_equal(F.hardshrink(Value([-0.5, 0.5])).data, [0.0, 0.0])
    np.testing.assert_array_equal(F.threshold(Value([0.5]), 0.5, -2.0).data, [-2.0])
    np.testing.assert_array_equal(F.relu6(Value([0.0, 6.0])).data, [0.0, 6.0])


def test_softsign_second_derivative_at_zero_is_zero():
    x = Value(0.0)
    (g,) = grad(F.softsign(x), x, create_graph=True)
    (h,) = grad(g, x)
    assert g.item() == 1.0 and h == 0.0


# ----------------------------------------------------------------------------------------
# Huge inputs, float32
# ----------------------------------------------------------------------------------------

HUGE = np.array([-1e4, -1e3, -50.0, -1.0, 0.0, 0.5, 1.0, 50.0, 1e3, 1e4])
ALL = {name: fn for name, (fn, _, _) in UNARY.items()} | {
    "softmax": F.softmax,
    "log_softmax": F.log_softmax,
    "softmin": F.softmin,
    "glu": F.glu,
    "prelu": lambda x: F.prelu(x, Value([0.25], dtype=x.dtype)),
}


# Near the top of each dtype's range: x**2 or x**3 there overflows.
LARGEST = {np.float32: 1e30, np.float64: 1e300}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ALL))
def test_huge_inputs_are_finite_forward_and_backward_in_the_input_dtype(name, dtype):
    # Warnings are errors in the test configuration: an overflow anywhere fails here.
    fn = ALL[name]
    huge = np.append(HUGE, [LARGEST[dtype], -LARGEST[dtype]])
    x = Value(np.stack([huge, -huge]), dtype=dtype)
    y = fn(x)
    r = np.linspace(-1.0, 1.0, y.size).reshape(y.shape).astype(dtype)
    (g,) = grad(y, x, grad_outputs=r)
    (g_value,) = grad(y, x, grad_outputs=r, create_graph=True)
    # `x * 0` keeps the sum a function of x where the second derivative is 0.
    (h,) = grad((g_value + x * 0).sum(), x)
    for result in (y.data, g, g_value.data, h):
        assert result.dtype == dtype and np.all(np.isfinite(result))
    np.testing.assert_allclose(g, g_value.data)


# ----------------------------------------------------------------------------------------
# Softmax, log-softmax, softmin, GLU: along an axis
# ----------------------------------------------------------------------------------------

AXIS_FUNCTIONS = {"softmax": F.softmax, "log_softmax": F.log_softmax, "softmin": F.softmin}
AT_LEAST_1D = ts.shapes(min_dims=1).map(lambda s: (s,))


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("name", sorted(AXIS_FUNCTIONS))
def test_softmax_family_derivatives(name, axis):
    fn = AXIS_FUNCTIONS[name]
    check_op(lambda x: fn(x, axis=axis), shapes=AT_LEAST_1D, max_examples=20)


@given(shape=ts.shapes(min_dims=1), data=st.data())
def test_softmax_rows_sum_to_one_and_agree_with_log_softmax_and_softmin(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    x = data.draw(ts.arrays(shape, ts.real(-30.0, 30.0)), label="x")
    p = F.softmax(Value(x), axis=axis).data
    e = np.exp(x)
    np.testing.assert_allclose(p, e / e.sum(axis=axis, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(F.log_softmax(Value(x), axis=axis).data), p, rtol=1e-12)
    np.testing.assert_allclose(F.softmin(Value(-x), axis=axis).data, p, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_stable_for_logits_of_1e4(dtype):
    x = Value([[1e4, 0.0, -1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    np.testing.assert_allclose(F.softmax(x).data, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    log2 = math.log(2)
    np.testing.assert_allclose(F.log_softmax(x).data,
                               [[0.0, -1e4, -2e4], [-log2, -log2, -2e4 - log2]], rtol=1e-6)
    np.testing.assert_allclose(F.softmin(x).data, [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])


def _even_last_axis(shape):
    return (shape[:-1] + (2 * shape[-1],),)


@pytest.mark.parametrize("axis", [-1, 0])
def test_glu_values_and_derivatives(axis):
    x = np.arange(-6.0, 6.0).reshape(2, 3, 2).swapaxes(0, axis)
    a, b = np.split(x, 2, axis=axis)
    np.testing.assert_allclose(F.glu(Value(x), axis=axis).data, a * _sigmoid(b), rtol=1e-12)
    shapes = ts.shapes(min_dims=1).map(_even_last_axis)
    if axis == 0:
        shapes = shapes.map(lambda s: (s[0][::-1],))
    check_op(lambda x: F.glu(x, axis=axis), shapes=shapes, max_examples=20)


# ----------------------------------------------------------------------------------------
# PReLU and RReLU
# ----------------------------------------------------------------------------------------


@st.composite
def prelu_shapes(draw):
    """An input shape and a weight shape: one shared slope, or one per channel (axis 1)."""
    x_shape = draw(ts.shapes())
    choices = [(1,), ()] + ([(x_shape[1],)] if len(x_shape) >= 2 else [])
    return x_shape, draw(st.sampled_from(choices))


def test_prelu_derivatives_for_input_and_weight():
    check_op(F.prelu, AWAY_0, ts.real(), shapes=prelu_shapes())


def test_prelu_per_channel_values_and_weight_gradient_shape():
    x = Value(np.linspace(-2.0, 2.0, 24).reshape(2, 3, 4))
    w = Value([0.1, 0.2, 0.3])
    y = F.prelu(x, w)
    slope = w.data.reshape(3, 1)
    np.testing.assert_allclose(y.data, np.where(x.data > 0, x.data, slope * x.data))
    y.sum().backward()
    assert w.grad.shape == (3,) and x.grad.shape == (2, 3, 4)
    np.testing.assert_allclose(w.grad, np.minimum(x.data, 0).sum(axis=(0, 2)))
    np.testing.assert_allclose(x.grad, np.broadcast_to(np.where(x.data > 0, 1.0, slope), x.shape))


def test_prelu_shared_slope_and_kink():
    x = Value([-2.0, 0.0, 3.0])
    w = Value([0.25])
    F.prelu(x, w).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.25, 0.25, 1.0])  # slope a at x = 0
    np.testing.assert_array_equal(w.grad, [-2.0])             # d/da = x, 0 at x = 0
    assert F.prelu(Value(-4.0), Value(0.5)).item() == -2.0


def test_rrelu_training_is_reproducible_under_a_seed():
    x = Value(np.linspace(-3.0, 3.0, 50))
    y = F.rrelu(x, training=True, seed=3)
    np.testing.assert_array_equal(y.data, F.rrelu(x, training=True, seed=3).data)
    assert not np.array_equal(y.data, F.rrelu(x, training=True, seed=4).data)
    tg.manual_seed(7)
    first = F.rrelu(x, training=True).data
    tg.manual_seed(7)
    np.testing.assert_array_equal(F.rrelu(x, training=True).data, first)


def test_rrelu_training_draws_a_slope_per_element_and_differentiates_with_it():
    x = Value(-np.linspace(1.0, 2.0, 200))
    y = F.rrelu(x, lower=0.1, upper=0.3, training=True, seed=0)
    slopes = y.data / x.data
    assert 0.1 <= slopes.min() < slopes.max() <= 0.3 and len(np.unique(slopes)) == 200
    y.sum().backward()
    np.testing.assert_allclose(x.grad, slopes)
    positive = Value([0.5, 2.0])
    np.testing.assert_array_equal(F.rrelu(positive, training=True, seed=0).data, [0.5, 2.0])


def test_rrelu_eval_uses_the_mean_slope():
    x = Value([-4.0, 0.0, 4.0])
    np.testing.assert_allclose(F.rrelu(x).data, [-4.0 * (1 / 8 + 1 / 3) / 2, 0.0, 4.0])
    np.testing.assert_allclose(F.rrelu(x, 0.1, 0.5, training=False).data, [-1.2, 0.0, 4.0])


# ----------------------------------------------------------------------------------------
# Maxout
# ----------------------------------------------------------------------------------------


def _maxout_reference(x, w, b):
    return np.max(np.einsum("...i,koi->...ko", x, w) + b, axis=-2)


@pytest.mark.parametrize("x_shape", [(4,), (2, 4), (2, 3, 4)])
def test_maxout_values_and_derivatives(x_shape):
    rng = np.random.default_rng(0)
    x, w, b = (Value(rng.standard_normal(s)) for s in (x_shape, (3, 2, 4), (3, 2)))
    y = F.maxout(x, w, b)
    assert y.shape == x_shape[:-1] + (2,)
    np.testing.assert_allclose(y.data, _maxout_reference(x.data, w.data, b.data), rtol=1e-12)
    # Random pieces are far apart compared with the finite-difference step: no ties.
    gradcheck(F.maxout, x, w, b)
    gradgradcheck(F.maxout, x, w, b)
    gradcheck(F.maxout, x, w)


def test_maxout_ties_share_the_gradient():
    w = Value(np.ones((2, 1, 3)))
    b = Value(np.zeros((2, 1)))
    F.maxout(Value([1.0, 2.0, 3.0]), w, b).sum().backward()
    np.testing.assert_array_equal(w.grad, np.full((2, 1, 3), [0.5, 1.0, 1.5]))
    np.testing.assert_array_equal(b.grad, [[0.5], [0.5]])


# ----------------------------------------------------------------------------------------
# Argument errors
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.glu(Value(np.ones((2, 3)))),
         r"glu: axis -1 of input shape \(2, 3\) has odd size 3; it must split into two halves"),
        (lambda: F.glu(Value(1.0)), r"glu: axis -1 is out of range for a Value with 0 dim"),
        (lambda: F.gelu(Value(1.0), approximate="erf"),
         r"gelu: approximate must be 'none' or 'tanh'; got 'erf'"),
        (lambda: F.softshrink(Value(1.0), lambd=-0.5), r"softshrink: lambd must be >= 0; got -0.5"),
        (lambda: F.hardshrink(Value(1.0), lambd=-1.0), r"hardshrink: lambd must be >= 0; got -1.0"),
        (lambda: F.prelu(Value(np.ones((2, 3))), Value([0.1, 0.2])),
         r"prelu: weight must have shape \(1,\), \(\) or \(3,\) \(one slope per channel, axis 1 "
         r"of input shape \(2, 3\)\); got shape \(2,\)"),
        (lambda: F.prelu(Value(np.ones((2, 3))), Value(np.ones((1, 3)))),
         r"prelu: weight must have shape .* got shape \(1, 3\)"),
        (lambda: F.prelu(Value(np.ones(3)), Value(np.ones(3))),
         r"prelu: weight must have shape \(1,\), \(\) or \(1,\) .* got shape \(3,\)"),
        (lambda: F.hardtanh(Value(1.0), 1.0, -1.0),
         r"hardtanh: min_val must be <= max_val; got min_val=1.0, max_val=-1.0"),
        (lambda: F.rrelu(Value(1.0), 0.5, 0.1), r"rrelu: lower must be <= upper; got lower=0.5"),
        (lambda: F.celu(Value(1.0), alpha=0.0), r"celu: alpha must be > 0; got 0.0"),
        (lambda: F.softplus(Value(1.0), beta=0.0), r"softplus: beta must not be 0"),
        (lambda: F.softmax(Value(1.0)), r"softmax: axis -1 is out of range"),
        (lambda: F.log_softmax(Value([1.0]), axis=1), r"log_softmax: axis 1 is out of range"),
        (lambda: F.maxout(Value(np.ones(4)), Value(np.ones((2, 4)))),
         r"maxout: weight must have shape \(pieces, out_features, in_features\); got shape "
         r"\(2, 4\)"),
        (lambda: F.maxout(Value(np.ones(5)), Value(np.ones((3, 2, 4)))),
         r"maxout: input shape \(5,\) must end in in_features = 4 \(weight shape \(3, 2, 4\)\)"),
        (lambda: F.maxout(Value(np.ones(4)), Value(np.ones((3, 2, 4))), Value(np.ones(2))),
         r"maxout: bias must have shape \(3, 2\) for weight shape \(3, 2, 4\); got shape \(2,\)"),
    ],
)
def test_bad_arguments_raise_with_the_values(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----------------------------------------------------------------------------------------
# The defaults users call, pinned against hand-computed values and slopes
# ----------------------------------------------------------------------------------------

E = math.e
SIG1 = 1 / (1 + math.exp(-1.0))  # σ(1)
PHI1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))  # Φ(1), the standard normal CDF at 1
DENSITY1 = math.exp(-0.5) / math.sqrt(2 * math.pi)  # the standard normal density at 1

# name: (function with its default arguments, points, values, derivatives), each chosen
# where a different default (slope, alpha, beta, threshold, bounds, lambd) would show.
DEFAULTS = {
    "sigmoid": (F.sigmoid, [0.0, 1.0], [0.5, SIG1], [0.25, SIG1 * (1 - SIG1)]),
    "tanh": (F.tanh, [0.0, 1.0], [0.0, math.tanh(1.0)], [1.0, 1 - math.tanh(1.0) ** 2]),
    "relu": (F.relu, [-2.0, 3.0], [0.0, 3.0], [0.0, 1.0]),
    "leaky_relu": (F.leaky_relu, [-2.0, 3.0], [-0.02, 3.0], [0.01, 1.0]),
    "rrelu": (F.rrelu, [-2.0, 3.0], [-2.0 * 11 / 48, 3.0], [11 / 48, 1.0]),
    "elu": (F.elu, [-1.0, 2.0], [1 / E - 1, 2.0], [1 / E, 1.0]),
    "celu": (F.celu, [-1.0, 2.0], [1 / E - 1, 2.0], [1 / E, 1.0]),
    "selu": (F.selu, [-1.0, 2.0], [SELU_SCALE * SELU_ALPHA * (1 / E - 1), 2 * SELU_SCALE],
             [SELU_SCALE * SELU_ALPHA / E, SELU_SCALE]),
    "gelu": (F.gelu, [1.0], [PHI1], [PHI1 + DENSITY1]),
    "silu": (F.silu, [1.0], [SIG1], [SIG1 * (1 + (1 - SIG1))]),
    "mish": (F.mish, [0.0], [0.0], [math.tanh(math.log(2.0))]),
    "softplus": (F.softplus, [0.0, 21.0], [math.log(2.0), 21.0], [0.5, 1.0]),
    "softsign": (F.softsign, [1.0, -3.0], [0.5, -0.75], [0.25, 1 / 16]),
    "logsigmoid": (F.logsigmoid, [0.0], [-math.log(2.0)], [0.5]),
    "tanhshrink": (F.tanhshrink, [1.0], [1 - math.tanh(1.0)], [math.tanh(1.0) ** 2]),
    "erf": (F.erf, [0.0, 1.0], [0.0, math.erf(1.0)], [2 / math.sqrt(math.pi),
                                                     2 / math.sqrt(math.pi) / E]),
    "hardtanh": (F.hardtanh, [-2.0, 0.75, 2.0], [-1.0, 0.75, 1.0], [0.0, 1.0, 0.0]),
    "relu6": (F.relu6, [-1.0, 5.0, 7.0], [0.0, 5.0, 6.0], [0.0, 1.0, 0.0]),
    "hardsigmoid": (F.hardsigmoid, [-4.0, 0.0, 4.0], [0.0, 0.5, 1.0], [0.0, 1 / 6, 0.0]),
    "hardswish": (F.hardswish, [-4.0, 1.0, 4.0], [0.0, 2 / 3, 4.0], [0.0, 5 / 6, 1.0]),
    "softshrink": (F.softshrink, [-0.75, 0.25, 0.75], [-0.25, 0.0, 0.25], [1.0, 0.0, 1.0]),
    "hardshrink": (F.hardshrink, [-0.75, 0.25, 0.75], [-0.75, 0.0, 0.75], [1.0, 0.0, 1.0]),
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_defaults_give_the_hand_computed_values_and_slopes(name):
    fn, points, values, slopes = DEFAULTS[name]
    x = Value(points)
    y = fn(x)
    np.testing.assert_allclose(y.data, values, rtol=1e-12, atol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, slopes, rtol=1e-12, atol=1e-15)


def test_softmax_family_defaults_work_along_the_last_axis():
    # Rows [0, ln 3] and [ln 3, 0]: along the last axis the rows are (1/4, 3/4) and
    # (3/4, 1/4); along the first axis every column would be (1/4, 3/4) the other way.
    x = Value([[0.0, math.log(3.0)], [math.log(3.0), 0.0]])
    expected = np.array([[0.25, 0.75], [0.75, 0.25]])
    np.testing.assert_allclose(F.softmax(x).data, expected, rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(x).data, np.log(expected), rtol=1e-12)
    np.testing.assert_allclose(F.softmin(x).data, expected[:, ::-1], rtol=1e-12)
    # glu's default axis is the last one too: a σ(b) with a, b the halves of each row.
    np.testing.assert_allclose(F.glu(Value([[2.0, 0.0], [1.0, 1e4]])).data, [[1.0], [1.0]])
    # softmax' backward: g ↦ p (g - Σ p g); with g = (1, 0) on the first row,
    # p = (1/4, 3/4) gives (1/4 (1 - 1/4), 3/4 (0 - 1/4)) = (3/16, -3/16).
    p = F.softmax(x)
    p[0, 0].backward()
    np.testing.assert_allclose(x.grad, [[3 / 16, -3 / 16], [0.0, 0.0]], rtol=1e-12)


# ----------------------------------------------------------------------------------------
# Second derivatives with a recorded upstream gradient
# ----------------------------------------------------------------------------------------

# Away from every kink of UNARY's functions (0, ±1/2, ±1, 1.5, -2, ±3, 6).
POINTS = np.array([-3.6, -1.3, -0.4, 0.15, 0.7, 1.8, 4.1, 6.6])
ALONG_AN_AXIS = {
    "softmax": F.softmax,
    "log_softmax": F.log_softmax,
    "softmin": F.softmin,
    "glu": F.glu,
    "softmax_axis0": lambda x: F.softmax(x, axis=0),
    "prelu": lambda x: F.prelu(x, Value([0.25, -0.5])),
}


@pytest.mark.parametrize("name", sorted(UNARY) + sorted(ALONG_AN_AXIS))
def test_second_derivatives_with_a_recorded_upstream_gradient(name):
    # (f(x)**2).sum() hands f's backward the upstream gradient 2 f(x), itself a recorded
    # Value under create_graph; its own derivative then enters the second derivative.
    fn = UNARY[name][0] if name in UNARY else ALONG_AN_AXIS[name]
    x = Value(POINTS.reshape(4, 2))
    gradgradcheck(lambda x: (fn(x) ** 2).sum(), x)


# ----------------------------------------------------------------------------------------
# Empty inputs and PyTorch's dim=
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(AXIS_FUNCTIONS))
@pytest.mark.parametrize(("shape", "axis"), [((2, 0), -1), ((0,), 0), ((0, 3), -1),
                                             ((0, 3), 0)])
def test_softmax_family_over_an_empty_input_is_empty(name, shape, axis):
    x = Value(np.ones(shape))
    y = AXIS_FUNCTIONS[name](x, axis=axis)
    assert y.shape == shape
    y.sum().backward()
    assert x.grad.shape == shape


@pytest.mark.parametrize("name", sorted(AXIS_FUNCTIONS) + ["glu"])
def test_dim_is_pytorchs_name_for_axis(name):
    fn = AXIS_FUNCTIONS.get(name, F.glu)
    x = Value(np.arange(8.0).reshape(2, 4) / 3)
    np.testing.assert_array_equal(fn(x, dim=0).data, fn(x, axis=0).data)
    np.testing.assert_array_equal(fn(x, dim=-1).data, fn(x).data)
    with pytest.raises(TypeError, match=rf"^{name}: got both axis=0 and dim=0; pass one"):
        fn(x, 0, dim=0)


# ----------------------------------------------------------------------------------------
# Numeric options: one check, naming the function, the argument and the value
# ----------------------------------------------------------------------------------------

NUMERIC_OPTIONS = {
    ("leaky_relu", "negative_slope"): lambda v: F.leaky_relu(Value(1.0), v),
    ("rrelu", "lower"): lambda v: F.rrelu(Value(1.0), lower=v),
    ("rrelu", "upper"): lambda v: F.rrelu(Value(1.0), upper=v),
    ("elu", "alpha"): lambda v: F.elu(Value(1.0), v),
    ("celu", "alpha"): lambda v: F.celu(Value(1.0), v),
    ("softplus", "beta"): lambda v: F.softplus(Value(1.0), beta=v),
    ("softplus", "threshold"): lambda v: F.softplus(Value(1.0), threshold=v),
    ("hardtanh", "min_val"): lambda v: F.hardtanh(Value(1.0), min_val=v),
    ("hardtanh", "max_val"): lambda v: F.hardtanh(Value(1.0), max_val=v),
    ("softshrink", "lambd"): lambda v: F.softshrink(Value(1.0), v),
    ("hardshrink", "lambd"): lambda v: F.hardshrink(Value(1.0), v),
    ("threshold", "threshold"): lambda v: F.threshold(Value(1.0), v, 0.0),
    ("threshold", "value"): lambda v: F.threshold(Value(1.0), 0.5, v),
}


def assert_rejects_non_real(call, name, arg):
    """``call(value)`` refuses a string, a bool and NaN, naming ``name`` and ``arg``."""
    with pytest.raises(TypeError, match=rf"^{name}: {arg} must be a real number; got 'a' "
                                        r"\(a str\)"):
        call("a")
    with pytest.raises(TypeError, match=rf"^{name}: {arg} must be a real number; got True"):
        call(True)
    with pytest.raises(ValueError, match=rf"^{name}: {arg} must be a real number; got nan"):
        call(math.nan)


@pytest.mark.parametrize(("name", "arg"), sorted(NUMERIC_OPTIONS))
def test_numeric_options_must_be_real_numbers(name, arg):
    assert_rejects_non_real(NUMERIC_OPTIONS[name, arg], name, arg)


def test_gelu_and_softplus_ops_applied_directly_use_pytorchs_defaults():
    x = np.array([-1.5, 0.3, 2.0])
    exact = x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    np.testing.assert_allclose(GELU.apply(Value(x)).data, exact, rtol=1e-12)
    assert Softplus.apply(Value(20.5)).item() == 20.5  # above threshold=20: x itself
    assert Softplus.apply(Value(19.5)).item() == pytest.approx(math.log1p(math.exp(19.5)))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_an_empty_value_is_empty_and_checks_its_axis(name):
    x = Value(np.ones((0, 3)))
    y = getattr(x, name)(axis=1)
    assert y.shape == (0, 3)
    y.sum().backward()
    assert x.grad.shape == (0, 3)
    with pytest.raises(ValueError, match=rf"^{name}: axis 2 is out of range for a Value with 2 "
                                         rf"dimension\(s\)$"):
        getattr(x, name)(axis=2)


def test_elu_op_applied_directly_has_alpha_one():
    np.testing.assert_allclose(ELU.apply(Value([-1.0, 2.0])).data, [math.expm1(-1.0), 2.0],
                               rtol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_shifts_each_row_by_its_own_maximum(name):
    # rows 1000 apart: one shift for the whole array would underflow the first row to 0/0
    x = Value([[0.0, 1.0], [1000.0, 1001.0]])
    y = getattr(x, name)(axis=1).data
    row = getattr(Value([0.0, 1.0]), name)().data
    np.testing.assert_allclose(y, [row, row], rtol=1e-12)


def test_celu_with_a_small_alpha_never_exponentiates_positive_inputs():
    # the negative branch is computed from min(x, 0), so e**(x/alpha) cannot overflow at
    # x > 0 (warnings are errors here)
    x = Value([0.9, 2.0, -1.0])
    np.testing.assert_allclose(F.celu(x, alpha=0.001).data, [0.9, 2.0, -0.001], rtol=1e-12)

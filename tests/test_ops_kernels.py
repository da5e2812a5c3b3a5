"""Kernels compute exactly what their docstrings' formulas say, on the inputs that take
their faster road and on those that do not."""

import tracemalloc

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.ops import kernels
from tinygrad_edu.optim import SGD

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 64), (2, 3, 100), (3, 63), (64,), (5,)])
def test_relu_is_max_x_0(shape, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    x.reshape(-1)[:3] = [0.0, np.nan, -np.inf]
    z = kernels.relu(x)
    assert z.dtype == dtype and z.shape == shape
    np.testing.assert_array_equal(z, np.maximum(x, 0))


@pytest.mark.parametrize("x", [np.float64(-1.5), np.float64(2.5), np.float32(0.0),
                               np.float32(-3.0), np.float64(np.nan)])
def test_relu_of_a_numpy_scalar_is_a_scalar_of_its_dtype(x):
    z = kernels.relu(x)
    assert type(z) is type(x)
    np.testing.assert_array_equal(z, np.maximum(x, 0))


@pytest.mark.parametrize("x", [np.linspace(-800.0, 800.0, 41), np.float64(-3.0),
                               np.float64(4.0), np.float32(-700.0), np.float64(0.0)])
def test_sigmoid_is_one_over_one_plus_exp_minus_x_without_overflow(x):
    z = kernels.sigmoid(x)  # warnings are errors: e**800 would overflow
    assert np.shape(z) == np.shape(x) and z.dtype == np.asarray(x).dtype
    with np.errstate(over="ignore"):
        expected = 1 / (1 + np.exp(-np.asarray(x, np.float64)))
    np.testing.assert_allclose(z, expected, rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize(("shape", "axis"), [((7, 3), 1), ((7, 3), 0), ((2, 3, 4), 1),
                                             ((5,), 0), ((1, 1), 1)])
def test_sum_along_is_sum(shape, axis):
    x = RNG.standard_normal(shape)
    np.testing.assert_allclose(kernels.sum_along(x, axis), x.sum(axis=axis), rtol=1e-14)


@pytest.mark.parametrize(("shape", "axis"), [((7, 3), 1), ((2, 3, 4), 1), ((5,), 0)])
def test_softmax_minus_onehot_is_the_same_on_arrays_and_on_values(shape, axis):
    x = RNG.standard_normal(shape)
    labels = RNG.integers(0, shape[axis], np.delete(shape, axis))
    onehot = np.moveaxis(np.eye(shape[axis])[labels], -1, axis)
    flat = np.flatnonzero(onehot)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    softmax = e / e.sum(axis=axis, keepdims=True)
    g = kernels.softmax_minus_onehot(x, axis, flat, e, e.sum(axis=axis))
    np.testing.assert_allclose(g, softmax - onehot, rtol=1e-12, atol=1e-15)
    recorded = kernels.softmax_minus_onehot(Value(x), axis, flat, None, None)
    assert isinstance(recorded, Value)
    np.testing.assert_allclose(recorded.data, softmax - onehot, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 5), (1, 1, 1, 1)])
def test_channel_dot_is_the_sum_of_products_over_every_axis_but_the_channels(shape):
    a, b = RNG.standard_normal(shape), RNG.standard_normal(shape)
    axes = (0,) + tuple(range(2, len(shape)))
    expected = (a * b).sum(axis=axes, keepdims=True)
    np.testing.assert_allclose(kernels.channel_dot(a, b), expected, rtol=1e-12)
    recorded = kernels.channel_dot(Value(a), Value(b))
    assert isinstance(recorded, Value)
    np.testing.assert_allclose(recorded.data, expected, rtol=1e-12)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("shape", [(5, 3), (4, 1), (2, 3, 4)])
def test_max_along_is_the_max_with_keepdims(shape, axis):
    x = RNG.standard_normal(shape)
    x.reshape(-1)[1] = np.inf
    z = kernels.max_along(x, axis)
    np.testing.assert_array_equal(z, x.max(axis=axis, keepdims=True))


@pytest.mark.parametrize("axis", [0, 1])
def test_sum_along_a_2d_array_or_a_value_is_the_sum(axis):
    x = RNG.standard_normal((6, 4))
    np.testing.assert_allclose(kernels.sum_along(x, axis), x.sum(axis=axis), rtol=1e-12)
    recorded = kernels.sum_along(Value(x), axis)
    assert isinstance(recorded, Value)
    np.testing.assert_allclose(recorded.data, x.sum(axis=axis), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5), (3, 5000), (20000,), (2, 3, 4000), ()])
def test_subtract_scaled_is_param_minus_lr_times_g_in_place(shape, dtype):
    param = RNG.standard_normal(shape).astype(dtype)
    g = RNG.standard_normal(shape).astype(dtype)
    expected = param - dtype(0.1) * g
    same = param
    kernels.subtract_scaled_(param, 0.1, g)
    assert param is same and param.dtype == dtype
    np.testing.assert_array_equal(param, expected)


def test_subtract_scaled_of_a_strided_parameter_is_the_formula():
    base = RNG.standard_normal((100, 400))
    param, g = base[:, ::2], RNG.standard_normal((100, 200))  # not contiguous
    expected = param - 0.5 * g
    kernels.subtract_scaled_(param, 0.5, g)
    np.testing.assert_array_equal(param, expected)
    np.testing.assert_array_equal(base[:, ::2], expected)  # written through the view


def test_sgd_updates_a_large_parameter_without_a_parameter_sized_temporary():
    p = Value(RNG.standard_normal((512, 256)))
    p.grad = RNG.standard_normal((512, 256))
    expected = p.data - 0.1 * p.grad
    opt = SGD([p], lr=0.1)
    tracemalloc.start()
    try:
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(p.data, expected)
    assert peak < p.data.nbytes // 4



@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_sum_along_keeps_float32_and_takes_negative_axes(axis):
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    out = kernels.sum_along(x, axis)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, x.sum(axis=axis), rtol=1e-6)


def test_softmax_minus_onehot_of_a_float32_value_stays_float32():
    x = Value(RNG.standard_normal((4, 3)), dtype=np.float32)
    g = kernels.softmax_minus_onehot(x, 1, np.array([0, 4, 8, 9]), None, None)
    assert g.dtype == np.float32


@pytest.mark.parametrize("value_first", [True, False])
def test_channel_dot_of_a_value_and_an_array_is_recorded(value_first):
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 3, 4))
    recorded = kernels.channel_dot(*((Value(a), b) if value_first else (a, Value(b))))
    assert isinstance(recorded, Value)
    np.testing.assert_allclose(recorded.data, (a * b).sum(axis=(0, 2), keepdims=True),
                               rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 64), (2, 3, 5), (7,)])
def test_relu_grad_is_grad_times_x_positive(shape, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    grad = RNG.standard_normal(shape).astype(dtype)
    x.reshape(-1)[:3] = [0.0, np.nan, -0.0]
    grad.reshape(-1)[3:5] = [np.inf, -2.0]
    x.reshape(-1)[3:5] = [-1.0, -1.0]  # inf * 0 and -2 * 0: nan and -0.0, as the formula
    with np.errstate(invalid="ignore"):
        expected = grad * (x > 0)
        z = kernels.relu_grad(grad, x)
    assert z.dtype == dtype and z.shape == shape
    np.testing.assert_array_equal(z, expected)
    assert np.array_equal(np.signbit(z), np.signbit(expected))


def test_relu_grad_of_values_and_mixed_dtypes_is_the_formula():
    x, grad = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(kernels.relu_grad(grad, x), grad * (x > 0))
    recorded = kernels.relu_grad(Value(grad), x)
    assert isinstance(recorded, Value)
    np.testing.assert_array_equal(recorded.data, grad * (x > 0))

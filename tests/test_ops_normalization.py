"""The BatchNorm op: one node, its written-out backward proved to second order."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.autograd import grad
from tinygrad_edu.functional.normalization import batch_norm
from tinygrad_edu.ops.normalization import BatchNorm, _input_grad, _scale_shift
from tinygrad_edu.testing import gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as ts

# N, C, then up to two spatial axes; size-1 axes included, but at least two values per
# channel, which training-mode statistics need
SHAPES = st.tuples(st.integers(1, 3), st.integers(1, 3),
                   st.lists(st.integers(1, 2), max_size=2)).map(
    lambda t: (t[0], t[1], *t[2])).filter(lambda s: math.prod(s[:1] + s[2:]) >= 2)
# distinct elements, so every channel has a variance well above eps
INPUTS = {"domain": ts.real(-4, 4), "gap": 0.2}


def reference(x, weight, bias, eps=1e-5):
    """The textbook formula in float64 NumPy."""
    axes = (0, *range(2, x.ndim))
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    x_hat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True)
                                                            + eps)
    return x_hat * weight.reshape(per_channel) + bias.reshape(per_channel)


def parameters(data, channels, dtype=np.float64):
    weight = Value(data.draw(ts.arrays((channels,), ts.positive(0.5, 2.0), dtype)))
    bias = Value(data.draw(ts.arrays((channels,), dtype=dtype)))
    return weight, bias


@given(shape=SHAPES, data=st.data())
def test_first_and_second_derivatives(shape, data):
    x = Value(data.draw(ts.arrays(shape, **INPUTS)))
    weight, bias = parameters(data, shape[1])

    def fn(x, w, b):
        return batch_norm(x, None, None, w, b, training=True)

    def squared(x, w, b):  # a recorded upstream gradient, 2 y, for the second derivative
        return (fn(x, w, b) ** 2).sum()

    np.testing.assert_allclose(fn(x, weight, bias).data,
                               reference(x.data, weight.data, bias.data), rtol=1e-10,
                               atol=1e-12)
    gradcheck(fn, x, weight, bias)
    gradgradcheck(fn, x, weight, bias)
    gradgradcheck(squared, x, weight, bias)


@given(shape=SHAPES, data=st.data())
def test_without_affine_parameters(shape, data):
    x = Value(data.draw(ts.arrays(shape, **INPUTS)))

    def fn(x):
        return batch_norm(x, None, None, training=True)

    ones, zeros = np.ones(shape[1]), np.zeros(shape[1])
    np.testing.assert_allclose(fn(x).data, reference(x.data, ones, zeros), rtol=1e-10, atol=1e-12)
    gradcheck(fn, x)
    gradgradcheck(fn, x)
    gradgradcheck(lambda x: (fn(x) ** 2).sum(), x)


@given(shape=SHAPES, data=st.data())
def test_eval_mode_derivatives(shape, data):
    x = Value(data.draw(ts.arrays(shape, **INPUTS)))
    weight, bias = parameters(data, shape[1])
    running_mean = data.draw(ts.arrays((shape[1],)))
    running_var = data.draw(ts.arrays((shape[1],), ts.positive(0.5, 2.0)))

    def fn(x, w, b):
        return batch_norm(x, running_mean, running_var, w, b)

    gradcheck(fn, x, weight, bias)
    gradgradcheck(lambda x, w, b: (fn(x, w, b) ** 2).sum(), x, weight, bias)


@given(shape=SHAPES, data=st.data())
def test_float32_matches_float64(shape, data):
    x64 = data.draw(ts.arrays(shape, **INPUTS))
    w64, b64 = (p.data for p in parameters(data, shape[1]))
    upstream = data.draw(ts.arrays(shape))
    results = {}
    for dtype in (np.float32, np.float64):
        x, w, b = (Value(a.astype(dtype)) for a in (x64, w64, b64))
        running = np.zeros(shape[1], dtype), np.ones(shape[1], dtype)
        y = batch_norm(x, *running, w, b, training=True)
        y.backward(upstream.astype(dtype))
        assert {y.dtype, x.grad.dtype, w.grad.dtype, b.grad.dtype} == {np.dtype(dtype)}
        assert {running[0].dtype, running[1].dtype} == {np.dtype(dtype)}
        results[dtype] = [y.data, x.grad, w.grad, b.grad, *running]
    for single, double in zip(results[np.float32], results[np.float64]):
        np.testing.assert_allclose(single, double, rtol=2e-4, atol=2e-4)


def test_is_one_node_with_the_parameters_as_inputs():
    x, w, b = Value(np.ones((2, 3)) * [[1], [2]]), Value(np.ones(3)), Value(np.zeros(3))
    y = batch_norm(x, np.zeros(3), np.ones(3), w, b, training=True)
    assert type(y.grad_fn) is BatchNorm
    assert y.grad_fn.inputs == (x, w, b)


def test_defaults_against_hand_computed_values():
    """eps = 1e-5 and momentum = 0.1: channel 0 holds 1, 3 (mean 2, var 1), channel 1
    holds 2, 6 (mean 4, var 4)."""
    x = Value(np.array([[1.0, 2.0], [3.0, 6.0]]))
    w, b = Value(np.ones(2)), Value(np.zeros(2))
    running_mean, running_var = np.zeros(2), np.ones(2)
    y = batch_norm(x, running_mean, running_var, w, b, training=True)
    sigma = np.sqrt([1.00001, 4.00001])
    np.testing.assert_allclose(y.data, [[-1, -2], [1, 2]] / sigma, rtol=1e-14)
    # (1 - 0.1) * old + 0.1 * batch, the variance unbiased: 2 and 8
    np.testing.assert_allclose(running_mean, [0.2, 0.4], rtol=1e-14)
    np.testing.assert_allclose(running_var, [0.9 + 0.2, 0.9 + 0.8], rtol=1e-14)
    # g = 1 on the first element only: mean(g) = 1/2, x̂ = ∓1/σ0, mean(g x̂) = -1/(2 σ0)
    y.backward(np.array([[1.0, 0.0], [0.0, 0.0]]))
    dx0 = 0.5 * (1 - 1 / 1.00001) / sigma[0]
    np.testing.assert_allclose(x.grad, [[dx0, 0.0], [-dx0, 0.0]], rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(w.grad, [-1 / sigma[0], 0.0], rtol=1e-14)
    np.testing.assert_allclose(b.grad, [1.0, 0.0], rtol=1e-14)
    # eval: the running statistics, eps = 1e-5 again
    y_eval = batch_norm(x, running_mean, running_var, w, b)
    expected = (x.data - [0.2, 0.4]) / np.sqrt([1.10001, 1.70001])
    np.testing.assert_allclose(y_eval.data, expected, rtol=1e-14)


def test_running_statistics_change_only_in_training():
    x = Value(np.array([[1.0, 2.0], [3.0, 6.0]]))
    running_mean, running_var = np.array([0.5, -0.5]), np.array([2.0, 3.0])
    batch_norm(x, running_mean, running_var)
    batch_norm(x, None, None, training=True)
    np.testing.assert_array_equal(running_mean, [0.5, -0.5])
    np.testing.assert_array_equal(running_var, [2.0, 3.0])
    batch_norm(x, running_mean, running_var, training=True, momentum=1.0)
    np.testing.assert_allclose(running_mean, [2.0, 4.0])
    np.testing.assert_allclose(running_var, [2.0, 8.0])


def test_without_running_statistics_eval_uses_the_batch():
    x = Value(np.array([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(batch_norm(x, None, None).data,
                               batch_norm(x, None, None, training=True).data)


@pytest.mark.parametrize("shape", [(0, 3), (1, 3), (1, 3, 1), (1, 2, 1, 1), (0, 2, 4, 4)])
def test_fewer_than_two_values_per_channel_in_training_is_an_error(shape):
    message = (rf"^batch_norm: training needs more than one value per channel to estimate a "
               rf"variance; got input of shape {re_shape(shape)}$")
    with pytest.raises(ValueError, match=message):
        batch_norm(Value(np.ones(shape)), np.zeros(shape[1]), np.ones(shape[1]), training=True)
    with pytest.raises(ValueError, match=message):
        batch_norm(Value(np.ones(shape)), None, None)


def test_an_empty_batch_in_eval_is_an_empty_output():
    y = batch_norm(Value(np.ones((0, 3))), np.zeros(3), np.ones(3))
    assert y.shape == (0, 3)


@pytest.mark.parametrize("shape", [(), (3,)])
def test_input_without_a_channel_axis_is_an_error(shape):
    with pytest.raises(ValueError, match=rf"^batch_norm: input must be \(N, C, \.\.\.\); got "
                                         rf"shape {re_shape(shape)}$"):
        batch_norm(Value(np.ones(shape)), None, None, training=True)


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


@pytest.mark.parametrize("shape", [(2, 0), (3, 0, 2, 2)])
def test_zero_channels_give_empty_outputs_and_gradients(shape):
    x, w, b = Value(np.ones(shape)), Value(np.ones(0)), Value(np.zeros(0))
    running_mean, running_var = np.zeros(0), np.ones(0)
    for training in (True, False):
        y = batch_norm(x, running_mean, running_var, w, b, training=training)
        y.backward(np.ones(shape))
        assert y.shape == x.grad.shape == shape and w.grad.shape == b.grad.shape == (0,)


def test_kernels_match_their_formulas_on_arrays_and_values():
    """_scale_shift and _input_grad compute their formulas in place for float32 arrays
    (kept float32, written over the centered temporary) and record them for Values."""
    rng = np.random.default_rng(0)
    g, centered = (rng.standard_normal((3, 2, 4)).astype(np.float32) for _ in range(2))
    scale, shift, slope = (rng.standard_normal((1, 2, 1)).astype(np.float32) for _ in range(3))
    cases = [(lambda c, first: _scale_shift(c, scale, shift), centered * scale + shift),
             (lambda c, first: _scale_shift(c, scale, None), centered * scale),
             (lambda c, first: _input_grad(first, c, scale, shift, slope),
              scale * (g - shift - centered * slope))]
    for kernel, expected in cases:
        temporary = centered.copy()
        got = kernel(temporary, g)
        assert got.dtype == np.float32 and np.shares_memory(got, temporary)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        recorded = kernel(Value(centered), Value(g))
        assert isinstance(recorded, Value)
        np.testing.assert_allclose(recorded.data, expected, rtol=1e-5, atol=1e-6)


def test_kernels_write_in_place_only_when_every_array_has_the_temporarys_dtype():
    """One float64 argument among float32 ones (a float64 weight or bias with a float32
    input promotes them), wherever it stands, sends _scale_shift and _input_grad to the
    operators: a float64 result of the formula, and the float32 temporary left alone."""
    rng = np.random.default_rng(1)
    g, centered = (rng.standard_normal((3, 2, 4)).astype(np.float32) for _ in range(2))
    scale, shift, slope = (rng.standard_normal((1, 2, 1)).astype(np.float32) for _ in range(3))
    cases = [(lambda a: _scale_shift(centered, *a), [scale, shift],
              lambda s, b: centered * s + b),
             (lambda a: _input_grad(a[0], centered, *a[1:]), [g, scale, shift, slope],
              lambda g, s, m, k: s * (g - m - centered * k))]
    for kernel, arrays, formula in cases:
        for k in range(len(arrays)):
            args = [a.astype(np.float64) if i == k else a for i, a in enumerate(arrays)]
            kept = centered.copy()
            got = kernel(args)
            assert got.dtype == np.float64
            np.testing.assert_allclose(got, formula(*args), rtol=1e-12)
            np.testing.assert_array_equal(centered, kept)


@pytest.mark.parametrize("shape", [(3, 2), (2, 3, 2, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_create_graph_gives_the_same_first_derivatives(shape, affine):
    """Under create_graph the backward recomputes x - mean and 1/σ as functions of x;
    gradgradcheck differentiates those gradients but never compares them with the plain
    ones, so this does."""
    rng = np.random.default_rng(2)
    x = Value(rng.normal(1.0, 2.0, shape))
    params = [Value(rng.uniform(0.5, 2.0, shape[1])), Value(rng.standard_normal(shape[1]))]
    params = params if affine else []
    upstream = rng.standard_normal(shape)
    y = batch_norm(x, None, None, *params, training=True)
    plain = grad(y, [x, *params], grad_outputs=upstream)
    recorded = grad(y, [x, *params], grad_outputs=upstream, create_graph=True)
    for p, r in zip(plain, recorded):
        assert isinstance(r, Value)
        np.testing.assert_allclose(r.data, p, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(50000, 3), (11, 3, 64, 64)])
def test_a_batch_larger_than_a_chunk_follows_the_formula(shape):
    """A float64 batch of a little over one chunk (1 MiB), so the last chunk is shorter
    than the others: the output, the running statistics and the gradients of every
    input against the formula written out."""
    rng = np.random.default_rng(3)
    axes = (0, *range(2, len(shape)))
    per_channel = (1, shape[1]) + (1,) * (len(shape) - 2)
    x = Value(rng.normal(1.0, 2.0, shape))
    w, b = Value(rng.uniform(0.5, 2.0, shape[1])), Value(rng.standard_normal(shape[1]))
    running_mean, running_var = np.zeros(shape[1]), np.ones(shape[1])
    y = batch_norm(x, running_mean, running_var, w, b, training=True)
    np.testing.assert_allclose(y.data, reference(x.data, w.data, b.data), rtol=1e-10,
                               atol=1e-12)
    m = x.data.size // shape[1]
    np.testing.assert_allclose(running_mean, 0.1 * x.data.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(running_var, 0.9 + 0.1 * x.data.var(axis=axes) * m / (m - 1),
                               rtol=1e-12)
    upstream = rng.standard_normal(shape)
    y.backward(upstream)
    mean = x.data.mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(x.data.var(axis=axes, keepdims=True) + 1e-5)
    x_hat = (x.data - mean) * inv_std
    dx = w.data.reshape(per_channel) * inv_std * (
        upstream - upstream.mean(axis=axes, keepdims=True)
        - x_hat * (upstream * x_hat).mean(axis=axes, keepdims=True))
    np.testing.assert_allclose(x.grad, dx, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(w.grad, (upstream * x_hat).sum(axis=axes), rtol=1e-10)
    np.testing.assert_allclose(b.grad, upstream.sum(axis=axes), rtol=1e-10)


def test_backward_returns_none_for_an_input_that_needs_no_gradient():
    """Normalizing data (an input that does not require grad) computes only the
    parameters' gradients: backward returns None for x."""
    rng = np.random.default_rng(4)
    x = Value(rng.standard_normal((4, 2, 3)), requires_grad=False)
    w, b = Value(rng.uniform(0.5, 2.0, 2)), Value(rng.standard_normal(2))
    y = batch_norm(x, None, None, w, b, training=True)
    upstream = rng.standard_normal(y.shape)
    dx, dw, db = y.grad_fn.backward(y.grad_fn, upstream)
    assert dx is None
    x_hat = reference(x.data, np.ones(2), np.zeros(2))
    np.testing.assert_allclose(dw, (upstream * x_hat).sum(axis=(0, 2)), rtol=1e-10)
    np.testing.assert_allclose(db, upstream.sum(axis=(0, 2)), rtol=1e-12)


def test_float64_parameters_with_a_float32_image_batch_act_per_channel():
    """A float64 weight and bias with a float32 (N, C, H, W) input: NumPy's promotion makes
    the output float64, and the shift still goes to each channel (axis 1), not to the
    last axis that a (C,) array would broadcast against."""
    rng = np.random.default_rng(5)
    x = Value(rng.standard_normal((2, 3, 2, 3)).astype(np.float32))
    w, b = Value(rng.uniform(0.5, 2.0, 3)), Value(rng.standard_normal(3))
    y = batch_norm(x, None, None, w, b, training=True)
    assert y.dtype == np.float64
    expected = reference(x.data.astype(np.float64), w.data, b.data)
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-5)


def test_evaluation_with_float64_running_statistics_keeps_a_float32_input_float32():
    x = Value(np.ones((4, 3), np.float32))
    y = batch_norm(x, np.zeros(3), np.full(3, 4.0), training=False)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, np.full((4, 3), (4.0 + 1e-5) ** -0.5), rtol=1e-6)

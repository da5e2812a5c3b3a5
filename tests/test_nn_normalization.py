"""BatchNorm: PyTorch's formulas and conventions, gradients proved to second order."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.functional.normalization import batch_norm
from tinygrad_edu.nn import BatchNorm1d, BatchNorm2d
from tinygrad_edu.testing import gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as ts


def reference(x, axes, weight, bias, eps=1e-5):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = [1] * x.ndim
    shape[1] = -1
    return (x - mean) / np.sqrt(var + eps) * weight.reshape(shape) + bias.reshape(shape)


@pytest.mark.parametrize(("cls", "shape", "axes"), [
    (BatchNorm1d, (6, 3), (0,)), (BatchNorm1d, (4, 3, 5), (0, 2)),
    (BatchNorm2d, (2, 3, 4, 5), (0, 2, 3)),
])
def test_training_normalizes_per_channel_and_updates_running_stats(cls, shape, axes):
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, shape)
    bn = cls(3, momentum=0.1)
    bn.weight.data[...] = [1.0, 2.0, 0.5]
    bn.bias.data[...] = [0.0, -1.0, 3.0]
    y = bn(Value(x, requires_grad=False))
    np.testing.assert_allclose(y.data, reference(x, axes, bn.weight.data, bn.bias.data))
    n = x.size // 3
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=axes))
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(axis=axes) * n / (n - 1))
    bn.eval()
    expected = (x - bn.running_mean.reshape([1, 3] + [1] * (x.ndim - 2))) / np.sqrt(
        bn.running_var.reshape([1, 3] + [1] * (x.ndim - 2)) + 1e-5)
    scale = bn.weight.data.reshape([1, 3] + [1] * (x.ndim - 2))
    shift = bn.bias.data.reshape([1, 3] + [1] * (x.ndim - 2))
    np.testing.assert_allclose(bn(Value(x)).data, expected * scale + shift)


@given(shape=st.sampled_from([(3, 2), (2, 2, 3), (2, 2, 2, 2)]), data=st.data())
def test_batch_norm_gradients_first_and_second_order(shape, data):
    x = Value(data.draw(ts.arrays(shape, gap=0.05, domain=ts.real(-3, 3))))
    w = Value(data.draw(ts.arrays((shape[1],), ts.positive(0.5, 2.0))))
    b = Value(data.draw(ts.arrays((shape[1],))))

    def fn(x, w, b):
        return batch_norm(x, None, None, w, b, training=True)

    gradcheck(fn, x, w, b)
    gradgradcheck(fn, x, w, b)


def test_without_tracking_uses_batch_stats_in_eval_too():
    bn = BatchNorm1d(2, track_running_stats=False, affine=False)
    bn.eval()
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_allclose(bn(Value(x)).data, reference(x, (0,), np.ones(2), np.zeros(2)))
    assert bn.weight is None and "running_mean" not in bn.state_dict()


def test_one_value_per_channel_in_training_is_an_error():
    with pytest.raises(ValueError, match=r"batch_norm: training needs more than one value per "
                                         r"channel .* shape \(1, 3\)"):
        BatchNorm1d(3)(Value(np.ones((1, 3))))
    BatchNorm1d(3).eval()(Value(np.ones((1, 3))))  # eval uses running stats: fine


def test_wrong_input_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected a 4-D input with 3 "
                                         r"channels on axis 1; got shape \(2, 3\)"):
        BatchNorm2d(3)(Value(np.ones((2, 3))))
    with pytest.raises(TypeError, match="BatchNorm1d normalizes over a batch"):
        BatchNorm1d(3)([Value(1.0)])


def test_a_non_float_dtype_is_refused_by_name():
    with pytest.raises(TypeError, match="BatchNorm1d: dtype must be a floating type such as "
                                        "float32 or float64; got int64"):
        BatchNorm1d(3, dtype=np.int64)


def test_default_eps_and_momentum_against_hand_computed_values():
    """BatchNorm2d(2) with no options: eps = 1e-5, momentum = 0.1. Channel 0 holds 1, 3
    (mean 2, biased var 1, unbiased 2), channel 1 holds 2, 6 (mean 4, var 4, unbiased 8)."""
    bn = BatchNorm2d(2)
    x = np.array([[1.0, 2.0], [3.0, 6.0]]).reshape(2, 2, 1, 1)
    y = bn(Value(x))
    sigma = np.sqrt([1.00001, 4.00001]).reshape(1, 2, 1, 1)
    np.testing.assert_allclose(y.data, np.array([[-1, -2], [1, 2]]).reshape(2, 2, 1, 1) / sigma,
                               rtol=1e-14)
    np.testing.assert_allclose(bn.running_mean, [0.2, 0.4], rtol=1e-14)
    np.testing.assert_allclose(bn.running_var, [1.1, 1.7], rtol=1e-14)
    assert bn.num_batches_tracked == 1
    bn.eval()
    expected = (x - np.reshape([0.2, 0.4], (1, 2, 1, 1))) / np.sqrt(
        np.reshape([1.10001, 1.70001], (1, 2, 1, 1)))
    np.testing.assert_allclose(bn(Value(x)).data, expected, rtol=1e-14)
    assert bn.num_batches_tracked == 1


@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d"])
def test_a_non_integer_num_features_is_refused_naming_the_layer_and_argument(name):
    cls = {"BatchNorm1d": BatchNorm1d, "BatchNorm2d": BatchNorm2d}[name]
    with pytest.raises(TypeError, match=rf"^{name}: num_features must be an int >= 1; got 2\.5 "
                       r"\(a float\)$"):
        cls(2.5)


def test_parameters_and_running_statistics_follow_dtype():
    bn = BatchNorm1d(3, dtype=np.float32)
    for array in (bn.weight, bn.bias, bn.running_mean, bn.running_var):
        assert array.dtype == np.float32
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked == 0


def test_without_affine_there_is_neither_weight_nor_bias():
    bn = BatchNorm1d(3, affine=False)
    assert bn.weight is None and bn.bias is None


def test_without_tracking_every_buffer_is_none():
    bn = BatchNorm1d(3, track_running_stats=False)
    assert bn.running_mean is None and bn.running_var is None
    assert bn.num_batches_tracked is None


def test_wrong_rank_error_lists_the_accepted_ranks_whole():
    with pytest.raises(ValueError, match=r"^BatchNorm1d\(3\): expected a 2-D or 3-D input with 3 "
                       r"channels on axis 1; got shape \(2, 3, 4, 5\)$"):
        BatchNorm1d(3)(Value(np.zeros((2, 3, 4, 5))))


def test_an_input_of_another_float_dtype_is_refused_naming_the_layer():
    with pytest.raises(TypeError, match=r"^BatchNorm2d: the input is float32 but the layer's "
                       r"parameters are float64; convert the input \(Value\(x, "
                       r"dtype=np\.float64\) or x\.astype\(np\.float64\)\) or build the layer "
                       r"with dtype=np\.float32$"):
        BatchNorm2d(2)(Value(np.ones((2, 2, 2, 2)), dtype=np.float32))


def test_a_float32_layer_normalizes_a_float32_input_in_float32():
    x = Value(np.arange(6.0).reshape(3, 2), dtype=np.float32)
    assert BatchNorm1d(2, dtype=np.float32)(x).dtype == np.float32


def test_num_batches_tracked_counts_every_training_batch():
    bn = BatchNorm1d(2)
    x = Value(np.arange(6.0).reshape(3, 2))
    bn(x)
    bn(x)
    assert bn.num_batches_tracked == 2


def test_the_given_momentum_and_eps_are_used():
    x = np.array([[0.0, 1.0], [2.0, 5.0]])
    bn = BatchNorm1d(2, momentum=0.5, eps=1.0)
    out = bn(Value(x)).data
    np.testing.assert_allclose(bn.running_mean, 0.5 * x.mean(axis=0))
    np.testing.assert_allclose(out, (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1.0))


@pytest.mark.parametrize("shape", [(5, 3), (5, 3, 4), (5, 3, 2, 3)])
def test_batch_norm_a_chunk_of_the_batch_at_a_time(monkeypatch, shape):
    """With chunks of one sample (as large activations take), the output, the running
    statistics, the gradients (also without weight and bias) and second derivatives
    still follow the formula; float32 stays float32."""
    from tinygrad_edu.ops import normalization
    monkeypatch.setattr(normalization, "_CHUNK_BYTES", 1)
    rng = np.random.default_rng(3)
    axes = (0, *range(2, len(shape)))
    x = Value(rng.normal(1.0, 2.0, shape))
    w, b = Value(rng.uniform(0.5, 2.0, 3)), Value(rng.standard_normal(3))
    running_mean, running_var = np.zeros(3), np.ones(3)
    y = batch_norm(x, running_mean, running_var, w, b, training=True)
    np.testing.assert_allclose(y.data, reference(x.data, axes, w.data, b.data), rtol=1e-12,
                               atol=1e-12)
    n = x.data.size // 3
    np.testing.assert_allclose(running_mean, 0.1 * x.data.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(running_var, 0.9 + 0.1 * x.data.var(axis=axes) * n / (n - 1),
                               rtol=1e-12)
    for args in ((w, b), (None, None)):
        def fn(x, *p, args=args):
            return batch_norm(x, None, None, *(p or args), training=True)

        parameters = [a for a in args if a is not None]
        gradcheck(fn, x, *parameters)
        gradgradcheck(lambda *a, fn=fn: (fn(*a) ** 2).sum(), x, *parameters)
    y32 = batch_norm(Value(x.data.astype(np.float32)), None, None,
                     Value(w.data.astype(np.float32)), Value(b.data.astype(np.float32)),
                     training=True)
    y32.sum().backward()
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32.data, y.data, rtol=1e-5, atol=1e-5)


def test_batch_norm_kernels_are_their_formulas_in_chunks(monkeypatch):
    """_centered_sums and the in-place _input_grad, one sample per chunk, against their
    formulas written out."""
    from tinygrad_edu.ops import normalization
    monkeypatch.setattr(normalization, "_CHUNK_BYTES", 1)
    rng = np.random.default_rng(4)
    x, g = rng.standard_normal((4, 3, 2, 5)), rng.standard_normal((4, 3, 2, 5))
    axes = (0, 2, 3)
    mean = x.mean(axis=axes, keepdims=True)
    centered, grad_sum, grad_dot = normalization._centered_sums(g, x, mean)
    np.testing.assert_allclose(centered, x - mean, rtol=1e-15)
    np.testing.assert_allclose(grad_sum, g.sum(axis=axes, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(grad_dot, (g * (x - mean)).sum(axis=axes, keepdims=True),
                               rtol=1e-12)
    scale, mean_grad, slope = (rng.standard_normal((1, 3, 1, 1)) for _ in range(3))
    dx = normalization._input_grad(g, centered, scale, mean_grad, slope)
    assert dx is centered
    np.testing.assert_allclose(dx, scale * (g - mean_grad - (x - mean) * slope), rtol=1e-12)
    # a view that is not contiguous is not written in place (its rows would be a copy)
    view = np.asfortranarray(x - mean)
    got = normalization._input_grad(g, view, scale, mean_grad, slope)
    np.testing.assert_allclose(got, scale * (g - mean_grad - (x - mean) * slope), rtol=1e-12)
    np.testing.assert_array_equal(view, x - mean)

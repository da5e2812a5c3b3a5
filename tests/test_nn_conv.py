"""Convolutional modules: PyTorch's layouts, initialization and options, the functions
they call, checked options, channel dropout, a small CNN that learns, and freezing a
module with requires_grad_."""

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim
from tinygrad_edu import functional as F
from tinygrad_edu.functional.conv import (
    adaptive_avg_pool2d,
    avg_pool2d,
    conv2d,
    max_pool2d,
)
from tinygrad_edu.rng import generator

IMAGES = Value(np.random.default_rng(0).standard_normal((2, 4, 6, 5)))


def test_conv2d_has_pytorchs_weight_layout_and_calls_conv2d():
    conv = nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=2,
                     seed=0)
    assert conv.weight.shape == (6, 2, 3, 2) and conv.bias.shape == (6,)
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]
    expected = conv2d(IMAGES, conv.weight, conv.bias, stride=(2, 1), padding=1,
                      dilation=(1, 2), groups=2)
    np.testing.assert_array_equal(conv(IMAGES).data, expected.data)
    assert (conv.kernel_size, conv.stride, conv.padding, conv.dilation) == (
        (3, 2), (2, 1), (1, 1), (1, 2))
    no_bias = nn.Conv2d(4, 6, 3, bias=False, seed=0)
    assert no_bias.bias is None and no_bias.parameters() == [no_bias.weight]
    assert len(no_bias(IMAGES).grad_fn.inputs) == 2  # no None input for graph views


def test_conv2d_default_init_is_pytorchs_uniform_over_the_fan_in():
    conv = nn.Conv2d(64, 32, 3, groups=2, seed=0)
    bound = 1 / np.sqrt(32 * 3 * 3)  # in_channels / groups * kH * kW
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert conv.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)
    assert conv.bias.data.std() > bound / 3  # the bias is drawn too, not zeros


def test_conv2d_init_seed_and_dtype_follow_linear():
    he = nn.Conv2d(16, 64, 3, init="he", seed=1)
    assert he.weight.data.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.03)
    np.testing.assert_array_equal(he.bias.data, np.zeros(64))
    np.testing.assert_array_equal(nn.Conv2d(2, 3, 2, seed=5).weight.data,
                                  nn.Conv2d(2, 3, 2, seed=5).weight.data)
    half = nn.Conv2d(2, 3, 2, seed=0, dtype=np.float32)
    assert half.weight.dtype == half.bias.dtype == np.float32
    assert half(Value(np.ones((1, 2, 3, 3)), dtype=np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match=r"Conv2d: the input is float64 but the layer's "
                                        r"parameters are float32"):
        half(Value(np.ones((1, 2, 3, 3))))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: nn.Conv2d(0, 2, 3), ValueError, r"Conv2d: in_channels must be an int >= 1; "
                                                 r"got 0"),
        (lambda: nn.Conv2d(2, 2.0, 3), TypeError, r"Conv2d: out_channels must be an int"),
        (lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError,
         r"Conv2d: groups=4 must divide both in_channels=4 and out_channels=6"),
        (lambda: nn.Conv2d(2, 2, 0), ValueError, r"Conv2d: kernel_size must be >= 1; got 0"),
        (lambda: nn.Conv2d(2, 2, 3, stride=(1,)), TypeError,
         r"Conv2d: stride must be an int or a pair of ints \(H, W\); got \(1,\)"),
        (lambda: nn.Conv2d(2, 2, 3, padding=-1), ValueError,
         r"Conv2d: padding must be >= 0; got -1"),
        (lambda: nn.MaxPool2d(2, stride=0), ValueError, r"MaxPool2d: stride must be >= 1"),
        (lambda: nn.AvgPool2d((2, 2.5)), TypeError, r"AvgPool2d: kernel_size must be an int"),
        (lambda: nn.AdaptiveAvgPool2d((0, None)), ValueError,
         r"AdaptiveAvgPool2d: output_size must be >= 1; got \(0, None\)"),
        (lambda: nn.AdaptiveAvgPool2d("1"), TypeError,
         r"AdaptiveAvgPool2d: output_size must be an int, None or a pair of those"),
        (lambda: nn.Dropout2d(-0.1), ValueError, r"Dropout2d: p is the probability"),
    ],
)
def test_options_are_checked_when_the_module_is_built(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_conv2d_says_when_the_input_does_not_fit():
    with pytest.raises(ValueError, match=r"conv2d: the input has 3 channels, but a weight "
                                         r"of shape \(6, 4, 3, 3\)"):
        nn.Conv2d(4, 6, 3, seed=0)(Value(np.ones((1, 3, 5, 5))))


def test_pooling_modules_call_the_functions_with_the_kernel_as_default_stride():
    assert nn.MaxPool2d(2).stride == (2, 2) and nn.AvgPool2d(3, 1).stride == (1, 1)
    np.testing.assert_array_equal(nn.MaxPool2d(2)(IMAGES).data, max_pool2d(IMAGES, 2).data)
    np.testing.assert_array_equal(nn.AvgPool2d(3, 2, 1)(IMAGES).data,
                                  avg_pool2d(IMAGES, 3, 2, 1).data)
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d((None, 2))(IMAGES).data,
                                  adaptive_avg_pool2d(IMAGES, (6, 2)).data)
    assert nn.AdaptiveAvgPool2d(1)(IMAGES).shape == (2, 4, 1, 1)


def test_reprs_show_pytorchs_options():
    assert repr(nn.Conv2d(4, 8, 3, padding=1, seed=0)) == (
        "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))")
    assert repr(nn.Conv2d(4, 8, 3, groups=2, bias=False, seed=0)) == (
        "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), groups=2, bias=False)")
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), " \
                                    "padding=(0, 0))"
    assert repr(nn.AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)"
    assert repr(nn.Dropout2d(0.2)) == "Dropout2d(p=0.2)"


def test_dropout2d_drops_whole_maps_in_training_only():
    drop = nn.Dropout2d(0.5, seed=0)
    x = Value(np.ones((8, 16, 3, 3)))
    y = drop(x).data.reshape(128, 9)
    assert np.all(y.min(axis=1) == y.max(axis=1))
    assert 0.3 < (y[:, 0] == 0).mean() < 0.7
    np.testing.assert_array_equal(nn.Dropout2d(0.5, seed=0)(x).data.reshape(128, 9), y)
    assert drop.eval()(x) is x
    np.testing.assert_array_equal(F.dropout(x, 0.0).data, x.data)


def test_fractional_max_pool2d_and_stochastic_depth_modules():
    pool = nn.FractionalMaxPool2d(2, output_ratio=0.5, seed=0)
    assert pool(IMAGES).shape == (2, 4, 3, 2)
    assert repr(pool) == "FractionalMaxPool2d(kernel_size=(2, 2), output_ratio=0.5)"
    assert repr(nn.FractionalMaxPool2d(3, 2)) == ("FractionalMaxPool2d(kernel_size=(3, 3), "
                                                  "output_size=(2, 2))")
    again = nn.FractionalMaxPool2d(2, output_ratio=0.5, seed=0)
    np.testing.assert_array_equal(again(IMAGES).data, nn.FractionalMaxPool2d(
        2, output_ratio=0.5, seed=0)(IMAGES).data)
    drop = nn.StochasticDepth(0.5, "row", seed=0)
    y = drop(IMAGES).data.reshape(2, -1)
    assert repr(drop) == "StochasticDepth(p=0.5, mode=row)"
    np.testing.assert_array_equal(y[0], 2 * IMAGES.data[0].ravel())  # this seed keeps one
    np.testing.assert_array_equal(y[1], np.zeros(y.shape[1]))  # and drops the other
    assert drop.eval()(IMAGES) is IMAGES


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: nn.FractionalMaxPool2d(2), r"FractionalMaxPool2d: give exactly one of "
                                             r"output_size and output_ratio"),
        (lambda: nn.FractionalMaxPool2d(2, 0), r"FractionalMaxPool2d: output_size must be "
                                                r">= 1; got 0"),
        (lambda: nn.StochasticDepth(-0.5), r"stochastic_depth: p is the probability"),
        (lambda: nn.StochasticDepth(0.5, "rows"), r"stochastic_depth: mode must be 'row' or "
                                                  r"'batch'; got 'rows'"),
    ],
)
def test_random_regularizers_check_their_options_when_built(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def _bars(n, rng):
    """Images with one bright row (label 0) or one bright column (label 1), plus noise."""
    labels = rng.integers(0, 2, n)
    x = rng.normal(0, 0.3, (n, 1, 6, 6))
    where = rng.integers(0, 6, n)
    for i in range(n):
        if labels[i]:
            x[i, 0, :, where[i]] += 2.0
        else:
            x[i, 0, where[i], :] += 2.0
    return Value(x, requires_grad=False), labels


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding=1, seed=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2, seed=2))


def test_a_small_cnn_learns_rows_from_columns():
    rng = np.random.default_rng(0)
    model = _cnn()
    opt = optim.Adam(model.parameters(), lr=0.03)
    for _ in range(60):
        x, y = _bars(32, rng)
        loss = F.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        opt.step()
    x, y = _bars(200, rng)
    model.eval()
    assert (model(x).data.argmax(axis=1) == y).mean() >= 0.95
    state = model.state_dict()
    # PyTorch's names, shapes and dtypes for the same nn.Sequential, so it loads there
    assert {k: (v.shape, v.dtype.name) for k, v in state.items()} == {
        "0.weight": ((4, 1, 3, 3), "float64"), "0.bias": ((4,), "float64"),
        "1.weight": ((4,), "float64"), "1.bias": ((4,), "float64"),
        "1.running_mean": ((4,), "float64"), "1.running_var": ((4,), "float64"),
        "1.num_batches_tracked": ((), "int64"),
        "4.weight": ((4, 4, 3, 3), "float64"), "4.bias": ((4,), "float64"),
        "8.weight": ((2, 4), "float64"), "8.bias": ((2,), "float64")}
    assert state["1.num_batches_tracked"] == 60  # one per training step, none in eval


def test_batch_norm_counts_its_training_batches_as_pytorch():
    bn = nn.BatchNorm2d(4)
    for _ in range(3):
        bn(IMAGES)
    bn.eval()(IMAGES)
    assert bn.num_batches_tracked == 3 and bn.num_batches_tracked.dtype == np.int64
    copy = nn.BatchNorm2d(4)
    copy.load_state_dict(bn.state_dict())
    assert copy.num_batches_tracked == 3
    untracked = nn.BatchNorm2d(4, track_running_stats=False)
    untracked(IMAGES)
    assert list(untracked.state_dict()) == ["weight", "bias"]


def test_requires_grad_false_freezes_a_module_and_true_unfreezes_it():
    model = _cnn()
    features = model[0]
    assert features.requires_grad_(False) is features
    assert not any(p.requires_grad for p in features.parameters())
    before = features.weight.data.copy()
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = _bars(8, np.random.default_rng(1))
    F.cross_entropy(model(x), y).backward()
    opt.step()
    assert features.weight.grad is None and features.bias.grad is None
    np.testing.assert_array_equal(features.weight.data, before)
    assert model[-1].weight.grad is not None
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_conv2d_refuses_bad_groups_and_dilation_naming_them():
    with pytest.raises(ValueError, match=r"^Conv2d: groups must be an int >= 1; got 0$"):
        nn.Conv2d(2, 2, 3, groups=0)
    with pytest.raises(ValueError, match=r"^Conv2d: dilation must be >= 1; got 0$"):
        nn.Conv2d(2, 2, 3, dilation=0)
    with pytest.raises(TypeError, match=r"^Conv2d: dilation must be an int or a pair of ints "
                                        r"\(H, W\); got \(1, 2, 3\)$"):
        nn.Conv2d(2, 2, 3, dilation=(1, 2, 3))


def test_pooling_modules_refuse_a_negative_padding_naming_it():
    with pytest.raises(ValueError, match=r"^MaxPool2d: padding must be >= 0; got -1$"):
        nn.MaxPool2d(2, padding=-1)
    with pytest.raises(TypeError, match=r"^AvgPool2d: padding must be an int or a pair of ints "
                                        r"\(H, W\); got 'same'$"):
        nn.AvgPool2d(2, padding="same")


def test_fractional_max_pool2d_refuses_a_bad_kernel_size_naming_it():
    with pytest.raises(ValueError, match=r"^FractionalMaxPool2d: kernel_size must be >= 1; "
                                         r"got 0$"):
        nn.FractionalMaxPool2d(0, output_size=2)


def test_a_one_by_one_pooling_window_is_allowed():
    x = Value(np.random.default_rng(0).standard_normal((1, 2, 4, 4)))
    np.testing.assert_array_equal(nn.MaxPool2d(1)(x).data, x.data)
    assert nn.FractionalMaxPool2d(1, output_size=2, seed=0)(x).shape == (1, 2, 2, 2)


def test_max_pool2d_module_passes_its_stride_and_padding():
    np.testing.assert_array_equal(nn.MaxPool2d(2, stride=1)(IMAGES).data,
                                  max_pool2d(IMAGES, 2, 1).data)
    np.testing.assert_array_equal(nn.MaxPool2d(3, 2, 1)(IMAGES).data,
                                  max_pool2d(IMAGES, 3, 2, 1).data)


def test_fractional_max_pool2d_with_a_seed_repeats_its_sequence_of_draws():
    x = Value(np.random.default_rng(1).standard_normal((1, 1, 16, 16)))
    first, second = (nn.FractionalMaxPool2d(2, output_size=5, seed=0) for _ in range(2))
    calls = [first(x).data for _ in range(3)]
    for out in calls:
        np.testing.assert_array_equal(second(x).data, out)
    assert not np.array_equal(calls[0], calls[1])  # fresh windows at every call


def test_building_stochastic_depth_draws_nothing_from_the_default_generator():
    default = generator()
    state = default.bit_generator.state  # compared, never reseeded: later tests draw on
    nn.StochasticDepth(0.5)
    nn.StochasticDepth(0.5, "batch")
    assert generator() is default and default.bit_generator.state == state

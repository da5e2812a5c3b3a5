"""The kernels behind conv2d and the pools (tinygrad_edu.ops.conv): each way of computing a
convolution or a pooling against its definition written out, whichever way the sizes
select, with first and second derivatives."""

import itertools

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.functional.conv import conv2d, max_pool2d
from tinygrad_edu.ops import conv as conv_ops
from tinygrad_edu.testing import gradcheck, gradgradcheck


def correlate(x, w, b, padding, dilation, groups):
    """conv2d with stride 1 by its definition: a sum over kernel cells of shifted inputs."""
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    ho, wo = h + 2 * padding[0] - dilation[0] * (kh - 1), wd + 2 * padding[1] - dilation[1] * (
        kw - 1)
    y = np.zeros((n, o, ho, wo)) + (0.0 if b is None else b.reshape(-1, 1, 1))
    per_group = o // groups
    for oc, ci, a, bb in itertools.product(range(o), range(cg), range(kh), range(kw)):
        channel = oc // per_group * cg + ci
        rows, cols = a * dilation[0], bb * dilation[1]
        y[:, oc] += w[oc, ci, a, bb] * xp[:, channel, rows:rows + ho, cols:cols + wo]
    return y


# (x shape, weight shape, padding, dilation, groups): stride-1 convolutions whose columns
# are larger than their output, with output rows from 8 to 15 pixels
FLAT = [((2, 4, 9, 11), (2, 4, 3, 3), (1, 1), (1, 1), 1),
        ((2, 6, 10, 12), (4, 3, 3, 2), (0, 2), (2, 1), 2),
        ((1, 3, 10, 10), (2, 3, 3, 3), (3, 3), (1, 1), 1),  # padding wider than the kernel
        ((1, 8, 12, 12), (3, 8, 5, 5), (2, 2), (1, 1), 1)]


@pytest.fixture
def few_channels(monkeypatch):
    """Flat rows for the few channels per group of shapes small enough for gradcheck."""
    monkeypatch.setattr(conv_ops, "_CELL_CHANNELS", 1)


@pytest.mark.parametrize("xs, ws, padding, dilation, groups", FLAT)
def test_flat_rows_are_taken_and_give_the_definition(few_channels, xs, ws, padding, dilation,
                                                     groups):
    """These sizes take flat rows (forward, the input's gradient as a correlation, the
    weight's gradient); values and gradients are the definition's, to second order."""
    assert conv_ops._flat_rows(xs[2:], ws[2:], (1, 1), padding, dilation, xs[1], ws[0], groups)
    rng = np.random.default_rng(0)
    x, w, b = (Value(rng.standard_normal(s)) for s in (xs, ws, (ws[0],)))
    options = dict(padding=padding, dilation=dilation, groups=groups)
    y = conv2d(x, w, b, **options)
    np.testing.assert_allclose(y.data, correlate(x.data, w.data, b.data, padding, dilation,
                                                 groups), rtol=1e-12, atol=1e-12)
    gradcheck(lambda *a: conv2d(*a, **options), x, w, b)
    gradgradcheck(lambda *a: (conv2d(*a, **options) ** 2).sum(), x, w, b)


def test_flat_rows_image_by_image_and_in_thin_products(few_channels, monkeypatch):
    """With a chunk per image and products cut into single rows or columns, flat rows
    still give the definition, float32 stays float32."""
    monkeypatch.setattr(conv_ops, "_CHUNK_BYTES", 1)
    monkeypatch.setattr(conv_ops, "_ONE_THREAD", 1)
    rng = np.random.default_rng(1)
    xs, ws, padding, dilation, groups = FLAT[1]
    x, w, b = (Value(rng.standard_normal(s)) for s in (xs, ws, (ws[0],)))
    options = dict(padding=padding, dilation=dilation, groups=groups)
    np.testing.assert_allclose(conv2d(x, w, b, **options).data,
                               correlate(x.data, w.data, b.data, padding, dilation, groups),
                               rtol=1e-12, atol=1e-12)
    gradcheck(lambda *a: conv2d(*a, **options), x, w, b)
    x32, w32 = (Value(v.data.astype(np.float32)) for v in (x, w))
    y32 = conv2d(x32, w32, **options)
    y32.sum().backward()
    assert y32.dtype == x32.grad.dtype == w32.grad.dtype == np.float32


@pytest.mark.parametrize("groups", [1, 2])
def test_flat_rows_at_the_benchmarks_size_match_im2col(monkeypatch, groups):
    """The 28x28 CNN's second convolution (as the default rule selects it) and a grouped
    one: values and both gradients as im2col's columns give them."""
    rng = np.random.default_rng(7)
    x, w, b = (rng.standard_normal(s) for s in ((4, 32, 14, 14), (32, 32 // groups, 3, 3), (32,)))
    g = rng.standard_normal((4, 32, 14, 14))
    assert conv_ops._flat_rows((14, 14), (3, 3), (1, 1), (1, 1), (1, 1), 32, 32, groups)

    def run():
        xv, wv, bv = Value(x), Value(w), Value(b)
        y = conv2d(xv, wv, bv, padding=1, groups=groups)
        y.backward(g)
        return y.data, xv.grad, wv.grad

    flat = run()
    monkeypatch.setattr(conv_ops, "_FLAT_ROW", 0)
    for got, expected in zip(flat, run()):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("flat_row", [None, 0])
def test_a_wider_bias_is_added_after_the_products_on_flat_rows_as_with_columns(
        monkeypatch, flat_row):
    """float32 x and w with a float64 bias: the products are summed in float32 and the bias
    added to that sum in float64, on flat rows as with im2col's columns (H-mut found flat
    rows summing the products in float64)."""
    if flat_row is not None:
        monkeypatch.setattr(conv_ops, "_FLAT_ROW", flat_row)
    rng = np.random.default_rng(8)
    x, w = (Value(rng.standard_normal(s).astype(np.float32))
            for s in ((2, 16, 10, 10), (4, 16, 3, 3)))
    b = Value(rng.standard_normal(4))
    assert conv_ops._flat_rows((10, 10), (3, 3), (1, 1), (1, 1), (1, 1), 16, 4, 1) == (
        flat_row is None)
    y = conv2d(x, w, b, padding=1)
    assert y.dtype == np.float64
    assert y.data.tobytes() == (conv2d(x, w, padding=1).data + b.data[:, None, None]).tobytes()


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_weight_gradient_of_an_input_with_inf_or_nan_skips_flat_rows(few_channels, bad):
    """The flat runs hold other pixels past each output row, multiplied by zeros of g: an
    inf or NaN there would put a NaN into kernel cells that never see it. Such an input's
    weight gradient takes im2col's columns, whose kernel column 0 stays finite."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 9, 11))
    x[:, :, :, -1] = bad  # the last column: never under kernel column 0 with padding 0
    g = rng.standard_normal((2, 2, 7, 9))
    options = ((1, 1), (0, 0), (1, 1), 1)
    assert conv_ops._flat_rows((9, 11), (3, 3), *options[:3], 4, 2, 1)
    with np.errstate(invalid="ignore"):  # the last kernel column sums infs of both signs
        gw = conv_ops._weight_grad(x, g, (3, 3), *options, None)
        flat = conv_ops._weight_grad_flat(x, g, (3, 3), (0, 0), (1, 1), 1)
    expected = np.zeros((2, 4, 3, 3))
    for a, bb in itertools.product(range(3), range(2)):
        expected[:, :, a, bb] = np.einsum("nohw,nchw->oc", g, x[:, :, a:a + 7, bb:bb + 9])
    np.testing.assert_allclose(gw[:, :, :, :2], expected[:, :, :, :2], rtol=1e-12)
    assert not np.isfinite(gw[:, :, :, 2]).any()
    assert not np.isfinite(flat[:, :, :, 0]).all()  # what the flat runs would have given


def test_flat_rows_are_not_taken_where_im2col_is_cheaper():
    """Other strides, few input channels per group or per output channel, rows short
    enough to gather by index, and long rows keep im2col's columns."""
    assert not conv_ops._flat_rows((12, 12), (3, 3), (2, 2), (1, 1), (1, 1), 32, 2, 1)
    assert not conv_ops._flat_rows((12, 12), (3, 3), (1, 1), (1, 1), (1, 1), 1, 16, 1)
    assert not conv_ops._flat_rows((12, 12), (3, 3), (1, 1), (1, 1), (1, 1), 32, 32, 32)
    assert not conv_ops._flat_rows((12, 12), (1, 1), (1, 1), (0, 0), (1, 1), 32, 64, 1)
    assert not conv_ops._flat_rows((4, 4), (3, 3), (1, 1), (1, 1), (1, 1), 16, 32, 1)
    assert not conv_ops._flat_rows((28, 28), (3, 3), (1, 1), (1, 1), (1, 1), 32, 32, 1)
    assert conv_ops._flat_rows((14, 14), (3, 3), (1, 1), (1, 1), (1, 1), 32, 32, 1)


@pytest.mark.parametrize("kernel, stride, padding", [
    ((3, 2), (1, 2), (1, 1)), ((1, 1), (1, 1), (0, 0)), ((2, 2), (2, 2), (0, 0))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunk_bytes", [None, 1])
@pytest.mark.parametrize("short_row, index_most", [(None, None), (0, None), (100, None),
                                                   (100, 0)])
def test_window_max_picks_pytorchs_cell_and_routes_the_gradient_there(
        monkeypatch, kernel, stride, padding, dtype, chunk_bytes, short_row, index_most):
    """_window_max's choice (the count of leading cells that differ from the maximum, or
    the last NaN) against a loop over each window, with many ties and some NaNs, in one
    chunk or image by image; max pooling's gradient lands on that cell, in the input's
    dtype. Every row is long (strided views and writes), or short (cells gathered and the
    gradient written through a flat index), or short with too large an index."""
    for name, value in (("_POOL_CHUNK_BYTES", chunk_bytes), ("_SHORT_ROW", short_row),
                        ("_INDEX_MOST", index_most)):
        if value is not None:
            monkeypatch.setattr(conv_ops, name, value)
    rng = np.random.default_rng(6)
    data = rng.integers(0, 2, (2, 3, 7, 8)).astype(dtype)
    data[rng.random(data.shape) < 0.03] = np.nan
    out_size = conv_ops._output_size(data.shape[2:], kernel, stride, padding, (1, 1))
    best, choice = conv_ops._window_max(data, kernel, stride, padding, out_size)
    padded = np.pad(data, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2),
                    constant_values=-np.inf)
    expected = np.zeros(data.shape, dtype)
    for n, c, i, j in np.ndindex(*best.shape):
        window = padded[n, c, i * stride[0]:i * stride[0] + kernel[0],
                        j * stride[1]:j * stride[1] + kernel[1]].reshape(-1)
        nans = np.flatnonzero(np.isnan(window))
        k = nans[-1] if len(nans) else int(np.argmax(window))  # argmax: the first maximum
        assert choice[n, c, i, j] == k
        row, col = i * stride[0] + k // kernel[1], j * stride[1] + k % kernel[1]
        expected[n, c, row - padding[0], col - padding[1]] += 1
    x = Value(data)
    y = max_pool2d(x, kernel, stride=stride, padding=padding)
    y.sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad, expected)


@pytest.mark.parametrize("short_row", [0, 100])
@pytest.mark.parametrize("kernel, stride, padding", [
    ((2, 2), (2, 2), (0, 0)), ((3, 2), (2, 3), (1, 1)), ((3, 3), (1, 1), (1, 0))])
def test_max_pool2d_second_derivatives_pick_the_same_cells(monkeypatch, short_row, kernel,
                                                           stride, padding):
    """The gradient's own gradient picks the cells the forward picked (MaxPool2d given
    its choice, through the flat index of the picked cells), on long and short rows."""
    monkeypatch.setattr(conv_ops, "_SHORT_ROW", short_row)
    rng = np.random.default_rng(7)
    x = Value(rng.permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8) * 0.1 - 1.0)
    gradgradcheck(lambda x: max_pool2d(x, kernel, stride=stride, padding=padding) ** 2, x)


@pytest.mark.parametrize("short_row", [0, 100])
@pytest.mark.parametrize("kernel, stride", [((2, 2), (2, 2)), ((2, 2), (1, 1))])
def test_max_pool2d_gradient_is_zero_where_no_window_picks_whatever_the_upstream(
        monkeypatch, short_row, kernel, stride):
    """An infinite or negative upstream gradient reaches only the picked inputs: the
    others get +0.0, not g * 0 (NaN for inf, -0.0 for a negative g), as in PyTorch, on
    every road of the scatter (H-mut's finding; failed before on the strided ones)."""
    monkeypatch.setattr(conv_ops, "_SHORT_ROW", short_row)
    x = Value(np.arange(4.0 * 8).reshape(1, 1, 4, 8))  # each window's maximum: bottom right
    y = max_pool2d(x, kernel, stride=stride)
    g = np.ones(y.shape)
    g[0, 0, 0, 0], g[0, 0, 0, 1] = np.inf, -1.0
    y.backward(g)
    expected = np.zeros(x.shape)
    for i, j in np.ndindex(*y.shape[2:]):
        expected[0, 0, i * stride[0] + 1, j * stride[1] + 1] += g[0, 0, i, j]
    np.testing.assert_array_equal(x.grad, expected)
    assert not np.signbit(x.grad[expected == 0]).any()

"""What every internal road of the convolution and pooling ops keeps, whichever one the
sizes select (tinygrad_edu.ops.conv): the dtype NumPy's promotion gives, a weight gradient
summed over its chunks of images in their order, and max pooling's choice of cell for
kernels of any size or padding."""

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.functional.conv import conv2d, max_pool2d
from tinygrad_edu.ops import conv as conv_ops
from tinygrad_edu.ops.conv import Conv2d, Conv2dWeight, ConvTranspose2d, WindowScatter

ONE = (1, 1)
# (x shape, weight shape, padding): a convolution by im2col's columns and one by flat rows
# (stride 1, 16 channels, output rows of 10 pixels: see conv_ops._flat_rows)
IM2COL = ((5, 3, 8, 10), (4, 3, 3, 3), (0, 0))
FLAT = ((5, 16, 10, 10), (4, 16, 3, 3), (1, 1))


def _options(padding, stride=ONE):
    return dict(stride=stride, padding=padding, dilation=ONE, groups=1)


def _data(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("xs, ws, padding", [IM2COL, FLAT])
@pytest.mark.parametrize("stride", [ONE, (2, 2)])
def test_each_conv_op_keeps_float32_data_float32(xs, ws, padding, stride):
    """conv2d, its input's gradient (a correlation with stride 1, col2im with stride 2)
    and its weight's gradient (columns or flat rows), each op on its own."""
    options = _options(padding, stride)
    x, w = Value(_data(xs, np.float32, 0)), Value(_data(ws, np.float32, 1))
    y = Conv2d.apply(x, w, **options)
    g = Value(_data(y.shape, np.float32, 2))
    gx = ConvTranspose2d.apply(g, w, input_size=xs[2:], **options)
    gw = Conv2dWeight.apply(x, g, kernel_size=ws[2:], **options)
    assert [v.dtype for v in (y, gx, gw)] == [np.float32] * 3
    assert gx.shape == xs and gw.shape == ws


@pytest.mark.parametrize("xs, ws, padding", [IM2COL, FLAT])
def test_conv_ops_promote_mixed_dtypes_as_numpy_does(xs, ws, padding):
    """A float64 input or weight among float32 operands makes the products float64, as
    x * w would: the float64 result (float32 values promote exactly). A float64 bias with
    float32 x and w is added to their float32 convolution, as conv2d(x, w) + b would."""
    options = _options(padding)
    x32, w32, b32 = (_data(s, np.float32, seed) for seed, s in enumerate([xs, ws, ws[:1]]))
    x64, w64, b64 = (a.astype(np.float64) for a in (x32, w32, b32))
    expected = Conv2d.apply(Value(x64), Value(w64), **options).data
    for x, w, b in [(x64, w32, None), (x32, w64, None), (x64, w32, b32), (x32, w64, b32)]:
        y = Conv2d.apply(Value(x), Value(w), *([] if b is None else [Value(b)]), **options)
        assert y.dtype == np.float64
        with_bias = expected if b is None else expected + b64[:, None, None]
        np.testing.assert_allclose(y.data, with_bias, rtol=1e-12, atol=1e-12)
    y = Conv2d.apply(Value(x32), Value(w32), Value(b64), **options)
    assert y.dtype == np.float64
    single = Conv2d.apply(Value(x32), Value(w32), **options).data
    assert y.data.tobytes() == (single + b64[:, None, None]).tobytes()
    g32 = _data(expected.shape, np.float32, 3)
    g64 = g32.astype(np.float64)
    expected = Conv2dWeight.apply(Value(x64), Value(g64), kernel_size=ws[2:], **options).data
    for x, g in [(x64, g32), (x32, g64)]:
        gw = Conv2dWeight.apply(Value(x), Value(g), kernel_size=ws[2:], **options)
        assert gw.dtype == np.float64
        np.testing.assert_allclose(gw.data, expected, rtol=1e-12, atol=1e-12)


# Bytes per chunk of images (conv_ops._CHUNK_BYTES) for two images per chunk of the weight
# gradient: IM2COL's columns take 3 * 3 * 3 * 6 * 8 float32s (5184 bytes) per image; FLAT's
# flat-row products 4 * 10 * 11 float32s (1760 bytes), in chunks of half the budget
# a 3x2 kernel: 3 * 3 * 2 * 6 * 9 float32s (3888 bytes) per image
NOT_SQUARE = ((5, 3, 8, 10), (4, 3, 3, 2), (0, 0))
TWO_IMAGES = {IM2COL: 2 * 5184 + 100, FLAT: 2 * (2 * 1760 + 100), NOT_SQUARE: 2 * 3888 + 100}


@pytest.mark.parametrize("xs, ws, padding", [IM2COL, FLAT, NOT_SQUARE])
def test_the_weight_gradient_adds_its_chunks_of_images_in_order(xs, ws, padding,
                                                                 monkeypatch):
    """The weight's gradient over a batch is summed a chunk of images at a time, as many
    images as fit in the budget and the rest in the last chunk, the chunks' sums added in
    their order: bit for bit the gradients of those parts of the batch added in order,
    so every run (any thread count) trains the same weights. In float32 throughout."""
    monkeypatch.setattr(conv_ops, "_CHUNK_BYTES", TWO_IMAGES[(xs, ws, padding)])
    x, w = _data(xs, np.float32, 4), _data(ws, np.float32, 5)
    upstream = _data((len(x), ws[0], *_output_size(xs, ws, padding)), np.float32, 6)

    def weight_grad(images):
        wv = Value(w)
        conv2d(Value(x[images]), wv, padding=padding).backward(upstream[images])
        return wv.grad

    parts = [slice(0, 2), slice(2, 4), slice(4, 5)]  # two images each, the rest last
    expected = weight_grad(parts[0])
    for part in parts[1:]:
        expected = expected + weight_grad(part)
    got = weight_grad(slice(None))
    assert got.dtype == np.float32 and got.tobytes() == expected.tobytes()


def _output_size(xs, ws, padding):
    return tuple(n + 2 * p - k + 1 for n, k, p in zip(xs[2:], ws[2:], padding))


# ----------------------------------------------------------------------------------------
# Max pooling: the cell each window picks
# ----------------------------------------------------------------------------------------


def test_max_pool2d_over_257_cells_routes_the_gradient_to_the_last_cell():
    """A kernel of 257 cells numbers them 0 to 256: the choice of cell needs more than a
    byte, or the last cell's gradient lands on the first."""
    x = Value(np.arange(257.0).reshape(1, 1, 1, 257))
    y = max_pool2d(x, (1, 257))
    assert y.data.item() == 256.0
    y.backward(np.ones((1, 1, 1, 1)))
    expected = np.zeros(257)
    expected[-1] = 1.0
    np.testing.assert_array_equal(x.grad.reshape(-1), expected)


def test_max_pool2d_padding_the_columns_only_never_picks_the_padding():
    """Windows whose real inputs are all -inf give their gradient to their first real
    input, not to the padding on their left."""
    low = Value(np.full((1, 1, 2, 2), -np.inf))
    out = max_pool2d(low, 2, stride=1, padding=(0, 1))
    assert out.shape == (1, 1, 1, 3) and np.all(out.data == -np.inf)
    out.sum().backward()
    # windows (padding, column 0), (column 0, column 1), (column 1, padding)
    np.testing.assert_array_equal(low.grad[0, 0], [[2, 1], [0, 0]])


@pytest.mark.parametrize("shape, kernel, stride, padding", [
    ((2, 3, 32, 32), (2, 2), (2, 2), (0, 0)),  # windows that tile the input, long rows
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0)),  # tiling, short rows: through an index
    ((2, 3, 9, 9), (3, 3), (1, 1), (1, 1)),  # overlapping windows, padded
])
def test_max_pooling_and_its_gradient_ops_keep_float32_data_float32(shape, kernel, stride,
                                                                     padding):
    x = Value(_data(shape, np.float32, 7))
    y = max_pool2d(x, kernel, stride, padding)
    choice = conv_ops._window_max(x.data, kernel, stride, padding, y.shape[2:])[1]
    g = Value(_data(y.shape, np.float32, 8))
    gx = WindowScatter.apply(g, input_size=shape[2:], kernel_size=kernel, stride=stride,
                             padding=padding, choice=choice)
    assert y.dtype == gx.dtype == np.float32 and gx.shape == shape


@pytest.fixture
def poisoned_empty(monkeypatch):
    """np.empty hands out NaN-filled floats (other dtypes: 123s), so that a cell an op
    leaves unwritten shows up in its result (as glibc's MALLOC_PERTURB_ would)."""
    empty = np.empty

    def poisoned(shape, dtype=float, *args, **kwargs):
        out = empty(shape, dtype, *args, **kwargs)
        out.fill(np.nan if out.dtype.kind in "fc" else 123)
        return out

    monkeypatch.setattr(np, "empty", poisoned)


@pytest.mark.parametrize("size, kernel, stride", [
    (72, (9, 9), (8, 8)),  # overlapping windows, as many times as wide as the image (8 x 9)
    (32, (2, 2), (2, 2)),  # windows that tile the image: every cell written
    (8, (2, 2), (2, 2)),  # tiling, short rows
    (9, (3, 3), (1, 1)),  # overlapping
    (9, (3, 1), (1, 1)),  # overlapping along the rows only
    (20, (3, 1), (1, 1)),  # the same, long rows
])
def test_max_pooling_routes_each_gradient_to_its_maximum_and_zeros_elsewhere(
        size, kernel, stride, poisoned_empty):
    rng = np.random.default_rng(9)
    x = Value(rng.permutation(2 * size * size).reshape(1, 2, size, size).astype(np.float64))
    y = max_pool2d(x, kernel, stride)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    expected = np.zeros(x.shape)
    (kh, kw), (sh, sw) = kernel, stride
    for c, i, j in np.ndindex(y.shape[1:]):
        window = x.data[0, c, i * sh:i * sh + kh, j * sw:j * sw + kw]
        a, b = np.unravel_index(window.argmax(), window.shape)
        assert y.data[0, c, i, j] == window[a, b]
        expected[0, c, i * sh + a, j * sw + b] += g[0, c, i, j]
    # an input picked by several windows sums their gradients, perhaps in another order
    np.testing.assert_allclose(x.grad, expected, rtol=1e-13, atol=0)


@pytest.mark.parametrize("padding, col2im", [((2, 2), False), ((2, 1), False), ((3, 3), True)])
def test_the_input_gradient_with_stride_1_is_a_correlation_unless_the_padding_is_wider(
        padding, col2im, monkeypatch):
    """With stride 1 and a padding at most the dilated kernel's extent less one (2 for
    3x3), conv_transpose2d is a forward correlation with the flipped kernel; a wider
    padding takes col2im. The same numbers either way."""
    calls = []
    real = conv_ops._col2im
    monkeypatch.setattr(conv_ops, "_col2im", lambda *a: calls.append(1) or real(*a))
    x, w = _data((2, 3, 6, 7), np.float64, 9), _data((4, 3, 3, 3), np.float64, 10)
    xv = Value(x)
    y = conv2d(xv, Value(w), padding=padding)
    g = _data(y.shape, np.float64, 11)
    y.backward(g)
    assert bool(calls) == col2im
    # <conv2d(x, w), g> is linear in x: its gradient is the same whichever way it is summed
    shifted = conv2d(Value(x + 1.0), Value(w), padding=padding).data
    np.testing.assert_allclose(np.vdot(shifted - y.data, g), xv.grad.sum(), rtol=1e-10)


def test_max_pooling_of_padded_windows_that_tile_long_rows():
    """Stride = kernel with padding: the padded image is pooled (-inf at the border)."""
    x = Value(np.random.default_rng(4).standard_normal((1, 2, 32, 32)))
    y = max_pool2d(x, 2, 2, 1)
    padded = np.pad(x.data, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    expected = padded.reshape(1, 2, 17, 2, 17, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(y.data, expected)

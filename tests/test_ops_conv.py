"""conv2d and the pools: values against loops written out here, first and second
derivatives against float64 central differences over random shapes and options, the
defaults pinned by hand, max-pool ties, and every error message."""

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.functional.conv import (
    adaptive_avg_pool2d,
    avg_pool2d,
    conv2d,
    dropout2d,
    fractional_max_pool2d,
    max_pool2d,
    stochastic_depth,
)
from tinygrad_edu.ops import conv as conv_ops
from tinygrad_edu.ops.conv import Conv2dWeight, ConvTranspose2d
from tinygrad_edu.testing import gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as ts

# ----------------------------------------------------------------------------------------
# Loops: the definitions, one output element at a time
# ----------------------------------------------------------------------------------------


def _padded(x, padding, fill=0.0):
    (ph, pw) = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)


def conv2d_loop(x, w, b, stride, padding, dilation, groups):
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = _padded(x, padding)
    ho = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, o, ho, wo))
    for b_, oc, i, j in itertools.product(range(n), range(o), range(ho), range(wo)):
        first = (oc // (o // groups)) * cg  # the first input channel of oc's group
        total = 0.0 if b is None else b[oc]
        for ci, a, bb in itertools.product(range(cg), range(kh), range(kw)):
            total += w[oc, ci, a, bb] * xp[b_, first + ci, i * stride[0] + a * dilation[0],
                                           j * stride[1] + bb * dilation[1]]
        y[b_, oc, i, j] = total
    return y


def pool_loop(x, kernel, stride, padding, reduce, fill):
    xp = _padded(x, padding, fill)
    ho = (x.shape[2] + 2 * padding[0] - kernel[0]) // stride[0] + 1
    wo = (x.shape[3] + 2 * padding[1] - kernel[1]) // stride[1] + 1
    y = np.zeros(x.shape[:2] + (ho, wo))
    for i, j in itertools.product(range(ho), range(wo)):
        r, c = i * stride[0], j * stride[1]
        y[:, :, i, j] = reduce(xp[:, :, r:r + kernel[0], c:c + kernel[1]], axis=(2, 3))
    return y


def adaptive_loop(x, out):
    h, w = x.shape[2:]
    y = np.zeros(x.shape[:2] + out)
    for i, j in itertools.product(range(out[0]), range(out[1])):
        r0, r1 = (i * h) // out[0], -(-((i + 1) * h) // out[0])
        c0, c1 = (j * w) // out[1], -(-((j + 1) * w) // out[1])
        y[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return y


# ----------------------------------------------------------------------------------------
# Strategies: tiny images, every option
# ----------------------------------------------------------------------------------------

pairs = st.tuples


@st.composite
def conv_cases(draw):
    """(x shape, weight shape, stride, padding, dilation, groups) that fit together."""
    groups = draw(st.integers(1, 2))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n = draw(st.integers(1, 3 - groups * cg // 2))  # at most 4 input planes
    kernel = draw(pairs(st.integers(1, 3), st.integers(1, 3)))
    dilation = draw(pairs(st.integers(1, 2), st.integers(1, 2)))
    stride = draw(pairs(st.integers(1, 2), st.integers(1, 2)))
    padding = draw(pairs(st.integers(0, 1), st.integers(0, 1)))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 2))
                 for k, d, p in zip(kernel, dilation, padding))
    return ((n, groups * cg, *size), (groups * og, cg, *kernel), stride, padding, dilation,
            groups)


@st.composite
def pool_cases(draw, max_kernel=3):
    """(x shape, kernel, stride, padding) with padding at most half the kernel."""
    kernel = draw(pairs(st.integers(1, max_kernel), st.integers(1, max_kernel)))
    stride = draw(pairs(st.integers(1, 3), st.integers(1, 3)))
    padding = draw(pairs(*(st.integers(0, k // 2) for k in kernel)))
    size = tuple(max(1, k - 2 * p) + draw(st.integers(0, 2)) for k, p in zip(kernel, padding))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size), kernel, stride, padding


def distinct(shape, seed):
    """Values at least 0.1 apart, so that no window has a tie within a finite-difference
    step: max pooling is differentiable there."""
    rng = np.random.default_rng(seed)
    return Value(rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0)


# ----------------------------------------------------------------------------------------
# conv2d
# ----------------------------------------------------------------------------------------


@given(case=conv_cases(), bias=st.booleans(), data=st.data())
def test_conv2d_values_and_gradients(case, bias, data):
    xs, ws, stride, padding, dilation, groups = case
    x, w = Value(data.draw(ts.arrays(xs))), Value(data.draw(ts.arrays(ws)))
    args = (x, w, Value(data.draw(ts.arrays(ws[:1])))) if bias else (x, w)

    def f(*args):
        return conv2d(*args, stride=stride, padding=padding, dilation=dilation,
                      groups=groups)

    expected = conv2d_loop(x.data, w.data, args[2].data if bias else None, stride, padding,
                           dilation, groups)
    np.testing.assert_allclose(f(*args).data, expected, rtol=1e-12, atol=1e-12)
    gradcheck(f, *args)
    gradgradcheck(lambda *a: f(*a) ** 2, *args)  # a recorded upstream gradient


@settings(max_examples=10)
@given(case=conv_cases(), data=st.data())
def test_conv2d_gradient_ops_have_exact_derivatives(case, data):
    """The input's and the weight's gradient ops, differentiated once and twice (conv2d's
    second and third derivatives)."""
    xs, ws, stride, padding, dilation, groups = case
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    x, w = Value(data.draw(ts.arrays(xs))), Value(data.draw(ts.arrays(ws)))
    g = Value(data.draw(ts.arrays(conv2d(x, w, **options).shape)))  # conv2d's upstream

    def input_grad(g, w):
        return ConvTranspose2d.apply(g, w, input_size=xs[2:], **options) ** 2

    def weight_grad(x, g):
        return Conv2dWeight.apply(x, g, kernel_size=ws[2:], **options) ** 2

    for fn, args in ((input_grad, (g, w)), (weight_grad, (x, g))):
        gradcheck(fn, *args)
        gradgradcheck(fn, *args)


def test_conv2d_default_3x3_kernel_on_a_5x5_image_matches_the_loop():
    """Stride 1, no padding: the valid cross-correlation (no kernel flip), 3x3 output."""
    x = Value(np.arange(25.0).reshape(1, 1, 5, 5))
    w = Value(np.array([[[[1.0, 0.0, -1.0], [2.0, 0.5, 0.0], [0.0, -3.0, 1.0]]]]))
    y = conv2d(x, w)
    expected = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            expected[i, j] = (x.data[0, 0, i:i + 3, j:j + 3] * w.data[0, 0]).sum()
    np.testing.assert_array_equal(y.data, expected.reshape(1, 1, 3, 3))
    y.sum().backward()
    # d sum(y) / dw: the sum of the windows; / dx: every pixel collects the weights of
    # the windows that contain it.
    windows = sum(x.data[0, 0, i:i + 3, j:j + 3] for i in range(3) for j in range(3))
    np.testing.assert_array_equal(w.grad[0, 0], windows)
    gx = np.zeros((5, 5))
    for i in range(3):
        for j in range(3):
            gx[i:i + 3, j:j + 3] += w.data[0, 0]
    np.testing.assert_array_equal(x.grad[0, 0], gx)


@pytest.mark.parametrize("xs, ws, stride, padding, dilation, groups", [
    ((2, 4, 5, 6), (6, 2, 3, 2), (1, 1), (1, 0), (1, 2), 2),  # stride 1: a correlation
    ((1, 2, 6, 5), (3, 2, 3, 3), (2, 1), (1, 1), (1, 1), 1),  # a stride: col2im
    ((1, 1, 3, 3), (2, 1, 1, 3), (1, 1), (1, 1), (1, 1), 1),  # padding wider than kernel
    ((1, 1, 4, 3), (3, 1, 3, 2), (1, 1), (1, 0), (1, 1), 1),  # O > 2C: col2im
])
def test_conv2d_input_gradient_is_the_adjoint_of_the_loop(xs, ws, stride, padding, dilation,
                                                          groups):
    """conv_transpose2d(g, w) = the gradient of <conv2d(x, w), g> with respect to x, one
    input pixel at a time through the loop, for each way the op computes it."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal(ws)
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    g = rng.standard_normal(conv2d_loop(np.zeros(xs), w, None, **options).shape)
    expected = np.zeros(xs)
    for index in np.ndindex(*xs):
        pixel = np.zeros(xs)
        pixel[index] = 1.0
        expected[index] = (conv2d_loop(pixel, w, None, **options) * g).sum()
    got = ConvTranspose2d.apply(Value(g), Value(w), input_size=xs[2:], **options)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("short_row", [0, 100])
def test_conv2d_in_pieces_matches_the_loop(monkeypatch, short_row):
    """With the chunk and product sizes below one image and one column, every product
    runs image by image and column by column (as large images do), and the columns come
    from the strided windows view (as for long rows) or by index (as for short ones):
    values, the input's gradient both as a correlation and by col2im, and second
    derivatives still exact."""
    monkeypatch.setattr(conv_ops, "_CHUNK_BYTES", 1)
    monkeypatch.setattr(conv_ops, "_ONE_THREAD", 1)
    monkeypatch.setattr(conv_ops, "_GATHER_ROW", short_row)
    rng = np.random.default_rng(1)
    x, w, b = (Value(rng.standard_normal(s)) for s in ((3, 4, 6, 5), (6, 2, 3, 2), (6,)))
    for stride, dilation in (((1, 2), (1, 1)), ((1, 1), (1, 1)), ((2, 1), (2, 1))):
        options = dict(stride=stride, padding=(1, 0), dilation=dilation, groups=2)
        np.testing.assert_allclose(conv2d(x, w, b, **options).data,
                                   conv2d_loop(x.data, w.data, b.data, **options),
                                   rtol=1e-12, atol=1e-12)
        gradcheck(lambda *a, o=options: conv2d(*a, **o), x, w, b)
        gradgradcheck(lambda *a, o=options: conv2d(*a, **o) ** 2, x, w, b)


@pytest.mark.parametrize("xs, ws, stride", [
    ((0, 2, 5, 5), (2, 2, 3, 3), 1),  # an empty batch
    ((2, 0, 5, 5), (2, 0, 3, 3), 1),  # no input channels: the output is the bias
    ((2, 2, 5, 5), (0, 2, 3, 3), 1),  # no output channels: nothing reaches x
    ((2, 2, 5, 5), (0, 2, 3, 3), 2),
])
def test_conv2d_with_an_empty_axis_gives_empty_or_zero_results(xs, ws, stride):
    x, w, b = Value(np.ones(xs)), Value(np.ones(ws)), Value(np.full(ws[0], 2.0))
    y = conv2d(x, w, b, stride=stride, padding=1)
    np.testing.assert_array_equal(y.data, conv2d_loop(x.data, w.data, b.data, (stride,) * 2,
                                                      (1, 1), (1, 1), 1))
    y.sum().backward()
    assert x.grad.shape == xs and w.grad.shape == ws
    if ws[0] == 0:
        np.testing.assert_array_equal(x.grad, np.zeros(xs))
    if xs[0] == 0:
        np.testing.assert_array_equal(w.grad, np.zeros(ws))
    np.testing.assert_array_equal(b.grad, np.full(ws[0], xs[0] * y.shape[2] * y.shape[3]))


def test_conv2d_bias_is_added_per_output_channel_and_its_gradient_sums_the_rest():
    x = Value(np.ones((2, 1, 3, 3)))
    b = Value(np.array([10.0, -1.0]))
    y = conv2d(x, Value(np.ones((2, 1, 2, 2))), b)
    np.testing.assert_array_equal(y.data[:, 0], np.full((2, 2, 2), 14.0))
    np.testing.assert_array_equal(y.data[:, 1], np.full((2, 2, 2), 3.0))
    y.sum().backward()
    np.testing.assert_array_equal(b.grad, [8.0, 8.0])



@pytest.mark.parametrize("groups", [1, 2])
def test_flat_row_weight_gradient_is_the_definition_by_itself(groups):
    """The stride-1 weight gradient from flat rows, called directly on finite input, is
    w'[o, c, a, b] = sum g[n, o, i, j] x_pad[n, q C/G + c, i + a dH, j + b dW]: conv2d's
    backward recomputes a non-finite result another way, which would hide a wrong one."""
    rng = np.random.default_rng(6)
    x, g = rng.standard_normal((2, 16, 5, 7)), rng.standard_normal((2, 4, 6, 3))
    kernel, padding, dilation = (2, 3), (1, 0), (1, 2)
    xp = _padded(x, padding)
    expected = np.zeros((4, 16 // groups, *kernel))
    for q, a, b in itertools.product(range(groups), range(kernel[0]), range(kernel[1])):
        outs = slice(q * 4 // groups, (q + 1) * 4 // groups)
        ins = slice(q * 16 // groups, (q + 1) * 16 // groups)
        top, left = a * dilation[0], b * dilation[1]
        window = xp[:, ins, top:top + 6, left:left + 3]
        expected[outs, :, a, b] = np.einsum("noij,ncij->oc", g[:, outs], window)
    got = conv_ops._weight_grad_flat(x, g, kernel, padding, dilation, groups)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)

def test_conv2d_gives_no_gradient_to_an_input_that_does_not_need_one():
    x = Value(np.ones((1, 2, 4, 4)), requires_grad=False)
    w = Value(np.ones((3, 2, 3, 3)))
    conv2d(x, w).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad, np.full((3, 2, 3, 3), 4.0))



@pytest.mark.parametrize("frozen", [0, 1, 2])
def test_the_convolution_ops_backward_returns_none_for_what_needs_no_gradient(frozen):
    """conv2d, its input gradient and its weight gradient (the ops that second derivatives
    go through) return None from backward for an input that does not require grad."""
    from tinygrad_edu.ops.conv import Conv2d

    rng = np.random.default_rng(7)
    options = dict(stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1)
    x, w, g = (rng.standard_normal(s) for s in ((2, 3, 4, 4), (5, 3, 3, 3), (2, 5, 4, 4)))
    cases = [(Conv2d, (x, w, rng.standard_normal(5)), {}),
             (ConvTranspose2d, (g, w), {"input_size": (4, 4)}),
             (Conv2dWeight, (x, g), {"kernel_size": (3, 3)})]
    for op, arrays, extra in cases:
        if frozen >= len(arrays):
            continue
        inputs = [Value(a, requires_grad=i != frozen) for i, a in enumerate(arrays)]
        y = op.apply(*inputs, **extra, **options)
        grads = y.grad_fn.backward(y.grad_fn, rng.standard_normal(y.shape))
        assert grads[frozen] is None, op.__name__
        assert all(gr is not None for i, gr in enumerate(grads) if i != frozen), op.__name__

def test_conv2d_output_and_max_pool_gradient_are_contiguous():
    """The layout of the per-image matrix products: a convolution's output, and the
    gradient max pooling hands back, are contiguous (N, C, H, W) arrays, so the next
    backward product reads them as (N, groups, C/groups, H W) views, without a copy."""
    x = Value(np.ones((2, 3, 4, 4)))
    y = conv2d(x, Value(np.ones((5, 3, 1, 1))))
    assert y.data.flags.c_contiguous
    max_pool2d(x, 2).sum().backward()
    assert x.grad.flags.c_contiguous


def test_conv2d_in_float32_stays_float32():
    x = Value(np.ones((1, 2, 4, 4)), dtype=np.float32)
    w = Value(np.ones((2, 2, 3, 3)), dtype=np.float32)
    y = conv2d(x, w, Value(np.zeros(2), dtype=np.float32), padding=1)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


# ----------------------------------------------------------------------------------------
# Pooling
# ----------------------------------------------------------------------------------------


@given(case=pool_cases(), seed=st.integers(0, 2**16))
# windows that would tile the input (stride = kernel) but padding on one axis only
@example(case=((1, 2, 4, 6), (2, 2), (2, 2), (1, 0)), seed=0)
@example(case=((1, 1, 5, 4), (2, 2), (2, 2), (0, 1)), seed=1)
def test_max_pool2d_values_and_gradients(case, seed):
    shape, kernel, stride, padding = case
    x = distinct(shape, seed)

    def f(x):
        return max_pool2d(x, kernel, stride, padding)

    np.testing.assert_array_equal(f(x).data, pool_loop(x.data, kernel, stride, padding,
                                                       np.max, -np.inf))
    gradcheck(f, x)
    gradgradcheck(lambda x: f(x) ** 2, x)


@given(case=pool_cases(), data=st.data())
def test_avg_pool2d_values_and_gradients(case, data):
    shape, kernel, stride, padding = case
    x = Value(data.draw(ts.arrays(shape)))

    def f(x):
        return avg_pool2d(x, kernel, stride, padding)

    np.testing.assert_allclose(f(x).data, pool_loop(x.data, kernel, stride, padding,
                                                    np.mean, 0.0), rtol=1e-12, atol=1e-15)
    gradcheck(f, x)
    gradgradcheck(lambda x: f(x) ** 2, x)


@given(shape=pairs(st.integers(1, 5), st.integers(1, 5)),
       out=pairs(st.integers(1, 4), st.integers(1, 4)), data=st.data())
def test_adaptive_avg_pool2d_values_and_gradients(shape, out, data):
    x = Value(data.draw(ts.arrays((2, 1, *shape))))

    def f(x):
        return adaptive_avg_pool2d(x, out)

    np.testing.assert_allclose(f(x).data, adaptive_loop(x.data, out), rtol=1e-12,
                               atol=1e-15)
    gradcheck(f, x)
    gradgradcheck(lambda x: f(x) ** 2, x)


def test_pools_defaults_stride_is_the_kernel_and_no_padding():
    x = Value(np.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(max_pool2d(x, 2).data, [[[[5, 7], [13, 15]]]])
    np.testing.assert_array_equal(avg_pool2d(x, 2).data, [[[[2.5, 4.5], [10.5, 12.5]]]])
    m = max_pool2d(x, 2)
    m.sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0],
                                                 [0, 1, 0, 1]])



def test_max_pool2d_gives_zero_gradient_to_pixels_no_window_covers():
    """A 2x2 window with stride 2 on a 5x5 image never reaches the last row and column:
    their gradient is exactly 0, not whatever the memory held."""
    np.full((1, 2, 5, 5), np.nan)  # a freed buffer of the gradient's size, holding NaN
    x = Value(np.arange(50.0).reshape(1, 2, 5, 5))
    max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[:, :, 4, :], 0.0)
    np.testing.assert_array_equal(x.grad[:, :, :, 4], 0.0)
    np.testing.assert_array_equal(x.grad.sum(axis=(2, 3)), [[4.0, 4.0]])


def test_pooling_a_float32_input_stays_float32():
    x = Value(np.arange(32.0).reshape(1, 2, 4, 4), dtype=np.float32)
    for pool in (lambda x: max_pool2d(x, 2), lambda x: avg_pool2d(x, 3, 1, 1),
                 lambda x: adaptive_avg_pool2d(x, (3, 2))):
        x.grad = None
        y = pool(x)
        y.sum().backward()
        assert y.dtype == x.grad.dtype == np.float32

def test_avg_pool2d_counts_the_padding_zeros():
    """PyTorch's default count_include_pad=True: a corner window with padding 1 and a
    3x3 kernel sums 4 pixels and divides by 9."""
    y = avg_pool2d(Value(np.ones((1, 1, 2, 2))), 3, stride=1, padding=1)
    np.testing.assert_allclose(y.data, np.full((1, 1, 2, 2), 4 / 9))


def test_adaptive_avg_pool2d_to_one_is_the_mean_and_none_keeps_a_size():
    x = Value(np.arange(24.0).reshape(1, 2, 3, 4))
    np.testing.assert_allclose(adaptive_avg_pool2d(x, 1).data[:, :, 0, 0],
                               x.data.mean(axis=(2, 3)))
    y = adaptive_avg_pool2d(x, (None, 2))
    np.testing.assert_allclose(y.data, x.data.reshape(1, 2, 3, 2, 2).mean(axis=4))


def test_max_pool2d_ties_give_the_gradient_to_the_first_maximum_in_row_major_order():
    x = Value(np.array([[[[1.0, 3.0, 3.0],
                          [3.0, 0.0, 3.0],
                          [2.0, 2.0, 2.0]]]]))
    y = max_pool2d(x, 2, stride=1)  # four overlapping windows, ties in each
    np.testing.assert_array_equal(y.data, [[[[3, 3], [3, 3]]]])
    y.sum().backward()
    # windows (0,0) and (0,1) pick x[0,1] (first 3 of their rows); (1,0) picks x[1,0];
    # (1,1) picks x[1,2] (its first row holds 0 and 3: the 3 at column 2).
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 2, 0], [1, 0, 1], [0, 0, 0]])
    x.grad = None
    flat = Value(np.full((1, 1, 2, 2), 7.0))
    max_pool2d(flat, 2).sum().backward()
    np.testing.assert_array_equal(flat.grad[0, 0], [[1, 0], [0, 0]])


def test_max_pool2d_nan_wins_and_minus_infinity_never_picks_the_padding():
    """As PyTorch: a cell takes over when it is larger or NaN, so the last NaN of a
    window gets the gradient; a window of -inf gives it to its first real input."""
    x = Value(np.array([[[[np.nan, 1.0, 0.0], [np.nan, 5.0, 0.0]]]]))
    y = max_pool2d(x, 2, stride=1)
    assert np.isnan(y.data[0, 0, 0, 0]) and y.data[0, 0, 0, 1] == 5.0
    y.backward(np.ones((1, 1, 1, 2)))
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 0, 0], [1, 1, 0]])
    low = Value(np.full((1, 1, 2, 2), -np.inf))
    out = max_pool2d(low, 3, stride=1, padding=1)
    assert np.all(out.data == -np.inf)
    out.sum().backward()
    # every window's first real pixel, (0, 0) here, gets its gradient (PyTorch's choice)
    np.testing.assert_array_equal(low.grad[0, 0], [[4, 0], [0, 0]])


def test_max_pool2d_padding_on_one_axis_never_picks_the_padding_either():
    low = Value(np.full((1, 1, 2, 2), -np.inf))
    out = max_pool2d(low, 2, stride=1, padding=(1, 0))
    out.sum().backward()
    # windows (padding, row 0), (row 0, row 1), (row 1, padding): their first real pixels
    np.testing.assert_array_equal(low.grad[0, 0], [[2, 0], [1, 0]])


@pytest.mark.parametrize("kernel, dtype", [((3, 3), np.uint8), ((16, 16), np.uint8),
                                           ((17, 16), np.uint16)])
def test_max_pool2d_keeps_its_choice_of_cell_in_the_smallest_integer_type(kernel, dtype):
    """The cell each window picks is saved for the backward: one byte per output while
    the kernel has at most 256 cells."""
    x = np.zeros((1, 1, *kernel))
    assert conv_ops._window_max(x, kernel, (1, 1), (0, 0), (1, 1))[1].dtype == dtype


@pytest.mark.parametrize("kernel, shape", [((2, 2), (2, 3, 6, 8)), ((3, 2), (1, 2, 7, 5)),
                                           ((17, 16), (1, 1, 17, 33))])
def test_max_pool2d_tiling_windows_pick_the_first_maximum_or_the_last_nan(kernel, shape):
    """Windows that tile the input (stride = kernel) take a two-step path: with many
    ties (values from {0, 1}) and some NaNs, each window's gradient goes where PyTorch's
    rule puts it: the last NaN if there is one, else the first maximum in row-major
    order (a window of 17x16 needs more than 8 bits for its cell)."""
    rng = np.random.default_rng(5)
    data = rng.integers(0, 2, shape).astype(float)
    data[rng.random(shape) < 0.02] = np.nan
    x = Value(data)
    y = max_pool2d(x, kernel)
    y.sum().backward()
    expected = np.zeros(shape)
    for n, c, i, j in np.ndindex(*y.shape):
        window = data[n, c, i * kernel[0]:(i + 1) * kernel[0], j * kernel[1]:(j + 1) * kernel[1]]
        flat = window.reshape(-1)
        nans = np.flatnonzero(np.isnan(flat))
        k = nans[-1] if len(nans) else int(np.argmax(flat))  # argmax: the first maximum
        expected[n, c, i * kernel[0] + k // kernel[1], j * kernel[1] + k % kernel[1]] += 1
        assert np.isnan(y.data[n, c, i, j]) if len(nans) else y.data[n, c, i, j] == flat.max()
    np.testing.assert_array_equal(x.grad, expected)


def test_max_pool2d_with_more_than_256_cells_per_window():
    x = distinct((1, 2, 17, 18), seed=3)
    y = max_pool2d(x, 17, stride=1)
    np.testing.assert_array_equal(y.data, pool_loop(x.data, (17, 17), (1, 1), (0, 0),
                                                     np.max, -np.inf))
    y.sum().backward()
    expected = np.zeros(x.shape)
    for c in range(2):
        for j in range(2):
            window = x.data[0, c, :, j:j + 17]
            a, b = np.unravel_index(window.argmax(), window.shape)
            expected[0, c, a, j + b] += 1
    np.testing.assert_array_equal(x.grad, expected)


@given(p=st.sampled_from([0.2, 0.5]), seed=st.integers(0, 100))
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest(p, seed):
    x = Value(np.ones((4, 8, 3, 3)))
    y = dropout2d(x, p, seed=seed).data
    per_map = y.reshape(32, 9)
    assert set(np.unique(per_map)) <= {0.0, 1 / (1 - p)}
    assert np.all(per_map.min(axis=1) == per_map.max(axis=1))  # a map is kept or dropped
    assert dropout2d(x, p, training=False) is x


def fractional_loop(x, kernel, out, samples):
    """PyTorch's fractional max pooling, one window at a time (its interval formula)."""
    n, c, h, w = x.shape

    def starts(u, size, count, pool):
        if count == 1:
            return [size - pool]
        alpha = (size - pool) / (count - 1)
        return [int((i + u) * alpha) - int(u * alpha) for i in range(count - 1)] + [size - pool]

    y = np.zeros((n, c, *out))
    for b, ch in itertools.product(range(n), range(c)):
        rows = starts(samples[b, ch, 1], h, out[0], kernel[0])
        cols = starts(samples[b, ch, 0], w, out[1], kernel[1])
        for i, j in itertools.product(range(out[0]), range(out[1])):
            y[b, ch, i, j] = x[b, ch, rows[i]:rows[i] + kernel[0],
                               cols[j]:cols[j] + kernel[1]].max()
    return y


@given(kernel=pairs(st.integers(1, 3), st.integers(1, 3)),
       extra=pairs(st.integers(0, 3), st.integers(0, 3)),
       out=pairs(st.integers(1, 3), st.integers(1, 3)), seed=st.integers(0, 2**16))
def test_fractional_max_pool2d_values_and_gradients(kernel, extra, out, seed):
    shape = (2, 2, out[0] + kernel[0] - 1 + extra[0], out[1] + kernel[1] - 1 + extra[1])
    x = distinct(shape, seed)
    samples = np.random.default_rng(seed).random((2, 2, 2))

    def f(x):
        return fractional_max_pool2d(x, kernel, out, samples=samples)

    np.testing.assert_array_equal(f(x).data, fractional_loop(x.data, kernel, out, samples))
    gradcheck(f, x)
    gradgradcheck(lambda x: f(x) ** 2, x)


def test_fractional_max_pool2d_draws_windows_per_map_from_the_seed():
    x = distinct((2, 3, 9, 9), seed=0)
    a = fractional_max_pool2d(x, 2, output_ratio=0.5, seed=1)
    assert a.shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(a.data, fractional_max_pool2d(x, 2, (4, 4), seed=1).data)
    assert not np.array_equal(a.data, fractional_max_pool2d(x, 2, (4, 4), seed=2).data)
    # one interval draw per (image, channel): (N, C, 2) samples, columns first
    samples = np.zeros((2, 3, 2))
    samples[1, 2] = [0.9, 0.0]
    y = fractional_max_pool2d(x, 2, (4, 4), samples=samples)
    np.testing.assert_array_equal(y.data, fractional_loop(x.data, (2, 2), (4, 4), samples))


@given(p=st.sampled_from([0.25, 0.5]), seed=st.integers(0, 100))
def test_stochastic_depth_drops_whole_examples_or_the_whole_batch(p, seed):
    x = Value(np.ones((16, 3, 2, 2)))
    rows = stochastic_depth(x, p, "row", seed=seed).data.reshape(16, -1)
    assert np.all(rows.min(axis=1) == rows.max(axis=1))
    assert set(np.unique(rows)) <= {0.0, 1 / (1 - p)}
    whole = np.unique(stochastic_depth(x, p, "batch", seed=seed).data)
    assert len(whole) == 1 and whole[0] in (0.0, 1 / (1 - p))
    assert stochastic_depth(x, p, training=False) is x
    np.testing.assert_array_equal(stochastic_depth(x, 1.0).data, np.zeros(x.shape))
    y = stochastic_depth(x, p, seed=seed)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)  # the gradient is the same mask


# ----------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------

X = Value(np.ones((1, 4, 5, 5)))
W = Value(np.ones((6, 4, 3, 3)))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: conv2d(Value(np.ones((4, 5, 5))), W), ValueError,
         r"conv2d: input must be 4-D \(N, C, H, W\); got shape \(4, 5, 5\)"),
        (lambda: conv2d(X, Value(np.ones((6, 4, 3)))), ValueError,
         r"conv2d: weight must be 4-D \(out_channels, in_channels / groups, kH, kW\); got "
         r"shape \(6, 4, 3\)"),
        (lambda: conv2d(X, Value(np.ones((6, 3, 3, 3)))), ValueError,
         r"conv2d: the input has 4 channels, but a weight of shape \(6, 3, 3, 3\) with "
         r"groups=1 expects 3 \* 1 = 3"),
        (lambda: conv2d(X, Value(np.ones((6, 1, 3, 3))), groups=3), ValueError,
         r"conv2d: groups=3 must divide both the input's 4 channels and the weight's 6 "
         r"output channels"),
        (lambda: conv2d(X, Value(np.ones((5, 2, 3, 3))), groups=2), ValueError,
         r"conv2d: groups=2 must divide both the input's 4 channels and the weight's 5"),
        (lambda: conv2d(X, W, groups=0), ValueError,
         r"conv2d: groups must be a positive int; got 0"),
        (lambda: conv2d(X, W, groups=True), ValueError,
         r"conv2d: groups must be a positive int; got True"),
        (lambda: conv2d(X, W, Value(np.ones(5))), ValueError,
         r"conv2d: bias must have shape \(6,\), one per output channel; got shape \(5,\)"),
        (lambda: conv2d(X, W, stride=0), ValueError, r"conv2d: stride must be >= 1; got 0"),
        (lambda: conv2d(X, W, stride=(1, -2)), ValueError,
         r"conv2d: stride must be >= 1; got \(1, -2\)"),
        (lambda: conv2d(X, W, padding=-1), ValueError,
         r"conv2d: padding must be >= 0; got -1"),
        (lambda: conv2d(X, W, dilation=0), ValueError,
         r"conv2d: dilation must be >= 1; got 0"),
        (lambda: conv2d(X, W, stride=(1, 2, 3)), TypeError,
         r"conv2d: stride must be an int or a pair of ints \(H, W\); got \(1, 2, 3\)"),
        (lambda: conv2d(X, W, padding=1.5), TypeError,
         r"conv2d: padding must be an int or a pair of ints \(H, W\); got 1.5"),
        (lambda: conv2d(X, W, dilation="2"), TypeError,
         r"conv2d: dilation must be an int or a pair of ints \(H, W\); got '2'"),
        (lambda: conv2d(X, Value(np.ones((6, 4, 7, 3)))), ValueError,
         r"conv2d: the kernel 7x3 is larger than the padded input 5x5 \(input of shape "
         r"\(1, 4, 5, 5\), padding=\(0, 0\)\)"),
        (lambda: conv2d(X, W, dilation=(1, 3)), ValueError,
         r"conv2d: the kernel 3x3 \(dilated to 3x7\) is larger than the padded input 5x5"),
        (lambda: max_pool2d(X, 3, padding=2), ValueError,
         r"max_pool2d: padding=\(2, 2\) must be at most half of kernel_size=\(3, 3\)"),
        (lambda: avg_pool2d(X, (6, 2)), ValueError,
         r"avg_pool2d: the kernel 6x2 is larger than the padded input 5x5"),
        (lambda: max_pool2d(X, 0), ValueError, r"max_pool2d: kernel_size must be >= 1; got 0"),
        (lambda: avg_pool2d(X, 2, stride=(2, 0)), ValueError,
         r"avg_pool2d: stride must be >= 1; got \(2, 0\)"),
        (lambda: max_pool2d(Value(np.ones((5, 5))), 2), ValueError,
         r"max_pool2d: input must be 4-D \(N, C, H, W\); got shape \(5, 5\)"),
        (lambda: adaptive_avg_pool2d(X, 0), ValueError,
         r"adaptive_avg_pool2d: output_size must be >= 1; got 0"),
        (lambda: adaptive_avg_pool2d(X, (0, None)), ValueError,
         r"adaptive_avg_pool2d: output_size must be >= 1; got \(0, None\)"),
        (lambda: adaptive_avg_pool2d(X, (2, 2, 2)), TypeError,
         r"adaptive_avg_pool2d: output_size must be an int, None or a pair of those \(H, W\); "
         r"got \(2, 2, 2\)"),
        (lambda: fractional_max_pool2d(X, 2), ValueError,
         r"fractional_max_pool2d: give exactly one of output_size and output_ratio; got "
         r"output_size=None, output_ratio=None"),
        (lambda: fractional_max_pool2d(X, 2, 3, 0.5), ValueError,
         r"fractional_max_pool2d: give exactly one of output_size and output_ratio"),
        (lambda: fractional_max_pool2d(X, 2, output_ratio=1.0), ValueError,
         r"fractional_max_pool2d: output_ratio must be a number in \(0, 1\) or a pair of "
         r"them; got 1.0"),
        (lambda: fractional_max_pool2d(X, 3, (4, 3)), ValueError,
         r"fractional_max_pool2d: 4x3 windows of 3x3 do not fit in a 5x5 input"),
        (lambda: fractional_max_pool2d(X, 2, 2, samples=np.zeros((1, 4, 1))), ValueError,
         r"fractional_max_pool2d: samples must be an \(N, C, 2\) = \(1, 4, 2\) array of "
         r"numbers in \[0, 1\); got shape \(1, 4, 1\)"),
        (lambda: fractional_max_pool2d(X, 2, 2, samples=np.ones((1, 4, 2))), ValueError,
         r"fractional_max_pool2d: samples must be an \(N, C, 2\)"),
        (lambda: stochastic_depth(X, 1.5), ValueError,
         r"stochastic_depth: p is the probability of dropping the branch and must be in "
         r"\[0, 1\]; got 1.5"),
        (lambda: stochastic_depth(X, 0.5, mode="col"), ValueError,
         r"stochastic_depth: mode must be 'row' or 'batch'; got 'col'"),
        (lambda: stochastic_depth(X, "0.5"), TypeError,
         r"stochastic_depth: p must be a real number"),
        (lambda: dropout2d(X, 1.0), ValueError, r"dropout2d: p is the probability"),
        (lambda: dropout2d(Value(np.ones((2, 3))), 0.5), ValueError,
         r"dropout2d: input must be 4-D"),
    ],
)
def test_errors_name_the_function_the_argument_and_the_value(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_conv_and_pooling_refuse_an_input_that_is_not_a_value_or_an_array():
    nested = np.ones((1, 1, 4, 4)).tolist()
    with pytest.raises(TypeError, match=r"^conv2d: input must be a Value or an array of shape "
                                        r"\(N, C, H, W\); got list$"):
        conv2d(nested, Value(np.ones((1, 1, 3, 3))))
    with pytest.raises(TypeError, match=r"^max_pool2d: input must be a Value or an array"):
        max_pool2d(nested, 2)

"""Kernels compute exactly what their docstrings' formulas say, on the inputs that take
their faster road and on those that do not."""

import math
import os
import threading
import time
import tracemalloc
import warnings

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn
from tinygrad_edu.ops import conv, kernels, normalization
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(100, 16), (300, 64), (1024, 2048)])  # the last: in parts
def test_relu_owned_is_max_x_0_nan_kept_in_place(shape, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    x.reshape(-1)[:3] = [np.nan, -0.0, np.inf]
    expected = np.maximum(x, 0)
    out = kernels.relu_owned(x)
    np.testing.assert_array_equal(out, expected)
    assert out is x


def test_max_along_rows_of_one_shape_again_and_of_a_transposed_array():
    for x in (RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3)),
              RNG.standard_normal((3, 5)).T):  # the second reuses the first's row starts
        np.testing.assert_array_equal(kernels.max_along(x, 1), x.max(axis=1, keepdims=True))


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
    kernels.subtract_scaled_([(param, 0.1, g)])
    assert param is same and param.dtype == dtype
    np.testing.assert_array_equal(param, expected)


def test_subtract_scaled_of_a_strided_parameter_is_the_formula():
    base = RNG.standard_normal((100, 400))
    param, g = base[:, ::2], RNG.standard_normal((100, 200))  # not contiguous
    expected = param - 0.5 * g
    kernels.subtract_scaled_([(param, 0.5, g)])
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
@pytest.mark.parametrize("shape", [(3, 64), (2, 3, 5), (7,), (300, 64)])  # the last: large
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


# ----------------------------------------------------------------------------------------
# Threads
# ----------------------------------------------------------------------------------------


@pytest.fixture
def set_threads(monkeypatch):
    """kernels.set_num_threads for one test; the previous setting comes back after it."""
    monkeypatch.setattr(kernels, "_num_threads", kernels._num_threads)
    return kernels.set_num_threads


def test_get_num_threads_is_the_cpus_of_the_process_until_set(set_threads, monkeypatch):
    monkeypatch.setattr(kernels, "_num_threads", None)
    assert kernels.get_num_threads() == len(os.sched_getaffinity(0))
    set_threads(3)
    assert kernels.get_num_threads() == 3
    set_threads(np.int64(1))
    assert kernels.get_num_threads() == 1 and type(kernels.get_num_threads()) is int


def test_the_thread_setting_is_at_the_top_level_as_in_torch():
    import tinygrad_edu
    assert tinygrad_edu.set_num_threads is kernels.set_num_threads
    assert tinygrad_edu.get_num_threads is kernels.get_num_threads


@pytest.mark.parametrize(("n", "error", "message"), [
    (0, ValueError, "set_num_threads: n must be at least 1, got 0"),
    (-2, ValueError, "set_num_threads: n must be at least 1, got -2"),
    (1.0, TypeError, "set_num_threads: n must be an int, got float 1.0"),
    (True, TypeError, "set_num_threads: n must be an int, got bool True"),
    ("2", TypeError, "set_num_threads: n must be an int, got str '2'"),
])
def test_set_num_threads_rejects_what_is_not_a_positive_int(set_threads, n, error, message):
    before = kernels.get_num_threads()
    with pytest.raises(error, match=f"^{message}$"):
        set_threads(n)
    assert kernels.get_num_threads() == before


def _together(parts):
    """A part function that returns (part * 10, its thread) only once ``parts`` threads
    are inside it at the same time (a timeout error otherwise)."""
    barrier = threading.Barrier(parts, timeout=10)

    def fn(part):
        barrier.wait()
        return part * 10, threading.get_ident()

    return fn


def test_parallel_map_runs_parts_on_two_threads_at_once_in_order(set_threads):
    set_threads(2)
    results = kernels.parallel_map(_together(2), [1, 2])
    assert [r for r, _ in results] == [10, 20]
    assert len({thread for _, thread in results}) == 2


def test_parallel_map_on_one_thread_runs_every_part_in_the_caller_in_order(set_threads):
    set_threads(1)
    calls = []
    assert kernels.parallel_map(lambda p: calls.append(p) or threading.get_ident(),
                                range(5)) == [threading.get_ident()] * 5
    assert calls == list(range(5))


def test_parallel_map_inside_a_part_runs_in_that_thread(set_threads):
    set_threads(3)  # two parts run at once, and a third thread is free
    barrier = threading.Barrier(2, timeout=10)

    def inner(part):
        time.sleep(0.005)
        return threading.get_ident()

    def outer(part):
        barrier.wait()
        return kernels.parallel_map(inner, range(4)) == [threading.get_ident()] * 4

    assert kernels.parallel_map(outer, range(2)) == [True] * 2


def test_parallel_map_raises_a_parts_error_once_no_part_runs(set_threads):
    set_threads(2)
    caller, done = threading.get_ident(), []
    barrier = threading.Barrier(2, timeout=10)

    def fn(part):
        if part < 2:
            barrier.wait()  # the first two parts run on two threads
            if threading.get_ident() != caller:
                raise ValueError("the helper's part failed")
        time.sleep(0.01)
        done.append(part)

    with pytest.raises(ValueError, match="the helper's part failed"):
        kernels.parallel_map(fn, range(8))
    finished = list(done)
    time.sleep(0.05)
    assert done == finished and len(done) == 7  # the other parts ran, and all have ended


def test_a_forked_child_shares_parts_among_threads_of_its_own(set_threads):
    set_threads(2)
    kernels.parallel_map(_together(2), [0, 1])  # the parent's helper thread is running
    with warnings.catch_warnings():  # Python 3.12+ warns of forking a threaded process
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: exit status 0 when two of its threads ran the parts
        status = 1
        try:
            results = kernels.parallel_map(_together(2), [1, 2])
            status = 0 if len({thread for _, thread in results}) == 2 else 1
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _cnn_step(x, labels):
    """Output, loss and every gradient of one step of a conv-BN-ReLU-pool network (its
    second convolution by flat rows) and a linear layer, with fixed weights."""
    f32 = np.float32
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, seed=0, dtype=f32), nn.BatchNorm2d(16, dtype=f32),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 16, 3, padding=1, seed=1, dtype=f32), nn.BatchNorm2d(16, dtype=f32),
        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 6 * 6, 10, seed=2, dtype=f32))
    xv = Value(x, requires_grad=True)
    out = model(xv)
    loss = F.cross_entropy(out, labels)
    loss.backward()
    return [out.data, loss.data, xv.grad] + [p.grad for p in model.parameters()]


def _kernel_step(x, w1, w2, lin):
    """The arrays of such a step, from the kernels alone (no graph is recorded)."""
    one = (1, 1)
    y1, _ = conv._correlate(x, w1, None, one, one, one, 1)  # im2col
    _, var, centered = normalization._moments(y1, (0, 2, 3), y1.size // y1.shape[1])
    h = kernels.relu(normalization._scale_shift(centered, (var + 1e-5) ** -0.5, None))
    pooled, _ = conv._window_max(h, (2, 2), (2, 2), (0, 0), (12, 12))
    y2, _ = conv._correlate(pooled, w2, None, one, one, one, 1)  # flat rows
    g1 = kernels.relu_grad(y1, h)
    return [y1, h, pooled, y2, g1, kernels.matmul(y2.reshape(len(x), -1), lin.T),
            conv._weight_grad(pooled, y2, (3, 3), one, one, one, 1, None),
            conv._conv_transpose(y2, w2, (12, 12), one, one, one, 1),
            conv._weight_grad(x, g1, (3, 3), one, one, one, 1, None)]


@pytest.fixture
def small_parts(monkeypatch):
    """Every kernel splits even small arrays and products into parts (many parts, fast)."""
    monkeypatch.setattr(normalization, "_CHUNK_BYTES", 1)
    monkeypatch.setattr(conv, "_CHUNK_BYTES", 64)
    monkeypatch.setattr(conv, "_POOL_CHUNK_BYTES", 64)
    monkeypatch.setattr(kernels, "_PART_BYTES", 64)
    monkeypatch.setattr(kernels, "ONE_THREAD", 2000)


def _same_bits(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_a_training_step_on_threads_is_bit_for_bit_the_one_thread_step(set_threads, small_parts):
    """Conv (both ways of computing it), batch norm, ReLU, max pooling and the linear
    layer, split into parts: the same bits on 1 and 2 threads."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 3, 24, 24)).astype(np.float32)
    labels = rng.integers(0, 10, 6)
    set_threads(1)
    expected = _cnn_step(x, labels)
    set_threads(2)
    _same_bits(_cnn_step(x, labels), expected)


def test_kernels_called_from_several_threads_at_once_give_the_one_thread_bits(set_threads,
                                                                             small_parts):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((6, 3, 24, 24)).astype(np.float32)
    w1, w2 = (rng.standard_normal(s).astype(np.float32) for s in [(16, 3, 3, 3), (16, 16, 3, 3)])
    lin = rng.standard_normal((10, 16 * 12 * 12)).astype(np.float32)
    set_threads(1)
    expected = _kernel_step(x, w1, w2, lin)
    set_threads(2)
    results = [None] * 4

    def user(i):
        results[i] = _kernel_step(x, w1, w2, lin)

    users = [threading.Thread(target=user, args=(i,)) for i in range(4)]
    for t in users:
        t.start()
    for t in users:
        t.join()
    for got in results:
        _same_bits(got, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_and_its_gradient_of_a_large_array_are_the_formulas_in_parts(dtype, set_threads,
                                                                         monkeypatch):
    monkeypatch.setattr(kernels, "_PART_BYTES", 1000)
    set_threads(2)
    x = RNG.standard_normal((7, 3, 101)).astype(dtype)
    grad = RNG.standard_normal(x.shape).astype(dtype)
    x.reshape(-1)[[0, 900, 2000]] = [np.nan, -0.0, 0.0]
    z = kernels.relu(x)
    assert z.dtype == dtype and z.shape == x.shape
    np.testing.assert_array_equal(z, np.maximum(x, 0))
    expected = grad * (x > 0)
    got = kernels.relu_grad(grad, x)
    assert got.dtype == dtype and got.tobytes() == expected.tobytes()
    strided = x[:, :, ::2]  # not contiguous: the whole call
    np.testing.assert_array_equal(kernels.relu(strided), np.maximum(strided, 0))


def test_in_parts_splits_into_near_equal_views_and_returns_out(set_threads, monkeypatch):
    monkeypatch.setattr(kernels, "_PART_BYTES", 80)  # 10 float64 values
    set_threads(2)
    a, b = RNG.standard_normal((5, 7)), RNG.standard_normal((5, 7))
    sizes = []

    def add(out, a, b):
        sizes.append(out.size)
        np.add(a, b, out=out)

    out = np.empty((5, 7))
    assert kernels.in_parts(add, out, a, b) is out
    np.testing.assert_array_equal(out, a + b)
    assert sorted(sizes) == [8, 9, 9, 9]  # 35 values in 4 parts


# ----------------------------------------------------------------------------------------
# Matrix products in one-thread slices
# ----------------------------------------------------------------------------------------


def _matmul_spy(monkeypatch):
    """Record the multiply-adds per matrix of every np.matmul call."""
    calls = []
    real = np.matmul

    def spy(a, b, **kwargs):
        calls.append(math.prod(a.shape[-2:]) * b.shape[-1])
        return real(a, b, **kwargs)

    monkeypatch.setattr(np, "matmul", spy)
    return calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("sa", "sb"), [
    ((64, 1568), (1568, 10)),  # more rows than columns: sliced by rows
    ((10, 64), (64, 1568)),  # sliced by columns
    ((3, 64, 800), (800, 20)),  # a batch of matrices
])
def test_matmul_of_middling_size_is_the_product_in_one_thread_slices(sa, sb, dtype,
                                                                     monkeypatch):
    a = RNG.standard_normal(sa).astype(dtype)
    b = RNG.standard_normal(sb).astype(dtype)
    expected = a @ b
    calls = _matmul_spy(monkeypatch)
    z = kernels.matmul(a, b)
    assert z.dtype == dtype and z.shape == expected.shape
    # sums of up to 1568 products, perhaps in another order: float32 keeps about 1e-5
    # of the largest entry
    tolerance = (2e-5 if dtype == np.float32 else 1e-13) * np.abs(expected).max()
    np.testing.assert_allclose(z, expected, rtol=0, atol=tolerance)
    assert len(calls) == 2 and max(calls) < kernels.ONE_THREAD  # two near-equal slices
    assert max(calls) - min(calls) <= max(calls) // 10


def test_matmul_of_exactly_one_thread_of_multiply_adds_is_sliced(monkeypatch):
    a, b = RNG.standard_normal((64, 1536)), RNG.standard_normal((1536, 10))
    assert a.size * b.shape[1] == kernels.ONE_THREAD
    calls = _matmul_spy(monkeypatch)
    kernels.matmul(a, b)
    assert len(calls) == 2 and max(calls) < kernels.ONE_THREAD


def _dot_spy(monkeypatch):
    """Record the shapes of every np.dot call."""
    calls = []
    real = np.dot

    def spy(a, b, *args):
        calls.append((a.shape, b.shape))
        return real(a, b, *args)

    monkeypatch.setattr(np, "dot", spy)
    return calls


@pytest.mark.parametrize(("sa", "sb", "dot"), [
    ((100, 16), (16, 16), True),  # two small matrices: np.dot
    ((3, 100, 16), (16, 16), False),  # a batch of matrices: @
    ((100, 16), (16,), False),  # a matrix by a vector: @
    ((16,), (16, 100), False),
])
def test_matmul_sends_two_small_matrices_and_nothing_else_to_np_dot(sa, sb, dot, monkeypatch):
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    expected = a @ b
    calls = _dot_spy(monkeypatch)
    np.testing.assert_array_equal(kernels.matmul(a, b), expected)
    assert calls == ([(sa, sb)] if dot else [])


# (rows of x or g, w's shape, how the products go): rows x w.size multiply-adds decide
ROUTES = [
    (100, (16, 16), "dot"),  # small
    (64, (10, 1536), "slices"),  # exactly ONE_THREAD
    (640, (100, 16), "slices"),  # middling by its rows, small by its features
    (6400, (100, 16), "whole"),  # from _THREADS_PAY: left to BLAS whole (@, not spied)
]
SLICES = {"dot": 0, "slices": 2, "whole": 0}  # np.matmul calls per product


@pytest.mark.parametrize(("rows", "w_shape", "route"), ROUTES)
def test_affine_sends_each_product_its_own_way(rows, w_shape, route, monkeypatch):
    x, w = RNG.standard_normal((rows, w_shape[1])), RNG.standard_normal(w_shape)
    expected = x @ w.T
    dots, products = _dot_spy(monkeypatch), _matmul_spy(monkeypatch)
    z = kernels.affine(x, w, None)
    np.testing.assert_allclose(z, expected, rtol=0, atol=1e-12 * np.abs(expected).max())
    assert len(dots) == (route == "dot")
    assert len(products) == SLICES[route]


def test_affine_of_a_batch_of_matrices_goes_through_matmul(monkeypatch):
    x, w = RNG.standard_normal((3, 100, 16)), RNG.standard_normal((16, 16))
    dots = _dot_spy(monkeypatch)
    np.testing.assert_array_equal(kernels.affine(x, w, None), x @ w.T)
    assert dots == []


@pytest.mark.parametrize(("rows", "w_shape", "route"), ROUTES)
@pytest.mark.parametrize("needs", [(True, True, True), (False, True, False),
                                   (True, False, True)])
def test_affine_grads_send_the_products_their_way_and_skip_what_is_not_needed(
        rows, w_shape, route, needs, monkeypatch):
    g, x = RNG.standard_normal((rows, w_shape[0])), RNG.standard_normal((rows, w_shape[1]))
    w = RNG.standard_normal(w_shape)
    products = _matmul_spy(monkeypatch)
    grads = kernels.affine_grads(g, x, w, *needs)
    for got, want, needed in zip(grads, (g @ w, g.T @ x, g.sum(axis=0)), needs, strict=True):
        if not needed:
            assert got is None
            continue
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())
    assert len(products) == SLICES[route] * (needs[0] + needs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_affine_grads_keep_the_dtype(dtype):
    g, x, w = (RNG.standard_normal(s).astype(dtype) for s in ((100, 2), (100, 16), (2, 16)))
    assert all(v.dtype == dtype for v in kernels.affine_grads(g, x, w, True, True, True))


def test_relu_grad_of_exactly_the_kept_size_takes_a_kept_array(monkeypatch):
    monkeypatch.setattr(kernels, "_kept", {})
    monkeypatch.setattr(kernels, "_kept_bytes", 0)
    x = RNG.standard_normal(kernels._KEEP_FROM // 8)  # float64: exactly _KEEP_FROM bytes
    out = kernels.relu_grad(np.ones_like(x), x)
    assert any(out is kept for kept in kernels._kept[(x.shape, x.dtype)])
    np.testing.assert_array_equal(out, x > 0)


@pytest.mark.parametrize(("sa", "sb"), [((64, 1568), (1568, 100)), ((3, 5), (5, 2)),
                                        ((4, 3), (3,)), ((3,), (3, 4))])
def test_matmul_of_a_large_or_small_product_is_left_whole(sa, sb, monkeypatch):
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    expected = a @ b
    calls = _matmul_spy(monkeypatch)
    np.testing.assert_array_equal(kernels.matmul(a, b), expected)
    assert calls == []  # one @, no slices


def test_matmul_in_slices_of_an_empty_or_a_small_product_is_one_call(monkeypatch):
    calls = _matmul_spy(monkeypatch)
    for sa, sb in [((0, 5), (5, 3)), ((4, 0), (0, 3)), ((4, 5), (5, 3))]:
        a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
        np.testing.assert_array_equal(kernels.matmul_in_slices(a, b, 1000), a @ b)
    assert len(calls) == 3


@pytest.mark.parametrize(("a", "b"), [
    (RNG.standard_normal((100, 16)), RNG.standard_normal((16, 16)).T),  # a transposed view
    (np.asfortranarray(RNG.standard_normal((7, 3))), RNG.standard_normal((3, 2))),
    (RNG.standard_normal((4, 3)).astype(np.float32), RNG.standard_normal((3, 5))),
    (np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)),
    (np.zeros((0, 3)), np.ones((3, 2))),
])
def test_matmul_of_two_small_matrices_is_exactly_numpys_product(a, b):
    z = kernels.matmul(a, b)  # np.dot, the same BLAS call as @
    assert z.dtype == (a @ b).dtype and z.flags.c_contiguous
    np.testing.assert_array_equal(z, a @ b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(100, 16), (1024, 2048)])  # the second: in parts
def test_relu_grad_owned_is_the_formula_written_into_the_gradient(shape, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    x[0, :3] = [0.0, np.nan, -0.0]  # the kink and NaN: no gradient through them
    grad = RNG.standard_normal(shape).astype(dtype)
    expected = grad * (x > 0)
    out = kernels.relu_grad_owned(grad, x)
    assert out is grad and out.dtype == dtype
    np.testing.assert_array_equal(out, expected)


def test_relu_grad_owned_of_a_value_is_recorded():
    grad, x = Value(RNG.standard_normal((4, 3))), RNG.standard_normal((4, 3))
    out = kernels.relu_grad_owned(grad, x)
    assert isinstance(out, Value) and out.requires_grad and out is not grad
    np.testing.assert_array_equal(out.data, grad.data * (x > 0))


@pytest.mark.parametrize(("rows", "n_in", "n_out"), [(100, 16, 16), (300, 784, 64)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_affine_is_the_product_plus_the_bias(rows, n_in, n_out, dtype):
    x = RNG.standard_normal((rows, n_in)).astype(dtype)  # the second: a product in slices
    w = RNG.standard_normal((n_out, n_in)).astype(dtype)
    b = RNG.standard_normal(n_out).astype(dtype)
    expected = x @ w.T + b
    tolerance = (2e-5 if dtype == np.float32 else 1e-13) * np.abs(expected).max()
    for bias, want in ((b, expected), (None, expected - b)):
        z = kernels.affine(x, w, bias)
        assert z.dtype == dtype and z.shape == (rows, n_out)
        np.testing.assert_allclose(z, want, rtol=0, atol=tolerance)


def test_affine_of_a_single_sample_or_a_broadcast_bias_is_the_formula():
    x, w = RNG.standard_normal(3), RNG.standard_normal((4, 3))
    np.testing.assert_array_equal(kernels.affine(x, w, np.ones(4)), x @ w.T + 1)
    batch = RNG.standard_normal((5, 3))
    column = RNG.standard_normal((5, 1))  # not the layer's own bias: added out of place
    np.testing.assert_array_equal(kernels.affine(batch, w, column), batch @ w.T + column)


@pytest.mark.parametrize(("rows", "n_in", "n_out"), [(100, 16, 2), (256, 784, 64)])
def test_affine_grads_are_g_w_g_transposed_x_and_the_column_sums(rows, n_in, n_out):
    g, x = RNG.standard_normal((rows, n_out)), RNG.standard_normal((rows, n_in))
    w = RNG.standard_normal((n_out, n_in))
    gx, gw, gb = kernels.affine_grads(g, x, w, True, True, True)
    for got, want in ((gx, g @ w), (gw, g.T @ x), (gb, g.sum(axis=0))):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())
    assert kernels.affine_grads(g, x, w, False, True, False)[::2] == (None, None)


def test_affine_grads_of_values_are_recorded():
    g, x, w = (Value(RNG.standard_normal(shape)) for shape in ((6, 2), (6, 3), (2, 3)))
    grads = kernels.affine_grads(g, x, w, True, True, True)
    assert all(isinstance(v, Value) and v.requires_grad for v in grads)
    np.testing.assert_allclose(grads[1].data, g.data.T @ x.data, rtol=1e-12)


@pytest.mark.parametrize("shape", [(64, 1568), (5, 3)])
@pytest.mark.parametrize("value_first", [True, False])
def test_matmul_of_a_value_and_an_array_is_recorded(value_first, shape):
    a, b = RNG.standard_normal(shape), RNG.standard_normal((shape[1], 10))
    recorded = kernels.matmul(*((Value(a), b) if value_first else (a, Value(b))))
    assert isinstance(recorded, Value) and recorded.requires_grad
    np.testing.assert_allclose(recorded.data, a @ b, rtol=0, atol=1e-13 * np.abs(a @ b).max())


@pytest.mark.parametrize(("n", "item_bytes", "budget", "uneven", "even"), [
    (64, 28, 1000, [35, 29], [32, 32]),
    (64, 100, 1000, [10] * 6 + [4], [9, 9, 9, 9, 9, 9, 10]),
    (5, 100, 1000, [5], [5]),
    (3, 2000, 1000, [1, 1, 1], [1, 1, 1]),  # an item larger than the budget: one each
    (0, 8, 1000, [], []),
])
def test_chunks_cover_the_items_in_order_within_the_budget(n, item_bytes, budget, uneven,
                                                           even):
    for sizes, parts in [(uneven, kernels.chunks(n, item_bytes, budget)),
                         (even, kernels.chunks(n, item_bytes, budget, even=True))]:
        assert [len(range(n)[part]) for part in parts] == sizes
        assert [i for part in parts for i in range(n)[part]] == list(range(n))

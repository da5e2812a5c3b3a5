"""kernels.aligned_empty and aligned_copy: the arrays written in place step after step
(parameters, an optimizer's buffers) start on a 64-byte boundary, whatever malloc hands
out, and are otherwise the arrays NumPy would make."""

import numpy as np
import pytest

from tinygrad_edu import Value, nn
from tinygrad_edu.ops import kernels
from tinygrad_edu.optim import SGD, Adam

# Shapes from just at the threshold (float64: 512 elements = 4 KiB) to a layer's weight,
# odd sizes included, so that malloc hands out memory at every offset within a line
LARGE_SHAPES = [(512,), (8, 64), (3, 171, 2), (785, 257), (1000, 7)]


def offset(array):
    """Where the array's data starts within a 64-byte line."""
    return array.ctypes.data % 64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_empty_arrays_start_on_a_line(dtype):
    dtype = np.dtype(dtype)
    made = [kernels.aligned_empty(shape, dtype) for shape in LARGE_SHAPES * 8
            if np.prod(shape) * dtype.itemsize >= kernels._ALIGN_FROM]
    assert made and all(offset(a) == 0 for a in made)
    for a, shape in zip(made, [s for s in LARGE_SHAPES * 8
                               if np.prod(s) * dtype.itemsize >= kernels._ALIGN_FROM]):
        assert a.shape == shape and a.dtype == dtype
        assert a.flags.c_contiguous and a.flags.writeable


def test_arrays_below_the_threshold_are_plain():
    a = kernels.aligned_empty((3, 5), np.dtype(np.float64))
    assert a.shape == (3, 5) and a.base is None  # malloc's own array, no padding around it


def test_the_memory_around_an_aligned_array_is_not_written():
    a = kernels.aligned_empty((1000,), np.dtype(np.float64))
    raw = a.base
    raw[:] = 7
    a[:] = 0
    start = a.ctypes.data - raw.ctypes.data
    assert 0 <= start < 64 and start + a.nbytes <= raw.nbytes
    assert np.all(raw[:start] == 7) and np.all(raw[start + a.nbytes:] == 7)


@pytest.mark.parametrize("order", ["C", "F"])
def test_an_aligned_copy_holds_the_values_in_new_memory(order):
    rng = np.random.default_rng(0)
    source = np.asarray(rng.standard_normal((300, 40)), order=order)
    for dtype in (np.dtype(np.float32), np.dtype(np.float64)):
        copy = kernels.aligned_copy(source, dtype)
        assert offset(copy) == 0 and copy.dtype == dtype and copy.shape == source.shape
        np.testing.assert_array_equal(copy, source.astype(dtype))
        assert not np.shares_memory(copy, source)
    at_threshold = [kernels.aligned_copy(np.ones(kernels._ALIGN_FROM // 8), np.dtype(np.float64))
                    for _ in range(8)]  # successive blocks from malloc start 16 bytes apart
    assert all(offset(a) == 0 for a in at_threshold)
    small = kernels.aligned_copy(source[:2, :3], np.dtype(np.float32))
    assert small.dtype == np.float32 and not np.shares_memory(small, source)
    np.testing.assert_array_equal(small, source[:2, :3].astype(np.float32))


def test_value_data_is_an_aligned_copy():
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal((257, 33)) for _ in range(8)]
    values = [Value(w) for w in weights]
    assert all(offset(v.data) == 0 for v in values)
    for v, w in zip(values, weights):
        np.testing.assert_array_equal(v.data, w)
        assert not np.shares_memory(v.data, w)
    from_ints = Value(np.arange(2000))
    assert from_ints.dtype == np.float64 and offset(from_ints.data) == 0
    assert Value(np.ones((64, 64)), dtype=np.float32).data.ctypes.data % 64 == 0
    assert Value([[1.0] * 700] * 2).data.ctypes.data % 64 == 0


def test_parameters_of_layers_are_aligned():
    model = nn.MLP(784, [256, 129, 10], seed=0, dtype="float32")
    large = [p for p in model.parameters() if p.data.nbytes >= kernels._ALIGN_FROM]
    assert len(large) == 3 and all(offset(p.data) == 0 for p in large)  # the weights


def test_optimizer_buffers_are_aligned_and_loaded_aligned():
    model = nn.Linear(300, 70, seed=0)
    params = model.parameters()
    for p in params:
        p.grad = np.ones_like(p.data)
    sgd, adam = SGD(params, lr=0.1, momentum=0.9), Adam(params, lr=0.1)
    sgd.step()
    adam.step()
    weight = params[0]
    buffers = [sgd.state[weight]["momentum_buffer"], adam.state[weight]["exp_avg"],
               adam.state[weight]["exp_avg_sq"]]
    assert all(offset(b) == 0 for b in buffers)
    np.testing.assert_array_equal(buffers[0], np.ones_like(weight.data))
    again = SGD(params, lr=0.1, momentum=0.9)
    again.load_state_dict(sgd.state_dict())
    loaded = again.state[weight]["momentum_buffer"]
    assert offset(loaded) == 0 and not np.shares_memory(loaded, buffers[0])
    np.testing.assert_array_equal(loaded, buffers[0])

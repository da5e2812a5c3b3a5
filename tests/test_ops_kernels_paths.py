"""What the kernels' faster roads keep (tinygrad_edu.ops.kernels): empty and 0-d inputs as
the formula has them, a matrix times a batch of matrices in one-thread slices, a sum of
products without their full-size array, and helper threads started afresh after a fork."""

import threading
import tracemalloc

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value
from tinygrad_edu.ops import kernels


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_of_an_empty_batch_is_an_empty_batch(dtype):
    x = Value(np.empty((0, 3), dtype), requires_grad=True)
    y = F.relu(x)
    assert y.shape == (0, 3) and y.dtype == dtype
    y.backward(np.empty((0, 3), dtype))
    assert x.grad.shape == (0, 3) and x.grad.dtype == dtype
    empty = np.empty((0, 3), dtype)
    assert kernels.relu(empty).shape == kernels.relu_grad(empty, empty).shape == (0, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_of_a_negative_zero_is_positive_zero_for_a_scalar_as_for_an_array(dtype):
    """max(-0.0, 0) is +0.0 in NumPy: a 0-d Value, whose forward gets a NumPy scalar,
    gives the same as an array."""
    zero = dtype(-0.0)
    for got in [kernels.relu(zero), F.relu(Value(zero)).data.reshape(1),
                kernels.relu(np.array([zero]))]:
        assert got.dtype == dtype and got.tobytes() == np.zeros(got.shape, dtype).tobytes()


def _matmul_calls(monkeypatch):
    """Record the shape of the result of every np.matmul call."""
    calls = []
    real = np.matmul

    def spy(a, b, **kwargs):
        out = real(a, b, **kwargs)
        calls.append(out.shape)
        return out

    monkeypatch.setattr(np, "matmul", spy)
    return calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_of_a_matrix_by_a_batch_of_matrices_runs_in_one_thread_slices(dtype,
                                                                             monkeypatch):
    """(64, 800) @ (3, 800, 20), a million multiply-adds per matrix: the batch of three
    products in slices of the matrix's rows (two slices of each), of the batch's shape."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 800)).astype(dtype)
    b = rng.standard_normal((3, 800, 20)).astype(dtype)
    expected = a @ b
    calls = _matmul_calls(monkeypatch)
    z = kernels.matmul(a, b)
    assert z.dtype == dtype and z.shape == (3, 64, 20)
    # sums of 800 products, perhaps in another order: float32 keeps about 1e-5 of the
    # largest entry
    tolerance = (2e-5 if dtype == np.float32 else 1e-13) * np.abs(expected).max()
    np.testing.assert_allclose(z, expected, rtol=0, atol=tolerance)
    assert sorted(calls) == [(3, 32, 20), (3, 32, 20)]


def test_channel_dot_sums_the_products_without_making_their_array():
    """Σ a b per channel accumulates as it goes: no array of the inputs' size is made
    (a (64, 16, 32, 32) batch of products would take 4 MiB)."""
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal((64, 16, 32, 32)).astype(np.float32) for _ in range(2))
    tracemalloc.start()
    try:
        dot = kernels.channel_dot(a, b)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < a.nbytes // 8
    expected = np.einsum("ncs,ncs->c", a.reshape(64, 16, -1).astype(np.float64),
                         b.reshape(64, 16, -1).astype(np.float64))
    assert dot.shape == (1, 16, 1, 1) and dot.dtype == np.float32
    np.testing.assert_allclose(dot.reshape(-1), expected, rtol=1e-4)


@pytest.fixture
def set_threads(monkeypatch):
    """kernels.set_num_threads for one test; the previous setting comes back after it."""
    monkeypatch.setattr(kernels, "_num_threads", kernels._num_threads)
    return kernels.set_num_threads


def test_a_forked_child_forgets_the_parents_helper_threads(set_threads, monkeypatch):
    """In a forked child only the forking thread exists: the hook os.fork runs there
    (kernels._forget_helpers, run here in the parent itself, its helpers put back after)
    leaves no helper listed, and the next parallel_map starts one of its own."""
    set_threads(2)
    barrier = threading.Barrier(2, timeout=10)

    def together(part):
        barrier.wait()
        return threading.get_ident()

    kernels.parallel_map(together, range(2))
    parents = set(kernels._helpers)
    assert parents
    for name in ("_jobs", "_helpers", "_helpers_lock"):
        monkeypatch.setattr(kernels, name, getattr(kernels, name))
    kernels._forget_helpers()
    assert kernels._helpers == [] and kernels._jobs.empty()
    threads = set(kernels.parallel_map(together, range(2)))
    (helper,) = kernels._helpers
    assert helper not in parents and threads == {threading.get_ident(), helper.ident}


def test_the_helper_threads_are_named_for_the_package(set_threads):
    """A thread dump or a profiler shows whose the helper threads are."""
    set_threads(2)
    barrier = threading.Barrier(2, timeout=10)
    kernels.parallel_map(lambda part: barrier.wait(), range(2))
    assert kernels._helpers and {t.name for t in kernels._helpers} == {"tinygrad_edu"}


@pytest.mark.parametrize("axis", [0, 1])
def test_sum_along_a_2d_array_is_one_product_with_ones(axis, monkeypatch):
    """The rows or columns of a 2-D array are summed by one BLAS call (np.dot with a vector
    of ones), whichever axis."""
    x = np.random.default_rng(2).standard_normal((5, 3))
    expected = x.sum(axis=axis)
    calls = []
    real = np.dot
    monkeypatch.setattr(np, "dot", lambda a, b: calls.append(1) or real(a, b))
    np.testing.assert_allclose(kernels.sum_along(x, axis), expected, rtol=1e-14)
    assert calls == [1]


@pytest.mark.parametrize("first", [np.float32, np.float64])
def test_matmul_in_slices_of_mixed_dtypes_is_the_promoted_product(first):
    """float32 by float64 (either way round): a float64 product, as a @ b."""
    rng = np.random.default_rng(3)
    second = np.float64 if first is np.float32 else np.float32
    a = rng.standard_normal((64, 1568)).astype(first)
    b = rng.standard_normal((1568, 10)).astype(second)
    z = kernels.matmul(a, b)
    assert z.dtype == np.float64
    np.testing.assert_allclose(z, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-12,
                               atol=1e-12)

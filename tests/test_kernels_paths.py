"""What the kernels keep on their less common roads (tinygrad_edu.ops.kernels): where
reference counts cannot tell an array held elsewhere from one only its list holds,
_calibrate says so (empty then reuses no array); the helper threads are daemons, so a
script ends without joining them; relu_grad keeps a large float32 gradient float32."""

import sys

import numpy as np
import pytest

from tinygrad_edu.ops import kernels


def test_calibrate_says_when_reference_counts_cannot_tell_held_from_alone(monkeypatch):
    monkeypatch.setattr(kernels, "_counts", lambda arrays: [(2, 2)] * len(arrays))
    assert kernels._calibrate() == ((2, 2), False)


def test_calibrate_says_so_when_they_cannot_tell_memory_held_through_a_view(monkeypatch):
    # the array's own count tells a held array apart; its memory block's count says nothing
    monkeypatch.setattr(kernels, "_counts",
                        lambda arrays: [(sys.getrefcount(a), 2) for a in arrays])
    assert kernels._calibrate()[1] is False


def test_calibrate_tells_them_apart_on_this_interpreter():
    unused, tells = kernels._calibrate()
    assert tells and (unused, tells) == (kernels._UNUSED, kernels._COUNTS_TELL)


def test_helper_threads_are_daemons_so_a_script_ends_without_joining_them(monkeypatch):
    monkeypatch.setattr(kernels, "_num_threads", kernels._num_threads)
    kernels.set_num_threads(2)
    assert kernels.parallel_map(lambda part: part * 2, [1, 2, 3]) == [2, 4, 6]
    assert kernels._helpers and all(thread.daemon for thread in kernels._helpers)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_grad_of_a_large_array_keeps_its_dtype(dtype):
    rng = np.random.default_rng(2)
    x, g = (rng.standard_normal((128, 256)).astype(dtype) for _ in range(2))  # 128 KiB+
    out = kernels.relu_grad(g, x)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, g * (x > 0))

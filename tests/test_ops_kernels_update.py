"""kernels.subtract_scaled_, the optimizers' in-place update: blocks for large contiguous
parameters, the plain expression for anything else."""

import numpy as np

from tinygrad_edu.ops import kernels


def test_a_large_parameter_that_is_not_contiguous_is_still_updated_in_place():
    rows = kernels._UPDATE_BLOCK_BYTES // 8 // 100 + 1  # float64: one block too many
    param = np.ones((rows, 100)).T  # a transposed view: Fortran-ordered
    g = np.full(param.shape, 2.0)  # C-ordered
    assert param.nbytes > kernels._UPDATE_BLOCK_BYTES and not param.flags.c_contiguous
    kernels.subtract_scaled_([(param, 0.25, g)])
    np.testing.assert_array_equal(param, np.full(param.shape, 0.5))


def test_a_large_contiguous_parameter_is_updated_block_by_block_to_the_same_values():
    rng = np.random.default_rng(0)
    param = rng.standard_normal(3 * kernels._UPDATE_BLOCK_BYTES // 8 + 5)  # float64
    g = rng.standard_normal(param.shape)
    expected = param - 0.1 * g
    kernels.subtract_scaled_([(param, 0.1, g)])
    np.testing.assert_array_equal(param, expected)


def test_one_call_updates_each_parameter_by_its_own_rate_and_gradient():
    rng = np.random.default_rng(1)
    small = rng.standard_normal((3, 4)).astype(np.float32)
    large = rng.standard_normal(2 * kernels._UPDATE_BLOCK_BYTES // 8 + 3)  # float64, blocks
    g_small, g_large = rng.standard_normal(small.shape).astype(np.float32), rng.standard_normal(
        large.shape)
    expected = (small - np.float32(0.5) * g_small, large - 0.01 * g_large)
    kernels.subtract_scaled_(iter([(small, np.array(0.5, np.float32), g_small),
                                   (large, 0.01, g_large)]))  # any iterable, read once
    np.testing.assert_array_equal(small, expected[0])
    np.testing.assert_array_equal(large, expected[1])
    assert small.dtype == np.float32

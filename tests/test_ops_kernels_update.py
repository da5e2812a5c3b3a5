"""kernels.subtract_scaled_, the optimizers' in-place update: blocks for large contiguous
parameters, the plain expression for anything else."""

import numpy as np

from tinygrad_edu.ops import kernels


def test_a_large_parameter_that_is_not_contiguous_is_still_updated_in_place():
    rows = kernels._UPDATE_BLOCK_BYTES // 8 // 100 + 1  # float64: one block too many
    param = np.ones((rows, 100)).T  # a transposed view: Fortran-ordered
    g = np.full(param.shape, 2.0)  # C-ordered
    assert param.nbytes > kernels._UPDATE_BLOCK_BYTES and not param.flags.c_contiguous
    kernels.subtract_scaled_(param, 0.25, g)
    np.testing.assert_array_equal(param, np.full(param.shape, 0.5))


def test_a_large_contiguous_parameter_is_updated_block_by_block_to_the_same_values():
    rng = np.random.default_rng(0)
    param = rng.standard_normal(3 * kernels._UPDATE_BLOCK_BYTES // 8 + 5)  # float64
    g = rng.standard_normal(param.shape)
    expected = param - 0.1 * g
    kernels.subtract_scaled_(param, 0.1, g)
    np.testing.assert_array_equal(param, expected)

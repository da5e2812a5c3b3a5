"""kernels.subtract_scaled_, the optimizers' in-place update: blocks for large contiguous
parameters, the plain expression for anything else."""

import numpy as np

from tinygrad_edu.ops import kernels


def test_a_large_parameter_that_is_not_contiguous_is_still_updated_in_place():
    param = np.ones((100, 120)).T  # a transposed view: Fortran-ordered, one block too many
    g = np.full(param.shape, 2.0)  # C-ordered
    assert param.size > kernels._UPDATE_BLOCK and not param.flags.c_contiguous
    kernels.subtract_scaled_(param, 0.25, g)
    np.testing.assert_array_equal(param, np.full(param.shape, 0.5))


def test_a_large_contiguous_parameter_is_updated_block_by_block_to_the_same_values():
    rng = np.random.default_rng(0)
    param = rng.standard_normal(3 * kernels._UPDATE_BLOCK + 5)
    g = rng.standard_normal(param.shape)
    expected = param - 0.1 * g
    kernels.subtract_scaled_(param, 0.1, g)
    np.testing.assert_array_equal(param, expected)

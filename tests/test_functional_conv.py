"""Dropout for images and stochastic depth (tinygrad_edu.functional.conv): what the
convolution tests (test_ops_conv.py, test_nn_conv.py) leave out."""

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value


def test_dropout2d_keeps_a_float32_input_float32():
    x = Value(np.ones((2, 3, 4, 4), np.float32), requires_grad=True)
    y = F.dropout2d(x, 0.5, training=True, seed=0)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    # every map is dropped or kept whole, and a kept one is scaled by 1 / (1 - p)
    assert set(np.unique(y.data)) <= {0.0, 2.0}


def test_stochastic_depth_with_p_zero_is_the_identity():
    x = Value(np.arange(8.0).reshape(2, 4))
    for mode in ("row", "batch"):
        assert F.stochastic_depth(x, 0.0, mode, seed=0) is x


def test_fractional_max_pool2d_places_its_windows_in_the_inputs_dtype():
    # As PyTorch computes the starts in the input's dtype: u = 0.99999997 puts the second
    # of three 1x1 windows over 3 pixels at 2 in float32, where float64 puts it at 1.
    x = Value(np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3))
    y = F.fractional_max_pool2d(x, 1, 3, samples=np.full((1, 1, 2), 0.99999997))
    np.testing.assert_array_equal(y.data[0, 0], x.data[0, 0][np.ix_([0, 2, 2], [0, 2, 2])])


def test_fractional_max_pool2d_takes_an_output_ratio_per_axis():
    x = Value(np.zeros((1, 1, 8, 8)))
    assert F.fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.75), seed=0).shape == (1, 1, 4, 6)
    assert F.fractional_max_pool2d(x, 2, output_ratio=[0.25, 0.5], seed=0).shape == (1, 1, 2, 4)


def test_fractional_max_pool2d_names_a_wrong_kernel_size():
    with pytest.raises(ValueError, match=r"^fractional_max_pool2d: kernel_size must be >= 1; "
                       r"got 0$"):
        F.fractional_max_pool2d(Value(np.zeros((1, 1, 4, 4))), 0, 2)


def test_conv2d_names_the_padded_input_it_does_not_fit_height_first():
    with pytest.raises(ValueError, match=r"^conv2d: the kernel 4x4 is larger than the padded "
                       r"input 3x5 \(input of shape \(1, 1, 3, 5\), padding=\(0, 0\)\)$"):
        F.conv2d(Value(np.zeros((1, 1, 3, 5))), Value(np.zeros((1, 1, 4, 4))))

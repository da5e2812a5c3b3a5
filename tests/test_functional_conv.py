"""Dropout for images and stochastic depth (tinygrad_edu.functional.conv): what the
convolution tests (test_ops_conv.py, test_nn_conv.py) leave out."""

import numpy as np

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

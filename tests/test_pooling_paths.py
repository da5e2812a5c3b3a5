"""Max pooling's road for windows that tile long rows (tinygrad_edu.ops.conv._window_max) is
taken only without padding: padding on one side only is pooled over the padded image too."""

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.functional import max_pool2d


@pytest.mark.parametrize("padding", [(0, 1), (1, 0)])
def test_max_pooling_of_windows_that_tile_long_rows_padded_on_one_side(padding):
    x = Value(np.random.default_rng(5).standard_normal((1, 2, 32, 32)))
    y = max_pool2d(x, 2, 2, padding)
    ph, pw = padding
    padded = np.pad(x.data, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    h, w = padded.shape[2] // 2, padded.shape[3] // 2
    expected = padded[:, :, :2 * h, :2 * w].reshape(1, 2, h, 2, w, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(y.data, expected)

"""What the linear op's faster road keeps (tinygrad_edu.ops.linalg.Linear): the layer's own
bias is added into the product's memory, so the forward makes one output-sized array."""

import tracemalloc

import numpy as np
import pytest

from tinygrad_edu import Value, no_grad
from tinygrad_edu.ops.linalg import Linear


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_with_its_own_bias_makes_one_output_sized_array(dtype):
    rng = np.random.default_rng(3)
    x, w, b = (Value(rng.standard_normal(s).astype(dtype)) for s in ((256, 64), (512, 64), (512,)))
    with no_grad():
        tracemalloc.start()
        try:
            z = Linear.apply(x, w, b)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    np.testing.assert_allclose(z.data, x.data @ w.data.T + b.data, rtol=1e-5)
    assert peak < 1.5 * z.data.nbytes

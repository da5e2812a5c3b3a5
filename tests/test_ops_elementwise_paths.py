"""What the elementwise ops' backward gives for an input that needs no gradient
(tinygrad_edu.ops.elementwise): None, as the engine expects."""

import numpy as np

from tinygrad_edu import Value
from tinygrad_edu.ops.elementwise import Pow


def test_pow_backward_returns_none_for_an_exponent_that_needs_no_gradient():
    x = Value(np.array([0.5, 2.0, 3.0]))
    y = Pow.apply(x, Value(np.array([2.0, -1.0, 0.5]), requires_grad=False))
    gx, gy = y.grad_fn.backward(y.grad_fn, np.ones(3))
    np.testing.assert_allclose(gx, [1.0, -0.25, 0.5 / np.sqrt(3.0)])
    assert gy is None

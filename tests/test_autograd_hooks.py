"""Hooks under ``create_graph``: a hook then sees the gradient as a Value, and what it
returns is part of the recorded graph, cast to the node's dtype like any replacement."""

import numpy as np

from tinygrad_edu import Value
from tinygrad_edu.autograd import grad


def test_a_hook_returning_a_value_of_another_dtype_stays_recorded_in_the_nodes_dtype():
    x = Value(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x * x
    y.register_hook(lambda g: g.astype(np.float64) * 3)
    seen = []  # what the next hook is handed: the replacement, already in y's dtype
    y.register_hook(lambda g: seen.append((type(g), g.dtype)))
    # d/dx sum(y**2) through the hook: 3 * 2y * 2x = 12 x**3
    (gx,) = grad((y * y).sum(), [x], create_graph=True)
    assert seen == [(Value, np.float32)]
    assert isinstance(gx, Value) and gx.dtype == np.float32
    np.testing.assert_array_equal(gx.data, [12, 96])
    # d/dx sum(12 y x): 12 y directly, and 12 x through y, where the hook triples it
    # again: 12 x**2 + 3 * 12 x * 2x = 84 x**2. A hook result taken as a constant would
    # leave only 12 x**2.
    (ggx,) = grad(gx.sum(), [x])
    assert ggx.dtype == np.float32
    np.testing.assert_array_equal(ggx, [84, 336])

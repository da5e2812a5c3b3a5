"""What the engine's backward pass keeps on its less common roads (tinygrad_edu.autograd):
the pass that viz.steps records is a plain one, as backward() without create_graph, and
a pass that fails part-way adds nothing to the parameters' gradients."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Value
from tinygrad_edu.viz.steps import backprop_steps


def test_recording_the_pass_hands_hooks_the_plain_arrays_backward_does():
    x = Value([1.0, 2.0])
    h = x * 3.0
    seen = []
    h.register_hook(seen.append)
    y = (h * h).sum()
    backprop_steps(y)
    y.backward()
    assert [type(g) for g in seen] == [np.ndarray, np.ndarray]
    np.testing.assert_array_equal(seen[0], seen[1])
    np.testing.assert_array_equal(seen[0], [6.0, 12.0])


def test_a_backward_that_fails_part_way_leaves_the_parameters_gradients_as_they_were():
    # The parameters' totals are stored once the whole pass is through: a step that
    # catches the error and goes on does not apply half a gradient.
    w = Value([1.0, 2.0])
    w.grad = np.array([0.5, 0.5])
    x = Value(0.0)
    with tg.detect_anomaly():
        loss = x.sqrt() + (w * 2.0).sum()  # sqrt's derivative at 0 is inf
        with pytest.raises(FloatingPointError, match=r"backward .* of Sqrt produced inf"):
            loss.backward()
    np.testing.assert_array_equal(w.grad, [0.5, 0.5])
    assert x.grad is None


def test_a_hooked_intermediate_keeps_no_grad_when_intermediate_grads_is_false():
    x = Value([1.0, 2.0])
    h = x * 3.0
    seen = []
    h.register_hook(seen.append)
    (h * h).sum().backward(intermediate_grads=False)
    np.testing.assert_array_equal(seen[0], [6.0, 12.0])
    assert h.grad is None
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])

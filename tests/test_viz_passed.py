"""The backward views draw what the engine passed: the gradient on each edge comes from the
engine's own pass (its trace hook), the same record the step viewer shows."""

import numpy as np
from test_viz_dot import edges, key_of, via_parts

from tinygrad_edu import Value, nn
from tinygrad_edu.viz import backprop_steps, node_keys, to_dot, trace
from tinygrad_edu.viz.dot import fmt


def backward_labels(dot: str) -> dict[tuple[str, str], str]:
    """(op key, input key) -> label of that edge in a backward view (drawn op -> input)."""
    return {(head, tail): attrs for head, tail, attrs in edges(dot)}


def test_edge_gradients_are_the_contributions_the_step_viewer_records():
    a = Value(np.array([[1.0, -2.0, 0.5]]), name="a")
    b = Value(np.array([[2.0], [3.0]]), name="b")
    shared = a * b  # broadcast to (2, 3): the engine sums each gradient back
    root = (shared.tanh() * shared + a).sum()
    root.backward()
    dot = to_dot(root, mode="backward")
    keys = node_keys(root)
    labels = backward_labels(dot)
    checked = 0
    for step in backprop_steps(root):
        for e in step.inputs:
            label = labels[keys[id(step.node._ctx)], keys[id(e.input)]]
            expected = (fmt(e.contribution) if np.ndim(e.contribution) == 0
                        else f"mean {fmt(np.mean(e.contribution))}")
            assert expected in label
            checked += 1
    assert checked == 8  # Sum, Add (2), Mul (2), Tanh, Mul (2)


def test_drawing_the_backward_view_changes_no_grad():
    x = Value(np.array([1.0, 2.0]), name="x")
    h = x * 3.0
    root = (h * h).sum()
    root.backward()
    before = {id(v): v.grad for v in (x, h, root)}
    to_dot(root, mode="backward")
    to_dot(root, mode="both")
    assert all(v.grad is before[id(v)] for v in (x, h, root))


def test_a_hook_on_the_root_is_not_applied_again():
    a = Value(2.0, name="a")
    root = a * 3.0
    root.name = "root"
    root.register_hook(lambda g: g * 10)
    root.backward()  # root.grad 10 after the hook, a.grad 30
    dot = to_dot(root, mode="backward")
    (label,) = [attrs for _, tail, attrs in edges(dot) if tail == key_of(dot, "<b>a</b>")]
    assert "label=<30.00>" in label
    a.grad = None
    root.backward()  # the hook is still registered
    assert a.grad == 30.0


def test_hooks_below_the_root_run_in_the_pass_as_in_backward():
    a = Value(2.0, name="a")
    h = a * 3.0
    seen = []
    h.register_hook(lambda g: seen.append(float(g)) or g * 10)
    root = h * 2.0
    root.backward()
    dot = to_dot(root, mode="backward")
    assert seen == [2.0, 2.0]
    (label,) = [attrs for _, tail, attrs in edges(dot) if tail == key_of(dot, "<b>a</b>")]
    assert "label=<60.00>" in label and a.grad == 60.0


class Product(nn.Module):
    def forward(self, x, y):
        return x * y


def test_a_collapsed_call_passes_back_only_what_its_own_ops_passed():
    # y is computed from x outside the call, so x's gradient has two parts: what the
    # call's Mul passed to x directly, and what reached x through y. The call's edge
    # carries the first only, so the parts add up to x.grad.
    x = Value(2.0, name="x")
    y = x * 3.0
    y.name = "y"
    model = Product()
    with trace(model):
        out = model(x, y)
    loss = out * 1.0
    loss.backward()
    dot = to_dot(loss, mode="backward", collapse=Product)
    total, parts = via_parts(dot, key_of(dot, "<b>x</b>"))
    assert total == x.grad == 12.0 and sorted(parts) == [6.0, 6.0]

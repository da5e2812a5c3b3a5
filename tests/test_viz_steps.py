"""backprop_steps records the engine's own backward pass: order, gradients, running totals."""

import doctest
import json
import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.viz import steps as steps_module
from tinygrad_edu.viz.steps import backprop_steps, forward_steps, steps_to_json

UNARY = {"tanh": Value.tanh, "relu": Value.relu, "exp": Value.exp}
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


@st.composite
def scalar_graphs(draw):
    """A random expression DAG over 1-3 leaves (and a constant that needs no grad): each
    new node applies an op to any earlier nodes, so subexpressions are shared."""
    floats = st.floats(-2, 2, allow_nan=False)
    leaves = [Value(draw(floats), name=f"x{i}") for i in range(draw(st.integers(1, 3)))]
    nodes = leaves + [Value(draw(floats), requires_grad=False, name="const")]
    for _ in range(draw(st.integers(1, 10))):
        pick = st.sampled_from(nodes)
        op = draw(st.sampled_from(sorted(UNARY) + sorted(BINARY) + ["scale"]))
        with np.errstate(all="ignore"):  # 0 / 0 and overflow: nan and inf are fine here
            if op in UNARY:
                nodes.append(UNARY[op](draw(pick)))
            elif op in BINARY:
                nodes.append(BINARY[op](draw(pick), draw(pick)))
            else:  # a plain number as an input: an op input with no edge
                nodes.append(draw(pick) * 0.5)
    return leaves, nodes, nodes[-1] + leaves[0]  # the root always needs a gradient


def edges_into(steps):
    """id(node) -> the edges that carry a gradient into it, in the order they were added."""
    into = {}
    for s in steps:
        for e in s.inputs:
            into.setdefault(id(e.input), []).append(e)
    return into


@given(scalar_graphs())
def test_final_totals_are_the_grads_backward_gives(graph):
    leaves, _, root = graph
    with np.errstate(all="ignore"):  # exp and / may overflow: equal inf and nan still match
        steps = backprop_steps(root)
        root.backward()
    into = edges_into(steps)
    assert steps[0].node is root and steps[0].upstream == 1.0 and steps[0].index == 0
    for s in steps:
        np.testing.assert_array_equal(s.upstream, s.node.grad)
        if s.node is not root:
            np.testing.assert_array_equal(into[id(s.node)][-1].total, s.node.grad)
    for leaf in leaves:  # a leaf that the root depends on has a step, and only then
        found = [s for s in steps if s.node is leaf]
        assert len(found) == (leaf.grad is not None)
        assert all(s.op is None and s.inputs == () for s in found)


@given(scalar_graphs())
def test_running_totals_add_up_each_contribution(graph):
    _, _, root = graph
    with np.errstate(all="ignore"):
        steps = backprop_steps(root)
        for edges in edges_into(steps).values():
            total = None
            for e in edges:
                if e.contribution is not None:
                    total = e.contribution if total is None else total + e.contribution
                np.testing.assert_array_equal(e.total, total)
    for s in steps:
        for e in s.inputs:
            if e.local is not None and np.isfinite(e.local) and np.isfinite(s.upstream):
                assert s.upstream * e.local == pytest.approx(e.contribution, rel=1e-12)


@given(scalar_graphs())
def test_steps_follow_the_engines_processing_order(graph):
    _, nodes, root = graph
    order = []
    for v in nodes + [root]:
        if v.requires_grad:
            v.register_hook(lambda g, v=v: order.append(id(v)))
    with np.errstate(all="ignore"):
        root.backward()
        in_backward = list(order)
        order.clear()
        steps = backprop_steps(root)
    assert [id(s.node) for s in steps] == in_backward == order
    assert [s.index for s in steps] == list(range(len(steps)))
    assert len({id(s.node) for s in steps}) == len(steps)


@given(scalar_graphs())
def test_json_is_strict_and_complete(graph):
    _, _, root = graph
    with np.errstate(all="ignore"):
        steps = backprop_steps(root)
    loaded = json.loads(steps_to_json(steps))
    assert [d["label"] for d in loaded] == [s.label for s in steps]
    assert [len(d["inputs"]) for d in loaded] == [len(s.inputs) for s in steps]


def test_micrograd_example_step_by_step():
    a, b, c, f = Value(2.0, name="a"), Value(-3.0, name="b"), Value(10.0, name="c"), \
        Value(-2.0, name="f")
    e = a * b
    d = e + c
    L = (d * f).tanh()
    steps = backprop_steps(L)
    assert [s.label for s in steps] == ["Tanh#1", "Mul#2", "f", "Add#1", "c", "Mul#1", "b",
                                        "a"]
    tanh, mul = steps[0], steps[1]
    assert tanh.data == pytest.approx(np.tanh(-8.0))
    (edge,) = tanh.inputs
    assert edge.label == "Mul#2" and edge.index == 0
    assert edge.local == pytest.approx(1 - np.tanh(-8.0) ** 2)
    assert [(e.label, e.local) for e in mul.inputs] == [("Add#1", -2.0), ("f", 4.0)]
    assert steps[-1].upstream == pytest.approx(-3 * -2 * (1 - np.tanh(-8.0) ** 2))
    assert a.grad is None and L.grad is None  # recording a pass leaves .grad alone


def test_an_input_used_twice_gets_two_edges_and_a_running_total():
    a = Value(3.0, name="a")
    b = a + a  # the diamond: b = a + a; c = b * b
    c = b * b
    steps = backprop_steps(c)
    assert [(e.index, e.label, e.local, e.contribution, e.total) for e in steps[0].inputs] \
        == [(0, "Add#1", 6.0, 6.0, 6.0), (1, "Add#1", 6.0, 6.0, 12.0)]
    assert [(e.contribution, e.total) for e in steps[1].inputs] == [(12.0, 12.0), (12.0, 24.0)]
    assert str(steps[1]) == ("Add#1 = Add(a, a) = 6  upstream 12\n"
                             "  a: 12 x 1 = 12; total so far 12\n"
                             "  a: 12 x 1 = 12; total so far 24")


def test_local_is_none_where_the_upstream_is_zero():
    x = Value(0.5, name="x")
    y = x.tanh() * Value(0.0, name="z")
    (tanh_step,) = [s for s in backprop_steps(y) if s.op == "Tanh"]
    assert tanh_step.upstream == 0.0 and tanh_step.inputs[0].local is None
    assert str(tanh_step).endswith("  x: 0 x ? = 0; total so far 0")


def test_array_graph_with_broadcasting():
    rng = np.random.default_rng(0)
    x = Value(rng.standard_normal((3, 2)), name="x")
    b = Value(rng.standard_normal(2), name="b")
    w = Value(0.7, name="w")
    loss = (x * w + b).tanh().sum()
    steps = backprop_steps(loss)
    assert [s.label for s in steps] == ["Sum#1", "Tanh#1", "Add#1", "b", "Mul#1", "w", "x"]
    add, mul = steps[2], steps[4]
    upstream = add.upstream
    assert isinstance(upstream, np.ndarray) and upstream.shape == (3, 2)
    # b was broadcast from (2,) to (3, 2): the engine summed its gradient back down
    np.testing.assert_array_equal(add.inputs[1].contribution, upstream.sum(axis=0))
    assert isinstance(mul.inputs[1].contribution, float)  # w is 0-d: its share is a float
    assert mul.inputs[1].contribution == pytest.approx(float((mul.upstream * x.data).sum()))
    assert all(e.local is None for s in steps for e in s.inputs)  # arrays: no local number
    loss.backward()
    for s in steps:
        np.testing.assert_array_equal(s.upstream, s.node.grad)
    loaded = json.loads(steps_to_json(steps, max_listed=2))
    assert loaded[3]["data"] == {"shape": [2], "data": b.data.tolist()}
    assert set(loaded[1]["upstream"]) == {"shape", "min", "max", "mean"}
    assert loaded[6]["upstream"]["mean"] == pytest.approx(x.grad.mean())


def test_an_explicit_upstream_gradient_seeds_the_pass():
    x = Value([1.0, 2.0], name="x")
    y = x * x
    steps = backprop_steps(y, grad=[1.0, -1.0])
    np.testing.assert_array_equal(steps[0].upstream, [1.0, -1.0])
    np.testing.assert_array_equal(steps[1].upstream, [2.0, -4.0])


def test_a_hook_that_replaces_the_gradient_shows_in_the_upstream():
    x = Value(1.0, name="x")
    h = x * 2.0
    h.register_hook(lambda g: g * 10)
    steps = backprop_steps(h * 3.0)
    assert [(s.label, s.upstream) for s in steps] == [("Mul#2", 1.0), ("Mul#1", 30.0),
                                                      ("x", 60.0)]
    assert steps[0].inputs[0].total == 3.0  # before the hook: the sum of what arrived


def test_json_writes_nan_and_inf_as_strings():
    x = Value(0.0, name="x")
    with np.errstate(all="ignore"):
        steps = backprop_steps(x / x)
    text = steps_to_json(steps)
    assert "NaN" not in text and '"nan"' in text
    assert json.loads(text)[0]["data"] == "nan"


def test_errors_name_backprop_steps():
    with pytest.raises(RuntimeError, match="backprop_steps: this Value does not require"):
        backprop_steps(Value(1.0, requires_grad=False))
    with pytest.raises(ValueError, match="backprop_steps: a gradient can be implied only"):
        backprop_steps(Value([1.0, 2.0]) * 2.0)


@given(scalar_graphs())
def test_forward_steps_evaluate_every_node_after_its_inputs(graph):
    _, _, root = graph
    steps = forward_steps(root)
    position = {id(s.node): s.index for s in steps}
    assert [s.index for s in steps] == list(range(len(steps))) and steps[-1].node is root
    assert len(position) == len(steps)  # each node once
    for s in steps:
        ctx = s.node._ctx
        inputs = [] if ctx is None else [x for x in ctx.inputs if isinstance(x, Value)]
        assert all(position[id(x)] < s.index for x in inputs)
        assert [a.label for a in s.args if a.input is not None] == [
            steps[position[id(x)]].label for x in inputs]
    # The labels are those of the backward steps.
    labels = {id(s.node): s.label for s in steps}
    with np.errstate(all="ignore"):  # the random graph may hold inf and nan
        backward = backprop_steps(root)
    assert all(labels[id(b.node)] == b.label for b in backward)


def test_forward_steps_show_constants_by_value_and_encode_as_json():
    a = Value(2.0, name="a")
    steps = forward_steps(a * 3.0)
    assert str(steps[1]) == "Mul#1 = Mul(a, 3) = Mul(2, 3) = 6"
    (encoded,) = [s for s in json.loads(steps_to_json(steps)) if s["op"]]
    assert encoded["pass"] == "forward"
    assert encoded["args"] == [{"label": "a", "data": 2.0}, {"label": "3", "data": 3.0}]


def test_the_module_docstring_example_runs():
    assert doctest.testmod(steps_module).failed == 0

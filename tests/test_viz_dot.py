"""The Graphviz views: DOT structure, gradients on edges, clusters, marks, rendering."""

import re
import subprocess

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Value, nn
from tinygrad_edu import functional as F
from tinygrad_edu.models import digits_cnn
from tinygrad_edu.viz.dot import GRAD_SCALE, MARK_COLOURS, ROLE_COLOURS, draw, to_dot
from tinygrad_edu.viz.modules import module_calls, trace
from tinygrad_edu.viz.render import GraphvizNotFoundError, render

NODE = re.compile(r"^\t*(n\d+) \[label=(.*)\]$", re.M)
EDGE = re.compile(r"^\t*(n\d+) -> (n\d+)(?: \[(.*)\])?$", re.M)


def nodes(dot: str) -> dict[str, str]:
    """Node key -> the rest of its line (label and attributes)."""
    return dict(NODE.findall(dot))


def edges(dot: str) -> list[tuple[str, str, str]]:
    return EDGE.findall(dot)


def key_of(dot: str, text: str) -> str:
    (key,) = [k for k, line in nodes(dot).items() if text in line]
    return key


def clusters(dot: str) -> dict[str, tuple[str | None, set[str]]]:
    """Cluster label -> (parent cluster label, keys of the nodes directly inside)."""
    found: dict[str, tuple[str | None, set[str]]] = {}
    stack: list[str] = []
    for line in dot.splitlines():
        line = line.strip()
        if line.startswith("subgraph cluster_"):
            stack.append("?")
        elif line.startswith("graph [") and stack and stack[-1] == "?":
            stack[-1] = re.search(r"label=<(.*?)>", line).group(1)
            found[stack[-1]] = (stack[-2] if len(stack) > 1 else None, set())
        elif line == "}" and stack:
            stack.pop()
        elif stack and (m := re.match(r"(n\d+) \[", line)):
            found[stack[-1]][1].add(m.group(1))
    return found


def via_parts(dot: str, key: str) -> tuple[float, list[float]]:
    """The ``grad T = p via x + q via y`` line of a scalar node: T and the parts."""
    m = re.search(r"grad (\S+) = (.*?)</td>", nodes(dot)[key])
    parts = [float(p.split(" via ")[0]) for p in m.group(2).split(" + ")]
    return float(m.group(1)), parts


# ----------------------------------------------------------------------------------------
# The forward view
# ----------------------------------------------------------------------------------------


def test_forward_view_shows_values_ops_constants_and_roles():
    w = Value(2.0, name="w")
    x = Value(3.0, requires_grad=False, name="x")
    y = w * x + 1.0
    dot = to_dot(y, legend=False)
    found = nodes(dot)
    assert len(found) == 7  # y, Add, w*x, Mul, w, x and the constant 1.0
    ops = sorted(re.sub(r"<|>.*", "", line) for line in found.values() if "shape=box" in line)
    assert ops == ["Add", "Mul"]
    assert "<b>w</b>" in found[key_of(dot, "<b>w</b>")]
    assert ROLE_COLOURS["parameter"] in found[key_of(dot, "<b>w</b>")]
    assert ROLE_COLOURS["input"] in found[key_of(dot, "<b>x</b>")]
    assert ROLE_COLOURS["root"] in found["n0"]
    assert "data 7.000" in found["n0"] and "data 2.000" in found[key_of(dot, "<b>w</b>")]
    assert "grad" not in found["n0"]  # no backward pass yet
    const = key_of(dot, "<1.000>")
    assert "fontsize=9" in found[const]
    assert len(edges(dot)) == 6


def test_forward_view_shows_gradients_once_backward_ran():
    a = Value(2.0, name="a")
    b = a * a
    b.backward()
    assert "grad 4.000" in nodes(to_dot(a * 1.0))[key_of(to_dot(a * 1.0), "<b>a</b>")]


def test_arrays_show_dtype_shape_and_statistics():
    x = Value(np.arange(6.0).reshape(2, 3), name="x")
    dot = to_dot(x.sum())
    line = nodes(dot)[key_of(dot, "<b>x</b>")]
    assert "float64 (2, 3)" in line
    assert "mean 2.500 std 1.708" in line and "min 0.000 max 5.000" in line


def test_edges_into_order_sensitive_ops_carry_the_position():
    a, b = Value(5.0, name="a"), Value(3.0, name="b")
    dot = to_dot((a - b) * (b / a), legend=False)
    ka, kb = key_of(dot, "<b>a</b>"), key_of(dot, "<b>b</b>")
    ops = {k: re.match(r"<(\w+)", line).group(1) for k, line in nodes(dot).items()
           if "shape=box" in line}
    labels = {(ops.get(h), t): attrs for t, h, attrs in edges(dot)}
    assert labels[("Sub", ka)] == "label=<0>" and labels[("Sub", kb)] == "label=<1>"
    assert labels[("Div", kb)] == "label=<0>" and labels[("Div", ka)] == "label=<1>"
    mul_inputs = [attrs for t, h, attrs in edges(dot) if ops.get(h) == "Mul"]
    assert mul_inputs == ["", ""]  # Mul is commutative: no positions


def test_constant_operand_position_is_shown():
    a = Value(2.0, name="a")
    dot = to_dot(1.0 - a, legend=False)
    const = key_of(dot, "<1.000>")
    assert [attrs for t, _, attrs in edges(dot) if t == const] == ["label=<0>"]


def test_a_constant_that_is_not_a_number_is_shown_by_its_repr():
    class Scale(tinygrad_edu.Function):
        @staticmethod
        def forward(ctx, x, how):
            return x * (2.0 if how is None else 3.0)

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0, None

    dot = to_dot(Scale.apply(Value(1.0, name="x"), None), legend=False)
    assert key_of(dot, "<None>") in nodes(dot)


# ----------------------------------------------------------------------------------------
# The backward view
# ----------------------------------------------------------------------------------------


def test_backward_view_needs_a_backward_pass():
    with pytest.raises(ValueError, match=r"call root\.backward\(\) first"):
        draw(Value(2.0) * 3.0, mode="backward")


def test_backward_edges_run_from_the_root_and_carry_local_gradients():
    a, b = Value(2.0, name="a"), Value(-3.0, name="b")
    c = a * b
    c.name = "c"
    c.backward()
    dot = to_dot(c, mode="backward", legend=False)
    ka, kb = key_of(dot, "<b>a</b>"), key_of(dot, "<b>b</b>")
    found = {(t, h): attrs for t, h, attrs in edges(dot)}
    (mul,) = [h for t, h in found if t == "n0"]  # the root points back to its op
    assert "label=<-3.000>" in found[(mul, ka)] and "label=<2.000>" in found[(mul, kb)]


def test_via_parts_add_up_to_grad_in_the_diamond():
    a = Value(2.0, name="a")
    b = a + a
    b.name = "b"
    c = b * b + a
    c.backward()
    dot = to_dot(c, mode="backward")
    total, parts = via_parts(dot, key_of(dot, "<b>a</b>"))
    assert total == pytest.approx(a.grad.item(), rel=1e-3)
    assert sum(parts) == pytest.approx(a.grad.item(), rel=1e-3)
    assert len(parts) == 3  # twice through b = a + a, once directly
    assert "via b" in nodes(dot)[key_of(dot, "<b>a</b>")]


def test_array_gradients_sum_down_to_the_input_shape():
    w = Value(np.ones(3), name="w")
    x = Value(np.arange(6.0).reshape(2, 3), requires_grad=False)
    loss = (x * w).sum()
    loss.backward()
    dot = to_dot(loss, mode="both")
    kw = key_of(dot, "<b>w</b>")
    (attrs,) = [a for t, _, a in edges(dot) if t == kw]
    assert f"mean {np.mean(w.grad):#.4g}" in attrs


def test_gradient_colours_and_marks():
    a = Value(1.0, name="a")
    tiny = a * 1e-12
    tiny.name = "tiny"
    huge = a * 1e6
    huge.name = "huge"
    loss = tiny + huge
    loss.backward()
    dot = to_dot(loss, mode="backward")
    line = nodes(dot)[key_of(dot, "<b>a</b>")]
    assert GRAD_SCALE[0][1] in line  # the largest gradient
    assert GRAD_SCALE[-1][1] in nodes(dot)[key_of(dot, "<b>tiny</b>")]  # 1e-6 of it
    assert "exploding gradient" in line and MARK_COLOURS["exploding gradient"] in line
    b = Value(1.0, name="b")
    small = b * 1e-9
    small.backward()
    dot = to_dot(small, mode="backward")
    line = nodes(dot)[key_of(dot, "<b>b</b>")]
    assert "vanishing gradient" in line and 'border="3"' in line


def test_vanishing_is_relative_to_the_largest_gradient():
    # The largest gradient here is 500, not 1: d's 1e-4 is 2e-7 of it (vanishing), while
    # c's 500 and the root's 1 are not, though 1 is below 1e-6 of nothing but itself.
    c, d = Value(1.0, name="c"), Value(1.0, name="d")
    loss = c * 500.0 + d * 1e-4
    loss.backward()
    dot = to_dot(loss, mode="backward")
    found = nodes(dot)
    assert "vanishing gradient: 2.000e-07 x largest" in found[key_of(dot, "<b>d</b>")]
    assert "vanishing" not in found[key_of(dot, "<b>c</b>")] + found["n0"]
    # Scaled down together, nothing vanishes: e's 1e-8 is a tenth of the largest.
    e = Value(1.0, name="e")
    small = e * 0.1
    grads = {small: np.float64(1e-7), e: np.float64(1e-8)}
    dot = to_dot(small, mode="backward", grads=grads)
    assert "vanishing" not in nodes(dot)[key_of(dot, "<b>e</b>")]


def test_dead_relu_and_saturated_units_are_marked():
    x = Value(np.array([-1.0, -2.0]), name="x")
    dead = x.relu().sum()
    dead.backward()
    dot = to_dot(dead, mode="backward")
    relu = [line for line in nodes(dot).values() if line.startswith("<ReLU")]
    assert "dead ReLU" in relu[0] and MARK_COLOURS["dead ReLU"] in relu[0]
    alive = Value(np.array([1.0, -2.0])).relu().sum()
    assert "dead" not in to_dot(alive, legend=False)
    sat = (Value(np.array([5.0, 6.0])).tanh() + Value(-9.0).sigmoid()).sum()
    dot = to_dot(sat, legend=False)
    assert "saturated: 2/2" in dot and "<Sigmoid<br/>" in dot and dot.count("saturated") == 2


def op_line(dot: str, op: str) -> str:
    (line,) = [line for line in nodes(dot).values() if line.startswith(f"<{op}")]
    return line


def test_relu_dead_units_are_counted_per_unit_over_the_batch():
    rng = np.random.default_rng(0)
    x = np.abs(rng.standard_normal((5, 8))) + 0.1
    x[:, [1, 4, 6]] *= -1  # exactly 3 of 8 units are <= 0 for every example
    x[:, 7] = -1.0
    x[3, 7] = 0.5  # unit 7 is alive on one example only: not dead
    dot = to_dot(Value(x).relu().sum(), legend=False)
    relu = op_line(dot, "ReLU")
    assert "3/8 dead" in relu and "dead ReLU" not in relu
    assert MARK_COLOURS["dead ReLU"] not in relu  # not all dead: no mark
    x[3, 7] = -0.5
    assert "4/8 dead" in op_line(to_dot(Value(x).relu().sum(), legend=False), "ReLU")
    dead = op_line(to_dot(Value(-np.abs(x)).relu().sum(), legend=False), "ReLU")
    assert "8/8 dead" in dead and f'color="{MARK_COLOURS["dead ReLU"]}"' in dead
    alive = to_dot(Value(np.abs(x) + 1).relu().sum(), legend=False)
    assert "dead" not in alive


def test_dead_units_are_counted_per_layer_on_the_linear_stack_of_an_mlp():
    # nn.MLP runs its layers as one node: the dead units of each ReLU layer are noted there
    model = nn.MLP(2, [4, 2], seed=0)
    model.layers[0].bias.data[...] = -100.0
    model.layers[0].bias.data[1] = 100.0
    x = Value(np.random.default_rng(0).standard_normal((6, 2)), requires_grad=False)
    line = op_line(to_dot(F.cross_entropy(model(x), np.zeros(6, int)), legend=False),
                   "LinearStack")
    assert "layer 1: 3/4 dead" in line and MARK_COLOURS["dead ReLU"] not in line
    model.layers[0].bias.data[1] = -100.0
    line = op_line(to_dot(F.cross_entropy(model(x), np.zeros(6, int)), legend=False),
                   "LinearStack")
    assert "layer 1: 4/4 dead" in line and f'color="{MARK_COLOURS["dead ReLU"]}"' in line


def test_tanh_and_sigmoid_saturation_is_counted_per_unit():
    z = np.full((4, 6), 0.1)
    z[:, 0], z[:, 1] = 5.0, -5.0  # saturated for every example
    z[:3, 2] = 5.0  # saturated on 3 of 4 examples: not a saturated unit
    tanh = op_line(to_dot(Value(z).tanh().sum(), legend=False), "Tanh")
    assert "2/6 saturated" in tanh and MARK_COLOURS["saturated"] not in tanh  # 11/24 outputs
    z[:, 3] = 9.0
    tanh = op_line(to_dot(Value(z).tanh().sum(), legend=False), "Tanh")
    assert "3/6 saturated" in tanh and "saturated: 62% of outputs" in tanh
    assert f'color="{MARK_COLOURS["saturated"]}"' in tanh  # 15/24: mostly saturated
    sigmoid = op_line(to_dot((Value(z) * 2.0).sigmoid().sum(), legend=False), "Sigmoid")
    assert "3/6 saturated" in sigmoid  # sigmoid(10) > 0.99; sigmoid(-10) < 0.01
    assert "saturated" not in to_dot(Value(np.zeros((4, 6))).tanh().sum(), legend=False)


def test_cnn_units_are_channels_on_the_op_and_on_a_collapsed_call():
    x = np.ones((2, 4, 3, 3))
    x[:, 1] = -1.0  # channel 1 is dead at every position of every example
    x[:, 2] = -1.0
    x[1, 2, 2, 0] = 0.5  # channel 2 is alive at one position of one example
    images = Value(x, name="images")
    dot = to_dot(images.relu().sum(), legend=False)
    assert "1/4 dead" in op_line(dot, "ReLU")
    relu = nn.ReLU()
    with trace(relu):
        loss = relu(images).sum()
    dot = to_dot(loss, legend=False, collapse=nn.ReLU)
    assert not any(line.startswith("<ReLU") for line in nodes(dot).values())
    assert "1/4 dead" in nodes(dot)[key_of(dot, "<b>ReLU()</b>")]


def test_legend_lists_roles_scale_and_marks():
    a = Value(2.0)
    b = a * a
    b.backward()
    assert "legend [" not in to_dot(b, legend=False)
    forward, backward = to_dot(b), to_dot(b, mode="backward")
    assert all(role in forward for role in ROLE_COLOURS) and "|grad|" not in forward
    assert all(mark in backward for mark in MARK_COLOURS) and "|grad|" in backward


# ----------------------------------------------------------------------------------------
# Escaping, determinism, depth and size
# ----------------------------------------------------------------------------------------


def test_names_are_escaped_and_render_as_text(tmp_path):
    a = Value(1.0, name="<script>alert(1)</script>")
    b = Value(2.0, name='"}|{ & \\N')
    c = a * b
    c.backward()
    dot = to_dot(c, mode="both")
    assert "<script>" not in dot and "&lt;script&gt;" in dot
    assert "&quot;}|{ &amp; \\\\N" in dot
    svg = render(c, tmp_path / "names.svg", mode="both").read_text()
    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "&quot;}|{ &amp; \\N" in svg


def test_same_graph_gives_the_same_text():
    def build() -> str:
        model = nn.MLP(3, [4, 2], seed=0)
        x = Value(np.ones((2, 3)), requires_grad=False)
        with trace(model):
            loss = model(x).sum()
        loss.backward()
        return to_dot(loss, mode="both")

    first, second = build(), build()
    assert first == second
    assert "0x" not in first


def test_a_100k_node_chain_draws_without_recursion():
    x = Value(1.0, name="x")
    y = x
    for _ in range(50_000):  # a value node and an op node per step
        y = y + x
    dot = to_dot(y, max_nodes=None, legend=False)
    assert len(nodes(dot)) == 100_001
    assert dot.count(" -> ") == 150_000


def test_too_many_nodes_says_how_to_collapse():
    x = Value(1.0)
    for _ in range(300):
        x = -x
    with pytest.raises(ValueError, match=r"max_nodes=500.*collapse=\(nn\.Linear,\)"):
        draw(x)


def test_bad_arguments_are_errors():
    v = Value(1.0) * 2.0
    with pytest.raises(ValueError, match="mode must be one of"):
        draw(v, mode="sideways")
    with pytest.raises(TypeError, match="Module classes"):
        draw(v, collapse=(int,))
    with pytest.raises(ValueError, match=r"viz\.trace"):
        draw(v, collapse=nn.Linear)


# ----------------------------------------------------------------------------------------
# Module clusters and collapsing
# ----------------------------------------------------------------------------------------


def traced_mlp():
    model = nn.MLP(2, [3, 1], seed=0)
    x = Value(np.ones((4, 2)), requires_grad=False, name="x")
    with trace(model):
        loss = model(x).mean()
    loss.backward()
    return model, loss


def test_trace_records_calls_and_removes_its_hooks():
    model, loss = traced_mlp()
    assert all(not m._forward_hooks for m in model.modules())
    (op_input,) = [v for v in loss.grad_fn.inputs]
    assert [c.label for c in module_calls(op_input)] == ["layers.2: Linear", "MLP"]
    assert module_calls(loss) == ()


def test_nodes_are_clustered_by_the_module_that_made_them():
    _, loss = traced_mlp()
    dot = to_dot(loss, mode="both")
    found = clusters(dot)
    assert set(found) == {"MLP", "layers.0: Linear", "layers.1: ReLU", "layers.2: Linear"}
    assert found["layers.0: Linear"][0] == "MLP" and found["MLP"][0] is None
    assert key_of(dot, "<b>layers.0.weight</b>") in found["layers.0: Linear"][1]
    assert key_of(dot, "<b>layers.2.bias</b>") in found["layers.2: Linear"][1]
    relu = [k for k, line in nodes(dot).items() if line.startswith("<ReLU")]
    assert set(relu) <= found["layers.1: ReLU"][1]
    inside = set().union(*(keys for _, keys in found.values()))
    assert key_of(dot, "<b>x</b>") not in inside and "n0" not in inside


def test_collapse_draws_each_call_as_one_node():
    _, loss = traced_mlp()
    dot = to_dot(loss, mode="backward", collapse=(nn.Linear,))
    found = nodes(dot)
    assert not any(line.startswith("<Linear") for line in found.values())
    assert ("<b>layers.0: Linear(in_features=2, out_features=3, bias=True)</b><br/>9 parameters"
            in dot)
    assert "<b>layers.2: Linear(in_features=3, out_features=1, bias=True)</b><br/>4 param" in dot
    assert "layers.0.weight" not in dot
    assert len(found) == 7  # loss, Mean, layers.2, ReLU out, ReLU, layers.0, x
    assert set(clusters(dot)) == {"MLP", "layers.1: ReLU"}
    assert len(to_dot(loss)) > len(dot) - len(to_dot(loss, collapse=nn.Linear)) > 0


def test_collapsed_call_passes_back_the_gradient_of_its_inputs():
    model = nn.Linear(2, 1, seed=0)
    h = Value(np.array([[1.0, 2.0]]), name="h")
    with trace(model):
        loss = (model(h) * 2.0).sum()
    loss.backward()
    dot = to_dot(loss, mode="backward", collapse=nn.Linear)
    kh = key_of(dot, "<b>h</b>")
    (attrs,) = [a for _, head, a in edges(dot) if head == kh]
    assert f"mean {np.mean(h.grad):#.4g}" in attrs


def traced_cnn(model):
    images = Value(np.random.default_rng(0).random((64, 1, 8, 8), dtype=np.float32),
                   requires_grad=False, name="images")
    with trace(model):
        loss = tinygrad_edu.functional.cross_entropy(model(images), np.arange(64) % 5)
    loss.backward()
    return loss


def headers(dot: str) -> list[str]:
    return re.findall(r"<b>([^<]*)</b>", dot)


def test_a_cnn_collapses_to_a_box_per_conv_and_batch_norm_with_shapes_on_edges():
    loss = traced_cnn(digits_cnn())
    dot = to_dot(loss, mode="both", collapse=(nn.Conv2d, nn.BatchNorm2d), max_nodes=40)
    found = headers(dot)
    assert [h for h in found if "Conv2d(" in h or "BatchNorm2d(" in h] == [
        "5: BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
        "4: Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))",
        "1: BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
        "0: Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"]
    assert not any(re.match(r"[0145]\.", h) for h in found)  # no parameters of those
    assert "9.weight" in found  # the Linear layer is not collapsed
    conv0 = key_of(dot, "<b>0: Conv2d(")
    bn1 = key_of(dot, "<b>1: BatchNorm2d(")
    (into_bn,) = [a for t, h, a in edges(dot) if (t, h) == (conv0, bn1)]
    assert "label=<64x16x8x8<br/>mean " in into_bn
    (into_conv,) = [a for t, h, a in edges(dot) if h == conv0]
    assert into_conv == "label=<64x1x8x8>"  # the images get no gradient
    shapes = re.findall(r"label=<(?:\d: )?(\d+(?:x\d+)+)", dot)
    assert {"64x1x8x8", "64x16x8x8", "64x16x4x4", "64x32x4x4", "64x32x2x2", "64x128",
            "64x5"} <= set(shapes)
    checked = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True,
                             check=True)
    assert "64x16x8x8" in checked.stdout and "0: Conv2d(1, 16" in checked.stdout


def test_collapse_of_every_module_draws_a_box_per_layer():
    loss = traced_cnn(digits_cnn())
    dot = to_dot(loss, collapse=nn.Module, legend=False)
    assert len(nodes(dot)) == 13  # loss, its op, the 10 layers and the images
    assert [h.split(":")[0] for h in headers(dot) if h[0].isdigit()] == [
        "9", "8", "7", "6", "5", "4", "3", "2", "1", "0"]
    assert set(clusters(dot)) == {"Sequential"}  # the traced model is a box around them


def conv_block(n_in, n_out, seed):
    return nn.Sequential(nn.Conv2d(n_in, n_out, 3, padding=1, seed=seed, dtype=np.float32),
                         nn.BatchNorm2d(n_out, dtype=np.float32), nn.ReLU(), nn.MaxPool2d(2))


def test_a_cnn_built_of_blocks_collapses_a_box_per_block_and_marks_dead_channels():
    model = nn.Sequential(conv_block(1, 4, 0), conv_block(4, 8, 1), nn.Flatten(),
                          nn.Linear(32, 5, seed=2, dtype=np.float32))
    model[0][1].bias.data[:3] = -10.0  # 3 of the 4 channels of the first block's ReLU die
    model[1][1].bias.data[:] = -10.0  # and every channel of the second's
    loss = traced_cnn(model)
    dot = to_dot(loss, collapse=nn.Sequential)
    blocks = {h: key_of(dot, f"<b>{h}</b>") for h in headers(dot) if "Sequential" in h}
    assert list(blocks) == ["1: Sequential", "0: Sequential"]
    assert "Conv2d" not in dot and "BatchNorm2d" not in dot and "<ReLU" not in dot
    first, second = nodes(dot)[blocks["0: Sequential"]], nodes(dot)[blocks["1: Sequential"]]
    marked = f'border="3" color="{MARK_COLOURS["dead ReLU"]}"'
    assert "8/8 dead" in second and marked in second
    # Behind a dead block no gradient arrives: the first block's live channel is dead too.
    assert "3/4 dead" in first and "dead ReLU: grad 0" in first and marked in first
    assert "64x8x2x2" in dot and "64x4x4x4" in dot


def test_mlp_edges_carry_shapes_and_scalar_graphs_none():
    _, loss = traced_mlp()
    dot = to_dot(loss, mode="both", legend=False)
    kx = key_of(dot, "<b>x</b>")
    assert [a for t, _, a in edges(dot) if t == kx] == ["label=<0: 4x2>"]
    kb = key_of(dot, "<b>layers.2.bias</b>")
    assert [a for t, _, a in edges(dot) if t == kb] == ["label=<2: (1,)<br/>mean 1.000>"]
    a = Value(2.0, name="a")
    assert "x" not in "".join(a for *_, a in edges(to_dot(a * a + 1.0, legend=False)))


# ----------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------


def test_render_writes_svg_through_dot(tmp_path):
    _, loss = traced_mlp()
    path = render(loss, tmp_path / "mlp.svg", mode="both")
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "layers.0: Linear" in svg
    graph = draw(loss)
    assert render(graph, tmp_path / "mlp.png").read_bytes()[:4] == b"\x89PNG"
    checked = subprocess.run(["dot", "-Tsvg"], input=graph.source, capture_output=True,
                             text=True, check=True)
    assert "<svg" in checked.stdout


def test_missing_dot_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    v = Value(2.0) * 3.0
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz") as info:
        render(v, tmp_path / "v.svg")
    assert "brew install graphviz" in str(info.value)
    assert to_dot(v).startswith("digraph")


def test_render_argument_errors(tmp_path):
    v = Value(2.0) * 3.0
    with pytest.raises(ValueError, match="suffix"):
        render(v, tmp_path / "noformat")
    with pytest.raises(TypeError, match="need a Value"):
        render(draw(v), tmp_path / "v.svg", mode="both")


def test_given_gradients_and_labels_are_shown_instead_of_grad_and_name():
    a = Value(3.0, name="a")
    b = a * a
    (ga,) = tinygrad_edu.grad(b, [a])
    dot = to_dot(b, mode="backward", grads={b: np.float64(1.0), a: ga},
                 labels={b: "a squared"})
    assert a.grad is None and "grad 6.000" in dot and "<b>a squared</b>" in dot
    with pytest.raises(ValueError, match=r"root\.grad is None"):
        to_dot(b, mode="backward", grads={a: ga})

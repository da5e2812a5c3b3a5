"""The graph as Graphviz DOT: pure building, no rendering (that is ``viz.render``).

``draw(root)`` walks the graph that produced ``root`` with an explicit stack (any depth
works) and returns a ``graphviz.Digraph``; Jupyter shows it inline and ``.render()``
writes a file. ``to_dot(root)`` is its DOT text. Node ids come from the walk's counter
(``n0`` is the root), so the same graph always gives the same text.

Three views:

``forward``   the data flow: inputs -> ops -> root, every Value with its data (and its
              gradient, when a backward pass has run).
``backward``  the same nodes with edges from the root back to the leaves, each edge
              labelled with the gradient it carries: what the engine passed along it,
              recorded with the engine's ``trace`` hook in a backward pass from the root
              seeded with the root's ``.grad`` (that pass leaves ``.grad`` alone). Needs
              ``root.backward()`` first.
``both``      the forward layout with the backward view's gradients, colours and marks.

In every view an edge out of an array carries its shape (``64x16x8x8``), and activations
are checked per unit: ``37/64 dead`` on a ReLU, ``12/64 saturated`` on a tanh or sigmoid
(``diagnostics.dead_units`` and ``saturated_units``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import graphviz
import numpy as np

from ..autograd import Function, ValueBase, seed_gradient
from ..diagnostics.monitor import dead_units, is_saturated, saturated_units
from ..nn.module import Module, Parameter
from ..ops.activation import ReLU, Sigmoid, Tanh
from ..ops.linalg import LinearStack
from .modules import ModuleCall, module_calls
from .steps import record_backward

MODES = ("forward", "backward", "both")
# Ops whose inputs can be swapped; every other op's input edges carry their position.
COMMUTATIVE = frozenset({"Add", "Mul", "Maximum", "Minimum"})
ROLE_COLOURS = {"input": "#cfe2f3", "parameter": "#fff2cc", "root": "#f4cccc",
                "module call": "#d9ead3", "intermediate": "#ffffff"}
# |grad| relative to the largest in the graph, on a log scale: (at least, colour).
GRAD_SCALE = ((1e-1, "#ef6548"), (1e-2, "#fc8d59"), (1e-3, "#fdbb84"), (1e-4, "#fdd49e"),
              (0.0, "#fff7ec"))
MARK_COLOURS = {"vanishing gradient": "#3d85c6", "exploding gradient": "#cc0000",
                "dead ReLU": "#000000", "saturated": "#e69138"}
FONT = "Helvetica"


def _html(text: str) -> str:
    """Text made safe inside an HTML-like label (and so inside the DOT source)."""
    # NOTE: Graphviz expands \N, \G, ... even inside HTML-like labels (after decoding
    # character references) and reads \\ as one backslash.
    return html.escape(" ".join(str(text).split()), quote=True).replace("\\", "\\\\")


def fmt(x: float) -> str:
    """A number with 4 significant digits (``2.000``, ``-0.01235``, ``1.235e+05``)."""
    return f"{float(x):#.4g}"


def _array(a: Any) -> np.ndarray:
    return np.asarray(a.data if isinstance(a, ValueBase) else a)


def summary(a: Any) -> list[str]:
    """Lines describing an array: the number for a scalar, else dtype and shape, then
    mean, std, min and max."""
    a = _array(a)
    if a.dtype.kind not in "biuf":  # a custom op's other argument: None, a string, ...
        return [repr(a.item()) if a.ndim == 0 else f"{a.dtype} {tuple(a.shape)}"]
    if a.ndim == 0:
        return [fmt(a)]
    lines = [f"{a.dtype} {tuple(a.shape)}"]
    if a.size:
        f = a.astype(np.float64)
        with np.errstate(all="ignore"):  # inf and nan are shown, not warned about
            lines += [f"mean {fmt(f.mean())} std {fmt(f.std())}",
                      f"min {fmt(f.min())} max {fmt(f.max())}"]
    return lines


def _brief(a: np.ndarray) -> str:
    """A gradient on an edge: the number, or the mean of an array."""
    return fmt(a) if a.ndim == 0 else f"mean {fmt(a.astype(np.float64).mean())}"


# ----------------------------------------------------------------------------------------
# Walking the graph into drawn nodes and edges
# ----------------------------------------------------------------------------------------


@dataclass
class _Node:
    """One drawn node: a Value, an op, a constant input, or a collapsed module call."""

    key: str
    kind: str  # "value", "op", "const" or "call"
    obj: Any
    call: ModuleCall | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)  # (mark kind, text)
    mark: str | None = None


@dataclass
class _Edge:
    """Data flows from ``tail`` into ``head``; ``grad`` is what flows back to ``tail``."""

    tail: str
    head: str
    position: int | None
    grad: np.ndarray | None = None


def _too_many(max_nodes: int) -> ValueError:
    return ValueError(
        f"draw: the graph has more than max_nodes={max_nodes} nodes, too many to read. "
        f"Draw module calls as single nodes: record them with "
        f"`with viz.trace(model): loss = lossfn(model(x), y)`, then "
        f"`draw(loss, collapse=(nn.Linear,))` (a CNN: `collapse=(nn.Conv2d, "
        f"nn.BatchNorm2d)`); or draw a smaller part of the graph; or "
        f"pass a larger max_nodes= if you really want every node"
    )


def _collapsed(calls: tuple[ModuleCall, ...], collapse: tuple[type, ...]) -> ModuleCall | None:
    """Of the ``calls`` that returned a Value (innermost first), the outermost one of a
    ``collapse`` class. The traced model itself only when none of its submodules is of
    one: in a Sequential of Sequential blocks, ``collapse=nn.Sequential`` means the
    blocks."""
    for call in reversed(calls):
        if isinstance(call.module, collapse) and (call.path or not any(
                isinstance(m, collapse) for m in call.module.modules() if m is not call.module)):
            return call
    return None


class _Walk:
    """The drawn graph: nodes in the order the walk met them (``n0`` is the root) and
    edges in data-flow direction."""

    def __init__(self, root: ValueBase, collapse: tuple[type, ...],
                 max_nodes: int | None) -> None:
        self.nodes: list[_Node] = []
        self.edges: list[_Edge] = []
        self.keys: dict[int, str] = {}  # id() of a drawn Value or op -> its key
        self.by_key: dict[str, _Node] = {}
        self.traced = False
        self._max = max_nodes
        stack = [root]
        self._add("value", root)
        while stack:
            value = stack.pop()
            node = self.by_key[self.keys[id(value)]]
            calls = module_calls(value)
            self.traced = self.traced or bool(calls)
            folded = _collapsed(calls, collapse) if collapse else None
            if folded:
                node.kind, node.call = "call", folded
                consumer, sources = node, list(enumerate(node.call.inputs))
            elif value._ctx is not None:
                consumer = self._add("op", value._ctx)
                self.edges.append(_Edge(consumer.key, node.key, None))
                sources = list(enumerate(value._ctx.inputs))
            else:
                continue
            for position, source in sources:
                if isinstance(source, ValueBase):
                    key = self.keys.get(id(source))
                    if key is None:
                        key = self._add("value", source).key
                        stack.append(source)
                else:
                    key = self._add("const", source).key
                self.edges.append(_Edge(key, consumer.key, position))

    def _add(self, kind: str, obj: Any) -> _Node:
        if self._max is not None and len(self.nodes) >= self._max:
            raise _too_many(self._max)
        node = _Node(f"n{len(self.nodes)}", kind, obj)
        self.nodes.append(node)
        self.by_key[node.key] = node
        if kind in ("value", "op"):
            self.keys[id(obj)] = node.key
        return node

    def inputs_of(self) -> dict[str, list[_Edge]]:
        """For each consumer (op or call) key, its incoming edges in argument order."""
        into: dict[str, list[_Edge]] = {}
        for e in self.edges:
            into.setdefault(e.head, []).append(e)
        return into

    def output_of(self) -> dict[str, str]:
        """For each op key, the key of the Value it produced."""
        return {e.tail: e.head for e in self.edges if self.by_key[e.tail].kind == "op"}


# ----------------------------------------------------------------------------------------
# Gradients: what the engine passed back along each edge
# ----------------------------------------------------------------------------------------


def _passed_gradients(walk: _Walk, root: ValueBase, root_grad: Any) -> None:
    """Set ``edge.grad`` on every edge that carries a gradient back: what the engine passed
    along it in a backward pass from ``root`` seeded with ``root_grad``, as its ``trace``
    hook recorded it (``record_backward``: no ``.grad`` changes; the hooks of the nodes
    below the root run). Into an input of a collapsed call goes the sum of what the ops
    inside the call passed to it."""
    if not root.requires_grad:  # nothing was recorded, so no edge carries a gradient
        return
    seed = seed_gradient(root, _array(root_grad), False, "draw")
    # NOTE: root_grad is the root's gradient after its own hooks ran in the user's
    # backward; running them on it again would change what the pass sends on.
    hooks, root._hooks = root._hooks, None
    try:
        recorded = record_backward(root, seed)
    finally:
        root._hooks = hooks
    passed = {(id(node), position): _array(g) for node, _, edges in recorded
              for position, g, _ in edges if g is not None}
    outputs = walk.output_of()
    for e in walk.edges:
        consumer = walk.by_key[e.head]
        if consumer.kind == "op":
            e.grad = passed.get((id(walk.by_key[outputs[e.head]].obj), e.position))
        elif consumer.kind == "call":
            e.grad = _passed_into_call(consumer, walk.by_key[e.tail].obj, passed)


def _passed_into_call(call: _Node, source: ValueBase,
                      passed: dict[tuple[int, int], np.ndarray]) -> np.ndarray | None:
    """The sum of what the ops inside the collapsed ``call`` passed to its input
    ``source`` (None if they passed nothing)."""
    parts = [passed[id(value), i] for value in _made_by(call.obj, call.call.inputs)
             for i, inp in enumerate(value._ctx.inputs)
             if inp is source and (id(value), i) in passed]
    return sum(parts[1:], parts[0]) if parts else None


def _made_by(out: ValueBase, inputs: tuple[ValueBase, ...]) -> list[ValueBase]:
    """The op outputs a module call made: the Values with an op that are reachable from
    its output ``out`` without passing through its ``inputs``."""
    seen = {id(v) for v in inputs} | {id(out)}
    made, stack = [], [out]
    while stack:
        value = stack.pop()
        if value._ctx is None:
            continue
        made.append(value)
        for inp in value._ctx.inputs:
            if isinstance(inp, ValueBase) and id(inp) not in seen:
                seen.add(id(inp))
                stack.append(inp)
    return made


def _magnitude(g: Any) -> float:
    """How big a gradient is: its mean absolute value."""
    with np.errstate(all="ignore"):
        return float(np.abs(_array(g).astype(np.float64)).mean()) if _array(g).size else 0.0


def _grad_colour(ratio: float) -> str:
    return next(colour for least, colour in GRAD_SCALE if ratio >= least)


@dataclass
class _Shown:
    """What a drawing shows on its Value nodes besides the data."""

    root: ValueBase
    with_grads: bool  # the backward pass's view: edge gradients, colours, gradient marks
    grads: dict[int, Any]  # id() of a Value -> the gradient shown for it
    names: dict[int, str]  # id() of a Value -> a header to show instead of its name
    sizes: dict[str, float] = field(default_factory=dict)  # node key -> _magnitude
    largest: float = 0.0  # the largest finite size
    # node key -> one (gradient, consumer) part per edge that passed it a gradient
    parts: dict[str, list[tuple[np.ndarray, str]]] = field(default_factory=dict)


def _shown_gradients(walk: _Walk, grads: Mapping[ValueBase, Any] | None) -> dict[int, Any]:
    """``id(value) -> gradient`` to show: the given ``grads``, else each Value's ``.grad``
    (of the drawn Values, and of those inside collapsed calls, whose activations are
    checked for dead units)."""
    if grads is None:
        values = [n.obj for n in walk.nodes if n.kind in ("value", "call")]
        values += [v for n in walk.nodes if n.kind == "call"
                   for v in _made_by(n.obj, n.call.inputs)]
        return {id(v): v.grad for v in values}
    return {id(v): g for v, g in grads.items()}


def _measure(walk: _Walk, shown: _Shown) -> None:
    """Fill in ``shown``'s sizes, the largest finite one, and the parts of each Value's
    gradient (one per consumer edge that carries one)."""
    shown.sizes = {n.key: _magnitude(shown.grads[id(n.obj)]) for n in walk.nodes
                   if n.kind in ("value", "call") and shown.grads.get(id(n.obj)) is not None}
    shown.largest = max((m for m in shown.sizes.values() if np.isfinite(m)), default=0.0)
    outputs = walk.output_of()
    for e in walk.edges:
        if e.grad is not None:
            consumer = walk.by_key[e.head]
            if consumer.kind == "call":
                who = consumer.obj.name or consumer.call.label
            else:
                who = walk.by_key[outputs[e.head]].obj.name or type(consumer.obj).__name__
            shown.parts.setdefault(e.tail, []).append((e.grad, who))


# ----------------------------------------------------------------------------------------
# Module clusters
# ----------------------------------------------------------------------------------------


def _clusters(walk: _Walk) -> tuple[list[tuple[ModuleCall, set[str]]], dict[str, int]]:
    """The traced module calls drawn as clusters, with their members, and for each node
    the index of the innermost cluster holding it.

    A call's members are the drawn nodes reachable from its output but not from its
    inputs (so its parameters belong to it). Calls are listed innermost first.
    """
    preds: dict[str, list[str]] = {}
    for e in walk.edges:
        preds.setdefault(e.head, []).append(e.tail)
    found = [found for node in walk.nodes for found in _calls_made(walk, preds, node)]
    # Innermost first: fewer members; a call and the one wrapping it keep their order.
    order = sorted(range(len(found)), key=lambda i: len(found[i][1]))
    found = [found[i] for i in order]
    home: dict[str, int] = {}
    for index, (_, members) in enumerate(found):
        for key in members:
            home.setdefault(key, index)
    return found, home


def _calls_made(walk: _Walk, preds: dict[str, list[str]],
                node: _Node) -> list[tuple[ModuleCall, set[str]]]:
    """The module calls that returned ``node``'s Value, each with its members."""
    if node.kind not in ("value", "call"):
        return []
    calls = module_calls(node.obj)
    if node.kind == "call":  # the collapsed call and those inside it are not clusters
        calls = calls[calls.index(node.call) + 1:]
    found = []
    for call in calls:
        starts = [walk.keys[id(v)] for v in call.inputs if id(v) in walk.keys]
        members = _reach(preds, [node.key], set(starts)) - _reach(preds, starts, set())
        if members:
            found.append((call, members))
    return found


def _reach(preds: dict[str, list[str]], starts: list[str], stop: set[str]) -> set[str]:
    """The keys reachable from ``starts`` against the data flow, not entering ``stop``."""
    seen = set(starts)
    stack = list(starts)
    while stack:
        for p in preds.get(stack.pop(), ()):
            if p not in seen and p not in stop:
                seen.add(p)
                stack.append(p)
    return seen


# ----------------------------------------------------------------------------------------
# Labels and marks
# ----------------------------------------------------------------------------------------


def _role(node: _Node, root: ValueBase) -> str:
    value = node.obj
    if node.kind == "call":
        return "module call"
    if value is root:
        return "root"
    if value._ctx is not None:
        return "intermediate"
    if isinstance(value, Parameter) or value.requires_grad:
        return "parameter"
    return "input"


def _rows(lines: list[str]) -> str:
    return "<br/>".join(_html(line) for line in lines)


def _header(node: _Node, role: str, shown: _Shown) -> list[str]:
    """A Value node's header lines: a module call's layer and its parameter count, else
    the name (none for an unnamed intermediate result)."""
    if node.kind == "call":
        count = sum(p.size for p in node.call.module.parameters())
        return [node.call.description, f"{count} parameters"] if count else [
            node.call.description]
    name = shown.names.get(id(node.obj), node.obj.name)
    name = name or ("" if role == "intermediate" else role)
    return [name] if name else []


def _grad_fill(node: _Node, shown: _Shown) -> str:
    """The background of a gradient row: its size relative to the largest, if shown."""
    size = shown.sizes.get(node.key)
    if not shown.with_grads or size is None or shown.largest <= 0 or not np.isfinite(size):
        return ""
    return f' bgcolor="{_grad_colour(size / shown.largest)}"'


def _value_label(node: _Node, shown: _Shown) -> str:
    role = _role(node, shown.root)
    header = _header(node, role, shown)
    rows = []
    if header:
        rows.append(f'<tr><td bgcolor="{ROLE_COLOURS[role]}"><b>{_html(header[0])}</b>'
                    f'{"".join("<br/>" + _html(line) for line in header[1:])}</td></tr>')
    data = summary(node.obj)
    rows.append(f"<tr><td>{_rows(['data ' + data[0], *data[1:]])}</td></tr>")
    grad = shown.grads.get(id(node.obj))
    if shown.with_grads or grad is not None:
        lines = _grad_lines(node.obj, grad, shown.parts.get(node.key, []))
        rows.append(f"<tr><td{_grad_fill(node, shown)}>{_rows(lines)}</td></tr>")
    for kind, note in node.notes:
        rows.append(f'<tr><td><font color="{MARK_COLOURS[kind]}">{_html(note)}</font>'
                    f'</td></tr>')
    border = f'border="3" color="{MARK_COLOURS[node.mark]}"' if node.mark else 'border="1"'
    return (f'<<table {border} cellborder="0" cellspacing="0" cellpadding="3">'
            f'{"".join(rows)}</table>>')


def _grad_lines(value: ValueBase, grad: Any, parts: list[tuple[np.ndarray, str]]) -> list[str]:
    """``grad 4.000 = 1.000 via b + 3.000 via c``: the gradient and how it adds up."""
    if grad is None:
        return ["grad none" if value.requires_grad else "no grad (requires_grad=False)"]
    lines = summary(grad)
    lines[0] = "grad " + lines[0]
    if len(parts) > 1:
        if _array(grad).ndim == 0:
            lines[0] += " = " + " + ".join(f"{fmt(g)} via {who}" for g, who in parts)
        else:
            lines.append("= sum via " + " + ".join(who for _, who in parts))
    return lines


def _activation_notes(ctx: Function, out: ValueBase,
                      grad: Any) -> tuple[list[tuple[str, str]], str | None]:
    """Dead units of a ReLU, saturated units of a tanh or sigmoid, from the op's data and
    its output's gradient ``grad``: the notes, each ``(mark, text)``, and the mark to draw
    (None: none). An array of 2 or more axes is counted per unit, as
    ``diagnostics.dead_units`` and ``saturated_units`` define it."""
    if isinstance(ctx, ReLU):
        return _relu_notes(_array(ctx.inputs[0]), grad)
    if isinstance(ctx, LinearStack):
        return _stack_notes(ctx, grad)
    if isinstance(ctx, (Tanh, Sigmoid)):
        return _saturation_notes(_array(out), "tanh" if isinstance(ctx, Tanh) else "sigmoid")
    return [], None


def _relu_notes(x: np.ndarray, grad: Any) -> tuple[list[tuple[str, str]], str | None]:
    """``37/64 dead`` (units whose input is <= 0 for every example); marked when the input
    is <= 0 everywhere or the output's gradient is 0 everywhere."""
    notes = []
    if x.ndim >= 2:
        dead = dead_units(x)
        if dead:
            notes.append(("dead ReLU", f"{dead}/{x.shape[1]} dead"))
        everywhere = dead == x.shape[1]
    else:
        everywhere = bool(np.all(x <= 0))
        if everywhere:
            notes.append(("dead ReLU", "dead ReLU: input <= 0 everywhere"))
    if everywhere:
        return notes, "dead ReLU"
    if grad is not None and not np.any(_array(grad)):
        return [*notes, ("dead ReLU", "dead ReLU: grad 0")], "dead ReLU"
    return notes, None


def _stack_notes(ctx: LinearStack, grad: Any) -> tuple[list[tuple[str, str]], str | None]:
    """The dead units of each ReLU layer of a ``LinearStack`` (``layer 1: 3/16 dead``),
    counted on its output, which is 0 exactly where its input is <= 0; marked as
    ``_relu_notes`` marks a ReLU, for any of them (the gradient is the last layer's)."""
    notes, mark = [], None
    last = len(ctx.relu) - 1
    for i, activated in enumerate(ctx.relu):
        if activated:
            found, marked = _relu_notes(ctx.activations[i], grad if i == last else None)
            notes += [(kind, f"layer {i + 1}: {text}") for kind, text in found]
            mark = mark or marked
    return notes, mark


def _saturation_notes(z: np.ndarray, kind: str) -> tuple[list[tuple[str, str]], str | None]:
    """``12/64 saturated`` (units saturated for every example); marked when at least half
    of the outputs are saturated."""
    notes = []
    if z.ndim >= 2:
        units = saturated_units(z, kind)
        if units:
            notes.append(("saturated", f"{units}/{z.shape[1]} saturated"))
    count = int(np.count_nonzero(is_saturated(z, kind)))
    if not z.size or 2 * count < z.size:
        return notes, None
    if z.size == 1:
        text = "saturated"
    elif z.ndim >= 2:
        text = f"saturated: {count / z.size:.0%} of outputs"
    else:
        text = f"saturated: {count}/{z.size}"
    return [*notes, ("saturated", text)], "saturated"


def _gradient_note(size: float, largest: float, vanishing: float,
                   exploding: float) -> tuple[str, str] | None:
    """An exploding (above ``exploding`` or not finite) or vanishing (below ``vanishing``
    times the largest) gradient, from its size, as ``(mark, text)``."""
    if not np.isfinite(size) or size > exploding:
        return "exploding gradient", f"exploding gradient: mean |grad| {fmt(size)}"
    if largest > 0 and size < vanishing * largest:
        return "vanishing gradient", f"vanishing gradient: {fmt(size / largest)} x largest"
    return None


def _mark(walk: _Walk, shown: _Shown, vanishing: float, exploding: float) -> None:
    """Note and mark dead or saturated activations (on their op, or on the collapsed call
    that holds them) and, in the backward views, vanishing and exploding gradients."""
    outputs = walk.output_of()
    for node in walk.nodes:
        if node.kind == "op":
            made = [walk.by_key[outputs[node.key]].obj]
        elif node.kind == "call":  # forward order, as they ran inside the call
            made = _made_by(node.obj, node.call.inputs)[::-1]
        else:
            made = []
        for out in made:
            notes, mark = _activation_notes(out._ctx, out, shown.grads.get(id(out)))
            node.notes += notes
            node.mark = node.mark or mark
        if shown.with_grads and node.key in shown.sizes:
            note = _gradient_note(shown.sizes[node.key], shown.largest, vanishing, exploding)
            if note:
                node.notes.append(note)
                node.mark = node.mark or note[0]


# ----------------------------------------------------------------------------------------
# The drawing
# ----------------------------------------------------------------------------------------


def _legend(with_grads: bool) -> str:
    rows = [f'<tr><td bgcolor="{colour}">{_html(role)}</td></tr>'
            for role, colour in ROLE_COLOURS.items()]
    if with_grads:
        rows.append("<tr><td><b>|grad| / largest</b></td></tr>")
        rows += [f'<tr><td bgcolor="{colour}">{_html(f">= {least:g}" if least else "less")}'
                 f"</td></tr>" for least, colour in GRAD_SCALE]
        rows += [f'<tr><td><font color="{colour}">{_html(mark)}</font></td></tr>'
                 for mark, colour in MARK_COLOURS.items()]
    return (f'<<table border="1" cellborder="0" cellspacing="0" cellpadding="2">'
            f'<tr><td><b>legend</b></td></tr>{"".join(rows)}</table>>')


def _add_node(target: graphviz.Digraph, node: _Node, shown: _Shown) -> None:
    if node.kind == "const":
        target.node(node.key, f"<{_html(summary(node.obj)[0])}>", shape="plaintext",
                    fontsize="9", id=node.key)
    elif node.kind == "op":
        notes = "".join(f'<br/><font point-size="8">{_html(n)}</font>'
                        for _, n in node.notes)
        extra = {"color": MARK_COLOURS[node.mark], "penwidth": "2"} if node.mark else {}
        target.node(node.key, f"<{_html(type(node.obj).__name__)}{notes}>", shape="box",
                    style="rounded,filled", fillcolor="#eeeeee", height="0.3",
                    margin="0.05", id=node.key, **extra)
    else:
        target.node(node.key, _value_label(node, shown), shape="plaintext", id=node.key)


def _add_nodes(graph: graphviz.Digraph, walk: _Walk, shown: _Shown) -> None:
    """Every node, inside the box of the innermost module call it belongs to."""
    found, home = _clusters(walk)
    boxes = [graphviz.Digraph(name=f"cluster_{i}", graph_attr={
        "label": f"<{_html(call.label)}>", "style": "rounded", "color": "#6aa84f"})
        for i, (call, _) in enumerate(found)]
    for node in walk.nodes:
        _add_node(boxes[home[node.key]] if node.key in home else graph, node, shown)
    # Nest each cluster in the smallest one that holds all of its members.
    for i, (_, members) in enumerate(found):
        parent = next((j for j in range(i + 1, len(found)) if members <= found[j][1]), None)
        (boxes[parent] if parent is not None else graph).subgraph(boxes[i])


def _edge_label(e: _Edge, tail: _Node, consumer: _Node, inputs: int) -> dict[str, str]:
    """An edge's position among its consumer's ``inputs`` (unless the op is commutative),
    the shape of the array it carries (``64x16x8x8``, a vector's ``(5,)``) and the
    gradient it carries back (on a line of its own under a shape)."""
    positional = inputs > 1 and (consumer.kind == "call" or
                                 type(consumer.obj).__name__ not in COMMUTATIVE)
    head = [str(e.position)] if positional else []
    shape = tail.obj.shape if tail.kind in ("value", "call") else ()
    if shape:  # a vector as (5,): a bare 5 would read as a number
        head.append("x".join(map(str, shape)) if len(shape) > 1 else f"({shape[0]},)")
    lines = [": ".join(head)] if head else []
    if e.grad is not None:
        if shape or not lines:
            lines.append(_brief(e.grad))
        else:  # a number goes on the position's line, as in "1: 2.000"
            lines[0] += ": " + _brief(e.grad)
    return {"label": f"<{'<br/>'.join(map(_html, lines))}>"} if lines else {}


def _add_edges(graph: graphviz.Digraph, walk: _Walk, mode: str) -> None:
    """Every edge: in data-flow direction, or from the root back in the backward view."""
    into = walk.inputs_of()
    for e in walk.edges:
        label = _edge_label(e, walk.by_key[e.tail], walk.by_key[e.head], len(into[e.head]))
        if mode == "backward":
            graph.edge(e.head, e.tail, color="#cc4125" if e.grad is not None else "#999999",
                       **label)
        else:
            graph.edge(e.tail, e.head, **label)


def _module_classes(mode: str, root: Any, collapse: type | Iterable[type]) -> tuple[type, ...]:
    """``draw``'s arguments checked; ``collapse`` as a tuple of Module classes."""
    if mode not in MODES:
        raise ValueError(f"draw: mode must be one of {MODES}; got {mode!r}")
    if not isinstance(root, ValueBase):
        raise TypeError(f"draw: root must be a Value; got {type(root).__name__}")
    collapse = (collapse,) if isinstance(collapse, type) else tuple(collapse)
    for kind in collapse:
        if not (isinstance(kind, type) and issubclass(kind, Module)):
            raise TypeError(f"draw: collapse takes Module classes such as nn.Linear; got "
                            f"{kind!r}")
    return collapse


def draw(
    root: ValueBase,
    mode: str = "forward",
    collapse: type | Iterable[type] = (),
    max_nodes: int | None = 500,
    *,
    rankdir: str = "LR",
    legend: bool = True,
    vanishing: float = 1e-6,
    exploding: float = 1e3,
    grads: Mapping[ValueBase, Any] | None = None,
    labels: Mapping[ValueBase, str] | None = None,
) -> graphviz.Digraph:
    """The graph that produced ``root`` as a ``graphviz.Digraph``.

    ``mode`` is ``"forward"``, ``"backward"`` or ``"both"`` (see the module docstring);
    the last two show the gradients of the backward pass already run (``root.backward()``
    must have been called; draw never calls it, since it accumulates into ``.grad``). The
    gradients on the edges come from the engine's own pass seeded with the root's
    gradient, which leaves ``.grad`` alone; hooks on the Values below the root run in
    it, as in ``backward()``.
    ``collapse`` names module classes (e.g. ``(nn.Linear,)``, or ``(nn.Conv2d,
    nn.BatchNorm2d)`` for a CNN) whose calls, recorded with ``viz.trace(model)``, are
    drawn as one node each, labelled with the layer (its ``repr``); where calls of these
    classes nest, the outermost is drawn, but the traced model itself only when no call
    inside it is collapsed. More than ``max_nodes`` nodes is a
    ValueError that says how to collapse (``None``: no limit). A gradient is marked
    vanishing when its mean |grad| is below ``vanishing`` times the largest in the graph,
    exploding when above
    ``exploding`` or not finite. ``grads`` shows the given gradients (a mapping from
    Value to gradient, such as ``dict(zip(params, tinygrad_edu.grad(loss, params)))``)
    instead of each Value's ``.grad``; a Value missing from it shows none. ``labels``
    gives headers to show instead of the Values' names.

    Every node's DOT name (``n0`` for the root, then in walk order) is also its ``id``,
    so in rendered SVG the node is the ``<g id="n0">`` element; ``node_keys`` maps the
    Values to these names.
    """
    collapse = _module_classes(mode, root, collapse)
    walk = _Walk(root, collapse, max_nodes)
    shown = _Shown(root, mode != "forward", _shown_gradients(walk, grads),
                   {} if labels is None else {id(v): text for v, text in labels.items()})
    if shown.with_grads and shown.grads.get(id(root)) is None:
        raise ValueError(f"draw(mode={mode!r}) shows the gradients of a backward pass, but "
                         f"root.grad is None: call root.backward() first (draw does not, "
                         f"since backward accumulates into .grad)")
    if collapse and not walk.traced:
        raise ValueError("draw: collapse needs module calls recorded during the forward "
                         "pass: `with viz.trace(model): loss = lossfn(model(x), y)`")
    if shown.with_grads:
        _passed_gradients(walk, root, shown.grads[id(root)])
    _measure(walk, shown)
    _mark(walk, shown, vanishing, exploding)
    graph = graphviz.Digraph(
        "tinygrad_edu",
        graph_attr={"rankdir": rankdir, "fontname": FONT, "fontsize": "11"},
        node_attr={"fontname": FONT, "fontsize": "10"},
        edge_attr={"fontname": FONT, "fontsize": "9"},
    )
    _add_nodes(graph, walk, shown)
    _add_edges(graph, walk, mode)
    if legend:
        graph.node("legend", _legend(shown.with_grads), shape="plaintext")
    return graph


def node_keys(root: ValueBase, max_nodes: int | None = 500) -> dict[int, str]:
    """``id(obj) -> name`` of the node of each Value, and of each op (a ``Function``), in
    ``draw(root)`` without ``collapse`` (the name is also the node's ``id`` in SVG)."""
    return _Walk(root, (), max_nodes).keys


def to_dot(root: ValueBase, **options: Any) -> str:
    """The DOT text of ``draw(root, **options)``; needs no Graphviz program."""
    return draw(root, **options).source

"""The graph as Graphviz DOT: pure building, no rendering (that is ``viz.render``).

``draw(root)`` walks the graph that produced ``root`` with an explicit stack (any depth
works) and returns a ``graphviz.Digraph``; Jupyter shows it inline and ``.render()``
writes a file. ``to_dot(root)`` is its DOT text. Node ids come from the walk's counter
(``n0`` is the root), so the same graph always gives the same text.

Three views:

``forward``   the data flow: inputs -> ops -> root, every Value with its data (and its
              gradient, when a backward pass has run).
``backward``  the same nodes with edges from the root back to the leaves, each edge
              labelled with the gradient it carries: the op's own ``backward`` applied
              to its output's ``.grad``. Needs ``root.backward()`` first.
``both``      the forward layout with the backward view's gradients, colours and marks.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import graphviz
import numpy as np

from ..autograd import Function, ValueBase, grad, no_grad, unbroadcast
from ..nn.module import Module, Parameter
from ..ops.elementwise import ReLU, Sigmoid, Tanh
from .modules import ModuleCall, module_calls

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
SATURATION = 0.99  # tanh |z| above this, sigmoid z outside [1 - this, this]
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
    notes: list[str] = field(default_factory=list)
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
        f"`draw(loss, collapse=(nn.Linear,))`; or draw a smaller part of the graph; or "
        f"pass a larger max_nodes= if you really want every node"
    )


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
            folded = [c for c in calls if collapse and isinstance(c.module, collapse)]
            if folded:  # the outermost collapsed call that returned this Value
                node.kind, node.call = "call", folded[-1]
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
# Gradients: what each op passes back along each edge
# ----------------------------------------------------------------------------------------


def _local_gradients(walk: _Walk, grads: dict[int, Any]) -> None:
    """Set ``edge.grad`` on every edge into a Value that requires grad: the op's own
    ``backward`` run on its output's gradient (a collapsed call: ``grad()`` through the
    call), summed down to the input's shape as the engine does."""
    into = walk.inputs_of()
    outputs = walk.output_of()
    for node in walk.nodes:
        if node.kind == "op":
            out = walk.by_key[outputs[node.key]].obj
        elif node.kind == "call":
            out = node.obj
        else:
            continue
        if grads.get(id(out)) is None:
            continue
        edges = [e for e in into.get(node.key, ())
                 if walk.by_key[e.tail].kind != "const" and walk.by_key[e.tail].obj.requires_grad]
        if not edges:
            continue
        upstream = _array(grads[id(out)])
        if node.kind == "call":
            found = grad(out, [walk.by_key[e.tail].obj for e in edges], grad_outputs=upstream,
                         allow_unused=True)
        else:
            ctx: Function = node.obj
            with no_grad():
                result = type(ctx).backward(ctx, upstream)
            result = result if isinstance(result, tuple) else (result,)
            found = [result[e.position] for e in edges]
        for e, g in zip(edges, found):
            if g is not None:
                data = walk.by_key[e.tail].obj.data
                g = unbroadcast(_array(g), data.shape, type(node.obj).__name__, e.position)
                e.grad = g.astype(data.dtype, copy=False)


def _magnitude(g: Any) -> float:
    """How big a gradient is: its mean absolute value."""
    with np.errstate(all="ignore"):
        return float(np.abs(_array(g).astype(np.float64)).mean()) if _array(g).size else 0.0


def _grad_colour(ratio: float) -> str:
    return next(colour for least, colour in GRAD_SCALE if ratio >= least)


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

    def reach(starts: list[str], stop: set[str]) -> set[str]:
        seen = set(starts)
        stack = list(starts)
        while stack:
            for p in preds.get(stack.pop(), ()):
                if p not in seen and p not in stop:
                    seen.add(p)
                    stack.append(p)
        return seen

    found: list[tuple[ModuleCall, set[str]]] = []
    for node in walk.nodes:
        if node.kind not in ("value", "call"):
            continue
        calls = module_calls(node.obj)
        if node.kind == "call":  # the collapsed call and those inside it are not clusters
            calls = calls[calls.index(node.call) + 1:]
        for call in calls:
            starts = [walk.keys[id(v)] for v in call.inputs if id(v) in walk.keys]
            members = reach([node.key], set(starts)) - reach(starts, set())
            if members:
                found.append((call, members))
    # Innermost first: fewer members; a call and the one wrapping it keep their order.
    order = sorted(range(len(found)), key=lambda i: len(found[i][1]))
    found = [found[i] for i in order]
    home: dict[str, int] = {}
    for index, (_, members) in enumerate(found):
        for key in members:
            home.setdefault(key, index)
    return found, home


# ----------------------------------------------------------------------------------------
# Labels
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


def _value_label(node: _Node, role: str, name: str | None, grad_lines: list[str],
                 grad_fill: str | None) -> str:
    value = node.obj
    if node.kind == "call":
        count = sum(p.size for p in node.call.module.parameters())
        header = f"{node.call.label} ({count} parameters)" if count else node.call.label
    else:
        header = name or ("" if role == "intermediate" else role)
    rows = []
    if header:
        rows.append(f'<tr><td bgcolor="{ROLE_COLOURS[role]}"><b>{_html(header)}</b></td></tr>')
    data = summary(value)
    rows.append(f"<tr><td>{_rows(['data ' + data[0], *data[1:]])}</td></tr>")
    if grad_lines:
        fill = f' bgcolor="{grad_fill}"' if grad_fill else ""
        rows.append(f"<tr><td{fill}>{_rows(grad_lines)}</td></tr>")
    for note in node.notes:
        colour = MARK_COLOURS.get(note.split(":")[0], "#000000")
        rows.append(f'<tr><td><font color="{colour}">{_html(note)}</font></td></tr>')
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


def _activation_note(ctx: Function, out: ValueBase, grad: Any) -> str | None:
    """A dead ReLU or a saturated tanh/sigmoid, from the op's data and its output's
    gradient ``grad``."""
    if isinstance(ctx, ReLU):
        x = ctx.inputs[0]
        no_input = np.all(_array(x) <= 0)
        no_grad_out = grad is not None and not np.any(_array(grad))
        if no_input or no_grad_out:
            return "dead ReLU: input <= 0 everywhere" if no_input else "dead ReLU: grad 0"
        return None
    z = _array(out)
    if isinstance(ctx, Tanh):
        saturated = np.abs(z) > SATURATION
    elif isinstance(ctx, Sigmoid):
        saturated = (z < 1 - SATURATION) | (z > SATURATION)
    else:
        return None
    count = int(np.count_nonzero(saturated))
    if 2 * count < z.size:
        return None
    return "saturated" if z.size == 1 else f"saturated: {count}/{z.size}"


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
    must have been called; draw never calls it, since it accumulates into ``.grad``).
    ``collapse`` names module classes (e.g. ``(nn.Linear,)``) whose calls, recorded with
    ``viz.trace(model)``, are drawn as one node. More than ``max_nodes`` nodes is a
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
    if mode not in MODES:
        raise ValueError(f"draw: mode must be one of {MODES}; got {mode!r}")
    if not isinstance(root, ValueBase):
        raise TypeError(f"draw: root must be a Value; got {type(root).__name__}")
    collapse = (collapse,) if isinstance(collapse, type) else tuple(collapse)
    for kind in collapse:
        if not (isinstance(kind, type) and issubclass(kind, Module)):
            raise TypeError(f"draw: collapse takes Module classes such as nn.Linear; got "
                            f"{kind!r}")
    with_grads = mode != "forward"
    names = {} if labels is None else {id(v): text for v, text in labels.items()}
    walk = _Walk(root, collapse, max_nodes)
    if grads is None:
        grad_of = {id(n.obj): n.obj.grad for n in walk.nodes if n.kind in ("value", "call")}
    else:
        grad_of = {id(v): g for v, g in grads.items()}
    if with_grads and grad_of.get(id(root)) is None:
        raise ValueError(f"draw(mode={mode!r}) shows the gradients of a backward pass, but "
                         f"root.grad is None: call root.backward() first (draw does not, "
                         f"since backward accumulates into .grad)")
    if collapse and not walk.traced:
        raise ValueError("draw: collapse needs module calls recorded during the forward "
                         "pass: `with viz.trace(model): loss = lossfn(model(x), y)`")
    if with_grads:
        _local_gradients(walk, grad_of)
    into = walk.inputs_of()
    outputs = walk.output_of()

    # How each Value's gradient adds up: one part per consumer edge that carries one.
    parts: dict[str, list[tuple[np.ndarray, str]]] = {}
    for e in walk.edges:
        if e.grad is not None:
            consumer = walk.by_key[e.head]
            made = consumer if consumer.kind == "call" else walk.by_key[outputs[e.head]]
            who = made.obj.name or (consumer.call.label if consumer.kind == "call"
                                    else type(consumer.obj).__name__)
            parts.setdefault(e.tail, []).append((e.grad, who))

    values = [n for n in walk.nodes if n.kind in ("value", "call")]
    sizes = {n.key: _magnitude(grad_of[id(n.obj)]) for n in values
             if grad_of.get(id(n.obj)) is not None}
    finite = [m for m in sizes.values() if np.isfinite(m)]
    largest = max(finite, default=0.0)
    for node in walk.nodes:
        if node.kind == "op":
            out = walk.by_key[outputs[node.key]].obj
            note = _activation_note(node.obj, out, grad_of.get(id(out)))
            if note:
                node.notes.append(note)
                node.mark = note.split(":")[0]
        elif with_grads and node.key in sizes:
            size = sizes[node.key]
            if not np.isfinite(size) or size > exploding:
                node.mark = "exploding gradient"
                node.notes.append(f"exploding gradient: mean |grad| {fmt(size)}")
            elif largest > 0 and size < vanishing * largest:
                node.mark = "vanishing gradient"
                node.notes.append(f"vanishing gradient: {fmt(size / largest)} x largest")

    graph = graphviz.Digraph(
        "tinygrad_edu",
        graph_attr={"rankdir": rankdir, "fontname": FONT, "fontsize": "11"},
        node_attr={"fontname": FONT, "fontsize": "10"},
        edge_attr={"fontname": FONT, "fontsize": "9"},
    )
    found, home = _clusters(walk)
    boxes = [graphviz.Digraph(name=f"cluster_{i}", graph_attr={
        "label": f"<{_html(call.label)}>", "style": "rounded", "color": "#6aa84f"})
        for i, (call, _) in enumerate(found)]
    for node in walk.nodes:
        target = boxes[home[node.key]] if node.key in home else graph
        if node.kind == "const":
            target.node(node.key, f"<{_html(summary(node.obj)[0])}>", shape="plaintext",
                        fontsize="9", id=node.key)
        elif node.kind == "op":
            notes = "".join(f'<br/><font point-size="8">{_html(n)}</font>' for n in node.notes)
            extra = {"color": MARK_COLOURS[node.mark], "penwidth": "2"} if node.mark else {}
            target.node(node.key, f"<{_html(type(node.obj).__name__)}{notes}>", shape="box",
                        style="rounded,filled", fillcolor="#eeeeee", height="0.3",
                        margin="0.05", id=node.key, **extra)
        else:
            role = _role(node, root)
            value = node.obj
            grad_now = grad_of.get(id(value))
            shown = with_grads or grad_now is not None
            lines = _grad_lines(value, grad_now, parts.get(node.key, [])) if shown else []
            fill = None
            if with_grads and node.key in sizes and largest > 0 and np.isfinite(sizes[node.key]):
                fill = _grad_colour(sizes[node.key] / largest)
            name = names.get(id(value), value.name)
            target.node(node.key, _value_label(node, role, name, lines, fill), shape="plaintext",
                        id=node.key)
    # Nest each cluster in the smallest one that holds all of its members.
    for i, (_, members) in enumerate(found):
        parent = next((j for j in range(i + 1, len(found)) if members <= found[j][1]), None)
        (boxes[parent] if parent is not None else graph).subgraph(boxes[i])

    for e in walk.edges:
        consumer = walk.by_key[e.head]
        positional = (len(into[e.head]) > 1 and (consumer.kind == "call" or
                      type(consumer.obj).__name__ not in COMMUTATIVE))
        text = [str(e.position)] if positional else []
        if e.grad is not None:
            text.append(_brief(e.grad))
        label = {"label": f"<{_html(': '.join(text))}>"} if text else {}
        if mode == "backward":
            graph.edge(e.head, e.tail, color="#cc4125" if e.grad is not None else "#999999",
                       **label)
        else:
            graph.edge(e.tail, e.head, **label)
    if legend:
        graph.node("legend", _legend(with_grads), shape="plaintext")
    return graph


def node_keys(root: ValueBase, max_nodes: int | None = 500) -> dict[int, str]:
    """``id(obj) -> name`` of the node of each Value, and of each op (a ``Function``), in
    ``draw(root)`` without ``collapse`` (the name is also the node's ``id`` in SVG)."""
    return _Walk(root, (), max_nodes).keys


def to_dot(root: ValueBase, **options: Any) -> str:
    """The DOT text of ``draw(root, **options)``; needs no Graphviz program."""
    return draw(root, **options).source

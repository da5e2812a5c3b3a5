"""Stepping through backprop: the real backward pass, recorded one node at a time.

``backprop_steps(root)`` runs the engine's own backward pass (``run_backward`` with a
``trace`` observer, so every number below is what the ops' ``backward`` methods and the
engine computed, not a re-derivation) and returns one ``Step`` per node, in the order the
engine processes the nodes: the root first, each node only after every op that consumes
it has passed its share back.

A step holds:

- the node: the Value itself, a label (its ``name``, else ``Op#k`` for an op's output or
  ``leaf#k`` for a leaf, ``k`` counting from 1 in forward order), the op's class name
  (``None`` for a leaf) and the node's data;
- ``args``: every argument of the op as an ``Arg`` (label and data), constants and
  Values without a gradient included;
- ``upstream``: the node's complete gradient dL/d(node) when it is processed (after its
  hooks, if it has any; ``None`` if no gradient reached it);
- ``inputs``: one ``Edge`` per input of the op that gradients flow to (a Value with
  ``requires_grad``), in the op's argument order:

  - ``contribution``: what the op's ``backward`` returned for that input, after the
    engine summed away broadcast axes and cast to the input's dtype (``None`` if the op
    gave none);
  - ``local``: for a 0-d graph only, the local derivative d(node)/d(input), read off as
    ``contribution / upstream``; ``None`` when ``upstream`` is 0 (the local derivative
    cannot be read off), when either is an array (there it is a Jacobian, not a number)
    or when there is no contribution. ``upstream * local`` equals ``contribution`` up to
    rounding;
  - ``total``: the input's running gradient total after adding this contribution. The
    last edge into a node carries its final total: the ``upstream`` of that node's own
    step and, without hooks, the ``.grad`` that ``backward()`` gives it.

Scalars (0-d) are stored as Python floats and arrays as ndarrays; ``steps_to_json``
turns the steps into JSON (arrays as nested lists, or a summary when large).

>>> from tinygrad_edu import Value
>>> a = Value(2.0, name="a"); b = Value(-3.0, name="b")
>>> c = a * b; c.name = "c"
>>> d = c + a; d.name = "d"
>>> for step in backprop_steps(d):
...     print(step)
d = Add(c, a) = -4  upstream 1
  c: 1 x 1 = 1; total so far 1
  a: 1 x 1 = 1; total so far 1
c = Mul(a, b) = -6  upstream 1
  a: 1 x -3 = -3; total so far -2
  b: 1 x 2 = 2; total so far 2
b = leaf = -3  upstream 2
a = leaf = 2  upstream -2

``backprop_steps`` leaves ``.grad`` alone; hooks registered on the nodes do run, as in
``backward()``.

``forward_steps(root)`` is the forward pass the same way: one ``ForwardStep`` per Value,
each after its inputs, with the op and the numbers that went in and came out. Labels are
the same in both lists.

>>> for step in forward_steps(d):
...     print(step)
a = leaf = 2
b = leaf = -3
c = Mul(a, b) = Mul(2, -3) = -6
d = Add(c, a) = Add(-6, 2) = -4
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd import ValueBase, run_backward, seed_gradient

MAX_LISTED = 64  # arrays with more elements are summarised in JSON, not listed


@dataclass(frozen=True)
class Edge:
    """One input of a step's op: the gradient passed to it, and its running total."""

    index: int  # position of the input among the op's positional arguments
    input: ValueBase
    label: str
    contribution: float | np.ndarray | None
    local: float | None
    total: float | np.ndarray | None


@dataclass(frozen=True)
class Arg:
    """One argument of a forward step's op: a Value (with its label) or a constant
    (``input`` None, labelled with its number)."""

    input: ValueBase | None
    label: str
    data: float | np.ndarray


@dataclass(frozen=True)
class ForwardStep:
    """One node of the forward pass: the op that made it, its arguments and its data."""

    index: int  # forward order, from 0
    node: ValueBase
    label: str
    op: str | None  # the op's class name, None for a leaf
    data: float | np.ndarray
    args: tuple[Arg, ...]

    def __str__(self) -> str:
        """``c = Mul(a, b) = Mul(2, -3) = -6``; a leaf is ``a = leaf = 2``."""
        if self.op is None:
            return f"{self.label} = leaf = {_text(self.data)}"
        names = ", ".join(a.label for a in self.args)
        numbers = ", ".join(_text(a.data) for a in self.args)
        return (f"{self.label} = {self.op}({names}) = {self.op}({numbers}) = "
                f"{_text(self.data)}")


@dataclass(frozen=True)
class Step:
    """One node of the backward pass, as the engine processes it (see the module doc)."""

    index: int  # 0 for the root, then processing order
    node: ValueBase
    label: str
    op: str | None  # the op's class name, None for a leaf
    data: float | np.ndarray
    upstream: float | np.ndarray | None
    inputs: tuple[Edge, ...]
    args: tuple[Arg, ...]  # every argument of the op, as in ForwardStep

    def __str__(self) -> str:
        """The chain rule at this node: ``upstream x local = contribution; total``."""
        args = ", ".join(a.label for a in self.args)
        made = f"{self.op}({args})" if self.op else "leaf"
        lines = [f"{self.label} = {made} = {_text(self.data)}  upstream {_text(self.upstream)}"]
        for e in self.inputs:
            local = "?" if e.local is None else _text(e.local)
            lines.append(f"  {e.label}: {_text(self.upstream)} x {local} = "
                         f"{_text(e.contribution)}; total so far {_text(e.total)}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# Recording the pass
# ----------------------------------------------------------------------------------------


# One edge of a recorded node: (input position, gradient passed to it, its running total).
Passed = tuple[int, Any, Any]


def record_backward(root: ValueBase, seed: Any) -> list[tuple[ValueBase, Any, list[Passed]]]:
    """Run the engine's backward pass from ``root``, seeded with ``seed`` (a checked
    gradient, as from ``seed_gradient``), and record it: for each node in processing
    order, ``(node, its complete gradient, edges)``, where ``edges`` has one ``(position,
    g, total)`` per input the op passes gradients to, in argument order (``g`` after the
    engine undid broadcasting and cast it; ``None`` if the op gave none). Hooks run as in
    ``backward()``; ``.grad`` is not touched. Both graph views show this record."""
    seen: list[tuple[ValueBase, Any, list[Passed]]] = []

    def trace(node: ValueBase, grad: Any, edges: list[tuple[Any, Any]]) -> None:
        needs = () if node._ctx is None else node._ctx.needs_input_grad
        positions = [i for i, needed in enumerate(needs) if needed]
        seen.append((node, grad, [(i, g, total) for i, (g, total) in zip(positions, edges)]))

    # NOTE: an empty capture list makes run_backward return gradients instead of
    # accumulating .grad, so recording a pass has no effect on the graph.
    run_backward([root], [seed], capture=[], trace=trace)
    return seen


def backprop_steps(root: ValueBase, grad: Any = None) -> list[Step]:
    """The backward pass from ``root`` as a list of ``Step``s, one per node, in the order
    the engine processes them. ``grad`` is dL/d(root), as in ``root.backward(grad)``; it
    may be left out for a one-element root. ``.grad`` is not touched."""
    seen = record_backward(root, seed_gradient(root, grad, False, "backprop_steps"))
    labels = _labels(forward_order(root))
    return [_step(i, node, upstream, edges, labels)
            for i, (node, upstream, edges) in enumerate(seen)]


def forward_steps(root: ValueBase) -> list[ForwardStep]:
    """The forward pass that computed ``root`` as a list of ``ForwardStep``s, one per
    Value (leaves included, ``requires_grad`` or not), each after its inputs."""
    if not isinstance(root, ValueBase):
        raise TypeError(f"forward_steps: root must be a Value; got {type(root).__name__}")
    order = forward_order(root)
    labels = _labels(order)
    steps = []
    for i, node in enumerate(order):
        ctx = node._ctx
        steps.append(ForwardStep(i, node, labels[id(node)],
                                 None if ctx is None else type(ctx).__name__,
                                 _plain(node.data), _args(node, labels)))
    return steps


def _args(node: ValueBase, labels: dict[int, str]) -> tuple[Arg, ...]:
    """The arguments of the op that made ``node`` (none for a leaf)."""
    ctx = node._ctx
    return () if ctx is None else tuple(
        Arg(x, labels[id(x)], _plain(x.data)) if isinstance(x, ValueBase)
        else Arg(None, _text(_plain(x)), _plain(x)) for x in ctx.inputs)


def forward_order(root: ValueBase) -> list[ValueBase]:
    """Every Value ``root`` was computed from, and ``root`` last, each after its inputs
    (a depth-first post-order with an explicit stack, inputs in argument order)."""
    order: list[ValueBase] = []
    seen: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:  # pushed twice before it was first expanded
            continue
        seen.add(id(node))
        stack.append((node, True))
        inputs = () if node._ctx is None else node._ctx.inputs
        stack.extend((inp, False) for inp in reversed(inputs)
                     if isinstance(inp, ValueBase) and id(inp) not in seen)
    return order


def _labels(order: list[ValueBase]) -> dict[int, str]:
    """``id(node) -> label``: the name, else ``Op#k`` / ``leaf#k`` numbered in forward
    order, from 1 per kind."""
    counts: dict[str, int] = {}
    labels = {}
    for node in order:
        if node.name is not None:
            labels[id(node)] = node.name
            continue
        kind = "leaf" if node._ctx is None else type(node._ctx).__name__
        counts[kind] = counts.get(kind, 0) + 1
        labels[id(node)] = f"{kind}#{counts[kind]}"
    return labels


def _step(index: int, node: ValueBase, upstream: Any, edges: list[Passed],
          labels: dict[int, str]) -> Step:
    ctx = node._ctx
    inputs = tuple(Edge(i, ctx.inputs[i], labels[id(ctx.inputs[i])], _plain(g),
                        _local(g, upstream), _plain(total)) for i, g, total in edges)
    return Step(index, node, labels[id(node)], None if ctx is None else type(ctx).__name__,
                _plain(node.data), _plain(upstream), inputs, _args(node, labels))


def _plain(x: Any) -> float | np.ndarray | None:
    """A 0-d gradient or data as a Python float, an array as an ndarray."""
    if x is None:
        return None
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def _local(contribution: Any, upstream: Any) -> float | None:
    """contribution / upstream for 0-d gradients with upstream != 0, else None."""
    if contribution is None or upstream is None:
        return None
    if np.ndim(contribution) or np.ndim(upstream) or upstream == 0:
        return None
    with np.errstate(all="ignore"):  # inf / inf is nan here, not a warning
        return float(np.float64(contribution) / np.float64(upstream))


def _text(x: float | np.ndarray | None) -> str:
    """A number for the printed chain rule: 4 significant digits, arrays by shape."""
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        return f"array{x.shape}"
    return f"{x:.4g}"


# ----------------------------------------------------------------------------------------
# JSON, for viewers
# ----------------------------------------------------------------------------------------


def steps_to_json(steps: list[Step | ForwardStep], max_listed: int = MAX_LISTED,
                  keys: dict[int, str] | None = None) -> str:
    """The steps, backward or forward or both, as a JSON string (strict JSON: no NaN
    literals, so a browser's ``JSON.parse`` reads it).

    Every step is ``{"pass", "index", "label", "op", "data", "args"}`` with each of the
    op's arguments ``{"label", "data"}``; a backward step (``"pass": "backward"``) adds
    ``"upstream"`` and ``"inputs"``, each input ``{"index", "label", "contribution",
    "local", "total"}`` (the arguments that receive a gradient). A scalar is a number;
    an array is ``{"shape", "data"}`` with the elements as nested lists when it has at
    most ``max_listed`` elements, else ``{"shape", "min", "max", "mean"}``. NaN and
    infinities are the strings ``"nan"``, ``"inf"`` and ``"-inf"``.

    ``keys`` (``id`` of a Value or op -> its node in a drawing, ``viz.dot.node_keys``)
    adds ``"key"`` and ``"op_key"`` to each step and ``"key"`` to each input and argument
    (``null`` where the drawing has no such node).
    """
    def encode(x: float | np.ndarray | None) -> Any:
        return _encode(x, max_listed)

    def key(obj: Any) -> dict[str, str | None]:
        return {} if keys is None else {"key": None if obj is None else keys.get(id(obj))}

    out = []
    for s in steps:
        step = {"index": s.index, "label": s.label, "op": s.op, "data": encode(s.data),
                "args": [{"label": a.label, "data": encode(a.data), **key(a.input)}
                         for a in s.args], **key(s.node)}
        if keys is not None:
            step["op_key"] = keys.get(id(s.node._ctx))
        if isinstance(s, ForwardStep):
            step["pass"] = "forward"
        else:
            step["pass"] = "backward"
            step["upstream"] = encode(s.upstream)
            step["inputs"] = [{"index": e.index, "label": e.label,
                               "contribution": encode(e.contribution),
                               "local": encode(e.local), "total": encode(e.total),
                               **key(e.input)} for e in s.inputs]
        out.append(step)
    return json.dumps(out, allow_nan=False)


def _encode(x: float | np.ndarray | None, max_listed: int) -> Any:
    if x is None:
        return None
    if not isinstance(x, np.ndarray):
        return _number(x)
    shape = list(x.shape)
    if x.size <= max_listed:
        return {"shape": shape, "data": _nested(x.astype(np.float64).tolist())}
    with np.errstate(all="ignore"):  # inf - inf in the mean is nan, shown as "nan"
        stats = {"min": x.min(), "max": x.max(), "mean": x.mean(dtype=np.float64)}
    return {"shape": shape, **{k: _number(v) for k, v in stats.items()}}


def _nested(x: Any) -> Any:
    return [_nested(v) for v in x] if isinstance(x, list) else _number(x)


def _number(x: Any) -> float | str:
    x = float(x)
    return x if math.isfinite(x) else str(x)

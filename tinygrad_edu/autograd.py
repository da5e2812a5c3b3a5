"""The engine: how an op is recorded, and how gradients flow back through the record.

Reading order for a newcomer:

1. ``ValueBase`` -- the part of a Value the engine needs: its data, its gradient and
   ``_ctx``, the ``Function`` instance that produced it (``None`` for a leaf).
2. ``Function.apply`` -- runs an op's ``forward`` on plain arrays and, when a gradient
   will be needed, links the output to the op and the op to its inputs.
3. ``run_backward`` -- orders the recorded graph and calls each op's ``backward``,
   undoing broadcasting in exactly one place (``unbroadcast``).

The graph has no reference cycles: a Value points to the op that made it, the op points
to its inputs, and nothing points back.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# ----------------------------------------------------------------------------------------
# Modes: gradient recording and anomaly detection
# ----------------------------------------------------------------------------------------


class _Modes:
    __slots__ = ("grad_enabled", "anomaly")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False


_modes = _Modes()


def is_grad_enabled() -> bool:
    """True when new ops are recorded into the graph (the default)."""
    return _modes.grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Sets gradient recording on entry and restores the previous state on exit."""

    enabled: bool

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_modes.grad_enabled)
        _modes.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        _modes.grad_enabled = self._previous.pop()


class no_grad(_GradMode):
    """Context manager and decorator: ops inside are not recorded.

    Use it for evaluation and for updating parameters by hand. It nests, and the previous
    state comes back even when the block raises.
    """

    enabled = False


class enable_grad(_GradMode):
    """Context manager and decorator: record ops again inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradMode):
    """``with set_grad_enabled(flag):`` records ops exactly when ``flag`` is true."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.enabled = bool(mode)


class detect_anomaly(contextlib.ContextDecorator):
    """Inside this block, the first op whose forward or backward gives NaN or inf raises.

    The error names the op and the line of your code that created its node. It costs an
    ``isfinite`` check per op and a stack walk per recorded op, so it is off by default.
    """

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_modes.anomaly)
        _modes.anomaly = True

    def __exit__(self, *exc: object) -> None:
        _modes.anomaly = self._previous.pop()


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_site() -> str:
    """The innermost line of code outside this package: where the user made the node."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {line}"


def _check_finite(what: str, ctx: Function, array: Any) -> None:
    data = array.data if isinstance(array, ValueBase) else array
    if not np.all(np.isfinite(data)):
        site = getattr(ctx, "_site", None) or _user_site()
        raise FloatingPointError(
            f"detect_anomaly: {what} of {type(ctx).__name__} produced "
            f"{'nan' if np.isnan(data).any() else 'inf'}; the node was created at {site}"
        )


# ----------------------------------------------------------------------------------------
# The graph node and the op
# ----------------------------------------------------------------------------------------


class ValueBase:
    """What the engine sees of a Value; ``tinygrad_edu.Value`` adds the arithmetic.

    ``data``           the ndarray (0-d for a scalar)
    ``grad``           ``None`` until a gradient arrives; an ndarray of ``data``'s shape and
                       dtype, or a Value after ``backward(create_graph=True)``
    ``requires_grad``  whether gradients flow to this node
    ``_ctx``           the ``Function`` that produced it, ``None`` for a leaf
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "name", "_hooks")

    data: np.ndarray
    grad: Any
    requires_grad: bool
    _ctx: Function | None
    name: str | None
    _hooks: list[Callable[[Any], Any]] | None

    @staticmethod
    def _make(data: np.ndarray, ctx: Function | None) -> ValueBase:
        """Wrap an op's output; overridden by Value so that outputs are Values."""
        raise NotImplementedError


class _Released:
    """What an op node becomes once ``backward(retain_graph=False)`` has run through it."""

    __slots__ = ("op",)

    def __init__(self, op: str) -> None:
        self.op = op

    @property
    def inputs(self) -> tuple:
        raise RuntimeError(
            f"backward: the graph through this {self.op} node was released by an earlier "
            f"backward(retain_graph=False); pass retain_graph=True to that call to "
            f"differentiate through the graph again"
        )


class Function:
    """Base class of every op: a forward and a backward side by side.

    Subclass it and write two static methods::

        class Mul(Function):
            '''z = x * y;  dz/dx = y,  dz/dy = x.'''

            @staticmethod
            def forward(ctx, x, y):
                ctx.save_for_backward(x, y)
                return x * y

            @staticmethod
            def backward(ctx, grad):
                x, y = ctx.saved_tensors
                return grad * y, grad * x

    Positional arguments of ``apply`` are the op's inputs: ``forward`` receives each Value
    as its array and anything else as given. A 0-d Value arrives as a NumPy scalar
    (``np.float64``), which has the same attributes and methods as a 0-d array and is
    about ten times faster to compute with. Keyword arguments are options (an axis, a
    shape) passed on to ``forward`` unchanged. ``backward`` receives the gradient of the
    output and returns one gradient per input (``None`` where there is none); the engine
    sums away broadcast axes and casts to the input's dtype, so ``backward`` may return
    the broadcast shape.

    Under ``backward(create_graph=True)``, ``backward`` gets Values instead of arrays: the
    gradient, and in ``saved_tensors`` the Values behind any saved input or output. Written
    with operators and NumPy functions that Values support, one formula serves both cases
    and gives second derivatives. Anything else stored on ``ctx`` is a constant there.

    An instance of the op is the ``ctx``: it is the graph node that links the output to
    ``inputs``. Calling ``apply`` with no Value argument just returns ``forward``'s result.
    """

    __slots__ = ("inputs", "needs_input_grad", "saved_tensors", "_passed", "_out", "_site",
                 "grad_is_scratch", "__dict__")

    inputs: tuple[Any, ...]
    needs_input_grad: tuple[bool, ...]  # for each input: a Value that requires grad?
    saved_tensors: tuple[Any, ...]
    # True only while the engine calls backward with a gradient array nothing else holds:
    # backward may then write its result into it instead of allocating (ReLU does).
    grad_is_scratch: bool

    _released: _Released  # what a node of this op becomes under retain_graph=False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._released = _Released(cls.__name__)

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for ``backward``; saved inputs and outputs become Values under
        ``create_graph=True``."""
        self.saved_tensors = arrays

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: Function, grad: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run the op on Values (or arrays) and record it when a gradient is needed."""
        ctx = _new(cls)
        ctx.saved_tensors = ()
        ctx.grad_is_scratch = False
        ctx.inputs = args
        arrays = []
        needs = []
        maker = None
        for a in args:
            if isinstance(a, ValueBase):
                data = a.data
                # NOTE: NumPy computes on a scalar ~10x faster than on a 0-d array.
                arrays.append(data if data.ndim else data[()])
                needs.append(a.requires_grad)
                if maker is None:
                    maker = a
            else:
                arrays.append(a)
                needs.append(False)
        needs = tuple(needs)
        # NOTE: one shared tuple per pattern: ~56 bytes less per node of a long graph
        ctx.needs_input_grad = _NEEDS.setdefault(needs, needs)
        try:
            if _modes.anomaly:
                with np.errstate(all="ignore"):
                    out = cls.forward(ctx, *arrays, **kwargs)
                ctx._site = _user_site()
                _check_finite("forward", ctx, out)
            else:
                out = cls.forward(ctx, *arrays, **kwargs)
        except ValueError as e:
            if "could not be broadcast" not in str(e):
                raise
            shapes = " and ".join(str(np.shape(a)) for a in arrays)
            raise ValueError(f"{cls.__name__}: shapes {shapes} do not broadcast "
                             f"together (NumPy's rules: align on the right, sizes "
                             f"equal or 1)") from None
        if maker is None:
            return out
        raw = out
        if type(out) is not _ndarray:  # a Value always holds an ndarray, 0-d for a scalar
            out = out.__array__() if isinstance(out, np.generic) else np.asarray(out)
        if _modes.grad_enabled and True in needs:
            # NOTE: a tuple of arrays, unlike a list, drops out of the cyclic collector's
            # tracking, which otherwise costs time on every recorded op.
            ctx._passed = tuple(arrays)
            ctx._out = raw
            return maker._make(out, ctx)
        return maker._make(out, None)


_new = object.__new__
_ndarray = np.ndarray
_refcount = sys.getrefcount
_NEEDS: dict[tuple[bool, ...], tuple[bool, ...]] = {}

# run_backward's optional observer: trace(node, grad, [(g, running total) per input edge])
Trace = Callable[[ValueBase, Any, list[tuple[Any, Any]]], None]


# ----------------------------------------------------------------------------------------
# Broadcasting, undone in one place
# ----------------------------------------------------------------------------------------


def unbroadcast(grad: Any, shape: tuple[int, ...], op: str = "op", index: int = 0) -> Any:
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting ``shape`` up.

    Leading axes that broadcasting added are summed away, then axes where ``shape`` has
    size 1 are summed with ``keepdims``. Works on ndarrays and on Values alike.
    """
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(
            f"{op} backward: gradient for input {index} has shape {tuple(grad.shape)}, "
            f"fewer axes than the input's shape {shape}"
        )
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if ones:
        grad = grad.sum(axis=ones, keepdims=True)
    if tuple(grad.shape) != shape:
        raise ValueError(
            f"{op} backward: gradient for input {index} has shape "
            f"{tuple(grad.shape)}, which does not reduce to the input's shape {shape}"
        )
    return grad


# ----------------------------------------------------------------------------------------
# The backward engine
# ----------------------------------------------------------------------------------------


def _count_consumers(roots: Sequence[ValueBase], defer_leaves: bool) -> dict[ValueBase, int]:
    """For every node that leads to a root, how many recorded edges consume it.

    With ``defer_leaves``, leaves without hooks (the parameters, as a rule) are left out:
    nothing waits for them, so the walk only sums their gradients and stores the totals
    at the end, which saves it a turn of its loop per leaf.

    An explicit stack, not recursion, so a graph of any depth works. The nodes themselves
    are the keys, here and in the engine's other tables: Values hash by identity, and a
    dict calls the elementwise ``==`` only on keys of equal hash, which distinct Values
    never have.
    """
    consumers = {r: 0 for r in roots}
    stack = list(roots)
    while stack:
        ctx = stack.pop()._ctx
        if ctx is None:
            continue
        for inp, needed in zip(ctx.inputs, ctx.needs_input_grad):
            if needed:
                count = consumers.get(inp)
                if count is not None:
                    consumers[inp] = count + 1
                elif not (defer_leaves and inp._ctx is None and not inp._hooks):
                    consumers[inp] = 1
                    stack.append(inp)
    return consumers


def _saved_as_values(ctx: Function, node: ValueBase) -> tuple[Any, ...]:
    """The saved arrays with every saved input or output replaced by its Value."""
    owners = {}
    for passed, inp in zip(ctx._passed, ctx.inputs):
        if isinstance(inp, ValueBase):
            owners.setdefault(id(passed), inp)
    owners.setdefault(id(ctx._out), node)  # an input returned unchanged stays the input
    return tuple(owners.get(id(s), s) for s in ctx.saved_tensors)


def _backward_on_values(ctx: Function, node: ValueBase, grad: Any) -> Any:
    """``ctx.backward`` under ``create_graph``: saved inputs and outputs become Values."""
    saved = ctx.saved_tensors
    ctx.saved_tensors = _saved_as_values(ctx, node)
    try:
        return ctx.backward(ctx, grad)
    finally:
        ctx.saved_tensors = saved


def run_backward(
    roots: Sequence[ValueBase],
    seeds: Sequence[Any],
    create_graph: bool = False,
    capture: Sequence[ValueBase] | None = None,
    leaves_only: bool = False,
    trace: Trace | None = None,
    release: bool = False,
) -> list[Any] | None:
    """Propagate ``seeds`` (one gradient per root) back through the recorded graph.

    Nodes are processed in a topological order: a node's ``backward`` runs only after
    every op that consumes it has passed its share back, so the gradient it propagates is
    complete. Gradients for this call are summed in a local table, never in place, so a
    second call does not pick up the first one's intermediate gradients.

    Without ``capture`` (``Value.backward``) every node's ``.grad`` is accumulated:
    leaves as in PyTorch, and intermediate nodes too so the graph views can show them
    (unless ``leaves_only``).
    With ``capture`` (``tinygrad_edu.grad``) no ``.grad`` is touched and the gradients of
    the captured nodes are returned (``None`` where no gradient arrived).

    ``trace`` lets a viewer watch the real pass (``tinygrad_edu.viz.steps`` uses it): it
    is called once per node, in processing order, as ``trace(node, grad, edges)`` after
    the node's op has routed its gradient back. ``grad`` is the node's complete gradient
    after its hooks (``None`` if none arrived); ``edges`` holds, for each input in
    ``ctx.needs_input_grad``, in order, ``(g, total)``: the gradient passed to that input
    after undoing broadcasting (``None`` if the op gave none) and the input's running
    total after adding it. A leaf has no edges.

    ``release`` (``backward(retain_graph=False)``) lets go of each op node as soon as its
    backward has run: the node's op becomes a ``_Released`` marker, so the arrays it saved
    and the inputs nothing else needs are freed while the walk goes on. A later backward
    that reaches such a node raises an error naming its op.
    """
    consumers = _count_consumers(roots, defer_leaves=trace is None)
    pending: dict[ValueBase, Any] = {}
    for root, seed in zip(roots, seeds):
        pending[root] = seed if root not in pending else pending[root] + seed
    wanted = None if capture is None else {v: None for v in capture}
    previous = _modes.grad_enabled
    _modes.grad_enabled = create_graph
    try:
        if _modes.anomaly:
            # NaN and inf are reported by _check_finite with the op's name, not by
            # NumPy's warnings from deep inside a backward formula.
            with np.errstate(all="ignore"):
                _walk(roots, consumers, pending, wanted, create_graph, leaves_only, trace,
                      release)
        else:
            _walk(roots, consumers, pending, wanted, create_graph, leaves_only, trace, release)
    finally:
        _modes.grad_enabled = previous
    return None if wanted is None else [wanted[v] for v in capture]


def _walk(
    roots: Sequence[ValueBase],
    consumers: dict[ValueBase, int],
    pending: dict[ValueBase, Any],
    wanted: dict[ValueBase, Any] | None,
    create_graph: bool,
    leaves_only: bool,
    trace: Trace | None,
    release: bool,
) -> None:
    """The loop of ``run_backward``: take a node whose consumers are all done, store its
    gradient, call its op's backward, and hand each input its share; at the end, store
    the totals of the leaves that ``_count_consumers`` deferred."""
    checked = create_graph or _modes.anomaly  # the slow path: Values, or finiteness checks
    ready = [r for r in roots if consumers[r] == 0]
    while ready:
        node = ready.pop()
        grad = pending.pop(node, None)
        ctx = node._ctx
        if grad is not None:
            if node._hooks:
                grad = _run_hooks(node._hooks, grad)
            if ctx is None or not leaves_only or wanted is not None:
                _store(node, grad, wanted, create_graph)
        if ctx is None:
            if trace is not None:
                trace(node, grad, [])
            continue
        inputs = ctx.inputs
        if grad is None:  # nothing reached this node (a backward returned None for it)
            grads: tuple = (None,) * len(inputs)
        else:
            if create_graph:
                grads = _backward_on_values(ctx, node, grad)
            else:
                # NOTE: two references (this name and getrefcount's argument) mean that no
                # other node, .grad or user holds the array, and it is no view of another.
                scratch = (type(grad) is _ndarray and grad.base is None
                           and _refcount(grad) == 2)
                ctx.grad_is_scratch = scratch
                grads = ctx.backward(ctx, grad)
                if scratch:
                    ctx.grad_is_scratch = False
            if type(grads) is not tuple:
                grads = (grads,)
            if len(grads) != len(inputs):
                raise ValueError(f"{type(ctx).__name__}.backward returned {len(grads)} "
                                 f"gradient(s) for {len(inputs)} input(s)")
        edges = None if trace is None else []
        for inp, needed, g in zip(inputs, ctx.needs_input_grad, grads):
            if not needed:
                continue
            if g is not None:
                data = inp.data
                try:
                    fits = g.shape == data.shape and g.dtype is data.dtype
                except AttributeError:  # a plain Python number
                    fits = False
                if checked or not fits:
                    g = _fit_gradient(g, inp, ctx, create_graph)
                before = pending.get(inp)
                pending[inp] = g if before is None else before + g
            if edges is not None:
                edges.append((g, pending.get(inp)))
            count = consumers.get(inp)
            if count is None:  # a deferred leaf (see _count_consumers)
                continue
            count -= 1
            consumers[inp] = count
            if not count:
                ready.append(inp)
        if edges is not None:
            trace(node, grad, edges)
        if release:  # its saved arrays, and inputs no longer needed, can be freed now
            node._ctx = ctx._released
        grads = g = None  # hold no gradient into the next node's scratch check
    for leaf, grad in pending.items():  # what is left: the deferred leaves' totals
        _store(leaf, grad, wanted, create_graph)


def _store(node: ValueBase, grad: Any, wanted: dict[ValueBase, Any] | None,
           create_graph: bool) -> None:
    """Add a node's complete gradient to its ``.grad``, or keep it in ``wanted`` when
    the node is one of the captured ones."""
    if wanted is None:
        total = node.grad
        node.grad = (grad if total is None and type(grad) is _ndarray
                     else _accumulate(total, grad, create_graph))
    elif node in wanted:
        wanted[node] = _accumulate(None, grad, create_graph)


def _accumulate(total: Any, grad: Any, create_graph: bool) -> Any:
    """``total + grad`` out of place, as an ndarray (0-d for a scalar) or a Value."""
    if type(grad) is not _ndarray and not create_graph:
        grad = grad.__array__() if isinstance(grad, np.generic) else np.asarray(grad)
    return grad if total is None else total + grad


def _run_hooks(hooks: list[Callable[[Any], Any]], grad: Any) -> Any:
    for hook in hooks:
        replaced = hook(grad)
        if replaced is not None:
            grad = replaced
    return grad


def _fit_gradient(g: Any, inp: ValueBase, ctx: Function, create_graph: bool) -> Any:
    """Give an op's gradient the input's shape (undo broadcasting) and dtype."""
    data = inp.data
    index = next(i for i, v in enumerate(ctx.inputs) if v is inp)
    if not hasattr(g, "shape"):
        g = np.asarray(g)
    if g.shape != data.shape:
        g = unbroadcast(g, data.shape, type(ctx).__name__, index)
    if g.dtype != data.dtype:
        g = g.astype(data.dtype, copy=False)
    if create_graph and not isinstance(g, ValueBase):
        g = inp._make(np.asarray(g), None)
    if _modes.anomaly:
        _check_finite(f"backward (gradient for input {index})", ctx, g)
    return g


# ----------------------------------------------------------------------------------------
# Entry points: seeds, and gradients without touching .grad
# ----------------------------------------------------------------------------------------


def seed_gradient(output: ValueBase, grad: Any, create_graph: bool, op: str) -> Any:
    """The starting gradient dL/d(output) for a backward pass, checked against ``output``."""
    if not output.requires_grad:
        raise RuntimeError(
            f"{op}: this Value does not require grad: it was made from Values with "
            f"requires_grad=False or under no_grad(), so there is no graph to differentiate"
        )
    shape = output.data.shape
    if grad is None:
        if output.data.size != 1:
            raise ValueError(
                f"{op}: a gradient can be implied only for a one-element output; this one "
                f"has shape {shape}, so pass grad= an array of that shape (or reduce it "
                f"first, e.g. .sum())"
            )
        seed = np.array(1, output.data.dtype).reshape(shape)  # NOTE: ~2x faster than np.ones
    elif isinstance(grad, ValueBase):
        seed = grad
    else:
        seed = np.asarray(grad, dtype=output.data.dtype)
    if tuple(seed.shape) != shape:
        raise ValueError(f"{op}: grad has shape {tuple(seed.shape)} but the output has "
                         f"shape {shape}; they must match")
    if create_graph and not isinstance(seed, ValueBase):
        seed = output._make(seed, None)
    return seed


def grad(
    outputs: ValueBase | Sequence[ValueBase],
    inputs: ValueBase | Sequence[ValueBase],
    grad_outputs: Any = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, leaving ``.grad`` alone.

    Returns one gradient per input: an ndarray, or a Value recorded in the graph when
    ``create_graph=True`` (so it can be differentiated again, e.g. for Hessian-vector
    products). ``grad_outputs`` gives dL/d(output) per output and may be left out for
    one-element outputs. An input that the outputs do not depend on is an error unless
    ``allow_unused=True``, which gives ``None`` for it.
    """
    outs = [outputs] if isinstance(outputs, ValueBase) else list(outputs)
    ins = [inputs] if isinstance(inputs, ValueBase) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outs)
    elif isinstance(grad_outputs, (ValueBase, np.ndarray)) or np.isscalar(grad_outputs):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outs)} outputs")
    for i, v in enumerate(ins):
        if not isinstance(v, ValueBase) or not v.requires_grad:
            raise ValueError(f"grad: input {i} is not a Value that requires grad")
    seeds = [seed_gradient(o, g, create_graph, "grad") for o, g in zip(outs, grad_outputs)]
    found = run_backward(outs, seeds, create_graph, capture=ins)
    for i, g in enumerate(found):
        if g is None and not allow_unused:
            raise ValueError(f"grad: the outputs do not depend on input {i}; pass "
                             f"allow_unused=True to get None for it")
    return tuple(found)

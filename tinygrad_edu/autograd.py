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
import sysconfig
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .ops import kernels

# ----------------------------------------------------------------------------------------
# Modes: gradient recording and anomaly detection
# ----------------------------------------------------------------------------------------


class _Modes(threading.local):
    """Gradient recording, per thread as PyTorch's grad mode: a thread starts with it on,
    and a backward (which records its own ops only for create_graph) or a ``no_grad``
    block in one thread does not stop another thread recording."""

    def __init__(self) -> None:
        self.grad_enabled = True


class _Anomaly:
    """Anomaly detection, for the whole process as PyTorch's."""

    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = False


_modes = _Modes()
_anomaly = _Anomaly()


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


class _BareDecorator(_GradMode):
    """A mode that also decorates without parentheses: ``@no_grad`` as ``@no_grad()``."""

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        mode = super().__new__(cls)
        if func is None:
            return mode
        if not callable(func):
            raise TypeError(f"{cls.__name__}: takes no argument (or, written bare as a "
                            f"decorator, the function); got {func!r}")
        mode.__init__()
        return mode(func)

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        super().__init__()


class no_grad(_BareDecorator):
    """Context manager and decorator (``@no_grad`` or ``@no_grad()``): ops inside are not
    recorded.

    Use it for evaluation and for updating parameters by hand. It nests, and the previous
    state comes back even when the block raises.
    """

    enabled = False


class enable_grad(_BareDecorator):
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
        self._previous.append(_anomaly.enabled)
        _anomaly.enabled = True

    def __exit__(self, *exc: object) -> None:
        _anomaly.enabled = self._previous.pop()


_PACKAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")
# Code that calls an op without being the user's: the standard library and installed
# packages (a mock, a test runner's wrapper, a notebook's kernel).
_LIBRARIES = tuple({os.path.join(sysconfig.get_path(name), "")
                    for name in ("stdlib", "platstdlib", "purelib", "platlib")})


def _user_site() -> str:
    """The innermost line of the user's code: outside this package and, where there is such
    a line, outside the libraries too. This is where the user made the node."""
    frame, outside = sys._getframe(1), None
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR):
            outside = outside or frame
            if not filename.startswith(_LIBRARIES):
                break
        frame = frame.f_back
    frame = frame or outside
    if frame is None:
        return "<unknown>"
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {line}"


def _check_finite(what: str, ctx: Function, array: Any) -> None:
    if not np.all(np.isfinite(array)):
        site = getattr(ctx, "_site", None) or _user_site()
        raise FloatingPointError(
            f"detect_anomaly: {what} of {type(ctx).__name__} produced "
            f"{'nan' if np.isnan(array).any() else 'inf'}; the node was created at {site}"
        )


def _forward_checked(cls: type[Function], ctx: Function, arrays: list, kwargs: dict) -> Any:
    """``forward`` under ``detect_anomaly``: remember the user's line, check the result."""
    with np.errstate(all="ignore"):
        out = cls.forward(ctx, *arrays, **kwargs)
    ctx._site = _user_site()
    _check_finite("forward", ctx, out)
    return out


# ----------------------------------------------------------------------------------------
# The graph node and the op
# ----------------------------------------------------------------------------------------


class ValueBase:
    """What the engine sees of a Value; ``tinygrad_edu.Value`` adds the arithmetic.

    ``_data``          the ndarray (0-d for a scalar); users read and assign it as
                       ``Value.data``, which checks what is assigned
    ``grad``           ``None`` until a gradient arrives; an ndarray of the data's shape and
                       dtype, or a Value after ``backward(create_graph=True)``
    ``requires_grad``  whether gradients flow to this node
    ``_ctx``           the ``Function`` that produced it, ``None`` for a leaf
    ``_stored_grad``   on a leaf, the gradient array backward last stored in ``.grad``,
                       kept after ``.grad`` is reset until backward stores the next one
                       (``_store``)
    """

    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "name", "_hooks", "_stored_grad")

    _data: np.ndarray
    grad: Any
    requires_grad: bool
    _ctx: Function | None
    name: str | None
    _hooks: list[Callable[[Any], Any]] | None

    @staticmethod
    def _make(data: np.ndarray, ctx: Function | None) -> ValueBase:
        """Wrap an op's output; overridden by Value so that outputs are Values."""
        raise NotImplementedError


def _describe(node: ValueBase) -> str:
    """How error messages name a node: its kind, its name if it has one, its shape."""
    kind = "leaf Value" if node._ctx is None else f"output of {type(node._ctx).__name__}"
    name = "" if node.name is None else f" {node.name!r}"
    return f"the {kind}{name} of shape {node._data.shape}"


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
    much faster to compute with. Keyword arguments are options (an axis, a shape) passed
    on to ``forward`` unchanged. ``backward`` receives the gradient of the output and
    returns one gradient per input (``None`` where there is none); the engine sums away
    broadcast axes and casts to the input's dtype, so ``backward`` may return the
    broadcast shape.

    Under ``backward(create_graph=True)``, ``backward`` gets Values instead of arrays: the
    gradient, and in ``saved_tensors`` the Values behind any saved input or output. Written
    with operators and NumPy functions that Values support, one formula serves both cases
    and gives second derivatives. Anything else stored on ``ctx`` is a constant there.

    An instance of the op is the ``ctx``: it is the graph node that links the output to
    ``inputs``. Calling ``apply`` with no Value argument just returns ``forward``'s result.
    """

    # Ops keep their own attributes (an axis, a shape) on ctx: a subclass without
    # __slots__ has a __dict__ for them.
    __slots__ = ("inputs", "needs_input_grad", "saved_tensors", "_grad_positions", "_passed",
                 "_out", "_site")

    inputs: tuple[Any, ...]
    needs_input_grad: tuple[bool, ...]  # for each input: a Value that requires grad?
    _grad_positions: tuple[int, ...]  # where needs_input_grad is True: the graph's edges
    saved_tensors: tuple[Any, ...]

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
        ctx.inputs = args
        arrays = []
        needs = []
        maker = None  # the first Value input: it makes the output (a Value, not an array)
        for a in args:
            if isinstance(a, ValueBase):
                data = a._data
                # NOTE: NumPy computes on a scalar much faster than on a 0-d array.
                arrays.append(data if data.ndim else data[()])
                needs.append(a.requires_grad)
                if maker is None:
                    maker = a
            else:
                arrays.append(a)
                needs.append(False)
        needs = tuple(needs)
        ctx.needs_input_grad, ctx._grad_positions = _PATTERNS.get(needs) or _pattern(needs)
        try:
            if _anomaly.enabled:
                out = _forward_checked(cls, ctx, arrays, kwargs)
            else:  # NOTE: a call through ** costs more than one without, even with no option
                out = cls.forward(ctx, *arrays, **kwargs) if kwargs else cls.forward(ctx, *arrays)
        except ValueError as e:
            if "could not be broadcast" not in str(e):
                raise
            raise _broadcast_error(cls, arrays) from None
        if maker is None:
            return out
        ctx._out = out
        if type(out) is not _ndarray:  # a Value always holds an ndarray, 0-d for a scalar
            out = out.__array__() if isinstance(out, np.generic) else np.asarray(out)
        if _modes.grad_enabled and ctx._grad_positions:
            # NOTE: a tuple of arrays, unlike a list, drops out of the cyclic collector's
            # tracking, which otherwise costs time on every recorded op.
            ctx._passed = tuple(arrays)
            return maker._make(out, ctx)
        return maker._make(out, None)


_new = object.__new__
_ndarray = np.ndarray
_PATTERNS: dict[tuple[bool, ...], tuple[tuple[bool, ...], tuple[int, ...]]] = {}


def _pattern(needs: tuple[bool, ...]) -> tuple[tuple[bool, ...], tuple[int, ...]]:
    """``needs_input_grad`` and ``_grad_positions`` of a new pattern of inputs, kept so that
    every op with that pattern shares the two tuples."""
    pattern = _PATTERNS[needs] = (needs, tuple(i for i, n in enumerate(needs) if n))
    return pattern


def _broadcast_error(cls: type[Function], arrays: list) -> ValueError:
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    return ValueError(f"{cls.__name__}: shapes {shapes} do not broadcast together "
                      f"(NumPy's rules: align on the right, sizes equal or 1)")


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
    if extra == 1:  # as a rule a bias's gradient, summed over the batch
        grad = kernels.sum_along(grad, 0)
    elif extra:
        grad = grad.sum(axis=tuple(range(extra)))
    if 1 in shape:  # axes of size 1 that broadcasting stretched
        ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if ones:
            grad = grad.sum(axis=ones, keepdims=True)
    if tuple(grad.shape) != shape:
        raise ValueError(
            f"{op} backward: gradient for input {index} has shape "
            f"{tuple(grad.shape)}, which does not reduce to the input's shape {shape}"
        )
    return grad


def _fit_gradient(g: Any, ctx: Function, index: int, create_graph: bool) -> Any:
    """Give an op's gradient for its input ``index`` that input's shape (undo
    broadcasting) and dtype."""
    inp = ctx.inputs[index]
    data = inp._data
    if not hasattr(g, "shape"):
        g = np.asarray(g)
    if g.shape != data.shape:
        g = unbroadcast(g, data.shape, type(ctx).__name__, index)
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    if create_graph:
        g = _as_value(g, inp)
    if _anomaly.enabled:
        _check_finite(f"backward (gradient for input {index})", ctx, g)
    return g


# ----------------------------------------------------------------------------------------
# The backward engine: Kahn's algorithm over the recorded graph
# ----------------------------------------------------------------------------------------

# run_backward's optional observer: trace(node, grad, [(g, running total) per input edge])
Trace = Callable[[ValueBase, Any, list[tuple[Any, Any]]], None]


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

    Nodes are processed in a topological order (Kahn's algorithm, ``_backprop``): a node's
    ``backward`` runs only after every op that consumes it has passed its share back, so
    the gradient it propagates is complete. Gradients for this call are summed in a local
    table, never in place, so a second call does not pick up the first one's
    intermediate gradients.

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

    ``create_graph`` records the ops that backward runs, so the gradients are Values that
    can be differentiated again: ops are recorded during the pass (grad mode is set to
    ``create_graph`` below), saved arrays become Values (``_backward_on_values``), and
    constant gradients become leaf Values (``_as_value``).
    """
    table: dict[ValueBase, tuple[int | None, Any]] = {}
    for root, seed in zip(roots, seeds):  # a root given twice gets both seeds, and is one root
        entry = table.get(root)
        table[root] = (0, seed if entry is None else entry[1] + seed)
    roots = list(table)
    _count_consumers(table, defer_leaves=trace is None)
    captured = None if capture is None else dict.fromkeys(capture)
    options = _Options(captured, create_graph, leaves_only, trace, release)
    recording = _modes.grad_enabled
    _modes.grad_enabled = create_graph  # backward's own ops are recorded for create_graph only
    try:
        if _anomaly.enabled:  # NaN and inf are reported by _check_finite, naming the op
            with np.errstate(all="ignore"):
                _backprop(roots, table, options)
        else:
            _backprop(roots, table, options)
    finally:
        _modes.grad_enabled = recording
    return None if captured is None else [captured[v] for v in capture]


class _Options:
    """The optional features of one backward pass, as ``_backprop`` reads them."""

    __slots__ = ("captured", "create_graph", "leaves_only", "trace", "release", "checked",
                 "every_node")

    def __init__(self, captured: dict[ValueBase, Any] | None, create_graph: bool,
                 leaves_only: bool, trace: Trace | None, release: bool) -> None:
        self.captured = captured
        self.create_graph = create_graph
        self.leaves_only = leaves_only
        self.trace = trace
        self.release = release
        # the slow path: every gradient goes through _fit_gradient (Values, or checks)
        self.checked = create_graph or _anomaly.enabled
        # whether every node's gradient is kept (captured, or stored in .grad), not only
        # the leaves'
        self.every_node = captured is not None or not leaves_only


def _backprop(roots: Sequence[ValueBase], table: dict[ValueBase, tuple],
              options: _Options) -> None:
    """Kahn's algorithm: pop a node whose consumers have all passed their shares back,
    call its op's backward, and hand each input its share; an input whose last
    consumer is done becomes ready in turn."""
    ready = [r for r in roots if table[r][0] == 0]
    while ready:
        node = ready.pop()
        grad = table.pop(node)[1]  # the table holds no node it is done with (see release)
        ctx = node._ctx  # before _complete: no name here still holds the previous op
        if ctx is None or node._hooks or options.every_node:
            grad = _complete(node, grad, options)
        if ctx is None:  # a leaf: nothing further back
            if options.trace is not None:
                options.trace(node, grad, [])
            continue
        grads = _call_backward(ctx, node, grad, options.create_graph)
        edges = _hand_out(ctx, grads, table, ready, options)
        if options.trace is not None:
            options.trace(node, grad, edges)
        if options.release:  # its saved arrays, and inputs no longer needed, can go now
            node._ctx = ctx._released
    _complete_deferred(table, options)  # what is left: the deferred leaves' totals


def _hand_out(ctx: Function, grads: tuple, table: dict[ValueBase, tuple], ready: list[ValueBase],
              options: _Options) -> list[tuple[Any, Any]] | None:
    """Add each input's share to its gradient so far, and queue an input once its last
    consumer is done. Returns the edges for ``trace`` (``None`` without one)."""
    edges = None if options.trace is None else []
    checked = options.checked
    inputs = ctx.inputs
    for i in ctx._grad_positions:
        inp, g = inputs[i], grads[i]
        waiting, total = table[inp]
        if g is not None:
            data = inp._data
            try:  # most gradients already have the input's shape and dtype
                fits = g.shape == data.shape and g.dtype is data.dtype and not checked
            except AttributeError:  # a plain Python number
                fits = False
            if not fits:
                g = _fit_gradient(g, ctx, i, options.create_graph)
            total = g if total is None else total + g  # out of place
        if edges is not None:
            edges.append((g, total))
        if waiting is not None:  # None: a deferred leaf, which nothing waits for
            waiting -= 1
            if not waiting:
                ready.append(inp)
        table[inp] = (waiting, total)
    return edges


def _count_consumers(table: dict[ValueBase, tuple], defer_leaves: bool) -> None:
    """Add to ``table`` (the roots) every node that leads to a root, with how many
    recorded edges consume it: ``table[node]`` is ``(consumers still to pass back,
    gradient so far)``.

    With ``defer_leaves``, leaves without hooks (the parameters, as a rule) wait for
    nothing (their count is ``None``): the walk only sums their gradients and stores the
    totals at the end, which saves it a turn of its loop per leaf.

    An explicit stack, not recursion, so a graph of any depth works. The nodes themselves
    are the keys: Values hash by identity, and a dict calls the elementwise ``==`` only on
    keys of equal hash, which distinct Values never have.
    """
    stack = list(table)
    while stack:
        ctx = stack.pop()._ctx
        if ctx is None:
            continue
        inputs = ctx.inputs
        for i in ctx._grad_positions:
            inp = inputs[i]
            entry = table.get(inp)
            if entry is None:
                if defer_leaves and inp._ctx is None and not inp._hooks:
                    table[inp] = (None, None)
                else:
                    table[inp] = (1, None)
                    stack.append(inp)
            elif entry[0] is not None:
                table[inp] = (entry[0] + 1, entry[1])


def _complete(node: ValueBase, grad: Any, options: _Options) -> Any:
    """A node's gradient is complete: run its hooks, then capture or store it."""
    if grad is None:  # nothing reached this node (a backward returned None for it)
        return None
    if node._hooks:
        grad = _run_hooks(node, grad)
    _keep(node, grad, options)
    return grad


def _complete_deferred(table: dict[ValueBase, tuple], options: _Options) -> None:
    """``_complete`` for each deferred leaf left in ``table``: such a leaf has no hooks, so
    its total is only kept."""
    for leaf, (_, grad) in table.items():
        if grad is not None:  # None: nothing reached this leaf
            _keep(leaf, grad, options)


def _keep(node: ValueBase, grad: Any, options: _Options) -> None:
    """Capture a node's complete gradient for ``grad()``, or store it in ``.grad`` (a
    leaf's always, an intermediate node's unless ``leaves_only``)."""
    if options.captured is not None:
        _capture(options.captured, node, grad, options.create_graph)
    elif node._ctx is None or not options.leaves_only:
        _store(node, grad, options.create_graph)


def _call_backward(ctx: Function, node: ValueBase, grad: Any, create_graph: bool) -> tuple:
    """The op's backward, as a tuple with one gradient (or None) per input."""
    if grad is None:  # nothing reached this node (a backward returned None for it)
        return (None,) * len(ctx.inputs)
    if create_graph:
        grads = _backward_on_values(ctx, node, grad)
    else:
        grads = ctx.backward(ctx, grad)
    if type(grads) is not tuple:
        grads = (grads,)
    if len(grads) != len(ctx.inputs):
        raise ValueError(f"{type(ctx).__name__}.backward returned {len(grads)} "
                         f"gradient(s) for {len(ctx.inputs)} input(s)")
    return grads


# ----------------------------------------------------------------------------------------
# The optional features, one helper each
# ----------------------------------------------------------------------------------------


class RemovableHandle:
    """Returned by ``Value.register_hook`` and ``Module.register_forward_hook`` (named as
    PyTorch's): ``remove()`` takes the hook off its list again."""

    def __init__(self, hooks: list, fn: Callable) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def _run_hooks(node: ValueBase, grad: Any) -> Any:
    """Each hook sees the complete gradient; one that returns something replaces it."""
    for hook in node._hooks:
        replaced = hook(grad)
        if replaced is not None:
            grad = _checked_hook_result(node, hook, replaced)
    return grad


def _checked_hook_result(node: ValueBase, hook: Callable, result: Any) -> Any:
    """A hook's replacement gradient: real numbers of the node's shape, in its dtype."""
    data = node._data
    array = np.asarray(result)
    name = getattr(hook, "__name__", repr(hook))
    if array.dtype.kind not in "biuf":
        raise TypeError(f"register_hook: the hook {name} on {_describe(node)} returned "
                        f"{type(result).__name__} data of dtype {array.dtype}; it must "
                        f"return None or a gradient of real numbers")
    if array.shape != data.shape:
        raise ValueError(f"register_hook: the hook {name} on {_describe(node)} returned a "
                         f"gradient of shape {array.shape}; it must return None or a "
                         f"gradient of the Value's shape {data.shape}")
    if array.dtype == data.dtype:
        return result
    return result.astype(data.dtype) if isinstance(result, ValueBase) else array.astype(data.dtype)


def _capture(captured: dict[ValueBase, Any], node: ValueBase, grad: Any,
             create_graph: bool) -> None:
    """``grad()``: keep the gradient of a node it asked for; ``.grad`` is not touched."""
    if node in captured:
        captured[node] = _as_gradient(grad, create_graph)


def _store(node: ValueBase, grad: Any, create_graph: bool) -> None:
    """Add a node's complete gradient to its ``.grad``, out of place."""
    total = node.grad
    if total is None:
        node.grad = grad if type(grad) is _ndarray else _as_gradient(grad, create_graph)
    elif getattr(total, "shape", None) != node._data.shape:
        raise ValueError(f"backward: the .grad already on {_describe(node)} has shape "
                         f"{getattr(total, 'shape', type(total).__name__)}; set it to None "
                         f"(zero_grad()) or to an array of the Value's shape")
    else:
        node.grad = _as_gradient(total + grad, create_graph)  # 0-d + 0-d is a NumPy scalar
    if node._ctx is None:
        _keep_until_next(node, create_graph)


def _keep_until_next(leaf: ValueBase, create_graph: bool) -> None:
    """Keep the leaf's new gradient array in ``_stored_grad``, which lets go of the one
    kept from the previous backward only now.

    NOTE: a training step resets the parameters' gradients (``zero_grad()``) before its
    forward pass. Made last in the previous step, they sit at the top of the heap, over
    the memory that step's graph freed; if resetting freed them, the whole of it would be
    free and at the top, and glibc's malloc hands such a top back to the system (past its
    trim threshold), to take it back page by page, each a page fault, in the next step.
    Kept, they stay in use above the memory that the next forward pass reuses, until the
    new gradients exist. A gradient that is a Value (``create_graph``) is not kept: it
    would keep its graph.
    """
    leaf._stored_grad = None if create_graph else leaf.grad


def _as_gradient(grad: Any, create_graph: bool) -> Any:
    """A gradient as ``.grad`` holds it: an ndarray (0-d for a scalar), or under
    ``create_graph`` a Value."""
    if type(grad) is _ndarray or create_graph:
        return grad
    return grad.__array__() if isinstance(grad, np.generic) else np.asarray(grad)


def _as_value(g: Any, like: ValueBase) -> Any:
    """Under ``create_graph`` every gradient is a Value, so that it can be differentiated
    again: a constant gradient becomes a leaf."""
    return g if isinstance(g, ValueBase) else like._make(np.asarray(g), None)


def _saved_as_values(ctx: Function, node: ValueBase) -> tuple[Any, ...]:
    """The saved arrays with every saved input or output replaced by its Value."""
    owners = {}
    for passed, inp in zip(ctx._passed, ctx.inputs):
        if isinstance(inp, ValueBase):
            owners.setdefault(id(passed), inp)
    owners.setdefault(id(ctx._out), node)  # an input returned unchanged stays the input
    return tuple(owners.get(id(s), s) for s in ctx.saved_tensors)


def _backward_on_values(ctx: Function, node: ValueBase, grad: Any) -> Any:
    """``ctx.backward`` under ``create_graph``: saved inputs and outputs become Values, so
    the ops of the backward formula are recorded and can be differentiated again."""
    saved = ctx.saved_tensors
    ctx.saved_tensors = _saved_as_values(ctx, node)
    try:
        return ctx.backward(ctx, grad)
    finally:
        ctx.saved_tensors = saved


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
    data = output._data
    shape = data.shape
    if grad is None:
        if data.size != 1:
            raise ValueError(
                f"{op}: a gradient can be implied only for a one-element output; this one "
                f"has shape {shape}, so pass grad= an array of that shape (or reduce it "
                f"first, e.g. .sum())"
            )
        seed = np.array(1, data.dtype)
        if shape:  # a one-element array of one or more axes
            seed = seed.reshape(shape)
    elif isinstance(grad, ValueBase):
        seed = grad
    else:
        seed = np.asarray(grad)
        if seed.dtype.kind not in "biuf":
            raise TypeError(f"{op}: grad must be real numbers (an array or Value of the "
                            f"output's shape {shape}); got {grad!r:.80}")
        seed = seed.astype(data.dtype, copy=False)
    if tuple(seed.shape) != shape:
        raise ValueError(f"{op}: grad has shape {tuple(seed.shape)} but the output has "
                         f"shape {shape}; they must match")
    return _as_value(seed, output) if create_graph else seed


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

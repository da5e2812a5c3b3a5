"""``Value`` (also exported as ``Tensor``): an ndarray that records the ops made from it.

Every operator below is a one-line call to an op in ``tinygrad_edu.ops``; the op holds
the forward and backward maths. NumPy interoperates both ways: ``np.asarray(v)`` gives the
data, and NumPy's own functions on a Value (``np.exp(v)``, ``ndarray + v``,
``np.where(c, v, 0)``) run the differentiable op and return a Value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from . import autograd
from ._checks import float_dtype
from .autograd import RemovableHandle, ValueBase
from .ops import kernels
from .ops.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .ops.axes import normalize_axes, torch_axis_args
from .ops.elementwise import (
    Abs,
    Add,
    Cast,
    Clip,
    Cos,
    Div,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Sin,
    Sqrt,
    Sub,
    Where,
)
from .ops.linalg import MatMul
from .ops.reduce import LogSumExp, Max, Mean, Min, Std, Sum, Var
from .ops.shape import BroadcastTo, Concatenate, GetItem, Pad, Reshape, Stack, Transpose

_new = object.__new__
_FLOAT64 = np.dtype(np.float64)

_KIND_NAMES = {"c": "complex", "U": "string", "S": "bytes", "O": "object", "M": "datetime",
               "m": "timedelta", "V": "structured"}


def _to_array(data: Any, dtype: Any, op: str = "Value") -> np.ndarray:
    """Validate and copy user data into a float ndarray (a large one aligned to a cache
    line, ``kernels.aligned_copy``); errors name ``op``."""
    if dtype is not None:
        dtype = float_dtype(op, dtype)
    if isinstance(data, ValueBase):
        data = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(d, ValueBase) for d in data):
        raise TypeError(f"{op}: got a list that contains Values; use "
                        "tinygrad_edu.stack(values) to combine them and keep the graph")
    try:
        array = np.asarray(data)
    except ValueError as e:
        raise ValueError(f"{op}: data must be a number, a regular nested list of numbers "
                         f"or an ndarray; {e}") from None
    kind = array.dtype.kind
    if kind in "biu":
        dtype = dtype or _FLOAT64
    elif kind != "f":
        name = _KIND_NAMES.get(kind, str(array.dtype))
        raise TypeError(f"{op}: data must be real numbers; got {name} data "
                        f"(dtype {array.dtype}): {_preview(array)}")
    return kernels.aligned_copy(array, dtype or array.dtype)


def _set_data(v: Value, data: Any) -> None:
    """``v.data = data``: a float ndarray is stored as given (shared; any shape or float
    dtype, as PyTorch's ``.data`` allows), anything else converted to ``v``'s dtype."""
    if data is v._data:  # the update ``p.data -= lr * p.grad`` assigns the same array back
        return
    if isinstance(data, ValueBase):
        data = data._data
    if not (isinstance(data, np.ndarray) and data.dtype.kind == "f"):
        data = _to_array(data, v._data.dtype, "Value.data")
    v._data = data


def _preview(array: np.ndarray) -> str:
    text = np.array2string(np.asarray(array), precision=4, threshold=8, edgeitems=2,
                           separator=", ")
    return " ".join(text.split())


def _raw(x: Any) -> Any:
    """The array behind a Value; anything else as given."""
    return x._data if isinstance(x, ValueBase) else x


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` as NumPy and PyTorch both do."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def _index_arg(index: Any) -> Any:
    """An index with Values replaced by their data and lists made arrays."""
    if isinstance(index, tuple):
        return tuple(_index_arg(i) for i in index)
    if isinstance(index, ValueBase):
        return index._data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _one_shape(op: str, sizes: tuple, keyword: str, given: Any) -> tuple[int, ...]:
    """A shape or permutation given as ``f(2, 3)``, ``f((2, 3))`` or ``f(keyword=(2, 3))``."""
    if given is None:
        return _shape_arg(sizes)
    if sizes:
        raise TypeError(f"{op}: got {sizes} and {keyword}={given!r}; pass one of them")
    return _shape_arg((given,))


class ElementCount(int):
    """``x.size``: NumPy's number of elements, which can also be called as PyTorch's
    ``x.size()`` (the shape tuple) and ``x.size(dim)`` (the length of one axis).

    It is an ``int`` in every other respect, so ``x.size == 6`` and ``n = x.size`` work
    as they do on an ndarray.
    """

    def __new__(cls, shape: tuple[int, ...]) -> ElementCount:
        count = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        count.shape = shape
        return count

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        (axis,) = normalize_axes(dim, len(self.shape), "size")
        return self.shape[axis]


class Value(ValueBase):
    """An ndarray (0-d for a scalar) that records the ops made from it, for backprop.

    >>> a = Value(2.0); b = Value(-3.0)
    >>> c = a * b + a
    >>> c.backward()
    >>> a.grad, b.grad
    (array(-2.), array(2.))

    ``requires_grad`` defaults to True, as in micrograd: a leaf gets a gradient unless
    you opt out (data batches and constants: ``requires_grad=False``). Integer and
    boolean data become float64 (or ``dtype``); float32 is kept through every op.
    Gradients accumulate across ``backward`` calls, as in PyTorch: clear them with
    ``zero_grad()``. The engine never edits a ``.grad`` array in place and may share one
    array between nodes, so replace a gradient rather than modifying it.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None,
                 name: str | None = None) -> None:
        self._data = _to_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self.name = name
        self._hooks = None

    @staticmethod
    def _make(data: np.ndarray, ctx: autograd.Function | None) -> Value:
        # The engine's constructor: no validation, and always a plain Value (an op on a
        # Parameter gives a Value).
        v = _new(Value)
        v._data = data
        v.grad = None
        v.requires_grad = ctx is not None
        v._ctx = ctx
        v.name = None
        v._hooks = None
        return v

    # ------------------------------------------------------------------------------------
    # Attributes
    # ------------------------------------------------------------------------------------

    data = property(
        attrgetter("_data"), _set_data,
        doc="""The ndarray (0-d for a scalar). Assigning a float ndarray uses it as given
        (any shape: a ``.grad`` of the old shape is then an error at the next backward);
        numbers, lists and integer arrays are converted to this Value's dtype; anything
        else is refused with an error.""")

    # NOTE: attrgetter, as for data: read in every layer's forward, and a property made of
    # a C function calls no Python function.
    shape = property(attrgetter("_data.shape"), doc="The data's shape (a tuple of ints).")
    ndim = property(attrgetter("_data.ndim"), doc="The data's number of axes.")

    @property
    def size(self) -> ElementCount:
        """The number of elements (an int, as NumPy's ``size``); call it, ``x.size()`` or
        ``x.size(dim)``, for PyTorch's shape tuple or the length of one axis."""
        return ElementCount(self._data.shape)

    dtype = property(attrgetter("_data.dtype"), doc="The data's dtype.")

    @property
    def is_leaf(self) -> bool:
        """True for a Value made by the user rather than by an op."""
        return self._ctx is None

    @property
    def grad_fn(self) -> autograd.Function | None:
        """The op node that made this Value (``None`` for a leaf)."""
        return self._ctx

    def item(self) -> float:
        """The value of a one-element Value as a Python float."""
        if self._data.size != 1:
            raise ValueError(f"item: only a one-element Value converts to a number; this "
                             f"one has shape {self.shape}")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The data (shared, not copied), as PyTorch's ``Tensor.numpy()``."""
        return self._data

    def tolist(self) -> Any:
        """The data as nested Python lists of floats (a float for a 0-d Value)."""
        return self._data.tolist()

    def __repr__(self) -> str:
        if self._data.ndim == 0:
            parts = [str(self._data[()])]
            if self.dtype != np.float64:
                parts.append(f"dtype={self.dtype}")
            if self.grad is not None:
                parts.append(f"grad={np.asarray(_raw(self.grad))[()]}")
        else:
            parts = [f"shape={self.shape}", f"dtype={self.dtype}", f"data={_preview(self._data)}"]
            if self.grad is not None:
                parts.append(f"grad={_preview(_raw(self.grad))}")
        if self._ctx is not None:
            # After backward(retain_graph=False) the node is a stub that keeps the op's name.
            released = isinstance(self._ctx, autograd._Released)
            op = self._ctx.op if released else type(self._ctx).__name__
            parts.append(f"grad_fn=<{op}>")
        if not self.requires_grad:
            parts.append("requires_grad=False")
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        return f"Value({', '.join(parts)})"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return len(self._data)

    def __iter__(self) -> Iterator[Value]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d Value")
        return (self[i] for i in range(len(self._data)))

    def __bool__(self) -> bool:
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    # Comparisons compare the data and give boolean arrays: they have no gradient.
    __hash__ = object.__hash__

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return self._data == _raw(other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return self._data != _raw(other)

    def __lt__(self, other: Any) -> Any:
        return self._data < _raw(other)

    def __le__(self, other: Any) -> Any:
        return self._data <= _raw(other)

    def __gt__(self, other: Any) -> Any:
        return self._data > _raw(other)

    def __ge__(self, other: Any) -> Any:
        return self._data >= _raw(other)

    # ------------------------------------------------------------------------------------
    # Arithmetic operators
    # ------------------------------------------------------------------------------------

    def __add__(self, other: Any) -> Value:
        return Add.apply(self, other)

    def __radd__(self, other: Any) -> Value:
        return Add.apply(other, self)

    def __sub__(self, other: Any) -> Value:
        return Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Value:
        return Sub.apply(other, self)

    def __mul__(self, other: Any) -> Value:
        return Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Value:
        return Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Value:
        return Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Value:
        return Div.apply(other, self)

    def __pow__(self, other: Any) -> Value:
        return Pow.apply(self, other)

    def __rpow__(self, other: Any) -> Value:
        return Pow.apply(other, self)

    def __matmul__(self, other: Any) -> Value:
        return MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Value:
        return MatMul.apply(other, self)

    def __neg__(self) -> Value:
        return Neg.apply(self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return Abs.apply(self)

    def __getitem__(self, index: Any) -> Value:
        return GetItem.apply(self, index=_index_arg(index))

    # ------------------------------------------------------------------------------------
    # Elementwise functions
    # ------------------------------------------------------------------------------------

    def abs(self) -> Value:
        return Abs.apply(self)

    def exp(self) -> Value:
        return Exp.apply(self)

    def log(self) -> Value:
        return Log.apply(self)

    def sqrt(self) -> Value:
        return Sqrt.apply(self)

    def sin(self) -> Value:
        return Sin.apply(self)

    def cos(self) -> Value:
        return Cos.apply(self)

    def tanh(self) -> Value:
        return Tanh.apply(self)

    def sigmoid(self) -> Value:
        return Sigmoid.apply(self)

    def relu(self) -> Value:
        return ReLU.apply(self)

    def neg(self) -> Value:
        return Neg.apply(self)

    def square(self) -> Value:
        return Pow.apply(self, 2)

    def sign(self) -> Value:
        """-1, 0 or 1 by the sign of each element; the gradient is 0, as in PyTorch.

        NOTE: sign is piecewise constant, so it is the Where op with a condition that is
        never true: the values come from ``np.sign`` and ``self`` receives zeros.
        """
        never = np.zeros(self._data.shape, dtype=bool)
        return Where.apply(never, self, np.sign(self._data))

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Value:
        """e**x_i / Σ_j e**x_j along ``axis``, as ``tinygrad_edu.functional.softmax``."""
        axis, _ = torch_axis_args("softmax", axis, -1, dim)
        return Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Value:
        """x_i - log Σ_j e**x_j along ``axis``, as ``functional.log_softmax``."""
        axis, _ = torch_axis_args("log_softmax", axis, -1, dim)
        return LogSoftmax.apply(self, axis=axis)

    def matmul(self, other: Any) -> Value:
        """``self @ other``."""
        return MatMul.apply(self, other)

    def maximum(self, other: Any) -> Value:
        return Maximum.apply(self, other)

    def minimum(self, other: Any) -> Value:
        return Minimum.apply(self, other)

    def clip(self, min: Any = None, max: Any = None) -> Value:
        """Limit to [min, max]; the gradient passes where min <= x <= max."""
        if min is None and max is None:
            raise ValueError("clip: give min, max or both")
        return Clip.apply(self, lo=_raw(min), hi=_raw(max))

    clamp = clip  # PyTorch's name

    def astype(self, dtype: Any, copy: bool = True) -> Value:
        """The same values in another float dtype; the gradient is cast back.

        With ``copy=False`` and the same dtype, the Value itself is returned.
        """
        dtype = float_dtype("astype", dtype)
        if not copy and dtype == self.dtype:
            return self
        return Cast.apply(self, dtype=dtype)

    def float(self) -> Value:
        """As float32 (the Value itself when it already is), as PyTorch's ``.float()``."""
        return self.astype(np.float32, copy=False)

    def double(self) -> Value:
        """As float64 (the Value itself when it already is), as PyTorch's ``.double()``."""
        return self.astype(np.float64, copy=False)

    # ------------------------------------------------------------------------------------
    # Reductions: NumPy's axis= (None, int or tuple) and keepdims=, or PyTorch's dim= and
    # keepdim=
    # ------------------------------------------------------------------------------------

    def sum(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> Value:
        axis, keepdims = torch_axis_args("sum", axis, None, dim, keepdims, keepdim)
        return Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
             keepdim: bool | None = None) -> Value:
        axis, keepdims = torch_axis_args("mean", axis, None, dim, keepdims, keepdim)
        return Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> Value:
        """Largest element(s); tied maxima share the gradient equally (PyTorch's ``amax``;
        PyTorch's ``max(dim)`` also returns indices: use ``argmax`` for those)."""
        axis, keepdims = torch_axis_args("max", axis, None, dim, keepdims, keepdim)
        return Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> Value:
        """Smallest element(s); tied minima share the gradient equally (PyTorch's
        ``amin``)."""
        axis, keepdims = torch_axis_args("min", axis, None, dim, keepdims, keepdim)
        return Min.apply(self, axis=axis, keepdims=keepdims)

    amax = max
    amin = min

    def argmax(self, axis: int | None = None, keepdims: bool = False, *,
               dim: int | None = None, keepdim: bool | None = None) -> np.ndarray:
        """Index of the largest element (of the flattened data when ``axis`` is None), as
        an integer ndarray: indices have no gradient."""
        return self._arg_extremum(np.argmax, "argmax", axis, keepdims, dim, keepdim)

    def argmin(self, axis: int | None = None, keepdims: bool = False, *,
               dim: int | None = None, keepdim: bool | None = None) -> np.ndarray:
        """Index of the smallest element, as an integer ndarray (see ``argmax``)."""
        return self._arg_extremum(np.argmin, "argmin", axis, keepdims, dim, keepdim)

    def _arg_extremum(self, find: Callable, op: str, axis: Any, keepdims: bool, dim: Any,
                      keepdim: bool | None) -> np.ndarray:
        axis, keepdims = torch_axis_args(op, axis, None, dim, keepdims, keepdim)
        if axis is not None:
            if isinstance(axis, tuple):
                raise TypeError(f"{op}: axis must be None or an int; got {axis!r}")
            (axis,) = normalize_axes(axis, self.ndim, op)
        return np.asarray(find(self._data, axis=axis, keepdims=bool(keepdims)))

    def var(self, axis: Any = None, ddof: int = 0, keepdims: bool = False, *,
            dim: Any = None, keepdim: bool | None = None) -> Value:
        """Variance; ``ddof=0`` (NumPy's default) divides by n, ``ddof=1`` by n - 1."""
        axis, keepdims = torch_axis_args("var", axis, None, dim, keepdims, keepdim)
        return Var.apply(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis: Any = None, ddof: int = 0, keepdims: bool = False, *,
            dim: Any = None, keepdim: bool | None = None) -> Value:
        """Standard deviation, ``sqrt(var)``, without overflow for any finite data."""
        axis, keepdims = torch_axis_args("std", axis, None, dim, keepdims, keepdim)
        return Std.apply(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def logsumexp(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
                  keepdim: bool | None = None) -> Value:
        """``log(sum(exp(x)))``, computed without overflow."""
        axis, keepdims = torch_axis_args("logsumexp", axis, None, dim, keepdims, keepdim)
        return LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    # ------------------------------------------------------------------------------------
    # Shape
    # ------------------------------------------------------------------------------------

    def reshape(self, *sizes: Any, shape: Any = None) -> Value:
        """The same data in another shape: ``reshape(2, 3)``, ``reshape((2, 3))`` or
        ``reshape(shape=(2, 3))``; one size may be -1 (inferred)."""
        return Reshape.apply(self, shape=_one_shape("reshape", sizes, "shape", shape))

    def view(self, *sizes: Any) -> Value:
        """PyTorch's name for ``reshape``."""
        return Reshape.apply(self, shape=_one_shape("view", sizes, "shape", None))

    def transpose(self, *order: Any, axes: Any = None) -> Value:
        """Permute the axes as NumPy does (``transpose(1, 0, 2)`` or ``axes=(1, 0, 2)``);
        with no axes, reverse them. PyTorch's ``transpose(dim0, dim1)`` is ``swapaxes``."""
        if not order and axes is None:
            return Transpose.apply(self, axes=tuple(range(self.ndim - 1, -1, -1)))
        return Transpose.apply(self, axes=_one_shape("transpose", order, "axes", axes))

    def permute(self, *order: Any, dims: Any = None) -> Value:
        """PyTorch's name for ``transpose`` with explicit axes (keyword ``dims=``)."""
        return Transpose.apply(self, axes=_one_shape("permute", order, "dims", dims))

    @property
    def T(self) -> Value:
        return self.transpose()

    def swapaxes(self, axis1: int, axis2: int) -> Value:
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return Transpose.apply(self, axes=tuple(axes))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Value:
        """Merge axes start_dim..end_dim into one (all of them by default, as NumPy)."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        shape = self.shape[:start] + (-1,) + self.shape[end + 1:]
        return Reshape.apply(self, shape=shape)

    def squeeze(self, axis: Any = None, *, dim: Any = None) -> Value:
        """Remove size-1 axes (all of them, or the given ones, which must have size 1)."""
        axis, _ = torch_axis_args("squeeze", axis, None, dim)
        if axis is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        else:
            axes = normalize_axes(axis, self.ndim, "squeeze")
            wide = [a for a in axes if self.shape[a] != 1]
            if wide:
                raise ValueError(f"squeeze: axis {wide[0]} of shape {self.shape} has size "
                                 f"{self.shape[wide[0]]}, not 1")
        kept = tuple(n for i, n in enumerate(self.shape) if i not in axes)
        return Reshape.apply(self, shape=kept)

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Value:
        """Insert a size-1 axis at ``axis`` (NumPy's ``expand_dims``)."""
        axis, _ = torch_axis_args("unsqueeze", axis, None, dim)
        if axis is None:
            raise TypeError("unsqueeze: give the position of the new axis (axis= or dim=)")
        (axis,) = normalize_axes(axis, self.ndim + 1, "unsqueeze")
        return Reshape.apply(self, shape=self.shape[:axis] + (1,) + self.shape[axis:])

    def broadcast_to(self, shape: Any) -> Value:
        return BroadcastTo.apply(self, shape=_shape_arg((shape,)))

    def expand(self, *sizes: Any) -> Value:
        """PyTorch's ``expand``: ``broadcast_to`` where a size of -1 keeps that axis."""
        sizes = _shape_arg(sizes)
        new = len(sizes) - self.ndim
        if new < 0:
            raise ValueError(f"expand: {len(sizes)} size(s) {sizes} for a Value with "
                             f"{self.ndim} dimensions; give at least one size per axis")
        if -1 in sizes[:new]:
            raise ValueError(f"expand: -1 in sizes {sizes} is only allowed for the existing "
                             f"axes (the last {self.ndim}), not for new leading ones")
        shape = sizes[:new] + tuple(
            n if s == -1 else s for n, s in zip(self.shape, sizes[new:]))
        return BroadcastTo.apply(self, shape=shape)

    # ------------------------------------------------------------------------------------
    # Autodiff
    # ------------------------------------------------------------------------------------

    def backward(self, grad: Any = None, create_graph: bool = False, *,
                 intermediate_grads: bool = True, retain_graph: bool = True) -> None:
        """Compute the gradient of this Value with respect to every node it depends on.

        ``grad`` is the upstream gradient (dL/dself); it may be left out only for a
        one-element Value. Gradients are added to ``.grad`` (accumulated across calls,
        as in PyTorch) on leaves and, by default, on intermediate nodes too, so every
        node of the graph shows its gradient as in micrograd. A training loop that only
        needs the leaves' gradients passes ``intermediate_grads=False`` (as ``fit``
        does): that saves the memory of one gradient per intermediate array. With
        ``create_graph=True`` the gradients are Values recorded in the graph, so they can
        be differentiated again.

        The graph is kept by default (unlike PyTorch, whose ``retain_graph`` defaults to
        False), so that backward can run through it again and the graph views can show
        it. ``retain_graph=False`` lets go of each op node as soon as backward has passed
        it, which lowers the peak memory of a training step (``fit`` does this); a later
        backward through those nodes is an error.
        """
        seed = autograd.seed_gradient(self, grad, create_graph, "backward")
        autograd.run_backward([self], [seed], create_graph, leaves_only=not intermediate_grads,
                              release=not retain_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad`` becomes ``None``). On a leaf, its array
        is let go when the next ``backward`` stores the new gradient (see
        ``autograd._keep_until_next``), not at once."""
        self.grad = None

    def register_hook(self, fn: Callable[[Any], Any]) -> RemovableHandle:
        """Call ``fn(grad)`` when this Value's gradient is complete during backward.

        If ``fn`` returns something other than ``None``, that replaces the gradient (for
        this node's ``.grad`` and for everything upstream of it). Returns a handle whose
        ``remove()`` takes the hook off.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: this Value does not require grad, so no "
                               "gradient will ever reach it")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def detach(self) -> Value:
        """A new leaf sharing this data, cut from the graph (``requires_grad=False``)."""
        return Value._make(self._data, None)

    def requires_grad_(self, requires_grad: bool = True) -> Value:
        """Set ``requires_grad`` in place on a leaf; returns the Value."""
        if self._ctx is not None:
            raise RuntimeError("requires_grad_: only leaves can change requires_grad; use "
                               "detach() to cut an intermediate Value from the graph")
        self.requires_grad = bool(requires_grad)
        return self

    # ------------------------------------------------------------------------------------
    # NumPy protocols
    # ------------------------------------------------------------------------------------

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy:
            return np.array(self._data, dtype=dtype)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        op = _UFUNCS.get(ufunc) if method == "__call__" and not kwargs else None
        if op is not None:
            return op(*inputs)
        if any(isinstance(o, ValueBase) for o in kwargs.get("out", ())):
            return NotImplemented
        result = getattr(ufunc, method)(*(_raw(i) for i in inputs), **kwargs)
        if ufunc not in _ZERO_GRADIENT_UFUNCS:
            _refuse_silent_detach(f"numpy.{ufunc.__name__}", inputs, result)
        return result

    def __array_function__(self, func: Callable, types: Any, args: Any, kwargs: Any) -> Any:
        impl = _FUNCTIONS.get(func)
        if impl is not None:
            return impl(*args, **kwargs)
        result = func(*_unwrap(args), **_unwrap(kwargs))
        _refuse_silent_detach(f"numpy.{func.__name__}", (args, kwargs), result)
        return result


Tensor = Value


def _unwrap(obj: Any) -> Any:
    if isinstance(obj, ValueBase):
        return obj._data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def _needs_graph(obj: Any) -> bool:
    if isinstance(obj, ValueBase):
        return obj.requires_grad
    if isinstance(obj, (list, tuple)):
        return any(_needs_graph(o) for o in obj)
    if isinstance(obj, dict):
        return any(_needs_graph(o) for o in obj.values())
    return False


def _refuse_silent_detach(name: str, inputs: Any, result: Any) -> None:
    """A NumPy function we cannot differentiate must not quietly drop the gradient."""
    floating = isinstance(result, (np.ndarray, np.floating)) and result.dtype.kind == "f"
    if floating and autograd.is_grad_enabled() and _needs_graph(inputs):
        raise TypeError(
            f"{name} on a Value that requires grad has no gradient in tinygrad_edu; use a "
            f"Value method or write a Function, or pass v.data (or v.detach()) to compute "
            f"it without a gradient"
        )


# ----------------------------------------------------------------------------------------
# Functions over several Values
# ----------------------------------------------------------------------------------------


def where(cond: Any, a: Any, b: Any) -> Value:
    """``a`` where ``cond`` is true, else ``b``; the condition gets no gradient."""
    return Where.apply(np.asarray(_raw(cond)).astype(bool, copy=False), a, b)


def maximum(a: Any, b: Any) -> Value:
    """Elementwise maximum; where a == b each gets half the gradient."""
    return Maximum.apply(a, b)


def minimum(a: Any, b: Any) -> Value:
    """Elementwise minimum; where a == b each gets half the gradient."""
    return Minimum.apply(a, b)


def matmul(a: Any, b: Any) -> Value:
    """``a @ b`` with NumPy's rules for 1-D, 2-D and batched operands."""
    return MatMul.apply(a, b)


def concatenate(values: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Value:
    """Join Values along an existing axis (PyTorch's ``cat``; ``dim=`` is accepted)."""
    axis, _ = torch_axis_args("concatenate", axis, 0, dim)
    return Concatenate.apply(*values, axis=axis)


def stack(values: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Value:
    """Join same-shaped Values along a new axis (so 0-d Values make a vector)."""
    axis, _ = torch_axis_args("stack", axis, 0, dim)
    return Stack.apply(*values, axis=axis)


def pad(x: Any, pad_width: Any, constant_values: float = 0.0) -> Value:
    """Pad with a constant, ``pad_width`` as in ``np.pad``: one (before, after) per axis."""
    return Pad.apply(x, pad_width=pad_width, constant_values=constant_values)


def _np_sum(a, axis=None, keepdims=False):
    return Sum.apply(a, axis=axis, keepdims=keepdims)


def _np_mean(a, axis=None, keepdims=False):
    return Mean.apply(a, axis=axis, keepdims=keepdims)


def _np_max(a, axis=None, keepdims=False):
    return Max.apply(a, axis=axis, keepdims=keepdims)


def _np_min(a, axis=None, keepdims=False):
    return Min.apply(a, axis=axis, keepdims=keepdims)


def _np_var(a, axis=None, ddof=0, keepdims=False):
    return Var.apply(a, axis=axis, ddof=ddof, keepdims=keepdims)


def _np_std(a, axis=None, ddof=0, keepdims=False):
    return Std.apply(a, axis=axis, ddof=ddof, keepdims=keepdims)


def _np_reshape(a, shape):
    return Reshape.apply(a, shape=_shape_arg((shape,)))


def _np_transpose(a, axes=None):
    return Value.transpose(a) if axes is None else Transpose.apply(a, axes=tuple(axes))


def _np_broadcast_to(a, shape):
    return BroadcastTo.apply(a, shape=_shape_arg((shape,)))


def _np_expand_dims(a, axis):
    return Value.unsqueeze(a, axis)


def _np_clip(a, a_min=None, a_max=None):
    return Clip.apply(a, lo=_raw(a_min), hi=_raw(a_max))


def _np_where(cond, *ab):
    if len(ab) != 2:
        raise TypeError("numpy.where on Values needs a condition and two branches")
    return where(cond, *ab)


# NumPy functions that stay differentiable on a Value.
_UFUNCS: dict[Any, Callable[..., Any]] = {
    np.add: Add.apply,
    np.subtract: Sub.apply,
    np.multiply: Mul.apply,
    np.divide: Div.apply,
    np.power: Pow.apply,
    np.negative: Neg.apply,
    np.positive: lambda x: x,
    np.absolute: Abs.apply,
    np.exp: Exp.apply,
    np.log: Log.apply,
    np.sqrt: Sqrt.apply,
    np.sin: Sin.apply,
    np.cos: Cos.apply,
    np.tanh: Tanh.apply,
    np.maximum: Maximum.apply,
    np.minimum: Minimum.apply,
    np.matmul: MatMul.apply,
}
# Piecewise-constant ufuncs: their gradient is zero almost everywhere, so computing them
# on the data (no graph) is exact.
_ZERO_GRADIENT_UFUNCS = {np.sign, np.floor, np.ceil, np.rint, np.trunc}
_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _np_sum,
    np.mean: _np_mean,
    np.max: _np_max,
    np.amax: _np_max,
    np.min: _np_min,
    np.amin: _np_min,
    np.var: _np_var,
    np.std: _np_std,
    np.reshape: _np_reshape,
    np.transpose: _np_transpose,
    np.swapaxes: Value.swapaxes,
    np.broadcast_to: _np_broadcast_to,
    np.expand_dims: _np_expand_dims,
    np.squeeze: Value.squeeze,
    np.where: _np_where,
    np.concatenate: concatenate,
    np.stack: stack,
    np.pad: pad,
    np.clip: _np_clip,
}

"""Axis arguments checked once, with messages that name the op."""

from __future__ import annotations

from typing import Any

from .._checks import is_int


def normalize_axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple of ints, negatives allowed) as sorted axes >= 0."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in axes:
        if not is_int(a):
            raise TypeError(f"{op}: axis must be None, an int or a tuple of ints; got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{op}: axis {a} is out of range for a Value with {ndim} dimension(s)"
            )
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return tuple(sorted(out))


def keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of a reduction over ``axes`` with ``keepdims=True``."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def torch_axis_args(op: str, axis: Any, axis_default: Any, dim: Any,
                keepdims: bool = False, keepdim: bool | None = None) -> tuple[Any, bool]:
    """NumPy's ``axis``/``keepdims`` or PyTorch's ``dim``/``keepdim`` (a list of dims is
    taken as a tuple); passing both names of one argument is an error."""
    if dim is not None:
        if axis != axis_default:
            raise TypeError(f"{op}: got both axis={axis!r} and dim={dim!r}; pass one of "
                            f"them (dim is PyTorch's name for axis)")
        axis = tuple(dim) if isinstance(dim, list) else dim
    if keepdim is not None:
        if keepdims:
            raise TypeError(f"{op}: got both keepdims={keepdims!r} and keepdim={keepdim!r}; "
                            f"pass one of them (keepdim is PyTorch's name for keepdims)")
        keepdims = keepdim
    return axis, keepdims

"""The argument checks every part of the package shares: a real number, an int with a
lower bound, an (H, W) pair of ints, a floating dtype, an argument's shape.

It imports nothing from the package, so any layer (``value``, ``ops``, ``functional``,
``nn``, ``optim``, ``data``) can use it without an import cycle. Each error names the
operation, the argument, the value given and what was expected. A bool is never a number
here: ``True`` as a slope or a layer width is a slip, even though Python counts it as 1.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array or a Value, read from its own attribute; of a (nested) list or
    a number, from ``np.shape``. (``np.shape`` of a Value goes through NumPy's function
    protocol, many times slower, and shape checks run at every call.)"""
    shape = getattr(x, "shape", None)
    return shape if isinstance(shape, tuple) else np.shape(x)


def is_real(value: Any) -> bool:
    """True for an int or float (Python or NumPy), but not for a bool."""
    if type(value) in _PLAIN_NUMBERS:  # the usual case, without the abstract-class check
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


_PLAIN_NUMBERS = (float, int)  # exact types: a bool is not one of them


def is_int(value: Any) -> bool:
    """True for an int (Python or NumPy), but not for a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def real_number(op: str, arg: str, value: Any) -> Any:
    """``value`` if it is a real number that is not NaN; else an error naming ``op``,
    the argument and the value."""
    if not is_real(value):
        raise TypeError(f"{op}: {arg} must be a real number; got {value!r} "
                        f"(a {type(value).__name__})")
    if math.isnan(value):
        raise ValueError(f"{op}: {arg} must be a real number; got nan")
    return value


def dropout_p(op: str, p: Any) -> None:
    """Refuse a dropout probability outside [0, 1): at p = 1 nothing would be kept and the
    kept units' scale 1 / (1 - p) would divide by zero."""
    if not 0.0 <= real_number(op, "p", p) < 1.0:
        raise ValueError(f"{op}: p is the probability of dropping a unit and must be in "
                         f"[0, 1); got {p}")


def integer(op: str, arg: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (a width, a count, a patience); a TypeError for
    anything that is not an int, a ValueError for one below ``minimum``."""
    if not is_int(value):
        raise TypeError(f"{op}: {arg} must be an int >= {minimum}; got {value!r} "
                        f"(a {type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{op}: {arg} must be an int >= {minimum}; got {value}")
    return int(value)


def pair(op: str, arg: str, value: Any, minimum: int, none_ok: bool = False) -> tuple:
    """``value`` as an (H, W) pair of ints >= ``minimum`` (a kernel size, a stride, a
    padding): an int stands for both. With ``none_ok``, None may stand for either (it is
    kept)."""
    both = (value, value) if not isinstance(value, (tuple, list)) else tuple(value)
    ints = [v for v in both if not (none_ok and v is None)]
    if len(both) != 2 or not all(is_int(v) for v in ints):
        kind = "an int, None or a pair of those" if none_ok else "an int or a pair of ints"
        raise TypeError(f"{op}: {arg} must be {kind} (H, W); got {value!r}")
    if any(v < minimum for v in ints):
        raise ValueError(f"{op}: {arg} must be >= {minimum}; got {value!r}")
    return tuple(None if v is None else int(v) for v in both)


def float_dtype(op: str, dtype: Any) -> np.dtype:
    """``dtype`` as a NumPy floating dtype (float16, float32, float64...), or a TypeError
    naming ``op``: a Value holds floats, since gradients are fractions."""
    need = "dtype must be a floating type such as float32 or float64"
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {need}; got {dtype!r}") from None
    if resolved.kind != "f":
        raise TypeError(f"{op}: {need}; got {resolved}")
    return resolved

"""The one check of a numeric option (a slope, a threshold, a margin), shared by the
functions of ``tinygrad_edu.functional``."""

from __future__ import annotations

import math
import numbers
from typing import Any


def real_number(op: str, arg: str, value: Any) -> Any:
    """``value`` if it is a real number that is not NaN; else an error naming ``op``,
    the argument and the value. A bool is refused: ``True`` as a slope is a mistake."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {arg} must be a real number; got {value!r} "
                        f"(a {type(value).__name__})")
    if math.isnan(value):
        raise ValueError(f"{op}: {arg} must be a real number; got nan")
    return value

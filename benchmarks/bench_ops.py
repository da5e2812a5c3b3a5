"""The overhead of recording one op: ``a + b`` on Values against NumPy, micrograd, PyTorch.

``a`` and ``b`` are float64 Values with ``requires_grad=True``, so every ``a + b`` builds
a graph node. It is timed for 0-d, 10-element and 1,000,000-element operands against the
same NumPy add on the Values' arrays, and at 0-d against micrograd's ``Value.__add__``
and PyTorch's recorded add of two 0-d float64 tensors with ``requires_grad=True``.

How to read it: each row is the time of one add and ``ours / baseline``, the time of
tinygrad_edu's recorded add divided by the baseline's, both measured in this process
(best of several repeats, garbage collector on). Below 1.00x tinygrad_edu is faster.
Against NumPy the ratio is the price of recording; it should approach 1.00x as the
arrays grow and the arithmetic dominates.

Run: ``python benchmarks/bench_ops.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _timing import Target, fmt_ratio, fmt_time, optional_import, per_call, print_header, \
    print_table, print_targets

from tinygrad_edu import Value

REPEAT = 7
# (label, number of elements or None for 0-d, adds per timed run)
SIZES: tuple[tuple[str, int | None, int], ...] = (
    ("0-d", None, 20_000),
    ("10", 10, 20_000),
    ("1,000,000", 1_000_000, 20),
)


def time_add(a: Any, b: Any, number: int) -> float:
    """Seconds per ``a + b``, garbage collector on."""
    return per_call("a + b", {"a": a, "b": b}, number=number, repeat=REPEAT)


def operands(size: int | None, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two float64 arrays of ``size`` elements (0-d when ``size`` is None)."""
    shape = () if size is None else (size,)
    return rng.standard_normal(shape), rng.standard_normal(shape)


def main() -> None:
    print_header("bench_ops: one recorded a + b", f"best of {REPEAT} repeats, gc on")
    micrograd = optional_import("micrograd.engine", "the micrograd comparison")
    torch = optional_import("torch", "the PyTorch comparison")
    rng = np.random.default_rng(0)

    rows = []
    ours_0d = None
    for label, size, number in SIZES:
        x, y = operands(size, rng)
        ours = time_add(Value(x), Value(y), number)
        numpy_add = time_add(x, y, number)
        if size is None:
            ours_0d = ours
        rows.append([label, "numpy a + b on the arrays", fmt_time(numpy_add), fmt_time(ours),
                     fmt_ratio(ours, numpy_add)])

    assert ours_0d is not None
    micrograd_add = None
    if micrograd is not None:
        micrograd_add = time_add(micrograd.Value(2.0), micrograd.Value(3.0), SIZES[0][2])
        rows.append(["0-d", "micrograd Value.__add__", fmt_time(micrograd_add),
                     fmt_time(ours_0d), fmt_ratio(ours_0d, micrograd_add)])
    torch_add = None
    if torch is not None:
        a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        b = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
        torch_add = time_add(a, b, SIZES[0][2])
        rows.append(["0-d", "torch recorded add (float64)", fmt_time(torch_add),
                     fmt_time(ours_0d), fmt_ratio(ours_0d, torch_add)])

    print_table("time per add (ours = tinygrad_edu Values, requires_grad=True)",
                ["operands", "baseline", "baseline", "ours", "ours / baseline"], rows)

    met = None if micrograd_add is None else ours_0d <= micrograd_add
    numbers = ("micrograd not importable" if micrograd_add is None else
               f"ours {fmt_time(ours_0d)} vs micrograd {fmt_time(micrograd_add)} per add "
               f"(ours / micrograd = {fmt_ratio(ours_0d, micrograd_add)}, target <= 1.00x)")
    print_targets([Target("0-d recorded add no slower than micrograd's Value.__add__",
                          met, numbers)])


if __name__ == "__main__":
    main()

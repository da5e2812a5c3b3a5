"""The overhead of recording one op: ``a + b`` on Values against NumPy, micrograd, PyTorch.

``a`` and ``b`` are float64 Values with ``requires_grad=True``, so every ``a + b`` builds
a graph node. It is timed for 0-d, 10-element and 1,000,000-element operands against the
same NumPy add on the Values' arrays, and at 0-d against micrograd's ``Value.__add__``
and PyTorch's recorded add of two 0-d float64 tensors with ``requires_grad=True``.

How to read it: each row is the time of one add and ``ours / baseline``, the time of
tinygrad_edu's recorded add divided by the baseline's, both measured in this process
(best of several repeats, garbage collector on). Below 1.00x tinygrad_edu is faster.
Against NumPy the ratio is the price of recording; it should approach 1.00x as the
arrays grow and the arithmetic dominates. The figures are reported, not held to a target:
a 0-d Value holds a 0-d ndarray (one representation for every shape), so its add costs
more than micrograd's float add.

Run: ``python benchmarks/bench_ops.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _timing import (
    begin,
    fmt_ratio,
    fmt_time,
    optional_import,
    per_call_each,
    print_table,
)

from tinygrad_edu import Value

REPEAT = 7
# (label, number of elements or None for 0-d, adds per timed run)
SIZES: tuple[tuple[str, int | None, int], ...] = (
    ("0-d", None, 20_000),
    ("10 elements", 10, 20_000),
    ("1,000,000 elements", 1_000_000, 50),
)
BASELINES = {
    "numpy": "numpy a + b on the arrays",
    "micrograd": "micrograd Value.__add__",
    "torch": "torch recorded add (float64)",
}


def time_adds(pairs: dict[str, tuple[Any, Any]], number: int) -> dict[str, float]:
    """Seconds per ``a + b`` for each named pair of operands, interleaved, gc on."""
    namespace: dict[str, Any] = {}
    for i, (a, b) in enumerate(pairs.values()):
        namespace[f"a{i}"], namespace[f"b{i}"] = a, b
    stmts = [f"a{i} + b{i}" for i in range(len(pairs))]
    times = per_call_each(stmts, namespace, number=number, repeat=REPEAT)
    return dict(zip(pairs, times, strict=True))


def operands(size: int | None, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two float64 arrays of ``size`` elements (0-d when ``size`` is None)."""
    shape = () if size is None else (size,)
    return rng.standard_normal(shape), rng.standard_normal(shape)


def main() -> None:
    begin("bench_ops: one recorded a + b", f"best of {REPEAT} repeats, gc on")
    micrograd = optional_import("micrograd.engine", "the micrograd comparison")
    torch = optional_import("torch", "the PyTorch comparison")
    rng = np.random.default_rng(0)

    rows = []
    for label, size, number in SIZES:
        x, y = operands(size, rng)
        pairs = {"ours": (Value(x), Value(y)), "numpy": (x, y)}
        if size is None and micrograd is not None:
            pairs["micrograd"] = (micrograd.Value(float(x)), micrograd.Value(float(y)))
        if size is None and torch is not None:
            pairs["torch"] = tuple(torch.tensor(v, dtype=torch.float64, requires_grad=True)
                                   for v in (x, y))
        times = time_adds(pairs, number)
        for name, description in BASELINES.items():
            if name in times:
                rows.append([label, description, fmt_time(times[name]),
                             fmt_time(times["ours"]), fmt_ratio(times["ours"], times[name])])

    print_table("time per add (ours: tinygrad_edu Values with requires_grad=True)",
                ["operands", "baseline", "baseline time", "ours", "ours / baseline"], rows,
                left_columns=2)



if __name__ == "__main__":
    main()

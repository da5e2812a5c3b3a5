"""Shared helpers for the benchmark scripts: timing, optional baselines, printed reports.

Every benchmark compares tinygrad_edu against a baseline measured in the same process, so
the numbers that matter are the ratios: this machine may be slow or noisy, but both sides
suffer the same. Each time is the best (minimum) of several repeats, the run least
disturbed by other work on the machine.

Everything runs in the default environment, as users run it: no environment variables,
no ``mallopt``, no heap tuning in the benchmark process. Where the C library's
allocator costs time (it can hand freed memory back to the system after each step and
page-fault it back in the next), that cost is part of what is measured, and the minor
page faults per call are reported beside the times, a figure that, unlike the times, does
not depend on how busy the machine is.

The scripts run as ``python benchmarks/bench_x.py``; Python puts ``benchmarks/`` on
``sys.path``, which is how they import this module.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

import tinygrad_edu

try:
    import resource
except ImportError:  # not on Windows: page faults are then not reported
    resource = None  # type: ignore[assignment]

T = TypeVar("T")

# ----------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def gc_mode(enabled: bool) -> Iterator[None]:
    """Python's cyclic garbage collector on (as users run) or off inside the block.

    Garbage left by earlier measurements is collected first, so that it is not charged
    to this one; the previous state comes back on exit.
    """
    was_enabled = gc.isenabled()
    gc.collect()
    if enabled:
        gc.enable()
    else:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


@dataclass
class Measured:
    """One statement's timing: seconds per call (best and median run) and minor page
    faults per call (median run; None where the platform does not count them)."""

    best: float
    median: float
    faults: float | None


def minor_faults() -> int | None:
    """The process's minor page faults so far (a page the kernel had to map in: first
    touch of memory fresh from the system); None where the platform does not count
    them."""
    if resource is None:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def measure_each(
    stmts: Sequence[str | Callable[[], object]],
    namespace: dict[str, Any] | None = None,
    *,
    number: int,
    repeat: int,
    gc_enabled: bool = True,
) -> list[Measured]:
    """Each statement timed over ``repeat`` runs of ``number`` executions.

    The runs are interleaved, one of each statement per round, so that a slow spell of
    the machine hits every statement alike and their ratios stay meaningful. Garbage is
    collected before each run, so no statement pays for another's. A string statement is
    compiled into timeit's loop (no function-call overhead is measured); ``namespace``
    holds its variables. timeit turns the garbage collector off by default; here it is on
    unless ``gc_enabled=False``.
    """
    setup = gc.enable if gc_enabled else gc.disable
    timers = [timeit.Timer(stmt, setup=setup, globals=namespace) for stmt in stmts]
    seconds: list[list[float]] = [[] for _ in timers]
    faults: list[list[int]] = [[] for _ in timers]
    with gc_mode(gc_enabled):
        for _ in range(repeat):
            for i, timer in enumerate(timers):
                gc.collect()
                before = minor_faults()
                seconds[i].append(timer.timeit(number))
                after = minor_faults()
                if before is not None and after is not None:
                    faults[i].append(after - before)
    return [Measured(min(s) / number, statistics.median(s) / number,
                     statistics.median(f) / number if f else None)
            for s, f in zip(seconds, faults, strict=True)]


def per_call_each(stmts: Sequence[str | Callable[[], object]], *args: Any,
                  **kwargs: Any) -> list[float]:
    """Seconds per execution of each statement: the best of ``repeat`` interleaved runs
    of ``number``; the arguments are ``measure_each``'s."""
    return [m.best for m in measure_each(stmts, *args, **kwargs)]


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Call ``fn()`` once; return its result and the wall-clock seconds it took."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


# ----------------------------------------------------------------------------------------
# Baselines that may be missing
# ----------------------------------------------------------------------------------------


def optional_import(module: str, comparison: str) -> ModuleType | None:
    """Import a baseline; if it is not importable, say which comparison is skipped."""
    try:
        return importlib.import_module(module)
    except (ImportError, OSError) as e:
        print(f"SKIPPED {comparison}: cannot import {module} ({type(e).__name__}: {e}); "
              f"`make bench` installs it")
        return None


# ----------------------------------------------------------------------------------------
# Printing
# ----------------------------------------------------------------------------------------


def begin(title: str, repeats: str) -> None:
    """Print the benchmark's title and what it runs on."""
    print(title)
    print("=" * len(title))
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"tinygrad_edu {tinygrad_edu.__version__}, {platform.machine()}, "
          f"{sys.platform}; {repeats}; default environment (no env vars, no heap tuning)")


def fmt_time(seconds: float) -> str:
    """A duration in s, ms, µs or ns, with three significant digits."""
    units = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6))
    unit, scale = next(((u, s) for u, s in units if seconds >= s), ("ns", 1e-9))
    value = seconds / scale
    return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"


def fmt_ratio(numerator: float | None, denominator: float | None) -> str:
    """``numerator / denominator`` as ``1.23x``; ``n/a`` when either was not measured."""
    if numerator is None or denominator is None:
        return "n/a"
    return f"{numerator / denominator:.2f}x"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]],
                left_columns: int = 1) -> None:
    """A plain-text table: the first ``left_columns`` (labels) left-aligned, the numbers
    right-aligned."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [cell.ljust(width) if i < left_columns else cell.rjust(width)
                 for i, (cell, width) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(cells).rstrip()

    print()
    print(title)
    print(line(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


@dataclass
class Target:
    """One goal from the project's issue: ``met`` is None when it could not be measured."""

    goal: str
    met: bool | None
    numbers: str


def print_targets(targets: Sequence[Target]) -> None:
    """The closing section: MET / NOT MET per target, with the numbers behind it.

    A missed target is a result, not an error: the script still exits 0.
    """
    print()
    print("targets")
    for target in targets:
        status = {True: "MET", False: "NOT MET", None: "SKIPPED"}[target.met]
        print(f"  [{status}] {target.goal}")
        print(f"      {target.numbers}")

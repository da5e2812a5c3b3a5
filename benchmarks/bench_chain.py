"""A deep scalar chain: forward and backward time for N and 2N nodes, against PyTorch.

The chain is ``y = y + x`` repeated N times, starting from ``y = Value(0.0)``, with ``x``
a 0-d float64 leaf: N recorded Add nodes, one after the other, and ``x`` used N times, so
``backward()`` must give ``x.grad == N`` (checked; a wrong gradient is an error). It is
timed for N = 500,000 and N = 1,000,000 (a recursive backward would fail long before),
and the same chain is built with PyTorch 0-d float64 tensors for N = 500,000.

How to read it:

- ``time(2N) / time(N)``: about 2.00x when the cost per node does not grow with the graph;
  more means something scales worse than linearly (the garbage collector walking an
  ever larger graph, a quadratic step in the engine).
- ``per node``: forward or backward time divided by N, and ``ours / torch``, our
  per-node cost divided by PyTorch's on the same chain length (below 1.00x we are faster).

Times are the best of a few repeats with the garbage collector on, as users run; the
graph is freed after each repeat, outside the timed regions.

Run: ``python benchmarks/bench_chain.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from _timing import (
    Target,
    begin,
    fmt_ratio,
    fmt_time,
    gc_mode,
    optional_import,
    print_table,
    print_targets,
    timed,
)

from tinygrad_edu import Value

N = 500_000
REPEAT = 3
SCALING_LIMIT = 2.3


def build_chain(start: Any, x: Any, n: int) -> Any:
    """``y = y + x``, ``n`` times from ``y = start``: ``n`` recorded Add nodes."""
    y = start
    for _ in range(n):
        y = y + x
    return y


def chain_time(leaf: Callable[[float], Any], n: int) -> tuple[float, float]:
    """(forward, backward) seconds for one ``n``-node chain, garbage collector on.

    ``leaf(v)`` makes a 0-d leaf that requires grad, in whichever library is measured.
    """
    x = leaf(1.0)
    with gc_mode(True):
        y, forward_time = timed(partial(build_chain, leaf(0.0), x, n))
        _, backward_time = timed(y.backward)
    if float(x.grad) != n:
        raise RuntimeError(f"chain of {n:,} nodes: x.grad is {float(x.grad)}, expected {n}")
    return forward_time, backward_time  # the graph is freed here, outside the timings


def best_chain_times(
    chains: dict[str, tuple[Callable[[float], Any], int]],
) -> dict[str, tuple[float, float]]:
    """Best (forward, backward) seconds per named (leaf, n) chain over REPEAT rounds.

    Each round builds every chain once, so a slow spell of the machine hits all alike.
    """
    best = dict.fromkeys(chains, (math.inf, math.inf))
    for _ in range(REPEAT):
        for name, (leaf, n) in chains.items():
            forward, backward = chain_time(leaf, n)
            best[name] = (min(best[name][0], forward), min(best[name][1], backward))
    return best


def per_node(seconds: float, n: int) -> str:
    """Seconds for ``n`` nodes as microseconds per node."""
    return f"{seconds / n * 1e6:.2f} µs"


def main() -> None:
    begin("bench_chain: y = y + x, N times, then backward",
                 f"best of {REPEAT} repeats, gc on")
    torch = optional_import("torch", "the PyTorch chain")

    chains: dict[str, tuple[Callable[[float], Any], int]] = {
        "ours N": (Value, N), "ours 2N": (Value, 2 * N)}
    if torch is not None:
        chains["torch N"] = (partial(torch.tensor, dtype=torch.float64, requires_grad=True), N)
    best = best_chain_times(chains)
    ours = {N: best["ours N"], 2 * N: best["ours 2N"]}
    theirs = best.get("torch N")

    def row(engine: str, n: int, times: tuple[float, float]) -> list[str]:
        forward, backward = times
        torch_backward = None if theirs is None else theirs[1] / N
        return [engine, f"{n:,}", fmt_time(forward), fmt_time(backward),
                per_node(forward, n), per_node(backward, n),
                fmt_ratio(backward / n, torch_backward)]

    rows = [row("tinygrad_edu", n, times) for n, times in ours.items()]
    if theirs is not None:
        rows.append(row("torch (baseline)", N, theirs))
    print_table("chain of N Add nodes (0-d float64)",
                ["engine", "N", "forward", "backward", "forward/node", "backward/node",
                 "backward/node ours / torch"], rows)

    scaling = [ours[2 * N][i] / ours[N][i] for i in (0, 1)]
    print_table(f"scaling: time for N = {2 * N:,} against N = {N:,} (linear = 2.00x)",
                ["phase", f"N = {N:,}", f"N = {2 * N:,}", "ratio"],
                [[phase, fmt_time(ours[N][i]), fmt_time(ours[2 * N][i]), f"{scaling[i]:.2f}x"]
                 for i, phase in enumerate(("forward", "backward"))])

    targets = [Target(
        f"time(2N) / time(N) at most {SCALING_LIMIT}x, forward and backward",
        max(scaling) <= SCALING_LIMIT,
        f"forward {scaling[0]:.2f}x, backward {scaling[1]:.2f}x",
    )]
    goal = "per-node backward cost below PyTorch's"
    if theirs is None:
        targets.append(Target(goal, None, "torch is not importable"))
    else:
        ours_node, torch_node = ours[N][1] / N, theirs[1] / N
        targets.append(Target(
            goal, ours_node < torch_node,
            f"ours {per_node(ours[N][1], N)} vs torch {per_node(theirs[1], N)} per node at "
            f"N = {N:,}: ours / torch = {fmt_ratio(ours_node, torch_node)} (target < 1.00x)",
        ))
    print_targets(targets)


if __name__ == "__main__":
    main()

"""micrograd's demo network, one full-batch SGD step: tinygrad_edu against micrograd and PyTorch.

The network is a 2-16-16-1 MLP with ReLU hidden layers, trained on 100 two-moons points
(generated here with a seeded NumPy generator) with the SVM max-margin loss
``mean(relu(1 - y_i * score_i)) + 1e-4 * sum(p * p)`` and the update
``p.data -= lr * p.grad``. It is built twice:

(a) As a scalar graph, micrograd style: every weight is a 0-d Value and every
    ``w_i * x_i`` its own node (about 70,000 nodes per step), with a small
    Neuron/Layer/MLP written below on top of ``tinygrad_edu.Value`` alone, against
    ``micrograd.nn.MLP`` itself. Both are timed with Python's garbage collector on (as
    users run) and off: micrograd's closures make reference cycles, so its graphs are
    freed only by the collector, while tinygrad_edu's graph has no cycles. The target
    is the collector on; with it off the figures are reported only (a 0-d Value holds a
    0-d ndarray, one representation for every shape, which costs more per node than
    micrograd's floats once the collector's cost is gone).
(b) With array Values, the whole batch at once: ``X`` is a (100, 2) Value with
    ``requires_grad=False``, the weights are 2-D Values, and the layers are
    ``(X @ W1 + b1).relu()`` and so on, against the same code run on PyTorch CPU
    tensors, in float64 for both and from the same initial weights.

How to read it: ``time per step`` covers the forward pass, ``backward()``, the update and
freeing the graph. Steps run back to back, as in a training loop, so each engine pays for
freeing the previous step's graph the way it frees it: tinygrad_edu by reference counting
as the step ends, micrograd (whose graph is all reference cycles) whenever the collector
runs. Each time is the best of several runs. ``ours / baseline`` divides
tinygrad_edu's time by the baseline's measured in this run: below 1.00x we are faster.
As a sanity check the script fails if any training's loss does not fall; the losses of
the two scalar trainings differ (different initial weights), those of (b) should agree.

Run: ``python benchmarks/bench_mlp_demo.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from functools import partial
from itertools import pairwise
from typing import Any

import numpy as np
from _timing import (
    Target,
    begin,
    fmt_ratio,
    fmt_time,
    optional_import,
    per_call_each,
    print_table,
    print_targets,
)

from tinygrad_edu import Value

SEED = 0
N_POINTS = 100
SIZES = (2, 16, 16, 1)
ALPHA = 1e-4  # weight of the L2 penalty
LR = 0.1
SCALAR_STEPS = 3  # consecutive steps per timed run (one step is about a second)
SCALAR_REPEAT = 3  # timed runs per configuration
ARRAY_REPEAT = 5  # timed blocks per configuration
ARRAY_STEPS = 100  # steps per block

# ----------------------------------------------------------------------------------------
# Data and training, shared by every engine (they all understand the same operators)
# ----------------------------------------------------------------------------------------


def two_moons(
    n: int, rng: np.random.Generator, noise: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on two interleaved half circles; labels +1 (upper) and -1 (lower)."""
    upper = np.arange(n) < n // 2
    t = rng.uniform(0.0, np.pi, n)
    x = np.where(upper, np.cos(t), 1.0 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    points = np.stack([x, y], axis=1) + rng.normal(0.0, noise, (n, 2))
    return points, np.where(upper, 1.0, -1.0)


class Training:
    """A model being trained: each ``step()`` is one SGD step; the losses are kept."""

    def __init__(self, compute_loss: Callable[[], Any], params: Sequence[Any],
                 zero_grad: Callable[[], None]) -> None:
        self.compute_loss = compute_loss
        self.params = params
        self.zero_grad = zero_grad
        self.losses: list[float] = []

    def step(self) -> None:
        self.zero_grad()
        loss = self.compute_loss()
        loss.backward()
        for p in self.params:
            p.data -= LR * p.grad
        self.losses.append(float(loss.data))

    def check_loss_falls(self, name: str) -> str:
        """Raise if training did not lower the loss; else describe the losses."""
        first, last = self.losses[0], self.losses[-1]
        if not last < first:
            raise RuntimeError(f"sanity check failed: {name}'s loss went from {first:.4f} to "
                               f"{last:.4f} over {len(self.losses)} steps instead of falling")
        return f"{name}: {first:.4f} -> {last:.4f} over {len(self.losses)} steps"


# ----------------------------------------------------------------------------------------
# (a) The scalar graph: a micrograd-style MLP on 0-d tinygrad_edu Values
# ----------------------------------------------------------------------------------------


class Neuron:
    """``relu(sum_i w_i * x_i + b)`` (or without the ReLU), one node per product."""

    def __init__(self, n_in: int, relu: bool, rng: np.random.Generator) -> None:
        self.w = [Value(w) for w in rng.uniform(-1.0, 1.0, n_in)]
        self.b = Value(0.0)
        self.relu = relu

    def __call__(self, x: Sequence[Value]) -> Value:
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.relu() if self.relu else act

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class Layer:
    """``n_out`` neurons reading the same inputs."""

    def __init__(self, n_in: int, n_out: int, relu: bool, rng: np.random.Generator) -> None:
        self.neurons = [Neuron(n_in, relu, rng) for _ in range(n_out)]

    def __call__(self, x: Sequence[Value]) -> list[Value]:
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP:
    """Layers of the given sizes, ReLU on all but the last; one output, a 0-d Value."""

    def __init__(self, sizes: Sequence[int], rng: np.random.Generator) -> None:
        last = len(sizes) - 2
        self.layers = [Layer(n_in, n_out, i < last, rng)
                       for i, (n_in, n_out) in enumerate(pairwise(sizes))]

    def __call__(self, x: Sequence[Value]) -> Value:
        for layer in self.layers:
            x = layer(x)
        (score,) = x
        return score

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None


def scalar_loss(model: Any, inputs: Sequence[Sequence[Any]], labels: Sequence[float]) -> Any:
    """The SVM loss of a scalar model (ours or micrograd's), built node by node."""
    margins = [(1 - y * model(x)).relu() for x, y in zip(inputs, labels, strict=True)]
    data_loss = sum(margins) * (1.0 / len(margins))
    return data_loss + ALPHA * sum(p * p for p in model.parameters())


def scalar_training(model: Any, inputs: Sequence[Sequence[Any]],
                    labels: Sequence[float]) -> Training:
    return Training(partial(scalar_loss, model, inputs, labels), model.parameters(),
                    model.zero_grad)


# ----------------------------------------------------------------------------------------
# (b) The array version: the batch at once, on tinygrad_edu Values or torch tensors
# ----------------------------------------------------------------------------------------


def array_loss(X: Any, y: Any, layers: Sequence[tuple[Any, Any]]) -> Any:
    """The SVM loss of the batch: ``(X @ W1 + b1).relu()`` and so on; works on both."""
    h = X
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = h.relu()
    margins = (1 - y * h.reshape(-1)).relu()
    return margins.mean() + ALPHA * sum((p * p).sum() for layer in layers for p in layer)


def array_training(to_tensor: Callable[..., Any], X: np.ndarray, y: np.ndarray,
                   init: Sequence[tuple[np.ndarray, np.ndarray]]) -> Training:
    """``to_tensor(array, requires_grad)`` makes a Value or a torch tensor from an array."""
    layers = [(to_tensor(w, True), to_tensor(b, True)) for w, b in init]
    params = [p for layer in layers for p in layer]

    def zero_grad() -> None:
        for p in params:
            p.grad = None

    loss = partial(array_loss, to_tensor(X, False), to_tensor(y, False), layers)
    return Training(loss, params, zero_grad)


def initial_weights(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) per layer: W uniform in [-1, 1] as in micrograd, b zero."""
    return [(rng.uniform(-1.0, 1.0, (n_in, n_out)), np.zeros(n_out))
            for n_in, n_out in pairwise(SIZES)]


# ----------------------------------------------------------------------------------------
# The benchmark
# ----------------------------------------------------------------------------------------


def compare(title: str, baseline_name: str, ours: Training, theirs: Training | None,
            steps: int, repeat: int) -> dict[tuple[str, bool], float]:
    """Time both trainings (interleaved) with the collector on and off, print the table,
    check that the losses fell.

    Returns the times keyed by (``"ours"`` or ``"theirs"``, gc on).
    """
    trainings = {"ours": ours} if theirs is None else {"ours": ours, "theirs": theirs}
    times: dict[tuple[str, bool], float] = {}
    for gc_enabled in (True, False):
        per_step = per_call_each([t.step for t in trainings.values()], number=steps,
                                 repeat=repeat, gc_enabled=gc_enabled)
        for name, seconds in zip(trainings, per_step, strict=True):
            times[name, gc_enabled] = seconds
    rows = []
    for gc_enabled in (True, False):
        gc_label = "on" if gc_enabled else "off"
        baseline = times.get(("theirs", gc_enabled))
        if baseline is not None:
            rows.append([f"{baseline_name} (baseline)", gc_label, fmt_time(baseline), "1.00x"])
        ours_time = times["ours", gc_enabled]
        rows.append(["tinygrad_edu", gc_label, fmt_time(ours_time),
                     fmt_ratio(ours_time, baseline)])
    print_table(title, ["engine", "gc", "time per step", f"ours / {baseline_name}"], rows)
    print("loss (sanity: it must fall)")
    print(f"  {ours.check_loss_falls('tinygrad_edu')}")
    if theirs is not None:
        print(f"  {theirs.check_loss_falls(baseline_name)}")
    return times


def faster(goal: str, times: dict[tuple[str, bool], float], gc_enabled: bool,
           baseline_name: str) -> Target:
    """The target 'ours is faster than the baseline' with the collector on or off."""
    ours, theirs = times["ours", gc_enabled], times.get(("theirs", gc_enabled))
    if theirs is None:
        return Target(goal, None, f"{baseline_name} is not importable")
    return Target(goal, ours < theirs,
                  f"ours {fmt_time(ours)} vs {baseline_name} {fmt_time(theirs)} per step: "
                  f"ours / {baseline_name} = {fmt_ratio(ours, theirs)} (target < 1.00x)")


def main() -> None:
    begin("bench_mlp_demo: micrograd's 2-16-16-1 MLP on 100 two-moons points",
                 f"best of {SCALAR_REPEAT} runs of {SCALAR_STEPS} steps (a) and "
                 f"{ARRAY_REPEAT} runs of "
                 f"{ARRAY_STEPS} steps (b)")
    micrograd = optional_import("micrograd.nn", "(a) the micrograd comparison")
    torch = optional_import("torch", "(b) the PyTorch comparison")
    rng = np.random.default_rng(SEED)
    X, y = two_moons(N_POINTS, rng)
    labels = [float(v) for v in y]

    ours = scalar_training(MLP(SIZES, rng), [[Value(v, requires_grad=False) for v in row]
                                             for row in X], labels)
    theirs = None
    if micrograd is not None:
        random.seed(SEED)  # micrograd draws its initial weights from the global `random`
        model = micrograd.MLP(SIZES[0], list(SIZES[1:]))
        inputs = [[micrograd.Value(float(v)) for v in row] for row in X]
        theirs = scalar_training(model, inputs, labels)
    scalar = compare("(a) scalar graph, one node per w_i * x_i", "micrograd", ours, theirs,
                     SCALAR_STEPS, SCALAR_REPEAT)

    init = initial_weights(rng)
    ours = array_training(lambda a, grad: Value(a, requires_grad=grad), X, y, init)
    theirs = None
    title = f"(b) array Values, batch of {N_POINTS}, float64"
    if torch is not None:
        theirs = array_training(
            lambda a, grad: torch.tensor(a, dtype=torch.float64, requires_grad=grad),
            X, y, init)
        title += f"; torch eager CPU on {torch.get_num_threads()} thread(s)"
    array = compare(title, "torch", ours, theirs, ARRAY_STEPS, ARRAY_REPEAT)

    print_targets([
        faster("(a) scalar graph faster than micrograd, gc on", scalar, True, "micrograd"),
        faster("(b) array version faster than PyTorch eager CPU, gc on", array, True, "torch"),
    ])


if __name__ == "__main__":
    main()

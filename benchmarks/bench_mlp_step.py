"""One MLP training step, three sizes, float32 and float64: tinygrad_edu against a
hand-written NumPy step (the floor for a NumPy engine) and PyTorch CPU eager.

The step is the one every training loop repeats: forward through ``Linear`` layers with
ReLU between them, the softmax cross-entropy of the logits against integer labels
(averaged over the batch), ``backward()``, and the plain SGD update
``p.data -= lr * p.grad`` of every weight and bias. Three networks:

- tiny:   2-16-16-2, batch 100 (micrograd's demo size: Python overhead dominates)
- medium: 784-256-128-10, batch 128 (MNIST-sized)
- large:  784-1024-1024-10, batch 512 (the matrix products dominate)

The inputs are standard-normal and the labels uniform over the classes, drawn from a
seeded NumPy generator. Three engines run each step from the same initial weights (drawn
by ``tinygrad_edu.nn.MLP``, copied to the others) on the same data, in the same dtype:

- tinygrad_edu: ``p.grad = None`` for each parameter (as ``optimizer.zero_grad()``),
  ``F.cross_entropy(model(X), y)``,
  ``backward(intermediate_grads=False, retain_graph=False)`` (what ``fit`` does: a
  training step needs only the parameters' gradients, and the graph only once; a plain
  ``backward()`` also keeps one gradient per intermediate node and the whole graph, for
  the graph views, which costs their memory).
- numpy: the same network written by hand, as a NumPy programmer would: ``h @ W.T + b``,
  ``np.maximum``, a max-shifted softmax whose gradient is ``(softmax - onehot) / N``, the
  ReLU's gradient as a mask, bias gradients as sums; every gradient is computed, then
  every parameter updated, as in the other two. An engine built on NumPy cannot do less
  work, so its time is the floor for one (PyTorch's own kernels may beat it).
- torch: ``torch.nn.Linear`` layers, ``torch.nn.functional.cross_entropy``, on CPU, on
  its default number of threads, except for the tiny network: its arrays are too small
  to split, and on a small (2-vCPU) machine PyTorch's thread pool there sometimes stalls
  for milliseconds per step (30x its usual time) through whole measurements, so it runs
  on one thread, its best time, which makes the comparison with it the strict one.

How to read it:

- ``time per step``: the best of ``REPEAT`` (21) runs of consecutive steps, with Python's
  garbage collector on, as users run. tinygrad_edu and the NumPy step are interleaved run
  by run, so that a slow spell of the machine hits both alike. On a small shared virtual
  machine a whole process can run in a fast or a slow mode (the medium floor at 1.05 or
  at 1.5 ms), and within one process single runs differ by up to 1.8x; with 7 runs the
  medium ratio came out anywhere from 0.87x to 1.48x from one invocation to the next,
  with 21 it stays within a few percent, its spread from the machine's mode. PyTorch is
  timed after them on its own: interleaved, its OpenMP threads and NumPy's OpenBLAS
  threads, each spinning while they wait for work, take the cores from each other (up to
  2x on PyTorch's time).
  ``ours / numpy`` is tinygrad_edu's time divided by the NumPy floor's (1.00x would be a
  free engine), ``ours / torch`` divided by PyTorch's (below 1.00x we are faster).
- ``peak memory``: what one step allocates at its peak above what was held before it
  (parameters and data), measured with ``tracemalloc``, which sees NumPy's arrays and
  Python's objects alike: tracing starts just before the step, with no gradients held.
- Sanity: before anything is timed, every engine takes one step from the same weights.
  tinygrad_edu's loss must match the NumPy step's to a relative 1e-6 and its gradients
  too (the script fails otherwise); PyTorch's differences are printed alongside.

Run: ``python benchmarks/bench_mlp_step.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import contextlib
import gc
import math
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn

SEED = 0
LR = 0.1
REPEAT = 21  # timed runs per engine and configuration (see the docstring)
DTYPES = (np.float32, np.float64)
LOSS_RTOL = 1e-6  # first-step loss, ours against the NumPy step
GRAD_RTOL = {np.float32: 1e-4, np.float64: 1e-10}  # max |difference| / max |gradient|
TIME_TARGET = 1.10  # medium and large: at most this times the NumPy floor
TORCH_TARGET = 0.5  # tiny: at most this times PyTorch
MEMORY_TARGET = 1.5  # every size: peak memory at most this times the NumPy step's


@dataclass(frozen=True)
class Size:
    """One network: its layer widths, the batch, and how many steps make a timed run."""

    name: str
    widths: tuple[int, ...]  # input features, hidden widths..., classes
    batch: int
    steps: int  # consecutive steps per timed run
    torch_threads: int | None = None  # None: PyTorch's default


SIZES = (
    Size("tiny", (2, 16, 16, 2), 100, steps=200, torch_threads=1),
    Size("medium", (784, 256, 128, 10), 128, steps=20),
    Size("large", (784, 1024, 1024, 10), 512, steps=2),
)

Layers = list[tuple[np.ndarray, np.ndarray]]  # (weight (out, in), bias (out,)) per layer


def pairs(arrays: list[np.ndarray]) -> Layers:
    """[w1, b1, w2, b2, ...] (the order of ``parameters()``) as [(w1, b1), (w2, b2), ...]."""
    return list(zip(arrays[::2], arrays[1::2], strict=True))


# ----------------------------------------------------------------------------------------
# The three engines: each holds its own copy of the weights; step() returns the loss
# ----------------------------------------------------------------------------------------


class Ours:
    """tinygrad_edu: ``nn.MLP`` (Linear, ReLU, Linear, ...) and ``F.cross_entropy``."""

    def __init__(self, size: Size, dtype: Any, X: np.ndarray, y: np.ndarray) -> None:
        self.model = nn.MLP(size.widths[0], list(size.widths[1:]), activation="relu",
                            seed=SEED, dtype=dtype)
        self.params = self.model.parameters()
        self.X = Value(X, requires_grad=False)
        self.y = y

    def layers(self) -> Layers:
        """Copies of the weights, as (weight, bias) per layer."""
        return pairs([p.data.copy() for p in self.params])

    def grads(self) -> Layers:
        return pairs([p.grad for p in self.params])

    def step(self) -> float:
        for p in self.params:  # what optimizer.zero_grad() does
            p.grad = None
        loss = F.cross_entropy(self.model(self.X), self.y)
        loss.backward(intermediate_grads=False, retain_graph=False)  # as fit() trains
        for p in self.params:
            p.data -= LR * p.grad
        return float(loss.data)


class NumpyStep:
    """The same network and step written by hand with NumPy: the floor."""

    def __init__(self, layers: Layers, X: np.ndarray, y: np.ndarray) -> None:
        self.layers = [(w.copy(), b.copy()) for w, b in layers]
        self.X, self.y = X, y
        self.rows = np.arange(len(y))

    def loss_and_grads(self) -> tuple[float, Layers]:
        # forward: keep each layer's input for the weight gradients
        inputs = []
        h = self.X
        last = len(self.layers) - 1
        for i, (w, b) in enumerate(self.layers):
            inputs.append(h)
            h = h @ w.T + b
            if i < last:
                h = np.maximum(h, 0)
        # softmax cross-entropy, shifted by the row maximum so that exp cannot overflow
        shifted = h - h.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        n = len(self.y)
        loss = float(np.log(total).sum() / n - shifted[self.rows, self.y].sum() / n)
        # backward: dloss/dlogits = (softmax - onehot) / N
        g = exp
        g /= total
        g[self.rows, self.y] -= 1
        g /= n
        grads: Layers = []
        for i in range(last, -1, -1):
            w, _ = self.layers[i]
            h = inputs[i]
            grads.append((g.T @ h, g.sum(axis=0)))
            if i:
                g = g @ w
                g *= h > 0  # the ReLU's gradient: h is the ReLU's output
        grads.reverse()
        return loss, grads

    def step(self) -> float:
        loss, grads = self.loss_and_grads()
        for (w, b), (gw, gb) in zip(self.layers, grads, strict=True):
            w -= LR * gw
            b -= LR * gb
        return loss


class TorchStep:
    """PyTorch CPU eager: ``torch.nn.Linear`` and ``torch.nn.ReLU`` modules."""

    def __init__(self, torch: Any, layers: Layers, X: np.ndarray, y: np.ndarray) -> None:
        modules = []
        for i, (w, b) in enumerate(layers):
            linear = torch.nn.Linear(w.shape[1], w.shape[0], dtype=torch.from_numpy(w).dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(w))
                linear.bias.copy_(torch.from_numpy(b))
            modules.append(linear)
            if i < len(layers) - 1:
                modules.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*modules)
        self.params = list(self.model.parameters())
        self.cross_entropy = torch.nn.functional.cross_entropy
        self.X = torch.from_numpy(X.copy())
        self.y = torch.from_numpy(y.astype(np.int64))

    def grads(self) -> Layers:
        return pairs([p.grad.numpy() for p in self.params])

    def step(self) -> float:
        self.model.zero_grad()
        loss = self.cross_entropy(self.model(self.X), self.y)
        loss.backward()
        for p in self.params:
            p.data -= LR * p.grad
        return loss.item()


# ----------------------------------------------------------------------------------------
# Measurements
# ----------------------------------------------------------------------------------------


def peak_memory(step: Callable[[], object]) -> int:
    """Bytes allocated at the peak of one ``step()`` above what was held before it.

    Tracing starts just before the step, so what existed before (parameters, data) is
    not counted, and everything the step allocates is: arrays, graph nodes, gradients.
    """
    gc.collect()
    tracemalloc.start()
    try:
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


@contextlib.contextmanager
def torch_threads(torch: Any, threads: int | None) -> Iterator[None]:
    """PyTorch on ``threads`` threads inside the block (unchanged for None)."""
    if torch is None or threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def relative_difference(ours: Layers, floor: Layers) -> float:
    """The largest |difference| of the gradients, over the largest |gradient|."""
    ours_flat = np.concatenate([np.ravel(g) for layer in ours for g in layer])
    floor_flat = np.concatenate([np.ravel(g) for layer in floor for g in layer])
    return float(np.max(np.abs(ours_flat - floor_flat)) / np.max(np.abs(floor_flat)))


def check_first_step(label: str, dtype: Any, ours: Ours, floor: NumpyStep,
                     torch_step: TorchStep | None) -> str:
    """Run one step of each engine from the same weights; fail unless ours computes the
    NumPy step's loss and gradients. Returns a line describing the agreement."""
    floor_loss, floor_grads = floor.loss_and_grads()
    floor.step()
    ours_loss = ours.step()
    loss_diff = abs(ours_loss - floor_loss) / abs(floor_loss)
    grad_diff = relative_difference(ours.grads(), floor_grads)
    if not loss_diff <= LOSS_RTOL or not grad_diff <= GRAD_RTOL[dtype]:
        raise RuntimeError(
            f"sanity check failed for {label}: first-step loss ours {ours_loss!r} vs numpy "
            f"{floor_loss!r} (relative difference {loss_diff:.2e}, allowed {LOSS_RTOL:.0e}); "
            f"gradients differ by {grad_diff:.2e} of the largest (allowed "
            f"{GRAD_RTOL[dtype]:.0e})")
    line = (f"{label}: loss {floor_loss:.6f}; ours vs numpy: loss {loss_diff:.1e}, "
            f"gradients {grad_diff:.1e}")
    if torch_step is not None:
        torch_loss = torch_step.step()
        line += (f"; torch vs numpy: loss {abs(torch_loss - floor_loss) / abs(floor_loss):.1e}"
                 f", gradients {relative_difference(torch_step.grads(), floor_grads):.1e}")
    return line


@dataclass
class Result:
    """What was measured for one network and dtype."""

    times: dict[str, float]  # seconds per step by engine
    memory: dict[str, int]  # peak bytes of one step: "ours", "numpy"


def measure(size: Size, dtype: Any, torch: Any, sanity: list[str]) -> Result:
    """Build the engines for one network and dtype, check their first step (appending a
    line to ``sanity``), then measure peak memory and time per step."""
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((size.batch, size.widths[0])).astype(dtype)
    y = rng.integers(0, size.widths[-1], size.batch)
    ours = Ours(size, dtype, X, y)
    init = ours.layers()
    engines: dict[str, Any] = {"ours": ours, "numpy": NumpyStep(init, X, y)}
    if torch is not None:
        engines["torch"] = TorchStep(torch, init, X, y)
    label = f"{size.name} {np.dtype(dtype).name}"
    with torch_threads(torch, size.torch_threads):
        sanity.append(check_first_step(label, dtype, ours, engines["numpy"],
                                       engines.get("torch")))
        ours.model.zero_grad()  # nothing but parameters and data held when tracing starts
        memory = {name: peak_memory(engines[name].step) for name in ("ours", "numpy")}
        ours_time, numpy_time = per_call_each([ours.step, engines["numpy"].step],
                                              number=size.steps, repeat=REPEAT)
        times = {"ours": ours_time, "numpy": numpy_time}
        if "torch" in engines:  # on its own, see the module docstring
            (times["torch"],) = per_call_each([engines["torch"].step], number=size.steps,
                                              repeat=REPEAT)
        for name, engine in engines.items():
            if not math.isfinite(engine.step()):
                raise RuntimeError(f"{label}: {name}'s loss is not finite after training")
    return Result(times, memory)


# ----------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------


def fmt_bytes(n: float) -> str:
    """A size in B, kB, MB (powers of 1000), three significant digits."""
    units = (("MB", 1e6), ("kB", 1e3))
    unit, scale = next(((u, s) for u, s in units if n >= s), ("B", 1.0))
    value = n / scale
    return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"


def ratios(results: dict[tuple[str, str], Result], size: str, ratio: Callable[[Result], Any],
           limit: float, what: str) -> tuple[bool | None, str]:
    """Whether ``ratio`` is at most ``limit`` for both dtypes of ``size``, and the numbers."""
    values = {dtype: ratio(r) for (s, dtype), r in results.items() if s == size}
    if not values:
        return None, f"{size} was not measured"
    if any(v is None for v in values.values()):
        return None, "torch is not importable"
    text = ", ".join(f"{dtype} {v:.2f}x" for dtype, v in values.items())
    return all(v <= limit for v in values.values()), f"{what}: {text} (target <= {limit:.2f}x)"


def main() -> None:
    begin("bench_mlp_step: one MLP training step (forward, cross-entropy, backward, "
                 "SGD)", f"best of {REPEAT} runs per engine, gc on")
    torch = optional_import("torch", "the PyTorch comparison")
    if torch is not None:
        fewer = "".join(f", {s.torch_threads} for {s.name}" for s in SIZES if s.torch_threads)
        print(f"torch {torch.__version__} eager CPU on {torch.get_num_threads()} thread(s)"
              f"{fewer}")

    results: dict[tuple[str, str], Result] = {}
    sanity: list[str] = []
    for size in SIZES:
        for dtype in DTYPES:
            results[size.name, np.dtype(dtype).name] = measure(size, dtype, torch, sanity)

    print()
    print("sanity: first step from the same weights (relative differences)")
    for line in sanity:
        print(f"  {line}")

    time_rows, memory_rows = [], []
    for (size_name, dtype), r in results.items():
        size = next(s for s in SIZES if s.name == size_name)
        shape = f"{size_name} {'-'.join(map(str, size.widths))} x{size.batch}"
        t = r.times
        time_rows.append([shape, dtype, fmt_time(t["numpy"]), fmt_time(t["ours"]),
                          fmt_time(t["torch"]) if "torch" in t else "n/a",
                          fmt_ratio(t["ours"], t["numpy"]),
                          fmt_ratio(t["ours"], t.get("torch"))])
        m = r.memory
        memory_rows.append([shape, dtype, fmt_bytes(m["numpy"]), fmt_bytes(m["ours"]),
                            fmt_ratio(m["ours"], m["numpy"])])
    print_table("time per step", ["network", "dtype", "numpy (floor)", "tinygrad_edu", "torch",
                                  "ours / numpy", "ours / torch"], time_rows, left_columns=2)
    print_table("peak memory of one step, above the parameters and data",
                ["network", "dtype", "numpy", "tinygrad_edu", "ours / numpy"], memory_rows,
                left_columns=2)

    def vs_numpy(r: Result) -> float:
        return r.times["ours"] / r.times["numpy"]

    def vs_torch(r: Result) -> float | None:
        return r.times["ours"] / r.times["torch"] if "torch" in r.times else None

    def memory_ratio(r: Result) -> float:
        return r.memory["ours"] / r.memory["numpy"]

    targets = []
    for size in ("medium", "large"):
        met, numbers = ratios(results, size, vs_numpy, TIME_TARGET, "ours / numpy")
        targets.append(Target(f"{size}: a step at most {TIME_TARGET:.1f}x the NumPy floor's "
                              f"time", met, numbers))
    met, numbers = ratios(results, "tiny", vs_torch, TORCH_TARGET, "ours / torch")
    targets.append(Target(f"tiny: a step at most {TORCH_TARGET:.1f}x PyTorch's time", met,
                          numbers))
    for size in SIZES:
        met, numbers = ratios(results, size.name, memory_ratio, MEMORY_TARGET,
                              "peak memory ours / numpy")
        targets.append(Target(f"{size.name}: peak memory of a step at most "
                              f"{MEMORY_TARGET:.1f}x the NumPy step's", met, numbers))
    print_targets(targets)


if __name__ == "__main__":
    main()

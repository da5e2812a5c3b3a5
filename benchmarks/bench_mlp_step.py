"""One MLP training step, three sizes, float32 and float64: tinygrad_edu written two ways
against a hand-written NumPy step (the floor for a NumPy engine) and PyTorch CPU eager.

The step is the one every training loop repeats: forward through fully connected layers
with ReLU between them, the softmax cross-entropy of the logits against integer labels
(averaged over the batch), backward, and the plain SGD update p <- p - lr * grad of every
weight and bias; the update is timed on every side. Three networks:

- tiny:   2-16-16-2, batch 100 (micrograd's demo size: Python overhead dominates)
- medium: 784-256-128-10, batch 128 (MNIST-sized)
- large:  784-1024-1024-10, batch 512 (the matrix products dominate)

The inputs are standard-normal and the labels uniform over the classes, drawn from a
seeded NumPy generator. Every engine runs each step from the same initial weights (drawn
by ``tinygrad_edu.nn.MLP``, copied to the others) on the same data, in the same dtype:

- tinygrad_edu, modules: ``nn.MLP`` (``Linear``, ``ReLU``, ...) and ``optim.SGD``, as
  ``fit`` and the docs write the step: ``optimizer.zero_grad()``,
  ``F.cross_entropy(model(X), y)``, ``backward(intermediate_grads=False,
  retain_graph=False)`` (a training step needs only the parameters' gradients, and the
  graph only once), ``optimizer.step()``.
- tinygrad_edu, by hand: the step as the README writes it, on raw Values:
  ``h = (h @ W + b).relu()`` per hidden layer with ``W`` of shape (in, out),
  ``F.cross_entropy(h @ W + b, y)``, a plain ``loss.backward()`` (which also keeps every
  intermediate gradient and the graph, for the graph views), and the same update.
- numpy: the same network written by hand, as a NumPy programmer would: ``h @ W.T + b``,
  ``np.maximum``, a max-shifted softmax whose gradient is ``(softmax - onehot) / N``, the
  ReLU's gradient as a mask, bias gradients as sums; every gradient is computed, then
  every parameter updated, as in the others. An engine built on NumPy cannot do less
  work, so its time is the floor for one (PyTorch's own kernels may beat it).
- torch: ``torch.nn.Linear`` layers, ``torch.nn.functional.cross_entropy``, on CPU, on
  its default number of threads, except for the tiny network: its arrays are too small
  to split, and on a small (2-vCPU) machine PyTorch's thread pool there sometimes stalls
  for milliseconds per step (30x its usual time) through whole measurements, so it runs
  on one thread, its best time, which makes the comparison with it the strict one.

Each network and dtype is measured in a fresh Python process of its own, as a user's
training script runs one network, so that what an earlier measurement left in the heap
(glibc's malloc adapts its thresholds to the process's history) cannot change a later
one. The process runs in the default environment: no environment variables, no
``mallopt``, no heap tuning, and PyTorch imported only once our steps and the floor are
timed: importing and stepping it allocates large blocks whose release raises glibc's
dynamic thresholds for every array in the process, which would spare the engines timed
after it the page faults a user's script (without PyTorch) pays.

How to read it:

- ``time per step``: the best of ``REPEAT`` (21) runs of consecutive steps, with Python's
  garbage collector on, as users run. The two tinygrad_edu steps and the NumPy step are
  interleaved run by run, so that a slow spell of the machine hits all alike. On a small
  shared virtual machine single runs differ by up to 1.8x within a process; with 21 runs
  the ratios stay within a few percent in that process. PyTorch is timed after them on
  its own (see above; interleaved, its OpenMP threads and NumPy's OpenBLAS threads, each
  spinning while they wait for work, would also take the cores from each other).
  ``/ numpy`` is a tinygrad_edu step's time divided by the NumPy floor's (1.00x would be
  a free engine), ``/ torch`` divided by PyTorch's (below 1.00x we are faster).
- Heap layouts: where malloc places a step's arrays depends on everything the process
  allocated before, and so does the step's speed (which arrays share the caches, which
  memory was freed last and is still in them, where each array starts within a cache
  line): at 784-256-128-10 the same code measured from 1.02x to 1.21x the NumPy floor in
  processes that differed only by a few blocks of memory taken at the start, as users'
  processes differ (by the size of their environment, say); most of that spread came
  from where malloc put the parameters, which tinygrad_edu now aligns to a cache line
  (``kernels.aligned_empty``). So each network and dtype is measured in ``LAYOUTS`` (7)
  processes, the k-th of which first takes k blocks of ``SHIFT_BYTES`` from the C
  library's malloc, before anything else (Python's own allocator serves objects of 512
  bytes or less, so only larger ones move what malloc hands out later), and keeps them.
  A ratio is given as the median over the layouts of the ratio measured in each (the
  targets are checked on it), with its lowest and highest; a time is the median of the
  layouts' best times.
- ``page faults per step``: minor page faults (memory the kernel maps in afresh, which it
  must zero first), the median over runs of consecutive steps. An allocator that hands a
  step's memory back to the system and takes it again in the next step shows here;
  unlike the times, this figure does not depend on how busy the machine is. It is given
  twice: during the interleaved timing above, and with each engine alone in a fresh
  process, as a user's script runs it. They can differ: glibc's malloc returns the free
  top of its heap to the system once it exceeds a threshold (twice the largest array the
  process has freed), and engines sharing a heap keep each other's memory from being the
  top. Alone, a step whose peak memory exceeds that threshold and is all freed when the
  step ends pays for it again in the next step.
- ``peak memory``: what one step allocates at its peak above what was held before it
  (parameters and data), measured with ``tracemalloc``, which sees NumPy's arrays and
  Python's objects alike: tracing starts just before the step, with no gradients held
  and the arrays that ``kernels.empty`` keeps for reuse let go (``empty_cache``), so that
  memory a step takes from an earlier step's arrays counts as well.
- Sanity: before anything is timed, every engine takes one step from the same weights.
  Each tinygrad_edu step's loss must match the NumPy step's to a relative 1e-6 and its
  gradients too (the script fails otherwise); PyTorch's differences are printed alongside.

Run: ``python benchmarks/bench_mlp_step.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from _timing import (
    Measured,
    Target,
    begin,
    fmt_ratio,
    fmt_time,
    measure_each,
    minor_faults,
    optional_import,
    print_table,
    print_targets,
)

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn
from tinygrad_edu.ops import kernels
from tinygrad_edu.optim import SGD

SEED = 0
LR = 0.1
REPEAT = 21  # timed runs per engine and configuration (see the docstring)
LAYOUTS = 7  # processes per network and dtype, each with its heap laid out differently
SHIFT_BYTES = 1040  # per block of malloc's taken before anything else (see run_child)
DTYPES = ("float32", "float64")
LOSS_RTOL = 1e-6  # first-step loss, ours against the NumPy step
GRAD_RTOL = {"float32": 1e-4, "float64": 1e-10}  # max |difference| / max |gradient|
TIME_TARGET = 1.10  # medium and large, both ways of writing the step: at most this x numpy
TORCH_TARGET = 0.5  # tiny: at most this times PyTorch
MEMORY_TARGET = 1.5  # every size: the modules step's peak memory at most this x numpy's
OURS = ("modules", "by hand")  # the two ways of writing a tinygrad_edu step
ALONE_WARMUP = 3  # steps before page faults are counted with an engine alone
ALONE_RUNS = 5  # runs of Size.steps steps counted


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
# The engines: each holds its own copy of the weights; step() returns the loss
# ----------------------------------------------------------------------------------------


class WithModules:
    """tinygrad_edu: ``nn.MLP`` (Linear, ReLU, Linear, ...) and ``F.cross_entropy``."""

    def __init__(self, size: Size, dtype: str, X: np.ndarray, y: np.ndarray) -> None:
        self.model = nn.MLP(size.widths[0], list(size.widths[1:]), activation="relu",
                            seed=SEED, dtype=dtype)
        self.params = self.model.parameters()
        self.optimizer = SGD(self.params, lr=LR)
        self.X = Value(X, requires_grad=False)
        self.y = y

    def layers(self) -> Layers:
        """Copies of the weights, as (weight, bias) per layer."""
        return pairs([p.data.copy() for p in self.params])

    def grads(self) -> Layers:
        return pairs([p.grad for p in self.params])

    def step(self) -> float:
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.model(self.X), self.y)
        loss.backward(intermediate_grads=False, retain_graph=False)  # as fit() trains
        self.optimizer.step()
        return float(loss.data)


class ByHand:
    """tinygrad_edu on raw Values, as the README writes it: ``(h @ W + b).relu()``."""

    def __init__(self, layers: Layers, X: np.ndarray, y: np.ndarray) -> None:
        self.layers = [(Value(w.T.copy()), Value(b.copy())) for w, b in layers]  # W: (in, out)
        self.params = [p for layer in self.layers for p in layer]
        self.X = Value(X, requires_grad=False)
        self.y = y

    def grads(self) -> Layers:
        return [(W.grad.T, b.grad) for W, b in self.layers]

    def step(self) -> float:
        for p in self.params:
            p.grad = None
        h = self.X
        for W, b in self.layers[:-1]:
            h = (h @ W + b).relu()
        W, b = self.layers[-1]
        loss = F.cross_entropy(h @ W + b, self.y)
        loss.backward()
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
# Measurements (in the child process of one network and dtype)
# ----------------------------------------------------------------------------------------


def peak_memory(step: Callable[[], object]) -> int:
    """Bytes allocated at the peak of one ``step()`` above what was held before it.

    Tracing starts just before the step, so what existed before (parameters, data) is
    not counted, and everything the step allocates is: arrays, graph nodes, gradients,
    and (the kept arrays let go first) the arrays it would take from ``kernels.empty``.
    """
    gc.collect()
    kernels.empty_cache()
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


def check_first_step(label: str, dtype: str, engines: dict[str, Any]) -> str:
    """Run one step of each engine from the same weights; fail unless each tinygrad_edu
    step computes the NumPy step's loss and gradients. Returns a line describing the
    agreement."""
    floor = engines["numpy"]
    floor_loss, floor_grads = floor.loss_and_grads()
    floor.step()
    line = f"{label}: loss {floor_loss:.6f}"
    for name, engine in engines.items():
        if name == "numpy":
            continue
        loss = engine.step()
        loss_diff = abs(loss - floor_loss) / abs(floor_loss)
        grad_diff = relative_difference(engine.grads(), floor_grads)
        if name in OURS and not (loss_diff <= LOSS_RTOL and grad_diff <= GRAD_RTOL[dtype]):
            raise RuntimeError(
                f"sanity check failed for {label} ({name}): first-step loss {loss!r} vs "
                f"numpy {floor_loss!r} (relative difference {loss_diff:.2e}, allowed "
                f"{LOSS_RTOL:.0e}); gradients differ by {grad_diff:.2e} of the largest "
                f"(allowed {GRAD_RTOL[dtype]:.0e})")
        line += f"; {name} vs numpy: loss {loss_diff:.1e}, gradients {grad_diff:.1e}"
    return line


@dataclass
class Result:
    """What was measured for one network and dtype (in the first heap layout, and the
    best times of the engines in each layout)."""

    sanity: str
    timings: dict[str, Measured]  # by engine
    memory: dict[str, int]  # peak bytes of one step, by engine
    alone: dict[str, float | None] = field(default_factory=dict)  # faults/step, own process
    layouts: list[dict[str, float]] = field(default_factory=list)  # best time, by engine

    def time(self, name: str) -> float | None:
        """The median over the layouts of the engine's best time (None: not measured)."""
        times = [found[name] for found in self.layouts if name in found]
        return statistics.median(times) if times else None

    def ratios(self, name: str, baseline: str) -> list[float] | None:
        """The engine's best time over the baseline's, in each layout."""
        if any(baseline not in found for found in self.layouts):
            return None
        return [found[name] / found[baseline] for found in self.layouts]


def build(size: Size, dtype: str) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """The NumPy floor and the two tinygrad_edu steps for one network and dtype, from the
    same initial weights, and the data (X, y)."""
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((size.batch, size.widths[0])).astype(dtype)
    y = rng.integers(0, size.widths[-1], size.batch)
    modules = WithModules(size, dtype, X, y)
    init = modules.layers()
    return {"numpy": NumpyStep(init, X, y), "modules": modules,
            "by hand": ByHand(init, X, y)}, X, y


def measure(size: Size, dtype: str) -> Result:
    """Check the tinygrad_edu steps' first step against the NumPy floor's, measure peak
    memory, time and page faults per step, then (only now importing it) PyTorch's."""
    engines, _, _ = build(size, dtype)
    label = f"{size.name} {dtype}"
    sanity = check_first_step(label, dtype, engines)
    for engine in engines.values():  # nothing but parameters and data held
        engine.step()
        for p in getattr(engine, "params", ()):
            p.grad = None
    memory = {name: peak_memory(engines[name].step) for name in engines}
    timings = dict(zip(engines, measure_each([e.step for e in engines.values()],
                                             number=size.steps, repeat=REPEAT), strict=True))
    for name, engine in engines.items():
        if not math.isfinite(engine.step()):
            raise RuntimeError(f"{label}: {name}'s loss is not finite after training")
    found = measure_torch(size, dtype)
    if found is not None:
        sanity += "; " + found[0]
        timings["torch"] = found[1]
    return Result(sanity, timings, memory)


def measure_torch(size: Size, dtype: str) -> tuple[str, Measured] | None:
    """PyTorch's first step against the NumPy floor's (the agreement, as a line), then its
    time per step; None if torch is not importable."""
    torch = optional_import("torch", "the PyTorch comparison")
    if torch is None:
        return None
    engines, X, y = build(size, dtype)
    step = TorchStep(torch, engines["modules"].layers(), X, y)
    with torch_threads(torch, size.torch_threads):
        line = check_first_step(f"{size.name} {dtype}", dtype,
                                {"numpy": engines["numpy"], "torch": step})
        (timing,) = measure_each([step.step], number=size.steps, repeat=REPEAT)
        if not math.isfinite(step.step()):
            raise RuntimeError(f"{size.name} {dtype}: torch's loss is not finite after training")
    return line.split("; ", 1)[1], timing


def faults_alone(size: Size, dtype: str, name: str) -> float | None:
    """Minor page faults per step of one engine alone in this process: the median over
    ``ALONE_RUNS`` runs of ``size.steps`` steps, after ``ALONE_WARMUP`` steps."""
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((size.batch, size.widths[0])).astype(dtype)
    y = rng.integers(0, size.widths[-1], size.batch)
    engine: Any = WithModules(size, dtype, X, y)  # every engine's weights come from it
    if name != "modules":
        engine = {"by hand": ByHand, "numpy": NumpyStep}[name](engine.layers(), X, y)
    for _ in range(ALONE_WARMUP):
        engine.step()
    per_step = []
    for _ in range(ALONE_RUNS):
        before = minor_faults()
        for _ in range(size.steps):
            engine.step()
        after = minor_faults()
        if before is None or after is None:
            return None
        per_step.append((after - before) / size.steps)
    return statistics.median(per_step)


# A child process: ``layout`` blocks taken from malloc first, then this script as __main__
_CHILD = """import runpy, sys
kept = [bytes({size}) for _ in range(int(sys.argv[1]))]
sys.argv = sys.argv[2:]
sys.path.insert(0, {folder!r})
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run_child(*args: str, layout: int = 0) -> Any:
    """Run this script with ``args`` in a fresh Python process (same environment) whose
    heap is laid out as the ``layout``-th (see the module docstring), and return the JSON
    it prints last; lines before it (a skipped baseline) are shown."""
    code = _CHILD.format(size=SHIFT_BYTES, folder=os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.run([sys.executable, "-c", code, str(layout), __file__, *args],
                           check=False, capture_output=True, text=True)
    if child.returncode:
        raise RuntimeError(f"measuring {' '.join(args)} failed:\n{child.stderr}")
    *notes, last = child.stdout.splitlines()
    for note in notes:
        print(note)
    return json.loads(last)


def measure_in_child(size: Size, dtype: str) -> Result:
    """``measure`` in ``LAYOUTS`` fresh Python processes, each with its heap laid out
    differently (see the module docstring), and each engine's page faults alone in a
    process of its own. The first layout's figures are kept whole, the others' best
    times."""
    found = [run_child(size.name, dtype, "time", layout=layout) for layout in range(LAYOUTS)]
    first = found[0]
    timings = {name: Measured(**t) for name, t in first["timings"].items()}
    alone = {name: run_child(size.name, dtype, name) for name in ("numpy", *OURS)}
    layouts = [{name: t["best"] for name, t in f["timings"].items()} for f in found]
    return Result(first["sanity"], timings, first["memory"], alone, layouts)


# ----------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------


def fmt_bytes(n: float) -> str:
    """A size in B, kB, MB (powers of 1000), three significant digits."""
    units = (("MB", 1e6), ("kB", 1e3))
    unit, scale = next(((u, s) for u, s in units if n >= s), ("B", 1.0))
    value = n / scale
    return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"


def fmt_count(n: float | None) -> str:
    return "n/a" if n is None else f"{n:.0f}"


def fmt_spread(ratios: list[float] | None) -> str:
    """Ratios measured in several heap layouts: their median, lowest and highest."""
    if ratios is None:
        return "n/a"
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


def fmt_faults(timing: Measured | None) -> str:
    return fmt_count(None if timing is None else timing.faults)


def ratios(results: dict[tuple[str, str], Result], size: str,
           ratio: Callable[[Result], float | None], limit: float,
           what: str) -> tuple[bool | None, str]:
    """Whether ``ratio`` is at most ``limit`` for both dtypes of ``size``, and the numbers."""
    values = {dtype: ratio(r) for (s, dtype), r in results.items() if s == size}
    if not values:
        return None, f"{size} was not measured"
    if any(v is None for v in values.values()):
        return None, "torch is not importable"
    text = ", ".join(f"{dtype} {v:.2f}x" for dtype, v in values.items())
    return all(v <= limit for v in values.values()), f"{what}: {text} (target <= {limit:.2f}x)"


def report(results: dict[tuple[str, str], Result]) -> None:
    print()
    print("sanity: first step from the same weights (relative differences)")
    for r in results.values():
        print(f"  {r.sanity}")

    time_rows, fault_rows, memory_rows = [], [], []
    for (size_name, dtype), r in results.items():
        size = next(s for s in SIZES if s.name == size_name)
        shape = f"{size_name} {'-'.join(map(str, size.widths))} x{size.batch}"
        torch_time = r.time("torch")
        time_rows.append([shape, dtype, fmt_time(r.time("numpy")),
                          *(fmt_time(r.time(name)) for name in OURS),
                          fmt_time(torch_time) if torch_time else "n/a",
                          *(fmt_spread(r.ratios(name, "numpy")) for name in OURS),
                          *(fmt_spread(r.ratios(name, "torch")) for name in OURS)])
        fault_rows.append([shape, dtype, *(fmt_faults(r.timings.get(name))
                                          for name in ("numpy", *OURS, "torch")),
                           *(fmt_count(r.alone.get(name)) for name in ("numpy", *OURS))])
        m = r.memory
        memory_rows.append([shape, dtype, fmt_bytes(m["numpy"]),
                            *(fmt_bytes(m[name]) for name in OURS),
                            *(fmt_ratio(m[name], m["numpy"]) for name in OURS)])
    print_table(f"time per step (best run; median over {LAYOUTS} heap layouts, ratios with "
                f"their lowest-highest)",
                ["network", "dtype", "numpy (floor)", "modules", "by hand", "torch",
                 "modules / numpy", "by hand / numpy", "modules / torch", "by hand / torch"],
                time_rows, left_columns=2)
    print_table("minor page faults per step (median run): interleaved as timed | each alone",
                ["network", "dtype", "numpy", "modules", "by hand", "torch", "| numpy alone",
                 "modules alone", "by hand alone"], fault_rows, left_columns=2)
    print_table("peak memory of one step, above the parameters and data",
                ["network", "dtype", "numpy", "modules", "by hand", "modules / numpy",
                 "by hand / numpy"], memory_rows, left_columns=2)

    def vs(name: str, baseline: str) -> Callable[[Result], float | None]:
        def ratio(r: Result) -> float | None:
            found = r.ratios(name, baseline)
            return None if found is None else statistics.median(found)
        return ratio

    def memory_ratio(r: Result) -> float:
        return r.memory["modules"] / r.memory["numpy"]

    targets = []
    for size in ("medium", "large"):
        for name in OURS:
            met, numbers = ratios(results, size, vs(name, "numpy"), TIME_TARGET,
                                  f"{name} / numpy")
            targets.append(Target(f"{size}, {name}: a step at most {TIME_TARGET:.2f}x the "
                                  f"NumPy floor's time", met, numbers))
    met, numbers = ratios(results, "tiny", vs("modules", "torch"), TORCH_TARGET,
                          "modules / torch")
    targets.append(Target(f"tiny, modules: a step at most {TORCH_TARGET:.1f}x PyTorch's time",
                          met, numbers))
    for size in SIZES:
        met, numbers = ratios(results, size.name, memory_ratio, MEMORY_TARGET,
                              "peak memory modules / numpy")
        targets.append(Target(f"{size.name}, modules: peak memory of a step at most "
                              f"{MEMORY_TARGET:.1f}x the NumPy step's", met, numbers))
    print_targets(targets)


def main() -> None:
    if len(sys.argv) > 1:  # a child process (run_child): results as JSON
        size, dtype, what = next(s for s in SIZES if s.name == sys.argv[1]), *sys.argv[2:]
        if what in ("numpy", *OURS):
            print(json.dumps(faults_alone(size, dtype, what)))
            return
        r = measure(size, dtype)
        print(json.dumps({"sanity": r.sanity, "memory": r.memory,
                          "timings": {k: asdict(v) for k, v in r.timings.items()}}))
        return
    begin("bench_mlp_step: one MLP training step (forward, cross-entropy, backward, "
          "SGD update)", f"best of {REPEAT} runs per engine, gc on, one process per network "
          "and dtype")
    torch = optional_import("torch", "the PyTorch comparison")
    if torch is not None:
        fewer = "".join(f", {s.torch_threads} for {s.name}" for s in SIZES if s.torch_threads)
        print(f"torch {torch.__version__} eager CPU on {torch.get_num_threads()} thread(s)"
              f"{fewer}")
    results = {(size.name, dtype): measure_in_child(size, dtype)
               for size in SIZES for dtype in DTYPES}
    report(results)


if __name__ == "__main__":
    main()

"""What watching training costs: a full training step of the medium MLP (784-256-128-10,
batch 128) with a ``diagnostics.Monitor`` attached, against the same step without it.

The step is ``bench_mlp_step``'s (the modules step: ``nn.MLP``, ``F.cross_entropy``,
``backward(intermediate_grads=False, retain_graph=False)`` as ``fit`` does, and the SGD
update of every parameter), built by that script's ``WithModules``; its NumPy floor is
``NumpyStep``. The monitored steps run the same step inside ``with Monitor(model,
every=k)`` and call ``monitor.step()`` after the update, as a loop of your own would:
every ``k``-th step records each ReLU layer's mean, std, dead units and output (for the
histogram), copies the weights before the update and measures each parameter's gradient
norm and update/weight ratio.

Each engine has its own copy of the same initial weights. Times are the best of
``REPEAT`` runs of ``STEPS`` consecutive steps, the four engines interleaved run by run,
garbage collector on, default environment. The ratios are monitored / unmonitored.

Run: ``python benchmarks/bench_monitor.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import numpy as np
from _timing import Target, begin, fmt_ratio, fmt_time, measure_each, print_table, print_targets
from bench_mlp_step import SEED, SIZES, NumpyStep, WithModules

from tinygrad_edu.diagnostics import Monitor

REPEAT = 21
STEPS = 20  # consecutive steps per timed run: two monitored steps with every=10
DTYPES = ("float32", "float64")
TARGETS = {1: 1.5, 10: 1.1}  # every -> the most a monitored step may cost, x unmonitored


class Monitored:
    """The modules step with a Monitor attached, recording every ``every``-th step."""

    def __init__(self, engine: WithModules, every: int) -> None:
        self.engine = engine
        self.monitor = Monitor(engine.model, every=every).attach()

    def step(self) -> float:
        loss = self.engine.step()
        self.monitor.step()
        return loss


def measure(dtype: str) -> dict[str, float]:
    """Best seconds per step of each engine, for the medium network in ``dtype``."""
    size = next(s for s in SIZES if s.name == "medium")
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((size.batch, size.widths[0])).astype(dtype)
    y = rng.integers(0, size.widths[-1], size.batch)
    plain = WithModules(size, dtype, X, y)
    engines = {"numpy": NumpyStep(plain.layers(), X, y), "unmonitored": plain,
               **{f"every={k}": Monitored(WithModules(size, dtype, X, y), k)
                  for k in TARGETS}}
    for engine in engines.values():  # warm up, and every engine's loss is finite
        if not np.isfinite(engine.step()):
            raise RuntimeError(f"medium {dtype}: a step's loss is not finite")
    timings = measure_each([e.step for e in engines.values()], number=STEPS, repeat=REPEAT)
    return {name: t.best for name, t in zip(engines, timings, strict=True)}


def main() -> None:
    begin("bench_monitor: a medium MLP training step with and without a diagnostics.Monitor",
          f"best of {REPEAT} interleaved runs of {STEPS} steps, gc on")
    results = {dtype: measure(dtype) for dtype in DTYPES}
    rows = [[dtype, *(fmt_time(t[name]) for name in t),
             *(fmt_ratio(t[f"every={k}"], t["unmonitored"]) for k in TARGETS)]
            for dtype, t in results.items()]
    names = list(next(iter(results.values())))
    print_table("time per step (784-256-128-10, batch 128, update included)",
                ["dtype", *names, *(f"every={k} / unmonitored" for k in TARGETS)], rows)
    targets = []
    for k, limit in TARGETS.items():
        ratios = {d: t[f"every={k}"] / t["unmonitored"] for d, t in results.items()}
        targets.append(Target(f"a monitored step (every={k}) at most {limit:.2f}x an "
                              f"unmonitored one", all(r <= limit for r in ratios.values()),
                              ", ".join(f"{d} {r:.2f}x" for d, r in ratios.items())))
    print_targets(targets)


if __name__ == "__main__":
    main()

"""``Monitor``: watch a network's activations, gradients and updates while it trains.

Forward hooks on the activation modules record each layer's output; at the end of a
step (``fit``'s ``on_batch_end``, or ``monitor.step()`` in a loop of your own) the
parameters' gradients and the update each one just took are read. Nothing the training
computes is changed: the hooks return nothing and draw no random numbers.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import nn
from .._checks import integer
from ..autograd import is_grad_enabled
from ..nn.module import Module
from ..ops import kernels
from ..value import Value

# The activations whose units can die (input <= 0 for every example: no gradient flows)
# and those that saturate, with the output range counted as saturated.
RELU_FAMILY = (nn.ReLU, nn.LeakyReLU, nn.ReLU6, nn.ELU, nn.CELU, nn.SELU, nn.PReLU, nn.RReLU)
SATURATING = (nn.Tanh, nn.Sigmoid)
OTHER_ACTIVATIONS = (nn.GELU, nn.SiLU, nn.Mish, nn.Softplus, nn.Softsign, nn.Hardtanh,
                     nn.Hardsigmoid, nn.Hardswish, nn.LogSigmoid, nn.Tanhshrink,
                     nn.Softshrink, nn.Hardshrink, nn.Threshold, nn.Maxout)

# Healthy ranges: beyond them a warning names the layer (or parameter).
DEAD_LIMIT = 0.5  # fraction of dead units
SATURATED_LIMIT = 0.5  # fraction of saturated activations
RATIO_RANGE = (1e-4, 1e-2)  # update / weight, the lectures' ~1e-3 with a decade each way
SCALE_LIMIT = 10.0  # activation std from one layer to the next, either way
ZERO_NORM = 1e-12  # a weight norm below this gives no meaningful update/weight ratio


# ----------------------------------------------------------------------------------------
# Dead and saturated units: the one definition (the graph views count them with it too)
# ----------------------------------------------------------------------------------------

TANH_SATURATION = 0.99  # |tanh| above this is saturated
SIGMOID_RANGE = (0.01, 0.99)  # a sigmoid output outside it is saturated


def _units_only(a: np.ndarray, op: str) -> tuple[int, ...]:
    """The axes of ``a`` other than its units' (axis 1): the examples and, for an image,
    the positions of each channel."""
    if a.ndim < 2:
        raise ValueError(f"{op}: the activation must have an examples axis and a units "
                         f"axis (ndim >= 2); got shape {a.shape}")
    return (0, *range(2, a.ndim))


def dead_units(x: np.ndarray) -> int:
    """How many units of a ReLU-family layer are dead, from the layer's input ``x``:
    a unit (axis 1: a feature of ``(N, F)``, a channel of ``(N, C, H, W)``) is dead when
    its input is <= 0 for every example (and every position), so no gradient flows
    through it."""
    return int(np.count_nonzero((x <= 0).all(axis=_units_only(x, "dead_units"))))


def is_saturated(a: np.ndarray, kind: str) -> np.ndarray:
    """Where a tanh (``kind="tanh"``: |a| > 0.99) or sigmoid (``"sigmoid"``: a outside
    [0.01, 0.99]) output ``a`` is saturated: its local gradient is nearly 0 there."""
    if kind == "tanh":
        return np.abs(a) > TANH_SATURATION
    if kind == "sigmoid":
        low, high = SIGMOID_RANGE
        return (a < low) | (a > high)
    raise ValueError(f"is_saturated: kind must be 'tanh' or 'sigmoid'; got {kind!r}")


def saturated_units(a: np.ndarray, kind: str) -> int:
    """How many units (axis 1, as in ``dead_units``) of a tanh or sigmoid layer's output
    ``a`` are saturated for every example (and every position)."""
    return int(np.count_nonzero(is_saturated(a, kind).all(axis=_units_only(
        a, "saturated_units"))))


@dataclass
class LayerRecord:
    """One monitored step of one activation layer. ``dead`` is the number of units whose
    input was <= 0 for every example of the batch (ReLU family; None otherwise);
    ``saturated`` the fraction of outputs in the saturated range (tanh: |a| > 0.99,
    sigmoid: outside [0.01, 0.99]; None otherwise); ``scale`` this layer's std over the
    previous layer's (the network's input for the first)."""

    step: int
    mean: float
    std: float
    units: int
    dead: int | None
    saturated: float | None
    scale: float | None


@dataclass
class ParamRecord:
    """One monitored step of one parameter: the gradient's and the weight's norms and
    ||delta w|| / ||w|` around the optimizer's step (None when ||w|| was ~0, so no ratio
    means anything)."""

    step: int
    grad_norm: float | None
    weight_norm: float
    ratio: float | None


@dataclass
class _Warning:
    name: str
    what: str
    first_step: int
    steps: int
    worst: float
    text: str


def _badness(what: str, value: float) -> float:
    """How far from healthy a warned value is (larger is worse), to keep the worst."""
    return -value if what in ("shrinks", "ratio low") else value


def _kind(module: Module) -> str | None:
    if isinstance(module, RELU_FAMILY):
        return "relu"
    if isinstance(module, nn.Tanh):
        return "tanh"
    if isinstance(module, nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, OTHER_ACTIVATIONS):
        return "other"
    return None


def _rows(a: np.ndarray) -> np.ndarray:
    """An activation as (examples, units)."""
    return a.reshape(len(a), -1) if a.ndim >= 2 else a.reshape(-1, 1)


def _norm(a: np.ndarray) -> float:
    flat = a.reshape(-1)
    return math.sqrt(np.dot(flat, flat))


def _mean_std(flat: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation, as E[x^2] - E[x]^2 from a sum and a dot product (two
    passes that allocate nothing); where that difference cancels (a spread tiny next to
    the mean, e.g. sigmoid outputs all near 0.5), NumPy's std from the deviations."""
    n = flat.size
    mean = float(flat.sum()) / n
    variance = float(np.dot(flat, flat)) / n - mean * mean
    if variance <= 1e-6 * mean * mean:
        return mean, float(flat.std())
    return mean, float(np.sqrt(variance))


def _units_alike(rows: np.ndarray, tolerance: float) -> bool:
    """Whether in every example (row) all units compute the same value, to ``tolerance``.

    The first row as a rule tells units that differ, and then the rest is not read.
    """
    if float(np.ptp(rows[0])) > tolerance:
        return False
    return float((rows.max(axis=1) - rows.min(axis=1)).max()) <= tolerance


def _copy_into(buffer: np.ndarray | None, array: np.ndarray) -> np.ndarray:
    """``array`` copied into ``buffer`` when it fits, else into a new array, aligned as the
    parameters are (``kernels.aligned_copy``): reusing the same memory every step spares
    the allocator (and the page faults of fresh memory)."""
    if buffer is None or buffer.shape != array.shape or buffer.dtype != array.dtype:
        return kernels.aligned_copy(array, array.dtype)
    np.copyto(buffer, array)
    return buffer


class Monitor:
    """Record, per activation layer and per parameter, every ``every``-th training step:

    - each activation layer's output mean, std and latest histogram; dead units (ReLU
      family: input <= 0 for the whole batch) and saturated outputs (tanh, sigmoid);
      its std over the previous layer's;
    - each parameter's gradient norm and update/weight ratio ||delta w|| / ||w||.

    Use it around training and pass it to ``fit`` as ``on_batch_end``::

        with Monitor(model) as monitor:
            fit(model, loss_fn, optimizer, data, on_batch_end=monitor)
        print(monitor.table())
        print(monitor.warnings)

    In a loop of your own, call ``monitor.step()`` right after ``optimizer.step()``.
    Only training forwards are recorded (``model.training`` and grad mode on). The time
    series keep the last ``keep`` records (a deque: memory stays bounded however long
    training runs). ``warnings`` lists, with the layer's or parameter's name, each value
    that left its healthy range: dead > 50%, saturated > 50%, update/weight ratio outside
    [1e-4, 1e-2] (weight matrices only: biases start at zero), an activation std more
    than 10x smaller or larger than the previous layer's, and units that are all alike.
    """

    def __init__(self, model: Module, every: int = 1, keep: int = 1000, bins: int = 30) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"Monitor: model must be a Module; got {type(model).__name__}")
        self.model = model
        self.every = integer("Monitor", "every", every)
        self.keep = integer("Monitor", "keep", keep)
        self.bins = integer("Monitor", "bins", bins)
        self.layers: dict[str, deque[LayerRecord]] = {}
        self.params: dict[str, deque[ParamRecord]] = {}
        self.latest: dict[str, np.ndarray] = {}  # each layer's last recorded output
        self._kinds = {name: kind for name, m in model.named_modules()
                       if (kind := _kind(m)) is not None}
        self._named = list(model.named_parameters())
        self._warnings: dict[tuple[str, str], _Warning] = {}
        self._handles: list[Any] = []  # the model's hook, while attached
        self._layer_handles: list[Any] = []  # the activation layers' hooks (_watch_layers)
        self._count = 0  # steps seen
        self._saved: list[np.ndarray | None] = [None] * len(self._named)  # weights before
        self._weight_norms: list[float] = []  # ... and their norms
        self._armed = False  # the weights of the current step are saved
        self._pending: list[tuple[str, LayerRecord]] = []
        self._input_std: float | None = None

    # ------------------------------------------------------------------------------------
    # Attaching
    # ------------------------------------------------------------------------------------

    def attach(self) -> Monitor:
        """Put the forward hooks on (``with Monitor(...)`` does it); returns self."""
        if not self._handles:
            self._handles.append(self.model.register_forward_hook(self._on_model))
            self._watch_layers(self._count % self.every == 0)
        return self

    def detach(self) -> None:
        """Take the hooks off; what was recorded stays."""
        self._watch_layers(False)
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _watch_layers(self, on: bool) -> None:
        """Hook the activation layers for a step that records (``on``), and unhook them for
        one that does not: a hooked layer runs on its own, and ``nn.MLP`` runs the layers
        between hooks as one op, so the steps in between run as fast as unmonitored."""
        if on and not self._layer_handles:
            self._layer_handles = [module.register_forward_hook(self._layer_hook(name))
                                   for name, module in self.model.named_modules()
                                   if name in self._kinds]
        elif not on:
            for handle in self._layer_handles:
                handle.remove()
            self._layer_handles = []

    def __enter__(self) -> Monitor:
        return self.attach()

    def __exit__(self, *exc: Any) -> None:
        self.detach()

    def _due(self) -> bool:
        return self._count % self.every == 0 and self.model.training and is_grad_enabled()

    def _layer_hook(self, name: str) -> Any:
        kind = self._kinds[name]

        def hook(module: Module, inputs: tuple, output: Any) -> None:
            if isinstance(output, Value) and self._due():
                self._record_layer(name, kind, inputs, output.data)
        return hook

    def _on_model(self, module: Module, inputs: tuple, output: Any) -> None:
        """After the model's forward, before backward and the optimizer's step: keep the
        weights, to measure the update the step makes."""
        if self._due() and not self._armed:
            self._saved = [_copy_into(saved, p.data)
                           for saved, (_, p) in zip(self._saved, self._named)]
            # each copy's norm now, while the copy is still in the cache
            self._weight_norms = [_norm(saved) for saved in self._saved]
            self._armed = True
            x = inputs[0] if inputs else None
            data = x.data if isinstance(x, Value) else x
            self._input_std = (_mean_std(data.reshape(-1))[1]
                               if isinstance(data, np.ndarray) and data.size else None)

    def _record_layer(self, name: str, kind: str, inputs: tuple, a: np.ndarray) -> None:
        rows = _rows(a)
        n = rows.size
        flat = rows.reshape(-1)
        mean, std = _mean_std(flat)
        dead = saturated = None
        if kind == "relu":
            x = inputs[0].data if isinstance(inputs[0], Value) else np.asarray(inputs[0])
            dead = dead_units(x if x.ndim >= 3 else _rows(x))  # an image's unit: a channel
        elif kind in ("tanh", "sigmoid"):
            saturated = float(np.count_nonzero(is_saturated(flat, kind))) / n
        self.latest[name] = _copy_into(self.latest.get(name), rows)
        units = a.shape[1] if a.ndim >= 3 else rows.shape[1]
        self._pending.append((name, LayerRecord(self._count, mean, std, units, dead,
                                                saturated, None)))

    # ------------------------------------------------------------------------------------
    # The end of a step
    # ------------------------------------------------------------------------------------

    def __call__(self, step: int, loss: float, lr: float) -> None:
        """``fit``'s ``on_batch_end``: ``fit(..., on_batch_end=monitor)``."""
        self.step()

    def step(self) -> None:
        """Record the step that just ended: call it right after ``optimizer.step()``."""
        if not self._handles:
            raise RuntimeError("Monitor.step: the monitor is not attached, so it saw no "
                               "forward pass; use `with Monitor(model) as monitor:` around "
                               "training, or monitor.attach()")
        step = self._count
        self._count += 1
        self._watch_layers(self._count % self.every == 0)  # for the next step
        if not self._armed:  # not a monitored step (or no training forward ran)
            self._pending = []
            return
        previous = self._input_std
        for name, record in self._pending:
            record.scale = record.std / previous if previous else None
            previous = record.std
            self.layers.setdefault(name, deque(maxlen=self.keep)).append(record)
            self._check_layer(name, record)
        for (name, p), saved, weight in zip(self._named, self._saved, self._weight_norms):
            g = p.grad.data if isinstance(p.grad, Value) else p.grad
            grad = None if g is None else _norm(np.asarray(g))
            np.subtract(p.data, saved, out=saved)  # the update, in the saved copy's memory
            ratio = None if weight < ZERO_NORM else _norm(saved) / weight
            record = ParamRecord(step, grad, weight, ratio)
            self.params.setdefault(name, deque(maxlen=self.keep)).append(record)
            if ratio is not None and p.data.ndim >= 2:
                low, high = RATIO_RANGE
                if ratio < low:
                    self._warn(name, "ratio low", step, ratio, f"update/weight ratio {{:.1e}} "
                               f"below {low:.0e} (learning rate too low)")
                elif ratio > high:
                    self._warn(name, "ratio high", step, ratio, f"update/weight ratio "
                               f"{{:.1e}} above {high:.0e} (learning rate too high)")
        self._pending, self._armed = [], False

    def _check_layer(self, name: str, r: LayerRecord) -> None:
        if r.dead is not None and r.dead > DEAD_LIMIT * r.units:
            self._warn(name, "dead", r.step, r.dead / r.units,
                       f"{{:.0%}} of units dead ({r.dead}/{r.units}: input <= 0 for the "
                       f"whole batch)")
        if r.saturated is not None and r.saturated > SATURATED_LIMIT:
            self._warn(name, "saturated", r.step, r.saturated,
                       "{:.0%} of activations saturated")
        if r.scale is not None and not 1 / SCALE_LIMIT <= r.scale <= SCALE_LIMIT:
            way = "shrinks" if r.scale < 1 else "grows"
            self._warn(name, way, r.step, r.scale,
                       f"activation std {way} {{:.3g}}x from the previous layer (vanishing "
                       f"or exploding activations: check the initialization)")
        if r.units > 1 and r.dead != r.units:  # a layer all dead is warned about above
            if _units_alike(self.latest[name], 1e-12 * (1 + r.std)):
                self._warn(name, "symmetric", r.step, float(r.units),
                           "all {:.0f} units compute the same value (symmetric units: "
                           "weights initialized to one constant, e.g. zero)")

    def _warn(self, name: str, what: str, step: int, value: float, text: str) -> None:
        seen = self._warnings.get((name, what))
        if seen is None:
            self._warnings[(name, what)] = _Warning(name, what, step, 1, value, text)
            return
        seen.steps += 1
        if _badness(what, value) > _badness(what, seen.worst):
            seen.worst = value

    # ------------------------------------------------------------------------------------
    # Reading
    # ------------------------------------------------------------------------------------

    @property
    def steps(self) -> int:
        """How many training steps the monitor has seen (monitored or not)."""
        return self._count

    @property
    def warnings(self) -> list[str]:
        """Each value that left its healthy range, once per layer or parameter and kind:
        its name, the worst value, and at how many monitored steps (from which)."""
        return [f"{w.name}: {w.text.format(w.worst)} at {w.steps} monitored step"
                f"{'s' * (w.steps > 1)} from step {w.first_step}"
                for w in self._warnings.values()]

    def histogram(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The counts and bin edges of layer ``name``'s last recorded output."""
        if name not in self.latest:
            raise KeyError(f"Monitor.histogram: no layer {name!r} was recorded; recorded: "
                           f"{list(self.latest)}")
        return np.histogram(self.latest[name], bins=self.bins)

    def table(self) -> str:
        """The last monitored step as two plain-text tables: the activation layers, then
        the parameters."""
        lines = [f"{'layer':<24}{'mean':>9}{'std':>9}{'dead':>10}{'saturated':>11}"
                 f"{'std/prev':>10}"]
        for name, records in self.layers.items():
            r = records[-1]
            label = f"{name} ({type(self._module(name)).__name__})"
            dead = "" if r.dead is None else f"{r.dead}/{r.units}"
            sat = "" if r.saturated is None else f"{r.saturated:.0%}"
            scale = "" if r.scale is None else f"{r.scale:.3g}"
            lines.append(f"{label:<24}{r.mean:>9.3f}{r.std:>9.3f}{dead:>10}{sat:>11}"
                         f"{scale:>10}")
        lines.append("")
        lines.append(f"{'parameter':<24}{'grad norm':>11}{'weight norm':>13}"
                     f"{'update/weight':>15}")
        for name, params in self.params.items():
            p = params[-1]
            grad = "none" if p.grad_norm is None else f"{p.grad_norm:.3g}"
            ratio = "zero weight" if p.ratio is None else f"{p.ratio:.1e}"
            lines.append(f"{name:<24}{grad:>11}{p.weight_norm:>13.3g}{ratio:>15}")
        return "\n".join(lines)

    def _module(self, name: str) -> Module:
        return dict(self.model.named_modules())[name]

    def series(self, name: str, field: str) -> tuple[list[int], list[float | None]]:
        """The steps and values of one recorded quantity of a layer (mean, std, dead,
        saturated, scale) or parameter (grad_norm, weight_norm, ratio)."""
        records = self.layers.get(name) or self.params.get(name)
        if records is None:
            raise KeyError(f"Monitor.series: nothing recorded under {name!r}; layers "
                           f"{list(self.layers)}, parameters {list(self.params)}")
        return [r.step for r in records], [getattr(r, field) for r in records]

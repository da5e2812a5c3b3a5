"""Search spaces: the range each hyperparameter is drawn from, and the scale it is drawn in.

A space is a dict of dimensions, ``{"lr": log_uniform(1e-4, 1e-1), "hidden": choice([32,
64])}``. A learning rate or a regularization strength is drawn in log space: between 1e-4
and 1e-1 each decade (1e-4..1e-3, 1e-3..1e-2, ...) is as likely, where a uniform draw would
put 90% of the trials in the last one.

Each numeric dimension maps its range onto [0, 1] in its scale (``position``); the grid,
``refine`` and the edge warnings are written once in those positions, for every kind.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# The values Optuna can store for a categorical parameter.
_CHOICE_TYPES = (type(None), bool, int, float, str)


def _real(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
            value):
        raise ValueError(f"{owner}: {name} must be a finite number; got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Uniform:
    """A float drawn uniformly between ``low`` and ``high`` (``log``: uniformly in log)."""

    low: float
    high: float
    log: bool = False

    def suggest(self, trial: Any, name: str) -> float:
        """Draw this parameter for an Optuna trial."""
        return trial.suggest_float(name, self.low, self.high, log=self.log)

    def position(self, value: float) -> float:
        """Where ``value`` lies in the range, in this dimension's scale: 0 at ``low``,
        1 at ``high``."""
        scale = math.log if self.log else float
        return (scale(value) - scale(self.low)) / (scale(self.high) - scale(self.low))

    def at(self, position: float) -> float:
        """The value at ``position`` (the inverse of ``position``)."""
        if self.log:
            return math.exp(math.log(self.low) + position * math.log(self.high / self.low))
        return self.low + position * (self.high - self.low)

    def between(self, low: float, high: float) -> Uniform:
        """The same kind of dimension over the positions ``low``..``high`` of this one."""
        return type(self)(self.at(low), self.at(high), self.log)

    def __str__(self) -> str:
        return f"{'log_uniform' if self.log else 'uniform'}({self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class IntUniform(Uniform):
    """An int drawn uniformly from ``low``..``high`` inclusive (``log``: uniformly in log)."""

    low: int
    high: int

    def suggest(self, trial: Any, name: str) -> int:
        return trial.suggest_int(name, self.low, self.high, log=self.log)

    def at(self, position: float) -> int:
        return round(super().at(position))

    def between(self, low: float, high: float) -> IntUniform:
        new_low = math.floor(Uniform.at(self, low) + 1e-9)
        new_high = math.ceil(Uniform.at(self, high) - 1e-9)
        if new_low == new_high:  # a range needs two ints: take a neighbour inside this one
            new_low, new_high = (new_low - 1, new_high) if new_high == self.high else (
                new_low, new_high + 1)
        return IntUniform(new_low, new_high, self.log)

    def __str__(self) -> str:
        return f"int_uniform({self.low}, {self.high}{', log=True' if self.log else ''})"


@dataclass(frozen=True)
class Choice:
    """One of ``options``, each equally likely."""

    options: tuple[Any, ...]

    def suggest(self, trial: Any, name: str) -> Any:
        return trial.suggest_categorical(name, self.options)

    def __str__(self) -> str:
        return f"choice({list(self.options)!r})"


Dimension = Uniform | IntUniform | Choice
Space = dict[str, Dimension]


def uniform(low: float, high: float) -> Uniform:
    """A float drawn uniformly between ``low`` and ``high`` (``low < high``)."""
    low, high = _real("uniform", "low", low), _real("uniform", "high", high)
    if low >= high:
        raise ValueError(f"uniform: low must be < high; got low={low:g}, high={high:g}")
    return Uniform(low, high)


def log_uniform(low: float, high: float) -> Uniform:
    """A float drawn uniformly in log space between ``low`` and ``high``
    (``0 < low < high``): each factor of 10 in the range is as likely. The scale for
    learning rates and regularization strengths."""
    low, high = _real("log_uniform", "low", low), _real("log_uniform", "high", high)
    if low <= 0:
        raise ValueError(f"log_uniform: low must be > 0 (a log scale has no zero or "
                         f"negatives); got low={low:g}. Use uniform(low, high) for a range "
                         f"that includes 0")
    if low >= high:
        raise ValueError(f"log_uniform: low must be < high; got low={low:g}, high={high:g}")
    return Uniform(low, high, log=True)


def int_uniform(low: int, high: int, log: bool = False) -> IntUniform:
    """An int drawn uniformly from ``low`` to ``high`` inclusive (``low < high``);
    ``log=True`` draws it uniformly in log space (``low >= 1``), e.g. for layer widths."""
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"int_uniform: {name} must be an int; got {value!r}")
    if low >= high:
        raise ValueError(f"int_uniform: low must be < high; got low={low}, high={high}")
    if log and low < 1:
        raise ValueError(f"int_uniform: with log=True, low must be >= 1 (a log scale has no "
                         f"zero or negatives); got low={low}")
    return IntUniform(int(low), int(high), bool(log))


def choice(options: Sequence[Any]) -> Choice:
    """One of ``options`` (None, bool, int, float or str values, no repeats), each
    equally likely."""
    return Choice(_options("choice", "options", options))


def _options(owner: str, name: str, options: Any) -> tuple[Any, ...]:
    if isinstance(options, str | bytes) or not isinstance(options, Sequence):
        raise TypeError(f"{owner}: {name} must be a list of values; got {options!r}")
    if len(options) == 0:
        raise ValueError(f"{owner}: {name} is empty; give at least one value")
    for option in options:
        if not isinstance(option, _CHOICE_TYPES):
            raise TypeError(f"{owner}: each value of {name} must be None, a bool, int, float "
                            f"or str (what a study's storage can hold); got {option!r}. Use "
                            f"a name and map it to the object in the objective")
    if len(set(map(repr, options))) != len(options):
        raise ValueError(f"{owner}: the values of {name} must differ from each other; got "
                         f"{list(options)!r}")
    return tuple(options)


def check_space(owner: str, space: Any) -> Space:
    """``space`` after checking that it is a non-empty dict of dimensions by name."""
    if not isinstance(space, dict) or not space:
        raise TypeError(f"{owner}: the space must be a non-empty dict of name -> "
                        f"log_uniform/uniform/int_uniform/choice; got {space!r}")
    for name, dim in space.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"{owner}: each parameter name must be a non-empty str; got "
                            f"{name!r}")
        if not isinstance(dim, Uniform | Choice):
            raise TypeError(f"{owner}: space[{name!r}] must be made with log_uniform, "
                            f"uniform, int_uniform or choice; got {dim!r}")
    return space


def grid_values(owner: str, name: str, values: Any, points: int) -> list[Any]:
    """The values a grid tries for one parameter: a list as given, every option of a
    ``choice``, or ``points`` values of a numeric dimension, each at the centre of one of
    ``points`` equal cells of its range in its scale (so no value sits on an edge)."""
    if isinstance(values, Choice):
        return list(values.options)
    if isinstance(values, Uniform):
        centres = (values.at((i + 0.5) / points) for i in range(points))
        return list(dict.fromkeys(centres))  # an int range may have fewer distinct points
    return list(_options(owner, f"grid[{name!r}]", values))


def refine_dimension(dim: Dimension, best: Sequence[Any]) -> Dimension:
    """``dim`` narrowed to the values ``best`` of the best trials: a choice keeps the
    options they used; a numeric range spans them in its scale, with a margin of a quarter
    of their spread (at least 5% of the range) each side, inside the old range."""
    if isinstance(dim, Choice):
        return Choice(tuple(o for o in dim.options if o in best))
    positions = [dim.position(v) for v in best]
    low, high = min(positions), max(positions)
    margin = max(0.25 * (high - low), 0.05)
    return dim.between(max(0.0, low - margin), min(1.0, high + margin))


def edge_warning(name: str, dim: Dimension, value: Any, edge: float = 0.1) -> str | None:
    """A warning when ``value``, the best one found, lies in the lowest or highest
    ``edge`` (10%) of ``dim``'s range in its scale: the best may lie outside the range."""
    if isinstance(dim, Choice):
        return None
    position = dim.position(value)
    if edge <= position <= 1 - edge:
        return None
    side, where = ("lowest", "below") if position < edge else ("highest", "above")
    scale = " (log scale)" if dim.log else ""
    return (f"{name}: the best value {value:.4g} lies in the {side} {edge:.0%} of its range "
            f"[{dim.low:g}, {dim.high:g}]{scale}; the best may lie outside it, so widen the "
            f"range {where} it and search again")

"""The lectures' early stop as an Optuna pruner: a run whose loss goes NaN or climbs past
3x its first value has a learning rate that is too high, and more epochs will not save it.
"""

from __future__ import annotations

import math

import optuna


class LossExplosionPruner(optuna.pruners.BasePruner):
    """Prune a trial whose last reported loss is not finite, or exceeds ``factor`` times
    the first loss it reported (when that first loss is positive).

    The values the trial reports (``Trial.report``, ``Trial.on_batch_end``) are losses:
    lower is better, whatever the direction of the study's score.
    """

    def __init__(self, factor: float = 3.0) -> None:
        if isinstance(factor, bool) or not isinstance(factor, int | float) or not (
                factor > 1 and math.isfinite(factor)):
            raise ValueError(f"LossExplosionPruner: factor must be a finite number > 1; got "
                             f"{factor!r}")
        self.factor = float(factor)

    def exploded(self, first: float, last: float) -> bool:
        """True when ``last`` is not finite or exceeds ``factor`` times a positive
        ``first``."""
        return not math.isfinite(last) or (first > 0 and last > self.factor * first)

    def explain(self, first: float, last: float, step: int) -> str:
        """Why ``exploded`` stopped a trial whose loss was ``last`` at ``step``."""
        if not math.isfinite(last):
            return f"loss {last} at step {step} is not finite (the learning rate is too high)"
        return (f"loss {last:.4g} at step {step} exceeds {self.factor:g}x its first value "
                f"{first:.4g} (the learning rate is too high)")

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        values = trial.intermediate_values
        if not values:
            return False
        return self.exploded(values[min(values)], values[max(values)])

"""What the objective gets besides its params: the ``Trial``, which reports the training
loss to the study and raises ``optuna.TrialPruned`` when the pruner stops the run."""

from __future__ import annotations

import numbers
import time
from typing import Any

from .storage import require_optuna

# Trial.on_batch_end reports a step's loss to the study at most this often (seconds).
REPORT_SECONDS = 1.0


class Trial:
    """The trial an objective runs: its ``number`` in its ``stage`` and its ``params``.

    Report the training loss as it goes with ``report(loss, step)``, or pass
    ``on_batch_end`` to ``fit``; when the pruner stops the trial (by default, a loss that
    is not finite or is over 3x its first value), the call raises ``optuna.TrialPruned``
    with the reason, and the search records the trial as pruned and goes on. ``optuna``
    is Optuna's own trial, for anything else.
    """

    def __init__(self, optuna_trial: Any, params: dict[str, Any], stage: str) -> None:
        self.optuna, self.params, self.stage = optuna_trial, params, stage
        self.number: int = optuna_trial.number
        self._first: float | None = None
        self._sent: float | None = None  # when on_batch_end last reported

    def report(self, value: float, step: int) -> None:
        """Record the loss ``value`` at ``step``; raise ``optuna.TrialPruned`` if the
        pruner stops the trial."""
        value = _loss(value)
        if self._first is None:
            self._first = value
        self.optuna.report(value, step)
        if self.optuna.should_prune():
            from .pruner import LossExplosionPruner

            pruner = self.optuna.study.pruner
            why = (pruner.explain(self._first, value, step)
                   if isinstance(pruner, LossExplosionPruner) else
                   f"{type(pruner).__name__} stopped it at step {step} (value {value:.4g})")
            raise require_optuna("Trial.report").TrialPruned(why)

    def on_batch_end(self, step: int, loss: float, lr: float) -> None:
        """``fit(..., on_batch_end=trial.on_batch_end)``: watch each step's loss.

        Every step's loss is checked against the default pruner's rule here, but reported
        to the study at most once every ``REPORT_SECONDS`` (and always when it breaks the
        rule): with a database, a write per step would cost more than the step.
        """
        from .pruner import LossExplosionPruner

        pruner = self.optuna.study.pruner
        exploded = (isinstance(pruner, LossExplosionPruner) and self._first is not None
                    and pruner.exploded(self._first, _loss(loss)))
        now = time.monotonic()
        if exploded or self._sent is None or now - self._sent >= REPORT_SECONDS:
            self._sent = now
            self.report(loss, step)


def _loss(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Trial.report: the loss must be a number (a Value's .item()); got "
                        f"{value!r}")
    return float(value)

"""Babysitting the learning process: the lectures' checklist as code.

- Checks before and after training, each returning a ``CheckResult`` whose ``print`` is
  a verdict with the numbers: ``check_initial_loss``, ``check_overfit``, ``verdict``.
- ``lr_find``: the learning-rate range test, with a suggested learning rate.
- ``Monitor``: activations, dead and saturated units, gradient norms and update/weight
  ratios per layer while ``fit`` (or your own loop) trains, with warnings that name the
  layer.

The figures are in ``tinygrad_edu.plots``; docs/babysitting.md walks through them all.
"""

from .checks import CheckResult, check_initial_loss, check_overfit, verdict
from .lr_finder import LRFinderResult, lr_find
from .monitor import LayerRecord, Monitor, ParamRecord

__all__ = [
    "CheckResult",
    "LRFinderResult",
    "LayerRecord",
    "Monitor",
    "ParamRecord",
    "check_initial_loss",
    "check_overfit",
    "lr_find",
    "verdict",
]

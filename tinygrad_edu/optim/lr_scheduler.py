"""Learning-rate schedules: change each parameter group's ``lr`` as training goes on.

Use them as in PyTorch: build the scheduler after the optimizer, and call
``scheduler.step()`` once per epoch, after the epoch's ``optimizer.step()`` calls::

    for epoch in range(epochs):
        train_one_epoch(model, optimizer)
        scheduler.step()

Building a scheduler records each group's starting lr as ``group["initial_lr"]`` (the
*base* lr) and sets the lr of epoch 0. ``get_last_lr()`` gives the lrs now in use.

NOTE: PyTorch's schedules update the lr recursively (``lr ← lr · γ``); the ones here
compute the lr of epoch t from the base lr in closed form (PyTorch's documented closed
forms), so no rounding error builds up over many epochs and loading a state dict puts
the right lr back at once. The two agree: PyTorch's cosine recursion run for 10,000
epochs stays within 1e-12 of the closed form (the tests check it). The price: an lr you
set by hand is replaced at the next ``step()``, and two schedules do not multiply.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from typing import Any

from .._checks import is_int, is_real
from .optimizer import Optimizer, require

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LinearLR",
    "MultiStepLR",
    "ReduceLROnPlateau",
    "StepLR",
]


class _Scheduler:
    """What every schedule shares: the optimizer, its base lrs, and the saved state."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer such as SGD or "
                            f"Adam; got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _groups(self) -> list[dict[str, Any]]:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise RuntimeError(f"{type(self).__name__}: the optimizer has {len(groups)} "
                               f"parameter groups but the scheduler was built for "
                               f"{len(self.base_lrs)}; build the scheduler after adding "
                               f"every group")
        return groups

    def get_last_lr(self) -> list[float]:
        """The lr of each parameter group, as set by the last ``step()``."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (save the optimizer's own state too)."""
        return {k: list(v) if isinstance(v, list) else v
                for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by ``state_dict`` from the same kind of schedule."""
        expected = self.state_dict().keys()
        missing = sorted(expected - state_dict.keys())
        unexpected = sorted(state_dict.keys() - expected)
        if missing or unexpected:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unexpected}; is it another schedule's state?")
        self.__dict__.update({k: list(v) if isinstance(v, list) else v
                              for k, v in state_dict.items()})


class LRScheduler(_Scheduler):
    """Base class of the epoch-indexed schedules: subclasses define ``lr_at``.

    ``last_epoch`` counts the ``step()`` calls (0 right after construction); each step
    sets ``group["lr"] = lr_at(group["initial_lr"], last_epoch)``.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        super().__init__(optimizer)
        self.last_epoch = -1
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The lr at ``epoch`` of a group whose base lr is ``base_lr``: the closed form."""
        raise NotImplementedError(f"{type(self).__name__} must define lr_at()")

    def step(self) -> None:
        """Move to the next epoch and set every group's lr for it."""
        self.last_epoch += 1
        self._apply()

    def _apply(self) -> None:
        groups = self._groups()
        for group, base_lr in zip(groups, self.base_lrs):
            group["lr"] = self.lr_at(base_lr, self.last_epoch)
        self._last_lr = [group["lr"] for group in groups]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state and set the optimizer's lrs to those of the loaded epoch."""
        super().load_state_dict(state_dict)
        self._apply()


class StepLR(LRScheduler):
    """Decay by ``gamma`` every ``step_size`` epochs: ``lr_t = lr₀ γ^⌊t / step_size⌋``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        require(is_int(step_size) and step_size >= 1, "StepLR", "step_size must be an int >= 1",
                step_size)
        require(is_real(gamma) and gamma > 0, "StepLR", "gamma must be a number > 0", gamma)
        self.step_size, self.gamma = step_size, float(gamma)
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """Decay by ``gamma`` at each milestone epoch: ``lr_t = lr₀ γ^(number of milestones
    <= t)``. A milestone listed twice decays twice, as in PyTorch."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int],
                 gamma: float = 0.1) -> None:
        milestones = list(milestones)
        for m in milestones:
            require(is_int(m) and m >= 0, "MultiStepLR", "each milestone must be an int >= 0",
                    milestones)
        require(is_real(gamma) and gamma > 0, "MultiStepLR", "gamma must be a number > 0",
                gamma)
        self.milestones, self.gamma = sorted(milestones), float(gamma)
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """Decay by ``gamma`` every epoch: ``lr_t = lr₀ γ^t``."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        require(is_real(gamma) and gamma > 0, "ExponentialLR", "gamma must be a number > 0",
                gamma)
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the base lr down to ``eta_min`` over ``T_max`` epochs::

        lr_t = η_min + (lr₀ - η_min) (1 + cos(π t / T_max)) / 2

    As in PyTorch there is no restart: past ``T_max`` the same cosine climbs back, to lr₀
    at ``2 T_max``. Stop training at ``T_max`` (or pick ``T_max`` = the number of epochs).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0) -> None:
        require(is_int(T_max) and T_max >= 1, "CosineAnnealingLR", "T_max must be an int >= 1",
                T_max)
        require(is_real(eta_min) and eta_min >= 0, "CosineAnnealingLR",
                "eta_min must be a number >= 0", eta_min)
        self.T_max, self.eta_min = T_max, float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cosine


class LinearLR(LRScheduler):
    """Multiply the base lr by a factor that moves linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` epochs, then stays (a linear warm-up)::

        lr_t = lr₀ (s + (e - s) min(t, total_iters) / total_iters)
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5) -> None:
        require(is_real(start_factor) and 0 < start_factor <= 1, "LinearLR",
                "start_factor must be a number in (0, 1]", start_factor)
        require(is_real(end_factor) and 0 <= end_factor <= 1, "LinearLR",
                "end_factor must be a number in [0, 1]", end_factor)
        require(is_int(total_iters) and total_iters >= 1, "LinearLR",
                "total_iters must be an int >= 1", total_iters)
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = total_iters
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        progress = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)


class ReduceLROnPlateau(_Scheduler):
    """Cut the lr by ``factor`` when a metric has stopped improving; ``step(metric)``.

    Call ``step(val_loss)`` (mode ``"min"``) or ``step(val_accuracy)`` (mode ``"max"``)
    once per epoch. A metric *improves* on the best so far when it beats it by more than
    ``threshold``: relatively (``best (1 - threshold)`` in min mode, ``best (1 +
    threshold)`` in max mode) or absolutely (``best ∓ threshold``). After more than
    ``patience`` epochs in a row without improvement, each group's lr becomes
    ``max(lr · factor, min_lr)`` (skipped when that changes it by ``eps`` or less), and
    the next ``cooldown`` epochs are not counted as bad. ``min_lr`` may be a list, one per
    group. This is PyTorch's rule, step for step.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0,
                 eps: float = 1e-8) -> None:
        name = "ReduceLROnPlateau"
        require(mode in ("min", "max"), name, "mode must be 'min' or 'max'", mode)
        require(threshold_mode in ("rel", "abs"), name, "threshold_mode must be 'rel' or "
                "'abs'", threshold_mode)
        require(is_real(factor) and 0 <= factor < 1, name, "factor must be a number in "
                "[0, 1)", factor)
        require(is_int(patience) and patience >= 0, name, "patience must be an int >= 0", patience)
        require(is_real(threshold) and threshold >= 0, name, "threshold must be a number "
                ">= 0", threshold)
        require(is_int(cooldown) and cooldown >= 0, name, "cooldown must be an int >= 0", cooldown)
        require(is_real(eps) and eps >= 0, name, "eps must be a number >= 0", eps)
        super().__init__(optimizer)
        n = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        require(len(min_lrs) == n, name, f"min_lr must be a number or a list of {n} (one "
                f"per parameter group)", min_lr)
        for value in min_lrs:
            require(is_real(value) and value >= 0, name, "min_lr must be numbers >= 0", min_lr)
        self.mode, self.threshold_mode, self.threshold = mode, threshold_mode, float(threshold)
        self.factor, self.patience, self.cooldown = float(factor), patience, cooldown
        self.min_lrs, self.eps = [float(v) for v in min_lrs], float(eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0

    def _is_better(self, metric: float) -> bool:
        relative = self.threshold_mode == "rel"
        if self.mode == "min":
            bar = self.best * (1 - self.threshold) if relative else self.best - self.threshold
            return metric < bar
        bar = self.best * (1 + self.threshold) if relative else self.best + self.threshold
        return metric > bar

    def step(self, metric: float) -> None:
        """Record this epoch's metric and cut the lrs if it has plateaued."""
        current = float(metric)
        if math.isnan(current):
            raise ValueError(f"ReduceLROnPlateau.step: the metric is NaN at epoch "
                             f"{self.last_epoch + 1}; training has diverged")
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # epochs in the cooldown do not count as bad
        groups = self._groups()
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in groups]

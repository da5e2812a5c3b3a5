"""The ``Optimizer`` base class: parameter groups, the loop over parameters, state dicts.

A subclass gives its default options and writes ``_update``, the rule that moves one
parameter's array given its gradient; everything else -- checking the options, grouping
the parameters, skipping frozen ones and missing gradients, saving and loading -- lives
here, once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._checks import is_real
from ..nn.module import zero_grads
from ..ops import kernels
from ..value import Value

_ndarray = np.ndarray

ParamsT = Iterable[Value] | Iterable[dict[str, Any]]
"""What an optimizer takes: Values (``model.parameters()``) or parameter-group dicts."""


def require(ok: bool, owner: str, what: str, value: Any) -> None:
    """Raise ``ValueError("<owner>: <what>; got <value>")`` unless ``ok``."""
    if not ok:
        raise ValueError(f"{owner}: {what}; got {value!r}")


def _in(low: float, high: float, high_open: bool) -> Callable[[Any], bool]:
    if high_open:
        return lambda v: is_real(v) and low <= v < high
    return lambda v: is_real(v) and low <= v <= high


_NON_NEGATIVE = (lambda v: is_real(v) and v >= 0, "a number >= 0")
_UNIT = (_in(0.0, 1.0, high_open=False), "a number in [0, 1]")
_BETA = _in(0.0, 1.0, high_open=True)

# Every option any optimizer has that can be wrong on its own, with its test and the words
# for the error. (Options that only make sense together, like SGD's nesterov, are checked
# by the optimizer's ``_check_options``.)
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "lr": _NON_NEGATIVE,
    "momentum": _NON_NEGATIVE,
    "weight_decay": _NON_NEGATIVE,
    "eps": _NON_NEGATIVE,
    "lr_decay": _NON_NEGATIVE,
    "initial_accumulator_value": _NON_NEGATIVE,
    "dampening": (is_real, "a number"),
    # NOTE: PyTorch only asks alpha >= 0; above 1 the square average can go negative and
    # the update turns into NaN, so it is refused here.
    "alpha": _UNIT,
    "betas": (lambda v: isinstance(v, (tuple, list)) and len(v) == 2
              and all(_BETA(b) for b in v), "a pair of numbers in [0, 1)"),
}

# Keys a parameter group may hold besides "params" and the optimizer's options:
# learning-rate schedulers record the starting lr there.
_EXTRA_KEYS = ("initial_lr",)


def weight_decayed(grad: np.ndarray, param: np.ndarray, weight_decay: float) -> np.ndarray:
    """``g + λ θ``: L2 weight decay folded into the gradient (a new array when λ ≠ 0)."""
    return grad + weight_decay * param if weight_decay != 0 else grad


@functools.lru_cache(maxsize=64)
def learning_rate(lr: float, dtype: np.dtype) -> np.ndarray:
    """``lr`` as a read-only 0-d array of ``dtype``, kept for reuse by every step with that
    rate: NumPy multiplies a gradient by such an array without converting a Python float
    first, as it does on every ``lr * grad``. The same number in the same dtype: the
    products are the same bits."""
    return kernels.read_only(np.array(lr, dtype))


def buffer(state: dict[str, Any], name: str, like: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """``state[name]``, made on first use as an array shaped like ``like`` full of ``fill``
    (aligned to a cache line, as the parameters: ``kernels.aligned_empty``)."""
    array = state.get(name)
    if array is None:
        array = state[name] = kernels.aligned_empty(like.shape, like.dtype)
        array.fill(fill)
    return array


def grad_array(p: Value) -> np.ndarray:
    """``p.grad`` as an ndarray (after ``backward(create_graph=True)`` it is a Value)."""
    return np.asarray(p.grad)


def module_hint(obj: Any) -> str:
    """Words for the common slip of passing a Module where its parameters are wanted."""
    return " (pass model.parameters())" if hasattr(obj, "parameters") else ""


def _refuse_set(params: Any, owner: str, where: str) -> None:
    if isinstance(params, (set, frozenset)):
        raise TypeError(f"{owner}: {where}params is a set, whose order changes from run to "
                        f"run; pass a list")


def _describe(p: Value, index: int) -> str:
    return f"parameter {index}" + (f" ({p.name!r})" if p.name else "")


class Optimizer:
    """Base class of the optimizers: holds the parameter groups and runs the update rule.

    ``param_groups`` is a list of dicts, one per group: ``"params"`` (a list of Values)
    and every option of the optimizer, filled in from the defaults. Schedulers and you
    may change a group's options between steps (``group["lr"] = 0.01``).
    ``state[p]`` holds the running buffers of parameter ``p`` (momentum, averages, the
    step count), made on its first update.

    A parameter is skipped by ``step()`` while it is frozen (``requires_grad=False``) or
    has no gradient (``.grad is None``); it stays in its group, so unfreezing it later
    resumes training it.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._check_options(self.defaults, "")
        # Keyed by the parameter itself, as PyTorch's optimizer.state[p]: a Value hashes by
        # identity, so two parameters with equal data are still two keys.
        self.state: dict[Value, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        name = type(self).__name__
        if isinstance(params, Value):
            raise TypeError(f"{name}: params must be an iterable of Values or of dicts; got "
                            f"a single Value (wrap it in a list: [{params.name or 'p'}])")
        if not isinstance(params, Iterable) or isinstance(params, (str, dict)):
            raise TypeError(f"{name}: params must be an iterable of Values or of dicts; got "
                            f"{type(params).__name__}{module_hint(params)}")
        _refuse_set(params, name, "")
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not any(isinstance(g, dict) for g in groups):
            # One group; its errors need not say "parameter group 0".
            self._add_group({"params": groups}, "")
            return
        if not all(isinstance(g, dict) for g in groups):
            raise TypeError(f"{name}: params mixes dicts (parameter groups) and Values; give "
                            f"either a list of Values or a list of dicts")
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group: ``{"params": [...], "lr": ..., ...}``; missing options take the
        optimizer's defaults (the fine-tuning pattern: a new head with its own lr)."""
        self._add_group(param_group, f"parameter group {len(self.param_groups)}: ")

    def _add_group(self, param_group: dict[str, Any], where: str) -> None:
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict; got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: {where}a group needs a 'params' entry; got keys "
                             f"{sorted(param_group)}")
        unknown = sorted(set(param_group) - {"params", *self.defaults, *_EXTRA_KEYS})
        if unknown:
            raise ValueError(f"{name}: {where}unknown option(s) {unknown}; {name} has "
                             f"{sorted(self.defaults)}")
        params = self._param_list(param_group["params"], where)
        group = {"params": params, **self.defaults}
        group.update((k, v) for k, v in param_group.items() if k != "params")
        self._check_options(group, where)
        self.param_groups.append(_plain(group))

    def _param_list(self, params: Any, where: str) -> list[Value]:
        name = type(self).__name__
        if isinstance(params, Value):
            params = [params]
        _refuse_set(params, name, where)
        params = list(params)
        if not params:
            raise ValueError(f"{name}: {where}the group has no parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                hint = (" (named_parameters() gives (name, parameter) pairs; pass "
                        "parameters())" if isinstance(p, tuple) else "")
                raise TypeError(f"{name}: {where}parameter {i} is a {type(p).__name__}, not "
                                f"a Value{hint}")
            if not p.is_leaf:
                raise ValueError(f"{name}: {where}{_describe(p, i)} is made by an op (not a "
                                 f"leaf); an optimizer updates leaves such as Parameters")
            if id(p) in seen:
                raise ValueError(f"{name}: {where}{_describe(p, i)} is given twice; each "
                                 f"parameter belongs to one group, once")
            seen.add(id(p))
        return params

    def _check_options(self, options: dict[str, Any], where: str) -> None:
        """Check each option against its rule; subclasses add checks that span options."""
        for key, (test, what) in _RULES.items():
            if key in options:
                require(test(options[key]), type(self).__name__, f"{where}{key} must be {what}",
                        options[key])

    # ------------------------------------------------------------------------------------
    # Stepping
    # ------------------------------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: ``.grad = None`` (``set_to_none=True``,
        PyTorch's default; ``step`` then skips the parameter until a backward gives it a
        gradient), or with ``set_to_none=False`` an array of zeros for each gradient that
        exists (``step`` then still moves parameters by their weight decay and momentum)."""
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    def step(self) -> None:
        """Update every trainable parameter that has a gradient, in place.

        Works on the arrays only (``p.data``, ``p.grad``): no Value is made, so nothing is
        recorded. ``p.data`` keeps its dtype; ``p.grad`` is only read.
        """
        state = self.state
        for group in self.param_groups:
            ready = []
            for p in group["params"]:
                grad = p.grad
                if grad is None or not p.requires_grad:
                    continue
                param = p._data
                # As a rule .grad is an ndarray of the parameter's own shape and dtype (one
                # dtype object per float type): it is used as it is, and only anything else
                # is converted and checked.
                if (type(grad) is not _ndarray or grad.dtype is not param.dtype
                        or grad.shape != param.shape):
                    grad = self._gradient(p, group["params"])
                try:
                    buffers = state[p]
                except KeyError:  # the parameter's first update
                    buffers = state[p] = {}
                ready.append((param, grad, buffers))
            self._update_group(ready, group)

    def _gradient(self, p: Value, params: list[Value]) -> np.ndarray:
        """``p.grad`` as an array of ``p``'s dtype, checked to have its shape (``params``:
        the group ``p`` is in, which numbers it in the error)."""
        grad = grad_array(p)
        if grad.shape != p.data.shape:
            index = next(i for i, q in enumerate(params) if q is p)
            raise ValueError(f"{type(self).__name__}.step: {_describe(p, index)} has "
                             f"shape {p.data.shape} but its grad has shape {grad.shape}")
        return grad.astype(p.data.dtype, copy=False)

    def _update_group(self, ready: list[tuple[np.ndarray, np.ndarray, dict[str, Any]]],
                      group: dict[str, Any]) -> None:
        """Move the parameters of one group that have a gradient: ``ready`` holds each one's
        ``(param, grad, state)``. By default ``_update`` on each; an optimizer may override
        this to read the group's options once for all of them."""
        update = self._update  # looked up once, not per parameter
        for param, grad, buffers in ready:
            update(param, grad, buffers, group)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """Move ``param`` in place; ``grad`` is read-only (it may be shared); ``state`` is
        this parameter's own dict of buffers; ``group`` holds the options."""
        raise NotImplementedError(f"{type(self).__name__} must define _update()")

    # ------------------------------------------------------------------------------------
    # State
    # ------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout, with copies of every array::

            {"state": {index: {"step": 3, "exp_avg": array, ...}, ...},
             "param_groups": [{"lr": 0.001, ..., "params": [0, 1, 2]}, ...]}

        Parameters are numbered across the groups in order, so the state loads into an
        optimizer built the same way over other parameter objects (a fresh model).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {k: _copy(v) for k, v in s.items()}
                 for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the options and buffers saved by ``state_dict`` (arrays are copied and
        cast to each parameter's dtype). The groups must have the same sizes."""
        name = f"{type(self).__name__}.load_state_dict"
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: the state has {len(saved_groups)} parameter groups "
                             f"but the optimizer has {len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            missing = sorted(set(self.defaults) - set(saved))
            if missing:
                raise ValueError(f"{name}: parameter group {i} of the state lacks the "
                                 f"option(s) {missing}; is it another optimizer's state?")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}: parameter group {i} has {len(saved['params'])} "
                                 f"parameters in the state but {len(group['params'])} here")
            self._check_options(saved, f"parameter group {i}: ")
        params = [p for group in self.param_groups for p in group["params"]]
        state: dict[Value, dict[str, Any]] = {}
        for key, buffers in state_dict["state"].items():
            i = int(key)
            if not 0 <= i < len(params):
                raise ValueError(f"{name}: the state has an entry for parameter {i}, but "
                                 f"the optimizer has {len(params)} parameters")
            p = params[i]
            state[p] = {k: _load(v, p, f"{name}: {_describe(p, i)}: {k!r}")
                        for k, v in buffers.items()}
        for saved, group in zip(saved_groups, self.param_groups):
            group.update(_plain({k: v for k, v in saved.items() if k != "params"}))
        self.state = state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _plain(options: dict[str, Any]) -> dict[str, Any]:
    """The numeric options as Python floats: a NumPy float64 ``lr`` must not turn a float32
    parameter's buffers into float64."""
    for key, value in options.items():
        if is_real(value):
            options[key] = float(value)
        elif key == "betas":
            options[key] = tuple(map(float, value))
    return options


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _load(value: Any, p: Value, where: str) -> Any:
    """A saved buffer as a fresh array of ``p``'s dtype and shape (numbers stay numbers)."""
    if not isinstance(value, np.ndarray):
        return value
    if value.shape != p.data.shape:
        raise ValueError(f"{where} has shape {value.shape} in the state but the parameter "
                         f"has shape {p.data.shape}")
    return kernels.aligned_copy(value, p.data.dtype)

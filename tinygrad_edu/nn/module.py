"""``Module`` and ``Parameter``: the containers networks are built from.

A Module finds its parameters, buffers and sub-modules by looking at its attributes:
a ``Parameter``, a ``Module``, or a list, tuple or dict holding them (so micrograd's
``self.layers = [Layer(...), ...]`` works as is). Assigning one also names every
parameter under it by its path in the tree (``layers.0.weight``), so graph views can
label the nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ..autograd import RemovableHandle
from ..value import Value


def check_input_dtype(owner: str, x: Any, expected: np.dtype) -> None:
    """Refuse a floating input of another dtype than the layer's parameters, as PyTorch
    does: NumPy would silently compute a float32 input with float64 weights in float64
    (and a float64 input with float32 weights in float64), so the output's dtype would
    depend on the input's."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "f" and dtype != expected:
        raise TypeError(f"{owner}: the input is {dtype} but the layer's parameters are "
                        f"{expected}; convert the input (Value(x, dtype=np.{expected}) or "
                        f"x.astype(np.{expected})) or build the layer with dtype=np.{dtype}")


def zero_grads(params: Iterable[Value], set_to_none: bool = True) -> None:
    """Forget the gradients: ``.grad = None`` (``set_to_none``, PyTorch's default), or a
    new array of zeros for each gradient that exists (a fresh array, never writing into
    one the engine may share)."""
    if set_to_none:
        for p in params:
            p.grad = None
        return
    for p in params:
        if p.grad is not None:
            p.grad = np.zeros_like(p.data)


class Parameter(Value):
    """A Value that is a learnable weight of a Module: it requires grad, and the module
    tree names it (``layers.0.weight``)."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None,
                 name: str | None = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, name=name)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Value"):]


def _members(name: str, value: Any) -> Iterator[tuple[str, Any]]:
    """The Parameters and Modules directly inside an attribute, with their dotted names."""
    if isinstance(value, (Parameter, Module)):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _members(f"{name}.{i}", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _members(f"{name}.{key}", item)


class Module:
    """Base class of every layer and network: subclass it and define ``forward``.

    ``module(x)`` calls ``forward(x)`` and then any forward hooks. ``training`` says which
    mode the module is in (``train()``/``eval()``); dropout and batch norm read it.
    Buffers (``register_buffer``) are arrays that are saved with the parameters but not
    trained, such as batch norm's running statistics.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_forward_hooks", [])

    def __setattr__(self, name: str, value: Any) -> None:
        if "_buffers" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before "
                               f"assigning attributes in __init__")
        if name in self._buffers:
            self._buffers[name] = self._as_buffer(name, value)
            return
        object.__setattr__(self, name, value)
        for path, member in _members(name, value):
            if isinstance(member, Parameter):
                member.name = path
            else:
                for sub, p in member.named_parameters():
                    p.name = f"{path}.{sub}"

    def __getattr__(self, name: str) -> Any:
        buffers = self.__dict__.get("_buffers", {})
        if name in buffers:
            return buffers[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    # ------------------------------------------------------------------------------------
    # Calling
    # ------------------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # NOTE: a call through ** costs more than one without, even with no keyword
        out = self.forward(*args, **kwargs) if kwargs else self.forward(*args)
        if not self._forward_hooks:
            return out
        for hook in list(self._forward_hooks):
            replaced = hook(self, args, out)
            if replaced is not None:
                out = replaced
        return out

    def register_forward_hook(self, fn: Callable[[Module, tuple, Any], Any]) -> RemovableHandle:
        """Call ``fn(module, inputs, output)`` after every forward; a non-None return
        replaces the output. Returns a handle whose ``remove()`` takes the hook off."""
        self._forward_hooks.append(fn)
        return RemovableHandle(self._forward_hooks, fn)

    # ------------------------------------------------------------------------------------
    # The tree
    # ------------------------------------------------------------------------------------

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules, in the order they were assigned."""
        for name, value in self.__dict__.items():
            for path, member in _members(name, value):
                if isinstance(member, Module):
                    yield path, member

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every module below it, depth first."""
        stack = [(prefix, self)]
        seen: set[int] = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{n}" if name else n, m) for n, m in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted path; a parameter shared by two modules once."""
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, value in module.__dict__.items():
                for path, member in _members(name, value):
                    if isinstance(member, Parameter) and id(member) not in seen:
                        seen.add(id(member))
                        yield (f"{prefix}.{path}" if prefix else path), member

    def parameters(self) -> list[Parameter]:
        """All parameters (a list, so micrograd's ``model.parameters()`` habits work)."""
        return [p for _, p in self.named_parameters()]

    def register_buffer(self, name: str, array: Any) -> None:
        """Keep an array (not trained) that ``state_dict`` saves, e.g. running statistics."""
        if name in self.__dict__:
            raise ValueError(f"register_buffer: {type(self).__name__} already has an "
                             f"attribute {name!r}")
        self._buffers[name] = None if array is None else self._as_buffer(name, array)

    def _as_buffer(self, name: str, value: Any) -> np.ndarray | None:
        if isinstance(value, Value):
            raise TypeError(f"{type(self).__name__}.{name} is a buffer: assign an ndarray, "
                            f"not a Value")
        return None if value is None else np.asarray(value)

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        for prefix, module in self.named_modules():
            for name, array in module._buffers.items():
                if array is not None:
                    yield (f"{prefix}.{name}" if prefix else name), array

    # ------------------------------------------------------------------------------------
    # Modes and gradients
    # ------------------------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and below (dropout drops, batch norm uses batch stats)."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (``False``) or unfreeze every parameter here and below, as PyTorch's
        ``requires_grad_``; returns the module. A frozen parameter gets no gradient and
        optimizers skip it: transfer learning trains a new classifier on frozen
        features this way."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: ``.grad = None`` (PyTorch's default), or
        zeros with ``set_to_none=False`` (see ``zero_grads``)."""
        zero_grads(self.parameters(), set_to_none)

    # ------------------------------------------------------------------------------------
    # State
    # ------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter's and buffer's array, by dotted name."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, b.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True,
                        ) -> tuple[list[str], list[str]]:
        """Copy arrays from ``state`` into the parameters and buffers of the same names.

        With ``strict`` (the default) a missing or unexpected key is an error naming it;
        a shape mismatch always is. Values keep their dtype. Returns the lists of missing
        and unexpected keys.
        """
        params = dict(self.named_parameters())
        buffers = {name: (module, name.rsplit(".", 1)[-1])
                   for prefix, module in self.named_modules()
                   for name in ((f"{prefix}.{b}" if prefix else b) for b in module._buffers)}
        missing = [k for k in [*params, *buffers] if k not in state]
        unexpected = [k for k in state if k not in params and k not in buffers]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys "
                           f"{unexpected}")
        # Every entry is checked before any is copied, so a bad one leaves the module as it was.
        copies: list[tuple[np.ndarray | None, np.ndarray, str]] = []
        for key, value in state.items():
            if key in params:
                target = params[key].data
            elif key in buffers:
                target = buffers[key][0]._buffers[buffers[key][1]]
            else:
                continue
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise TypeError(f"load_state_dict: {key} holds {array.dtype} data "
                                f"({_preview(value)}); expected numbers (a bool, int or "
                                f"float array)")
            if target is not None and array.shape != target.shape:
                raise ValueError(f"load_state_dict: {key} has shape {array.shape} in the "
                                 f"state but {target.shape} in the module")
            copies.append((target, array, key))
        for target, array, key in copies:
            if target is None:  # a buffer not made yet takes the state's array
                module, local = buffers[key]
                module._buffers[local] = array.copy()
            else:
                target[...] = array
        return missing, unexpected

    # ------------------------------------------------------------------------------------
    # Printing
    # ------------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of this module's repr."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _preview(value: Any) -> str:
    """A short repr of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Identity(Module):
    """Returns its input unchanged (no activation, or a placeholder in a Sequential)."""

    def forward(self, x: Any) -> Any:
        return x

"""Which module call made which nodes: the record behind the clustered graph views.

``with trace(model): loss = lossfn(model(x), y)`` hooks every module of ``model`` for the
duration of the block. Each call leaves a ``ModuleCall`` (the module, its dotted path and
the Values it was given) on the op node of every Value it returned, so the record lives
and dies with the graph itself, and ``draw(loss)`` finds it without being told.
The nodes a call made are those reachable from its output but not from its inputs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..autograd import ValueBase
from ..nn.module import Module

_ATTRIBUTE = "_viz_calls"  # on a Function instance (an op node), a list of ModuleCall


@dataclass(frozen=True)
class ModuleCall:
    """One call of a module during a traced forward pass.

    ``path`` is the module's dotted name in the traced tree (``""`` for the root),
    ``inputs`` the Values it was called with. The output is not stored: the record hangs
    on the output's op node, and storing the output there would make a reference cycle.
    """

    module: Module
    path: str
    inputs: tuple[ValueBase, ...]

    @property
    def label(self) -> str:
        """``layers.0: Linear``, or just the class name for the traced root module."""
        kind = type(self.module).__name__
        return f"{self.path}: {kind}" if self.path else kind

    @property
    def description(self) -> str:
        """The label with the module's settings, from its one-line ``repr``: ``0:
        Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))``; just the
        label for a container, whose ``repr`` lists its children over many lines."""
        text = repr(self.module)
        if "\n" in text:
            return self.label
        return f"{self.path}: {text}" if self.path else text


def values_in(obj: Any) -> list[ValueBase]:
    """The Values in a module's inputs or output: a Value, or lists/tuples/dicts of them."""
    found: list[ValueBase] = []
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, ValueBase):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return found


def module_calls(value: ValueBase) -> tuple[ModuleCall, ...]:
    """The traced module calls that returned ``value``, innermost first (a Linear before
    the MLP whose last layer it is). Empty for a leaf or an untraced node."""
    ctx = value._ctx
    return () if ctx is None else tuple(getattr(ctx, _ATTRIBUTE, ()))


@contextlib.contextmanager
def trace(model: Module) -> Iterator[Module]:
    """Record, while the block runs, which module call produced which graph nodes.

    Hooks are put on ``model`` and every module below it, and taken off when the block
    ends (also when it raises). Only Values made inside the block are annotated.
    """
    handles = []

    def make_hook(path: str):
        def hook(module: Module, inputs: tuple, output: Any) -> None:
            call = ModuleCall(module, path, tuple(values_in(inputs)))
            given = {id(v) for v in call.inputs}
            for out in values_in(output):
                # An input handed back unchanged (Identity, Dropout in eval) was not made
                # by this call.
                if out._ctx is not None and id(out) not in given:
                    calls = getattr(out._ctx, _ATTRIBUTE, None)
                    if calls is None:
                        calls = []
                        setattr(out._ctx, _ATTRIBUTE, calls)
                    calls.append(call)
        return hook

    try:
        for path, module in model.named_modules():
            handles.append(module.register_forward_hook(make_hook(path)))
        yield model
    finally:
        for handle in handles:
            handle.remove()

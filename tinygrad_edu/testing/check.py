"""``check_op``: a property test of first and second derivatives in one call."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ..value import Value
from . import strategies as ts
from .gradcheck import gradcheck, gradgradcheck


def _check_arity(fn: Callable[..., Any], count: int) -> None:
    """Catch a domain count that does not match ``fn`` before Hypothesis runs."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: nothing to check
        return
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    if not len(required) <= count <= len(positional):
        raise ValueError(f"check_op: {count} domain(s) given for a function of "
                         f"{len(required)} input(s); give one domain per input")


def check_op(
    fn: Callable[..., Value],
    *domains: ts.Domain,
    shapes: st.SearchStrategy[tuple[tuple[int, ...], ...]] | None = None,
    second_order: bool = True,
    max_examples: int | None = None,
    gap: float | None = None,
    **tolerances: Any,
) -> None:
    """Property-test the gradients of ``fn`` over random inputs; raises on a failure.

    One input is drawn per domain (one ``real()`` input when none is given), with shapes
    from ``shapes`` -- by default mutually broadcastable shapes, 0-d and size-1 axes
    included. For each draw, ``gradcheck`` (and with ``second_order``, ``gradgradcheck``)
    must pass; ``tolerances`` (``eps``, ``atol``, ``rtol``) are passed to them. Hypothesis
    shrinks a failure to a small example and reports it. ``gap`` keeps elements that far
    apart (for ops where ties matter, such as max). Runs under the active Hypothesis
    profile without its deadline; ``max_examples`` overrides its example count::

        def test_softplus():
            check_op(lambda x: (1 + x.exp()).log())
    """
    domains = domains or (ts.real(),)
    _check_arity(fn, len(domains))
    shape_strategy = shapes if shapes is not None else ts.broadcastable_shapes(len(domains))

    @given(st.data())
    def prop(data: st.DataObject) -> None:
        drawn = data.draw(shape_strategy, label="shapes")
        if len(drawn) != len(domains):
            raise ValueError(f"check_op: shapes gave {len(drawn)} shapes for "
                             f"{len(domains)} inputs")
        xs = [Value(data.draw(ts.arrays(s, d, gap=gap), label=f"input {i}"))
              for i, (s, d) in enumerate(zip(drawn, domains))]
        gradcheck(fn, *xs, **tolerances)
        if second_order:
            gradgradcheck(fn, *xs, **tolerances)

    # NOTE: finite differences take a varying few milliseconds per example, so no deadline;
    # everything else comes from the active Hypothesis profile.
    options: dict[str, Any] = {"deadline": None}
    if max_examples is not None:
        options["max_examples"] = max_examples
    settings(**options)(prop)()

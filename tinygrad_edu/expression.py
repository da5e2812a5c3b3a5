"""The expression language of ``tinygrad-edu graph``: parse, check and evaluate a formula
of named scalars with Value ops, never running it as Python.

::

    values = {"x": 2.0, "w": -3.0, "b": 6.88}
    tree, source = parse_expression("tanh(x*w + b)", values)
    leaves = {name: Value(v, name=name) for name, v in values.items()}
    root = evaluate(tree, source, leaves)    # a Value; root.backward() differentiates it

``ast.parse`` turns the text into a syntax tree, and only numbers, the given names,
``+ - * / **``, unary ``-`` and ``+`` and calls of the functions in ``FUNCTIONS`` are
accepted; anything else is an ``ExpressionError`` that points at the column where it is
(``ExpressionError.show`` draws the line with a caret under it). The accepted tree is then
evaluated node by node with an explicit stack, so any depth the parser accepts works, and
each op's result is named by its text (the drawings' boxes read ``x*w``, ``x*w + b``).
"""

from __future__ import annotations

import ast
import math
import operator
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from . import maximum, minimum
from .autograd import ValueBase
from .value import Value
from .viz.dot import fmt

# name -> (number of arguments, how to apply it). Each is a differentiable op of Value.
FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "tanh": (1, lambda a: a.tanh()),
    "exp": (1, lambda a: a.exp()),
    "log": (1, lambda a: a.log()),
    "relu": (1, lambda a: a.relu()),
    "sigmoid": (1, lambda a: a.sigmoid()),
    "sqrt": (1, lambda a: a.sqrt()),
    "sin": (1, lambda a: a.sin()),
    "cos": (1, lambda a: a.cos()),
    "abs": (1, lambda a: a.abs()),
    "max": (2, maximum),
    "min": (2, minimum),
}
BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow,
}
# Operators the grammar has but the language refuses, with how they are written.
OTHER_OPERATORS: dict[type[ast.AST], str] = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Invert: "~", ast.Not: "not",
}
# What to call a refused piece of syntax in the error message.
SYNTAX_NAMES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Slice: "slice",
    ast.Lambda: "lambda", ast.Compare: "comparison", ast.BoolOp: "and/or",
    ast.IfExp: "conditional expression", ast.NamedExpr: "assignment expression",
    ast.List: "list", ast.Tuple: "tuple", ast.Set: "set", ast.Dict: "dict",
    ast.ListComp: "comprehension", ast.SetComp: "comprehension",
    ast.DictComp: "comprehension", ast.GeneratorExp: "generator expression",
    ast.JoinedStr: "f-string", ast.Starred: "starred argument", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield",
}
SUPPORTED = "numbers, names given with --set, + - * / **, unary - and +, and the functions " \
    + ", ".join(f"{name}({', '.join('ab'[:n])})" for name, (n, _) in FUNCTIONS.items())
ALLOWED = f"An expression may use {SUPPORTED}."
FUNCTION_LIST = f"The functions are {', '.join(FUNCTIONS)}."
# Characters of the expression an error message shows: a long expression is cut around
# the place of the error, so the message stays readable.
SHOWN = 76


def shorten(text: str, width: int = 60) -> str:
    """``text`` itself if it has at most ``width`` characters, else its start and its end
    around ``...``, for echoing user input in a message."""
    if len(text) <= width:
        return text
    half = (width - 3) // 2
    return f"{text[:half]}...{text[-half:]}"


class ExpressionError(ValueError):
    """A problem with the expression. When it is at a place, ``col`` and ``end`` are
    0-based character offsets on line ``lineno`` (1-based); ``show`` then draws the line
    with a caret under the piece, followed by ``hint`` (what would be accepted there)."""

    def __init__(self, message: str, lineno: int | None = None, col: int = 0,
                 end: int | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.lineno, self.col, self.end, self.hint = lineno, col, end, hint

    def show(self, source: str) -> str:
        """The message, where it is, the offending line (cut to ``SHOWN`` characters
        around the place, with ``...``), a caret (``^~~~``) under the piece, the hint."""
        if self.lineno is None:
            return str(self)
        lines = source.splitlines() or [""]
        line = lines[self.lineno - 1] if 1 <= self.lineno <= len(lines) else ""
        col = max(0, min(self.col, len(line)))  # past the end: the caret follows the text
        end = max(col + 1, min(self.end if self.end is not None else col + 1, len(line)))
        where = f"line {self.lineno}, column {col + 1}" if len(lines) > 1 else \
            f"column {col + 1}"
        start = 0 if len(line) <= SHOWN else min(max(0, col - SHOWN // 2), len(line) - SHOWN)
        stop = start + SHOWN
        before = "..." if start else ""
        after = "..." if stop < len(line) else ""
        # NOTE: a tab is shown as one space, so the caret stays under its character.
        shown = line[start:stop].replace(chr(9), " ")
        caret = " " * (len(before) + col - start) + "^" + "~" * (min(end, stop) - col - 1)
        hint = "\n" + textwrap.fill(self.hint, 88) if self.hint else ""
        return f"{self} at {where}:\n  {before}{shown}{after}\n  {caret}{hint}"


# ---------------------------------------------------------------------------------------
# Reading the expression
# ---------------------------------------------------------------------------------------

class Source:
    """The expression text, with node positions converted to character columns."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines() or [""]
        self._ascii = [line.isascii() for line in self.lines]

    def char_col(self, lineno: int, byte_col: int) -> int:
        """ast's column offsets count UTF-8 bytes; the caret needs characters."""
        if not 1 <= lineno <= len(self.lines):
            return 0
        if self._ascii[lineno - 1]:  # one byte per character: no need to decode
            return byte_col
        encoded = self.lines[lineno - 1].encode("utf-8")[:byte_col]
        return len(encoded.decode("utf-8", errors="ignore"))

    def span(self, node: ast.AST) -> tuple[int, int, int]:
        """(line, first column, end column on that line) of ``node``."""
        lineno = node.lineno
        col = self.char_col(lineno, node.col_offset)
        if node.end_lineno == lineno:
            end = self.char_col(lineno, node.end_col_offset)
        else:
            end = len(self.lines[lineno - 1])
        return lineno, col, end

    def error(self, message: str, node: ast.AST, hint: str = "") -> ExpressionError:
        return ExpressionError(message, *self.span(node), hint=hint)

    def segment(self, node: ast.AST) -> str:
        """The node's source text with runs of whitespace (newlines too) made one space."""
        # NOTE: sliced from the lines already split, since ast.get_source_segment splits
        # the whole text again on every call, which is slow for each node of a long one.
        first, last = node.lineno, node.end_lineno or node.lineno
        start = self.char_col(first, node.col_offset)
        stop = self.char_col(last, node.end_col_offset or 0)
        if first == last:
            text = self.lines[first - 1][start:stop]
        else:
            text = "\n".join([self.lines[first - 1][start:], *self.lines[first:last - 1],
                              self.lines[last - 1][:stop]])
        return " ".join(text.split())

    def operator_error(self, node: ast.BinOp, symbol: str) -> ExpressionError:
        """An error pointing at ``symbol`` between the operands (else at the whole node)."""
        message = f"unsupported operator {symbol} (supported: + - * / **)"
        right_line, right_col, _ = self.span(node.right)
        if node.left.end_lineno == right_line:
            left_end = self.char_col(right_line, node.left.end_col_offset)
            found = self.lines[right_line - 1].find(symbol, left_end, right_col)
            if found >= 0:
                return ExpressionError(message, right_line, found, found + len(symbol))
        return self.error(message, node)


def _constant(node: ast.Constant, source: Source) -> float:
    """A numeric literal as a float; any other literal is an error."""
    value = node.value
    if isinstance(value, bool) or value is None or value is Ellipsis:
        raise source.error(f"unsupported constant {value!r} (only numbers)", node)
    if isinstance(value, str | bytes):
        raise source.error("unsupported syntax (string)", node)
    if isinstance(value, complex):
        raise source.error(f"unsupported constant {shorten(source.segment(node))} (complex "
                           f"numbers are not supported)", node)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise source.error(f"the number {shorten(source.segment(node))} is too large for a "
                           f"float", node)
    return number


def _operands(node: ast.AST) -> list[ast.AST]:
    """The child expressions an accepted node is computed from, left to right."""
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _check_node(node: ast.AST, source: Source, names: dict[str, Any]) -> list[ExpressionError]:
    """The problems of ``node`` itself (not its operands), as ExpressionErrors."""
    if isinstance(node, ast.Constant):
        try:
            _constant(node, source)
        except ExpressionError as e:
            return [e]
        return []
    if isinstance(node, ast.Name):
        if node.id in names:
            return []
        if node.id in FUNCTIONS:
            return [source.error(f"{node.id} is a function: call it, as in {node.id}(x)", node)]
        known = f" (the names set are {shorten(', '.join(names))})" if names else ""
        name = shorten(node.id)
        return [source.error(f"unknown name {name!r}", node,
                             f"Give its value with --set {name}=NUMBER{known}.")]
    if isinstance(node, ast.BinOp):
        if type(node.op) in BINARY:
            return []
        return [source.operator_error(node, OTHER_OPERATORS.get(type(node.op), "?"))]
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub | ast.UAdd):
            return []
        symbol = OTHER_OPERATORS.get(type(node.op), "?")
        line, col, _ = source.span(node)
        return [ExpressionError(f"unsupported operator {symbol} (supported: unary - and +)",
                                line, col, col + len(symbol))]
    if isinstance(node, ast.Call):
        return _check_call(node, source, names)
    kind = SYNTAX_NAMES.get(type(node), type(node).__name__)
    return [source.error(f"unsupported syntax ({kind})", node, ALLOWED)]


def _check_call(node: ast.Call, source: Source, names: dict[str, Any]) -> list[ExpressionError]:
    """A call must name a function of ``FUNCTIONS`` and pass it the right number of
    positional arguments."""
    problems = []
    func = node.func
    if not isinstance(func, ast.Name):
        kind = SYNTAX_NAMES.get(type(func), "a call of an expression")
        problems.append(source.error(f"unsupported syntax ({kind})", func, FUNCTION_LIST))
    elif func.id in names:
        problems.append(source.error(f"{shorten(func.id)} is a variable, not a function",
                                     func, FUNCTION_LIST))
    elif func.id not in FUNCTIONS:
        problems.append(source.error(f"unknown function {shorten(func.id)!r}", func,
                                     FUNCTION_LIST))
    for kw in node.keywords:
        kind = "keyword argument" if kw.arg is not None else "** argument"
        problems.append(source.error(f"unsupported syntax ({kind})", kw,
                                     "Functions take positional arguments only."))
    if isinstance(func, ast.Name) and func.id in FUNCTIONS and not node.keywords:
        arity = FUNCTIONS[func.id][0]
        starred = any(isinstance(a, ast.Starred) for a in node.args)
        if len(node.args) != arity and not starred:
            plural = "argument" if arity == 1 else "arguments"
            problems.append(source.error(f"{func.id} takes {arity} {plural}, got "
                                         f"{len(node.args)}", node))
    return problems


def parse_expression(text: str, names: dict[str, Any]) -> tuple[ast.Expression, Source]:
    """Parse ``text`` and check that it uses only what the language supports and only the
    given ``names``. Raises ``ExpressionError`` at the leftmost problem."""
    source = Source(text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        lineno = e.lineno or 1
        # offset is 1-based characters; 0 or None means the end of the input.
        line = source.lines[lineno - 1] if 1 <= lineno <= len(source.lines) else ""
        col = e.offset - 1 if e.offset else len(line)
        end = e.end_offset - 1 if e.end_offset and e.end_lineno == lineno else None
        raise ExpressionError(f"syntax error: {e.msg}", lineno, col, end) from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply for Python's "
                              "parser") from None
    except ValueError as e:  # e.g. a NUL character in the text
        raise ExpressionError(f"cannot parse the expression: {e}") from None

    # Pre-order walk with an explicit stack; refused nodes are not entered, so each
    # problem is the outermost refused construct at its place.
    problems: list[tuple[tuple[int, int, int], ExpressionError]] = []
    stack = [tree.body]
    while stack:
        node = stack.pop()
        found = _check_node(node, source, names)
        problems += [((p.lineno or 0, p.col, len(problems) + i), p)
                     for i, p in enumerate(found)]
        accepted = isinstance(node, ast.BinOp | ast.UnaryOp | ast.Call) and not (
            isinstance(node, ast.Call) and found and not isinstance(node.func, ast.Name))
        if accepted:
            stack.extend(reversed(_operands(node)))
    if problems:
        raise min(problems, key=lambda p: p[0])[1]
    return tree, source


def variables(tree: ast.Expression) -> set[str]:
    """The names the expression uses as variables."""
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(FUNCTIONS)


# ---------------------------------------------------------------------------------------
# Evaluating it
# ---------------------------------------------------------------------------------------

def _apply(node: ast.AST, args: list[Any], source: Source, leaves: dict[str, Value]) -> Any:
    """The value of one accepted node from its operands' values (float or Value)."""
    if isinstance(node, ast.Constant):
        return _constant(node, source)
    if isinstance(node, ast.Name):
        return leaves[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
        return args[0]  # +a is a itself: no op, no node in the graph
    if isinstance(node, ast.UnaryOp):
        fn: Callable[..., Any] = operator.neg
    elif isinstance(node, ast.BinOp):
        fn = BINARY[type(node.op)]
    else:
        fn = FUNCTIONS[node.func.id][1]
    constant = not any(isinstance(a, ValueBase) for a in args)
    # NOTE: an op on numbers alone still runs on (constant) Values, so it follows the
    # engine's float64 rules: (-8)**0.5 is nan, not Python's complex number.
    inputs = [Value(a, requires_grad=False) for a in args] if constant else args
    result = fn(*inputs)
    number = result.item() if isinstance(result, ValueBase) else float(result)
    if not math.isfinite(number):
        shown = ", ".join(fmt(a.item() if isinstance(a, ValueBase) else a) for a in args)
        plural = "input is" if len(args) == 1 else "inputs are"
        raise source.error(f"{shorten(source.segment(node))} = {number} (its {plural} "
                           f"{shown})", node, "Every value in the graph must be a finite "
                           "number.")
    if constant:
        return number
    if isinstance(result, ValueBase) and all(result is not a for a in args):
        result.name = source.segment(node)
    return result


def evaluate(tree: ast.Expression, source: Source, leaves: dict[str, Value]) -> Any:
    """The expression's value, built from ``leaves`` with Value ops (so it records the
    graph). Post-order with an explicit stack; each op's result is named by its text."""
    results: dict[int, Any] = {}
    stack: list[tuple[ast.AST, bool]] = [(tree.body, False)]
    with np.errstate(all="ignore"):  # non-finite results are reported by _apply
        while stack:
            node, ready = stack.pop()
            children = _operands(node)
            if not ready:
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(children))
                continue
            results[id(node)] = _apply(node, [results.pop(id(c)) for c in children],
                                       source, leaves)
    return results[id(tree.body)]

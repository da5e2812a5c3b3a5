"""The ``tinygrad-edu`` command: draw and differentiate an expression, or run the demo.

::

    tinygrad-edu graph "tanh(x*w + b)" --set x=2 w=-3 b=6.88 --out graph.svg
    tinygrad-edu demo
    tinygrad-edu --version

``graph`` builds the expression out of scalar Values, runs ``backward()``, prints the
value and each variable's gradient, and can write the drawing (``viz.render``), the
step-through page (``viz.save_html``) or the DOT text (``viz.to_dot``).

The expression is never run as Python. ``ast.parse`` turns it into a syntax tree, and
only numbers, the names given with ``--set``, ``+ - * / **``, unary ``-`` and ``+`` and
calls of the functions in ``FUNCTIONS`` are accepted; anything else is an error that
points at the column where it is. The accepted tree is then evaluated node by node with
an explicit stack (any depth the parser accepts works).

Exit codes: 0 success, 1 an output could not be written (Graphviz's ``dot`` missing, an
unwritable path), 2 a bad command line, expression or value.
"""

from __future__ import annotations

import argparse
import ast
import keyword
import math
import operator
import sys
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from . import __version__, maximum, minimum, viz
from .autograd import ValueBase
from .value import Value
from .viz.dot import fmt

PROG = "tinygrad-edu"

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
# Operators the grammar has but the command refuses, with how they are written.
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


class CommandError(Exception):
    """A failure the command reports in one message (no traceback) with an exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class ExpressionError(CommandError):
    """A problem at a place in the expression: ``col`` and ``end`` are 0-based character
    offsets on line ``lineno`` (1-based); the message shows the line with a caret, then
    ``hint`` (what would be accepted there), if any."""

    def __init__(self, message: str, lineno: int, col: int, end: int | None = None,
                 hint: str = "") -> None:
        super().__init__(message, 2)
        self.lineno, self.col, self.end, self.hint = lineno, col, end, hint

    def show(self, source: str) -> str:
        """The message, the offending line, a caret (``^~~~``) under the piece, the hint."""
        lines = source.splitlines() or [""]
        line = lines[self.lineno - 1] if 1 <= self.lineno <= len(lines) else ""
        col = max(0, min(self.col, len(line)))  # past the end: the caret follows the text
        end = max(col + 1, min(self.end if self.end is not None else col + 1, len(line)))
        where = f"line {self.lineno}, column {col + 1}" if len(lines) > 1 else \
            f"column {col + 1}"
        # NOTE: a tab is shown as one space, so the caret stays under its character.
        hint = "\n" + textwrap.fill(self.hint, 88) if self.hint else ""
        return (f"{PROG} graph: {self} at {where}:\n  {line.replace(chr(9), ' ')}\n"
                f"  {' ' * col}^{'~' * (end - col - 1)}{hint}")


# ---------------------------------------------------------------------------------------
# Reading the expression
# ---------------------------------------------------------------------------------------

def _char_col(lines: list[str], lineno: int, byte_col: int) -> int:
    """ast's column offsets count UTF-8 bytes; the caret needs characters."""
    line = lines[lineno - 1] if 1 <= lineno <= len(lines) else ""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


class _Source:
    """The expression text, with node positions converted to character columns."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines() or [""]

    def span(self, node: ast.AST) -> tuple[int, int, int]:
        """(line, first column, end column on that line) of ``node``."""
        lineno = node.lineno
        col = _char_col(self.lines, lineno, node.col_offset)
        if node.end_lineno == lineno:
            end = _char_col(self.lines, lineno, node.end_col_offset)
        else:
            end = len(self.lines[lineno - 1])
        return lineno, col, end

    def error(self, message: str, node: ast.AST, hint: str = "") -> ExpressionError:
        return ExpressionError(message, *self.span(node), hint=hint)

    def segment(self, node: ast.AST) -> str:
        """The node's source text with runs of whitespace (newlines too) made one space."""
        return " ".join((ast.get_source_segment(self.text, node) or "").split())

    def operator_error(self, node: ast.BinOp, symbol: str) -> ExpressionError:
        """An error pointing at ``symbol`` between the operands (else at the whole node)."""
        message = f"unsupported operator {symbol} (supported: + - * / **)"
        right_line, right_col, _ = self.span(node.right)
        if node.left.end_lineno == right_line:
            left_end = _char_col(self.lines, right_line, node.left.end_col_offset)
            found = self.lines[right_line - 1].find(symbol, left_end, right_col)
            if found >= 0:
                return ExpressionError(message, right_line, found, found + len(symbol))
        return self.error(message, node)


def _constant(node: ast.Constant, source: _Source) -> float:
    """A numeric literal as a float; any other literal is an error."""
    value = node.value
    if isinstance(value, bool) or value is None or value is Ellipsis:
        raise source.error(f"unsupported constant {value!r} (only numbers)", node)
    if isinstance(value, str | bytes):
        raise source.error("unsupported syntax (string)", node)
    if isinstance(value, complex):
        raise source.error(f"unsupported constant {source.segment(node)} (complex numbers "
                           f"are not supported)", node)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise source.error(f"the number {source.segment(node)} is too large for a float",
                           node)
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


def _check_node(node: ast.AST, source: _Source, names: dict[str, Any]) -> list[ExpressionError]:
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
        known = f" (the names set are {', '.join(names)})" if names else ""
        return [source.error(f"unknown name {node.id!r}", node,
                             f"Give its value with --set {node.id}=NUMBER{known}.")]
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


def _check_call(node: ast.Call, source: _Source, names: dict[str, Any]) -> list[ExpressionError]:
    """A call must name a function of ``FUNCTIONS`` and pass it the right number of
    positional arguments."""
    problems = []
    func = node.func
    if not isinstance(func, ast.Name):
        kind = SYNTAX_NAMES.get(type(func), "a call of an expression")
        problems.append(source.error(f"unsupported syntax ({kind})", func, FUNCTION_LIST))
    elif func.id in names:
        problems.append(source.error(f"{func.id} is a variable, not a function", func,
                                     FUNCTION_LIST))
    elif func.id not in FUNCTIONS:
        problems.append(source.error(f"unknown function {func.id!r}", func, FUNCTION_LIST))
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


def parse_expression(text: str, names: dict[str, Any]) -> tuple[ast.Expression, _Source]:
    """Parse ``text`` and check that it uses only what the command supports and only the
    given ``names``. Raises ``ExpressionError`` at the leftmost problem."""
    source = _Source(text)
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
        raise CommandError(f"{PROG} graph: the expression is nested too deeply for "
                           f"Python's parser") from None
    except ValueError as e:  # e.g. a NUL character in the text
        raise CommandError(f"{PROG} graph: cannot parse the expression: {e}") from None

    # Pre-order walk with an explicit stack; refused nodes are not entered, so each
    # problem is the outermost refused construct at its place.
    problems: list[tuple[tuple[int, int, int], ExpressionError]] = []
    stack = [tree.body]
    while stack:
        node = stack.pop()
        found = _check_node(node, source, names)
        problems += [((p.lineno, p.col, len(problems) + i), p) for i, p in enumerate(found)]
        accepted = isinstance(node, ast.BinOp | ast.UnaryOp | ast.Call) and not (
            isinstance(node, ast.Call) and found and not isinstance(node.func, ast.Name))
        if accepted:
            stack.extend(reversed(_operands(node)))
    if problems:
        raise min(problems, key=lambda p: p[0])[1]
    return tree, source


# ---------------------------------------------------------------------------------------
# Evaluating it
# ---------------------------------------------------------------------------------------

def _apply(node: ast.AST, args: list[Any], source: _Source, leaves: dict[str, Value]) -> Any:
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
        raise source.error(f"{source.segment(node)} = {number} (its {plural} {shown})", node,
                           "Every value in the graph must be a finite number.")
    if constant:
        return number
    if isinstance(result, ValueBase) and all(result is not a for a in args):
        result.name = source.segment(node)
    return result


def evaluate(tree: ast.Expression, source: _Source, leaves: dict[str, Value]) -> Any:
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


# ---------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------

def parse_assignments(items: Sequence[str]) -> dict[str, float]:
    """``["x=2", "w=-3"]`` as ``{"x": 2.0, "w": -3.0}``, or a CommandError saying which
    item is wrong and why."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        # Python reads identifiers in NFKC form, so a name matches the expression's.
        name = unicodedata.normalize("NFKC", name.strip())
        if not sep:
            raise CommandError(f"{PROG} graph: --set {item!r}: expected NAME=NUMBER, as in "
                               f"x=2")
        if keyword.iskeyword(name):
            raise CommandError(f"{PROG} graph: --set {item!r}: {name!r} is a Python keyword; "
                               f"choose another name")
        if not name.isidentifier():
            raise CommandError(f"{PROG} graph: --set {item!r}: {name!r} is not a valid name "
                               f"(letters, digits and _, not starting with a digit)")
        if name in FUNCTIONS:
            raise CommandError(f"{PROG} graph: --set {item!r}: {name!r} is the name of a "
                               f"function; choose another name")
        try:
            value = float(number)
        except ValueError:
            raise CommandError(f"{PROG} graph: --set {item!r}: {number.strip()!r} is not a "
                               f"number") from None
        if not math.isfinite(value):
            raise CommandError(f"{PROG} graph: --set {item!r}: the value must be a finite "
                               f"number, got {value}")
        if name in values:
            raise CommandError(f"{PROG} graph: --set gives {name} twice ({name}="
                               f"{values[name]:g} and {item})")
        values[name] = value
    return values


def _graph(args: argparse.Namespace) -> int:
    """The ``graph`` subcommand."""
    text = args.expression.strip()  # leading spaces would be an IndentationError
    values = parse_assignments(args.set or [])
    if args.out is not None:
        kind = Path(args.out).suffix.lstrip(".").lower()
        if kind not in graphviz.FORMATS:
            raise CommandError(f"{PROG} graph: --out {args.out}: the suffix gives the format; "
                               f"use .svg, .png or .pdf (got {Path(args.out).suffix!r})")
    tree, source = parse_expression(text, values)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(FUNCTIONS)
    if not used:
        raise CommandError(f"{PROG} graph: {text!r} uses no variables, so there is nothing "
                           f"to differentiate; name some and give their values, as in "
                           f"'2*x' --set x=1.5")
    unused = [name for name in values if name not in used]
    if unused:
        raise CommandError(f"{PROG} graph: --set gives {', '.join(unused)}, which the "
                           f"expression does not use (a typo?); it uses "
                           f"{', '.join(sorted(used))}")

    leaves = {name: Value(value, name=name) for name, value in values.items()}
    root = evaluate(tree, source, leaves)
    if all(root is not leaf for leaf in leaves.values()):
        root.name = " ".join(text.split())
    with np.errstate(all="ignore"):  # a non-finite gradient is printed and noted below
        root.backward()

    # With --dot, stdout carries only the DOT text (for piping into `dot`).
    report = sys.stderr if args.dot else sys.stdout
    print(f"{' '.join(text.split())} = {fmt(root.item())}", file=report)
    for name, leaf in leaves.items():
        print(f"d/d{name} = {fmt(leaf.grad.item())}", file=report)
    if not all(math.isfinite(leaf.grad.item()) for leaf in leaves.values()):
        print("note: a gradient is not finite: the expression has no finite slope at these "
              "values (e.g. sqrt at 0)", file=sys.stderr)

    mode = "backward" if args.backward else "forward"
    if args.dot:
        with np.errstate(all="ignore"):
            print(viz.to_dot(root, mode=mode))
    try:
        if args.out is not None:
            with np.errstate(all="ignore"):
                viz.render(root, args.out, mode=mode)
            print(f"wrote {args.out}", file=report)
        if args.html is not None:
            viz.save_html(root, args.html)
            print(f"wrote {args.html}", file=report)
    except viz.GraphvizNotFoundError as e:
        raise CommandError(str(e), code=1) from None
    except OSError as e:
        raise CommandError(f"{PROG} graph: cannot write {e.filename or 'the file'}: "
                           f"{e.strerror or e}", code=1) from None
    return 0


def _demo(args: argparse.Namespace) -> int:
    """The ``demo`` subcommand."""
    from . import demo  # looked up when run, so tests can replace demo.main

    demo.main()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tinygrad-edu`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="tinygrad_edu, a small autograd engine for learning how "
        "neural networks train: differentiate and draw an expression, or run the demo.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    graph = commands.add_parser(
        "graph", help="differentiate an expression of named scalars and draw its graph",
        description=textwrap.fill(
            "Build EXPRESSION out of scalar Values, run backward(), and print its value and "
            "the gradient with respect to each variable. The expression is parsed, never run "
            f"as Python: it may use {SUPPORTED}.", 79),
        epilog="examples:\n"
        "  tinygrad-edu graph 'tanh(x*w + b)' --set x=2 w=-3 b=6.88 --out graph.svg\n"
        "  tinygrad-edu graph 'x**2 + 3*x' --set x=1.5 --backward --out grads.png\n"
        "  tinygrad-edu graph 'sigmoid(a*b)' --set a=1 b=2 --html steps.html\n"
        "  tinygrad-edu graph 'x*y' --set x=2 y=3 --dot | dot -Tpng > g.png\n\n"
        "An expression that starts with '-' goes after '--': graph -- '-x*y' --set ...\n"
        "exit codes: 0 done, 1 an output could not be written, 2 bad input",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    graph.add_argument("expression", metavar="EXPRESSION",
                       help="the expression, quoted for the shell, e.g. 'tanh(x*w + b)'")
    graph.add_argument("--set", nargs="+", metavar="NAME=NUMBER",
                       help="the value of each variable, e.g. --set x=2 w=-3 (every name "
                       "the expression uses, and no other)")
    graph.add_argument("--out", metavar="PATH",
                       help="draw the graph to PATH with Graphviz's dot; the suffix gives the "
                       "format (.svg, .png, .pdf)")
    graph.add_argument("--backward", action="store_true",
                       help="draw the backward view: edges from the result back to the "
                       "variables, labelled with the gradients they carry (default: the "
                       "forward view)")
    graph.add_argument("--dot", action="store_true",
                       help="print the drawing's DOT text to stdout (the values and "
                       "gradients then go to stderr); needs no Graphviz program")
    graph.add_argument("--html", metavar="PATH",
                       help="write a page that steps through the backward pass, node by node")
    graph.set_defaults(run=_graph)

    demo = commands.add_parser(
        "demo", help="run the main demo (a neuron's gradients, XOR, the spiral)",
        description="Run the main demo: backprop through one neuron, a tiny network "
        "learning XOR, and an MLP learning the spiral dataset (plots go to ./out/).")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tinygrad-edu`` with ``argv`` (default: the command line); return the exit
    code. Errors are printed to stderr as one message, without a traceback."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or argparse's own usage error
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    if args.command == "graph" and args.backward and not (args.out or args.dot):
        print(f"{PROG} graph: --backward chooses the drawing's view; give --out or --dot "
              f"too", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except ExpressionError as e:
        print(e.show(args.expression.strip()), file=sys.stderr)
        return e.code
    except CommandError as e:
        print(e, file=sys.stderr)
        return e.code


if __name__ == "__main__":
    raise SystemExit(main())

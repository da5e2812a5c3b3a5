"""The ``tinygrad-edu`` command: draw and differentiate an expression, or run the demo.

::

    tinygrad-edu graph "tanh(x*w + b)" --set x=2 w=-3 b=6.88 --out graph.svg
    tinygrad-edu demo
    tinygrad-edu search worker train.py:objective --space train.py:space \
        --storage sqlite:///search.db --study spiral --trials 50
    tinygrad-edu --version

``graph`` builds the expression out of scalar Values, runs ``backward()``, prints the
value and each variable's gradient, and can write the drawing (``viz.render``), the
step-through page (``viz.save_html``) or the DOT text (``viz.to_dot``). ``search
worker`` joins a hyperparameter search kept in a shared database
(``tinygrad_edu.search.command``).

The expression is never run as Python: ``tinygrad_edu.expression`` parses and checks it
(only numbers, the names given with ``--set``, ``+ - * / **``, unary ``-`` and ``+`` and
calls of its ``FUNCTIONS``), points at the column of anything else, and evaluates it with
Value ops.

Exit codes: 0 success, 1 an output could not be written (Graphviz's ``dot`` missing, a
path that cannot be written, stdout closed by its reader), 2 a bad command line,
expression or value. ``--out`` and ``--html`` create missing folders.
"""

from __future__ import annotations

import argparse
import keyword
import math
import os
import sys
import textwrap
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import graphviz
import numpy as np

from . import __version__, viz
from .expression import (
    FUNCTIONS,
    SUPPORTED,
    ExpressionError,
    evaluate,
    parse_expression,
    shorten,
    variables,
)
from .lessons import add_lesson_parser
from .search.command import add_search_command, positive
from .value import Value
from .viz.dot import fmt

PROG = "tinygrad-edu"
# The most nodes a drawing may have unless --max-nodes says otherwise (draw's default).
MAX_NODES = 500


class CommandError(Exception):
    """A failure the command reports in one message (no traceback) with an exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


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
        where = f"{PROG} graph: --set {shorten(item)!r}"
        if not sep:
            raise CommandError(f"{where}: expected NAME=NUMBER, as in x=2")
        if keyword.iskeyword(name):
            raise CommandError(f"{where}: {name!r} is a Python keyword; choose another name")
        if not name.isidentifier():
            raise CommandError(f"{where}: {shorten(name)!r} is not a valid name (letters, "
                               f"digits and _, not starting with a digit)")
        if name in FUNCTIONS:
            raise CommandError(f"{where}: {name!r} is the name of a function; choose another "
                               f"name")
        try:
            value = float(number)
        except ValueError:
            raise CommandError(f"{where}: {shorten(number.strip())!r} is not a "
                               f"number") from None
        if not math.isfinite(value):
            raise CommandError(f"{where}: the value must be a finite number, got {value}")
        if name in values:
            raise CommandError(f"{PROG} graph: --set gives {shorten(name)} twice "
                               f"({shorten(name)}={values[name]:g} and {shorten(item)})")
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
    used = variables(tree)
    if not used:
        raise CommandError(f"{PROG} graph: {shorten(text)!r} uses no variables, so there is "
                           f"nothing to differentiate; name some and give their values, as "
                           f"in '2*x' --set x=1.5")
    unused = [name for name in values if name not in used]
    if unused:
        raise CommandError(f"{PROG} graph: --set gives {shorten(', '.join(unused))}, which "
                           f"the expression does not use (a typo?); it uses "
                           f"{shorten(', '.join(sorted(used)))}")

    leaves = {name: Value(value, name=name) for name, value in values.items()}
    root = evaluate(tree, source, leaves)
    if all(root is not leaf for leaf in leaves.values()):
        root.name = " ".join(text.split())
    _check_size(root, args)
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
            print(viz.to_dot(root, mode=mode, max_nodes=args.max_nodes))
    try:
        if args.out is not None:
            with np.errstate(all="ignore"):
                viz.render(root, args.out, mode=mode, max_nodes=args.max_nodes)
            print(f"wrote {args.out}", file=report)
        if args.html is not None:
            viz.save_html(root, args.html, graph=not args.no_graph, max_nodes=args.max_nodes)
            print(f"wrote {args.html}", file=report)
    except viz.GraphvizNotFoundError as e:
        raise CommandError(str(e), code=1) from None
    except OSError as e:
        raise CommandError(f"{PROG} graph: cannot write {e.filename or 'the file'}: "
                           f"{e.strerror or e}", code=1) from None
    return 0


def _check_size(root: Value, args: argparse.Namespace) -> None:
    """Refuse, before anything is printed, to draw a graph of more than ``--max-nodes``
    nodes: its picture could not be read."""
    drawn = [option for option, given in (("--out", args.out), ("--dot", args.dot),
                                          ("--html", args.html and not args.no_graph))
             if given]
    if not drawn:
        return
    count = len(viz.node_keys(root, max_nodes=None))
    if count > args.max_nodes:
        page = ", or --no-graph to step through the page's numbers alone" \
            if args.html and not args.no_graph else ""
        raise CommandError(f"{PROG} graph: the graph has {count} nodes (values, ops and "
                           f"constants), more than --max-nodes={args.max_nodes}, too many to "
                           f"read in a drawing ({', '.join(drawn)}); pass a larger "
                           f"--max-nodes{page}, or leave out {' and '.join(drawn)} to print "
                           f"the value and gradients alone")


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
        "  tinygrad-edu graph 'x*y' --set x=2 y=3 --dot | dot -Tpng > g.png\n"
        "  tinygrad-edu graph -- '-x*y' --set x=1 y=2\n\n"
        "An expression that starts with '-' goes right after '--', as in the last example.\n"
        "--out and --html create missing folders of their path.\n"
        "exit codes: 0 done, 1 an output could not be written (no Graphviz, or a path that\n"
        "cannot be written, such as one under a file), 2 bad input",
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
    graph.add_argument("--no-graph", action="store_true",
                       help="with --html: leave the graph's picture out of the page and step "
                       "through the numbers alone (no node limit, no Graphviz needed)")
    graph.add_argument("--max-nodes", type=positive(int, "a whole number of at least 1"),
                       default=MAX_NODES, metavar="N",
                       help="refuse to draw a graph of more than N nodes (values, ops and "
                       f"constants), since its picture could not be read (default {MAX_NODES})")
    graph.set_defaults(run=_graph)

    demo = commands.add_parser(
        "demo", help="run the main demo (a neuron's gradients, XOR, the spiral)",
        description="Run the main demo: backprop through one neuron, a tiny network "
        "learning XOR, and an MLP learning the spiral dataset (plots go to ./out/).")
    demo.set_defaults(run=_demo)
    add_lesson_parser(commands)
    add_search_command(commands)
    return parser


def _expression_first(argv: list[str]) -> list[str]:
    """``argv`` with ``-- EXPRESSION`` moved after the options.

    argparse reads everything after ``--`` as positional, so the documented
    ``graph -- "-x*y" --set x=1 y=2`` would pass ``--set x=1 y=2`` as more expressions;
    only the expression follows ``--`` here, and the options after it are read as options.
    """
    if "--" in argv:
        at = argv.index("--")
        if "graph" in argv[:at] and at + 1 < len(argv):
            return [*argv[:at], *argv[at + 2:], "--", argv[at + 1]]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tinygrad-edu`` with ``argv`` (default: the command line); return the exit
    code. Errors are printed to stderr as one message, without a traceback."""
    try:
        code = _run(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of stdout has gone (`... | head`): stop quietly, as command-line
        # tools do. Python flushes stdout once more at exit; pointing it at devnull keeps
        # that flush from failing again with a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


def _run(argv: list[str]) -> int:
    """``main`` without the handling of a closed stdout."""
    parser = build_parser()
    try:
        args = parser.parse_args(_expression_first(argv))
    except SystemExit as e:  # --help, --version, or argparse's own usage error
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    if args.command == "graph" and args.backward and not (args.out or args.dot):
        print(f"{PROG} graph: --backward chooses the drawing's view; give --out or --dot "
              f"too", file=sys.stderr)
        return 2
    if args.command == "graph" and args.no_graph and not args.html:
        print(f"{PROG} graph: --no-graph leaves the picture out of the --html page; give "
              f"--html too", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except ExpressionError as e:
        print(f"{PROG} graph: {e.show(args.expression.strip())}", file=sys.stderr)
        return 2
    except CommandError as e:
        print(e, file=sys.stderr)
        return e.code


if __name__ == "__main__":
    raise SystemExit(main())

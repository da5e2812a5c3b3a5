"""The ``tinygrad-edu`` command: gradients, drawings, and refusing every input it should."""

import ast
import builtins
import configparser
import json
import math
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_edu
import tinygrad_edu.demo
from tinygrad_edu.cli import main

ROOT = Path(__file__).parent.parent
NEURON = ["tanh(x*w + b)", "--set", "x=2", "w=-3", "b=6.8813735870195432"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def printed_numbers(out):
    """``{"tanh(x*w + b)": 0.7071, "d/dx": -1.5, ...}`` from the command's report."""
    return {k: float(v) for k, v in re.findall(r"^(.+?) = (\S+)$", out, re.M)}


# ---------------------------------------------------------------------------------------
# Values and gradients
# ---------------------------------------------------------------------------------------

def test_neuron_gradients_match_a_hand_computation(capsys):
    code, out, err = run(capsys, "graph", *NEURON)
    assert code == 0 and err == ""
    x, w, b = 2.0, -3.0, 6.8813735870195432
    t = math.tanh(x * w + b)
    slope = 1 - t**2  # d tanh(n)/dn
    got = printed_numbers(out)
    assert list(got) == ["tanh(x*w + b)", "d/dx", "d/dw", "d/db"]
    expected = [t, w * slope, x * slope, slope]
    assert got == pytest.approx(dict(zip(got, expected)), rel=1e-3)
    assert out.splitlines()[:4] == ["tanh(x*w + b) = 0.7071", "d/dx = -1.500", "d/dw = 1.000",
                                    "d/db = 0.5000"]


@pytest.mark.parametrize(("expression", "values", "gradients"), [
    ("x*x + x", {"x": 3.0}, {"x": 7.0}),  # a variable used three times: grads add up
    ("x/y", {"x": 1.0, "y": 2.0}, {"x": 0.5, "y": -0.25}),
    ("-x + +y", {"x": 1.0, "y": 2.0}, {"x": -1.0, "y": 1.0}),
    ("x**2 - 3*x", {"x": 1.5}, {"x": 0.0}),
    ("2**x", {"x": 3.0}, {"x": 8 * math.log(2)}),
    ("x**y", {"x": 2.0, "y": 3.0}, {"x": 12.0, "y": 8 * math.log(2)}),
    ("max(x, y) + min(x, 1)", {"x": 2.0, "y": 5.0}, {"x": 0.0, "y": 1.0}),
    ("sqrt(x) * log(y)", {"x": 4.0, "y": math.e}, {"x": 0.25, "y": 2 / math.e}),
    ("sigmoid(x) + relu(-x) + abs(x)", {"x": 0.5},
     {"x": math.exp(-0.5) / (1 + math.exp(-0.5))**2 + 1}),
    ("sin(x) * cos(x) + exp(x)", {"x": 0.3}, {"x": math.cos(0.6) + math.exp(0.3)}),
    ("(x +\n   y) ** 2", {"x": 1.0, "y": 2.0}, {"x": 6.0, "y": 6.0}),
])
def test_gradients_of_expressions(capsys, expression, values, gradients):
    code, out, err = run(capsys, "graph", expression, "--set",
                         *(f"{k}={v!r}" for k, v in values.items()))
    assert code == 0 and err == ""
    got = printed_numbers(out)
    assert " ".join(expression.split()) in got
    for name, grad in gradients.items():
        assert got[f"d/d{name}"] == pytest.approx(grad, rel=1e-3, abs=1e-9)


def test_a_gradient_without_a_finite_value_is_printed_and_noted(capsys):
    code, out, err = run(capsys, "graph", "sqrt(x)", "--set", "x=0")
    assert code == 0
    assert "d/dx = inf" in out
    assert "note: a gradient is not finite" in err


def test_unicode_names(capsys):
    code, out, _ = run(capsys, "graph", "π*r**2", "--set", "π=3.14159", "r=2")
    assert code == 0 and "d/dr = 12.57" in out


# ---------------------------------------------------------------------------------------
# Drawings and the step viewer
# ---------------------------------------------------------------------------------------

def test_out_writes_an_svg_with_the_node_names(capsys, tmp_path):
    path = tmp_path / "graph.svg"
    code, out, _ = run(capsys, "graph", *NEURON, "--out", str(path))
    assert code == 0
    assert f"wrote {path}" in out
    svg = path.read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg"))
    for name in ("tanh(x*w + b)", "x*w + b", "x*w", "x", "w", "b"):
        assert f">{name}<" in svg, name


def test_backward_writes_a_different_drawing(capsys, tmp_path):
    forward, backward = tmp_path / "f.svg", tmp_path / "b.svg"
    assert run(capsys, "graph", *NEURON, "--out", str(forward))[0] == 0
    assert run(capsys, "graph", *NEURON, "--out", str(backward), "--backward")[0] == 0
    assert forward.read_text() != backward.read_text()
    assert ">x*w + b<" in backward.read_text()


def test_png_from_the_suffix(capsys, tmp_path):
    path = tmp_path / "graph.png"
    assert run(capsys, "graph", *NEURON, "--out", str(path))[0] == 0
    assert path.read_bytes().startswith(b"\x89PNG")


def test_html_writes_the_steps_json(capsys, tmp_path):
    path = tmp_path / "steps.html"
    code, out, _ = run(capsys, "graph", *NEURON, "--html", str(path))
    assert code == 0 and f"wrote {path}" in out
    page = path.read_text()
    data = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S)
    steps = json.loads(data.group(1))
    labels = [step["label"] for step in steps]
    assert labels[0] == "tanh(x*w + b)"
    assert {"x*w + b", "x*w", "x", "w", "b"} <= set(labels)


def test_dot_prints_only_dot_text_to_stdout(capsys):
    code, out, err = run(capsys, "graph", *NEURON, "--dot", "--backward")
    assert code == 0
    assert out.startswith("digraph") and out.rstrip().endswith("}")
    assert "x*w + b" in out
    assert "d/dx = -1.500" in err  # the report moves to stderr


def test_missing_graphviz_says_how_to_install_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` here
    code, out, err = run(capsys, "graph", *NEURON, "--out", str(tmp_path / "g.svg"))
    assert code == 1
    assert "apt-get install graphviz" in err and "brew install graphviz" in err
    assert "Traceback" not in err
    assert "d/dx = -1.500" in out  # the numbers are still printed
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.parametrize(("options", "code", "message"), [
    (["--out", "graph"], 2, "the suffix gives the format"),
    (["--out", "graph.nosuchformat"], 2, "the suffix gives the format"),
    # a_file is a file, so no folder of that name can be made for the output
    (["--out", "a_file/graph.svg"], 1, "cannot write a_file"),
    (["--html", "a_file/steps.html"], 1, "cannot write a_file"),
    (["--backward"], 2, "--backward chooses the drawing's view; give --out or --dot"),
])
def test_output_errors(capsys, tmp_path, monkeypatch, options, code, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("")
    got, _, err = run(capsys, "graph", *NEURON, *options)
    assert got == code
    assert message in err and "Traceback" not in err


# ---------------------------------------------------------------------------------------
# What is refused, and where
# ---------------------------------------------------------------------------------------

REFUSED = [
    # expression, --set, column of the caret, part of the message
    ("x.__class__", ["x=1"], 1, "unsupported syntax (attribute access)"),
    ("__import__('os')", [], 1, "unknown function '__import__'"),
    ("__import__('os').system('ls')", [], 1, "unsupported syntax (attribute access)"),
    ("open('/etc/passwd')", [], 1, "unknown function 'open'"),
    ("x + x[0]", ["x=1"], 5, "unsupported syntax (subscript)"),
    ("x + 'a'", ["x=1"], 5, "unsupported syntax (string)"),
    ("tanh(x, y=2)", ["x=1"], 9, "unsupported syntax (keyword argument)"),
    ("tanh(**x)", ["x=1"], 6, "unsupported syntax (** argument)"),
    ("tanh(*x)", ["x=1"], 6, "unsupported syntax (starred argument)"),
    ("(lambda: x)()", ["x=1"], 2, "unsupported syntax (lambda)"),
    ("x * foo(x)", ["x=1"], 5, "unknown function 'foo'"),
    ("tanh(x, x)", ["x=1"], 1, "tanh takes 1 argument, got 2"),
    ("max(x)", ["x=1"], 1, "max takes 2 arguments, got 1"),
    ("x*y", ["x=1"], 3, "unknown name 'y'"),
    ("x*", ["x=1"], 3, "syntax error"),
    ("ππ +* 2", ["ππ=1"], 5, "syntax error: invalid syntax"),
    ("tanh(x", ["x=1"], 5, "syntax error: '(' was never closed"),
    ("x // 2", ["x=1"], 3, "unsupported operator //"),
    ("(x)%(x)", ["x=1"], 4, "unsupported operator %"),
    ("~x", ["x=1"], 1, "unsupported operator ~"),
    ("x < 2", ["x=1"], 1, "unsupported syntax (comparison)"),
    ("x and x", ["x=1"], 1, "unsupported syntax (and/or)"),
    ("x if x else x", ["x=1"], 1, "unsupported syntax (conditional expression)"),
    ("(y := x)", ["x=1"], 2, "unsupported syntax (assignment expression)"),
    ("[x]", ["x=1"], 1, "unsupported syntax (list)"),
    ("x, x", ["x=1"], 1, "unsupported syntax (tuple)"),
    ("f'{x}'", ["x=1"], 1, "unsupported syntax (f-string)"),
    ("x + True", ["x=1"], 5, "unsupported constant True"),
    ("x + None", ["x=1"], 5, "unsupported constant None"),
    ("x + 2j", ["x=1"], 5, "complex numbers are not supported"),
    ("x + 1e999", ["x=1"], 5, "the number 1e999 is too large"),
    ("tanh + x", ["x=1"], 1, "tanh is a function"),
    ("x(2)", ["x=1"], 1, "x is a variable, not a function"),
    ("tanh(x)(2)", ["x=1"], 1, "unsupported syntax (a call of an expression)"),
    ("π*x.y", ["π=3", "x=1"], 3, "attribute access"),  # columns count characters
    ("log(x)", ["x=-1"], 1, "log(x) = nan (its input is -1.000)"),
    ("x + 1/0", ["x=1"], 5, "1/0 = inf"),
    ("x * (-8)**0.5", ["x=1"], 5, "(-8)**0.5 = nan"),
]


@pytest.mark.parametrize(("expression", "values", "column", "message"), REFUSED,
                         ids=[r[0] for r in REFUSED])
def test_refused_expressions_point_at_the_column(capsys, expression, values, column,
                                                  message):
    code, out, err = run(capsys, "graph", expression, *(["--set", *values] if values else []))
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    first = err.splitlines()[0]
    assert first.startswith("tinygrad-edu graph: ") and message in first
    assert first.endswith(f" at column {column}:")
    assert re.search(rf"\n  {re.escape(expression)}\n  {' ' * (column - 1)}\^~*\n", err), err


def test_a_refused_expression_on_a_later_line_says_which_line(capsys):
    code, _, err = run(capsys, "graph", "(x +\n w) ** x.a", "--set", "x=2", "w=1")
    assert code == 2
    assert "unsupported syntax (attribute access) at line 2, column 8:\n" in err
    assert "\n   w) ** x.a\n         ^~~\n" in err


def test_unknown_name_lists_the_names_that_were_set(capsys):
    _, _, err = run(capsys, "graph", "x*w + z", "--set", "x=1", "w=2")
    assert "Give its value with --set z=NUMBER (the names set are x, w)." in err


@pytest.mark.parametrize(("values", "message"), [
    (["x"], "--set 'x': expected NAME=NUMBER"),
    (["x=abc"], "--set 'x=abc': 'abc' is not a number"),
    (["1x=2", "x=1"], "'1x' is not a valid name"),
    (["x=1", "lambda=2"], "'lambda' is a Python keyword"),
    (["x=1", "tanh=2"], "'tanh' is the name of a function"),
    (["x=1", "x=2"], "--set gives x twice (x=1 and x=2)"),
    (["x=nan"], "the value must be a finite number, got nan"),
    (["x=1", "y=2"], "--set gives y, which the expression does not use (a typo?)"),
])
def test_bad_set_values(capsys, values, message):
    code, out, err = run(capsys, "graph", "2*x", "--set", *values)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_an_expression_without_variables_is_refused(capsys):
    code, _, err = run(capsys, "graph", "2 + 3")
    assert code == 2 and "uses no variables, so there is nothing to differentiate" in err


def test_an_expression_too_deep_for_the_parser_is_refused(capsys):
    code, _, err = run(capsys, "graph", "(" * 5000 + "x" + ")" * 5000, "--set", "x=1")
    assert code == 2 and "Traceback" not in err


def test_a_long_chain_evaluates(capsys):
    code, out, _ = run(capsys, "graph", "x" + " + x" * 199, "--set", "x=1")
    assert code == 0 and "d/dx = 200.0" in out


def test_the_expression_is_never_run_as_python(capsys, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec must not be used")

    real_compile = builtins.compile

    def only_to_a_tree(source, filename, mode, flags=0, *args, **kwargs):
        # ast.parse is compile(..., flags=PyCF_ONLY_AST): a tree, no code object.
        assert flags & ast.PyCF_ONLY_AST, "compile used to make code"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(builtins, "compile", only_to_a_tree)
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "graph", *NEURON)[0] == 0
    for attack in ("open('pwned', 'w')", "__import__('os').system('touch pwned')",
                   "[c for c in ().__class__.__base__.__subclasses__()]"):
        code, _, err = run(capsys, "graph", attack)
        assert code == 2 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------
# The other commands, and the installed script
# ---------------------------------------------------------------------------------------

def test_demo_runs_the_main_demo(capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(tinygrad_edu.demo, "main", lambda: calls.append(1))
    assert run(capsys, "demo")[0] == 0
    assert calls == [1]


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out == f"tinygrad-edu {tinygrad_edu.__version__}\n"


@pytest.mark.parametrize("argv", [["--help"], ["graph", "--help"], ["demo", "--help"]])
def test_help(capsys, argv):
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.startswith("usage: tinygrad-edu")


def test_no_command_is_a_usage_error(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "required: COMMAND" in err


def test_setup_cfg_registers_the_console_script():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    scripts = config["options.entry_points"]["console_scripts"].strip()
    assert scripts == "tinygrad-edu = tinygrad_edu.cli:main"


def test_the_command_runs_as_a_program():
    command = [sys.executable, "-m", "tinygrad_edu.cli", "graph"]
    done = subprocess.run(command + NEURON, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "d/dw = 1.000" in done.stdout
    failed = subprocess.run(command + ["x.__class__", "--set", "x=1"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2
    assert "at column 1:\n  x.__class__\n  ^~~~~~~~~~~\n" in failed.stderr
    assert "Traceback" not in failed.stderr


# ---------------------------------------------------------------------------------------
# Long input is cut in messages
# ---------------------------------------------------------------------------------------

def balanced_sum(terms):
    """``terms`` added as a balanced tree of brackets: a long expression that stays
    shallow enough for Python's parser."""
    while len(terms) > 1:
        terms = [f"({a} + {b})" for a, b in zip(terms[::2], terms[1::2], strict=True)]
    return terms[0]


LONG = balanced_sum(["x"] * 2**12)  # ~41,000 characters


@pytest.mark.parametrize(("expression", "column", "piece"), [
    (f"{LONG} + x.y + {LONG}", len(LONG) + 4, "x.y"),  # in the middle
    (f"{LONG} +", len(LONG) + 3, ""),  # at the end: the caret follows the text
    (f"x.y + {LONG}", 1, "x.y"),  # at the start
])
def test_a_long_expression_is_shown_around_the_error(capsys, expression, column, piece):
    code, _, err = run(capsys, "graph", expression, "--set", "x=1")
    assert code == 2 and len(err) < 1000
    first, line, caret = err.splitlines()[:3]
    assert first.endswith(f" at column {column}:")
    assert len(line) <= 2 + 3 + 76 + 3 and "..." in line
    at = caret.index("^")
    assert line[at:at + len(piece)] == piece
    assert caret.strip("^~ ") == ""


def test_long_names_and_numbers_are_shortened_in_messages(capsys):
    name = "v" * 30_000
    for expression in (f"x + {name}", f"x + {name}(x)", "x + 1" + "0" * 30_000,
                       f"x + log(0 * {LONG})", balanced_sum(["1"] * 2**12)):
        code, _, err = run(capsys, "graph", expression, "--set", "x=1")
        assert code == 2 and len(err) < 1000, (expression[:20], err[:200])
    code, _, err = run(capsys, "graph", "2*x", "--set", "x=1" + "0" * 30_000)
    assert code == 2 and len(err) < 1000, err[:200]


# ---------------------------------------------------------------------------------------
# Large graphs, the documented command lines, pipes and folders
# ---------------------------------------------------------------------------------------

LARGE = "x" + " + x" * 300  # more nodes than a drawing may have by default


@pytest.mark.parametrize(("options", "advice"), [
    (["--dot"], "leave out --dot to print the value and gradients alone"),
    (["--out", "g.svg", "--backward"], "leave out --out to print"),
    (["--html", "s.html"], "or --no-graph to step through the page's numbers alone"),
])
def test_a_graph_over_the_node_limit_is_a_one_line_error_naming_the_flags(
        capsys, tmp_path, monkeypatch, options, advice):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "graph", LARGE, "--set", "x=1", *options)
    assert code == 2 and out == "" and list(tmp_path.iterdir()) == []
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.match(r"tinygrad-edu graph: the graph has \d+ nodes \(values, ops and "
                    r"constants\), more than --max-nodes=500, too many to read in a drawing "
                    r"\(--\w+\); pass a larger --max-nodes", err)
    assert advice in err


def test_max_nodes_and_no_graph_let_a_large_graph_through(capsys, tmp_path):
    code, out, err = run(capsys, "graph", LARGE, "--set", "x=1", "--dot", "--max-nodes", "700")
    assert code == 0 and out.startswith("digraph") and "d/dx = 301.0" in err
    page = tmp_path / "s.html"
    code, out, _ = run(capsys, "graph", LARGE, "--set", "x=1", "--html", str(page),
                       "--no-graph")
    assert code == 0 and f"wrote {page}" in out
    assert "<svg" not in page.read_text() and '"label": "x"' in page.read_text()
    code, _, err = run(capsys, "graph", "x*x", "--set", "x=1", "--dot", "--max-nodes", "2")
    assert code == 2 and "the graph has 3 nodes" in err


@pytest.mark.parametrize(("options", "message"), [
    (["--max-nodes", "0"], "argument --max-nodes: expected a whole number of at least 1, "
                           "got '0'"),
    (["--max-nodes", "many"], "expected a whole number of at least 1, got 'many'"),
    (["--no-graph"], "--no-graph leaves the picture out of the --html page; give --html too"),
])
def test_bad_drawing_options(capsys, options, message):
    code, out, err = run(capsys, "graph", "2*x", "--set", "x=1", *options)
    assert code == 2 and out == "" and message in err


@pytest.mark.parametrize("argv", [
    ["graph", "--", "-x*y", "--set", "x=1", "y=2"],
    ["graph", "--set", "x=1", "y=2", "--", "-x*y"],
    ["graph", "--dot", "--", "-x*y", "--set", "x=1", "y=2", "--backward"],
])
def test_an_expression_starting_with_minus_goes_after_dashes(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 0
    assert "-x*y = -2.000\nd/dx = -2.000\nd/dy = -1.000\n" in out + err


def documented_command_lines():
    """Every `tinygrad-edu graph ...` line of docs/cli.md's shell blocks and of the
    command's --help, without what it is piped into."""
    page = (ROOT / "docs" / "cli.md").read_text()
    shell = "\n".join(re.findall(r"```sh\n(.*?)```", page, re.S))
    help_text = subprocess.run([sys.executable, "-m", "tinygrad_edu.cli", "graph", "--help"],
                               cwd=ROOT, capture_output=True, text=True, timeout=120).stdout
    lines = [line.strip() for line in (shell + "\n" + help_text).splitlines()]
    return [line.split(" | ")[0] for line in lines if line.startswith("tinygrad-edu graph ")]


def test_every_documented_command_line_runs(capsys, tmp_path, monkeypatch):
    lines = documented_command_lines()
    assert any(" -- " in line for line in lines)  # the form for a leading minus
    assert len(lines) >= 8
    monkeypatch.chdir(tmp_path)
    for line in lines:
        argv = shlex.split(line)[1:]
        code, _, err = run(capsys, *argv)
        assert code == 0, (line, err)


def test_a_closed_pipe_ends_the_command_quietly():
    # The DOT text is larger than a pipe's buffer, so writing it meets the closed pipe.
    command = [sys.executable, "-m", "tinygrad_edu.cli", "graph", LARGE, "--set", "x=1",
               "--dot", "--max-nodes", "1000"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:
        assert process.stdout.readline().startswith("digraph")
        process.stdout.close()
        err = process.stderr.read()
        code = process.wait(timeout=120)
    assert code == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert "d/dx = 301.0" in err  # the report had gone to stderr before


def test_out_creates_missing_folders_and_the_help_says_so(capsys, tmp_path):
    path = tmp_path / "new" / "folder" / "g.svg"
    code, out, _ = run(capsys, "graph", *NEURON, "--out", str(path), "--html",
                       str(tmp_path / "other" / "s.html"))
    assert code == 0 and f"wrote {path}" in out and path.exists()
    assert (tmp_path / "other" / "s.html").exists()
    _, help_text, _ = run(capsys, "graph", "--help")
    assert "--out and --html create missing folders" in help_text
    page = (ROOT / "docs" / "cli.md").read_text()
    assert "create missing folders" in page

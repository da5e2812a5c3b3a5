"""Every example script runs to the end and prints what it promises."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("[0-9][0-9]_*.py"))
# The package from this checkout, whether or not it is installed.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def run(script: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, check=False, env=ENV)


def test_examples_are_found():
    assert [p.name for p in EXAMPLES][:2] == ["01_scalar_backprop.py", "02_custom_op.py"]


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script):
    result = run(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_custom_op_example_shows_the_check_and_the_caught_bug():
    script = next(p for p in EXAMPLES if p.name == "02_custom_op.py")
    out = run(script).stdout
    assert "first and second derivatives passed" in out
    assert "analytic 0.4 vs numeric 0.8" in out

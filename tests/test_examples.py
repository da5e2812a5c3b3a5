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


def run(script: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run an example (with ``args``, e.g. ``--fast``) from ``cwd``, where it writes its
    out/ folder."""
    return subprocess.run([sys.executable, str(script), *args], capture_output=True,
                          text=True, timeout=300, check=False, env=ENV, cwd=cwd)


def test_examples_are_found():
    assert [p.name for p in EXAMPLES] == [
        "01_scalar_backprop.py", "02_custom_op.py", "03_mlp_from_neurons.py",
        "04_train_spiral.py", "05_digits.py", "06_optimizers.py", "07_see_backprop.py",
        "08_babysitting.py", "09_search.py", "10_cnn_digits.py", "11_transfer.py"]


def test_training_examples_write_their_plots(tmp_path):
    for name in ("04_train_spiral.py", "06_optimizers.py"):
        assert run(next(p for p in EXAMPLES if p.name == name), tmp_path).returncode == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "04_spiral_boundary.png", "04_spiral_loss.png", "06_optimizers.png"]


# The CNN and transfer examples train for minutes in full; their own test files run them
# in their --fast mode and check what they print.
IN_FULL = [p for p in EXAMPLES if p.name not in ("10_cnn_digits.py", "11_transfer.py")]


@pytest.mark.parametrize("script", IN_FULL, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    result = run(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_custom_op_example_shows_the_check_and_the_caught_bug(tmp_path):
    script = next(p for p in EXAMPLES if p.name == "02_custom_op.py")
    out = run(script, tmp_path).stdout
    assert "first and second derivatives passed" in out
    assert "analytic 0.4 vs numeric 0.8" in out


def test_see_backprop_example_writes_the_views_and_marks_the_failure_modes(tmp_path):
    script = next(p for p in EXAMPLES if p.name == "07_see_backprop.py")
    result = run(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Mul#2 = Mul(x2, w2) = 0  upstream 0.5" in result.stdout
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "07_dead_relu.svg", "07_neuron_steps.html", "07_tanh_good.svg",
        "07_tanh_saturated.svg"]
    assert "saturated: " in (out / "07_tanh_saturated.svg").read_text()
    assert "saturated: " not in (out / "07_tanh_good.svg").read_text()
    assert "dead ReLU: input &lt;= 0 everywhere" in (out / "07_dead_relu.svg").read_text()


def test_babysitting_example_prints_each_verdict_and_writes_the_figures(tmp_path):
    script = next(p for p in EXAMPLES if p.name == "08_babysitting.py")
    result = run(script, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "check_initial_loss: PASS: loss 1.1875, expected 1.0986 = log(3)" in out
    assert "check_initial_loss: FAIL: loss" in out and "too high" in out
    assert "check_overfit: PASS: 20 examples" in out
    assert "lr_find: 98 steps" in out and "suggestion 2.0e-01" in out
    assert "validation accuracy 97.2% after 20 epochs" in out
    assert "layers.8.weight: update/weight ratio" in out
    assert "verdict: PASS: fine" in out
    assert " small: activation std by layer" in out and "10 shrinking" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "08_activations.png", "08_grad_norms.png", "08_history.png", "08_lr_find.png",
        "08_tanh_he.png", "08_tanh_small.png", "08_tanh_xavier.png", "08_update_ratios.png"]


def test_search_example_compares_random_with_grid_and_refines(tmp_path):
    script = next(p for p in EXAMPLES if p.name == "09_search.py")
    result = run(script, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert ("random search tried 9 distinct values of the important parameter x, "
            "the 3x3 grid 3") in out
    assert "fine stage: lr log_uniform(" in out
    assert "\nbest: " in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "09_search_history.png", "09_search_scatter.png"]

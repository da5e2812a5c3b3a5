"""Each lesson, run in fast mode, measures its claim in the claimed direction, with a
margin; the command lists and runs lessons."""

import argparse
import subprocess
import sys

import pytest

from tinygrad_edu import lessons


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("lessons")


def run(number, out):
    result = lessons.LESSONS[number][1](fast=True, out=out, seed=0)
    assert result.number == number
    for path in result.figures:
        assert (out / path.split("/")[-1]).stat().st_size > 0
    return result.numbers


def test_01_sigmoid_gradient_vanishes(out):
    n = run(1, out)
    assert n["first-layer grad norm, 9 layers"] * 10 < n["first-layer grad norm, 2 layers"]
    assert n["nodes marked vanishing in the backward view"] > 0


def test_02_positive_inputs_share_a_sign(out):
    share = run(2, out)["steps whose two weight gradients share a sign"]
    assert share["positive inputs"] == 1.0
    assert share["zero-centred"] < 0.8


def test_03_constant_init_units_stay_identical(out):
    n = run(3, out)
    spread, moved = n["hidden units' spread"], n["largest hidden weight change"]
    assert moved["constant 0.1 init"] > 1e-3  # they trained ...
    # ... yet stayed equal to rounding, while random units stay far apart
    assert spread["constant 0.1 init"] < 1e-9 * moved["constant 0.1 init"]
    assert spread["zero init"] < 1e-12
    assert spread["random init"] > 0.1


def test_04_init_statistics(out):
    n = run(4, out)
    last, first = n["last-layer std"], n["first-layer std"]
    assert last["tanh/small"] < 1e-3 * last["tanh/xavier"]  # vanishes
    assert n["tanh/normal last layer saturated"] > 0.5  # saturates
    assert last["relu/xavier"] < 0.2 * last["relu/he"]  # Xavier halves ReLU's variance
    assert 0.5 < last["relu/he"] / first["relu/he"] < 2  # He keeps it


def test_05_relu_faster_than_tanh(out):
    steps = run(5, out)["steps to loss 0.5"]
    assert steps["relu"] is not None
    assert steps["tanh"] is None or steps["tanh"] > 1.3 * steps["relu"]


def test_06_high_lr_kills_relus(out):
    n = run(6, out)
    dead, accuracy = n["dead share after training"], n["training accuracy"]
    assert dead["too high lr 10"] > dead["good lr 0.1"] + 0.3
    assert accuracy["too high lr 10"] < accuracy["good lr 0.1"] - 0.2


def test_07_batchnorm_insensitive(out):
    n = run(7, out)
    good = n["cells (of 9) at >= 80% validation accuracy"]
    assert good["with BN"] >= good["without BN"] + 2
    mean = n["mean accuracy over the grid"]
    assert mean["with BN"] > mean["without BN"] + 0.1


def test_08_dropout_narrows_gap(out):
    gaps = run(8, out)["train - validation accuracy"]
    assert gaps["dropout 0.5"] < gaps["dropout 0.0"] - 0.01


def test_09_preprocessing(out):
    n = run(9, out)
    loss = n["loss after 100 epochs at the best lr"]
    assert loss["standardized"] < 0.5 * loss["centred"]
    assert loss["centred"] < 0.95 * loss["raw"]
    cov = n["covariance of the two features"]
    assert abs(cov["decorrelated (PCA)"]) < 1e-6 * abs(cov["original"])


def test_10_babysitting(out):
    n = run(10, out)
    assert abs(n["initial loss"] - n["log C"]) < 0.2 * n["log C"]
    assert n["training accuracy on 20 examples"] == 1.0


def test_11_optimizers(out):
    n = run(11, out)
    ravine = n["ravine loss after 100 steps (lr 0.025)"]
    spiral = n["spiral loss after 80 epochs (lr 0.01)"]
    for name in ("momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"):
        assert ravine[name] < 0.5 * ravine["SGD"], name
    assert spiral["Adam"] < 0.5 * spiral["SGD"]


def test_12_random_beats_grid(out):
    n = run(12, out)
    assert n["distinct values of the important parameter tried"] == {"random": 9, "grid": 3}
    assert n["random's best beats the grid's (of 20)"] > 0.55


def test_13_update_ratio_follows_lr(out):
    ratio = run(13, out)["median update/weight ratio at lr x"]
    assert 1e-4 < ratio["1x"] < 1e-2
    assert ratio["0.1x"] * 2 < ratio["1x"] < ratio["10x"] / 2


def test_14_transfer_learning(out):
    n = run(14, out)
    assert n["training images"] == 10 and n["seeds"] == 3
    accuracy = n["test accuracy"]
    assert accuracy["scratch"] > 0.5  # ten images already teach a lot (chance: 0.2)
    for name in ("frozen features", "fine-tuned"):  # pretrained wins by points
        assert accuracy[name] > accuracy["scratch"] + 0.02, name


def cli(*args):
    return subprocess.run([sys.executable, "-m", "tinygrad_edu.cli", "lesson", *args],
                          capture_output=True, text=True, timeout=120)


def test_command_lists_lessons():
    done = cli("list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 14 and lines[0].startswith(" 1. ") and lines[-1].startswith("14. ")


def test_command_runs_a_fast_lesson(tmp_path):
    done = cli("3", "--fast", "--out", str(tmp_path), "--seed", "1")
    assert done.returncode == 0, done.stderr
    assert "lesson 3:" in done.stdout
    assert (tmp_path / "lesson_03_unit_spread.png").exists()


def test_command_rejects_an_unknown_lesson():
    done = cli("15")
    assert done.returncode == 2
    assert "expected a lesson number 1 to 14 or 'list'; got '15'" in done.stderr


def test_14_says_what_it_needs_without_the_pretrained_model(out, monkeypatch):
    monkeypatch.setitem(sys.modules, "tinygrad_edu.models", None)  # import fails
    with pytest.raises(lessons.LessonUnavailable, match=r"lesson 14 needs the pretrained CNN, "
                       r"tinygrad_edu\.models\.digits_cnn\(pretrained=True\)"):
        lessons.transfer_learning(fast=True, out=out)
    args = argparse.Namespace(which="14", fast=True, out=str(out), seed=0)
    assert lessons.run(args) == 1

"""examples/11_transfer.py runs (in its fast mode) and prints the three variants'
accuracies, the differences to scratch and the lectures' recommendation; the claims it
makes hold with a margin (no figure is pinned: they depend on the draws)."""

import re
from pathlib import Path

from test_examples import run

SCRIPT = Path(__file__).parent.parent / "examples" / "11_transfer.py"
ROWS = {"frozen": "(a) frozen features + new classifier",
        "finetune": "(b) fine-tune all, pretrained at lr/10",
        "scratch": "(c) same network from scratch"}


def test_transfer_example_compares_frozen_finetuned_and_scratch(tmp_path):
    result = run(SCRIPT, tmp_path, "--fast")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "digits 5-9: 448 images to draw the labelled ones from, 448 held out" in out
    table = {}
    for variant, label in ROWS.items():
        row = re.search(re.escape(label) + r" +([\d.]+)% +([\d.]+)%\n", out)
        assert row, f"no row for {label!r} in:\n{out}"
        table[variant] = [float(a) for a in row.groups()]
    for variant, (five, twenty) in table.items():
        assert five > 60, variant  # far above chance (20%) from 25 images
        assert twenty > five + 2, variant  # more labelled images help every variant
    # Training the features too beats keeping them frozen, more so with little data.
    assert table["finetune"][0] > table["frozen"][0] + 1
    for variant in ("frozen", "finetune"):
        line = re.search(rf"{variant} minus scratch: ([-+][\d.]+)% at 5 per class, "
                         rf"([-+][\d.]+)% at 20 per class\n", out)
        assert line, out
        for shown, mine, theirs in zip(line.groups(), table[variant], table["scratch"]):
            assert abs(float(shown) - (mine - theirs)) < 0.15
    assert "with little data similar to the pretraining data, train a linear classifier " \
           "on the frozen features; with more data, fine-tune more layers" in out

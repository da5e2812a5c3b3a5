"""examples/10_cnn_digits.py runs (in its fast mode) and prints what it promises: the
network (models.digits_cnn), its size and the accuracies, without and with test-time
augmentation. Its full run (above 98%) is part of
test_examples' run of every example."""

import re
from pathlib import Path

from test_examples import run

SCRIPT = Path(__file__).parent.parent / "examples" / "10_cnn_digits.py"


def test_cnn_digits_example_trains_the_network_it_describes(tmp_path):
    result = run(SCRIPT, tmp_path, "--fast")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "(0): Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))" in out
    assert "(7): MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))" in out
    assert "6186 parameters" in out
    assert "1257 training, 270 validation, 270 test images" in out
    accuracy = re.search(r"3 epochs in [\d.]+ s; validation accuracy [\d.]+%\n"
                         r"test accuracy: ([\d.]+)% \(\d+ of 270 wrong\)\n"
                         r"with test-time augmentation \(9 shifted copies\): ([\d.]+)% "
                         r"\(([-+][\d.]+)%\)\n", out)
    assert accuracy and float(accuracy.group(1)) > 80  # three epochs already learn
    plain, tta, change = (float(g) for g in accuracy.groups())
    assert abs(tta - plain - change) < 0.11 and tta > 80

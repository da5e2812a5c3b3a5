"""The plots are written as PNG files without a display."""

from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.plots import plot_curves, plot_decision_boundary, plot_history, plot_lr
from tinygrad_edu.train import History

PNG = b"\x89PNG"


def test_history_plot_with_and_without_accuracy(tmp_path):
    full = History([1.0, 0.5], [0.5, 0.8], [1.1, 0.7], [0.4, 0.7], [0.1, 0.1])
    path = plot_history(full, tmp_path / "sub" / "loss.png")
    assert Path(path).read_bytes()[:4] == PNG
    regression = History([1.0, 0.5], [None, None], [None, None], [None, None], [0.1, 0.1])
    assert Path(plot_history(regression, tmp_path / "r.png")).read_bytes()[:4] == PNG


def test_decision_boundary_and_lr(tmp_path):
    X = np.random.default_rng(0).standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)
    for model in (nn.MLP(2, [4, 2], seed=0), nn.MLP(2, [4, 1], seed=0)):
        path = plot_decision_boundary(model, X, y, tmp_path / "b.png", resolution=20)
        assert Path(path).read_bytes()[:4] == PNG
    assert Path(plot_lr([0.1, 0.05, 0.01], tmp_path / "lr.png")).read_bytes()[:4] == PNG
    curves = {"a": [1.0, 0.5], "b": [1.0, 0.2]}
    assert Path(plot_curves(curves, tmp_path / "c.png", log=True)).read_bytes()[:4] == PNG
    with pytest.raises(ValueError, match=r"plot_decision_boundary: needs 2-D points of shape "
                                         r"\(N, 2\); got \(30, 3\)"):
        plot_decision_boundary(nn.MLP(3, [2], seed=0), np.ones((30, 3)), y, tmp_path / "x.png")

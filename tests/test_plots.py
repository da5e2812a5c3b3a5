"""The plots are written as PNG files without a display."""

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.diagnostics import Monitor, lr_find
from tinygrad_edu.optim import SGD
from tinygrad_edu.plots import (
    plot_activation_histograms,
    plot_curves,
    plot_decision_boundary,
    plot_grad_norms,
    plot_history,
    plot_lr,
    plot_update_ratios,
)
from tinygrad_edu.train import History, fit

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


def monitored_run():
    X = np.random.default_rng(0).standard_normal((60, 2))
    y = (X[:, 0] > 0).astype(int)
    model = nn.MLP(2, [8, 8, 2], activation="tanh", seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    with Monitor(model) as monitor:
        history = fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), (X, y), epochs=3,
                      progress=False, on_batch_end=monitor)
    return model, optimizer, monitor, history, X, y


def test_babysitting_plots(tmp_path):
    model, optimizer, monitor, history, X, y = monitored_run()
    for plot in (plot_activation_histograms, plot_grad_norms, plot_update_ratios):
        assert Path(plot(monitor, tmp_path / f"{plot.__name__}.png")).read_bytes()[:4] == PNG
    assert Path(plot_history(history, tmp_path / "v.png", verdict=True)).read_bytes()[:4] == PNG
    found = lr_find(model, nn.CrossEntropyLoss(), (X, y), steps=20, optimizer=optimizer,
                    progress=False)
    assert Path(found.plot(tmp_path / "lr_find.png")).read_bytes()[:4] == PNG
    empty = Monitor(nn.MLP(2, [4, 2], seed=0))
    with pytest.raises(ValueError, match="plot_activation_histograms: the monitor has "
                                         "recorded no activation layer yet"):
        plot_activation_histograms(empty, tmp_path / "e.png")
    with pytest.raises(ValueError, match="plot_update_ratios: the monitor has recorded no "
                                         "step yet"):
        plot_update_ratios(empty, tmp_path / "e.png")


def test_figures_show_below_the_cell_in_a_jupyter_kernel(tmp_path, monkeypatch):
    shown = []
    kernel = types.SimpleNamespace(kernel=object())
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: kernel
    ipython.version_info = (8, 30, 0)  # matplotlib reads it when it makes its first canvas
    display = types.ModuleType("IPython.display")
    display.Image = lambda filename: ("image", filename)
    display.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    path = plot_lr([0.1, 0.01], tmp_path / "lr.png")
    assert shown == []  # IPython without ipykernel: a terminal session, nothing shown
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    path = plot_lr([0.1, 0.01], tmp_path / "lr.png")
    assert shown == [("image", path)]


def test_the_search_pictures_are_offered_by_plots_too():
    from tinygrad_edu import plots
    from tinygrad_edu.search import plots as search_plots

    assert plots.search_scatter is search_plots.search_scatter
    assert plots.search_history is search_plots.search_history

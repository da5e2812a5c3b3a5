"""The main demo runs, its network learns, and it writes its plots and graph views."""

from itertools import pairwise

import graphviz

from tinygrad_edu.demo import main, neuron_gradients, neuron_views, train_spiral, train_xor


def test_demo_network_loss_falls():
    losses = train_xor()
    assert losses[-1] < 0.01 < losses[0]
    assert all(b <= a for a, b in pairwise(losses))


def test_demo_prints_the_neuron_gradients_and_writes_the_plots_and_views(capsys, tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    main()
    out = capsys.readouterr().out
    assert "x1          2.0000   -1.5000" in out and "w1         -3.0000    1.0000" in out
    out_dir = tmp_path / "out"
    assert (out_dir / "spiral_loss.png").stat().st_size > 10_000
    assert (out_dir / "spiral_boundary.png").stat().st_size > 10_000
    for name in ("neuron_forward.svg", "neuron_backward.svg", "neuron_steps.html",
                 "mlp_forward.svg", "mlp_backward.svg"):
        assert f"wrote out/{name}" in out
    neuron = (out_dir / "neuron_backward.svg").read_text()
    assert ">w1<" in neuron and "grad 1.000" in neuron
    mlp = (out_dir / "mlp_backward.svg").read_text()
    for layer in ("layers.0: Linear", "layers.1: Tanh", "layers.4: Linear"):
        assert layer in mlp
    page = (out_dir / "neuron_steps.html").read_text()
    assert '"pass": "forward"' in page and '"pass": "backward"' in page


def test_without_dot_the_demo_says_how_to_install_it(capsys, tmp_path, monkeypatch):
    def no_dot(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", no_dot)
    assert neuron_views(neuron_gradients(), str(tmp_path)) == []
    assert "no pictures: Graphviz's `dot` program is not on the PATH" in capsys.readouterr().out


def test_spiral_network_is_above_95_percent(tmp_path):
    train_acc, val_acc, _ = train_spiral(str(tmp_path), progress=False)
    assert train_acc > 0.95 and val_acc > 0.95

"""The main demo runs and its network learns."""

from itertools import pairwise

from tinygrad_edu.demo import main, train_spiral, train_xor


def test_demo_network_loss_falls():
    losses = train_xor()
    assert losses[-1] < 0.01 < losses[0]
    assert all(b <= a for a, b in pairwise(losses))


def test_demo_prints_the_neuron_gradients_and_writes_the_plots(capsys, tmp_path,
                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    main()
    out = capsys.readouterr().out
    assert "x1          2.0000   -1.5000" in out and "w1         -3.0000    1.0000" in out
    assert (tmp_path / "out" / "spiral_loss.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "spiral_boundary.png").stat().st_size > 10_000


def test_spiral_network_is_above_95_percent(tmp_path):
    train_acc, val_acc, _ = train_spiral(str(tmp_path), progress=False)
    assert train_acc > 0.95 and val_acc > 0.95

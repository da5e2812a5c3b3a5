"""The main demo runs and its network learns."""

from itertools import pairwise

from tinygrad_edu.demo import main, train_xor


def test_demo_network_loss_falls():
    losses = train_xor()
    assert losses[-1] < 0.01 < losses[0]
    assert all(b <= a for a, b in pairwise(losses))


def test_demo_prints_the_neuron_gradients(capsys):
    main()
    out = capsys.readouterr().out
    assert "x1          2.0000   -1.5000" in out and "w1         -3.0000    1.0000" in out

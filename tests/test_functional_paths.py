"""What the functional API keeps where its tests looked least (tinygrad_edu.functional): each
loss names itself in the empty-batch error, cross_entropy checks a training step's labels
and reduction as any other call's and keeps the input's dtype with probabilities, fractional
max pooling checks the width as the height, and stochastic depth drops a row exactly when
its draw is below p, in x's dtype."""

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value
from tinygrad_edu.rng import generator

ELEMENTWISE = ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy"]
CLASSES = ["nll_loss", "cross_entropy", "multi_margin_loss", "svm_loss"]


@pytest.mark.parametrize("name", ELEMENTWISE + CLASSES)
def test_every_loss_names_itself_when_asked_the_mean_of_an_empty_batch(name):
    loss = getattr(F, name)
    args = ((np.zeros(0), np.zeros(0)) if name in ELEMENTWISE
            else (Value(np.zeros((0, 3))), np.zeros(0, dtype=np.intp)))
    with pytest.raises(ValueError, match=rf"^{name}: reduction='mean' of an empty batch is "
                                         rf"undefined \(PyTorch returns nan\); use "
                                         rf"reduction='sum'$"):
        loss(*args)


@pytest.mark.parametrize("n", [1, 3])
def test_cross_entropy_refuses_labels_of_another_length_even_one_that_broadcasts(n):
    with pytest.raises(ValueError, match=rf"^cross_entropy: input of shape \(2, 3\) needs class "
                                         rf"labels of shape \(2,\) or class probabilities of "
                                         rf"shape \(2, 3\); got target of shape \({n},\)$"):
        F.cross_entropy(Value(np.zeros((2, 3))), np.zeros(n, np.intp))


def test_cross_entropy_of_scores_and_index_labels_refuses_a_bad_reduction():
    with pytest.raises(ValueError, match=r"^cross_entropy: reduction must be 'mean', 'sum' or "
                                         r"'none'; got 'avg'$"):
        F.cross_entropy(Value(np.zeros((2, 3))), np.zeros(2, np.intp), reduction="avg")


def test_cross_entropy_with_float64_probabilities_keeps_a_float32_input_float32():
    loss = F.cross_entropy(Value(np.zeros((2, 3), np.float32)), np.full((2, 3), 1 / 3))
    assert loss.dtype == np.float32
    assert loss.item() == pytest.approx(np.log(3.0))


@pytest.mark.parametrize("size", [(4, 3), (3, 4)])
def test_fractional_max_pool2d_refuses_windows_one_too_many_on_either_side(size):
    x = Value(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=rf"^fractional_max_pool2d: {size[0]}x{size[1]} windows "
                                         rf"of 2x2 do not fit in a 4x4 input \(output \+ "
                                         rf"kernel - 1 must be <= input\)$"):
        F.fractional_max_pool2d(x, 2, output_size=size)
    assert F.fractional_max_pool2d(x, 2, output_size=(3, 3), seed=0).shape == (1, 1, 3, 3)


def test_fractional_max_pool2d_names_a_bad_output_size():
    with pytest.raises(ValueError, match=r"^fractional_max_pool2d: output_size must be >= 1; "
                                         r"got \(0, 2\)$"):
        F.fractional_max_pool2d(Value(np.zeros((1, 1, 4, 4))), 2, output_size=(0, 2))


def test_stochastic_depth_drops_a_row_exactly_when_its_draw_is_below_p():
    draws = generator(3).random((4, 1))
    p = float(draws[1, 0])  # row 1's draw is p itself: kept, as u >= p keeps with 1 - p
    x = Value(np.arange(8.0).reshape(4, 2))
    out = F.stochastic_depth(x, p, seed=3)
    np.testing.assert_allclose(out.data, x.data * (draws >= p) / (1.0 - p))
    assert np.all(out.data[1] != 0)


@pytest.mark.parametrize("p", [0.5, 1.0])
def test_stochastic_depth_keeps_a_float32_input_float32(p):
    out = F.stochastic_depth(Value(np.ones((4, 3), np.float32)), p, seed=0)
    assert out.dtype == np.float32

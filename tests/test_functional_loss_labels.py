"""The label checks of the class losses: a message offers class probabilities only where
the loss accepts them (cross_entropy), not where it needs labels (nll_loss)."""

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value


def test_nll_loss_asks_for_labels_of_the_input_shape_without_the_class_axis():
    with pytest.raises(ValueError, match=r"^nll_loss: input of shape \(3, 4\) needs class "
                       r"labels of shape \(3,\); got target of shape \(2,\)$"):
        F.nll_loss(Value(np.zeros((3, 4))), np.zeros(2, int))


def test_cross_entropy_also_offers_class_probabilities():
    with pytest.raises(ValueError, match=r"^cross_entropy: input of shape \(3, 4\) needs "
                       r"class labels of shape \(3,\) or class probabilities of shape "
                       r"\(3, 4\); got target of shape \(2,\)$"):
        F.cross_entropy(Value(np.zeros((3, 4))), np.zeros(2, int))

"""The labels of the class losses: a message offers class probabilities only where
the loss accepts them (cross_entropy), not where it needs labels (nll_loss); label smoothing."""

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


def test_cross_entropy_with_full_label_smoothing_is_the_mean_over_classes():
    # label_smoothing=1 spreads each target evenly over the classes: the label is ignored
    scores = Value(np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]]))
    loss = F.cross_entropy(scores, np.array([0, 2]), label_smoothing=1.0)
    expected = -F.log_softmax(scores, axis=1).data.mean(axis=1).mean()
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12)

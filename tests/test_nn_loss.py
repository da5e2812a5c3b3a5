"""Loss modules call their functions with the stored options; the log(C) sanity check."""

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn

rng = np.random.default_rng(0)
LOGITS = Value(rng.standard_normal((6, 4)))
LABELS = rng.integers(0, 4, 6)
TARGETS = Value(rng.random((6, 4)), requires_grad=False)
PROBS = Value(rng.uniform(0.1, 0.9, (6, 4)))

CASES = [
    (nn.CrossEntropyLoss(label_smoothing=0.1), F.cross_entropy, LOGITS, LABELS,
     {"label_smoothing": 0.1}),
    (nn.NLLLoss(reduction="sum"), F.nll_loss, LOGITS, LABELS, {"reduction": "sum"}),
    (nn.MSELoss(), F.mse_loss, LOGITS, TARGETS, {}),
    (nn.L1Loss(), F.l1_loss, LOGITS, TARGETS, {}),
    (nn.HuberLoss(delta=0.5), F.huber_loss, LOGITS, TARGETS, {"delta": 0.5}),
    (nn.SmoothL1Loss(beta=0.5), F.smooth_l1_loss, LOGITS, TARGETS, {"beta": 0.5}),
    (nn.BCELoss(), F.binary_cross_entropy, PROBS, TARGETS, {}),
    (nn.BCEWithLogitsLoss(), F.binary_cross_entropy_with_logits, LOGITS, TARGETS, {}),
    (nn.MultiMarginLoss(margin=2.0), F.multi_margin_loss, LOGITS, LABELS, {"margin": 2.0}),
    (nn.SVMLoss(), F.svm_loss, LOGITS, LABELS, {}),
    (nn.HingeLoss(), F.hinge_loss, LOGITS[:, 0], np.where(LABELS > 1, 1.0, -1.0), {}),
]


@pytest.mark.parametrize(("module", "function", "x", "y", "options"), CASES,
                         ids=lambda c: type(c).__name__ if isinstance(c, nn.Module) else "")
def test_module_equals_function(module, function, x, y, options):
    assert module(x, y).item() == pytest.approx(function(x, y, **options).item())


def test_repr_shows_the_options():
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == (
        "CrossEntropyLoss(reduction='mean', label_smoothing=0.1)")


def test_initial_loss_is_log_of_the_class_count_with_small_random_weights():
    """The lectures' sanity check: tiny weights give uniform scores, so loss = log(C)."""
    model = nn.MLP(50, [100, 10], init="small", seed=0)
    X = Value(np.random.default_rng(1).standard_normal((500, 50)), requires_grad=False)
    y = np.random.default_rng(2).integers(0, 10, 500)
    loss = nn.CrossEntropyLoss()(model(X), y)
    assert loss.item() == pytest.approx(np.log(10), abs=0.01)


def test_initial_loss_under_the_default_init_is_documented():
    tg.manual_seed(0)
    model = nn.MLP(50, [100, 10], seed=0)
    X = Value(np.random.default_rng(1).standard_normal((500, 50)), requires_grad=False)
    y = np.random.default_rng(2).integers(0, 10, 500)
    loss = nn.CrossEntropyLoss()(model(X), y).item()
    assert np.log(10) < loss < np.log(10) + 1.5  # docs/nn.md quotes this number

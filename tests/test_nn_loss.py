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

W = np.array([1.0, 2.0, 0.5, 1.5])  # a weight per class (or per column for the BCEs)
HINGE_LABELS = np.where(LABELS > 1, 1.0, -1.0)
# Each module with every option away from its default, and with none given: both must
# equal the function called with the same options written out (PyTorch's defaults). The
# modules are built inside the test, as a user builds them (not when this file is imported).
EVERY_OPTION = [
    (nn.CrossEntropyLoss, F.cross_entropy, LOGITS, LABELS,
     {"weight": W, "reduction": "sum", "label_smoothing": 0.1}),
    (nn.NLLLoss, F.nll_loss, LOGITS, LABELS, {"weight": W, "reduction": "none"}),
    (nn.MSELoss, F.mse_loss, LOGITS, TARGETS, {"reduction": "sum"}),
    (nn.L1Loss, F.l1_loss, LOGITS, TARGETS, {"reduction": "none"}),
    (nn.HuberLoss, F.huber_loss, LOGITS, TARGETS, {"reduction": "sum", "delta": 0.5}),
    (nn.SmoothL1Loss, F.smooth_l1_loss, LOGITS, TARGETS, {"reduction": "none", "beta": 0.5}),
    (nn.BCELoss, F.binary_cross_entropy, PROBS, TARGETS, {"weight": W, "reduction": "sum"}),
    (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, LOGITS, TARGETS,
     {"weight": W, "reduction": "none", "pos_weight": W[::-1]}),
    (nn.MultiMarginLoss, F.multi_margin_loss, LOGITS, LABELS,
     {"p": 2, "margin": 2.0, "weight": W, "reduction": "sum"}),
    (nn.SVMLoss, F.svm_loss, LOGITS, LABELS, {"margin": 2.0, "reduction": "none"}),
    (nn.HingeLoss, F.hinge_loss, LOGITS[:, 0], HINGE_LABELS, {"reduction": "sum"}),
]
DEFAULTS = [
    (nn.CrossEntropyLoss, F.cross_entropy, LOGITS, LABELS,
     {"weight": None, "reduction": "mean", "label_smoothing": 0.0}),
    (nn.NLLLoss, F.nll_loss, LOGITS, LABELS, {"weight": None, "reduction": "mean"}),
    (nn.HuberLoss, F.huber_loss, LOGITS * 2, TARGETS, {"reduction": "mean", "delta": 1.0}),
    (nn.SmoothL1Loss, F.smooth_l1_loss, LOGITS * 2, TARGETS, {"reduction": "mean", "beta": 1.0}),
    (nn.BCELoss, F.binary_cross_entropy, PROBS, TARGETS, {"weight": None, "reduction": "mean"}),
    (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, LOGITS, TARGETS,
     {"weight": None, "reduction": "mean", "pos_weight": None}),
    (nn.MultiMarginLoss, F.multi_margin_loss, LOGITS, LABELS,
     {"p": 1, "margin": 1.0, "weight": None, "reduction": "mean"}),
    (nn.SVMLoss, F.svm_loss, LOGITS, LABELS, {"margin": 1.0, "reduction": "mean"}),
]


@pytest.mark.parametrize(("module", "function", "x", "y", "options"), EVERY_OPTION,
                         ids=lambda c: c.__name__ if isinstance(c, type) else "")
def test_module_passes_every_option_on(module, function, x, y, options):
    loss = module(**options)(x, y)
    np.testing.assert_allclose(loss.data, function(x, y, **options).data, rtol=1e-12)
    assert (loss.ndim > 0) == (options["reduction"] == "none")


@pytest.mark.parametrize(("module", "function", "x", "y", "options"), DEFAULTS,
                         ids=lambda c: c.__name__ if isinstance(c, type) else "")
def test_module_has_pytorchs_defaults(module, function, x, y, options):
    np.testing.assert_allclose(module()(x, y).data, function(x, y, **options).data,
                               rtol=1e-12)


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

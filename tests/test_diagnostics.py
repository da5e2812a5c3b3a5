"""The babysitting tools: each check, the LR finder and each monitor warning, on a case
where it must pass and on the lectures' failure mode where it must fail."""

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.data import spiral
from tinygrad_edu.diagnostics import check_initial_loss, check_overfit, verdict
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.train import History

X, Y = spiral(n_per_class=100, n_classes=3, seed=0)
RNG = np.random.default_rng(0)
X10, Y10 = RNG.standard_normal((200, 20)), RNG.integers(0, 10, 200)


def scaled(model, factor):
    for p in model.parameters():
        p.data *= factor
    return model


# ----------------------------------------------------------------------------------------
# check_initial_loss
# ----------------------------------------------------------------------------------------


def test_initial_loss_passes_for_small_weights_and_fails_for_weights_times_10():
    passed = check_initial_loss(nn.MLP(20, [50, 10], init="small", seed=0), X10, Y10)
    assert passed.passed and passed.expected == pytest.approx(np.log(10))
    assert str(passed).startswith("check_initial_loss: PASS: loss 2.3026, expected 2.3026 = "
                                  "log(10), within 20%")
    failed = check_initial_loss(scaled(nn.MLP(20, [50, 10], seed=0), 10), X10, Y10)
    assert not failed.passed and failed.measured > 50
    assert "FAIL" in str(failed) and "too high" in failed.message
    assert "smaller weights" in failed.message


def test_initial_loss_of_the_svm_loss_is_c_minus_1_and_regularization_raises_it():
    small = nn.MLP(20, [50, 10], init="small", seed=0)
    svm = check_initial_loss(small, X10, Y10, nn.SVMLoss())
    assert svm.passed and svm.expected == 9.0 and "C - 1 = 9" in svm.message
    reg = check_initial_loss(small, X10, Y10, weight_decay=1e-3)
    assert reg.passed and reg.details["regularized"] > reg.measured
    assert "with weight decay 0.001 it rises to" in reg.message


def test_initial_loss_errors_name_the_argument():
    model = nn.MLP(20, [50, 10], seed=0)
    with pytest.raises(TypeError, match="check_initial_loss: no chance-level loss is known "
                                        "for loss_fn MSELoss"):
        check_initial_loss(model, X10, Y10, nn.MSELoss())
    with pytest.raises(ValueError, match=r"output must be class scores of shape \(N, C\) "
                                         r"with C >= 2; got shape \(200, 1\)"):
        check_initial_loss(nn.MLP(20, [1], seed=0), X10, Y10)
    with pytest.raises(ValueError, match="weight_decay must be a number >= 0; got -1"):
        check_initial_loss(model, X10, Y10, weight_decay=-1)


# ----------------------------------------------------------------------------------------
# check_overfit
# ----------------------------------------------------------------------------------------


class IgnoresInput(nn.Module):
    """Class scores that do not depend on the input: it cannot fit anything."""

    def __init__(self):
        super().__init__()
        self.b = nn.Parameter(np.zeros(3))

    def forward(self, x):
        return self.b + 0.0 * x.sum(axis=1, keepdims=True)


def test_overfit_passes_and_leaves_the_model_and_optimizer_unchanged():
    model = nn.MLP(2, [64, 3], seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    before, opt_before = model.state_dict(), optimizer.state_dict()
    result = check_overfit(model, X, Y, optimizer=optimizer)
    assert result.passed and result.measured == 1.0 and "100%" in str(result)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    assert optimizer.state_dict() == opt_before and optimizer.state == {}


@pytest.mark.parametrize(("model", "lr", "why"), [
    (nn.MLP(2, [64, 3], seed=0), 0.0, "the loss did not move"),
    (IgnoresInput(), 0.01, "ignores its input"),
    (nn.MLP(2, [64, 3], activation="tanh", init="zeros", seed=0), 0.01, "symmetric units"),
], ids=["lr 0", "output ignores input", "zero-initialized"])
def test_overfit_fails_saying_why(model, lr, why):
    result = check_overfit(model, X, Y, epochs=100, optimizer=Adam(model.parameters(), lr=lr))
    assert not result.passed and result.measured < 1.0
    assert why in result.message and str(result).startswith("check_overfit: FAIL: 20 examples")


def test_overfit_errors():
    model = nn.MLP(2, [4, 3], seed=0)
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 300\]"):
        check_overfit(model, X, Y, n=0)
    with pytest.raises(ValueError, match="the optimizer does not hold the model's parameters"):
        check_overfit(model, X, Y, optimizer=SGD(nn.Linear(2, 3).parameters(), lr=0.1))


# ----------------------------------------------------------------------------------------
# verdict
# ----------------------------------------------------------------------------------------


def history(train_loss, val_loss, train_acc, val_acc):
    n = len(train_loss)
    return History(list(train_loss), list(train_acc or [None] * n), list(val_loss),
                   list(val_acc or [None] * n), [0.1] * n)


@pytest.mark.parametrize(("h", "label"), [
    (history([1.0, 0.5, 0.3, 0.3], [1.0, 0.5, 0.35, 0.35], [0.5, 0.9, 0.97, 0.97],
             [0.5, 0.9, 0.95, 0.95]), "fine"),
    (history([1.0, 0.5, 0.1, 0.05], [1.0, 0.6, 0.6, 0.7], [0.5, 0.9, 0.99, 1.0],
             [0.5, 0.8, 0.8, 0.78]), "overfitting"),
    (history([1.0, 0.5, 0.2, 0.1], [1.0, 0.3, 0.6, 0.7], [0.5, 0.9, 0.99, 1.0],
             [0.5, 0.95, 0.95, 0.95]), "overfitting"),
    (history([1.1, 1.0, 0.9, 0.9], [1.1, 1.0, 0.9, 0.9], [0.4, 0.5, 0.6, 0.6],
             [0.4, 0.5, 0.6, 0.6]), "underfitting"),
    (history([1.0, 0.8, 0.6, 0.4], [None] * 4, None, None), "underfitting"),
    (history([1.0, 2.0, 5.0, 9.0], [None] * 4, None, None), "diverged"),
    (history([1.0, 0.5, float("nan")], [None] * 3, None, None), "diverged"),
], ids=["fine", "gap", "validation rising", "low accuracy", "loss still falling",
        "loss rose", "nan"])
def test_verdict(h, label):
    result = verdict(h)
    assert result.measured["verdict"] == label and result.passed == (label == "fine")
    assert str(result).startswith(f"verdict: {'PASS' if label == 'fine' else 'FAIL'}: {label}")
    assert "gap" in result.message and "training loss" in result.message


def test_verdict_numbers_and_errors():
    h = history([1.0, 0.5, 0.1, 0.05], [1.0, 0.6, 0.6, 0.7], [0.5, 0.9, 0.99, 1.0],
                [0.5, 0.8, 0.8, 0.78])
    result = verdict(h)
    assert result.measured["gap"] == pytest.approx(0.22)
    assert result.measured["trend"] == pytest.approx(0.5)
    assert "gap (train - validation accuracy) 0.220" in result.message
    with pytest.raises(ValueError, match="verdict: needs the History of at least one epoch"):
        verdict(History())

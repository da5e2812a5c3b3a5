"""The babysitting tools: each check, the LR finder and each monitor warning, on a case
where it must pass and on the lectures' failure mode where it must fail."""

import io
import sys

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, manual_seed, nn
from tinygrad_edu.data import DataLoader, spiral, train_test_split
from tinygrad_edu.diagnostics import (
    Monitor,
    check_initial_loss,
    check_overfit,
    lr_find,
    verdict,
)
from tinygrad_edu.diagnostics.monitor import (
    _units_alike,
    dead_units,
    is_saturated,
    saturated_units,
)
from tinygrad_edu.ops.linalg import LinearStack
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.optim.lr_scheduler import CosineAnnealingLR
from tinygrad_edu.train import History, fit

X, Y = spiral(n_per_class=100, n_classes=3, seed=0)
RNG = np.random.default_rng(0)
X10, Y10 = RNG.standard_normal((200, 20)), RNG.integers(0, 10, 200)


def scaled(model, factor):
    for p in model.parameters():
        p.data *= factor
    return model


def monitored(model, lr, epochs=1, data=(X, Y), optimizer=None, every=1):
    """Train with SGD at ``lr`` under a Monitor; return it and the History."""
    optimizer = optimizer or SGD(model.parameters(), lr=lr)
    with Monitor(model, every=every) as monitor, np.errstate(all="ignore"):
        history = fit(model, nn.CrossEntropyLoss(), optimizer, data, epochs=epochs,
                      progress=False, on_batch_end=monitor)
    return monitor, history


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


def test_numeric_options_take_numpy_numbers():
    small = nn.MLP(20, [50, 10], init="small", seed=0)
    reg = check_initial_loss(small, X10, Y10, weight_decay=np.float32(1e-3))
    assert reg.passed and reg.details["regularized"] > reg.measured
    result = lr_find(nn.MLP(2, [4, 3], seed=0), nn.CrossEntropyLoss(), (X, Y),
                     lr_min=np.float32(1e-3), lr_max=np.float64(1e-1), steps=np.int64(5),
                     beta=np.float32(0.5), progress=False)
    assert result.lrs == pytest.approx([1e-3, 10 ** -2.5, 1e-2, 10 ** -1.5, 1e-1], rel=1e-6)
    overfit = check_overfit(nn.MLP(2, [8, 3], seed=0), X, Y, n=np.int64(3),
                            epochs=np.int64(2))
    assert "3 examples" in str(overfit)
    assert Monitor(nn.Linear(2, 3), every=np.int64(2)).every == 2


@pytest.mark.parametrize(("call", "message"), [
    (lambda: Monitor(nn.Linear(2, 3), keep=2.0),
     r"^Monitor: keep must be an int >= 1; got 2.0 \(a float\)"),
    (lambda: lr_find(nn.Linear(2, 3), nn.CrossEntropyLoss(), (X, Y), steps=True),
     r"^lr_find: steps must be an int >= 2; got True \(a bool\)"),
    (lambda: check_overfit(nn.Linear(2, 3), X, Y, epochs=1.5),
     r"^check_overfit: epochs must be an int >= 1; got 1.5 \(a float\)"),
])
def test_counts_that_are_not_ints_are_type_errors(call, message):
    with pytest.raises(TypeError, match=message):
        call()


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


# ----------------------------------------------------------------------------------------
# lr_find
# ----------------------------------------------------------------------------------------


def test_lr_find_restores_parameters_gradients_and_optimizer_state_bitwise():
    model = nn.MLP(2, [16, 3], batchnorm=True, seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    fit(model, nn.CrossEntropyLoss(), optimizer, (X, Y), epochs=3, progress=False)
    model.train()
    params, grads = model.state_dict(), [p.grad.copy() for p in model.parameters()]
    state = optimizer.state_dict()
    result = lr_find(model, nn.CrossEntropyLoss(), (X, Y), steps=30, optimizer=optimizer,
                     progress=False)
    assert len(result.lrs) > 10 and model.training
    after = model.state_dict()
    assert all(np.array_equal(params[k], after[k]) and params[k].dtype == after[k].dtype
               for k in params)
    assert all(np.array_equal(g, p.grad) for g, p in zip(grads, model.parameters()))
    restored = optimizer.state_dict()
    assert restored["param_groups"] == state["param_groups"]
    assert restored["state"].keys() == state["state"].keys()
    for i, buffers in state["state"].items():
        assert buffers.keys() == restored["state"][i].keys()
        assert all(np.array_equal(v, restored["state"][i][k]) for k, v in buffers.items())


def test_lr_find_schedule_smoothing_and_divergence_without_an_error():
    model = nn.MLP(2, [16, 3], seed=0)
    result = lr_find(model, nn.CrossEntropyLoss(), (X, Y), lr_min=1e-4, lr_max=1e6,
                     steps=40, progress=False)
    ratio = (1e6 / 1e-4) ** (1 / 39)
    assert result.lrs[:3] == pytest.approx([1e-4, 1e-4 * ratio, 1e-4 * ratio ** 2])
    assert result.smoothed[0] == pytest.approx(result.losses[0])  # bias-corrected
    assert result.smoothed[1] == pytest.approx(
        (0.98 * 0.02 * result.losses[0] + 0.02 * result.losses[1]) / (1 - 0.98 ** 2))
    assert result.diverged_at is not None and len(result.lrs) < 40
    assert result.diverged_at == result.lrs[-1]
    assert "diverged at lr" in str(result)


def test_lr_find_on_the_spiral_suggests_a_rate_that_trains_to_the_demos_accuracy():
    X_all, y_all = spiral(n_per_class=300, n_classes=3, noise=0.2, seed=0)
    X_train, y_train, X_val, y_val = train_test_split(X_all, y_all, test=0.2, stratify=True,
                                                      seed=0)

    def demo_model():
        manual_seed(0)
        return nn.MLP(2, [64, 64, 3], activation="relu", batchnorm=True, dropout=0.1, seed=0)

    def batches():
        return DataLoader(X_train, y_train, batch_size=64, shuffle=True, seed=0)

    model = demo_model()
    result = lr_find(model, nn.CrossEntropyLoss(), batches(),
                     optimizer=Adam(model.parameters()), progress=False)
    assert 1e-4 < result.suggestion < result.diverged_at
    model = demo_model()
    optimizer = Adam(model.parameters(), lr=result.suggestion)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, batches(), (X_val, y_val),
                  epochs=10, scheduler=CosineAnnealingLR(optimizer, T_max=10), progress=False)
    assert history.val_acc[-1] > 0.95  # what the demo reaches (tests/test_demo.py)


def test_lr_find_fails_when_the_whole_range_is_too_high():
    model = nn.MLP(2, [16, 3], seed=0)
    result = lr_find(model, nn.CrossEntropyLoss(), (X, Y), lr_min=1e3, lr_max=1e6, steps=20,
                     progress=False)
    assert result.suggestion is None and result.diverged_at <= 1e4
    assert "no suggestion" in str(result)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_lr_find_shows_progress_only_on_a_terminal(monkeypatch, capsys):
    lr_find(nn.MLP(2, [4, 3], seed=0), nn.CrossEntropyLoss(), (X, Y), steps=12)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys, "stderr", Terminal())
    lr_find(nn.MLP(2, [4, 3], seed=0), nn.CrossEntropyLoss(), (X, Y), steps=12)
    assert "12/12" in sys.stderr.getvalue() and "\r" in sys.stderr.getvalue()


def test_lr_find_errors():
    model = nn.MLP(2, [4, 3], seed=0)
    for kwargs, message in (({"lr_min": 0.0}, "lr_min must be a finite number > 0; got 0.0"),
                            ({"lr_min": 1.0, "lr_max": 0.1}, "lr_min must be below lr_max"),
                            ({"steps": 1}, "steps must be an int >= 2; got 1"),
                            ({"beta": 1.0}, r"beta \(the smoothing\) must be in \[0, 1\)")):
        with pytest.raises(ValueError, match=f"lr_find: {message}"):
            lr_find(model, nn.CrossEntropyLoss(), (X, Y), progress=False, **kwargs)


# ----------------------------------------------------------------------------------------
# Monitor
# ----------------------------------------------------------------------------------------


def test_monitor_does_not_change_training():
    def train(monitor_it):
        manual_seed(0)
        model = nn.MLP(2, [32, 32, 3], batchnorm=True, dropout=0.1, seed=0)
        optimizer = Adam(model.parameters(), lr=0.01)
        batches = DataLoader(X, Y, batch_size=50, shuffle=True, seed=0)
        if not monitor_it:
            fit(model, nn.CrossEntropyLoss(), optimizer, batches, (X, Y), epochs=3,
                progress=False)
        else:
            with Monitor(model, every=2) as monitor:
                fit(model, nn.CrossEntropyLoss(), optimizer, batches, (X, Y), epochs=3,
                    progress=False, on_batch_end=monitor)
            assert monitor.steps == 18 and len(monitor.layers["layers.2"]) == 9
        return model.state_dict()

    plain, watched = train(False), train(True)
    assert all(np.array_equal(plain[k], watched[k]) for k in plain)


def test_monitor_memory_is_bounded_and_every_skips_steps():
    model = nn.MLP(2, [8, 3], seed=0)
    monitor = Monitor(model, every=10, keep=3)
    with monitor:
        fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (X, Y), epochs=60,
            progress=False, on_batch_end=monitor)
    assert monitor.steps == 60
    assert [r.step for r in monitor.layers["layers.1"]] == [30, 40, 50]
    assert monitor.series("layers.0.weight", "step")[0] == [30, 40, 50]
    with pytest.raises(RuntimeError, match=r"Monitor\.step: the monitor is not attached"):
        fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (X, Y),
            progress=False, on_batch_end=monitor)  # after the with block
    assert monitor.steps == 60 and len(monitor.params["layers.0.weight"]) == 3


def test_steps_the_monitor_does_not_record_run_the_layers_as_one_op():
    model = nn.MLP(2, [8, 8, 3], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    x, labels = Value(X[:20], requires_grad=False), Y[:20]
    with Monitor(model, every=3) as monitor:
        for step in range(7):
            optimizer.zero_grad()
            scores = model(x)
            recorded = step % 3 == 0  # hooked layers run one by one; unhooked, fused
            assert isinstance(scores._ctx, LinearStack) == (not recorded)
            assert any(layer._forward_hooks for layer in model.layers) == recorded
            F.cross_entropy(scores, labels).backward()
            optimizer.step()
            monitor.step()
    assert [r.step for r in monitor.layers["layers.1"]] == [0, 3, 6]
    assert not any(layer._forward_hooks for layer in model.layers + [model])  # detached


def test_monitor_in_a_loop_of_your_own_records_norms_and_ratios():
    model = nn.Linear(2, 3, init="xavier", seed=0)  # its bias starts at zero
    optimizer = SGD(model.parameters(), lr=0.1)
    with Monitor(model) as monitor:
        for _ in range(2):
            w_before = model.weight.data.copy()
            loss = nn.CrossEntropyLoss()(model(Value(X)), Y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            monitor.step()
    weight, bias = monitor.params["weight"][-1], monitor.params["bias"]
    assert weight.grad_norm == pytest.approx(np.linalg.norm(model.weight.grad))
    assert weight.ratio == pytest.approx(
        np.linalg.norm(model.weight.data - w_before) / np.linalg.norm(w_before))
    assert bias[0].weight_norm == 0.0 and bias[0].ratio is None  # zero norm: no ratio
    assert bias[1].ratio is not None
    table = monitor.table()
    assert "update/weight" in table and "bias" in table and "weight" in table


def test_monitor_table_reports_a_zero_weight_as_such():
    model = nn.MLP(2, [8, 3], init="xavier", seed=0)
    monitor, _ = monitored(model, 0.1)
    assert monitor.params["layers.0.bias"][0].ratio is None
    row = next(r for r in monitor.table().splitlines() if r.startswith("layers.0.bias"))
    assert row.endswith("zero weight")


def test_ratio_warning_for_a_learning_rate_100x_too_high():
    good, _ = monitored(nn.MLP(2, [64, 3], seed=0), 0.02, epochs=20)
    assert good.warnings == []
    high, _ = monitored(nn.MLP(2, [64, 3], seed=0), 2.0, epochs=20)
    assert any(w.startswith("layers.2.weight: update/weight ratio") and "above 1e-02" in w
               for w in high.warnings)


def test_verdict_diverged_for_a_learning_rate_100x_too_high():
    _, good = monitored(nn.MLP(2, [64, 3], seed=0), 0.1, epochs=5)
    _, high = monitored(nn.MLP(2, [64, 3], seed=0), 10.0, epochs=5)
    assert verdict(good).measured["verdict"] != "diverged"
    assert verdict(high).measured["verdict"] == "diverged"


def test_dead_units_after_too_high_steps():
    fresh, _ = monitored(nn.MLP(2, [64, 3], seed=0), 0.0)
    assert not any("dead" in w for w in fresh.warnings)
    assert fresh.layers["layers.1"][-1].dead < 32
    model = nn.MLP(2, [64, 3], seed=0)
    fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=30.0), (X, Y), epochs=3,
        progress=False)
    dead, _ = monitored(model, 0.0)
    record = dead.layers["layers.1"][-1]
    assert record.dead > 32
    assert f"layers.1: {record.dead / 64:.0%} of units dead ({record.dead}/64" in "".join(
        dead.warnings)


def test_saturated_tanh_units_with_weights_times_10():
    xavier, _ = monitored(nn.MLP(20, [64, 10], activation="tanh", seed=0), 0.0,
                          data=(X10, Y10))
    assert not any("saturated" in w for w in xavier.warnings)
    assert xavier.layers["layers.1"][-1].saturated < 0.5
    big, _ = monitored(scaled(nn.MLP(20, [64, 10], activation="tanh", seed=0), 10), 0.0,
                       data=(X10, Y10))
    assert big.layers["layers.1"][-1].saturated > 0.5
    assert any(w.startswith("layers.1: ") and "of activations saturated" in w
               for w in big.warnings)


def test_sigmoid_saturation_is_outside_0_01_to_0_99():
    big, _ = monitored(scaled(nn.MLP(20, [64, 10], activation="sigmoid", seed=0), 10), 0.0,
                       data=(X10, Y10))
    out = big.latest["layers.1"]
    assert big.layers["layers.1"][-1].saturated == pytest.approx(
        np.mean((out < 0.01) | (out > 0.99)))


def test_dead_and_saturated_units_count_features_or_channels_over_the_batch():
    x = np.array([[-1.0, 0.0, 2.0], [-3.0, 1.0, -1.0]])  # unit 0 is <= 0 for both examples
    assert dead_units(x) == 1 and dead_units(-np.abs(x)) == 3 and dead_units(x + 9) == 0
    images = np.ones((2, 4, 3, 3))
    images[:, 1] = -1.0  # channel 1 dead everywhere
    images[:, 2] = -1.0
    images[1, 2, 2, 0] = 0.5  # channel 2 alive at one position of one example
    assert dead_units(images) == 1
    t = np.array([[0.995, -0.999, 0.5], [-0.999, 0.2, 0.9999]])
    assert is_saturated(t, "tanh").tolist() == [[True, True, False], [True, False, True]]
    assert saturated_units(t, "tanh") == 1  # only unit 0 is saturated for every example
    s = np.array([[0.005, 0.995, 0.01], [0.999, 0.001, 0.99]])
    assert saturated_units(s, "sigmoid") == 2  # 0.01 and 0.99 themselves are not
    with pytest.raises(ValueError, match=r"is_saturated: kind must be 'tanh' or 'sigmoid'; "
                                         r"got 'relu'"):
        is_saturated(t, "relu")
    with pytest.raises(ValueError, match=r"dead_units: .* axis \(ndim >= 2\); got shape \(3,\)"):
        dead_units(np.zeros(3))
    with pytest.raises(ValueError, match=r"saturated_units: .*got shape \(\)"):
        saturated_units(np.zeros(()), "tanh")


def test_vanishing_activations_in_a_10_layer_tanh_net_with_small_init():
    def deep(init):
        return nn.MLP(2, [50] * 10 + [3], activation="tanh", init=init, seed=0)

    xavier, _ = monitored(deep(None), 0.01)
    assert xavier.warnings == []
    small, _ = monitored(deep("small"), 0.01)
    shrinking = [w for w in small.warnings if "std shrinks" in w]
    assert len(shrinking) == 10 and shrinking[0].startswith("layers.1: activation std")
    assert small.layers["layers.19"][-1].std < 1e-10


def test_growing_activations():
    big, _ = monitored(scaled(nn.MLP(2, [64, 64, 3], seed=0), 30), 0.0)
    assert any("std grows" in w for w in big.warnings)


def test_symmetric_units_of_a_zero_initialized_net():
    normal, _ = monitored(nn.MLP(2, [64, 3], activation="tanh", seed=0), 0.01)
    assert not any("symmetric" in w for w in normal.warnings)
    zeros, _ = monitored(nn.MLP(2, [64, 3], activation="tanh", init="zeros", seed=0), 0.01)
    assert any(w.startswith("layers.1: all 64 units compute the same value (symmetric")
               for w in zeros.warnings)


def test_units_are_alike_only_when_every_example_has_all_units_equal():
    alike = np.tile(np.array([[0.0], [2.0], [-1.0]]), (1, 4))  # each row one value
    assert _units_alike(alike, 1e-12)
    first_row_dead = alike.copy()
    first_row_dead[0] = 0.0
    first_row_dead[2, 3] = 5.0  # the last example tells the units apart
    assert not _units_alike(first_row_dead, 1e-12)
    assert not _units_alike(np.array([[0.0, 1.0], [0.0, 0.0]]), 1e-12)
    assert _units_alike(np.array([[0.0, 1e-13], [3.0, 3.0]]), 1e-12)  # within tolerance


def test_monitor_histogram_and_errors():
    monitor, _ = monitored(nn.MLP(2, [64, 3], seed=0), 0.1)
    counts, edges = monitor.histogram("layers.1")
    assert counts.sum() == 300 * 64 and len(edges) == 31
    with pytest.raises(KeyError, match=r"Monitor\.histogram: no layer 'nope' was recorded"):
        monitor.histogram("nope")
    with pytest.raises(KeyError, match=r"Monitor\.series: nothing recorded under 'nope'"):
        monitor.series("nope", "std")
    with pytest.raises(ValueError, match="Monitor: every must be an int >= 1; got 0"):
        Monitor(nn.Linear(2, 3), every=0)
    with pytest.raises(TypeError, match="Monitor: model must be a Module; got list"):
        Monitor([])


def test_monitor_std_is_exact_when_the_spread_is_tiny_next_to_the_mean():
    model = nn.Sequential(nn.Linear(2, 4, seed=0), nn.Sigmoid())
    for p in model.parameters():
        p.data *= 1e-6  # every output within ~1e-6 of 0.5
    monitor, _ = monitored(model, 0.0)
    out = monitor.latest["1"]
    assert monitor.layers["1"][-1].std == pytest.approx(out.std(), rel=1e-6)
    assert 0 < out.std() < 1e-5


def test_monitor_counts_a_conv_layers_channels_as_its_units():
    conv = nn.Conv2d(1, 4, 3, padding=1, seed=0)
    conv.weight.data[:2] = -np.abs(conv.weight.data[:2])  # on positive images channels 0, 1
    conv.bias.data[:2] = -1.0                              # are <= 0 everywhere: dead
    conv.bias.data[2:] = 5.0
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), nn.Linear(64, 3, seed=0))
    images = np.abs(RNG.standard_normal((6, 1, 4, 4)))
    with Monitor(model) as monitor:
        loss = nn.CrossEntropyLoss()(model(Value(images)), RNG.integers(0, 3, 6))
        loss.backward()
        monitor.step()
    (relu,) = [records[-1] for records in monitor.layers.values() if records[-1].dead is not None]
    assert (relu.units, relu.dead) == (4, 2)

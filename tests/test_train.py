"""fit: history, validation, schedules, early stopping, callbacks, modes, progress."""

import io
import re
import sys

import numpy as np
import pytest

from tinygrad_edu import Value, nn, no_grad
from tinygrad_edu.data import DataLoader, blobs
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from tinygrad_edu.train import History, fit

X, Y = blobs(240, centers=3, std=0.5, seed=0)
X_VAL, Y_VAL = blobs(60, centers=3, std=0.5, seed=0)


def model_and_optimizer(lr=0.05):
    model = nn.MLP(2, [16, 3], dropout=0.1, seed=0)
    return model, Adam(model.parameters(), lr=lr)


def test_fit_records_history_and_learns():
    model, opt = model_and_optimizer()
    history = fit(model, nn.CrossEntropyLoss(), opt, DataLoader(X, Y, batch_size=32,
                  shuffle=True, seed=0), (X_VAL, Y_VAL), epochs=15, progress=False)
    assert history.epochs == 15 and len(history.val_acc) == 15 and len(history.lr) == 15
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_acc[-1] > 0.9
    assert not model.training  # left in evaluation mode


def test_full_batch_tuple_and_no_validation():
    model, opt = model_and_optimizer()
    history = fit(model, nn.CrossEntropyLoss(), opt, (X, Y), epochs=3, progress=False)
    assert history.val_loss == [None] * 3 and history.train_acc[0] is not None


def test_regression_records_no_accuracy():
    model = nn.MLP(2, [8, 1], seed=0)
    target = X[:, :1] * 2.0
    history = fit(model, nn.MSELoss(), SGD(model.parameters(), lr=0.01), (X, target),
                  epochs=2, progress=False)
    assert history.train_acc == [None, None]


def test_scheduler_steps_once_per_epoch_and_plateau_gets_the_loss():
    model, opt = model_and_optimizer(lr=0.1)
    history = fit(model, nn.CrossEntropyLoss(), opt, (X, Y), epochs=4,
                  scheduler=StepLR(opt, step_size=2, gamma=0.5), progress=False)
    assert history.lr == pytest.approx([0.1, 0.1, 0.05, 0.05])
    model, opt = model_and_optimizer(lr=1e-3)  # slow progress: below a 50% threshold
    history = fit(model, nn.CrossEntropyLoss(), opt, (X, Y), (X_VAL, Y_VAL), epochs=5,
                  scheduler=ReduceLROnPlateau(opt, patience=1, factor=0.5, threshold=0.5),
                  progress=False)
    assert history.lr[-1] < history.lr[0]


def test_early_stopping_restores_the_best_weights():
    model, opt = model_and_optimizer(lr=0.05)
    history = fit(model, nn.CrossEntropyLoss(), opt, (X, Y), (X_VAL, Y_VAL), epochs=200,
                  early_stopping=3, progress=False)
    assert history.epochs < 200 and history.best_epoch is not None
    best = history.val_loss[history.best_epoch]
    assert best == min(history.val_loss)
    with no_grad():
        again = nn.CrossEntropyLoss()(model(Value(X_VAL, requires_grad=False)), Y_VAL).item()
    assert again == pytest.approx(best)


def test_loss_that_is_not_finite_stops_training():
    model = nn.MLP(2, [8, 3], seed=0)
    with np.errstate(all="ignore"):
        history = fit(model, nn.MSELoss(), SGD(model.parameters(), lr=1e6),
                      (X, X[:, [0, 1, 0]] * 1e3), epochs=20, progress=False)
    assert history.epochs < 20 and not np.isfinite(history.train_loss[-1])


def test_callback_can_stop_training():
    model, opt = model_and_optimizer()
    seen = []
    history = fit(model, nn.CrossEntropyLoss(), opt, (X, Y), epochs=10, progress=False,
                  callback=lambda epoch, h: seen.append(epoch) or epoch == 2)
    assert seen == [0, 1, 2] and history.epochs == 3


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_redraws_per_batch(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    model, opt = model_and_optimizer()
    fit(model, nn.CrossEntropyLoss(), opt, DataLoader(X, Y, batch_size=60), epochs=2)
    err = sys.stderr.getvalue()
    assert "epoch 2/2" in err and "8/8" in err and "\r" in err


def test_progress_off_a_terminal_is_one_line_per_epoch_without_redraws(capsys):
    model, opt = model_and_optimizer()
    fit(model, nn.CrossEntropyLoss(), opt, DataLoader(X, Y, batch_size=60), (X_VAL, Y_VAL),
        epochs=3)
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all(re.fullmatch(r"epoch \d/3: loss \d+\.\d{4}, validation \d+\.\d{4}", line)
               for line in lines)


def scripted_losses(val_losses):
    """A model and loss whose validation loss in epoch k is ``val_losses[k]``: training
    steps change nothing (lr=0), evaluation reads the script."""
    model = nn.Linear(2, 3, seed=0)
    script = iter(val_losses)

    def loss_fn(out, y):
        if model.training:
            return (out * 0.0).sum() + 1.0
        return Value(next(script))

    return model, loss_fn, SGD(model.parameters(), lr=0.0)


# best at epoch 2 (3.0); 3.0 again at epoch 6 is no improvement
VAL_LOSSES = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 3.0, 2.9, 2.8, 2.7]


@pytest.mark.parametrize(("patience", "epochs_run"), [(1, 4), (2, 5), (3, 6), (4, 7)])
def test_early_stopping_stops_after_exactly_patience_epochs_without_improvement(
        patience, epochs_run):
    model, loss_fn, opt = scripted_losses(VAL_LOSSES)
    history = fit(model, loss_fn, opt, (X, Y), (X_VAL, Y_VAL), epochs=10,
                  early_stopping=patience, progress=False)
    assert history.epochs == epochs_run and history.best_epoch == 2
    assert history.val_loss == VAL_LOSSES[:epochs_run]


def test_val_acc_is_the_validation_accuracy_not_the_training_accuracy():
    model = nn.MLP(2, [8, 3], seed=0)
    wrong = (Y_VAL + 1) % 3  # validation labels the model cannot get right as often
    history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.0), (X, Y),
                  (X_VAL, wrong), epochs=1, progress=False)
    with no_grad():
        train_pred = model(Value(X, requires_grad=False)).data.argmax(axis=1)
        val_pred = model(Value(X_VAL, requires_grad=False)).data.argmax(axis=1)
    assert history.train_acc == [pytest.approx(np.mean(train_pred == Y))]
    assert history.val_acc == [pytest.approx(np.mean(val_pred == wrong))]
    assert history.val_acc[0] != pytest.approx(history.train_acc[0])


def test_on_batch_end_sees_every_step_and_history_records_each_loss_and_lr():
    model, opt = model_and_optimizer(lr=0.05)
    seen = []

    def on_batch_end(step, loss, lr):
        seen.append((step, loss, lr))
        opt.param_groups[0]["lr"] = lr * 2  # an LR range test raises it every step

    loader = DataLoader(X, Y, batch_size=60)
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2,
                  on_batch_end=on_batch_end, progress=False)
    assert [step for step, _, _ in seen] == list(range(8))
    assert history.batch_loss == [loss for _, loss, _ in seen]
    assert history.batch_lr == [lr for _, _, lr in seen] == [0.05 * 2**k for k in range(8)]
    # the epoch's loss is the batches' mean (equal batch sizes)
    assert history.train_loss[0] == pytest.approx(np.mean(history.batch_loss[:4]))
    assert history.lr == [0.05, 0.05 * 2**4]


def test_on_batch_end_returning_true_stops_training_after_that_epoch_is_recorded():
    model, opt = model_and_optimizer()
    history = fit(model, nn.CrossEntropyLoss(), opt, DataLoader(X, Y, batch_size=60),
                  (X_VAL, Y_VAL), epochs=5, progress=False,
                  on_batch_end=lambda step, loss, lr: step == 5)
    assert len(history.batch_loss) == 6 and history.epochs == 2
    assert history.val_loss[-1] is not None


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"epochs": 0}, ValueError, "fit: epochs must be an int >= 1; got 0"),
    ({"epochs": 2.5}, TypeError, r"fit: epochs must be an int >= 1; got 2.5 \(a float\)"),
    ({"early_stopping": 0}, ValueError,
     r"fit: early_stopping \(a patience in epochs\) must be an int >= 1; got 0"),
    ({"early_stopping": 2.5}, TypeError,
     r"fit: early_stopping \(a patience in epochs\) must be an int >= 1; got 2.5 \(a float\)"),
])
def test_bad_arguments(kwargs, error, message):
    model, opt = model_and_optimizer()
    with pytest.raises(error, match=message):
        fit(model, nn.CrossEntropyLoss(), opt, (X, Y), progress=False, **kwargs)


@pytest.mark.parametrize("name", ["callback", "on_batch_end"])
def test_callbacks_must_be_functions(name):
    model, opt = model_and_optimizer()
    with pytest.raises(TypeError, match=rf"fit: {name} must be a function \(.*\) returning "
                                        rf"True to stop; got 3"):
        fit(model, nn.CrossEntropyLoss(), opt, (X, Y), progress=False, **{name: 3})


def test_history_defaults():
    assert History().epochs == 0


def test_divergence_with_a_plateau_schedule_stops_cleanly():
    model = nn.MLP(2, [8, 3], seed=0)
    opt = SGD(model.parameters(), lr=1e6)
    with np.errstate(all="ignore"):
        history = fit(model, nn.MSELoss(), opt, (X, X[:, [0, 1, 0]] * 1e3), (X, X[:, [0, 1, 0]]),
                      epochs=20, scheduler=ReduceLROnPlateau(opt), progress=False)
    assert history.epochs < 20 and history.val_loss[-1] is None

"""Babysit the training of the demo's MLP on the spiral, the lectures' checklist step by
step with tinygrad_edu.diagnostics, printing each verdict and writing the figures to out/:

1. the initial loss is log(C) (and weights x10 fail the check);
2. the model can overfit 20 examples;
3. the learning-rate range test suggests a learning rate;
4. training with it under a Monitor: activations, dead units, gradients, update/weight
   ratios, and the warnings it raised;
5. the verdict on the training and validation curves;
6. the lectures' picture of a 10-layer tanh net's activations under small, Xavier and He
   initialization.

Run: python examples/08_babysitting.py
"""

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.data import DataLoader, spiral, train_test_split
from tinygrad_edu.diagnostics import Monitor, check_initial_loss, check_overfit, lr_find, verdict
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.optim.lr_scheduler import CosineAnnealingLR
from tinygrad_edu.plots import (
    plot_activation_histograms,
    plot_grad_norms,
    plot_history,
    plot_update_ratios,
)
from tinygrad_edu.train import fit

EPOCHS = 20
X, y = spiral(n_per_class=300, n_classes=3, noise=0.2, seed=0)
X_train, y_train, X_val, y_val = train_test_split(X, y, test=0.2, stratify=True, seed=0)


def demo_model():
    """The demo's MLP (tinygrad_edu/demo.py), from the same seed every time."""
    tg.manual_seed(0)
    return nn.MLP(2, [64, 64, 3], activation="relu", batchnorm=True, dropout=0.1, seed=0)


def batches():
    return DataLoader(X_train, y_train, batch_size=64, shuffle=True, seed=0)


print("1. The initial loss")
print(check_initial_loss(demo_model(), X_train, y_train))
big = demo_model()
for p in big.parameters():
    p.data *= 10
print(check_initial_loss(big, X_train, y_train))

print("\n2. Overfit a tiny subset")
print(check_overfit(demo_model(), X_train, y_train, n=20))

print("\n3. The learning-rate range test")
model = demo_model()
found = lr_find(model, nn.CrossEntropyLoss(), batches(), optimizer=Adam(model.parameters()))
print(found)
print("wrote", found.plot("out/08_lr_find.png"))

print(f"\n4. Train with lr {found.suggestion:.1e} under a Monitor")
model = demo_model()
optimizer = Adam(model.parameters(), lr=found.suggestion)
with Monitor(model) as monitor:
    history = fit(model, nn.CrossEntropyLoss(), optimizer, batches(), (X_val, y_val),
                  epochs=EPOCHS, scheduler=CosineAnnealingLR(optimizer, T_max=EPOCHS),
                  on_batch_end=monitor, progress=False)
print(f"validation accuracy {history.val_acc[-1]:.1%} after {EPOCHS} epochs")
print(monitor.table())
print("warnings:")
for warning in monitor.warnings:
    print("  " + warning)
for name, plot in (("activations", plot_activation_histograms), ("grad_norms", plot_grad_norms),
                   ("update_ratios", plot_update_ratios)):
    print("wrote", plot(monitor, f"out/08_{name}.png"))

print("\n5. The verdict")
print(verdict(history))
print("wrote", plot_history(history, "out/08_history.png", verdict=True))

print("\n6. A 10-layer tanh net at initialization: small, Xavier and He weights")
for init in ("small", "xavier", "he"):
    deep = nn.MLP(2, [50] * 10 + [3], activation="tanh", init=init, seed=0)
    with Monitor(deep) as watch:
        fit(deep, nn.CrossEntropyLoss(), SGD(deep.parameters(), lr=0.0), (X_train, y_train),
            epochs=1, on_batch_end=watch, progress=False)
    stds = [records[-1].std for records in watch.layers.values()]
    print(f"{init:>6}: activation std by layer {' '.join(f'{s:.1g}' for s in stds)}; "
          f"{sum('std shrinks' in w for w in watch.warnings)} shrinking, "
          f"{sum('saturated' in w for w in watch.warnings)} saturated warnings")
    print("wrote", plot_activation_histograms(watch, f"out/08_tanh_{init}.png",
                                              title=f"10-layer tanh, {init} init"))

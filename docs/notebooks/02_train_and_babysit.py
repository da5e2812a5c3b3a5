# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Training a toy network, and babysitting it
#
# The lectures' checklist, in order: check the initial loss, overfit a tiny subset, find a
# learning rate, train while watching the activations, gradients and update/weight
# ratios, and read the result. `docs/babysitting.md` explains every number; the plots need
# matplotlib (`pip install 'tinygrad_edu[plot]'`), and each is written to a file and shown
# below its cell.
#
# The data: three interleaved spirals in 2-D, a problem no linear classifier solves.

# %%
import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.data import DataLoader, spiral, train_test_split
from tinygrad_edu.diagnostics import Monitor, check_initial_loss, check_overfit, lr_find, verdict
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.optim.lr_scheduler import CosineAnnealingLR
from tinygrad_edu.plots import (
    plot_activation_histograms,
    plot_decision_boundary,
    plot_grad_norms,
    plot_history,
    plot_update_ratios,
)
from tinygrad_edu.train import fit

X, y = spiral(n_per_class=300, n_classes=3, noise=0.2, seed=0)
X_train, y_train, X_val, y_val = train_test_split(X, y, test=0.2, stratify=True, seed=0)
print(X_train.shape, y_train.shape, X_val.shape, y_val.shape)


def make_model():
    tg.manual_seed(0)
    return nn.MLP(2, [64, 64, 3], activation="relu", batchnorm=True, dropout=0.1, seed=0)


def batches():
    return DataLoader(X_train, y_train, batch_size=64, shuffle=True, seed=0)


make_model()

# %% [markdown]
# ## 1. The initial loss
#
# Untrained, every class should be about equally likely, so the cross-entropy starts near
# log(3) = 1.0986. Scale the weights up tenfold and the check fails, saying why.

# %%
print(check_initial_loss(make_model(), X_train, y_train))
too_big = make_model()
for p in too_big.parameters():
    p.data *= 10
print(check_initial_loss(too_big, X_train, y_train))

# %% [markdown]
# ## 2. Overfit 20 examples
#
# A network that cannot reach 100% training accuracy on 20 examples (regularization off)
# has a bug. The check trains a copy: the model you pass is left as it was.

# %%
print(check_overfit(make_model(), X_train, y_train, n=20))

# %% [markdown]
# ## 3. Find a learning rate
#
# The range test: the learning rate grows exponentially batch by batch while the loss is
# recorded; the suggestion is where the smoothed loss falls fastest. The weights and the
# optimizer are put back afterwards.

# %%
model = make_model()
found = lr_find(model, nn.CrossEntropyLoss(), batches(), optimizer=Adam(model.parameters()),
                progress=False)
found.plot("lr_find.png")
print(found)

# %% [markdown]
# ## 4. Train under a Monitor
#
# `Monitor` hooks the activation layers and, after every optimizer step, records their
# statistics, the gradient norms and the update/weight ratios; it warns by name when one
# leaves its healthy range. A cosine schedule brings the learning rate down to zero.

# %%
model = make_model()
optimizer = Adam(model.parameters(), lr=found.suggestion)
with Monitor(model) as monitor:
    history = fit(model, nn.CrossEntropyLoss(), optimizer, batches(), (X_val, y_val),
                  epochs=20, scheduler=CosineAnnealingLR(optimizer, T_max=20),
                  on_batch_end=monitor, progress=False)
print(f"validation accuracy {history.val_acc[-1]:.1%}\n")
print(monitor.table())

# %% [markdown]
# At the suggested learning rate, as high as the loss still falls steeply, the
# update/weight ratio starts far above the lectures' ~1e-3; as the schedule brings the
# learning rate down, it ends below 1e-4. The warnings say so, by parameter.

# %%
plot_update_ratios(monitor, "update_ratios.png")
plot_grad_norms(monitor, "grad_norms.png")
plot_activation_histograms(monitor, "activations.png")
print(*monitor.warnings, sep="\n")

# %% [markdown]
# ## 5. The verdict, and what the network learned

# %%
plot_history(history, "history.png", verdict=True)
plot_decision_boundary(model, X, y, "boundary.png")
print(verdict(history))

# %% [markdown]
# ## The lectures' picture: ten tanh layers at initialization
#
# With small weights (0.01 N(0, 1)) each layer's output is many times smaller than the
# one before, until the activations (and the gradients with them) vanish; with Xavier's
# weights the spread holds steady. A learning rate of 0 records one step without
# changing anything.

# %%
for init in ("small", "xavier"):
    deep = nn.MLP(2, [50] * 10 + [3], activation="tanh", init=init, seed=0)
    with Monitor(deep) as watch:
        fit(deep, nn.CrossEntropyLoss(), SGD(deep.parameters(), lr=0.0), (X_train, y_train),
            epochs=1, on_batch_end=watch, progress=False)
    stds = [records[-1].std for records in watch.layers.values()]
    print(f"{init}: std per layer {' '.join(f'{s:.1g}' for s in stds)}")
    plot_activation_histograms(watch, f"tanh_{init}.png", title=f"10-layer tanh, {init} init")

# %% [markdown]
# ## Try next
#
# - Multiply the suggested learning rate by 10, then by 0.1, and read the update/weight
#   ratios and the warnings (the lectures' rule of thumb: about 1e-3).
# - `batchnorm=False` in `make_model`, and the deep tanh net with `init="he"`.
# - Train on 40 examples only (`X_train[:40]`, `y_train[:40]`): what do the curves and
#   the verdict say now?

"""Train a classifier on the CS231n spiral with the training loop written out by hand,
then plot the loss curves and the decision boundary into out/.

Each step is what fit() does for you: forward, loss, zero_grad, backward, step; then
evaluate on held-out data in eval mode without recording a graph.

Run: python examples/04_train_spiral.py
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Value, nn
from tinygrad_edu.data import DataLoader, spiral, train_test_split
from tinygrad_edu.optim import Adam
from tinygrad_edu.optim.lr_scheduler import StepLR
from tinygrad_edu.plots import plot_decision_boundary, plot_history
from tinygrad_edu.train import History

tg.manual_seed(0)
X, y = spiral(n_per_class=200, n_classes=3, seed=0)
X_train, y_train, X_val, y_val = train_test_split(X, y, test=0.25, stratify=True, seed=0)

model = nn.MLP(2, [100, 3], activation="relu", seed=0)
loss_fn = nn.CrossEntropyLoss()
optimizer = Adam(model.parameters(), lr=0.02)
schedule = StepLR(optimizer, step_size=30, gamma=0.3)
batches = DataLoader(X_train, y_train, batch_size=50, shuffle=True, seed=0)
history = History()

for epoch in range(90):
    model.train()
    losses = []
    for xb, yb in batches:
        loss = loss_fn(model(Value(xb, requires_grad=False)), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with tg.no_grad():
        scores = model(Value(X_val, requires_grad=False))
        val_loss = loss_fn(scores, y_val).item()
    history.lr.append(optimizer.param_groups[0]["lr"])
    history.train_loss.append(float(np.mean(losses)))
    history.train_acc.append(None)
    history.val_loss.append(val_loss)
    history.val_acc.append(float((scores.data.argmax(axis=1) == y_val).mean()))
    schedule.step()
    if epoch % 15 == 0 or epoch == 89:
        print(f"epoch {epoch:2d}  lr {history.lr[-1]:.4f}  train loss {history.train_loss[-1]:.3f}"
              f"  val loss {val_loss:.3f}  val accuracy {history.val_acc[-1]:.1%}")

print("wrote", plot_history(history, "out/04_spiral_loss.png"))
print("wrote", plot_decision_boundary(model, X, y, "out/04_spiral_boundary.png"))

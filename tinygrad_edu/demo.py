"""The main demo (``make demo`` or ``python -m tinygrad_edu.demo``).

1. Backprop through one neuron, o = tanh(x1*w1 + x2*w2 + b), each node's gradient shown.
2. A tiny network written with raw Values learns XOR, its loss printed as it falls.
3. An MLP with batch norm and dropout learns the CS231n spiral with Adam and a cosine
   schedule; the loss curves and the decision boundary are written to ``out/``.
"""

from __future__ import annotations

import os

import numpy as np

from . import Value, manual_seed, nn
from .data import DataLoader, spiral, train_test_split
from .optim import Adam
from .optim.lr_scheduler import CosineAnnealingLR
from .plots import plot_decision_boundary, plot_history
from .train import fit


def neuron_gradients() -> None:
    """Print data and gradient of every node of a single tanh neuron."""
    x1, x2 = Value(2.0, name="x1"), Value(0.0, name="x2")
    w1, w2 = Value(-3.0, name="w1"), Value(1.0, name="w2")
    b = Value(6.8813735870195432, name="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    n = x1w1 + x2w2 + b
    o = n.tanh()
    o.backward()
    print("1. Backprop through a neuron: o = tanh(x1*w1 + x2*w2 + b)\n")
    print(f"   {'node':<8}{'data':>10}{'grad':>10}")
    nodes = {"o": o, "n": n, "x1*w1": x1w1, "x2*w2": x2w2,
             "x1": x1, "w1": w1, "x2": x2, "w2": w2, "b": b}
    for label, v in nodes.items():
        print(f"   {label:<8}{v.item():>10.4f}{v.grad.item():>10.4f}")
    print("\n   do/dn = 1 - tanh(n)^2 = 0.5, and each input's gradient is the other factor "
          "of its product times 0.5.\n")


def train_xor(steps: int = 80, lr: float = 0.2, seed: int = 0) -> list[float]:
    """Train a 2-8-1 tanh network on XOR with full-batch gradient descent; return losses."""
    rng = np.random.default_rng(seed)
    X = Value([[0, 0], [0, 1], [1, 0], [1, 1]], requires_grad=False)
    y = Value([[0], [1], [1], [0]], requires_grad=False)
    W1 = Value(rng.normal(0, 1, (2, 8)), name="W1")
    b1 = Value(np.zeros(8), name="b1")
    W2 = Value(rng.normal(0, 1 / np.sqrt(8), (8, 1)), name="W2")
    b2 = Value(np.zeros(1), name="b2")
    params = [W1, b1, W2, b2]
    print(f"2. A 2-8-1 tanh network learns XOR ({steps} steps of gradient descent, lr={lr})\n")
    losses = []
    for step in range(steps):
        pred = (X @ W1 + b1).tanh() @ W2 + b2
        loss = ((pred - y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        losses.append(loss.item())
        if step % 10 == 0 or step == steps - 1:
            print(f"   step {step:3d}   loss {loss.item():.5f}")
    final = ((X @ W1 + b1).tanh() @ W2 + b2).data.ravel()
    print(f"\n   predictions for (0,0) (0,1) (1,0) (1,1): {np.round(final, 2).tolist()}")
    return losses


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """The fraction of points classified right, in evaluation mode."""
    model.eval()
    return float((model(Value(X, requires_grad=False)).data.argmax(axis=1) == y).mean())


def train_spiral(out_dir: str = "out", epochs: int = 60, progress: bool = True,
                 seed: int = 0) -> tuple[float, float, list[str]]:
    """Train an MLP on the spiral; return train and validation accuracy and the plots."""
    manual_seed(seed)
    X, y = spiral(n_per_class=300, n_classes=3, noise=0.2, seed=seed)
    X_train, y_train, X_val, y_val = train_test_split(X, y, test=0.2, stratify=True,
                                                      seed=seed)
    model = nn.MLP(2, [64, 64, 3], activation="relu", batchnorm=True, dropout=0.1, seed=seed)
    optimizer = Adam(model.parameters(), lr=0.01)
    schedule = CosineAnnealingLR(optimizer, T_max=epochs)
    print(f"3. An MLP with batch norm and dropout learns the spiral ({len(X_train)} training "
          f"points, 3 classes; Adam, cosine schedule, {epochs} epochs)\n")
    print(f"   {model!r}".replace("\n", "\n   "))
    history = fit(model, nn.CrossEntropyLoss(), optimizer,
                  DataLoader(X_train, y_train, batch_size=64, shuffle=True, seed=seed),
                  (X_val, y_val), epochs=epochs, scheduler=schedule, progress=progress)
    train_acc, val_acc = accuracy(model, X_train, y_train), accuracy(model, X_val, y_val)
    print(f"\n   final loss: train {history.train_loss[-1]:.4f}, "
          f"validation {history.val_loss[-1]:.4f}")
    print(f"   accuracy:   train {train_acc:.1%}, validation {val_acc:.1%}")
    paths = [plot_history(history, os.path.join(out_dir, "spiral_loss.png")),
             plot_decision_boundary(model, X, y, os.path.join(out_dir, "spiral_boundary.png"))]
    for path in paths:
        print(f"   wrote {path}")
    return train_acc, val_acc, paths


def main() -> None:
    neuron_gradients()
    train_xor()
    print()
    train_spiral()


if __name__ == "__main__":
    main()

"""The main demo (``make demo`` or ``python -m tinygrad_edu.demo``).

1. Backprop through one neuron, o = tanh(x1*w1 + x2*w2 + b), each node's gradient shown;
   its forward and backward views and a page that steps through backprop are written to
   ``out/``.
2. A tiny network written with raw Values learns XOR, its loss printed as it falls.
3. An MLP with batch norm and dropout learns the CS231n spiral with Adam and a cosine
   schedule; the loss curves and the decision boundary are written to ``out/``.
4. The graph of a small MLP, forward and backward, drawn with a box per layer.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import Value, manual_seed, nn, viz
from .data import DataLoader, spiral, train_test_split
from .optim import Adam
from .optim.lr_scheduler import CosineAnnealingLR
from .plots import plot_decision_boundary, plot_history
from .train import fit


def neuron_gradients() -> Value:
    """Print data and gradient of every node of a single tanh neuron; return its output."""
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
    n.name, o.name = "n", "o"
    return o


def write_views(root: Value, stem: str, out_dir: str, **options: Any) -> list[str]:
    """Render the forward and backward views of ``root``'s graph into ``out_dir``; return
    the paths. Without Graphviz's ``dot``, say how to install it and write nothing."""
    try:
        paths = [str(viz.render(root, os.path.join(out_dir, f"{stem}_{mode}.svg"), mode=mode,
                                **options)) for mode in ("forward", "backward")]
    except viz.GraphvizNotFoundError as e:
        print(f"   no pictures: {e}")
        return []
    for path in paths:
        print(f"   wrote {path}")
    return paths


def neuron_views(o: Value, out_dir: str = "out") -> list[str]:
    """The neuron's views and its step-through page (forward pass, then backprop)."""
    paths = write_views(o, "neuron", out_dir)
    if paths:
        steps = viz.save_html(o, os.path.join(out_dir, "neuron_steps.html"), mode="both")
        print(f"   wrote {steps}  (open it in a browser: Next, Previous, Play)\n")
        paths.append(str(steps))
    return paths


def small_mlp_loss(seed: int = 0) -> Value:
    """The mean squared error of a 2-4-4-1 tanh MLP on 8 spiral points, backpropagated,
    its module calls recorded so the drawing has a box per layer."""
    model = nn.MLP(2, [4, 4, 1], activation="tanh", seed=seed)
    X, labels = spiral(n_per_class=4, n_classes=2, seed=seed)
    X = Value(X, requires_grad=False, name="X")
    y = Value(labels.reshape(-1, 1) * 2.0 - 1.0, requires_grad=False, name="y")
    with viz.trace(model):
        loss = ((model(X) - y) ** 2).mean()
    loss.name = "loss"
    loss.backward()
    return loss


def mlp_views(out_dir: str = "out") -> list[str]:
    """Draw the small MLP's graph, forward and backward."""
    print("4. The graph of a 2-4-4-1 tanh MLP on a batch of 8 points, a box per layer\n")
    return write_views(small_mlp_loss(), "mlp", out_dir)


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
    neuron_views(neuron_gradients())
    train_xor()
    print()
    train_spiral()
    print()
    mlp_views()


if __name__ == "__main__":
    main()

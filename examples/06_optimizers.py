"""SGD, momentum, Nesterov, AdaGrad, RMSprop and Adam on the same problem, from the same
initial weights: their loss curves on one plot (out/06_optimizers.png).

The lectures' story in one picture: plain SGD crawls along shallow directions, momentum
and Nesterov build up speed, AdaGrad's steps shrink as its squared-gradient sum grows,
RMSprop forgets old gradients, and Adam combines momentum with RMSprop's scaling.

Run: python examples/06_optimizers.py
"""

from tinygrad_edu import Value, nn
from tinygrad_edu.data import moons
from tinygrad_edu.optim import SGD, Adagrad, Adam, RMSprop
from tinygrad_edu.plots import plot_curves

X, y = moons(400, noise=0.15, seed=0)
inputs = Value(X, requires_grad=False)
start = nn.MLP(2, [32, 32, 2], activation="tanh", seed=0).state_dict()

OPTIMIZERS = {
    "SGD": lambda p: SGD(p, lr=0.05),
    "SGD + momentum": lambda p: SGD(p, lr=0.05, momentum=0.9),
    "Nesterov": lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "AdaGrad": lambda p: Adagrad(p, lr=0.05),
    "RMSprop": lambda p: RMSprop(p, lr=0.005),
    "Adam": lambda p: Adam(p, lr=0.005),
}

curves = {}
for name, make in OPTIMIZERS.items():
    model = nn.MLP(2, [32, 32, 2], activation="tanh")
    model.load_state_dict(start)  # every optimizer starts from the same weights
    optimizer = make(model.parameters())
    losses = []
    for _ in range(300):  # full-batch steps
        loss = nn.CrossEntropyLoss()(model(inputs), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    curves[name] = losses
    print(f"{name:15s} loss after 10 steps {losses[9]:.3f}, after 300 {losses[-1]:.3f}")

print("wrote", plot_curves(curves, "out/06_optimizers.png", ylabel="training loss", log=True))

"""Build the same network twice -- from micrograd-style scalar neurons and from Linear
layers -- and show that they compute the same outputs and the same gradients.

The scalar version makes every multiply and add a node of the graph (thousands of them);
the Linear version does the same arithmetic as a few matrix products. Same numbers, two
views of one computation.

Run: python examples/03_mlp_from_neurons.py
"""

import numpy as np

from tinygrad_edu import Value, nn

rng = np.random.default_rng(0)
X = rng.standard_normal((8, 3))
y = rng.choice([-1.0, 1.0], size=8)

# 1. A micrograd-style network: Layers of Neurons, each weight a 0-d Parameter.
neurons = [nn.Layer(3, 4, activation="tanh", seed=1), nn.Layer(4, 1, activation=None, seed=2)]


def scalar_forward(row):
    x = [Value(v, requires_grad=False) for v in row]
    for layer in neurons:
        x = layer(x)
    return x  # the last layer has one neuron: a single scalar Value


# 2. The same network from Linear layers, with the neurons' weights copied in.
linear = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
for layer, lin in zip(neurons, (linear[0], linear[2])):
    lin.weight.data[...] = [[w.item() for w in n.w] for n in layer.neurons]
    lin.bias.data[...] = [n.b.item() for n in layer.neurons]

# Forward and backward through both, with the same squared-error loss.
scalar_preds = [scalar_forward(row) for row in X]
scalar_loss = sum((p - t) ** 2 for p, t in zip(scalar_preds, y)) / len(y)
scalar_loss.backward()

array_preds = linear(Value(X, requires_grad=False)).reshape(-1)
array_loss = ((array_preds - y) ** 2).mean()
array_loss.backward()


def count_nodes(root):
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            if node.grad_fn is not None:
                stack.extend(v for v in node.grad_fn.inputs if isinstance(v, Value))
    return len(seen)


print(f"scalar graph: loss {scalar_loss.item():.10f}   ({count_nodes(scalar_loss)} nodes)")
print(f"array graph:  loss {array_loss.item():.10f}   ({count_nodes(array_loss)} nodes)")

scalar_w = np.array([[w.grad.item() for w in n.w] for n in neurons[0].neurons])
print("\ndL/dW of the first layer, from the scalar graph:")
print(np.round(scalar_w, 6))
print("from the Linear layer:")
print(np.round(linear[0].weight.grad, 6))
assert np.allclose(scalar_w, linear[0].weight.grad)
assert np.isclose(scalar_loss.item(), array_loss.item())
print("\nSame outputs, same gradients.")

"""Backpropagation through one neuron, node by node.

The neuron is o = tanh(x1*w1 + x2*w2 + b), built from scalar Values as in micrograd.
After o.backward(), every node of the graph -- inputs, weights, the intermediate sums
and the output -- holds its gradient do/d(node), and the script prints them as a table.
It then checks one gradient, do/dw1, two other ways: by the chain rule written out by
hand, and by a central finite difference.

Run it from the repository root:

    python examples/01_scalar_backprop.py
"""

import math

from tinygrad_edu import Value


def named(value: Value, name: str) -> Value:
    """Give an intermediate Value a name for the table (leaves take name= directly)."""
    value.name = name
    return value


# ---------------------------------------------------------------------------------------
# Forward pass: build the expression. Every operator records a node in the graph.
# ---------------------------------------------------------------------------------------

x1 = Value(1.5, name="x1")
x2 = Value(-0.5, name="x2")
w1 = Value(0.8, name="w1")
w2 = Value(-1.2, name="w2")
b = Value(-1.0, name="b")

x1w1 = named(x1 * w1, "x1*w1")
x2w2 = named(x2 * w2, "x2*w2")
s = named(x1w1 + x2w2, "x1*w1 + x2*w2")
n = named(s + b, "n")
o = named(n.tanh(), "o")

# ---------------------------------------------------------------------------------------
# Backward pass: one call fills in .grad on every node, leaves and intermediates alike.
# ---------------------------------------------------------------------------------------

o.backward()

print("o = tanh(x1*w1 + x2*w2 + b)\n")
print(f"{'node':<15}{'made by':<9}{'data':>9}{'do/d(node)':>12}")
print("-" * 45)
for node in (o, n, s, x1w1, x2w2, x1, w1, x2, w2, b):
    made_by = "leaf" if node.is_leaf else type(node.grad_fn).__name__
    print(f"{node.name:<15}{made_by:<9}{node.item():>9.4f}{node.grad.item():>12.4f}")

# ---------------------------------------------------------------------------------------
# Check do/dw1 by hand.
# ---------------------------------------------------------------------------------------

# Chain rule: do/dw1 = do/dn * dn/d(x1*w1) * d(x1*w1)/dw1 = (1 - o**2) * 1 * x1.
by_chain_rule = (1 - o.item() ** 2) * x1.item()


def neuron(w1_value: float) -> float:
    """The same neuron in plain Python floats, as a function of w1 alone."""
    return math.tanh(x1.item() * w1_value + x2.item() * w2.item() + b.item())


# Central difference: (o(w1 + h) - o(w1 - h)) / 2h, with an error of order h**2.
h = 1e-6
by_finite_difference = (neuron(w1.item() + h) - neuron(w1.item() - h)) / (2 * h)

print("\ndo/dw1, three ways:")
print(f"  backward()          {w1.grad.item():.8f}")
print(f"  chain rule by hand  {by_chain_rule:.8f}")
print(f"  finite difference   {by_finite_difference:.8f}")
assert abs(w1.grad.item() - by_finite_difference) < 1e-6, "the gradients disagree"
print("They agree.")

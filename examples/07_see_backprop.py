"""See backprop: step through it node by node, then watch the lectures' failure modes.

1. The chain rule at every node of a neuron, as the engine runs it (``backprop_steps``),
   and a page that steps through it in the browser (``save_html``).
2. A tanh layer whose weights are too large saturates: its units sit at +-1, their local
   derivative 1 - tanh^2 is ~0, and the gradient to the weights below shrinks a
   hundredfold. The backward view marks the saturated tanh.
3. A ReLU unit whose bias pushed it negative for every input is dead: no gradient reaches
   its weights, whatever the data. The backward view marks it.

Everything is written to ``out/``: open the SVGs and the HTML page in a browser.
"""

import numpy as np

from tinygrad_edu import Value, viz

rng = np.random.default_rng(0)

print("1. Backprop through o = tanh(x1*w1 + x2*w2 + b), one step per node\n")
x1, x2 = Value(2.0, requires_grad=False, name="x1"), Value(0.0, requires_grad=False, name="x2")
w1, w2, b = Value(-3.0, name="w1"), Value(1.0, name="w2"), Value(6.8813735870195432, name="b")
n = x1 * w1 + x2 * w2 + b
n.name = "n"
o = n.tanh()
o.name = "o"
for step in viz.backprop_steps(o):
    print(step)
print(f"\n   wrote {viz.save_html(o, 'out/07_neuron_steps.html', mode='both')}")

print("\n2. Saturation: tanh(X @ W) with weights 100x too large\n")
X = Value(rng.standard_normal((16, 4)), requires_grad=False, name="X")
for scale, label in ((0.5, "good"), (50.0, "saturated")):
    W = Value(rng.standard_normal((4, 8)) * scale, name="W")
    h = (X @ W).tanh()
    loss = (h**2).mean()
    loss.name = "loss"
    loss.backward()
    share = np.mean(np.abs(h.data) > 0.99)
    print(f"   W scale {scale:5}: {share:.0%} of units saturated, mean |dL/dW| = "
          f"{np.abs(W.grad).mean():.2e}")
    print(f"   wrote {viz.render(loss, f'out/07_tanh_{label}.svg', mode='backward')}")

print("\n3. A dead ReLU: a bias so negative that no input switches the unit on\n")
w, bias = Value(rng.standard_normal(4), name="w"), Value(-100.0, name="bias")
out = (X @ w + bias).relu()
loss = out.sum()
loss.name = "loss"
loss.backward()
print(f"   outputs all zero: {not out.data.any()}; dL/dw = {w.grad}")
print(f"   wrote {viz.render(loss, 'out/07_dead_relu.svg', mode='backward')}")

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
# # Stepping through backprop
#
# Build a small graph, look at it three ways (forward, backward, both), then step through
# the backward pass one node at a time, as the engine runs it. The drawings need
# Graphviz's `dot` program (`sudo apt-get install graphviz`, `brew install graphviz`).
#
# micrograd's neuron: `o = tanh(x1 w1 + x2 w2 + b)`.

# %%
import numpy as np

from tinygrad_edu import Value, nn
from tinygrad_edu.viz import StepViewer, backprop_steps, draw, forward_steps, trace

x1 = Value(2.0, requires_grad=False, name="x1")
x2 = Value(0.0, requires_grad=False, name="x2")
w1, w2 = Value(-3.0, name="w1"), Value(1.0, name="w2")
b = Value(6.8813735870195432, name="b")
n = x1 * w1 + x2 * w2 + b
n.name = "n"
o = n.tanh()
o.name = "o"
o  # noqa: B018

# %% [markdown]
# A `Value` on the last line of a cell shows its data (and its gradient, once there is
# one). The forward view: inputs (blue) and parameters (yellow) on the left, the root
# (pink) on the right, an op box between each result and its arguments.

# %%
draw(o)

# %% [markdown]
# Run the backward pass, then draw the gradients: in the backward view each edge carries
# the gradient the op passed back along it, and the gradient rows are shaded by size.
# `w2` gets nothing, because its input `x2` is 0.

# %%
o.backward()
print(f"do/dw1 = {w1.grad.item():.4f}, do/dw2 = {w2.grad.item():.4f}, "
      f"do/db = {b.grad.item():.4f}")
draw(o, mode="backward")

# %% [markdown]
# ## The chain rule, node by node
#
# `forward_steps` is the evaluation, each node after its inputs; `backprop_steps` is the
# backward pass in the engine's order, each step `upstream x local = contribution` for
# every input, with the input's running total. The last totals are the `.grad`s above.

# %%
for step in forward_steps(o):
    print(step)
print()
for step in backprop_steps(o):
    print(step)

# %% [markdown]
# ## The step viewer
#
# The same steps, on the drawing. Use Previous / Next / Play, the slider, or the arrow
# keys (click the viewer first). The current node glows red with the edges its gradient
# flows along; nodes still waiting are greyed out. `mode="both"` does the forward pass
# first. (`save_html(o, "steps.html")` writes the same viewer as a page of its own.)

# %%
StepViewer(o, mode="both")

# %% [markdown]
# ## A node used twice
#
# `a` feeds both `a * a` and the `+`, so its gradient is the sum of what comes back along
# each path. Step to the end and watch `a`'s total add up.

# %%
a = Value(2.0, name="a")
c = a * a + a
c.name = "c"
c.backward()
print("dc/da =", a.grad, "= 2a + 1")
StepViewer(c)

# %% [markdown]
# ## A small MLP, one box per layer
#
# A `Module` on the last line of a cell shows its layers.

# %%
model = nn.MLP(2, [4, 4, 1], activation="tanh", seed=0)
model  # noqa: B018

# %% [markdown]
# Run the forward pass inside `trace(model)` and the drawing groups the nodes by the
# module call that made them; `collapse=(nn.Linear,)` draws each `Linear` as one node.

# %%
rng = np.random.default_rng(0)
X = Value(rng.standard_normal((8, 2)), requires_grad=False, name="X")
y = Value(np.ones((8, 1)), requires_grad=False, name="y")
with trace(model):
    loss = ((model(X) - y) ** 2).mean()
loss.name = "loss"
loss.backward()
draw(loss, mode="backward", collapse=(nn.Linear,))

# %% [markdown]
# ## Try next
#
# - Make `w1` large (say `-30.0`) and redraw: the tanh saturates, the view marks it, and
#   the gradients to `w1` and `b` all but vanish.
# - Replace `tanh` with `relu` and a very negative `b`: a dead ReLU, marked black.
# - `draw(loss, mode="both")` without `collapse=` shows every op inside the layers.

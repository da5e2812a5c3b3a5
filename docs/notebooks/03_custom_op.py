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
# # Writing a custom op, and proving it
#
# A custom op is a `Function` with a `forward` and a `backward`, the same mechanism as
# every built-in op. This notebook writes one, uses it, and then proves its first and
# second derivatives against float64 central differences on inputs Hypothesis draws.
# `docs/custom_ops.md` has the rules in full.
#
# The op: `logaddexp(x, y) = log(e**x + e**y)`, a smooth maximum of two numbers. Written
# as it reads, `e**x` overflows above x = 710; NumPy's `np.logaddexp` computes the same
# thing as `max(x, y) + log(1 + e**-|x - y|)`, which cannot. Its derivatives are the
# softmax weights of the pair, `dz/dx = e**x / (e**x + e**y) = e**(x - z)`, and `e**(y - z)`
# for y; since z >= x and z >= y, neither exponent is ever positive.

# %%
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Function, Value, grad
from tinygrad_edu.testing import GradcheckError, check_op, gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as ts


class LogAddExp(Function):
    """z = log(e**x + e**y);  dz/dx = e**(x - z),  dz/dy = e**(y - z)."""

    @staticmethod
    def forward(ctx, x, y):
        z = np.logaddexp(x, y)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        # Operators and np.exp only: on Values (create_graph=True) the same formula is
        # recorded, so the second derivatives come for free.
        x, y, z = ctx.saved_tensors
        gx = grad * np.exp(x - z) if ctx.needs_input_grad[0] else None
        gy = grad * np.exp(y - z) if ctx.needs_input_grad[1] else None
        return gx, gy


def logaddexp(x, y):
    return LogAddExp.apply(x, y)


# %% [markdown]
# ## Use it
#
# Three values of `x` against one `y` (a 0-d Value, broadcast). The engine sums `y`'s
# gradient back down to its shape, so it is the sum of its three weights; and each pair's
# two weights add up to 1.

# %%
x = Value([-800.0, 0.0, 800.0], name="x")
y = Value(0.0, name="y")
z = logaddexp(x, y)
z.sum().backward()
print("z      ", z.data)
print("dz/dx  ", x.grad)
print("dz/dy  ", y.grad, "=", 0.0 + 0.5 + 1.0)
z  # noqa: B018

# %% [markdown]
# The naive formula, written with built-in ops, agrees where it does not overflow, and
# overflows where the op does not (`np.errstate` silences NumPy's overflow warning, since
# here the overflow is the point):

# %%
with np.errstate(over="ignore"):
    naive = (x.exp() + y.exp()).log()
print(naive.data)

# %% [markdown]
# The second derivative, `d2z/dx2 = w (1 - w)` with `w = e**(x - z)`, needs no extra
# code: `grad(..., create_graph=True)` records the backward pass, and differentiates it.

# %%
a, b = Value(0.5), Value(-1.0)
(g,) = grad(logaddexp(a, b), a, create_graph=True)
(h,) = grad(g, a)
w = np.exp(0.5 - np.logaddexp(0.5, -1.0))
print(f"dz/da {g.item():.6f} = {w:.6f};  d2z/da2 {h.item():.6f} = {w * (1 - w):.6f}")

# %% [markdown]
# ## Prove it: `gradcheck`, `gradgradcheck`, `check_op`
#
# `gradcheck` compares the backward pass with central differences in float64;
# `gradgradcheck` does the same for the gradient itself (Hessian-vector products). Both
# return `True` or raise `GradcheckError` naming the input, the element and both numbers.

# %%
print(gradcheck(logaddexp, Value([-2.0, 0.5, 3.0]), Value([1.0, 1.0, -4.0])))
print(gradgradcheck(logaddexp, Value([-2.0, 0.5, 3.0]), Value([1.0, 1.0, -4.0])))

# %% [markdown]
# One example proves little. `check_op` turns both checks into a property test:
# Hypothesis draws shapes that broadcast together (0-d and size-1 axes included) and
# elements from each input's domain, and shrinks any failure to a small example.

# %%
check_op(logaddexp, ts.real(), ts.real(), max_examples=30)
check_op(logaddexp, ts.real(-800.0, 800.0), ts.real(-800.0, 800.0), max_examples=30)
print("check_op: first and second derivatives passed")

# %% [markdown]
# ## Properties of your own
#
# Gradients are not the only thing to test. With the strategies of
# `tinygrad_edu.testing.strategies`, write any property as a Hypothesis test: here, that
# the op is a smooth maximum (`max(x, y) <= z <= max(x, y) + log 2`), that it is symmetric,
# and that it matches the naive formula wherever that one is safe. `pytest` would run
# the function for you; in a notebook, call it.

# %%
@settings(max_examples=50, deadline=None)
@given(st.data())
def test_logaddexp_properties(data):
    shape = data.draw(ts.shapes(), label="shape")
    x = data.draw(ts.values(shape, ts.real(-50.0, 50.0)), label="x")
    y = data.draw(ts.values(shape, ts.real(-50.0, 50.0)), label="y")
    z = logaddexp(x, y).data
    top = np.maximum(x.data, y.data)
    assert np.all(top <= z) and np.all(z <= top + np.log(2) + 1e-12)
    np.testing.assert_allclose(z, logaddexp(y, x).data, rtol=0, atol=1e-12)
    np.testing.assert_allclose(z, (x.exp() + y.exp()).log().data, rtol=1e-12, atol=1e-12)


test_logaddexp_properties()
print("properties hold")

# %% [markdown]
# ## What a mistake looks like
#
# A copy-paste slip: `y`'s gradient written with `x`. `gradcheck` names the input and the
# element, with the analytic and numeric values side by side.

# %%
class LogAddExpWrong(LogAddExp):
    """Deliberately wrong: dz/dy uses e**(x - z)."""

    @staticmethod
    def backward(ctx, grad):
        x, _, z = ctx.saved_tensors
        return grad * np.exp(x - z), grad * np.exp(x - z)


try:
    gradcheck(LogAddExpWrong.apply, Value(1.0), Value(0.0))
except GradcheckError as error:
    print(error)

# %% [markdown]
# `check_op` finds it by itself, and Hypothesis shrinks the inputs to a small failing
# example (the error's first line; uncaught, the traceback ends with the example).

# %%
try:
    check_op(LogAddExpWrong.apply, ts.real(), ts.real(), max_examples=30)
except GradcheckError as error:
    print(str(error).splitlines()[0])

# %% [markdown]
# The second kind of mistake passes `gradcheck` and fails only `gradgradcheck`: the
# weight is computed in `forward` and kept as a plain attribute, so under
# `create_graph=True` it is a constant and the second derivative comes out as zero.

# %%
class LogAddExpFirstOrderOnly(Function):
    """Right first derivative, but a constant under create_graph=True."""

    @staticmethod
    def forward(ctx, x, y):
        z = np.logaddexp(x, y)
        ctx.weights = np.exp(x - z), np.exp(y - z)  # plain arrays: constants to autograd
        return z

    @staticmethod
    def backward(ctx, grad):
        wx, wy = ctx.weights
        return grad * wx, grad * wy


pair = Value([1.0, -0.5]), Value([0.0, 2.0])
print(gradcheck(LogAddExpFirstOrderOnly.apply, *pair))
try:
    gradgradcheck(LogAddExpFirstOrderOnly.apply, *pair)
except GradcheckError as error:
    print(error)

# %% [markdown]
# ## Try next
#
# - Write `logsumexp(x, axis)` as a `Function` (its gradient is the same weights,
#   `e**(x - z)`: a softmax along the axis), draw `(shape, axis)` pairs with
#   `ts.shapes_and_axes()`, and compare it with the built-in `x.logsumexp(axis=axis)`.
# - Run `check_op(lambda x: x.max())` and read about ties in `docs/custom_ops.md`: two
#   elements closer than `eps` look tied to a central difference, and `gap=` keeps them
#   apart.

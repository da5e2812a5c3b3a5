"""A custom op: define it, use it, prove its gradient, and watch a wrong one get caught.

The op is hypot(x, y) = sqrt(x**2 + y**2), the distance of the point (x, y) from the
origin. Its gradient (dz/dx, dz/dy) = (x / z, y / z) is the unit vector pointing away from
the origin, which makes the numbers easy to check by eye.

The script
1. defines Hypot as a Function, forward and backward side by side;
2. uses it on broadcast inputs and prints the gradients;
3. property-tests it with check_op: first and second derivatives against central
   differences, on random shapes that broadcast together;
4. shows gradcheck catching a backward with a copy-paste mistake.

Run it from the repository root:

    python examples/02_custom_op.py
"""

import numpy as np

from tinygrad_edu import Function, Value
from tinygrad_edu.testing import GradcheckError, check_op, gradcheck
from tinygrad_edu.testing import strategies as ts

# ---------------------------------------------------------------------------------------
# 1. The op
# ---------------------------------------------------------------------------------------


class Hypot(Function):
    """z = sqrt(x**2 + y**2);  dz/dx = x / z,  dz/dy = y / z  (undefined at the origin)."""

    @staticmethod
    def forward(ctx, x, y):
        z = np.hypot(x, y)  # NumPy's hypot avoids overflow in x**2 for huge x
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        # Only operators here, so the same formula also runs on Values under
        # create_graph=True, where x, y and z become the Values behind them and the
        # second derivatives come out right.
        x, y, z = ctx.saved_tensors
        gx = grad * x / z if ctx.needs_input_grad[0] else None
        gy = grad * y / z if ctx.needs_input_grad[1] else None
        return gx, gy  # broadcast shapes are fine: the engine sums them back down


def hypot(x, y):
    return Hypot.apply(x, y)


# ---------------------------------------------------------------------------------------
# 2. Use it: three x values against one y, broadcast to three points.
# ---------------------------------------------------------------------------------------

x = Value([3.0, 0.0, -6.0])
y = Value(4.0)  # 0-d: broadcast against x
z = hypot(x, y)
z.sum().backward()
print("distances z           ", z.data)
print("dsum/dx = x / z       ", x.grad)
print(
    f"dsum/dy = sum(y / z)   {y.grad.item():.6f}"
    f"   (by hand: 4/5 + 4/4 + 4/7.2111 = {4 / 5 + 4 / 4 + 4 / np.hypot(6, 4):.6f})"
)

# ---------------------------------------------------------------------------------------
# 3. Prove it. Both inputs stay at least 0.1 from 0, so (x, y) never nears the origin,
#    where the derivative does not exist.
# ---------------------------------------------------------------------------------------

check_op(hypot, ts.away_from(0.0), ts.away_from(0.0), max_examples=30)
print("\ncheck_op(hypot, ...): first and second derivatives passed on 30 random examples")

# ---------------------------------------------------------------------------------------
# 4. A wrong backward: in dz/dy, the 2 from d(y**2)/dy was forgotten, so it no longer
#    cancels the 1/2 from the derivative of the square root.
# ---------------------------------------------------------------------------------------


class HypotWrong(Function):
    """Deliberately wrong: dz/dy = y / (2 z) instead of y / z."""

    @staticmethod
    def forward(ctx, x, y):
        z = np.hypot(x, y)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y, z = ctx.saved_tensors
        return grad * x / z, grad * y / (2 * z)  # the second should be grad * y / z


try:
    gradcheck(HypotWrong.apply, Value(3.0), Value(4.0))
except GradcheckError as error:
    print("\ngradcheck caught the wrong backward:")
    print(" ", error)
else:
    raise SystemExit("gradcheck should have failed on HypotWrong")

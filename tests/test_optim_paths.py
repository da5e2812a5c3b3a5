"""The ends of the optimizers' option ranges (tinygrad_edu.optim): RMSprop's alpha may be 0,
as in PyTorch, which makes the square average the last squared gradient alone."""

import numpy as np

from tinygrad_edu import Value
from tinygrad_edu.optim import RMSprop


def test_rmsprop_with_alpha_0_divides_by_the_last_gradient_s_size():
    p = Value(np.array([1.0, -2.0]))
    p.grad = np.array([0.5, -4.0])
    RMSprop([p], lr=0.1, alpha=0.0, eps=0.0).step()
    np.testing.assert_allclose(p.data, [0.9, -1.9])  # v = g**2: a step of lr * sign(g)

"""What gradgradcheck reports on its less common roads (tinygrad_edu.testing.gradcheck): an
op whose backward gives a gradient only when it records is named with the input's shape and
worst element, as any other mismatch."""

import numpy as np
import pytest

from tinygrad_edu import Function, Value
from tinygrad_edu.testing import GradcheckError, gradgradcheck


class SquareWithoutPlainGradient(Function):
    """z = x**2 whose backward gives 2x g when it records (the saved x is then a Value) and
    no gradient at all on arrays."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x if isinstance(x, Value) else None


def test_gradgradcheck_reports_a_gradient_only_the_recording_backward_gives():
    x = Value(np.array([1.0, -2.0, 0.5]))
    with pytest.raises(GradcheckError, match=r"^gradgradcheck \(first derivative under "
                                             r"create_graph\): input 0 \(shape \(3,\)\), "
                                             r"element \(1,\): analytic -3\.28647 vs plain "
                                             r"backward 0 \(atol=1e-05, rtol=0\.001\)$"):
        gradgradcheck(lambda x: SquareWithoutPlainGradient.apply(x), x)

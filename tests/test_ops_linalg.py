"""matmul with NumPy's rules: 1-D, 2-D, batched with broadcast batch axes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Value
from tinygrad_edu.testing import gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as ts


@st.composite
def matmul_shapes(draw):
    """Operand shapes for every NumPy matmul case: 1-D or N-D on either side."""
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    batch_a, batch_b = draw(ts.broadcastable_shapes(2, max_dims=2))
    a = draw(st.sampled_from([(k,), batch_a + (m, k)]))
    b = draw(st.sampled_from([(k,), batch_b + (k, n)]))
    return a, b


@given(shapes=matmul_shapes(), data=st.data())
def test_matmul_values_and_gradients(shapes, data):
    a, b = (Value(data.draw(ts.arrays(s))) for s in shapes)
    np.testing.assert_allclose((a @ b).data, a.data @ b.data)
    gradcheck(lambda a, b: a @ b, a, b)
    gradgradcheck(lambda a, b: a @ b, a, b)


def test_matmul_with_ndarray_on_either_side_gives_a_value():
    w = Value(np.eye(2) * 2)
    x = np.array([[1.0, 2.0]])
    left, right = x @ w, w @ x.T
    assert isinstance(left, Value) and isinstance(right, Value)
    (left.sum() + right.sum()).backward()
    np.testing.assert_array_equal(w.grad, [[1, 1], [2, 2]] + np.array([[1, 2], [1, 2]]))
    assert isinstance(tg.matmul(x, w), Value)


@pytest.mark.parametrize(
    ("sa", "sb", "message"),
    [
        ((2, 3), (4, 5), r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned \(3 != 4\)"),
        ((3,), (2,), r"matmul: shapes \(3,\) and \(2,\) are not aligned \(3 != 2\)"),
        ((2, 2, 3), (3, 3, 1), r"matmul: the batch axes of shapes \(2, 2, 3\) and \(3, 3, 1\)"),
        ((), (2,), "matmul: 0-d operands are not allowed"),
    ],
)
def test_matmul_errors_name_both_shapes(sa, sb, message):
    with pytest.raises(ValueError, match=message):
        Value(np.ones(sa)) @ Value(np.ones(sb))

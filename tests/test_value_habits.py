"""PyTorch habits on Value: each works as in PyTorch, or fails naming the NumPy way."""

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Value
from tinygrad_edu.testing import gradcheck, gradgradcheck

A = np.array([[0.5, -2.0, 3.0], [4.0, 1.5, -1.0]])


def prove(fn, *xs):
    """First and second derivatives, the second with a recorded upstream gradient."""
    gradcheck(fn, *xs)
    gradgradcheck(lambda *a: fn(*a) * fn(*a), *xs)


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (lambda x: x.argmax(), 3),
        (lambda x: x.argmin(), 1),
        (lambda x: x.argmax(axis=1), [2, 0]),
        (lambda x: x.argmin(axis=0), [0, 0, 1]),
        (lambda x: x.argmax(dim=-1, keepdim=True), [[2], [0]]),
        (lambda x: x.argmin(1, True), [[1], [2]]),
    ],
)
def test_argmax_argmin_give_integer_indices(method, expected):
    found = method(Value(A))
    assert isinstance(found, np.ndarray) and found.dtype.kind == "i"
    np.testing.assert_array_equal(found, expected)


def test_argmax_refuses_a_tuple_of_axes():
    with pytest.raises(TypeError, match=r"argmax: axis must be None or an int; got \(0, 1\)"):
        Value(A).argmax(axis=(0, 1))
    with pytest.raises(ValueError, match="argmin: axis 2 is out of range"):
        Value(A).argmin(2)


def test_amax_amin_are_max_min_with_shared_ties():
    x = Value([1.0, 3.0, 3.0, -2.0])
    x.amax().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_array_equal(Value(A).amin(dim=0).data, A.min(axis=0))
    prove(lambda x: x.amax(axis=1), Value(A))


def test_sign_has_zero_gradient():
    x = Value([-2.0, 0.0, 3.0])
    s = x.sign()
    np.testing.assert_array_equal(s.data, [-1.0, 0.0, 1.0])
    (s * Value([5.0, 6.0, 7.0], requires_grad=False)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    assert s.dtype == x.dtype


def test_neg_square_matmul_clamp_match_the_operators():
    x = Value(A)
    np.testing.assert_array_equal(x.neg().data, -A)
    np.testing.assert_array_equal(x.square().data, A * A)
    np.testing.assert_array_equal(x.matmul(x.T).data, A @ A.T)
    np.testing.assert_array_equal(x.clamp(-1.0, 2.0).data, np.clip(A, -1.0, 2.0))
    np.testing.assert_array_equal(x.clamp(max=0.0).data, np.minimum(A, 0.0))
    prove(lambda x: x.square(), x)
    prove(lambda x: x.neg().matmul(x.T), x)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_methods_match_functional(axis):
    x = Value(A)
    np.testing.assert_allclose(x.softmax(axis).data, F.softmax(x, axis=axis).data)
    np.testing.assert_allclose(x.log_softmax(dim=axis).data, F.log_softmax(x, axis=axis).data)
    np.testing.assert_allclose(x.softmax().data.sum(axis=-1), [1.0, 1.0])
    prove(lambda x: x.log_softmax(dim=axis), x)


def test_tolist_float_double():
    x = Value(A)
    assert x.tolist() == A.tolist() and Value(2.5).tolist() == 2.5
    f = x.float()
    assert f.dtype == np.float32 and f.double().dtype == np.float64
    assert x.double() is x and f.float() is f
    f.double().sum().backward()
    assert f.grad.dtype == np.float32


def test_expand_keeps_sizes_given_as_minus_one():
    x = Value([[1.0], [2.0]])
    np.testing.assert_array_equal(x.expand(2, 3).data, [[1, 1, 1], [2, 2, 2]])
    assert x.expand(4, -1, 3).shape == (4, 2, 3)
    assert x.expand((-1, 5)).shape == (2, 5)
    prove(lambda x: x.expand(3, -1, 2), x)
    with pytest.raises(ValueError, match=r"expand: -1 in sizes \(-1, 2, 3\) is only allowed"):
        x.expand(-1, 2, 3)
    with pytest.raises(ValueError, match=r"expand: 1 size\(s\) \(3,\) for a Value with 2"):
        x.expand(3)
    with pytest.raises(ValueError, match=r"broadcast_to: cannot broadcast .* \(2, 1\) to"):
        x.expand(3, 3)


def test_view_and_keyword_shapes():
    x = Value(np.arange(24.0).reshape(2, 3, 4))
    assert x.view(6, 4).shape == (6, 4) and x.view((4, -1)).shape == (4, 6)
    assert x.reshape(shape=(4, 6)).shape == (4, 6)
    np.testing.assert_array_equal(x.transpose(axes=(1, 2, 0)).data,
                                  x.data.transpose(1, 2, 0))
    np.testing.assert_array_equal(x.permute(dims=(2, 0, 1)).data, x.data.transpose(2, 0, 1))
    with pytest.raises(TypeError, match=r"reshape: got \(6, 4\) and shape=\(4, 6\); pass one"):
        x.reshape(6, 4, shape=(4, 6))
    with pytest.raises(TypeError, match=r"permute: got \(0, 1, 2\) and dims="):
        x.permute(0, 1, 2, dims=(0, 1, 2))


def test_size_is_an_int_and_callable_like_pytorch():
    x = Value(np.ones((2, 3)))
    assert x.size == 6 and isinstance(x.size, int) and x.size * 2 == 12
    assert repr(x.size) == "6" and np.zeros(x.size).shape == (6,)
    assert x.size() == (2, 3) and x.size(0) == 2 and x.size(-1) == 3 and x.size(dim=1) == 3
    assert Value(1.0).size == 1 and Value(1.0).size() == ()
    with pytest.raises(ValueError, match="size: axis 2 is out of range"):
        x.size(2)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "std", "logsumexp"])
def test_reductions_take_dim_and_keepdim(name):
    x = Value(A)
    torch_style = getattr(x, name)(dim=1, keepdim=True)
    numpy_style = getattr(x, name)(axis=1, keepdims=True)
    np.testing.assert_array_equal(torch_style.data, numpy_style.data)
    assert getattr(x, name)(dim=[0, 1]).shape == ()
    with pytest.raises(TypeError, match=rf"{name}: got both axis=0 and dim=1; pass one of"):
        getattr(x, name)(axis=0, dim=1)
    with pytest.raises(TypeError, match=rf"{name}: got both keepdims=True and keepdim=True"):
        getattr(x, name)(keepdims=True, keepdim=True)


def test_shape_methods_and_joins_take_dim():
    x = Value(np.ones((2, 1, 3)))
    assert x.squeeze(dim=1).shape == (2, 3) and x.unsqueeze(dim=0).shape == (1, 2, 1, 3)
    assert tg.concatenate([x, x], dim=2).shape == (2, 1, 6)
    assert tg.stack([x, x], dim=-1).shape == (2, 1, 3, 2)
    with pytest.raises(TypeError, match=r"concatenate: got both axis=1 and dim=2"):
        tg.concatenate([x, x], axis=1, dim=2)
    with pytest.raises(TypeError, match=r"softmax: got both axis=0 and dim=1"):
        x.softmax(axis=0, dim=1)
    with pytest.raises(TypeError, match=r"unsqueeze: give the position of the new axis"):
        x.unsqueeze()


def test_pytorch_transpose_of_two_dims_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 1\) are not a permutation .*"
                                         r"\(PyTorch's transpose\(dim0, dim1\) is swapaxes"):
        Value(np.ones((2, 3, 4))).transpose(0, 1)


def test_clamp_refuses_an_upper_bound_that_would_enlarge_the_input():
    with pytest.raises(ValueError, match=r"^clip: bounds of shapes \(\) and \(3, 2\) must "
                       r"broadcast to the input's shape \(2,\), not enlarge it$"):
        Value(np.zeros(2)).clamp(max=np.ones((3, 2)))


def test_pow_with_a_differentiable_exponent_names_the_first_five_negative_bases():
    base = Value(np.array([-1.0, -2.0, 0.0, 3.0, -4.0, -5.0, -6.0, -7.0, 0.5]),
                 requires_grad=True)
    exponent = Value(np.array(2.0), requires_grad=True)
    with pytest.raises(ValueError, match=r"^pow backward: the gradient with respect to the "
                       r"exponent needs a base >= 0 \(it is z \* log\(x\)\); got base values "
                       r"\[-1\. -2\. -4\. -5\. -6\.\]\. Use a number or a Value with "
                       r"requires_grad=False as the exponent$"):
        (base ** exponent).sum().backward()

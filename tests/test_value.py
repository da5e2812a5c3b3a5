"""Value: construction, dtypes, attributes, repr, NumPy interop, clear errors."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value


def test_tensor_is_value():
    assert Tensor is Value


@pytest.mark.parametrize(
    ("data", "shape"),
    [(2.0, ()), (3, ()), (True, ()), ([1, 2, 3], (3,)), ([[1.5], [2.5]], (2, 1)),
     (np.arange(6).reshape(2, 3), (2, 3)), (np.float32(1.0), ())],
)
def test_data_is_stored_as_a_float_ndarray(data, shape):
    v = Value(data)
    assert isinstance(v.data, np.ndarray) and v.shape == shape
    assert v.dtype == (np.float32 if isinstance(data, np.float32) else np.float64)
    assert v.ndim == len(shape) and v.size == int(np.prod(shape))


def test_requires_grad_defaults_to_true_and_can_be_turned_off():
    assert Value(1.0).requires_grad
    assert not Value(1.0, requires_grad=False).requires_grad


def test_dtype_argument_and_float32_kept():
    assert Value([1, 2], dtype=np.float32).dtype == np.float32
    assert Value(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert Value(np.ones(2, dtype=np.float32), dtype="float64").dtype == np.float64


def test_data_is_copied_from_the_callers_array():
    a = np.ones(3)
    v = Value(a)
    v.data -= 1.0
    assert a.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("abc", r"Value: data must be real numbers; got string data"),
        ([1 + 2j], r"Value: data must be real numbers; got complex data"),
        ([object()], r"Value: data must be real numbers; got object data"),
        ([[1, 2], [3]], r"Value: data must be a number, a regular nested list"),
        ([Value(1.0), Value(2.0)], r"Value: got a list that contains Values; use "
                                   r"tinygrad_edu.stack"),
    ],
)
def test_bad_data_is_a_clear_error(data, message):
    with pytest.raises((TypeError, ValueError), match=message):
        Value(data)


def test_integer_dtype_argument_is_refused():
    with pytest.raises(TypeError, match=r"Value: dtype must be a floating type .* got int32"):
        Value(1.0, dtype=np.int32)
    with pytest.raises(TypeError, match=r"Value: dtype must be a floating type .* got 'f32'"):
        Value(1.0, dtype="f32")


def test_repr_scalar_and_array():
    a = Value(2.0)
    assert repr(a) == "Value(2.0)"
    (a * -3.0).backward()
    assert repr(a) == "Value(2.0, grad=-3.0)"
    assert repr(Value(1.0, requires_grad=False, name="x")) == (
        "Value(1.0, requires_grad=False, name='x')")
    assert repr(Value(0.5, dtype=np.float32)) == "Value(0.5, dtype=float32)"
    text = repr(Value(np.arange(100.0).reshape(10, 10)))
    assert text.startswith("Value(shape=(10, 10), dtype=float64, data=[[ 0., 1., ...,")
    assert "\n" not in text and len(text) < 200


def test_repr_names_the_op_that_made_a_non_leaf():
    x = Value(0.8813735870195432)
    o = x.tanh()
    o.name = "o"
    o.backward(retain_graph=True)
    assert repr(o) == "Value(0.7071067811865476, grad=1.0, grad_fn=<Tanh>, name='o')"
    assert repr(x) == "Value(0.8813735870195432, grad=0.4999999999999999)"
    y = (Value([1.0, 2.0]) * 2.0).sum()
    y.backward()  # releases the graph: the node keeps the op's name
    assert repr(y) == "Value(6.0, grad=1.0, grad_fn=<Sum>)"
    assert "grad_fn=<Mul>" in repr(Value([1.0]) * 2.0)


def test_item_float_and_bool():
    assert Value(2.5).item() == 2.5 and float(Value([3.0])) == 3.0
    assert bool(Value(1.0)) and not bool(Value(0.0))
    with pytest.raises(ValueError, match=r"item: only a one-element Value .* shape \(2,\)"):
        Value([1.0, 2.0]).item()


def test_numpy_interop_asarray_and_reverse_operators():
    v = Value([1.0, 2.0])
    assert np.asarray(v) is v.data and v.numpy() is v.data
    for out in (np.ones(2) + v, np.ones(2) - v, np.ones(2) * v, np.ones(2) / v,
                np.ones(2) ** v, np.exp(v), np.maximum(v, 1.5), np.sum(v), np.mean(v),
                np.where(v.data > 1, v, 0.0), np.reshape(v, (2, 1)), np.concatenate([v, v])):
        assert isinstance(out, Value), out


def test_numpy_functions_without_gradient_refuse_to_drop_it_silently():
    v = Value([1.0, 2.0])
    with pytest.raises(TypeError, match=r"numpy\.cumsum on a Value that requires grad"):
        np.cumsum(v)
    with pytest.raises(TypeError, match=r"numpy\.arctan on a Value that requires grad"):
        np.arctan(v)
    np.testing.assert_array_equal(np.cumsum(v.detach()), [1.0, 3.0])
    np.testing.assert_array_equal(np.sign(v), [1.0, 1.0])  # zero gradient: computed on data
    assert np.argmax(v) == 1 and np.allclose(v, [1.0, 2.0])


def test_hashable_by_identity_so_values_go_in_sets():
    a, b = Value(1.0), Value(1.0)
    assert len({a, b, a}) == 2


def test_detach_and_requires_grad_():
    x = Value([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = Value(1.0, requires_grad=False).requires_grad_()
    assert y.requires_grad
    with pytest.raises(RuntimeError, match="requires_grad_: only leaves"):
        (x * 2).requires_grad_(False)


def test_grad_fn_and_is_leaf():
    x = Value(1.0)
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and type(y.grad_fn).__name__ == "Mul"
    assert y.grad_fn.inputs[0] is x


def test_module_functions_accept_plain_arrays():
    assert isinstance(tg.where(np.array([True, False]), Value([1.0, 2.0]), 0.0), Value)
    assert isinstance(tg.maximum(np.zeros(2), Value([1.0, -1.0])), Value)


def test_assigning_data_converts_to_the_values_dtype():
    p = Value(np.float32([1.0, 2.0]))
    p.data = np.array([3, 4])  # integers: converted, not an int Value
    assert p.data.dtype == np.float32 and p.data.tolist() == [3.0, 4.0]
    p.data = [0.5, 1.5]
    assert p.data.dtype == np.float32 and p.data.tolist() == [0.5, 1.5]
    p.data = 2
    assert p.data.dtype == np.float32 and p.shape == ()
    array = np.zeros((2, 2))
    p.data = array  # a float array is used as given, with its shape, as PyTorch allows
    assert p.data is array
    p.data = Value([7.0])
    assert p.data.tolist() == [7.0]


def test_updating_data_in_place_keeps_the_array_and_its_dtype():
    p = Value(np.float32([1.0, 2.0]))
    array = p.data
    p.data -= np.float64(0.5) * np.ones(2)  # the update of every training loop
    assert p.data is array and p.data.dtype == np.float32 and p.data.tolist() == [0.5, 1.5]


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ("abc", TypeError, r"Value.data: data must be real numbers; got string data"),
        ([[1, 2], [3]], ValueError, r"Value.data: data must be a number, a regular nested"),
        ([Value(1.0)], TypeError, r"Value.data: got a list that contains Values"),
    ],
)
def test_assigning_bad_data_is_a_clear_error(data, error, message):
    p = Value([1.0, 2.0])
    with pytest.raises(error, match=message):
        p.data = data
    assert p.data.tolist() == [1.0, 2.0]


def test_axes_take_numpy_ints_as_numpy_does():
    x = Value(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.sum(axis=np.int64(1)).data, [3.0, 12.0])
    np.testing.assert_array_equal(x.mean(axis=(np.int32(0), -1)).data, 2.5)
    np.testing.assert_array_equal(x.max(axis=np.int64(-2)).data, [3.0, 4.0, 5.0])
    with pytest.raises(TypeError, match=r"^sum: axis must be None, an int or a tuple of ints; "
                                        r"got True"):
        x.sum(axis=True)

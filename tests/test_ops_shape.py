"""Shape ops: values match NumPy, first and second derivatives proved, errors name the op."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Value
from tinygrad_edu.ops.shape import Concatenate, Pad, ScatterAdd, Stack
from tinygrad_edu.testing import check_op, gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as ts


def prove(fn, *xs):
    """First and second derivatives of fn (times x, so the second is non-trivial)."""
    gradcheck(fn, *xs)
    gradgradcheck(lambda *a: fn(*a) * fn(*a), *xs)


@given(x=ts.values())
def test_reshape_flatten_transpose(x):
    n = x.size
    np.testing.assert_array_equal(x.reshape(n).data, x.data.reshape(n))
    np.testing.assert_array_equal(x.flatten().data, x.data.flatten())
    np.testing.assert_array_equal(x.T.data, x.data.T)
    np.testing.assert_array_equal(x.transpose().data, np.transpose(x.data))
    prove(lambda x: x.reshape(1, n), x)
    prove(lambda x: x.flatten(), x)
    prove(lambda x: x.T, x)


@given(x=ts.values(ts.shapes(min_dims=1)), data=st.data())
def test_permute_and_swapaxes(x, data):
    axes = data.draw(st.permutations(range(x.ndim)))
    np.testing.assert_array_equal(x.permute(*axes).data, x.data.transpose(axes))
    np.testing.assert_array_equal(x.transpose(axes).data, x.data.transpose(axes))
    prove(lambda x: x.permute(*axes), x)
    prove(lambda x: x.swapaxes(0, -1), x)


@pytest.mark.parametrize(
    ("shape", "order"),
    [((2, 3, 4), (1, 2, 0)), ((2, 2, 2), (1, 2, 0)), ((2, 3, 4), (2, 0, 1)),
     ((1, 3, 1, 2), (3, 0, 1, 2)), ((2, 1, 3, 2), (1, 3, 0, 2))],
)
def test_non_involutive_permutations_send_the_gradient_back_by_the_inverse(shape, order):
    a = np.arange(np.prod(shape), dtype=float).reshape(shape)
    x = Value(a)
    y = x.permute(*order)
    np.testing.assert_array_equal(y.data, a.transpose(order))
    upstream = np.arange(y.size, dtype=float).reshape(y.shape)
    y.backward(upstream)
    np.testing.assert_array_equal(x.grad, upstream.transpose(np.argsort(order)))
    prove(lambda x: x.permute(*order), x)
    prove(lambda x: x.transpose(order).reshape(-1)[1:], x)


@given(x=ts.values(ts.shapes(min_dims=1)), data=st.data())
def test_flatten_range_squeeze_unsqueeze(x, data):
    start = data.draw(st.integers(0, x.ndim - 1))
    np.testing.assert_array_equal(
        x.flatten(start).data, x.data.reshape(x.shape[:start] + (-1,)))
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    np.testing.assert_array_equal(x.unsqueeze(axis).data, np.expand_dims(x.data, axis))
    np.testing.assert_array_equal(x.unsqueeze(axis).squeeze(axis).data, x.data)
    np.testing.assert_array_equal(x.squeeze().data, np.squeeze(x.data))
    prove(lambda x: x.unsqueeze(axis).squeeze(), x)


@given(shapes=ts.broadcastable_shapes(2), data=st.data())
def test_broadcast_to(shapes, data):
    target = np.broadcast_shapes(*shapes)
    x = Value(data.draw(ts.arrays(shapes[0])))
    np.testing.assert_array_equal(x.broadcast_to(target).data, np.broadcast_to(x.data, target))
    prove(lambda x: x.broadcast_to(target), x)


INDICES = [
    0, -1, slice(None, None, 2), slice(None, None, -1), (Ellipsis, 0), (None, 1),
    (slice(1, None), None, Ellipsis), [0, 0, 2], np.array([[1, 0], [1, 1]]),
    (np.array([0, 2, 0]), slice(None)), np.array([True, False, True]),
]


# NOTE: ids on one line (repr of a 2-D array spans two), so pytest can select each by id.
@pytest.mark.parametrize("index", INDICES, ids=lambda i: " ".join(repr(i).split()))
def test_getitem_values_and_gradients(index):
    a = np.arange(12.0).reshape(3, 4) / 7
    x = Value(a)
    np.testing.assert_array_equal(x[index].data, a[index])
    prove(lambda x: x[index], x)


def test_getitem_repeated_indices_accumulate():
    x = Value([1.0, 2.0, 3.0])
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    m = Value(np.ones((2, 2)))
    m[np.array([[True, False], [True, True]])].sum().backward()
    np.testing.assert_array_equal(m.grad, [[1, 0], [1, 1]])


def test_iteration_and_len_use_getitem():
    x = Value([[1.0, 2.0], [3.0, 4.0]])
    rows = list(x)
    assert len(x) == 2 and [r.shape for r in rows] == [(2,), (2,)]
    (rows[0] * rows[1]).sum().backward()
    np.testing.assert_array_equal(x.grad, [[3, 4], [1, 2]])
    with pytest.raises(TypeError, match="iteration over a 0-d Value"):
        iter(Value(1.0))


@given(shapes=st.lists(ts.shapes(min_dims=2, max_dims=2), min_size=1, max_size=3),
       axis=st.sampled_from([0, 1, -1]))
def test_concatenate(shapes, axis):
    other = 1 - (axis % 2)
    fixed = shapes[0][other]
    shapes = [s[:other] + (fixed,) + s[other + 1:] if other == 0 else (s[0], fixed)
              for s in shapes]
    xs = [Value(np.random.default_rng(i).standard_normal(s)) for i, s in enumerate(shapes)]
    out = tg.concatenate(xs, axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate([x.data for x in xs], axis=axis))
    prove(lambda *xs: tg.concatenate(xs, axis=axis), *xs)


@given(shape=ts.shapes(), count=st.integers(1, 3), data=st.data())
def test_stack(shape, count, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [Value(data.draw(ts.arrays(shape))) for _ in range(count)]
    np.testing.assert_array_equal(tg.stack(xs, axis=axis).data,
                                  np.stack([x.data for x in xs], axis=axis))
    prove(lambda *xs: tg.stack(xs, axis=axis), *xs)


def test_stack_of_scalars_makes_a_vector():
    a, b = Value(1.0), Value(2.0)
    v = tg.stack([a, b * a])
    (v * Value([3.0, 4.0], requires_grad=False)).sum().backward()
    assert v.shape == (2,) and a.grad == 3.0 + 4.0 * 2.0 and b.grad == 4.0


@given(x=ts.values(ts.shapes(min_dims=1)), data=st.data())
def test_pad(x, data):
    widths = [data.draw(st.tuples(st.integers(0, 2), st.integers(0, 2))) for _ in x.shape]
    out = tg.pad(x, widths, constant_values=0.5)
    np.testing.assert_array_equal(out.data, np.pad(x.data, widths, constant_values=0.5))
    prove(lambda x: tg.pad(x, widths), x)


def test_check_op_with_shape_ops_composes():
    check_op(lambda x: (x.reshape(-1)[::-1] * x.flatten()).sum(), max_examples=10)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda x: x.reshape(4), ValueError,
         r"reshape: cannot reshape a Value of shape \(2, 3\) \(6 elements\) into shape \(4,\)"),
        (lambda x: x.transpose(0, 0), ValueError,
         r"transpose: axes \(0, 0\) are not a permutation of the 2 axes"),
        (lambda x: x.broadcast_to((4, 3)), ValueError,
         r"broadcast_to: cannot broadcast a Value of shape \(2, 3\) to shape \(4, 3\)"),
        (lambda x: x[5], IndexError, r"getitem: index 5 into a Value of shape \(2, 3\)"),
        (lambda x: x[:, [0, 7]], IndexError, r"getitem: .* into a Value of shape \(2, 3\)"),
        (lambda x: tg.concatenate([x, Value(np.ones((3, 3)))], axis=1), ValueError,
         r"concatenate: the shapes \[\(2, 3\), \(3, 3\)\] must match except along axis 1"),
        (lambda x: tg.stack([x, x.T]), ValueError,
         r"stack: all Values must have the same shape; got \[\(2, 3\), \(3, 2\)\]"),
        (lambda x: tg.pad(x, [(1, 1)] * 3), ValueError,
         r"pad: pad_width .* does not fit a Value of shape \(2, 3\)"),
        (lambda x: tg.concatenate([]), ValueError, "^concatenate: needs at least one Value$"),
        (lambda x: tg.concatenate([x[0, 0], x[0, 1]]), ValueError,
         "^concatenate: 0-d Values cannot be concatenated; use stack$"),
        (lambda x: tg.concatenate([x, x], axis=2), ValueError,
         r"concatenate: axis 2 is out of range for a Value with 2 dimension\(s\)"),
        (lambda x: tg.stack([]), ValueError, "^stack: needs at least one Value$"),
        (lambda x: tg.stack([x, x], axis=-4), ValueError,
         r"stack: axis -4 is out of range for a Value with 3 dimension\(s\)"),
        (lambda x: tg.pad(x[0, 0], 1), ValueError, "^pad: a 0-d Value has no axes to pad$"),
        (lambda x: tg.pad(x, [(1, 0), (0, -1)]), ValueError,
         r"pad: pad_width must be >= 0; got \[\(1, 0\), \(0, -1\)\]"),
        (lambda x: x.squeeze(0), ValueError, r"squeeze: axis 0 of shape \(2, 3\) has size 2"),
        (lambda x: x.unsqueeze(4), ValueError, "unsqueeze: axis 4 is out of range"),
    ],
)
def test_shape_errors_name_the_op_and_shapes(make, error, message):
    with pytest.raises(error, match=message):
        make(Value(np.ones((2, 3))))


def test_joining_and_padding_ops_applied_directly_use_numpys_defaults():
    # The ops' own defaults (a custom op may call them without options): axis 0, zeros.
    a, b = Value([[1.0, 2.0]]), Value([[3.0, 4.0]])
    np.testing.assert_array_equal(Concatenate.apply(a, b).data, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(Stack.apply(a, b).data, [[[1, 2]], [[3, 4]]])
    np.testing.assert_array_equal(Pad.apply(a, pad_width=1).data,
                                  [[0, 0, 0, 0], [0, 1, 2, 0], [0, 0, 0, 0]])


def test_transpose_takes_every_axis_once_negatives_down_to_minus_ndim():
    x = Value(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(x.permute(-3, -1, -2).data, x.data.transpose(0, 2, 1))
    for axes in [(0, 1, 0), (2, 1), (0, -3)]:  # too many, out of range, a repeat
        with pytest.raises(ValueError, match=r"^transpose: axes .* are not a permutation"):
            x[0].transpose(*axes)
    # The hint about PyTorch's two-argument transpose comes only with two axes.
    with pytest.raises(ValueError, match=r"of shape \(2, 3, 4\)$"):
        x.transpose(0, 1, 1)
    with pytest.raises(ValueError, match=r"of shape \(3, 4\) \(PyTorch's transpose\(dim0, dim1\) "
                                         r"is swapaxes\(dim0, dim1\) here\)$"):
        x[0].transpose(0, 0)


def test_scatter_add_keeps_the_gradients_dtype():
    g = Value(np.ones(2), dtype=np.float32)
    out = ScatterAdd.apply(g, index=(slice(None), 0), shape=(2, 3))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [[1, 0, 0], [1, 0, 0]])


def test_pad_refuses_widths_that_are_not_whole_numbers():
    with pytest.raises(TypeError, match=r"^pad: pad_width must be whole numbers of elements; "
                                        r"got \[\(1\.5, 1\.5\)\]$"):
        tg.pad(Value(np.ones(3)), [(1.5, 1.5)])

"""matmul with NumPy's rules (1-D, 2-D, batched with broadcast batch axes), and the fully
connected ops: Linear, and LinearStack (Linear layers with ReLUs as one node)."""

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import assume, given
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


@given(batch=st.sampled_from([(), (1,), (3,), (2, 3)]), bias=st.booleans(), data=st.data())
def test_linear_op_values_and_gradients(batch, bias, data):
    from tinygrad_edu.ops.linalg import Linear

    x = Value(data.draw(ts.arrays((*batch, 3))))
    w = Value(data.draw(ts.arrays((2, 3))))
    args = (x, w, Value(data.draw(ts.arrays((2,))))) if bias else (x, w)
    expected = x.data @ w.data.T + (args[2].data if bias else 0)
    np.testing.assert_allclose(Linear.apply(*args).data, expected)
    gradcheck(Linear.apply, *args)
    gradgradcheck(Linear.apply, *args)


def test_linear_op_weight_gradient_keeps_the_weight_layout_and_skips_the_data():
    from tinygrad_edu.ops.linalg import Linear

    x = Value(np.ones((4, 3)), requires_grad=False)
    w = Value(np.ones((2, 3)))
    Linear.apply(x, w).sum().backward()
    assert w.grad.flags.c_contiguous and x.grad is None
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 3\) does not fit a "
                                         r"weight of shape \(2, 4\)"):
        Linear.apply(x, Value(np.ones((2, 4))))


@pytest.mark.parametrize("x_requires_grad", [False, True])
@pytest.mark.parametrize("batch", [(4,), (2, 3)])
def test_linear_op_second_derivatives_with_a_recorded_upstream_gradient(batch, x_requires_grad):
    # (z**2).sum() hands backward the upstream gradient 2 z, itself a recorded Value under
    # create_graph: the bias gradient's sum over the batch must work on it.
    from tinygrad_edu.ops.linalg import Linear

    rng = np.random.default_rng(0)
    x = Value(rng.standard_normal((*batch, 2)), requires_grad=x_requires_grad)
    w, b = Value(rng.standard_normal((3, 2))), Value(rng.standard_normal(3))
    gradgradcheck(lambda x, w, b: (Linear.apply(x, w, b) ** 2).sum(), x, w, b)


def test_nn_linear_with_a_bias_gives_second_derivatives():
    m = tg.nn.Linear(2, 1)
    x = Value(np.ones((4, 2)), requires_grad=False)
    gw, gb = tg.grad((m(x) ** 2).sum(), m.parameters(), create_graph=True)
    z = x.data @ m.weight.data.T + m.bias.data
    np.testing.assert_allclose(gw.data, 2 * z.T @ x.data)
    np.testing.assert_allclose(gb.data, [2 * z.sum()])
    (hb,) = tg.grad(gb.sum(), m.bias)
    np.testing.assert_allclose(hb, [2 * 4.0])  # d/db of 2 sum(z) = 2 N


def test_linear_op_adds_a_bias_of_another_dtype_or_that_broadcasts():
    from tinygrad_edu.ops.linalg import Linear

    x = Value(np.ones((4, 3)), dtype=np.float32)
    w = Value(np.ones((2, 3)), dtype=np.float32)
    z = Linear.apply(x, w, Value([0.5, -1.0]))  # a float64 bias: NumPy's promotion
    assert z.dtype == np.float64
    np.testing.assert_array_equal(z.data, np.tile([3.5, 2.0], (4, 1)))
    b = Value(np.array([2.0], dtype=np.float32))  # one number for every output
    z = Linear.apply(x, w, b)
    np.testing.assert_array_equal(z.data, np.full((4, 2), 5.0))
    z.sum().backward()
    np.testing.assert_array_equal(b.grad, [8.0])


def test_linear_op_refuses_an_input_or_weight_that_does_not_fit():
    from tinygrad_edu.ops.linalg import Linear

    w = Value(np.ones((2, 3)))
    for x in (Value(1.0), 2.0):  # 0-d: no feature axis
        with pytest.raises(ValueError, match=r"^linear: input of shape \(\) does not fit a weight "
                                             r"of shape \(2, 3\) \(the input's last axis must be "
                                             r"in_features=3\)$"):
            Linear.apply(x, w)
    with pytest.raises(ValueError, match=r"weight of shape \(2, 3, 4\) \(the input's last axis "
                                         r"must be in_features=4\)$"):
        Linear.apply(Value(np.ones((5, 4))), Value(np.ones((2, 3, 4))))


def test_linear_op_with_a_frozen_weight_passes_the_gradient_to_its_input():
    from tinygrad_edu.ops.linalg import Linear

    x = Value(np.ones((4, 3)))
    w = Value(np.arange(6.0).reshape(2, 3), requires_grad=False)
    Linear.apply(x, w).sum().backward()
    np.testing.assert_array_equal(x.grad, np.tile([3.0, 5.0, 7.0], (4, 1)))


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), (2, 3, 4)), ((2, 2, 3), (3,)),
                                    ((2, 2, 3), (3, 4))])
@pytest.mark.parametrize("frozen", [0, 1])
def test_matmul_backward_computes_nothing_for_an_input_that_needs_no_gradient(shapes, frozen):
    """An op's backward returns None for an input that does not require grad (data, a
    frozen weight) instead of computing a gradient the engine would drop; the other
    input's gradient is still right. Every NumPy matmul case."""
    rng = np.random.default_rng(0)
    x, w = (Value(rng.standard_normal(s), requires_grad=i != frozen)
            for i, s in enumerate(shapes))
    y = x @ w
    upstream = rng.standard_normal(y.shape)
    grads = y.grad_fn.backward(y.grad_fn, upstream)
    assert grads[frozen] is None
    both = [Value(x.data), Value(w.data)]  # the same product with both inputs live
    (both[0] @ both[1]).backward(upstream)
    live = grads[1 - frozen]  # the engine sums it over the batch axes it broadcast to
    live = live.sum(axis=tuple(range(live.ndim - len(shapes[1 - frozen]))))
    np.testing.assert_allclose(live, both[1 - frozen].grad, rtol=1e-12)


@pytest.mark.parametrize("batch", [(4,), (2, 3)])
@pytest.mark.parametrize("frozen", [0, 1, 2])
def test_linear_op_backward_computes_nothing_for_an_input_that_needs_no_gradient(batch, frozen):
    """Linear's backward returns None for whichever of x, W, b does not require grad (the
    data, a frozen weight or bias), with a batch of one axis or two; the others'
    gradients are those of the same op with every input live."""
    from tinygrad_edu.ops.linalg import Linear

    rng = np.random.default_rng(1)
    shapes = [(*batch, 3), (2, 3), (2,)]
    args = [Value(rng.standard_normal(s), requires_grad=i != frozen)
            for i, s in enumerate(shapes)]
    z = Linear.apply(*args)
    upstream = rng.standard_normal(z.shape)
    grads = z.grad_fn.backward(z.grad_fn, upstream)
    assert grads[frozen] is None
    live = [Value(a.data) for a in args]
    Linear.apply(*live).backward(upstream)
    for i in {0, 1, 2} - {frozen}:
        np.testing.assert_allclose(grads[i], live[i].grad, rtol=1e-12)


# ----------------------------------------------------------------------------------------
# LinearStack: Linear layers, each followed by a ReLU or by nothing, as one node
# ----------------------------------------------------------------------------------------


@st.composite
def linear_stacks(draw):
    """A LinearStack's inputs: x of a batch shape (none, size 1, N-D), 1 to 3 layers of 1
    to 3 units, each with or without a bias and a ReLU."""
    batch = draw(st.sampled_from([(), (1,), (3,), (2, 3)]))
    widths = draw(st.lists(st.integers(1, 3), min_size=2, max_size=4))
    x = Value(draw(ts.arrays((*batch, widths[0]))))
    params = []
    for n_in, n_out in pairwise(widths):
        params.append(Value(draw(ts.arrays((n_out, n_in)))))
        params.append(Value(draw(ts.arrays((n_out,)))) if draw(st.booleans()) else None)
    relu = tuple(draw(st.booleans()) for _ in widths[1:])
    return x, params, relu


@given(stack=linear_stacks())
def test_linear_stack_is_its_layers_one_by_one_with_their_derivatives(stack):
    from tinygrad_edu.ops.linalg import Linear, LinearStack

    x, params, relu = stack
    h, kinks = x, []
    for i, activated in enumerate(relu):
        h = Linear.apply(h, params[2 * i], params[2 * i + 1])
        if activated:
            kinks.append(np.abs(h.data).min())
            h = h.relu()
    assume(all(distance > 1e-3 for distance in kinks))  # finite differences across no kink
    z = LinearStack.apply(x, *params, relu=relu)
    assert z.data.tobytes() == h.data.tobytes()
    stack_of, present = _stack_of(params, relu)
    gradcheck(stack_of, x, *present)
    gradgradcheck(stack_of, x, *present)


def _stack_of(params, relu):
    """``LinearStack`` as a function of x and the parameters that are not None (as
    gradcheck takes them), and those parameters."""
    from tinygrad_edu.ops.linalg import LinearStack

    def stack_of(x, *given):
        values = iter(given)
        return LinearStack.apply(x, *(None if p is None else next(values) for p in params),
                                 relu=relu)

    return stack_of, [p for p in params if p is not None]


def _layers_inputs(bias, batch=(4,)):
    rng = np.random.default_rng(3)
    x = Value(rng.standard_normal((*batch, 3)))
    layers = [(Value(rng.standard_normal((n_out, n_in))),
               Value(rng.standard_normal(n_out)) if bias else None)
              for n_in, n_out in ((3, 5), (5, 4), (4, 2))]
    return x, [p for layer in layers for p in layer]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("relu", [(True, True, False), (False, True, True)])
@pytest.mark.parametrize("batch", [(4,), (2, 3)])
def test_linear_stack_first_and_second_derivatives(bias, relu, batch):
    x, params = _layers_inputs(bias, batch=batch)
    stack, present = _stack_of(params, relu)
    gradcheck(stack, x, *present)
    gradgradcheck(lambda *a: (stack(*a) ** 2).sum(), x, *present)  # recorded upstream


def test_a_linear_stack_gives_frozen_layers_and_a_constant_input_no_gradient():
    from tinygrad_edu.ops.linalg import LinearStack

    x, params = _layers_inputs(bias=True)
    relu = (True, True, False)
    LinearStack.apply(x, *params, relu=relu).sum().backward()
    expected = [p.grad for p in params]
    for v in (x, *params):
        v.grad = None
    x.requires_grad_(False)
    for p in params[:2]:  # the first layer frozen, as in transfer learning
        p.requires_grad_(False)
    LinearStack.apply(x, *params, relu=relu).sum().backward()
    assert x.grad is None and params[0].grad is None and params[1].grad is None
    for p, g in zip(params[2:], expected[2:], strict=True):
        np.testing.assert_array_equal(p.grad, g)


def test_a_linear_stack_with_a_frozen_first_layer_still_gives_its_input_a_gradient():
    from tinygrad_edu.ops.linalg import LinearStack

    x, params = _layers_inputs(bias=True)
    relu = (True, True, False)
    LinearStack.apply(x, *params, relu=relu).sum().backward()
    expected = x.grad
    x.grad = None
    for p in params[:2]:
        p.requires_grad_(False)
    LinearStack.apply(x, *params, relu=relu).sum().backward()
    np.testing.assert_array_equal(x.grad, expected)


@pytest.mark.parametrize(("frozen", "x_needs"), [(0, False), (1, False), (2, False), (0, True)])
def test_linear_stack_backward_works_only_from_the_lowest_layer_that_needs_it(
        frozen, x_needs, monkeypatch):
    """Layers below the lowest one with a gradient to give get no products at all, and the
    lowest computes g W only when x needs a gradient; only the top layer's ReLU gradient,
    whose g is the caller's, gets an array of its own."""
    from tinygrad_edu.ops import kernels
    from tinygrad_edu.ops.linalg import LinearStack

    calls, owned = [], []
    real_grads, real_owned = kernels.affine_grads, kernels.relu_grad_owned
    monkeypatch.setattr(kernels, "affine_grads",
                        lambda g, x, w, *needs: calls.append(needs) or real_grads(g, x, w, *needs))
    monkeypatch.setattr(kernels, "relu_grad_owned",
                        lambda g, x: owned.append(g.shape) or real_owned(g, x))
    x, params = _layers_inputs(bias=True)
    x.requires_grad_(x_needs)
    for p in params[:2 * frozen]:  # the lowest `frozen` layers
        p.requires_grad_(False)
    LinearStack.apply(x, *params, relu=(True, True, True)).sum().backward()
    assert len(calls) == 3 - frozen if not x_needs else len(calls) == 3
    assert calls[-1][0] == x_needs  # the lowest layer run: g W only for x
    assert len(owned) == len(calls) - 1  # every ReLU below the top one


def test_linear_stack_backward_never_writes_into_the_gradient_it_is_given():
    from tinygrad_edu.ops.linalg import LinearStack

    x, params = _layers_inputs(bias=True)
    z = LinearStack.apply(x, *params, relu=(True, True, True))  # the top layer has a ReLU
    upstream = np.random.default_rng(4).standard_normal(z.shape)
    given = upstream.copy()
    z.backward(given)
    np.testing.assert_array_equal(given, upstream)


def test_linear_stack_refuses_parameters_that_do_not_make_its_layers():
    from tinygrad_edu.ops.linalg import LinearStack

    x, params = _layers_inputs(bias=True)
    with pytest.raises(ValueError, match=r"LinearStack: got 5 weights and biases for 3 "
                                         r"layers \(relu=\(True, True, False\)\); "
                                         r"expected a weight and a bias \(or None\) per layer"):
        LinearStack.apply(x, *params[:5], relu=(True, True, False))
    with pytest.raises(ValueError, match="got 6 weights and biases for 2 layers"):
        LinearStack.apply(x, *params, relu=(True, False))

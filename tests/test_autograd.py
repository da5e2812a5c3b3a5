"""The engine: graph shapes, accumulation, modes, hooks, anomaly detection, custom ops."""

import gc
import inspect
import sys
import threading
import unittest.mock
import weakref

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Function, Value, autograd
from tinygrad_edu.testing import check_op

# ----------------------------------------------------------------------------------------
# Graph shapes
# ----------------------------------------------------------------------------------------


def test_micrograd_example_runs_unchanged():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    # the numbers micrograd's README gives
    assert abs(g.data - 24.7041) < 1e-4
    assert abs(a.grad - 138.8338) < 1e-4
    assert abs(b.grad - 645.5773) < 1e-4


def test_diamond():
    a = Value(3.0)
    b = a + a
    c = b * b
    c.backward()
    assert b.grad == 2 * 6.0 and a.grad == 2 * 12.0


def test_shared_subexpression_is_differentiated_once_per_use():
    x = Value(2.0)
    s = x * x  # used three times
    y = s * s + s.exp() + s
    y.backward()
    ds = 2 * s.data + np.exp(s.data) + 1
    assert s.grad == pytest.approx(ds)
    assert x.grad == pytest.approx(ds * 2 * x.data)


def test_chain_of_a_million_nodes_has_no_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    assert y.data == 1_000_001.0
    assert sys.getrecursionlimit() < 1_000_000
    y.backward()
    assert x.grad == 1.0


def test_gradients_accumulate_across_backward_calls_without_doubling_intermediates():
    x = Value(3.0)
    h = x * x
    y = h * 2.0
    y.backward()
    y.backward()
    assert x.grad == 2 * (2.0 * 2 * 3.0)  # twice, not compounded
    assert h.grad == 2 * 2.0
    x.zero_grad()
    assert x.grad is None
    y.backward()
    assert x.grad == 12.0


def test_intermediate_nodes_keep_their_gradient():
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c + a
    d.backward()
    assert c.grad == 1.0 and d.grad == 1.0


def fan_out(x):
    """sum((a + b) * (a + 1)) with a = relu(x), b = relu(2x): Add hands one gradient array
    to both of its inputs, and the ReLUs may reuse the arrays they receive."""
    a, b = x.relu(), (x * 2.0).relu()
    return ((a + b) * (a + 1.0)).sum()


def fan_out_grad(x):
    a, b = np.maximum(x, 0), np.maximum(2 * x, 0)
    return ((a + 1) + (a + b)) * (x > 0) + (a + 1) * 2 * (x > 0)


FAN_OUT_DATA = np.array([[-1.0, 0.5, 2.0], [3.0, -0.25, 1.0]])


def test_retain_graph_false_gives_the_same_gradients_and_releases_the_graph():
    x = Value(FAN_OUT_DATA)
    loss = fan_out(x)
    loss.backward(intermediate_grads=False, retain_graph=False)
    np.testing.assert_allclose(x.grad, fan_out_grad(FAN_OUT_DATA))
    with pytest.raises(RuntimeError, match=r"^backward: the graph through this Sum node was "
                                           r"released by an earlier backward\(retain_graph="
                                           r"False\); pass retain_graph=True"):
        loss.backward()
    np.testing.assert_allclose(x.grad, fan_out_grad(FAN_OUT_DATA))  # nothing added


def test_a_released_node_of_your_own_op_names_the_op():
    class Twice(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    y = Twice.apply(Value(3.0))
    y.backward(retain_graph=False)
    with pytest.raises(RuntimeError, match=r"^backward: the graph through this Twice node was "
                                           r"released"):
        y.backward()


def test_retain_graph_false_frees_each_intermediate_array_during_the_pass():
    # x waits for its turn (it has a hook), so its hook runs after every op node's backward:
    # by then the intermediate arrays must be gone, not kept until the pass returns.
    x = Value(FAN_OUT_DATA)
    h = (x * 2.0).exp()
    freed = [weakref.ref(h.data), weakref.ref(h.grad_fn.inputs[0].data)]
    alive = []
    x.register_hook(lambda grad: alive.extend(ref() is not None for ref in freed))
    loss = h.sum()
    del h
    loss.backward(intermediate_grads=False, retain_graph=False)
    assert alive == [False, False]
    np.testing.assert_allclose(x.grad, 2.0 * np.exp(2.0 * FAN_OUT_DATA))


def test_reused_gradient_arrays_change_no_gradient_anyone_holds():
    x = Value(FAN_OUT_DATA)
    h = (x * 3.0).relu()
    seen = []
    h.register_hook(seen.append)  # holds h's gradient, so h's ReLU must not reuse it
    (fan_out(x) + (h * 2.0).sum()).backward(intermediate_grads=False)
    np.testing.assert_array_equal(seen[0], np.full(FAN_OUT_DATA.shape, 2.0))
    expected = fan_out_grad(FAN_OUT_DATA) + 2.0 * 3.0 * (FAN_OUT_DATA > 0)
    np.testing.assert_allclose(x.grad, expected)


def test_a_leaf_keeps_its_last_gradient_array_until_backward_stores_the_next():
    # zero_grad() at the start of a step must not free the gradients at the top of the heap
    # before the step's forward pass has reused the memory below them (see _store)
    w = Value(np.ones((3, 4)))
    (w * 2.0).sum().backward()
    first = weakref.ref(w.grad)
    w.grad = None
    assert first() is not None
    (w * 3.0).sum().backward()
    assert first() is None
    np.testing.assert_array_equal(w.grad, np.full((3, 4), 3.0))


def test_a_gradient_the_user_still_holds_is_never_written_to_or_reused():
    w = Value(np.ones(3))
    (w * 2.0).sum().backward()
    old = w.grad
    w.zero_grad()
    (w * 3.0).sum().backward()
    assert w.grad is not old
    np.testing.assert_array_equal(old, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(w.grad, [3.0, 3.0, 3.0])
    (w * 4.0).sum().backward()  # accumulated out of place: the array before is unchanged
    np.testing.assert_array_equal(w.grad, [7.0, 7.0, 7.0])


def test_a_gradient_value_of_create_graph_is_not_kept_after_reset():
    # a Value gradient holds its own graph: reset, it must go at once
    x = Value(np.arange(1.0, 4.0))
    (x * x).sum().backward(create_graph=True)
    data = weakref.ref(x.grad.data)
    x.grad = None
    assert data() is None


def test_constants_and_no_grad_leaves_get_no_gradient():
    x = Value([1.0, 2.0], requires_grad=False)
    w = Value([0.5, 0.5])
    (x * w).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])


def test_graph_holds_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        x = Value(np.ones(3))
        y = ((x * 2).exp() + x).sum()
        y.backward()
        ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None  # freed by reference counting alone
    finally:
        gc.enable()


# ----------------------------------------------------------------------------------------
# backward() and grad() arguments
# ----------------------------------------------------------------------------------------


def test_backward_on_non_scalar_needs_grad():
    x = Value(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"backward: .* this one has shape \(2, 3\)"):
        (x * 2).backward()
    (x * 2).backward(np.full((2, 3), 0.5))
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))


def test_backward_grad_of_wrong_shape_is_an_error():
    x = Value(np.ones(3))
    with pytest.raises(ValueError, match=r"backward: grad has shape \(2,\) but the output has "
                                         r"shape \(3,\)"):
        (x * 2).backward(np.ones(2))


@pytest.mark.parametrize("bad", ["abc", [object()], {"a": 1}])
def test_backward_grad_that_is_not_numbers_is_a_clear_error(bad):
    y = Value(1.0) * 2
    with pytest.raises(TypeError, match=r"backward: grad must be real numbers \(an array or "
                                        r"Value of the output's shape \(\)\); got"):
        y.backward(bad)


def test_preset_grad_of_the_wrong_shape_is_an_error_naming_the_value():
    w = Value([1.0, 2.0], name="w")
    w.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"backward: the .grad already on the leaf Value 'w' of "
                                         r"shape \(2,\) has shape \(3,\); set it to None"):
        (w * 2).sum().backward()
    h = Value([1.0, 2.0]) * 3
    h.grad = np.ones((2, 1))  # would broadcast to (2, 2) silently
    with pytest.raises(ValueError, match=r"the .grad already on the output of Mul of shape "
                                         r"\(2,\) has shape \(2, 1\)"):
        h.sum().backward()
    w.grad = 5.0
    with pytest.raises(ValueError, match=r"has shape float; set it to None"):
        (w * 2).sum().backward()


def test_backward_through_a_value_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="backward: this Value does not require grad"):
        Value(1.0, requires_grad=False).exp().backward()
    with tg.no_grad():
        y = Value(1.0) * 2
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_grad_function_leaves_dot_grad_alone():
    x, y = Value(2.0), Value(5.0)
    z = x * y
    gx, gy = tg.grad(z, [x, y])
    assert (gx, gy) == (5.0, 2.0)
    assert x.grad is None and y.grad is None and z.grad is None


def test_grad_with_unused_input():
    x, unused = Value(1.0), Value(2.0)
    with pytest.raises(ValueError, match="grad: the outputs do not depend on input 1"):
        tg.grad(x * 3, [x, unused])
    assert tg.grad(x * 3, [x, unused], allow_unused=True) == (3.0, None)


def test_grad_of_several_outputs_with_grad_outputs():
    x = Value([1.0, 2.0])
    (g,) = tg.grad([x * 2, (x * x).sum()], x, grad_outputs=[np.array([1.0, 10.0]), None])
    np.testing.assert_array_equal(g, [2.0 + 2.0, 20.0 + 4.0])


def test_second_derivative_and_hessian_vector_product():
    x = Value([1.0, 2.0, 3.0])
    f = (x**3).sum() + (x[0] * x[1])
    (g,) = tg.grad(f, x, create_graph=True)
    assert isinstance(g, Value) and g.requires_grad
    v = np.array([1.0, 0.0, -1.0])
    (hv,) = tg.grad((g * v).sum(), x)
    hessian = np.diag(6 * x.data) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(hv, hessian @ v)


def test_backward_create_graph_leaves_differentiable_grads():
    x = Value(2.0)
    y = x**4
    y.backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value) and first.item() == 32.0
    x.zero_grad()
    first.backward()
    assert x.grad == 48.0  # d2/dx2 x^4 = 12 x^2


def test_third_derivative():
    x = Value(0.5)
    (g1,) = tg.grad(x.sin(), x, create_graph=True)
    (g2,) = tg.grad(g1, x, create_graph=True)
    (g3,) = tg.grad(g2, x)
    assert g3 == pytest.approx(-np.cos(0.5))


# ----------------------------------------------------------------------------------------
# Modes
# ----------------------------------------------------------------------------------------


def test_no_grad_context_nests_and_restores_on_exception():
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        with tg.enable_grad():
            assert tg.is_grad_enabled()
            assert (Value(1.0) * 2).requires_grad
        with tg.no_grad():
            assert not (Value(1.0) * 2).requires_grad
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    with pytest.raises(KeyError), tg.no_grad():
        raise KeyError("boom")
    assert tg.is_grad_enabled()


def in_new_thread(fn):
    """Run ``fn()`` on a thread of its own and return what it returned."""
    result = []
    thread = threading.Thread(target=lambda: result.append(fn()))
    thread.start()
    thread.join()
    return result[0]


def test_grad_mode_is_per_thread_as_in_pytorch():
    x = Value(2.0)
    records = lambda: ((x * 3).requires_grad, tg.is_grad_enabled())  # noqa: E731
    seen = []
    y = x * x
    # a backward records none of its own ops; a forward in another thread meanwhile does
    y.register_hook(lambda g: seen.append(in_new_thread(records)))
    y.backward()
    assert seen == [(True, True)]
    with tg.no_grad():
        assert in_new_thread(records) == (True, True)
        assert records() == (False, False)
    with tg.detect_anomaly():  # anomaly detection is for the whole process, as PyTorch's
        assert in_new_thread(lambda: autograd._anomaly.enabled) is True


def test_no_grad_as_decorator_and_set_grad_enabled():
    @tg.no_grad()
    def evaluate(x):
        return x * 2

    assert not evaluate(Value(1.0)).requires_grad
    assert tg.is_grad_enabled()
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    with tg.set_grad_enabled(True):
        assert tg.is_grad_enabled()


def test_no_grad_and_enable_grad_decorate_without_parentheses():
    @tg.no_grad
    def evaluate(x):
        return x * 2

    @tg.enable_grad
    def record(x):
        return x * 2

    assert evaluate.__name__ == "evaluate"
    assert not evaluate(Value(1.0)).requires_grad and tg.is_grad_enabled()
    with tg.no_grad():
        assert record(Value(1.0)).requires_grad and not tg.is_grad_enabled()
    with pytest.raises(TypeError, match=r"no_grad: takes no argument .* got 3"):
        tg.no_grad(3)


def test_hooks_see_and_replace_the_gradient():
    x = Value(3.0)
    h = x * 2.0
    seen = []
    handle = h.register_hook(lambda g: seen.append(float(g)))
    h.register_hook(lambda g: g * 10)
    (h * h).backward()
    assert seen == [12.0]
    assert h.grad == 120.0 and x.grad == 240.0
    handle.remove()
    x.zero_grad()
    (h * 1.0).backward()
    assert seen == [12.0] and x.grad == 20.0


def test_leaves_used_several_times_get_their_total_with_or_without_a_hook():
    # Leaves without hooks are summed aside and stored after the walk; a leaf with a hook
    # waits its turn. Both must end with the same totals, and the hook must fire once.
    w, v = Value([1.0, -2.0]), Value([3.0, 0.5])
    seen = []
    v.register_hook(lambda g: seen.append(g.copy()))
    w.grad = np.array([10.0, 10.0])  # gradients accumulate across backward calls
    loss = (w * v).sum() + (w * w).sum() + (v * 4.0).sum() + (w * v * v).sum()
    loss.backward()
    np.testing.assert_allclose(w.grad, 10.0 + v.data + 2 * w.data + v.data**2)
    np.testing.assert_allclose(v.grad, w.data + 4.0 + 2 * w.data * v.data)
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], v.grad)
    (g_w,) = tg.grad(loss, [w])  # captured, not stored: .grad stays as it is
    np.testing.assert_allclose(g_w, v.data + 2 * w.data + v.data**2)
    np.testing.assert_allclose(w.grad, 10.0 + g_w)


def test_hook_results_are_checked_and_name_the_value():
    def wrong_shape(g):
        return np.ones(3)

    def words(g):
        return "abc"

    for make in (lambda: Value([1.0, 2.0], name="x"), lambda: Value([1.0, 2.0]) * 1.0):
        v = make()
        where = "leaf Value 'x'" if v.is_leaf else "output of Mul"
        handle = v.register_hook(wrong_shape)
        with pytest.raises(ValueError, match=rf"register_hook: the hook wrong_shape on the "
                                             rf"{where} of shape \(2,\) returned a gradient "
                                             rf"of shape \(3,\); it must return None"):
            (v * v).sum().backward()
        handle.remove()
        v.register_hook(words)
        with pytest.raises(TypeError, match=rf"the hook words on the {where} of shape \(2,\) "
                                            rf"returned str data"):
            (v * v).sum().backward()


def test_a_hook_without_a_name_is_named_by_its_repr():
    class Doubler:
        def __call__(self, g):
            return np.ones(3)

        def __repr__(self):
            return "<Doubler>"

    v = Value([1.0, 2.0])
    v.register_hook(Doubler())
    with pytest.raises(ValueError, match=r"^register_hook: the hook <Doubler> on the leaf"):
        (v * v).sum().backward()


def test_hook_results_are_cast_to_the_values_dtype():
    x = Value(np.float32([1.0, 2.0]))
    x.register_hook(lambda g: [1, 1])  # a list of ints: converted
    (x * x).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_hook_on_a_value_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="register_hook: this Value does not require grad"):
        Value(1.0, requires_grad=False).register_hook(print)


def test_detect_anomaly_names_the_op_and_the_line_in_forward():
    x = Value([1.0, -1.0])
    with tg.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        x.log()  # the offending line
    message = str(info.value)
    assert "forward of Log produced nan" in message
    assert "test_autograd.py" in message and "x.log()  # the offending line" in message


def test_detect_anomaly_names_the_op_in_backward():
    x = Value(0.0)
    y = x.sqrt()  # forward is finite (0) but the derivative 1/(2 sqrt(x)) is inf
    with tg.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        y2 = x.sqrt()  # recorded under anomaly mode: the site is this line
        y2.backward()
    assert "backward (gradient for input 0) of Sqrt produced inf" in str(info.value)
    assert "y2 = x.sqrt()" in str(info.value)
    assert y.data == 0.0


def test_detect_anomaly_names_the_users_line_past_a_library_that_calls_the_op():
    # unittest.mock (the standard library) calls Value.log; the user's line is the call below
    log = unittest.mock.Mock(side_effect=Value([1.0, -1.0]).log)
    with tg.detect_anomaly(), pytest.raises(FloatingPointError,
                                            match=r"test_autograd\.py:\d+: log\(\)  # the op$"):
        log()  # the op


def test_detect_anomaly_names_a_library_line_when_no_line_is_the_users(monkeypatch):
    monkeypatch.setattr(autograd, "_LIBRARIES", ("/", "<"))  # every file is a library
    with tg.detect_anomaly(), \
            pytest.raises(FloatingPointError, match=r"created at (.+)\.py:\d+: ") as info:
        Value([-1.0]).log()
    assert autograd._PACKAGE_DIR not in str(info.value)


def test_detect_anomaly_says_unknown_when_every_line_is_the_packages(monkeypatch):
    monkeypatch.setattr(autograd, "_PACKAGE_DIR", "")  # every file counts as the package's
    with tg.detect_anomaly(), pytest.raises(FloatingPointError, match=r"created at <unknown>$"):
        Value([-1.0]).log()


# The two tests above read the line back; under mutation testing, where every function is
# wrapped, that line is the wrapper's, so these check the rest of each message.
SITE = r"; the node was created at .+:\d+: .*$"


def test_detect_anomaly_says_nan_or_inf_and_which_op_in_forward():
    with tg.detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"^detect_anomaly: forward of Log "
                                                      r"produced nan" + SITE):
            Value([1.0, -1.0]).log()
        with pytest.raises(FloatingPointError, match=r"^detect_anomaly: forward of Log "
                                                      r"produced inf" + SITE):
            Value(0.0).log()


def test_detect_anomaly_checks_backward_for_nodes_made_before_it_too():
    x = Value(0.0)
    y = x.sqrt()  # made outside the block: the site is where backward was called
    with tg.detect_anomaly(), pytest.raises(
            FloatingPointError, match=r"^detect_anomaly: backward \(gradient for input 0\) of "
                                      r"Sqrt produced inf" + SITE):
        y.backward()
    with tg.detect_anomaly(), pytest.raises(FloatingPointError, match=r"produced inf" + SITE):
        x.sqrt().backward(create_graph=True)  # the gradients are Values here


def test_detect_anomaly_nests_and_is_off_again_after_the_block():
    x = Value([-1.0])
    with pytest.raises(KeyError), tg.detect_anomaly():
        with tg.detect_anomaly():
            pass
        with pytest.raises(FloatingPointError):
            x.log()  # still inside the outer block
        raise KeyError("leaves the block by an exception")
    with pytest.warns(RuntimeWarning, match="invalid value"):
        x.log()  # NumPy's own warning again: no anomaly check


def test_ops_whose_inputs_do_not_broadcast_name_the_op_and_both_shapes():
    message = (r"^{}: shapes \(2, 3\) and \(4,\) do not broadcast together \(NumPy's rules: "
               r"align on the right, sizes equal or 1\)$")
    with pytest.raises(ValueError, match=message.format("Add")):
        Value(np.ones((2, 3))) + Value(np.ones(4))
    with pytest.raises(ValueError, match=message.format("Mul")):
        Value(np.ones((2, 3))) * np.ones(4)


def test_a_function_without_forward_or_backward_says_which_is_missing():
    class NoForward(Function):
        pass

    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(NotImplementedError, match=r"^a Function subclass must define "
                                                  r"forward\(ctx, \*inputs\)$"):
        NoForward.apply(Value(1.0))
    with pytest.raises(NotImplementedError, match=r"^a Function subclass must define "
                                                  r"backward\(ctx, grad\)$"):
        NoBackward.apply(Value(1.0)).backward()


# ----------------------------------------------------------------------------------------
# Custom ops
# ----------------------------------------------------------------------------------------


class Cube(Function):
    """z = x**3;  dz/dx = 3 x**2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class ScaleBy(Function):
    """z = x * k with k a keyword option; only x is an input."""

    @staticmethod
    def forward(ctx, x, *, k):
        ctx.k = k
        ctx.flags = ctx.needs_input_grad
        return x * k

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.k


def test_custom_op_first_and_second_derivatives():
    check_op(lambda x: Cube.apply(x))
    check_op(lambda x: ScaleBy.apply(x, k=2.5))


def test_custom_op_sees_needs_input_grad_and_plain_arrays():
    x = Value([1.0, 2.0])
    y = ScaleBy.apply(x, k=3.0)
    assert y.grad_fn.flags == (True,)
    assert ScaleBy.apply(np.array([1.0]), k=2.0).tolist() == [2.0]  # no Value: no graph


def test_custom_op_returning_the_wrong_number_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(ValueError, match=r"Bad.backward returned 1 gradient\(s\) for 2 input"):
        Bad.apply(Value(1.0), Value(2.0)).backward()


def test_custom_op_gradient_of_wrong_shape_names_the_op():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            return np.ones(5) * grad

    with pytest.raises(ValueError, match=r"Wrong backward: gradient for input 0 has shape "
                                         r"\(5,\), which does not reduce to .* \(3,\)"):
        Wrong.apply(Value(np.ones(3))).backward()



def test_backward_can_keep_only_the_leaves_gradients():
    x = Value([1.0, 2.0])
    h = x * 3.0
    y = (h * h).sum()
    y.backward(intermediate_grads=False)
    assert h.grad is None and y.grad is None
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])


def test_apply_and_the_backward_loop_each_fit_on_one_screen():
    # What every student reads first (docs/architecture.md walks through both).
    from tinygrad_edu import autograd

    for fn in (Function.apply, autograd._backprop, autograd._hand_out):
        lines = inspect.getsource(fn).splitlines()
        assert len(lines) <= 45, f"{fn.__qualname__} has grown to {len(lines)} lines"


def test_architecture_page_shows_the_backward_loop_as_written():
    from pathlib import Path

    from tinygrad_edu import autograd

    source = inspect.getsource(autograd._backprop)
    body = source[source.index('"""', source.index('"""') + 3) + 4:]  # after the docstring
    page = (Path(__file__).parent.parent / "docs" / "architecture.md").read_text()
    assert body.strip() and body in page


def test_unbroadcast_names_the_op_and_input_it_is_told_and_refuses_fewer_axes():
    from tinygrad_edu.autograd import unbroadcast

    np.testing.assert_array_equal(unbroadcast(np.ones((4, 2, 3)), (2, 1)), np.full((2, 1), 12))
    with pytest.raises(ValueError, match=r"^op backward: gradient for input 0 has shape \(3,\), "
                                         r"fewer axes than the input's shape \(2, 3\)$"):
        unbroadcast(np.ones(3), (2, 3))
    with pytest.raises(ValueError, match=r"^Mul backward: gradient for input 1 has shape \(3,\)"):
        unbroadcast(np.ones(3), (2, 3), "Mul", 1)


def test_a_scalars_gradient_is_a_0d_array():
    x = Value(2.0)
    (x * x + x.exp()).backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == ()


def test_a_scalars_gradient_stays_a_0d_array_when_a_second_backward_adds_to_it():
    x = Value(2.0)
    y = x * x
    y.backward()
    y.backward()  # NumPy's sum of two 0-d arrays is a scalar, not a 0-d array
    for v in (x, y):
        assert type(v.grad) is np.ndarray and v.grad.shape == ()
    assert x.grad == 8.0 and y.grad == 2.0


def test_gradients_accumulated_by_two_create_graph_backwards_stay_differentiable():
    x = Value(2.0)
    for _ in range(2):
        (x**3).backward(create_graph=True)  # each adds 3 x**2
    assert x.grad.item() == 24.0
    (second,) = tg.grad(x.grad, [x])
    assert second.item() == 24.0  # d/dx of 2 * 3 x**2 = 12 x


class ConstantSlope(Function):
    """z = 2 x + 0 y for a 0-d x and a vector y, with a backward that returns plain
    constants: a Python number for x, an array for y."""

    @staticmethod
    def forward(ctx, x, y):
        return 2 * x + 0 * y

    @staticmethod
    def backward(ctx, grad):
        return 2.0 * float(grad.sum()), np.zeros(3)


def test_a_backward_may_return_plain_numbers_and_constant_arrays():
    x, y = Value(1.0), Value(np.ones(3))
    ConstantSlope.apply(x, y).sum().backward()
    assert x.grad == 6.0 and x.grad.dtype == np.float64
    x.grad = y.grad = None
    ConstantSlope.apply(x, y).sum().backward(create_graph=True)
    assert isinstance(x.grad, Value) and isinstance(y.grad, Value)  # constants as leaves
    assert x.grad.item() == 6.0


def test_a_wrong_gradient_shape_names_the_input_it_is_for():
    class WrongSecond(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad, np.ones(5)

    with pytest.raises(ValueError, match=r"^WrongSecond backward: gradient for input 1 has "
                                         r"shape \(5,\)"):
        WrongSecond.apply(Value(np.ones(3)), Value(np.ones(3))).backward(np.ones(3))
    x = Value(np.ones(3))  # the same Value as both inputs: named by the position at fault
    with pytest.raises(ValueError, match=r"^WrongSecond backward: gradient for input 1 has "
                                         r"shape \(5,\)"):
        WrongSecond.apply(x, x).backward(np.ones(3))


def test_a_hook_may_return_a_plain_number():
    x = Value(2.0)
    x.register_hook(lambda g: 5.0)
    (x * x).backward()
    assert type(x.grad) is np.ndarray and x.grad == 5.0


def test_grad_checks_its_arguments_and_names_itself():
    x = Value([1.0, 2.0])
    y = (x * x).sum()
    assert tg.grad(y, x, grad_outputs=2.0)[0].tolist() == [4.0, 8.0]  # a plain number
    for inputs in ([np.ones(2)], [Value(1.0, requires_grad=False)]):
        with pytest.raises(ValueError, match=r"^grad: input 0 is not a Value that requires "
                                             r"grad$"):
            tg.grad(y, inputs)
    with pytest.raises(ValueError, match=r"^grad: 2 grad_outputs for 1 outputs$"):
        tg.grad(y, x, grad_outputs=[1.0, 1.0])
    with pytest.raises(ValueError, match=r"^grad: a gradient can be implied only for a "
                                         r"one-element output"):
        tg.grad(x * 2, x)
    (g,) = tg.grad(x, x, grad_outputs=np.ones(2), create_graph=True)
    assert isinstance(g, Value)  # even the seed itself, so it can be differentiated again


def test_detect_anomaly_lets_finite_work_through_unchanged():
    x = Value([[1.0, 2.0], [3.0, 4.0]])
    with tg.detect_anomaly():
        y = x.sum(axis=0)  # an op with options: they reach forward under the check too
        (y * y).sum().backward(create_graph=True)
    np.testing.assert_array_equal(y.data, [4.0, 6.0])
    np.testing.assert_array_equal(x.grad.data, [[8.0, 12.0], [8.0, 12.0]])


def test_needs_input_grad_is_a_tuple_of_bools_for_any_pattern():
    class Five(Function):
        @staticmethod
        def forward(ctx, *xs):
            ctx.flags = ctx.needs_input_grad
            return sum(xs)

        @staticmethod
        def backward(ctx, grad):
            return (grad,) * 5

    v = Value(1.0)
    out = Five.apply(v, 2.0, Value(3.0, requires_grad=False), v, np.float64(4.0))
    assert out.grad_fn.flags == (True, False, False, True, False)


def test_a_new_pattern_of_inputs_needing_gradients_is_worked_out_once(monkeypatch):
    monkeypatch.setattr(autograd, "_PATTERNS", {})  # as in a fresh process
    x, c = Value([1.0, 2.0]), Value([3.0, 4.0], requires_grad=False)
    first, second = (c * x).grad_fn, (c * x + 0.0).grad_fn.inputs[0].grad_fn
    assert first.needs_input_grad == (False, True) and first._grad_positions == (1,)
    assert second.needs_input_grad is first.needs_input_grad  # one tuple per pattern
    assert (x * c).grad_fn._grad_positions == (0,)


def test_op_outputs_are_arrays_whatever_forward_returns():
    class Total(Function):
        @staticmethod
        def forward(ctx, x):
            return float(x.sum())  # a Python number

        @staticmethod
        def backward(ctx, grad):
            return grad

    assert type(Total.apply(Value([1.0, 2.0])).data) is np.ndarray
    assert type(Value(2.0).exp().data) is np.ndarray  # a NumPy scalar from forward


def test_a_none_gradient_for_an_intermediate_node_stops_there():
    class Blocks(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return None

    x = Value(2.0)
    y = x * 3
    Blocks.apply(y).backward()
    assert x.grad is None and y.grad is None


def test_backward_without_anomaly_mode_lets_numpy_warn():
    y = Value(0.0).sqrt()
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        y.backward()


def test_seeds_for_one_element_outputs_and_values_keep_the_outputs_dtype():
    x = Value([3.0])
    (x * 2).backward()  # a one-element output of shape (1,): the seed is implied
    assert x.grad.tolist() == [2.0]
    x.grad = None
    (x * 2).backward(Value([5.0]))  # a Value as the seed
    assert x.grad.tolist() == [10.0]
    y = Value(np.ones(2), dtype=np.float32) * 2
    y.backward(np.ones(2))  # a float64 seed for a float32 output
    assert y.grad.dtype == np.float32


def test_grad_of_an_output_given_twice_sums_both_seeds():
    x = Value(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    (g,) = tg.grad([y, y], x)
    np.testing.assert_array_equal(g, [4.0, 8.0])
    (g,) = tg.grad([y, y], x, grad_outputs=[np.array(1.0), np.array(3.0)])
    np.testing.assert_array_equal(g, [8.0, 16.0])


def test_a_hook_returning_a_value_of_another_dtype_is_cast_to_the_nodes():
    x = Value(np.ones(3), requires_grad=True)  # float64
    x.register_hook(lambda g: Value(np.full(3, 2.0, np.float32)))
    (x * 5).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])

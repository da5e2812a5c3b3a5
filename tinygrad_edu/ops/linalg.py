"""Matrix multiplication with NumPy's rules (1-D, 2-D, batched N-D), the fully connected
layer x W^T + b as one op, and a stack of such layers with ReLUs as one op."""

from __future__ import annotations

import numpy as np

from ..autograd import Function, ValueBase
from . import kernels


def _mT(x):
    """Swap the last two axes (a batched transpose); works on arrays and Values."""
    return x.swapaxes(-1, -2)


def _matmul_error(x, y):
    """Why NumPy could not multiply x and y, in the words of the shapes."""
    if x.ndim == 0 or y.ndim == 0:
        return ValueError(f"matmul: 0-d operands are not allowed (shapes {x.shape} and "
                          f"{y.shape}); use * for scaling")
    k_x = x.shape[-1]
    k_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if k_x != k_y:
        return ValueError(f"matmul: shapes {x.shape} and {y.shape} are not aligned "
                          f"({k_x} != {k_y})")
    return ValueError(f"matmul: the batch axes of shapes {x.shape} and {y.shape} do not "
                      f"broadcast")


class MatMul(Function):
    """z = x @ y;  dz/dx = g @ y^T,  dz/dy = x^T @ g  (over the last two axes).

    A 1-D ``x`` acts as a row (1, k) and a 1-D ``y`` as a column (k, 1), as in NumPy; the
    gradient formulas add that axis back, and the engine sums broadcast batch axes.
    """

    @staticmethod
    def forward(ctx, x, y):
        try:
            z = np.matmul(x, y)
        except ValueError:
            raise _matmul_error(x, y) from None
        ctx.save_for_backward(x, y)
        return z

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        if x.ndim == 1 and y.ndim == 1:
            return grad * y if need_x else None, grad * x if need_y else None
        if x.ndim == 1:  # (k,) @ (..., k, n) -> (..., n): x is a row
            g = grad.reshape(grad.shape[:-1] + (1, grad.shape[-1]))
            gx = (g @ _mT(y)).reshape(grad.shape[:-1] + (x.shape[0],)) if need_x else None
            return gx, x[:, None] @ g if need_y else None
        if y.ndim == 1:  # (..., m, k) @ (k,) -> (..., m): y is a column
            g = grad.reshape(grad.shape + (1,))
            gy = (_mT(x) @ g).reshape(grad.shape[:-1] + (y.shape[0],)) if need_y else None
            return g @ y[None, :] if need_x else None, gy
        return grad @ _mT(y) if need_x else None, _mT(x) @ grad if need_y else None


def _affine(x, w, b):
    """x W^T + b, with x's last axis checked against W's in_features."""
    try:  # a number or a 0-d x has no feature axis, a 1-D w no second axis
        fits = x.shape[-1] == w.shape[1] and w.ndim == 2
    except (AttributeError, IndexError):
        fits = False
    if not fits:
        raise ValueError(
            f"linear: input of shape {np.shape(x)} does not fit a weight of shape {w.shape} "
            f"(the input's last axis must be in_features={w.shape[-1]})"
        )
    return kernels.affine(x, w, b)


def _affine_grads(grad, x, w, need_x, need_w, need_b):
    """The gradients of x W^T + b for its output's gradient ``grad``: g W, g^T x and g
    summed over the batch axes (each None where not needed)."""
    if grad.ndim == 2:
        return kernels.affine_grads(grad, x, w, need_x, need_w, need_b)
    # every batch axis as one, given back to g W
    gx, gw, gb = kernels.affine_grads(grad.reshape((-1, grad.shape[-1])),
                                      x.reshape((-1, x.shape[-1])), w, need_x, need_w, need_b)
    return None if gx is None else gx.reshape(grad.shape[:-1] + (w.shape[1],)), gw, gb


class Linear(Function):
    """z = x W^T + b  (a fully connected layer; W is (out, in), x is (..., in));
    dz/dx = g W,  dz/dW = g^T x,  dz/db = g summed over the batch axes.

    One node instead of three (transpose, matmul, add), and the weight's gradient comes
    out in the weight's own memory layout, so the update ``W -= lr * grad`` runs at full
    speed. ``b`` may be None.
    """

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save_for_backward(x, w)
        return _affine(x, w, b)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grads = _affine_grads(grad, x, w, needs[0], needs[1], len(needs) == 3 and needs[2])
        return grads[:len(needs)]


class LinearStack(Function):
    """Fully connected layers, each followed by a ReLU or by nothing, as one node:
    h_0 = x,  h_i = act_i(h_(i-1) W_i^T + b_i)  for i = 1..n,  z = h_n.

    Backward is backpropagation itself, from the last layer to the first, with g the
    gradient of h_i (g = dz/dh_n = the output's gradient to start) and m_i = 1 where
    h_i > 0, else 0, for a ReLU layer (the ReLU's derivative, taken from its output):
    a layer's g_a = g m_i (ReLU) or g (none);  dz/dW_i = g_a^T h_(i-1),
    dz/db_i = g_a summed over the batch axes;  then g = g_a W_i for the layer below.

    The inputs are x, W_1, b_1, W_2, b_2, ... (W_i is (out, in) as in ``Linear``; a b_i
    may be None), and ``relu`` holds one bool per layer. ``nn.MLP`` and ``nn.Sequential``
    run a run of ``Linear`` layers, each maybe followed by a ``ReLU``, as this op (see
    ``nn.layers.run_layers``): the numbers are those of the layers one by one, and the
    graph has one node where it would have one or two per layer, which saves a step of a
    small network much of its time. Layers whose parameters need no gradient (frozen)
    get none, and backward stops below the lowest layer that needs one.
    """

    @staticmethod
    def forward(ctx, x, *params, relu):
        if len(params) != 2 * len(relu):
            raise ValueError(f"LinearStack: got {len(params)} weights and biases for "
                             f"{len(relu)} layers (relu={relu!r}); expected a weight and a "
                             f"bias (or None) per layer")
        ctx.relu = relu
        activations = []  # h_1 .. h_n
        h = x
        for i, on in enumerate(relu):
            h = _affine(h, params[2 * i], params[2 * i + 1])
            if on:  # NOTE: the mask needs no other array: h > 0 exactly where h W^T + b > 0
                h = kernels.relu_owned(h)
            activations.append(h)
        ctx.save_for_backward(x, *params)
        ctx.activations = activations
        return h

    @staticmethod
    def backward(ctx, grad):
        x, *params = ctx.saved_tensors
        needs = ctx.needs_input_grad
        # the lowest layer with an input that needs a gradient (x counts as layer 0's)
        first = max(ctx._grad_positions[0] - 1, 0) // 2
        outputs = ctx.activations
        # the layers' inputs: under create_graph recorded anew, so they have gradients too
        inputs = [x, *outputs[:-1]] if not isinstance(grad, ValueBase) else (
            _recorded_inputs(x, params, ctx.relu))
        grads = [None] * len(needs)
        g = grad
        for i in reversed(range(first, len(ctx.relu))):
            if ctx.relu[i]:  # g is this op's own array once a layer above has made it
                g = (kernels.relu_grad(g, outputs[i]) if g is grad
                     else kernels.relu_grad_owned(g, outputs[i]))
            at = 2 * i + 1  # W's position among the inputs, b's next
            below = i > first or needs[0]  # whether g W is needed: h_(i-1) leads to one
            g, grads[at], grads[at + 1] = _affine_grads(g, inputs[i], params[at - 1], below,
                                                        needs[at], needs[at + 1])
        if needs[0]:
            grads[0] = g
        return tuple(grads)


def _recorded_inputs(x, params, relu):
    """Each layer's input h_0 .. h_(n-1) of ``LinearStack``, computed again as recorded
    ops from the Values of x and the parameters (under ``create_graph``)."""
    inputs = [x]
    for i, on in enumerate(relu[:-1]):
        h = Linear.apply(inputs[-1], params[2 * i], params[2 * i + 1])
        inputs.append(h.relu() if on else h)
    return inputs

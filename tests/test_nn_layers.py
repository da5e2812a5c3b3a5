"""Layers: scalar graphs and array graphs agree; micrograd's habits work unchanged."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.nn import MLP, DropConnect, Flatten, Layer, Linear, Neuron, Sequential
from tinygrad_edu.testing import gradcheck
from tinygrad_edu.testing import strategies as ts


def scalars(row):
    return [Value(v, requires_grad=False) for v in row]


def test_linear_layout_and_forward():
    lin = Linear(3, 2, seed=0)
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (2,)
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(lin(Value(x)).data, x @ lin.weight.data.T + lin.bias.data)
    assert Linear(3, 2, bias=False, seed=0).bias is None
    node = Linear(3, 2, bias=False, seed=0)(Value(np.ones((4, 3)))).grad_fn
    assert len(node.inputs) == 2  # no None input for the graph views to draw


def test_linear_default_init_matches_pytorch_bounds():
    lin = Linear(400, 300, seed=0)
    bound = 1 / np.sqrt(400)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.bias.data).max() <= bound
    assert lin.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)


@given(x=ts.values(st.sampled_from([(3,), (2, 3)])))
def test_linear_gradients(x):
    lin = Linear(3, 2, seed=0)
    gradcheck(lambda x, w, b: x @ w.T + b, x, lin.weight, lin.bias)
    gradcheck(lambda w: lin(x), lin.weight)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", None])
def test_neuron_scalar_graph_equals_array_op(activation):
    n = Neuron(3, activation=activation, seed=0)
    row = [0.5, -1.0, 2.0]
    scalar = n(scalars(row))
    array = n(Value(np.array(row), requires_grad=False))
    assert scalar.shape == () and array.shape == ()
    assert scalar.item() == pytest.approx(array.item())
    scalar.backward()
    g_scalar = [w.grad.item() for w in n.w]
    n.zero_grad()
    array.backward()
    np.testing.assert_allclose(g_scalar, [w.grad.item() for w in n.w])


def test_layer_on_scalars_and_on_a_batch():
    layer = Layer(2, 3, activation="tanh", seed=0)
    batch = np.array([[0.5, -1.0], [1.5, 2.0]])
    rows = [layer(scalars(r)) for r in batch]
    out = layer(Value(batch, requires_grad=False))
    np.testing.assert_allclose([[v.item() for v in r] for r in rows], out.data)
    assert isinstance(Layer(2, 1, seed=0)(scalars([1.0, 2.0])), Value)


def test_scalar_mlp_and_array_mlp_give_the_same_outputs_and_gradients():
    model = MLP(2, [4, 4, 1], activation="tanh", seed=0)
    X = np.array([[0.5, -1.0], [1.0, 2.0], [-0.3, 0.7]])
    y = np.array([1.0, -1.0, 1.0])
    scalar_preds = [model(scalars(row)) for row in X]
    assert all(isinstance(p, Value) and p.shape == () for p in scalar_preds)
    scalar_loss = sum((p - t) ** 2 for p, t in zip(scalar_preds, y))
    scalar_loss.backward()
    scalar_grads = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    preds = model(Value(X, requires_grad=False)).reshape(-1)
    array_loss = ((preds - y) ** 2).sum()
    array_loss.backward()
    assert scalar_loss.item() == pytest.approx(array_loss.item())
    for g, p in zip(scalar_grads, model.parameters()):
        np.testing.assert_allclose(g, p.grad, atol=1e-12)


def test_micrograd_habits_train_a_scalar_mlp():
    model = MLP(2, [8, 1], activation="tanh", seed=0)
    xs = [[2.0, 3.0], [3.0, -1.0], [0.5, 1.0], [1.0, 1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    losses = []
    for _ in range(60):
        preds = [model(x) for x in xs]  # plain floats work as inputs, as in micrograd
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, preds))
        for p in model.parameters():
            p.grad = None
        loss.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


def test_mlp_default_init_follows_the_activation():
    relu = MLP(500, [500, 1], seed=0)
    tanh = MLP(500, [500, 1], activation="tanh", seed=0)
    he, xavier = np.sqrt(2 / 500), np.sqrt(2 / 1000)
    assert relu.layers[0].weight.data.std() == pytest.approx(he, rel=0.03)
    assert tanh.layers[0].weight.data.std() == pytest.approx(xavier, rel=0.03)
    assert np.all(relu.layers[0].bias.data == 0)


def test_mlp_with_batchnorm_and_dropout_builds_the_stack():
    m = MLP(4, [8, 8, 2], batchnorm=True, dropout=0.2, seed=0)
    names = [type(layer).__name__ for layer in m.layers]
    assert names == ["Linear", "BatchNorm1d", "ReLU", "Dropout"] * 2 + ["Linear"]
    assert m(Value(np.ones((5, 4)), requires_grad=False)).shape == (5, 2)


def test_dropconnect_drops_weights_in_training_only():
    layer = DropConnect(50, 40, p=0.5, seed=0)
    x = Value(np.ones((1, 50)), requires_grad=False)
    out = layer(x)
    out.sum().backward()
    zeros = (layer.weight.grad == 0).mean()
    assert 0.4 < zeros < 0.6
    layer.eval()
    np.testing.assert_allclose(layer(x).data, x.data @ layer.weight.data.T + layer.bias.data)


def test_sequential_and_flatten():
    seq = Sequential(Flatten(), Linear(6, 2, seed=0))
    assert seq(Value(np.ones((4, 2, 3)))).shape == (4, 2)
    assert len(seq) == 2 and isinstance(seq[1], Linear)
    with pytest.raises(TypeError, match="Sequential: item 0 is a int, not a Module"):
        Sequential(3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Linear(3, 2, seed=0)(Value(np.ones((2, 4)))),
         r"linear: input of shape \(2, 4\) does not fit a weight of shape \(2, 3\) "
         r"\(the input's last axis must be in_features=3\)"),
        (lambda: Linear(3, 2, seed=0)([1.0, 2.0]), "Linear: got 2 inputs, expected 3"),
        (lambda: Neuron(3, seed=0)([1.0]), "Neuron: got 1 inputs, expected 3"),
        (lambda: MLP(2, [3], activation="swish2"), "unknown activation 'swish2'"),
    ],
)
def test_layer_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()

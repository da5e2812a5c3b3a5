"""Layers: scalar graphs and array graphs agree; micrograd's habits work unchanged."""

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, init, nn
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


SIZE_ERRORS = [
    (lambda: Linear(0, 3), ValueError, "Linear: in_features must be an int >= 1; got 0"),
    (lambda: Linear(-1, 3), ValueError, "Linear: in_features must be an int >= 1; got -1"),
    (lambda: Linear(2.5, 3), TypeError,
     r"Linear: in_features must be an int >= 1; got 2.5 \(a float\)"),
    (lambda: Linear(2, True), TypeError,
     r"Linear: out_features must be an int >= 1; got True \(a bool\)"),
    (lambda: DropConnect(2, 0), ValueError, "DropConnect: out_features must be an int >= 1"),
    (lambda: Neuron(0), ValueError, "Neuron: nin must be an int >= 1; got 0"),
    (lambda: Layer(2, 0), ValueError, "Layer: nout must be an int >= 1; got 0"),
    (lambda: MLP(0, [3]), ValueError, "MLP: nin must be an int >= 1; got 0"),
    (lambda: MLP(2, [3, 0]), ValueError, r"MLP: sizes\[1\] must be an int >= 1; got 0"),
    (lambda: MLP(2, 3), TypeError, "MLP: sizes must be a list of layer widths"),
    (lambda: MLP(2, []), ValueError,
     r"MLP: sizes must hold at least one width, the output layer's .* got \[\]"),
    (lambda: nn.Maxout(2.0, 3), TypeError, "Maxout: in_features must be an int >= 1"),
    (lambda: nn.Maxout(2, 3, pieces=0), ValueError, "Maxout: pieces must be an int >= 1"),
    (lambda: nn.BatchNorm1d(0), ValueError, "BatchNorm1d: num_features must be an int >= 1"),
    (lambda: nn.BatchNorm2d("3"), TypeError,
     r"BatchNorm2d: num_features must be an int >= 1; got '3' \(a str\)"),
    (lambda: nn.PReLU(0), ValueError, "PReLU: num_parameters must be an int >= 1; got 0"),
    (lambda: nn.Dropout("0.5"), TypeError, r"Dropout: p must be a real number; got '0.5'"),
    (lambda: nn.Dropout(1.5), ValueError, r"Dropout: p .* must be in \[0, 1\); got 1.5"),
    (lambda: DropConnect(2, 2, p="a"), TypeError, "DropConnect: p must be a real number"),
]


@pytest.mark.parametrize(("call", "error", "message"), SIZE_ERRORS)
def test_sizes_and_probabilities_are_checked_with_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_numpy_integer_sizes_are_accepted():
    lin = Linear(np.int64(2), np.int32(3), seed=0)
    assert lin.weight.shape == (3, 2) and type(lin.in_features) is int


@pytest.mark.parametrize("make", [
    lambda dtype: Linear(2, 3, seed=0, dtype=dtype),
    lambda dtype: DropConnect(2, 3, seed=0, dtype=dtype),
    lambda dtype: Neuron(2, seed=0, dtype=dtype),
    lambda dtype: Layer(2, 3, seed=0, dtype=dtype),
    lambda dtype: MLP(2, [3, 1], seed=0, dtype=dtype),
    lambda dtype: nn.Maxout(2, 3, seed=0, dtype=dtype),
    lambda dtype: nn.BatchNorm1d(2, dtype=dtype),
    lambda dtype: nn.BatchNorm1d(2, affine=False, track_running_stats=False, dtype=dtype),
    lambda dtype: nn.PReLU(2, dtype=dtype),
])
def test_an_input_of_another_float_dtype_is_refused_as_in_pytorch(make):
    x32 = Value(np.ones((4, 2)), dtype=np.float32)
    x64 = Value(np.ones((4, 2)))
    name = type(make(np.float64)).__name__
    if name == "MLP":
        name = "Linear"  # the first layer refuses it
    with pytest.raises(TypeError, match=rf"{name}: the input is float32 but the layer's "
                                        rf"parameters are float64; convert the input"):
        make(np.float64)(x32)
    with pytest.raises(TypeError, match="the input is float64 but the layer's parameters are "
                                        "float32"):
        make(np.float32)(x64)
    assert make(np.float32)(x32).dtype == np.float32 and make(np.float64)(x64).dtype == np.float64


def test_integer_input_is_converted_as_a_value_converts_it():
    lin = Linear(2, 1, seed=0)
    assert lin(Value(np.ones((3, 2), dtype=np.int64), requires_grad=False)).dtype == np.float64


def test_sequential_from_an_ordered_dict_names_its_children():
    seq = Sequential(OrderedDict([("fc", Linear(2, 3, seed=0)), ("act", nn.ReLU()),
                                  ("out", Linear(3, 1, seed=1))]))
    assert [name for name, _ in seq.named_children()] == ["fc", "act", "out"]
    assert [name for name, _ in seq.named_parameters()] == [
        "fc.weight", "fc.bias", "out.weight", "out.bias"]
    assert seq.fc is seq[0] and isinstance(seq[-1], Linear) and len(seq[1:]) == 2
    assert [name for name, _ in seq[1:].named_children()] == ["act", "out"]
    x = Value(np.ones((4, 2)))
    np.testing.assert_allclose(seq(x).data, seq.out(seq.act(seq.fc(x))).data)
    seq.append(nn.Sigmoid())
    assert [name for name, _ in seq.named_children()][-1] == "3"
    with pytest.raises(ValueError, match="Sequential: the name 'forward' would hide"):
        Sequential({"forward": nn.ReLU()})
    with pytest.raises(ValueError, match=r"Sequential: a child's name must be a non-empty "
                                         r"string without '\.'; got 'a\.b'"):
        Sequential({"a.b": nn.ReLU()})


def test_sequential_setitem_replaces_a_child_in_place():
    model = Sequential(Linear(2, 3, seed=0), nn.Tanh(), Linear(3, 1, seed=1))
    new = Linear(3, 4, seed=2)
    model[-1] = new
    assert model[2] is new and len(model) == 3
    assert [p.name for p in model.parameters()][-2:] == ["2.weight", "2.bias"]
    assert model.parameters()[-1] is new.bias
    np.testing.assert_array_equal(model.state_dict()["2.weight"], new.weight.data)
    assert model(Value(np.ones((5, 2)))).shape == (5, 4)
    named = Sequential(OrderedDict(fc=Linear(2, 3, seed=0), act=nn.ReLU()))
    named[1] = nn.Sigmoid()
    assert [name for name, _ in named.named_children()] == ["fc", "act"]
    assert isinstance(named.act, nn.Sigmoid)


@pytest.mark.parametrize(("index", "module", "error", "message"), [
    (0, 3, TypeError, r"^Sequential: item 0 is a int, not a Module"),
    (2, nn.ReLU(), IndexError, r"^Sequential: index 2 is out of range for 2 modules"),
    (-3, nn.ReLU(), IndexError, r"^Sequential: index -3 is out of range for 2 modules"),
    ("a", nn.ReLU(), TypeError, r"^Sequential: indices are ints or slices; got 'a'"),
    (slice(0, 1), nn.ReLU(), TypeError,
     r"^Sequential: assign one module at an int index; got a slice"),
])
def test_sequential_setitem_errors(index, module, error, message):
    model = Sequential(Linear(2, 2, seed=0), nn.ReLU())
    with pytest.raises(error, match=message):
        model[index] = module
    assert isinstance(model[0], Linear) and isinstance(model[1], nn.ReLU)


class RecordingInit:
    """An initializer that notes each call's shape, seed and dtype and returns ones."""

    def __init__(self):
        self.calls = []

    def __call__(self, shape, seed=None, dtype=np.float64):
        self.calls.append((shape, seed, dtype))
        return np.ones(shape, dtype=dtype)


def test_neuron_and_layer_pass_init_seed_and_dtype_to_a_callable_initializer():
    gen = np.random.default_rng(0)
    rec = RecordingInit()
    neuron = Neuron(3, init=rec, seed=gen, dtype=np.float32)
    assert rec.calls == [((1, 3), gen, np.float32)]
    assert all(w.dtype == np.float32 and w.data == 1.0 for w in neuron.w)
    rec = RecordingInit()
    layer = Layer(3, 2, init=rec, seed=gen, dtype=np.float32)
    assert rec.calls == [((1, 3), gen, np.float32)] * 2 + [((2, 3), gen, np.float32)]
    assert all(w.dtype == np.float32 for n in layer.neurons for w in n.w)


def test_neuron_starts_with_a_zero_bias_of_its_dtype():
    neuron = Neuron(3, dtype=np.float32)
    assert neuron.b.data == 0.0 and neuron.b.dtype == np.float32
    assert all(w.dtype == np.float32 for w in neuron.w)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_neuron_and_layer_without_init_draw_the_activations_initializer(activation):
    make = init.for_activation(activation)
    expected = make((1, 3), seed=np.random.default_rng(0), dtype=np.float64)[0]
    np.testing.assert_array_equal([w.data for w in Neuron(3, activation, seed=0).w], expected)
    rng = np.random.default_rng(0)
    make((1, 3), seed=rng, dtype=np.float64)
    make((1, 3), seed=rng, dtype=np.float64)
    expected = make((2, 3), seed=rng, dtype=np.float64)  # the layer's fans
    layer = Layer(3, 2, activation, seed=0)
    np.testing.assert_array_equal([[w.data for w in n.w] for n in layer.neurons], expected)


def test_layer_with_a_seed_is_reproducible():
    a, b = Layer(3, 2, seed=5), Layer(3, 2, seed=5)
    for na, nb in zip(a.neurons, b.neurons):
        np.testing.assert_array_equal([w.data for w in na.w], [w.data for w in nb.w])


def test_neuron_adds_its_bias_on_scalars_and_on_arrays():
    neuron = Neuron(2, activation=None, init="ones")
    neuron.b.data[...] = 0.5
    assert neuron(scalars([1.0, 2.0])).data == 3.5
    np.testing.assert_array_equal(neuron(Value(np.array([[1.0, 2.0]]))).data, [3.5])


def test_layer_adds_its_biases_on_a_batch_and_accepts_one_neuron():
    layer = Layer(2, 1, activation=None, init="ones")
    layer.neurons[0].b.data[...] = 0.5
    np.testing.assert_array_equal(layer(Value(np.array([[1.0, 2.0]]))).data, [[3.5]])


def test_layer_refuses_a_non_integer_nin_naming_the_argument():
    with pytest.raises(TypeError, match=r"^Layer: nin must be an int >= 1; got 2\.5 \(a float\)$"):
        Layer(2.5, 3)


def test_linear_default_bias_takes_both_signs():
    bias = Linear(400, 300, seed=0).bias.data
    assert bias.min() < 0 < bias.max()


def test_linear_with_a_seed_is_reproducible():
    np.testing.assert_array_equal(Linear(3, 2, seed=7).weight.data,
                                  Linear(3, 2, seed=7).weight.data)


def test_linear_passes_its_generator_and_dtype_to_a_callable_initializer():
    gen = np.random.default_rng(0)
    rec = RecordingInit()
    lin = Linear(3, 2, init=rec, seed=gen, dtype=np.float32)
    assert rec.calls == [((2, 3), gen, np.float32)]
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    np.testing.assert_array_equal(lin.bias.data, [0.0, 0.0])


def test_linear_without_bias_on_scalars_is_the_plain_weighted_sum():
    lin = Linear(2, 2, bias=False, init="ones")
    assert [o.data for o in lin(scalars([1.0, 2.0]))] == [3.0, 3.0]


def test_linear_refuses_a_python_scalar_naming_the_shapes():
    with pytest.raises(ValueError, match=r"^linear: input of shape \(\) does not fit a weight of "
                       r"shape \(2, 1\) \(the input's last axis must be in_features=1\)$"):
        Linear(1, 2)(3.0)


def test_dropconnect_keeps_init_and_seed():
    assert np.all(DropConnect(3, 2, init="ones").weight.data == 1.0)
    np.testing.assert_array_equal(DropConnect(3, 2, seed=3).weight.data,
                                  Linear(3, 2, seed=3).weight.data)


def test_dropconnect_in_training_scales_kept_weights_by_its_p_and_adds_the_bias():
    layer = DropConnect(50, 40, p=0.2, init="ones", seed=0)
    layer.bias.data[...] = 0.5
    out = layer(Value(np.eye(50))).data - 0.5
    assert set(np.unique(out)) == {0.0, 1.25}


def test_dropconnect_in_training_refuses_a_list_of_scalars():
    with pytest.raises(TypeError,
                       match=r"^DropConnect: give an array Value, not a list of scalars$"):
        DropConnect(2, 2, seed=0)(scalars([1.0, 2.0]))


def test_sequential_refuses_a_child_name_that_is_not_a_string():
    with pytest.raises(ValueError, match=r"^Sequential: a child's name must be a non-empty "
                       r"string without '\.'; got 5$"):
        Sequential(OrderedDict([(5, Linear(2, 2))]))


def test_sequential_indexes_its_first_child_from_the_end():
    first, second = Linear(2, 2), Linear(2, 2)
    assert Sequential(first, second)[-2] is first


def test_modulelist_extend_refuses_a_module_or_a_non_iterable():
    message = r"^ModuleList\.extend: expected an iterable of Modules; got {}$"
    with pytest.raises(TypeError, match=message.format("Sequential")):
        nn.ModuleList().extend(Sequential(Linear(2, 2)))
    with pytest.raises(TypeError, match=message.format("int")):
        nn.ModuleList().extend(5)


def test_modulelist_deletes_by_slice_and_refuses_an_index_out_of_range():
    items = [Linear(2, 2) for _ in range(3)]
    modules = nn.ModuleList(items)
    del modules[0:2]
    assert list(modules) == [items[2]]
    with pytest.raises(IndexError,
                       match=r"^ModuleList: index 5 is out of range for 1 modules$"):
        del modules[5]


def test_flatten_stops_at_its_end_dim():
    assert Flatten(1, 2)(Value(np.zeros((2, 3, 4, 5)))).shape == (2, 12, 5)


def test_mlp_refuses_empty_sizes_with_the_whole_message():
    with pytest.raises(ValueError, match=r"^MLP: sizes must hold at least one width, the output "
                       r"layer's \(MLP\(2, \[16, 3\]\)\); got \[\] \(for no layer at all, use "
                       r"Identity\)$"):
        MLP(2, [])


def test_mlp_uses_the_given_init_for_every_layer():
    mlp = MLP(2, [3, 1], init="ones")
    assert all(np.all(p.data == 1.0) for p in (mlp.layers[0].weight, mlp.layers[2].weight))


def test_mlp_draws_hidden_and_output_layers_in_order_from_its_seed():
    rng = np.random.default_rng(0)
    hidden = init.for_activation("relu")((4, 3), seed=rng, dtype=np.float64)
    output = init.for_activation(None)((2, 4), seed=rng, dtype=np.float64)
    mlp = MLP(3, [4, 2], activation="relu", seed=0)
    np.testing.assert_array_equal(mlp.layers[0].weight.data, hidden)
    np.testing.assert_array_equal(mlp.layers[2].weight.data, output)


def test_mlp_builds_batchnorm_of_its_dtype_and_dropout_of_its_p():
    mlp = MLP(2, [3, 1], batchnorm=True, dropout=0.2, dtype=np.float32)
    assert mlp.layers[1].dtype == np.float32
    assert mlp.layers[1].running_mean.dtype == np.float32
    assert mlp.layers[3].p == 0.2


def test_mlp_on_a_batch_of_one_keeps_the_batch_axis():
    assert MLP(2, [1], seed=0)(Value(np.ones((1, 2)))).shape == (1, 1)


def test_neuron_casts_weights_from_an_initializer_that_ignores_dtype():
    neuron = Neuron(3, init=lambda shape, seed=None, dtype=None: np.ones(shape),
                    dtype=np.float32)
    assert all(w.dtype == np.float32 for w in neuron.w)


def test_dropconnect_with_p_zero_is_a_plain_linear_even_on_scalars_in_training():
    layer = DropConnect(2, 2, p=0.0, init="ones")
    assert layer.training
    assert [o.data for o in layer(scalars([1.0, 2.0]))] == [3.0, 3.0]



# ----------------------------------------------------------------------------------------
# A run of Linear layers, each maybe followed by a ReLU, runs as one op (LinearStack)
# ----------------------------------------------------------------------------------------


def _layer_by_layer(layers, x):
    for layer in layers:
        x = layer(x)
    return x


def _stack(dtype, bias=True):
    return Sequential(Linear(3, 5, bias=bias, seed=1, dtype=dtype), nn.ReLU(),
                      Linear(5, 4, bias=bias, seed=2, dtype=dtype), nn.ReLU(),
                      Linear(4, 2, seed=3, dtype=dtype))


def _batch(dtype):
    rng = np.random.default_rng(0)
    x = Value(rng.standard_normal((6, 3)), dtype=dtype, requires_grad=False)
    x.data[0, :] = 0.0  # a row whose first ReLU inputs are the biases alone
    return x, rng.integers(0, 2, 6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
def test_sequential_runs_its_linear_relu_layers_as_one_node_with_the_layers_numbers(dtype,
                                                                                     bias):
    model = _stack(dtype, bias)
    if not bias:  # a unit whose input is exactly 0: ReLU's derivative there is 0
        model[0].weight.data[0] = 0.0
    x, y = _batch(dtype)
    out = model(x)
    assert type(out.grad_fn).__name__ == "LinearStack"
    assert out.grad_fn.relu == (True, True, False)
    assert out.grad_fn.inputs[0] is x
    fused = F.cross_entropy(out, y)
    fused.backward()
    fused_grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    plain = F.cross_entropy(_layer_by_layer(list(model), x), y)
    plain.backward()
    assert fused.data.tobytes() == plain.data.tobytes()
    for p, g in zip(model.parameters(), fused_grads, strict=True):
        assert g.dtype == p.dtype and g.tobytes() == p.grad.tobytes()
    if not bias:
        assert not model[0].weight.grad[0].any()


def test_mlp_runs_all_its_layers_as_one_linear_stack():
    model = MLP(3, [5, 4, 2], seed=0)
    x, _ = _batch(np.float64)
    out = model(x)
    assert type(out.grad_fn).__name__ == "LinearStack"
    assert out.grad_fn.inputs == (x, *model.parameters())
    np.testing.assert_array_equal(out.data, _layer_by_layer(model.layers, x).data)


@pytest.mark.parametrize("hooked", [0, 1, 4])
def test_a_hooked_linear_or_relu_runs_alone_and_its_hook_sees_its_own_output(hooked):
    model = _stack(np.float64)
    seen = []
    model[hooked].register_forward_hook(lambda m, inputs, output: seen.append(output))
    x, _ = _batch(np.float64)
    out = model(x)
    (made,) = seen
    assert type(made.grad_fn).__name__ == ("ReLU" if hooked == 1 else "Linear")
    if hooked == 1:  # the output after the ReLU, made from the Linear's own output
        assert type(made.grad_fn.inputs[0].grad_fn).__name__ == "Linear"
    if hooked == 4:  # the last layer, alone, after the other four as one node
        assert made is out
        assert out.grad_fn.inputs[0].grad_fn.relu == (True, True)
    else:  # the layers after the hooked one, as one node
        assert out.grad_fn.relu == (True, False)


def test_linear_then_another_activation_or_a_scalar_list_runs_layer_by_layer():
    model = Sequential(Linear(2, 3, seed=0), nn.Tanh(), nn.ReLU())
    out = model(Value(np.ones((4, 2))))
    made = [out.grad_fn, out.grad_fn.inputs[0].grad_fn,
            out.grad_fn.inputs[0].grad_fn.inputs[0].grad_fn]
    assert [type(op).__name__ for op in made] == ["ReLU", "Tanh", "Linear"]
    scalar = MLP(2, [3, 1], seed=0)(scalars([0.5, -1.0]))
    assert isinstance(scalar, Value) and scalar.shape == ()


def test_a_linear_stack_keeps_the_layers_dtype_check_and_shape_error():
    model = _stack(np.float32)
    with pytest.raises(TypeError, match="Linear: the input is float64 but the layer's "
                                        "parameters are float32"):
        model(Value(np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 4\) does not fit a "
                                         r"weight of shape \(5, 3\)"):
        model(Value(np.ones((2, 4)), dtype=np.float32))
    mixed = Sequential(Linear(3, 5, dtype=np.float32), nn.ReLU(), Linear(5, 2))
    with pytest.raises(TypeError, match="Linear: the input is float32 but the layer's "
                                        "parameters are float64"):
        mixed(Value(np.ones((2, 3)), dtype=np.float32))

"""Activation modules call their functions; names build them; PReLU, RReLU, Maxout."""

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn
from tinygrad_edu.testing import gradcheck

X = Value(np.linspace(-3, 3, 12).reshape(3, 4))

MODULES = [
    (nn.Sigmoid(), F.sigmoid, {}), (nn.Tanh(), F.tanh, {}), (nn.ReLU(), F.relu, {}),
    (nn.LeakyReLU(0.2), F.leaky_relu, {"negative_slope": 0.2}),
    (nn.ELU(0.5), F.elu, {"alpha": 0.5}), (nn.CELU(2.0), F.celu, {"alpha": 2.0}),
    (nn.SELU(), F.selu, {}), (nn.GELU("tanh"), F.gelu, {"approximate": "tanh"}),
    (nn.SiLU(), F.silu, {}), (nn.Mish(), F.mish, {}),
    (nn.Softplus(2.0, 10.0), F.softplus, {"beta": 2.0, "threshold": 10.0}),
    (nn.Softsign(), F.softsign, {}), (nn.Hardtanh(-2.0, 2.0), F.hardtanh,
                                      {"min_val": -2.0, "max_val": 2.0}),
    (nn.ReLU6(), F.relu6, {}), (nn.Hardsigmoid(), F.hardsigmoid, {}),
    (nn.Hardswish(), F.hardswish, {}), (nn.LogSigmoid(), F.logsigmoid, {}),
    (nn.Tanhshrink(), F.tanhshrink, {}), (nn.Softshrink(1.0), F.softshrink, {"lambd": 1.0}),
    (nn.Hardshrink(1.0), F.hardshrink, {"lambd": 1.0}),
    (nn.Threshold(0.5, -1.0), F.threshold, {"threshold": 0.5, "value": -1.0}),
    (nn.GLU(), F.glu, {}), (nn.Softmax(0), F.softmax, {"axis": 0}),
    (nn.LogSoftmax(), F.log_softmax, {}), (nn.Softmin(), F.softmin, {}),
]


@pytest.mark.parametrize(("module", "function", "options"), MODULES,
                         ids=lambda c: type(c).__name__ if isinstance(c, nn.Module) else "")
def test_module_equals_function(module, function, options):
    np.testing.assert_array_equal(module(X).data, function(X, **options).data)


def test_elementwise_modules_map_over_scalar_lists():
    out = nn.LeakyReLU(0.1)([Value(-2.0), Value(3.0)])
    assert [v.item() for v in out] == [-0.2, 3.0]


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "selu", "gelu", "silu", "swish",
                                  "mish", "tanh", "sigmoid", "softplus", "hardswish", "prelu"])
def test_every_name_builds_a_network(name):
    model = nn.MLP(3, [4, 2], activation=name, seed=0)
    model(Value(np.ones((2, 3)), requires_grad=False)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_prelu_learns_one_slope_per_channel():
    layer = nn.PReLU(num_parameters=4, init=0.25)
    y = layer(Value(-np.ones((2, 4))))
    np.testing.assert_allclose(y.data, -0.25)
    y.sum().backward()
    np.testing.assert_allclose(layer.weight.grad, [-2.0] * 4)



@pytest.mark.parametrize("frozen", ["input", "weight"])
def test_prelu_backward_computes_nothing_for_what_needs_no_gradient(frozen):
    """On data (an input that does not require grad) PReLU's backward returns None for
    the input and only the slopes' gradient; with frozen slopes, None for the slopes."""
    layer = nn.PReLU(num_parameters=2, init=0.25)
    x = Value(np.array([[-2.0, 3.0], [4.0, -1.0]]), requires_grad=frozen != "input")
    layer.weight.requires_grad = frozen != "weight"
    y = layer(x)
    gx, ga = y.grad_fn.backward(y.grad_fn, np.ones((2, 2)))
    if frozen == "input":
        assert gx is None
        np.testing.assert_array_equal(ga, [[-2.0, 0.0], [0.0, -1.0]])
    else:
        assert ga is None
        np.testing.assert_array_equal(gx, [[0.25, 1.0], [1.0, 0.25]])

def test_rrelu_random_in_training_mean_slope_in_eval():
    layer = nn.RReLU(0.1, 0.3, seed=0)
    x = Value(-np.ones(1000))
    slopes = -layer(x).data
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and slopes.std() > 0.01
    layer.eval()
    np.testing.assert_allclose(layer(x).data, -0.2)


def test_maxout_is_the_max_of_its_pieces_and_differentiable():
    layer = nn.Maxout(3, 2, pieces=4, seed=0)
    x = Value(np.random.default_rng(0).standard_normal((5, 3)), requires_grad=False)
    pieces = np.einsum("kom,nm->nko", layer.weight.data, x.data) + layer.bias.data
    np.testing.assert_allclose(layer(x).data, pieces.max(axis=1))
    gradcheck(lambda w, b: F.maxout(x, w, b), layer.weight, layer.bias)
    assert repr(layer) == "Maxout(in_features=3, out_features=2, pieces=4)"
    with pytest.raises(ValueError, match="Maxout: pieces must be an int >= 1; got 0"):
        nn.Maxout(3, 2, pieces=0)


def test_modules_built_without_arguments_have_pytorchs_defaults_and_say_so():
    # built here, not at import: a wrong default must show in the test that builds it
    expected = {
        "LeakyReLU": "LeakyReLU(negative_slope=0.01)", "ELU": "ELU(alpha=1.0)",
        "CELU": "CELU(alpha=1.0)", "Softplus": "Softplus(beta=1.0, threshold=20.0)",
        "Hardtanh": "Hardtanh(min_val=-1.0, max_val=1.0)",
        "Hardshrink": "Hardshrink(lambd=0.5)", "Softshrink": "Softshrink(lambd=0.5)",
        "Softmax": "Softmax(axis=-1)", "LogSoftmax": "LogSoftmax(axis=-1)",
        "Softmin": "Softmin(axis=-1)", "PReLU": "PReLU(num_parameters=1)"}
    assert {name: repr(getattr(nn, name)()) for name in expected} == expected
    np.testing.assert_array_equal(nn.PReLU().weight.data, [0.25])
    x = Value(np.array([[-2.0, 30.0, 0.3]]))
    np.testing.assert_allclose(nn.Softplus()(x).data, [[np.log1p(np.exp(-2.0)), 30.0,
                                                        np.log1p(np.exp(0.3))]])
    assert nn.Softplus()(Value(np.array([20.5]))).data[0] == 20.5  # above threshold: x itself
    np.testing.assert_allclose(nn.Hardtanh()(x).data, [[-1.0, 1.0, 0.3]])
    np.testing.assert_allclose(nn.Softmax()(Value(np.zeros((2, 4)))).data, np.full((2, 4), 0.25))


def test_prelu_and_maxout_refuse_a_bad_size_naming_the_layer_and_argument():
    with pytest.raises(ValueError, match=r"^PReLU: num_parameters must be an int >= 1; got 0$"):
        nn.PReLU(num_parameters=0)
    with pytest.raises(ValueError, match=r"^Maxout: in_features must be an int >= 1; got 0$"):
        nn.Maxout(0, 2)
    with pytest.raises(ValueError, match=r"^Maxout: out_features must be an int >= 1; got 0$"):
        nn.Maxout(3, 0)


def test_prelu_and_maxout_refuse_an_input_of_another_float_dtype():
    x = Value(np.ones((2, 3), dtype=np.float32))
    msg = ("the input is float32 but the layer's parameters are float64; convert the input "
           r"\(Value\(x, dtype=np.float64\) or x.astype\(np.float64\)\) or build the layer "
           "with dtype=np.float32")
    with pytest.raises(TypeError, match=rf"^PReLU: {msg}$"):
        nn.PReLU()(x)
    with pytest.raises(TypeError, match=rf"^Maxout: {msg}$"):
        nn.Maxout(3, 2, seed=0)(x)


def test_prelu_and_maxout_built_in_float32_keep_float32():
    prelu = nn.PReLU(3, dtype=np.float32)
    maxout = nn.Maxout(3, 2, seed=0, dtype=np.float32)
    assert prelu.weight.dtype == np.float32
    assert maxout.weight.dtype == np.float32 and maxout.bias.dtype == np.float32
    x = Value(np.ones((2, 3), dtype=np.float32))
    assert prelu(x).dtype == np.float32 and maxout(x).dtype == np.float32


def test_prelu_on_a_list_of_scalar_values_applies_its_slope_to_each():
    out = nn.PReLU(init=0.5)([Value(-2.0), Value(3.0), Value(-4.0)])
    assert [float(np.asarray(v.data).reshape(-1)[0]) for v in out] == [-1.0, 3.0, -2.0]


def test_rrelu_on_a_list_of_scalar_values_applies_it_to_each():
    layer = nn.RReLU(0.2, 0.4, seed=0).eval()
    out = layer([Value(-2.0), Value(3.0)])
    np.testing.assert_allclose([float(np.asarray(v.data)) for v in out], [-0.6, 3.0])


def test_maxout_has_two_pieces_by_default():
    assert nn.Maxout(3, 2, seed=0).weight.shape == (2, 2, 3)


def test_maxout_with_the_same_seed_draws_the_same_parameters():
    a, b = nn.Maxout(4, 3, seed=7), nn.Maxout(4, 3, seed=7)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)


def test_maxout_draws_its_parameters_uniformly_in_plus_minus_one_over_sqrt_in_features():
    layer = nn.Maxout(16, 50, pieces=4, seed=0)
    bound = 1 / np.sqrt(16)
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound
        assert p.min() < -0.8 * bound and p.max() > 0.8 * bound


def test_an_unknown_activation_name_is_refused_listing_the_known_ones():
    known = r"\['celu', 'elu', 'gelu', 'hardshrink', 'hardsigmoid', 'hardswish', 'hardtanh', "
    with pytest.raises(ValueError, match=rf"^unknown activation 'nope'; known: {known}"
                                         r"'leaky_relu', .*'tanhshrink'\]$"):
        nn.activation_module("nope")

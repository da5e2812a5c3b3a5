"""Weight initializers: their statistics, fans and gains, seeds, names, and errors."""

import functools
import inspect
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Value, init
from tinygrad_edu.nn.module import Parameter

SQUARE = (1000, 1000)
WIDE = (400, 2500)  # a Linear weight (out, in): fan_in 2500, fan_out 400
CONV = (64, 32, 5, 5)  # a conv weight (out, in, kh, kw): fan_in 800, fan_out 1600

# ----------------------------------------------------------------------------------------
# Statistics on large samples
# ----------------------------------------------------------------------------------------


def _cdf(z):
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _pdf(z):
    return 0.0 if math.isinf(z) else math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def _zpdf(z):
    return 0.0 if math.isinf(z) else z * _pdf(z)


def truncated_mean_std(mean, std, a, b):
    """Mean and std of N(mean, std**2) restricted to [a, b] (the textbook formulas)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    mass = _cdf(beta) - _cdf(alpha)
    shift = (_pdf(alpha) - _pdf(beta)) / mass
    var = 1 + (_zpdf(alpha) - _zpdf(beta)) / mass - shift**2
    return mean + std * shift, std * math.sqrt(var)


def _xavier_std(shape, gain=1.0):
    fan_in, fan_out = init.calculate_fan_in_and_fan_out(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


# (id, draw(shape, seed), shape, expected mean, expected std, bounds or None)
STAT_CASES = [
    ("normal", functools.partial(init.normal, mean=0.5, std=2.0), SQUARE, 0.5, 2.0, None),
    ("small_random", init.small_random, SQUARE, 0.0, 0.01, None),
    ("uniform", functools.partial(init.uniform, a=-1.0, b=3.0), SQUARE, 1.0,
     4 / math.sqrt(12), (-1.0, 3.0)),
    ("xavier_uniform", functools.partial(init.xavier_uniform, gain=2.0), WIDE, 0.0,
     2 * math.sqrt(2 / 2900), (-2 * math.sqrt(6 / 2900), 2 * math.sqrt(6 / 2900))),
    ("xavier_uniform_conv", init.xavier_uniform, CONV, 0.0, math.sqrt(2 / 2400),
     (-math.sqrt(6 / 2400), math.sqrt(6 / 2400))),
    ("xavier_normal", init.xavier_normal, WIDE, 0.0, math.sqrt(2 / 2900), None),
    ("xavier_normal_gain", functools.partial(init.xavier_normal, gain=5 / 3), SQUARE, 0.0,
     5 / 3 * math.sqrt(2 / 2000), None),
    ("lecun_uniform", init.lecun_uniform, WIDE, 0.0, 1 / math.sqrt(2500),
     (-math.sqrt(3 / 2500), math.sqrt(3 / 2500))),
    ("lecun_normal", init.lecun_normal, WIDE, 0.0, 1 / math.sqrt(2500), None),
    ("lecun_normal_conv", init.lecun_normal, CONV, 0.0, 1 / math.sqrt(800), None),
    ("kaiming_uniform", init.kaiming_uniform, WIDE, 0.0, math.sqrt(2 / 2500),
     (-math.sqrt(6 / 2500), math.sqrt(6 / 2500))),
    ("kaiming_uniform_fan_out_tanh",
     functools.partial(init.kaiming_uniform, mode="fan_out", nonlinearity="tanh"), WIDE, 0.0,
     5 / 3 / math.sqrt(400), (-5 / 3 * math.sqrt(3 / 400), 5 / 3 * math.sqrt(3 / 400))),
    ("kaiming_normal", init.kaiming_normal, WIDE, 0.0, math.sqrt(2 / 2500), None),
    ("kaiming_normal_leaky",
     functools.partial(init.kaiming_normal, a=0.2, nonlinearity="leaky_relu"), WIDE, 0.0,
     math.sqrt(2 / 1.04) / math.sqrt(2500), None),
    ("kaiming_normal_fan_out_relu",
     functools.partial(init.kaiming_normal, mode="fan_out", nonlinearity="relu"), WIDE, 0.0,
     math.sqrt(2 / 400), None),
    ("kaiming_normal_conv", init.kaiming_normal, CONV, 0.0, math.sqrt(2 / 800), None),
    ("trunc_normal", init.trunc_normal, SQUARE, *truncated_mean_std(0.0, 1.0, -2.0, 2.0),
     (-2.0, 2.0)),
    ("trunc_normal_one_sided",
     functools.partial(init.trunc_normal, mean=0.5, std=0.3, a=0.0, b=math.inf), SQUARE,
     *truncated_mean_std(0.5, 0.3, 0.0, math.inf), (0.0, math.inf)),
    ("trunc_normal_narrow",
     functools.partial(init.trunc_normal, mean=0.0, std=1.0, a=-0.5, b=0.1), SQUARE,
     *truncated_mean_std(0.0, 1.0, -0.5, 0.1), (-0.5, 0.1)),
]


@pytest.mark.parametrize(("draw", "shape", "mean", "std", "bounds"),
                         [case[1:] for case in STAT_CASES], ids=[case[0] for case in STAT_CASES])
def test_sample_mean_and_std_match_the_formula(draw, shape, mean, std, bounds):
    w = draw(shape, seed=0)
    assert w.shape == shape and w.dtype == np.float64
    assert abs(w.std() - std) < 0.02 * std
    assert abs(w.mean() - mean) < 5 * std / math.sqrt(w.size)
    if bounds is not None:
        low, high = bounds
        assert low <= w.min() and w.max() <= high
        # the samples reach (nearly) the bounds, so the bounds are the formula's, not smaller
        if math.isfinite(high):
            assert w.max() > high - 0.01 * (high - low)


def test_trunc_normal_with_absolute_bounds_and_a_small_std_cuts_nothing():
    # a and b are absolute bounds (as in PyTorch): std 0.02 never reaches +-2
    w = init.trunc_normal(SQUARE, std=0.02, seed=0)
    assert abs(w.std() - 0.02) < 0.02 * 0.02


def test_small_random_is_a_hundredth_of_a_standard_normal():
    assert np.allclose(init.small_random((30, 40), seed=5), 0.01 * init.normal((30, 40), seed=5))


def test_he_is_xavier_times_sqrt_2_on_a_square_weight():
    # same draws; on a square weight Xavier's fan_avg is fan_in, so He = sqrt(2) * LeCun
    he = init.kaiming_normal((50, 50), nonlinearity="relu", seed=1)
    lecun = init.lecun_normal((50, 50), seed=1)
    assert np.allclose(he, math.sqrt(2) * lecun)
    assert np.allclose(init.xavier_normal((50, 50), seed=1), lecun)


# ----------------------------------------------------------------------------------------
# Orthogonal, eye, constants
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(50, 50), (30, 80), (80, 30), (16, 8, 3, 3), (100, 4, 5)])
@pytest.mark.parametrize("gain", [1.0, 1.5])
def test_orthogonal_is_orthonormal(shape, gain):
    w = init.orthogonal(shape, gain=gain, seed=0)
    assert w.shape == shape
    m = w.reshape(shape[0], -1)
    rows, cols = m.shape
    gram = m @ m.T if rows <= cols else m.T @ m
    assert np.allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-12)


@given(st.integers(1, 20), st.integers(1, 20), st.integers(0, 2**32 - 1))
def test_orthogonal_property(rows, cols, seed):
    w = init.orthogonal((rows, cols), seed=seed)
    gram = w @ w.T if rows <= cols else w.T @ w
    assert np.allclose(gram, np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_signs_are_not_biased():
    # without fixing diag(R) > 0, QR's Q has a deterministic sign pattern on its diagonal
    diagonals = np.array([np.diag(init.orthogonal((4, 4), seed=s)) for s in range(400)])
    assert np.all(np.abs((diagonals > 0).mean(axis=0) - 0.5) < 0.1)


def test_eye():
    assert np.array_equal(init.eye((3, 3)), np.eye(3))
    assert np.array_equal(init.eye((2, 4)), [[1, 0, 0, 0], [0, 1, 0, 0]])
    assert np.array_equal(init.eye((4, 2), dtype=np.float32), np.eye(4, 2, dtype=np.float32))


def test_constants():
    assert np.array_equal(init.zeros(3), [0, 0, 0])
    assert np.array_equal(init.ones((2, 2)), np.ones((2, 2)))
    assert np.array_equal(init.constant((2, 3), 0.25), np.full((2, 3), 0.25))
    assert init.zeros((), dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("name", ["zeros", "ones", "small", "normal", "uniform", "xavier",
                                  "xavier_normal", "lecun", "lecun_uniform", "he",
                                  "he_uniform", "orthogonal"])
@given(shape=st.lists(st.integers(0, 6), min_size=2, max_size=4).map(tuple),
       dtype=st.sampled_from([np.float16, np.float32, np.float64]))
def test_every_named_initializer_gives_the_shape_and_dtype(name, shape, dtype):
    w = init.get(name)(shape, seed=0, dtype=dtype)
    assert w.shape == shape and w.dtype == dtype and np.all(np.isfinite(w))


# ----------------------------------------------------------------------------------------
# Seeds
# ----------------------------------------------------------------------------------------

SEEDED = [init.uniform, init.normal, init.small_random, init.trunc_normal, init.xavier_uniform,
          init.xavier_normal, init.lecun_uniform, init.lecun_normal, init.kaiming_uniform,
          init.kaiming_normal, init.orthogonal]


@pytest.mark.parametrize("make", SEEDED, ids=lambda f: f.__name__)
def test_same_seed_same_weights_different_seed_different_weights(make):
    assert np.array_equal(make((20, 30), seed=7), make((20, 30), seed=7))
    assert not np.array_equal(make((20, 30), seed=7), make((20, 30), seed=8))


@pytest.mark.parametrize("make", SEEDED, ids=lambda f: f.__name__)
def test_manual_seed_makes_the_default_reproducible(make):
    tg.manual_seed(123)
    first = make((20, 30))
    tg.manual_seed(123)
    assert np.array_equal(first, make((20, 30)))
    assert not np.array_equal(first, make((20, 30)))  # the default generator moved on


def test_a_generator_is_drawn_from_and_advances():
    g = np.random.default_rng(3)
    a, b = init.normal(5, seed=g), init.normal(5, seed=g)
    g = np.random.default_rng(3)
    assert np.array_equal(a, init.normal(5, seed=g)) and not np.array_equal(a, b)
    assert np.array_equal(b, init.normal(5, seed=g))


def test_a_seed_gives_the_same_weights_in_every_dtype():
    w64 = init.xavier_uniform((10, 20), seed=2)
    w32 = init.xavier_uniform((10, 20), seed=2, dtype=np.float32)
    assert w32.dtype == np.float32 and np.array_equal(w32, w64.astype(np.float32))


# ----------------------------------------------------------------------------------------
# The in-place forms
# ----------------------------------------------------------------------------------------

IN_PLACE = [
    (init.zeros_, init.zeros, {}),
    (init.ones_, init.ones, {}),
    (init.constant_, init.constant, {"val": 0.5}),
    (init.eye_, init.eye, {}),
    (init.uniform_, init.uniform, {"a": -1.0, "b": 2.0, "seed": 1}),
    (init.normal_, init.normal, {"mean": 1.0, "std": 0.5, "seed": 1}),
    (init.small_random_, init.small_random, {"std": 0.02, "seed": 1}),
    (init.trunc_normal_, init.trunc_normal, {"std": 0.5, "a": -1.0, "b": 1.0, "seed": 1}),
    (init.xavier_uniform_, init.xavier_uniform, {"gain": 2.0, "seed": 1}),
    (init.xavier_normal_, init.xavier_normal, {"gain": 2.0, "seed": 1}),
    (init.lecun_uniform_, init.lecun_uniform, {"seed": 1}),
    (init.lecun_normal_, init.lecun_normal, {"seed": 1}),
    (init.kaiming_uniform_, init.kaiming_uniform,
     {"a": 0.1, "mode": "fan_out", "nonlinearity": "leaky_relu", "seed": 1}),
    (init.kaiming_normal_, init.kaiming_normal, {"mode": "fan_out", "nonlinearity": "tanh",
                                                 "seed": 1}),
    (init.orthogonal_, init.orthogonal, {"gain": 2.0, "seed": 1}),
]


@pytest.mark.parametrize(("fill", "make", "options"), IN_PLACE,
                         ids=[fill.__name__ for fill, _, _ in IN_PLACE])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_form_refills_the_same_array_in_its_dtype(fill, make, options, dtype):
    p = Parameter(np.full((6, 4), 7.0), dtype=dtype)
    array = p.data
    assert fill(p, **options) is p
    assert p.data is array and p.dtype == dtype and p.requires_grad
    assert np.array_equal(p.data, make((6, 4), dtype=dtype, **options))


@pytest.mark.parametrize(("fill", "make", "options"), IN_PLACE,
                         ids=[fill.__name__ for fill, _, _ in IN_PLACE])
def test_in_place_form_takes_the_array_forms_options_and_shows_its_doc(fill, make, options):
    made = inspect.signature(make).parameters
    kept = [n for n in made if n not in ("shape", "dtype")]
    if make in (init.zeros, init.ones, init.constant, init.eye):  # they draw nothing
        kept.remove("seed")
    params = inspect.signature(fill).parameters
    assert list(params) == ["value", *kept]
    assert all(params[n].default == made[n].default and params[n].kind == made[n].kind
               for n in kept)
    assert fill.__name__ == fill.__qualname__ == make.__name__ + "_"
    assert fill.__doc__.startswith(f"Fill ``value.data`` in place with ``{make.__name__}``")
    assert inspect.getdoc(make) in fill.__doc__


def test_in_place_keeps_a_plain_value_usable():
    v = Value(np.zeros((3, 2)))
    init.xavier_normal_(v, seed=0)
    (v * 2).sum().backward()
    assert np.array_equal(v.grad, np.full((3, 2), 2.0))


# ----------------------------------------------------------------------------------------
# Fans and gains
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "fans"), [
    ((10, 3), (3, 10)),  # Linear(3, 10): weight (out_features, in_features)
    ((8, 4, 5), (20, 40)),  # Conv1d(4, 8, kernel_size=5)
    ((64, 32, 3, 3), (288, 576)),  # Conv2d(32, 64, kernel_size=3)
    ((6, 2, 3, 4, 5), (120, 360)),  # Conv3d(2, 6, kernel_size=(3, 4, 5))
    ([5, 0], (0, 5)),
])
def test_fans_of_linear_and_conv_weights(shape, fans):
    assert init.calculate_fan_in_and_fan_out(shape) == fans


@given(st.lists(st.integers(1, 6), min_size=2, max_size=5).map(tuple))
def test_fans_count_every_weight_once(shape):
    fan_in, fan_out = init.calculate_fan_in_and_fan_out(shape)
    assert fan_in * shape[0] == fan_out * shape[1] == math.prod(shape)


@pytest.mark.parametrize(("nonlinearity", "gain"), [
    ("linear", 1.0), ("conv1d", 1.0), ("conv2d", 1.0), ("conv3d", 1.0),
    ("conv_transpose1d", 1.0), ("conv_transpose2d", 1.0), ("conv_transpose3d", 1.0),
    ("sigmoid", 1.0), ("tanh", 5 / 3), ("relu", math.sqrt(2)), ("selu", 3 / 4),
    ("leaky_relu", math.sqrt(2 / (1 + 0.01**2))),
])
def test_calculate_gain_table(nonlinearity, gain):
    assert init.calculate_gain(nonlinearity) == pytest.approx(gain, rel=1e-15)


def test_leaky_relu_gain_takes_the_negative_slope():
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", 0) == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu", 1) == pytest.approx(1.0)


# ----------------------------------------------------------------------------------------
# By name
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "same_as"), [
    ("zeros", init.zeros),
    ("ones", init.ones),
    ("small", init.small_random),
    ("normal", init.normal),
    ("uniform", init.uniform),
    ("xavier", init.xavier_uniform),
    ("glorot", init.xavier_uniform),
    ("xavier_normal", init.xavier_normal),
    ("lecun", init.lecun_normal),
    ("lecun_uniform", init.lecun_uniform),
    ("he", functools.partial(init.kaiming_normal, mode="fan_in", nonlinearity="relu")),
    ("kaiming", functools.partial(init.kaiming_normal, mode="fan_in", nonlinearity="relu")),
    ("he_uniform", functools.partial(init.kaiming_uniform, mode="fan_in", nonlinearity="relu")),
    ("orthogonal", functools.partial(init.orthogonal, gain=1.0)),
])
def test_get_by_name(name, same_as):
    assert np.array_equal(init.get(name)((30, 50), seed=4, dtype=np.float32),
                          same_as((30, 50), seed=4, dtype=np.float32))


def test_get_returns_a_callable_as_it_is():
    def mine(shape, seed=None, dtype=np.float64):
        return np.full(shape, 3.0, dtype)

    assert init.get(mine) is mine
    assert init.get(init.xavier_normal) is init.xavier_normal


@pytest.mark.parametrize(("activation", "expected"), [
    *[(name, "he") for name in ["relu", "leaky_relu", "prelu", "rrelu", "elu", "celu", "gelu",
                                "silu", "swish", "mish", "relu6", "hardswish", "softplus"]],
    *[(name, "xavier") for name in ["tanh", "sigmoid", "softsign", "hardtanh", "hardsigmoid"]],
    *[(name, "lecun") for name in ["selu", None, "linear", "identity", "none"]],
    ("ReLU", "he"), ("LeakyReLU", "he"), ("GELU", "he"), ("Tanh", "xavier"), ("SELU", "lecun"),
])
def test_for_activation_follows_the_lectures(activation, expected):
    assert init.for_activation(activation) is init.get(expected)


# ----------------------------------------------------------------------------------------
# The lectures' experiment: activations through a 10-layer net, width 500
# ----------------------------------------------------------------------------------------


def layer_stds(make_weight, activation, depth=10, width=500):
    """The std of each layer's activations for a batch of 1000 unit-Gaussian inputs."""
    h = np.random.default_rng(0).standard_normal((1000, width))
    stds = []
    for layer in range(depth):
        w = make_weight((width, width), seed=layer + 1)  # (out, in), as a Linear weight
        h = activation(h @ w.T)
        stds.append(h.std())
    return np.array(stds)


def test_small_random_weights_make_tanh_activations_vanish_and_xavier_does_not():
    small = layer_stds(init.small_random, np.tanh)
    assert np.all(np.diff(small) < 0) and small[-1] < 1e-5  # each layer: std * 0.01 * sqrt(500)
    xavier = layer_stds(init.xavier_uniform, np.tanh)
    assert np.all((0.1 < xavier) & (xavier < 1.0))


def test_he_keeps_relu_activations_where_xavier_halves_their_variance_each_layer():
    def relu(x):
        return np.maximum(x, 0)

    xavier = layer_stds(init.xavier_normal, relu)
    assert xavier[-1] / xavier[0] == pytest.approx(0.5 ** (9 / 2), rel=0.2)
    he = layer_stds(init.get("he"), relu)
    assert 0.8 < he[-1] / he[0] < 1.25


# ----------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------

ERRORS = [
    (lambda: init.normal((2, 2), std=-1.0), ValueError, r"normal: std must be >= 0; got -1.0"),
    (lambda: init.small_random((2, 2), std=-0.1), ValueError,
     r"small_random: std must be >= 0; got -0.1"),
    (lambda: init.normal((2, 2), mean=math.nan), ValueError,
     r"normal: mean must be a finite number; got nan"),
    (lambda: init.normal((2, 2), std="1"), TypeError, r"normal: std must be a number; got '1'"),
    (lambda: init.uniform((2, 2), a=2.0, b=1.0), ValueError,
     r"uniform: need a <= b; got a=2.0, b=1.0"),
    (lambda: init.uniform((2, 2), b=math.inf), ValueError,
     r"uniform: b must be a finite number; got inf"),
    (lambda: init.constant((2, 2), True), TypeError, r"constant: val must be a number; got True"),
    (lambda: init.trunc_normal((2, 2), a=1.0, b=-1.0), ValueError,
     r"trunc_normal: need a < b \(absolute bounds\); got a=1.0, b=-1.0"),
    (lambda: init.trunc_normal((2, 2), a=1.0, b=1.0), ValueError,
     r"trunc_normal: need a < b \(absolute bounds\); got a=1.0, b=1.0"),
    (lambda: init.trunc_normal((2, 2), std=0), ValueError, r"trunc_normal: std must be > 0; got 0"),
    (lambda: init.trunc_normal((2, 2), a=math.nan), ValueError,
     r"trunc_normal: a must be a number, not NaN; got nan"),
    (lambda: init.trunc_normal((2, 2), a=5.0, b=6.0), ValueError,
     r"trunc_normal: \[a, b\] = \[5.0, 6.0\] holds only 2.9e-07 of the probability of "
     r"N\(0.0, 1.0\*\*2\), too little to redraw into; choose bounds nearer the mean"),
    (lambda: init.xavier_uniform((2, 2), gain=-1), ValueError,
     r"xavier_uniform: gain must be >= 0; got -1.0"),
    (lambda: init.xavier_normal((2, 2), gain=math.inf), ValueError,
     r"xavier_normal: gain must be a finite number; got inf"),
    (lambda: init.orthogonal((2, 2), gain=-2), ValueError,
     r"orthogonal: gain must be >= 0; got -2.0"),
    (lambda: init.kaiming_normal((2, 2), mode="fan_avg"), ValueError,
     r"kaiming_normal: mode must be 'fan_in' or 'fan_out'; got 'fan_avg'"),
    (lambda: init.kaiming_uniform((2, 2), nonlinearity="swish"), ValueError,
     r"kaiming_uniform: unknown nonlinearity 'swish'; valid: conv1d, conv2d, conv3d, "
     r"conv_transpose1d, conv_transpose2d, conv_transpose3d, leaky_relu, linear, relu, "
     r"selu, sigmoid, tanh"),
    (lambda: init.kaiming_normal((2, 2), a=0.2, nonlinearity="relu"), ValueError,
     r"kaiming_normal: a=0.2 is the negative slope of leaky_relu, but nonlinearity='relu'; "
     r"pass nonlinearity='leaky_relu'"),
    (lambda: init.kaiming_normal((2, 2), a=math.nan), ValueError,
     r"kaiming_normal: a must be a finite number; got nan"),
    (lambda: init.calculate_gain("Tanh"), ValueError,
     r"calculate_gain: unknown nonlinearity 'Tanh'; valid: .*tanh"),
    (lambda: init.calculate_gain(None), ValueError,
     r"calculate_gain: unknown nonlinearity None"),
    (lambda: init.calculate_gain("tanh", 0.2), ValueError,
     r"calculate_gain: param is the negative slope of leaky_relu; 'tanh' takes none "
     r"\(got 0.2\)"),
    (lambda: init.calculate_gain("leaky_relu", "0.2"), TypeError,
     r"calculate_gain: param must be a number; got '0.2'"),
    # fans need at least 2 dimensions; the message names the initializer and the shape
    (lambda: init.calculate_fan_in_and_fan_out((5,)), ValueError,
     r"calculate_fan_in_and_fan_out: fan_in and fan_out need a weight shape with at least "
     r"2 dimensions, \(out_features, in_features\) or \(out, in, \*kernel\); got \(5,\) "
     r"\(a bias has no fans: use zeros\)"),
    (lambda: init.xavier_uniform(()), ValueError,
     r"xavier_uniform: fan_in and fan_out need .*; got \(\)"),
    (lambda: init.xavier_normal(7), ValueError, r"xavier_normal: fan_in and fan_out .*got \(7,\)"),
    (lambda: init.lecun_uniform((3,)), ValueError, r"lecun_uniform: fan_in and fan_out"),
    (lambda: init.lecun_normal((3,)), ValueError, r"lecun_normal: fan_in and fan_out"),
    (lambda: init.kaiming_uniform((3,)), ValueError, r"kaiming_uniform: fan_in and fan_out"),
    (lambda: init.kaiming_normal((3,)), ValueError, r"kaiming_normal: fan_in and fan_out"),
    (lambda: init.xavier_uniform_(Value([1.0, 2.0])), ValueError,
     r"xavier_uniform: fan_in and fan_out .*got \(2,\)"),
    (lambda: init.orthogonal((4,)), ValueError,
     r"orthogonal: needs a shape with at least 2 dimensions \(rows, cols, ...\); got \(4,\)"),
    (lambda: init.eye((2, 2, 2)), ValueError, r"eye: needs a 2-D shape \(rows, cols\); got "
                                              r"\(2, 2, 2\)"),
    # shapes, dtypes, seeds
    (lambda: init.normal((2, -1)), ValueError,
     r"normal: shape must not have negative sizes; got \(2, -1\)"),
    (lambda: init.zeros((2.0, 3)), TypeError,
     r"zeros: shape must be an int or a tuple of ints; got \(2.0, 3\)"),
    (lambda: init.ones("3"), TypeError, r"ones: shape must be an int or a tuple of ints; got '3'"),
    (lambda: init.calculate_fan_in_and_fan_out((True, 3)), TypeError,
     r"calculate_fan_in_and_fan_out: shape must be an int or a tuple of ints"),
    (lambda: init.uniform((2, 2), dtype=np.int64), TypeError,
     r"uniform: dtype must be a floating type such as float32 or float64; got int64"),
    (lambda: init.zeros(3, dtype="floaty"), TypeError,
     r"zeros: dtype must be a floating type such as float32 or float64; got 'floaty'"),
    (lambda: init.normal((2, 2), seed=-1), ValueError, r"seed must be None, an int >= 0"),
    # the in-place forms
    (lambda: init.normal_(np.zeros(3)), TypeError,
     r"normal_: expected a Value or Parameter; got ndarray \(for a new ndarray, call "
     r"normal\(shape\)\)"),
    (lambda: init.zeros_(Value([1.0, 2.0]) * 2), RuntimeError,
     r"zeros_: only a leaf Value \(a parameter\) can be initialized in place; this one was "
     r"made by Mul"),
    (lambda: init.zeros_(Value([1.0]), seed=0), TypeError,
     r"zeros_: got an unexpected keyword argument 'seed'"),
    (lambda: init.xavier_uniform_(Value(np.zeros((2, 2))), 1.0, 0), TypeError,
     r"xavier_uniform_: too many positional arguments"),
    (lambda: init.constant_(Value([1.0])), TypeError,
     r"constant_: missing a required argument: 'val'"),
    # by name
    (lambda: init.get("he_normal"), ValueError,
     r"get: unknown initializer 'he_normal'; valid names: zeros, ones, small, normal, "
     r"uniform, xavier, glorot, xavier_normal, lecun, lecun_uniform, he, kaiming, "
     r"he_uniform, orthogonal$"),
    (lambda: init.get(3), TypeError,
     r"get: expected an initializer name or a callable init\(shape, seed=..., dtype=...\); "
     r"got 3"),
    (lambda: init.for_activation("softmax"), ValueError,
     r"for_activation: unknown activation 'softmax'; valid: None, relu, leaky_relu, .*, "
     r"tanh, .*, selu, linear, identity, none$"),
    (lambda: init.for_activation(np.tanh), TypeError,
     r"for_activation: expected an activation name or None; got <ufunc 'tanh'>"),
]


@pytest.mark.parametrize(("call", "error", "message"), ERRORS,
                         ids=[f"{i}-{e[2].split(':')[0]}" for i, e in enumerate(ERRORS)])
def test_bad_arguments_are_clear_errors(call, error, message):
    with pytest.raises(error, match="^" + message):
        call()

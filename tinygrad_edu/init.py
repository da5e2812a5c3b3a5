"""Weight initializers: the starting values of a network's weights, as in ``torch.nn.init``.

Every initializer comes in two forms, named as in PyTorch:

- ``xavier_uniform(shape, gain=1.0, *, seed=None, dtype=np.float64)`` returns a new
  ndarray. All of these can be called as ``init(shape, seed=..., dtype=...)``, which is how
  the ``nn`` modules call an ``init=`` argument; the ones that draw nothing (``zeros``,
  ``ones``, ``constant``, ``eye``) accept ``seed`` and ignore it so the call is the same.
- ``xavier_uniform_(value, gain=1.0, *, seed=None)``, with PyTorch's trailing underscore,
  overwrites ``value.data`` of a leaf Value or Parameter in place, keeping the array's
  dtype, and returns the Value. Each is made from the array form by ``_in_place``, so
  the two take the same options and cannot drift apart.

``seed`` is an int, a ``np.random.Generator`` or None (the library's default generator,
which ``tinygrad_edu.manual_seed(n)`` reseeds); see ``tinygrad_edu.rng``. Values are drawn
in float64 and then cast, so a seed gives the same weights, rounded, in every dtype.

Xavier, LeCun and He (Kaiming) are one idea: choose the variance of the weights so that
the variance of the signal stays the same from layer to layer,

    Var(W) = gain**2 / fan        W ~ N(0, std**2) with std = gain / sqrt(fan), or
                                  W ~ U(-bound, bound) with bound = sqrt(3) * std

where ``fan`` is ``fan_in`` (LeCun, He), ``fan_out`` (He with ``mode="fan_out"``) or the
mean of the two (Xavier), and ``gain`` makes up for what the activation does to the
variance (``calculate_gain``). Weight shapes follow PyTorch: ``(out_features,
in_features)`` for a Linear layer and ``(out, in, *kernel)`` for a convolution.

``get(name)`` turns a name such as ``"he"`` or ``"xavier"`` into an initializer, and
``for_activation(name)`` gives the lectures' default for a layer followed by that
activation. docs/init.md tells the story behind the formulas.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ._checks import float_dtype, is_int, is_real
from .rng import generator
from .value import Value

Shape = int | tuple[int, ...] | list[int]
Seed = int | np.random.Generator | None
Initializer = Callable[..., np.ndarray]

# ----------------------------------------------------------------------------------------
# Checking arguments
# ----------------------------------------------------------------------------------------


def _shape(fn: str, shape: Any) -> tuple[int, ...]:
    """``shape`` as a tuple of ints >= 0; an int ``n`` means ``(n,)``, as in NumPy."""
    dims = (shape,) if is_int(shape) else shape
    if not isinstance(dims, (tuple, list)) or not all(is_int(d) for d in dims):
        raise TypeError(f"{fn}: shape must be an int or a tuple of ints; got {shape!r}")
    if any(d < 0 for d in dims):
        raise ValueError(f"{fn}: shape must not have negative sizes; got {shape!r}")
    return tuple(int(d) for d in dims)


def _number(fn: str, name: str, x: Any, *, finite: bool = True) -> float:
    """``x`` as a float; a real number, not NaN, and finite unless ``finite=False``."""
    if not is_real(x):
        raise TypeError(f"{fn}: {name} must be a number; got {x!r}")
    x = float(x)
    if math.isnan(x) or (finite and math.isinf(x)):
        need = "a finite number" if finite else "a number, not NaN"
        raise ValueError(f"{fn}: {name} must be {need}; got {x!r}")
    return x


def _nonnegative(fn: str, name: str, x: Any) -> float:
    x = _number(fn, name, x)
    if x < 0:
        raise ValueError(f"{fn}: {name} must be >= 0; got {x!r}")
    return x


def _in_place(make: Initializer, *, draws: bool = True) -> Callable[..., Value]:
    """The in-place form of the initializer ``make``, named as in PyTorch with a trailing
    underscore: ``name_(value, ...)`` fills ``value.data`` of a leaf Value or Parameter
    with ``make(value.data.shape, ..., dtype=value.data.dtype)`` and returns ``value``.

    It takes ``make``'s arguments after ``shape`` except ``dtype`` (the array keeps its
    own) and, for an initializer that ``draws`` nothing, ``seed``; its signature and
    docstring say so, for ``help()`` and editors.
    """
    name = make.__name__ + "_"
    dropped = {"shape", "dtype"} if draws else {"shape", "dtype", "seed"}
    signature = inspect.signature(make)
    value_parameter = inspect.Parameter("value", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        annotation="Value")
    signature = signature.replace(
        parameters=[value_parameter,
                    *(p for p in signature.parameters.values() if p.name not in dropped)],
        return_annotation="Value")

    def fill(*args: Any, **kwargs: Any) -> Value:
        try:
            options = signature.bind(*args, **kwargs).arguments
        except TypeError as e:
            raise TypeError(f"{name}: {e}") from None
        value = options.pop("value")
        if not isinstance(value, Value):
            raise TypeError(f"{name}: expected a Value or Parameter; got "
                            f"{type(value).__name__} (for a new ndarray, call "
                            f"{make.__name__}(shape))")
        if not value.is_leaf:
            raise RuntimeError(f"{name}: only a leaf Value (a parameter) can be initialized "
                               f"in place; this one was made by {type(value.grad_fn).__name__}")
        value.data[...] = make(value.data.shape, dtype=value.data.dtype, **options)
        return value

    fill.__name__ = fill.__qualname__ = name
    fill.__module__ = make.__module__
    fill.__signature__ = signature  # type: ignore[attr-defined]
    fill.__doc__ = (f"Fill ``value.data`` in place with ``{make.__name__}``, keeping its "
                    f"dtype; return ``value``.\n\n``{make.__name__}``: "
                    f"{inspect.getdoc(make)}")
    return fill


# ----------------------------------------------------------------------------------------
# Fans and gains
# ----------------------------------------------------------------------------------------


def _fans(fn: str, shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) < 2:
        raise ValueError(f"{fn}: fan_in and fan_out need a weight shape with at least 2 "
                         f"dimensions, (out_features, in_features) or (out, in, *kernel); "
                         f"got {shape} (a bias has no fans: use zeros)")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def calculate_fan_in_and_fan_out(shape: Shape) -> tuple[int, int]:
    """The number of inputs and outputs each weight connects, as PyTorch counts them.

    For a Linear weight of shape ``(out_features, in_features)``: ``fan_in = in_features``,
    ``fan_out = out_features``. For a convolution weight ``(out, in, *kernel)`` each output
    sees ``in * prod(kernel)`` inputs: ``fan_in = in * prod(kernel)``,
    ``fan_out = out * prod(kernel)``. Shapes with fewer than 2 dimensions are an error.
    """
    fn = "calculate_fan_in_and_fan_out"
    return _fans(fn, _shape(fn, shape))


# PyTorch's names, the convolutions included: a convolution is a linear map (gain 1), and
# code written against torch.nn.init.calculate_gain runs here unchanged.
_GAINS = {
    "linear": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4.0,
}


def _gain(fn: str, nonlinearity: Any, slope: float | None) -> float:
    """The gain of ``nonlinearity``; ``slope`` is leaky_relu's negative slope, else None."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if slope is None else slope
        return math.sqrt(2.0 / (1.0 + slope**2))
    if not isinstance(nonlinearity, str) or nonlinearity not in _GAINS:
        valid = ", ".join(sorted([*_GAINS, "leaky_relu"]))
        raise ValueError(f"{fn}: unknown nonlinearity {nonlinearity!r}; valid: {valid}")
    if slope is not None:
        raise ValueError(f"{fn}: param is the negative slope of leaky_relu; "
                         f"{nonlinearity!r} takes none (got {slope!r})")
    return _GAINS[nonlinearity]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor to scale a weight's std by so the activation keeps the signal's size.

    ========================================  ===============================
    nonlinearity                              gain
    ========================================  ===============================
    linear, conv{1,2,3}d,                     1
    conv_transpose{1,2,3}d, sigmoid
    tanh                                      5/3
    relu                                      sqrt(2)
    leaky_relu                                sqrt(2 / (1 + param**2)),
                                              param (the negative slope) 0.01
                                              by default
    selu                                      3/4
    ========================================  ===============================

    The values are PyTorch's. ReLU zeroes half of a symmetric input, halving its mean
    square, hence sqrt(2). Unlike PyTorch, ``param`` given for a nonlinearity other than
    leaky_relu is an error rather than ignored: it would otherwise look as if it mattered.
    """
    slope = None if param is None else _number("calculate_gain", "param", param)
    return _gain("calculate_gain", nonlinearity, slope)


# ----------------------------------------------------------------------------------------
# Constants
# ----------------------------------------------------------------------------------------


def zeros(shape: Shape, *, seed: Seed = None, dtype: DTypeLike = np.float64) -> np.ndarray:
    """All 0 (biases; never all the weights: identical neurons stay identical).
    ``seed`` is unused."""
    return np.zeros(_shape("zeros", shape), float_dtype("zeros", dtype))


zeros_ = _in_place(zeros, draws=False)


def ones(shape: Shape, *, seed: Seed = None, dtype: DTypeLike = np.float64) -> np.ndarray:
    """All 1 (the scale of a normalization layer). ``seed`` is unused."""
    return np.ones(_shape("ones", shape), float_dtype("ones", dtype))


ones_ = _in_place(ones, draws=False)


def constant(shape: Shape, val: float, *, seed: Seed = None,
             dtype: DTypeLike = np.float64) -> np.ndarray:
    """All ``val``. ``seed`` is unused."""
    shape, dtype = _shape("constant", shape), float_dtype("constant", dtype)
    return np.full(shape, _number("constant", "val", val), dtype)


constant_ = _in_place(constant, draws=False)


def eye(shape: Shape, *, seed: Seed = None, dtype: DTypeLike = np.float64) -> np.ndarray:
    """The identity matrix: 1 where row == column, else 0; ``shape`` must be 2-D
    ``(rows, cols)`` and may be non-square. ``seed`` is unused."""
    shape, dtype = _shape("eye", shape), float_dtype("eye", dtype)
    if len(shape) != 2:
        raise ValueError(f"eye: needs a 2-D shape (rows, cols); got {shape}")
    return np.eye(*shape, dtype=dtype)


eye_ = _in_place(eye, draws=False)


# ----------------------------------------------------------------------------------------
# Distributions
# ----------------------------------------------------------------------------------------


def uniform(shape: Shape, a: float = 0.0, b: float = 1.0, *, seed: Seed = None,
            dtype: DTypeLike = np.float64) -> np.ndarray:
    """W ~ U(a, b): every value in [a, b) equally likely; std = (b - a) / sqrt(12)."""
    shape, dtype = _shape("uniform", shape), float_dtype("uniform", dtype)
    a, b = _number("uniform", "a", a), _number("uniform", "b", b)
    if a > b:
        raise ValueError(f"uniform: need a <= b; got a={a!r}, b={b!r}")
    return generator(seed).uniform(a, b, size=shape).astype(dtype, copy=False)


uniform_ = _in_place(uniform)


def normal(shape: Shape, mean: float = 0.0, std: float = 1.0, *, seed: Seed = None,
           dtype: DTypeLike = np.float64) -> np.ndarray:
    """W ~ N(mean, std**2)."""
    shape, dtype = _shape("normal", shape), float_dtype("normal", dtype)
    mean, std = _number("normal", "mean", mean), _nonnegative("normal", "std", std)
    return generator(seed).normal(mean, std, size=shape).astype(dtype, copy=False)


normal_ = _in_place(normal)


def small_random(shape: Shape, std: float = 0.01, *, seed: Seed = None,
                 dtype: DTypeLike = np.float64) -> np.ndarray:
    """W = std * N(0, 1), std 0.01: CS231n's first try, ``0.01 * np.random.randn(D, H)``.

    Fine for a small network; in a deep one every layer multiplies the signal's std by
    about ``std * sqrt(fan_in)`` (0.22 for 500 inputs), so the activations vanish.
    """
    shape, dtype = _shape("small_random", shape), float_dtype("small_random", dtype)
    std = _nonnegative("small_random", "std", std)
    return generator(seed).normal(0.0, std, size=shape).astype(dtype, copy=False)


small_random_ = _in_place(small_random)


# Refuse a truncated normal that keeps less than this share of the draws.
_MIN_MASS = 1e-3
# Draws per round of trunc_normal, to bound its memory.
_MAX_DRAWS = 1 << 22


def _normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def trunc_normal(shape: Shape, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                 b: float = 2.0, *, seed: Seed = None,
                 dtype: DTypeLike = np.float64) -> np.ndarray:
    """W ~ N(mean, std**2) with every draw outside [a, b] redrawn until it lands inside.

    ``a`` and ``b`` are absolute bounds, not multiples of ``std`` (as in PyTorch): with
    ``std=0.02`` the defaults [-2, 2] cut nothing. The result's std is smaller than
    ``std``: 0.88 * std for bounds at mean -+ 2 std.

    PyTorch samples through the inverse CDF (via erfinv, which NumPy lacks) and only warns
    when mean is more than 2 std outside [a, b]. Here values are really redrawn, which is
    exact; but if [a, b] holds less than 0.1% of N(mean, std**2) the redrawing would take
    very long, so that is an error. Infinite bounds are allowed.
    """
    fn = "trunc_normal"
    shape, dtype = _shape(fn, shape), float_dtype(fn, dtype)
    mean, std = _number(fn, "mean", mean), _number(fn, "std", std)
    a, b = _number(fn, "a", a, finite=False), _number(fn, "b", b, finite=False)
    if std <= 0:
        raise ValueError(f"{fn}: std must be > 0; got {std!r}")
    if a >= b:
        raise ValueError(f"{fn}: need a < b (absolute bounds); got a={a!r}, b={b!r}")
    mass = _normal_cdf((b - mean) / std) - _normal_cdf((a - mean) / std)
    if mass < _MIN_MASS:
        raise ValueError(f"{fn}: [a, b] = [{a!r}, {b!r}] holds only {mass:.2g} of the "
                         f"probability of N({mean!r}, {std!r}**2), too little to redraw "
                         f"into; choose bounds nearer the mean")
    rng = generator(seed)
    size = math.prod(shape)
    out = np.empty(size)
    filled = 0
    while filled < size:
        # About (missing / mass) draws fill the gap in one round; a few more make it likely.
        draws = rng.normal(mean, std, size=min(math.ceil((size - filled) / mass) + 16,
                                               _MAX_DRAWS))
        inside = draws[(a <= draws) & (draws <= b)][: size - filled]
        out[filled:filled + inside.size] = inside
        filled += inside.size
    return out.reshape(shape).astype(dtype, copy=False)


trunc_normal_ = _in_place(trunc_normal)


# ----------------------------------------------------------------------------------------
# Variance scaling: Xavier/Glorot, LeCun, He/Kaiming
# ----------------------------------------------------------------------------------------


def _variance_scaling(fn: str, shape: Any, gain: float, mode: str, distribution: str,
                      seed: Seed, dtype: DTypeLike) -> np.ndarray:
    """Var(W) = gain**2 / fan: N(0, std**2) or U(-sqrt(3) std, sqrt(3) std), where
    std = gain / sqrt(fan) and fan is fan_in, fan_out or (fan_in + fan_out) / 2."""
    shape, dtype = _shape(fn, shape), float_dtype(fn, dtype)
    fan_in, fan_out = _fans(fn, shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    # NOTE: a fan is 0 only when an axis has length 0, so there is no weight to scale;
    # max(fan, 1) just avoids dividing by zero.
    std = gain / math.sqrt(max(fan, 1))
    rng = generator(seed)
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std  # U(-bound, bound) has variance bound**2 / 3
        return rng.uniform(-bound, bound, size=shape).astype(dtype, copy=False)
    return rng.normal(0.0, std, size=shape).astype(dtype, copy=False)


def xavier_uniform(shape: Shape, gain: float = 1.0, *, seed: Seed = None,
                   dtype: DTypeLike = np.float64) -> np.ndarray:
    """Glorot & Bengio (2010): W ~ U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out)).

    That is Var(W) = gain**2 * 2 / (fan_in + fan_out): the variance that keeps the signal
    forward (1 / fan_in) and the gradient backward (1 / fan_out), averaged. Also called
    Glorot uniform.
    """
    gain = _nonnegative("xavier_uniform", "gain", gain)
    return _variance_scaling("xavier_uniform", shape, gain, "fan_avg", "uniform", seed, dtype)


xavier_uniform_ = _in_place(xavier_uniform)


def xavier_normal(shape: Shape, gain: float = 1.0, *, seed: Seed = None,
                  dtype: DTypeLike = np.float64) -> np.ndarray:
    """Glorot & Bengio (2010): W ~ N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    gain = _nonnegative("xavier_normal", "gain", gain)
    return _variance_scaling("xavier_normal", shape, gain, "fan_avg", "normal", seed, dtype)


xavier_normal_ = _in_place(xavier_normal)


def lecun_uniform(shape: Shape, *, seed: Seed = None,
                  dtype: DTypeLike = np.float64) -> np.ndarray:
    """LeCun et al. (1998): W ~ U(-bound, bound), bound = sqrt(3 / fan_in); Var(W) = 1 / fan_in.

    The same as ``kaiming_uniform(shape, nonlinearity="linear")``.
    """
    return _variance_scaling("lecun_uniform", shape, 1.0, "fan_in", "uniform", seed, dtype)


lecun_uniform_ = _in_place(lecun_uniform)


def lecun_normal(shape: Shape, *, seed: Seed = None,
                 dtype: DTypeLike = np.float64) -> np.ndarray:
    """LeCun et al. (1998): W ~ N(0, std**2), std = 1 / sqrt(fan_in).

    This keeps the variance of a linear layer's output equal to its input's:
    Var(sum_i w_i x_i) = fan_in * Var(w) * Var(x). CS231n's "Xavier",
    ``np.random.randn(fan_in, fan_out) / np.sqrt(fan_in)``, is this one. The same as
    ``kaiming_normal(shape, nonlinearity="linear")``; the init for SELU networks.
    """
    return _variance_scaling("lecun_normal", shape, 1.0, "fan_in", "normal", seed, dtype)


lecun_normal_ = _in_place(lecun_normal)


def _kaiming(fn: str, shape: Any, a: float, mode: str, nonlinearity: str, distribution: str,
             seed: Seed, dtype: DTypeLike) -> np.ndarray:
    a = _number(fn, "a", a)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{fn}: mode must be 'fan_in' or 'fan_out'; got {mode!r}")
    if nonlinearity != "leaky_relu" and a != 0:
        raise ValueError(f"{fn}: a={a!r} is the negative slope of leaky_relu, but "
                         f"nonlinearity={nonlinearity!r}; pass nonlinearity='leaky_relu'")
    gain = _gain(fn, nonlinearity, a if nonlinearity == "leaky_relu" else None)
    return _variance_scaling(fn, shape, gain, mode, distribution, seed, dtype)


def kaiming_uniform(shape: Shape, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", *, seed: Seed = None,
                    dtype: DTypeLike = np.float64) -> np.ndarray:
    """He et al. (2015): W ~ U(-bound, bound), bound = gain * sqrt(3 / fan).

    ``gain = calculate_gain(nonlinearity, a)``; ``a`` is leaky_relu's negative slope.
    ``fan`` is fan_in (``mode="fan_in"``, keeps the forward signal's variance) or fan_out
    (keeps the backward gradient's). The defaults are PyTorch's: leaky_relu with slope 0,
    which is ReLU, so the gain is sqrt(2). Unlike PyTorch, a nonzero ``a`` with another
    nonlinearity is an error instead of being ignored.
    """
    return _kaiming("kaiming_uniform", shape, a, mode, nonlinearity, "uniform", seed, dtype)


kaiming_uniform_ = _in_place(kaiming_uniform)


def kaiming_normal(shape: Shape, a: float = 0.0, mode: str = "fan_in",
                   nonlinearity: str = "leaky_relu", *, seed: Seed = None,
                   dtype: DTypeLike = np.float64) -> np.ndarray:
    """He et al. (2015): W ~ N(0, std**2), std = gain / sqrt(fan).

    With ReLU, ``gain**2 = 2`` makes up for ReLU zeroing half the signal. ``a``, ``mode``
    and ``nonlinearity`` as in ``kaiming_uniform`` (PyTorch's defaults, giving sqrt(2)).
    """
    return _kaiming("kaiming_normal", shape, a, mode, nonlinearity, "normal", seed, dtype)


kaiming_normal_ = _in_place(kaiming_normal)


# ----------------------------------------------------------------------------------------
# Orthogonal
# ----------------------------------------------------------------------------------------


def orthogonal(shape: Shape, gain: float = 1.0, *, seed: Seed = None,
               dtype: DTypeLike = np.float64) -> np.ndarray:
    """Saxe et al. (2014): gain times a random (semi-)orthogonal matrix Q.

    The shape is read as a matrix of ``rows = shape[0]`` by ``cols = prod(shape[1:])``
    (as PyTorch does for a convolution weight). Q has orthonormal rows when rows <= cols,
    Q @ Q.T = I, and orthonormal columns otherwise, Q.T @ Q = I. It is the Q of the QR
    decomposition of a Gaussian matrix, with its columns' signs chosen so that diag(R) > 0;
    that makes Q uniformly distributed over the orthogonal matrices.
    """
    fn = "orthogonal"
    shape, dtype = _shape(fn, shape), float_dtype(fn, dtype)
    gain = _nonnegative(fn, "gain", gain)
    if len(shape) < 2:
        raise ValueError(f"{fn}: needs a shape with at least 2 dimensions (rows, cols, ...); "
                         f"got {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    # QR of a tall matrix gives orthonormal columns; a wide Q is the transpose of a tall one.
    q, r = np.linalg.qr(generator(seed).standard_normal((max(rows, cols), min(rows, cols))))
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    if rows < cols:
        q = q.T
    return (gain * q).reshape(shape).astype(dtype, copy=False)


orthogonal_ = _in_place(orthogonal)


# ----------------------------------------------------------------------------------------
# By name
# ----------------------------------------------------------------------------------------

_HE = functools.partial(kaiming_normal, nonlinearity="relu")
_BY_NAME: dict[str, Initializer] = {
    "zeros": zeros,
    "ones": ones,
    "small": small_random,
    "normal": normal,
    "uniform": uniform,
    "xavier": xavier_uniform,
    "glorot": xavier_uniform,
    "xavier_normal": xavier_normal,
    "lecun": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "he": _HE,
    "kaiming": _HE,
    "he_uniform": functools.partial(kaiming_uniform, nonlinearity="relu"),
    "orthogonal": orthogonal,
}


def get(name_or_callable: str | Initializer) -> Initializer:
    """The initializer ``init(shape, seed=..., dtype=...) -> ndarray`` for a name; a
    callable is returned as it is.

    ==================  ==============================================================
    name                initializer
    ==================  ==============================================================
    zeros, ones         ``zeros``, ``ones``
    small               ``small_random``: 0.01 * N(0, 1)
    normal, uniform     ``normal`` N(0, 1), ``uniform`` U(0, 1)
    xavier, glorot      ``xavier_uniform``
    xavier_normal       ``xavier_normal``
    lecun               ``lecun_normal``
    lecun_uniform       ``lecun_uniform``
    he, kaiming         ``kaiming_normal`` with fan_in and ReLU's gain sqrt(2)
    he_uniform          ``kaiming_uniform`` with fan_in and ReLU's gain sqrt(2)
    orthogonal          ``orthogonal`` with gain 1
    ==================  ==============================================================
    """
    if callable(name_or_callable):
        return name_or_callable
    if not isinstance(name_or_callable, str):
        raise TypeError(f"get: expected an initializer name or a callable "
                        f"init(shape, seed=..., dtype=...); got {name_or_callable!r}")
    if name_or_callable not in _BY_NAME:
        raise ValueError(f"get: unknown initializer {name_or_callable!r}; valid names: "
                         f"{', '.join(_BY_NAME)}")
    return _BY_NAME[name_or_callable]


_ACTIVATION_FAMILIES = {
    "he": ("relu", "leaky_relu", "prelu", "rrelu", "elu", "celu", "gelu", "silu", "swish",
           "mish", "relu6", "hardswish", "softplus"),
    "xavier": ("tanh", "sigmoid", "softsign", "hardtanh", "hardsigmoid"),
    "lecun": ("selu", "linear", "identity", "none"),
}
# Spelled without case or underscores, so class names such as "LeakyReLU" match too.
_FOR_ACTIVATION = {name.replace("_", ""): init for init, names in _ACTIVATION_FAMILIES.items()
                   for name in names}


def for_activation(activation: str | None) -> Initializer:
    """The lectures' default initializer for a layer followed by ``activation``.

    - He (``get("he")``) for the ReLU family: relu, leaky_relu, prelu, rrelu, elu, celu,
      gelu, silu/swish, mish, relu6, hardswish, softplus.
    - Xavier (``get("xavier")``) for the saturating ones: tanh, sigmoid, softsign,
      hardtanh, hardsigmoid.
    - LeCun (``get("lecun")``) for selu, and for no activation (None, "linear",
      "identity", "none"), as for an output layer.

    LeCun for no activation because it is the rule behind He, Var(W) = gain**2 / fan_in,
    with the identity's gain of 1: it keeps the output's variance equal to the input's.
    Names ignore case and underscores, so ``"LeakyReLU"`` works as well as
    ``"leaky_relu"``.
    """
    if activation is not None and not isinstance(activation, str):
        raise TypeError(f"for_activation: expected an activation name or None; "
                        f"got {activation!r}")
    key = "none" if activation is None else activation.lower().replace("_", "")
    if key not in _FOR_ACTIVATION:
        valid = ", ".join(name for names in _ACTIVATION_FAMILIES.values() for name in names)
        raise ValueError(f"for_activation: unknown activation {activation!r}; valid: "
                         f"None, {valid}")
    return get(_FOR_ACTIVATION[key])

"""Dropout, AlphaDropout and the weight penalties."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Value
from tinygrad_edu.functional.regularization import (
    SELU_ALPHA,
    SELU_SCALE,
    alpha_dropout,
    dropout,
    l1_penalty,
    l2_penalty,
)
from tinygrad_edu.nn import AlphaDropout, Dropout, Dropout2d


def test_inverted_dropout_scales_kept_units_and_keeps_the_mean():
    x = Value(np.ones((200, 500)))
    y = dropout(x, p=0.3, seed=0)
    kept = y.data != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.01)
    np.testing.assert_allclose(y.data[kept], 1 / 0.7)
    assert y.data.mean() == pytest.approx(1.0, abs=0.01)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, y.data)  # the gradient goes through the same mask


def test_dropout_module_modes_and_identity_cases():
    layer = Dropout(0.5, seed=1)
    x = Value(np.ones(1000))
    assert (layer(x).data == 0).any()
    layer.eval()
    assert layer(x) is x
    assert Dropout(0.0)(x) is x


def test_dropout_is_reproducible_under_a_seed_and_manual_seed():
    x = Value(np.ones(100))
    assert np.array_equal(dropout(x, seed=3).data, dropout(x, seed=3).data)
    tg.manual_seed(7)
    a = Dropout(0.5)(x).data
    tg.manual_seed(7)
    assert np.array_equal(a, Dropout(0.5)(x).data)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_p_outside_0_1_is_an_error(p):
    with pytest.raises(ValueError, match=rf"dropout: p .* must be in \[0, 1\); got {p}"):
        dropout(Value(1.0), p=p)
    with pytest.raises(ValueError, match="Dropout: p"):
        Dropout(p)


def test_alpha_dropout_keeps_zero_mean_unit_variance_of_selu_activations():
    rng = np.random.default_rng(0)
    x = Value(rng.standard_normal((500, 400)))
    y = alpha_dropout(x, p=0.2, seed=0)
    assert y.data.mean() == pytest.approx(0.0, abs=0.02)
    assert y.data.std() == pytest.approx(1.0, abs=0.02)
    dropped = -SELU_SCALE * SELU_ALPHA
    assert np.isclose(np.unique(y.data[np.isclose(y.data, y.data.min())]), y.data.min()).all()
    assert dropped < 0
    layer = AlphaDropout(0.2)
    layer.eval()
    assert layer(x) is x


def test_penalties():
    a, b = Value([1.0, -2.0]), Value([[3.0]])
    assert l1_penalty([a, b]).item() == 6.0
    assert l2_penalty([a, b]).item() == 14.0
    l2_penalty([a, b]).backward()
    np.testing.assert_array_equal(a.grad, [2.0, -4.0])


@pytest.mark.parametrize("layer", [Dropout, AlphaDropout, Dropout2d])
def test_dropout_layers_default_to_a_half(layer):
    assert layer().p == 0.5


@pytest.mark.parametrize("layer", [Dropout, AlphaDropout])
def test_dropout_layers_refuse_a_list(layer):
    with pytest.raises(TypeError, match=rf"^{layer.__name__}: give an array Value, not a list "
                                        rf"of scalars"):
        layer()([Value(1.0), Value(2.0)])


def test_alpha_dropout_and_dropout2d_layers_drop_only_in_training():
    x = Value(np.ones((2, 8, 3, 3)))
    for layer in (AlphaDropout(0.5, seed=0), Dropout2d(0.5, seed=0)):
        assert not np.array_equal(layer(x).data, x.data), type(layer).__name__
        layer.eval()
        np.testing.assert_array_equal(layer(x).data, x.data)


def test_alpha_dropout_defaults_are_the_affine_map_of_its_docstring():
    x = Value(np.random.default_rng(1).standard_normal(1000))
    keep = np.random.default_rng(0).random(1000) >= 0.5  # p = 0.5 by default
    alpha = -SELU_SCALE * SELU_ALPHA
    a = (0.5 + alpha**2 * 0.5 * 0.5) ** -0.5
    b = -a * alpha * 0.5
    expected = np.where(keep, a * x.data + b, a * alpha + b)
    np.testing.assert_allclose(alpha_dropout(x, seed=0).data, expected, rtol=1e-12)
    assert alpha_dropout(x, p=0.0) is x


def test_an_element_is_kept_exactly_when_its_draw_is_at_least_p():
    p = float(np.random.default_rng(0).random())  # the first draw under seed 0
    x = Value(np.ones(1))
    assert dropout(x, p=p, seed=0).item() == pytest.approx(1 / (1 - p))
    alpha = -SELU_SCALE * SELU_ALPHA
    a = ((1 - p) + alpha**2 * (1 - p) * p) ** -0.5
    assert alpha_dropout(x, p=p, seed=0).item() == pytest.approx(a * 1.0 - a * alpha * p)


def test_dropouts_keep_float32():
    x = Value(np.ones((4, 5)), dtype=np.float32)
    assert dropout(x, seed=0).dtype == np.float32
    assert alpha_dropout(x, seed=0).dtype == np.float32


def test_alpha_dropout_p_outside_0_1_names_it():
    with pytest.raises(ValueError, match=r"^alpha_dropout: p .* must be in \[0, 1\); got 1.5"):
        alpha_dropout(Value(1.0), p=1.5)


def test_penalties_of_nothing_or_of_frozen_parameters_need_no_gradient():
    for penalty in (l1_penalty, l2_penalty):
        assert isinstance(penalty([]), Value) and penalty([]).item() == 0.0
        assert not penalty([]).requires_grad
        assert not penalty([Value([1.0, 2.0], requires_grad=False)]).requires_grad

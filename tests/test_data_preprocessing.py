"""Preprocessing: statistics fitted on training data, applied to any data; the lectures'
points about zero-centering, standardization, PCA and whitening."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu.data.preprocessing import PCA, ZCA, Center, Standardize


def images(n=300, seed=0):
    """(n, 3, 4, 4) images whose channels have different means and spreads."""
    rng = np.random.default_rng(seed)
    scale = np.array([2.0, 0.5, 1.0]).reshape(3, 1, 1)
    shift = np.array([5.0, -1.0, 0.3]).reshape(3, 1, 1)
    return rng.standard_normal((n, 3, 4, 4)) * scale + shift


def correlated(n=400, d=5, seed=0):
    """(n, d) features with correlations and a non-zero mean."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + rng.normal(0, 3, d)


def low_rank(n=300, d=8, rank=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, rank)) @ rng.standard_normal((rank, d)) + 2.0


def cov(Z):
    """The covariance of the rows of Z, with 1/N."""
    return np.cov(Z.reshape(len(Z), -1), rowvar=False, bias=True)


# The axes a mode's statistic covers, for (N, C, H, W) images.
AXES = {"feature": 0, "all": None, "channel": (0, 2, 3)}

# ----------------------------------------------------------------------------------------
# Zero-centering and standardization
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["feature", "all", "channel"])
def test_centered_training_data_has_zero_mean_per_mode(mode):
    X = images()
    Z = Center(mode).fit_transform(X)
    assert Z.shape == X.shape
    np.testing.assert_allclose(Z.mean(axis=AXES[mode]), 0, atol=1e-12)


def test_mean_shapes_mean_image_per_channel_and_overall():
    X = images()
    assert Center("feature").fit(X).mean_.shape == (3, 4, 4)  # the mean image (AlexNet)
    channel = Center("channel").fit(X).mean_
    assert channel.shape == (3, 1, 1)  # the mean colour (VGG)
    np.testing.assert_allclose(channel.ravel(), X.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(Center("all").fit(X).mean_, X.mean())


@pytest.mark.parametrize("mode", ["feature", "all", "channel"])
def test_standardized_training_data_has_zero_mean_and_unit_variance(mode):
    X = images()
    s = Standardize(mode).fit(X)
    Z = s.transform(X)
    np.testing.assert_allclose(Z.mean(axis=AXES[mode]), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=AXES[mode]), 1, rtol=1e-12)
    np.testing.assert_allclose(s.inverse_transform(Z), X, atol=1e-12)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       n=st.integers(2, 30), mode=st.sampled_from(["feature", "all", "channel"]),
       seed=st.integers(0, 2**16))
def test_standardize_any_sample_shape(shape, n, mode, seed):
    X = np.random.default_rng(seed).normal(3.0, 2.0, (n, *shape))
    Z = Standardize(mode).fit_transform(X)
    axes = {"feature": 0, "all": None, "channel": (0, *range(2, X.ndim))}[mode]
    np.testing.assert_allclose(Z.mean(axis=axes), 0, atol=1e-10)
    np.testing.assert_allclose(Z.std(axis=axes), 1, rtol=1e-10)


def test_constant_features_are_centred_but_not_scaled():
    X = correlated()
    X[:, 2] = 7.0
    s = Standardize().fit(X)
    assert s.scale_[2] == 1.0
    Z = s.transform(X)
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(Z[:, 2], 0, atol=1e-12)
    np.testing.assert_allclose(np.delete(Z, 2, axis=1).std(axis=0), 1)
    # A constant test feature with another value keeps its offset in training units of 1.
    np.testing.assert_allclose(s.transform(X + [0, 0, 2.5, 0, 0])[:, 2], 2.5)


def test_a_tiny_but_real_spread_is_still_scaled():
    X = np.array([[1.0], [1.0 + 1e-9]])
    np.testing.assert_allclose(Standardize().fit_transform(X).ravel(), [-1, 1])


def test_test_data_are_transformed_with_the_training_statistics():
    X = images()
    shifted = images(seed=1) + 4.0  # a test set drawn 4 units higher
    for mode in AXES:
        Z = Center(mode).fit(X).transform(shifted)
        assert Z.mean() == pytest.approx(4.0, abs=0.05)  # the shift survives
    s = Standardize("channel").fit(X)
    per_channel = s.transform(shifted).mean(axis=(0, 2, 3))
    np.testing.assert_allclose(per_channel, 4.0 / s.scale_.ravel(), atol=0.1)
    assert Standardize("channel").fit_transform(shifted).mean() == pytest.approx(0, abs=1e-12)


def test_dtypes_float32_is_kept_and_integers_become_float64():
    X = images().astype(np.float32)
    assert Center().fit(X).transform(X).dtype == np.float32
    assert PCA(2).fit(X).transform(X).dtype == np.float32
    pixels = np.random.default_rng(0).integers(0, 256, (10, 3, 2, 2), dtype=np.uint8)
    Z = Center("channel").fit_transform(pixels)
    assert Z.dtype == np.float64
    np.testing.assert_allclose(Z.mean(axis=(0, 2, 3)), 0, atol=1e-12)


# ----------------------------------------------------------------------------------------
# PCA
# ----------------------------------------------------------------------------------------


def test_pca_keeps_the_top_variance_directions_in_order():
    X = correlated()
    pca = PCA(3).fit(X)
    S = np.linalg.eigvalsh(cov(X))[::-1]
    np.testing.assert_allclose(pca.explained_variance_, S[:3])
    assert np.all(np.diff(pca.explained_variance_) <= 0)
    np.testing.assert_allclose(pca.explained_variance_ratio_, S[:3] / S.sum())
    Z = pca.transform(X)
    # The coordinates are uncorrelated, with the eigenvalues as their variances.
    np.testing.assert_allclose(cov(Z), np.diag(S[:3]), atol=1e-10)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(3), atol=1e-12)


def test_pca_reconstructs_low_rank_data_and_the_error_is_the_dropped_variance():
    X = low_rank(rank=3)
    full = PCA(3).fit(X)
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X, atol=1e-10)
    assert full.explained_variance_ratio_.sum() == pytest.approx(1.0)
    two = PCA(2).fit(X)
    error = ((two.inverse_transform(two.transform(X)) - X) ** 2).sum(axis=1).mean()
    assert error == pytest.approx(full.explained_variance_[2])


def test_pca_signs_are_fixed_so_results_are_deterministic():
    X = correlated()
    pca = PCA().fit(X)
    peaks = pca.components_[np.arange(5), np.abs(pca.components_).argmax(axis=1)]
    assert np.all(peaks > 0)
    # -X and shuffled rows have the same covariance, hence the same components.
    np.testing.assert_allclose(PCA().fit(-X).components_, pca.components_, atol=1e-12)
    shuffled = X[np.random.default_rng(1).permutation(len(X))]
    np.testing.assert_allclose(PCA().fit(shuffled).components_, pca.components_, atol=1e-12)


def test_pca_flattens_images_and_inverse_restores_their_shape():
    X = images()
    pca = PCA(48).fit(X)
    Z = pca.transform(X)
    assert Z.shape == (300, 48)
    assert pca.components_.shape == (48, 48) and pca.mean_.shape == (48,)
    np.testing.assert_allclose(pca.inverse_transform(Z), X, atol=1e-10)


def test_pca_whitened_training_data_has_identity_covariance():
    X = correlated()
    pca = PCA(3, whiten=True).fit(X)
    Z = pca.transform(X)
    S = pca.explained_variance_
    np.testing.assert_allclose(cov(Z), np.diag(S / (S + pca.eps)), atol=1e-12)
    assert np.abs(cov(Z) - np.eye(3)).max() <= pca.eps / S.min()  # identity up to eps
    np.testing.assert_allclose(pca.inverse_transform(Z), PCA(3).fit(X).inverse_transform(
        PCA(3).fit(X).transform(X)), atol=1e-10)


def test_whitening_zero_variance_directions_stays_finite():
    X = low_rank(rank=2)
    Z = PCA(4, whiten=True).fit_transform(X)
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(cov(Z)[:2, :2], np.eye(2), atol=1e-4)


def test_pca_of_constant_data_explains_nothing():
    pca = PCA(2).fit(np.ones((5, 3)))
    np.testing.assert_array_equal(pca.explained_variance_ratio_, [0.0, 0.0])


# ----------------------------------------------------------------------------------------
# ZCA
# ----------------------------------------------------------------------------------------


def test_zca_whitened_training_data_has_identity_covariance():
    X = correlated()
    zca = ZCA().fit(X)
    Z = zca.transform(X)
    S = zca.explained_variance_
    U = zca.components_.T
    np.testing.assert_allclose(cov(Z), (U * (S / (S + zca.eps))) @ U.T, atol=1e-12)
    assert np.abs(cov(Z) - np.eye(5)).max() <= zca.eps / S.min()  # identity up to eps
    np.testing.assert_allclose(zca.W_, zca.W_.T, atol=1e-12)
    np.testing.assert_allclose(zca.inverse_transform(Z), X, atol=1e-10)


def test_zca_is_pca_whitening_rotated_back():
    X = correlated()
    pca = PCA(whiten=True).fit(X)
    np.testing.assert_allclose(ZCA().fit(X).transform(X), pca.transform(X) @ pca.components_,
                               atol=1e-10)


def test_zca_keeps_the_image_shape():
    X = images()
    zca = ZCA(eps=1e-3).fit(X)
    Z = zca.transform(X)
    assert Z.shape == X.shape and zca.W_.shape == (48, 48)
    assert np.abs(cov(Z) - np.eye(48)).max() <= zca.eps / zca.explained_variance_.min()
    np.testing.assert_allclose(zca.inverse_transform(Z), X, atol=1e-10)


# ----------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------

ALL = [Center, Standardize, PCA, ZCA]


@pytest.mark.parametrize("cls", ALL)
def test_transform_before_fit_is_an_error_naming_the_class(cls):
    for method in (cls().transform, cls().inverse_transform):
        with pytest.raises(RuntimeError, match=rf"{cls.__name__}: not fitted; call fit\(X\)"):
            method(np.zeros((2, 3)))


@pytest.mark.parametrize("cls", ALL)
def test_feature_count_mismatch_names_the_class_and_shapes(cls):
    fitted = cls().fit(correlated())
    with pytest.raises(ValueError, match=rf"{cls.__name__}: fitted on samples of shape \(5,\), "
                                         rf"so X must have shape \(N, 5\); got X of shape "
                                         rf"\(3, 4\)"):
        fitted.transform(np.zeros((3, 4)))


def test_inverse_transform_checks_the_transformed_shape():
    pca = PCA(2).fit(correlated())
    with pytest.raises(ValueError, match=r"PCA: .* so Z must have shape \(N, 2\); got Z of "
                                         r"shape \(3, 5\)"):
        pca.inverse_transform(np.zeros((3, 5)))


@pytest.mark.parametrize("cls", ALL)
def test_bad_training_data_is_an_error(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: X must have one sample per row"):
        cls().fit(np.zeros(4))
    with pytest.raises(ValueError, match=rf"{cls.__name__}: fit needs at least one sample"):
        cls().fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=rf"{cls.__name__}: fit got non-finite values"):
        cls().fit(np.array([[1.0, np.nan], [2.0, 3.0]]))


def test_bad_arguments_are_clear_errors():
    for cls in (Center, Standardize):
        with pytest.raises(ValueError, match=f"{cls.__name__}: mode must be 'feature', 'all' "
                                             f"or 'channel'; got 'pixel'"):
            cls("pixel")
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="PCA: n_components must be an int >= 1 or None"):
            PCA(bad)
    for bad in (0, -1e-5, "1e-5", True):
        with pytest.raises(ValueError, match="ZCA: eps must be > 0"):
            ZCA(eps=bad)
    with pytest.raises(ValueError, match=r"PCA: n_components=6 is more than the 5 features "
                                         r"of samples of shape \(5,\)"):
        PCA(6).fit(correlated())
    for cls in (PCA, ZCA):
        with pytest.raises(ValueError, match=f"{cls.__name__}: eps must be > 0"):
            cls(eps=0)

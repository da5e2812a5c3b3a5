"""Toy datasets: shapes, labels, balance, geometry, seeds; the digits; error messages."""

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.data.datasets import blobs, circles, load_digits, moons, spiral, xor


def _spiral(n, **kwargs):
    return spiral(n_per_class=n, **kwargs)


# Every toy dataset as a function of its size first, so one test can check them all.
TWO_CLASS = [moons, circles, xor]
ALL = [_spiral, moons, circles, blobs, xor]


def _check_common(X, y, n, n_classes, dim=2):
    assert X.shape == (n, dim) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.all(np.diff(y) >= 0), "samples come sorted by class"
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes
    assert counts.max() - counts.min() <= 1


# ---------------------------------------------------------------------------------------
# shapes, labels and balance
# ---------------------------------------------------------------------------------------


@given(n=st.integers(2, 300), dataset=st.sampled_from(TWO_CLASS))
def test_two_class_datasets_shape_labels_and_balance(n, dataset):
    X, y = dataset(n, seed=0)
    _check_common(X, y, n, 2)
    assert np.count_nonzero(y == 0) == (n + 1) // 2


@given(n_per_class=st.integers(1, 60), n_classes=st.integers(1, 6))
def test_spiral_shape_labels_and_balance(n_per_class, n_classes):
    X, y = spiral(n_per_class, n_classes, seed=0)
    _check_common(X, y, n_per_class * n_classes, n_classes)
    assert np.all(np.bincount(y) == n_per_class)


@given(n=st.integers(1, 300), k=st.integers(1, 8))
def test_blobs_with_a_number_of_centers(n, k):
    X, y = blobs(n, centers=k, seed=0)
    _check_common(X, y, n, k)
    assert list(np.bincount(y, minlength=k)) == sorted(np.bincount(y, minlength=k),
                                                       reverse=True)


def test_default_sizes():
    assert spiral(seed=0)[0].shape == (300, 2)
    for dataset in (moons, circles, blobs, xor):
        assert dataset(seed=0)[0].shape == (200, 2)


# ---------------------------------------------------------------------------------------
# geometry
# ---------------------------------------------------------------------------------------


def test_spiral_radius_is_linspace_and_noise_only_turns_points():
    X, y = spiral(n_per_class=50, n_classes=4, noise=0.7, seed=1)
    for k in range(4):
        arm = X[y == k]
        np.testing.assert_allclose(np.hypot(arm[:, 0], arm[:, 1]), np.linspace(0, 1, 50),
                                   atol=1e-12)


def test_spiral_without_noise_follows_the_cs231n_formula():
    X, _ = spiral(n_per_class=20, n_classes=3, noise=0.0, seed=0)
    r = np.linspace(0, 1, 20)
    for k in range(3):
        t = np.linspace(4 * k, 4 * (k + 1), 20)
        np.testing.assert_allclose(X[20 * k:20 * (k + 1)], np.c_[r * np.sin(t), r * np.cos(t)],
                                   atol=1e-12)


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = moons(101, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(*(lower - [1.0, 0.5]).T), 1.0)
    assert np.all(upper[:, 1] >= -1e-12) and np.all(lower[:, 1] <= 0.5 + 1e-12)


@pytest.mark.parametrize("factor", [0.0, 0.3, 0.8])
def test_circles_without_noise_have_radius_one_and_factor(factor):
    X, y = circles(60, noise=0.0, factor=factor)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), factor, atol=1e-12)


def test_xor_without_noise_sits_on_the_corners_labelled_by_sign():
    X, y = xor(203, noise=0.0)
    assert set(map(tuple, X)) == {(-1.0, -1.0), (1.0, 1.0), (-1.0, 1.0), (1.0, -1.0)}
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    assert np.bincount(y).tolist() == [102, 101]
    # Each class is shared evenly between its two corners.
    for label in (0, 1):
        _, per_corner = np.unique(X[y == label], axis=0, return_counts=True)
        assert per_corner.max() - per_corner.min() <= 1


def test_noise_is_the_standard_deviation_around_the_clean_points():
    for dataset in (moons, circles, xor):
        clean, _ = dataset(20000, noise=0.0)
        noisy, _ = dataset(20000, noise=0.3, seed=0)
        assert abs(np.std(noisy - clean) - 0.3) < 0.01


def test_blobs_at_given_centers_in_any_dimension():
    centers = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]])
    X, y = blobs(1000, centers=centers, std=0.5, seed=0)
    _check_common(X, y, 1000, 2, dim=3)
    for label, center in enumerate(centers):
        np.testing.assert_allclose(X[y == label].mean(axis=0), center, atol=0.1)
        np.testing.assert_allclose(X[y == label].std(axis=0), 0.5, atol=0.05)
    X, _ = blobs(4, centers=[[1.0, 2.0]], std=0.0)
    np.testing.assert_array_equal(X, [[1.0, 2.0]] * 4)


def test_blobs_drawn_centers_lie_in_the_box():
    X, _ = blobs(300, centers=30, std=0.0, seed=3)
    assert np.all(np.abs(X) <= 10.0)
    assert len(np.unique(X, axis=0)) == 30


# ---------------------------------------------------------------------------------------
# seeds
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ALL, ids=lambda d: d.__name__)
def test_same_seed_same_data_other_seed_other_data(dataset):
    X1, y1 = dataset(50, seed=7)
    X2, y2 = dataset(50, seed=7)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, dataset(50, seed=8)[0])


@pytest.mark.parametrize("dataset", ALL, ids=lambda d: d.__name__)
def test_a_generator_is_drawn_from_and_manual_seed_controls_the_default(dataset):
    g = np.random.default_rng(5)
    first, second = dataset(30, seed=g)[0], dataset(30, seed=g)[0]
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, dataset(30, seed=np.random.default_rng(5))[0])
    tg.manual_seed(11)
    a = dataset(30)[0]
    tg.manual_seed(11)
    np.testing.assert_array_equal(a, dataset(30)[0])


# ---------------------------------------------------------------------------------------
# the digits (scikit-learn is installed by the test setup: its absence is an error)
# ---------------------------------------------------------------------------------------


def test_load_digits_shapes_range_and_labels():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.unique(X * 16), np.arange(17))
    np.testing.assert_array_equal(np.unique(y), np.arange(10))


def test_load_digits_without_scikit_learn_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install tinygrad_edu\[digits\]"):
        load_digits()


# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, message", [
    (lambda: spiral(n_per_class=0), r"spiral: n_per_class must be an int >= 1; got 0"),
    (lambda: spiral(noise=-0.1), r"spiral: noise must be a finite number >= 0; got -0.1"),
    (lambda: moons(noise=float("nan")), r"moons: noise must be a finite number >= 0; got nan"),
    (lambda: circles(factor=1.0), r"circles: factor \(the inner radius\) must be in "
                                  r"\[0, 1\); got 1.0"),
    (lambda: circles(factor=-0.5), r"circles: factor must be a finite number >= 0"),
    (lambda: circles(noise="0.1"), r"circles: noise must be a finite number >= 0; got '0.1'"),
    (lambda: blobs(centers=0), r"blobs: centers must be an int >= 1; got 0"),
    (lambda: blobs(centers=[1.0, 2.0]), r"blobs: centers must be an int >= 1 or an array of "
                                        r"shape \(k, d\) with k, d >= 1; got an array of "
                                        r"shape \(2,\)"),
    (lambda: blobs(centers=np.zeros((0, 2))), r"got an array of shape \(0, 2\)"),
    (lambda: blobs(std=np.inf), r"blobs: std must be a finite number >= 0; got inf"),
    (lambda: xor(n=-3), r"xor: n must be an int >= 1; got -3"),
])
def test_bad_arguments_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: spiral(n_classes=2.0), r"spiral: n_classes must be an int >= 1; got 2.0 \(a float\)"),
    (lambda: moons(n=True), r"moons: n must be an int >= 1; got True \(a bool\)"),
    (lambda: blobs(n="10"), r"blobs: n must be an int >= 1; got '10' \(a str\)"),
])
def test_a_count_that_is_not_an_int_is_a_type_error(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_bad_seed_is_the_rng_error():
    with pytest.raises(ValueError, match="seed must be None, an int >= 0"):
        moons(seed=-1)

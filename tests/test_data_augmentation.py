"""Augmentation: per-image random transforms of a batch, seeded, and mixup's soft targets."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Value
from tinygrad_edu.data.augmentation import (
    ColorJitter,
    Compose,
    Cutout,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    mixup,
)
from tinygrad_edu.functional import cross_entropy, log_softmax


def batch(n=8, c=3, h=6, w=7, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(dtype)


def same_shape_transforms(seed=None):
    """One of each transform, configured to keep 6 x 7 images' shape."""
    return [RandomHorizontalFlip(seed=seed), RandomCrop((6, 7), padding=2, seed=seed),
            RandomResizedCrop((6, 7), seed=seed), ColorJitter(0.4, 0.4, seed=seed),
            Cutout(3, seed=seed),
            RandomAffine(10, (0.1, 0.1), (0.9, 1.1), 5, "bilinear", seed=seed)]


# ----------------------------------------------------------------------------------------
# Shared behaviour: shapes, dtypes, seeds
# ----------------------------------------------------------------------------------------


@given(n=st.integers(1, 5), c=st.integers(1, 4), h=st.integers(3, 9), w=st.integers(3, 9),
       channels=st.booleans())
def test_shapes_and_dtype_are_kept_and_the_input_is_untouched(n, c, h, w, channels):
    X = batch(n, c, h, w, dtype=np.float32)
    if not channels:
        X = X[:, 0]  # (N, H, W) images come back as (N, H, W)
    before = X.copy()
    for t in [RandomHorizontalFlip(seed=0), RandomCrop((h, w), padding=1, seed=0),
              RandomResizedCrop((h, w), seed=0), ColorJitter(0.5, 0.5, seed=0),
              Cutout(3, seed=0), Compose([RandomHorizontalFlip(seed=0), Cutout(2, seed=0)])]:
        out = t(X)
        assert out.shape == X.shape and out.dtype == np.float32, t
    np.testing.assert_array_equal(X, before)


def test_a_seed_makes_a_transform_reproducible_and_calls_continue_its_stream():
    X = batch(32)
    for a, b in zip(same_shape_transforms(seed=5), same_shape_transforms(seed=5)):
        first = a(X)
        np.testing.assert_array_equal(first, b(X))
        assert not np.array_equal(first, a(X)), a  # the second call draws anew


def test_without_a_seed_the_default_generator_is_used_at_call_time():
    X = batch(32)
    flip = RandomHorizontalFlip()
    tg.manual_seed(3)
    first = flip(X)
    tg.manual_seed(3)
    np.testing.assert_array_equal(first, flip(X))


def test_each_image_gets_its_own_draw():
    X = np.repeat(batch(1), 64, axis=0)  # 64 copies of one image
    for t in same_shape_transforms(seed=0):
        out = t(X)
        assert len(np.unique(out.reshape(64, -1), axis=0)) > 1, t


def test_images_must_be_a_float_batch():
    flip = RandomHorizontalFlip()
    with pytest.raises(TypeError, match=r"RandomHorizontalFlip: images must be a float array; "
                                        r"got dtype uint8 \(convert 8-bit pixels"):
        flip(np.zeros((2, 3, 4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"RandomHorizontalFlip: images must have shape "
                                         r"\(N, C, H, W\) or \(N, H, W\); got shape \(4, 4\)"):
        flip(np.zeros((4, 4)))


# ----------------------------------------------------------------------------------------
# RandomHorizontalFlip
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_flip_mirrors_the_right_fraction_of_images(p):
    X = batch(2000, 1, 2, 3)
    out = RandomHorizontalFlip(p, seed=0)(X)
    flipped = np.all(out == X[..., ::-1], axis=(1, 2, 3))
    kept = np.all(out == X, axis=(1, 2, 3))
    assert np.all(flipped != kept)  # every image is either itself or its mirror image
    assert flipped.mean() == pytest.approx(p, abs=0.03)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_flip_probability_outside_0_1_is_an_error(p):
    with pytest.raises(ValueError, match=r"RandomHorizontalFlip: p \(the probability of a "
                                         r"flip\) must be in \[0, 1\]"):
        RandomHorizontalFlip(p)


# ----------------------------------------------------------------------------------------
# RandomCrop
# ----------------------------------------------------------------------------------------


def windows(padded, h, w):
    """Every h x w window of one padded (C, H, W) image, by its (top, left)."""
    H, W = padded.shape[1:]
    return {(i, j): padded[:, i:i + h, j:j + w] for i in range(H - h + 1)
            for j in range(W - w + 1)}


def test_crop_is_a_shifted_window_of_the_zero_padded_image():
    X = batch(300, 2, 5, 5) + 1.0  # no zeros in the images, so the padding shows
    out = RandomCrop(5, padding=2, seed=0)(X)
    offsets = []
    for image, crop in zip(X, out):
        padded = np.pad(image, ((0, 0), (2, 2), (2, 2)))
        offsets += [at for at, window in windows(padded, 5, 5).items()
                    if np.array_equal(window, crop)]
    assert len(offsets) == len(X)  # exactly one window matches each crop
    assert set(offsets) == {(i, j) for i in range(5) for j in range(5)}  # every shift occurs


def test_crop_to_a_smaller_size_and_identity_cases():
    X = batch()
    out = RandomCrop((3, 4), seed=1)(X)
    assert out.shape == (8, 3, 3, 4)
    for image, crop in zip(X, out):
        assert any(np.array_equal(w, crop) for w in windows(image, 3, 4).values())
    np.testing.assert_array_equal(RandomCrop((6, 7))(X), X)


def test_crop_arguments_are_checked():
    with pytest.raises(ValueError, match=r"RandomCrop: padding must be an int >= 0; got -1"):
        RandomCrop(4, padding=-1)
    with pytest.raises(TypeError, match=r"RandomCrop: padding must be an int >= 0; got 1.5 "
                                        r"\(a float\)"):
        RandomCrop(4, padding=1.5)
    with pytest.raises(ValueError, match=r"RandomCrop: size \(an int or a pair \(h, w\)\) must "
                                         r"be an int >= 1; got 0"):
        RandomCrop(0)
    with pytest.raises(ValueError, match=r"RandomCrop: crop size \(9, 9\) is larger than the "
                                         r"padded images, \(8, 9\) \(padding 1\)"):
        RandomCrop(9, padding=1)(batch())


# ----------------------------------------------------------------------------------------
# RandomResizedCrop
# ----------------------------------------------------------------------------------------


def test_resized_crop_has_the_requested_size():
    X = batch()
    for size, shape in [(4, (4, 4)), ((5, 9), (5, 9)), (12, (12, 12))]:
        assert RandomResizedCrop(size, seed=0)(X).shape == (8, 3, *shape)


def test_a_box_of_the_output_size_is_an_exact_crop():
    # A quarter of a 16 x 16 image with ratio 1 is an 8 x 8 box: resizing it to 8 x 8
    # changes nothing, so each output is one of the image's windows.
    X = batch(50, 1, 16, 16)
    out = RandomResizedCrop(8, scale=(0.25, 0.25), ratio=(1, 1), seed=0)(X)
    for image, crop in zip(X, out):
        assert any(np.allclose(w, crop, atol=1e-12) for w in windows(image, 8, 8).values())


def test_resize_is_bilinear_with_half_pixel_centres():
    # The whole 2 x 4 image (scale 1, its own ratio 2) resized to 2 x 8: each output pixel
    # centre maps to (j + 1/2) / 2 - 1/2 in the input, clamped to [0, 3].
    row = np.array([0.0, 1.0, 2.0, 5.0])
    X = np.tile(row, (1, 1, 2, 1))
    out = RandomResizedCrop((2, 8), scale=(1, 1), ratio=(2, 2), seed=0)(X)
    pos = np.clip((np.arange(8) + 0.5) / 2 - 0.5, 0, 3)
    np.testing.assert_allclose(out[0, 0, 0], np.interp(pos, np.arange(4), row))
    np.testing.assert_allclose(out[0, 0, 1], out[0, 0, 0])


def test_when_no_box_fits_the_central_box_of_the_nearest_ratio_is_used():
    # Ratio 4 (width 4 x height) of a whole 8 x 8 image never fits: the fallback is the
    # central 2 x 8 box (rows 3 and 4).
    X = batch(3, 2, 8, 8)
    out = RandomResizedCrop((2, 8), scale=(1, 1), ratio=(4, 4), seed=0)(X)
    np.testing.assert_allclose(out, X[:, :, 3:5], atol=1e-12)


def test_resized_crop_stays_within_the_values_of_the_image():
    X = batch(20)
    out = RandomResizedCrop(10, seed=0)(X)
    assert out.min() >= X.min() and out.max() <= X.max()
    np.testing.assert_allclose(RandomResizedCrop(5, seed=0)(np.full((4, 3, 6, 7), 0.7)), 0.7)


@pytest.mark.parametrize("kwargs, match", [
    ({"scale": (0.5, 0.2)}, r"scale must satisfy 0 < min <= max <= 1; got \(0.5, 0.2\)"),
    ({"scale": (0.0, 1.0)}, r"scale must satisfy 0 < min <= max <= 1"),
    ({"scale": (0.5, 1.5)}, r"scale must satisfy 0 < min <= max <= 1"),
    ({"ratio": (2.0, 1.0)}, r"ratio must satisfy 0 < min <= max; got \(2.0, 1.0\)"),
    ({"ratio": 1.0}, r"ratio must be a pair \(min, max\) of numbers; got 1.0"),
    ({"size": (4, 0)}, r"size\[1\] must be an int >= 1; got 0"),
])
def test_resized_crop_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match="RandomResizedCrop: " + match):
        RandomResizedCrop(**{"size": 4, **kwargs})


# ----------------------------------------------------------------------------------------
# ColorJitter
# ----------------------------------------------------------------------------------------


def test_brightness_factors_lie_in_their_range_and_fill_it():
    out = ColorJitter(brightness=0.4, seed=0)(np.ones((500, 3, 2, 2)))
    factors = out[:, 0, 0, 0]
    np.testing.assert_allclose(out, factors.reshape(-1, 1, 1, 1) * np.ones((1, 3, 2, 2)))
    assert factors.min() >= 0.6 and factors.max() <= 1.4
    assert factors.min() < 0.62 and factors.max() > 1.38
    factors = ColorJitter(brightness=(0.2, 0.3), seed=0)(np.ones((50, 1, 1, 1))).ravel()
    assert factors.min() >= 0.2 and factors.max() <= 0.3


def test_contrast_blends_with_the_mean_gray_level():
    X = batch(500, 3, 4, 4)
    gray = (X.mean(axis=(2, 3)) @ [0.2989, 0.587, 0.114]).reshape(-1, 1, 1, 1)
    out = ColorJitter(contrast=0.5, seed=0)(X)
    factors = ((out - gray) / (X - gray)).reshape(500, -1)
    np.testing.assert_allclose(factors, factors[:, :1] * np.ones((1, 48)))  # one per image
    assert factors.min() >= 0.5 and factors.max() <= 1.5
    assert factors.min() < 0.52 and factors.max() > 1.48
    # Contrast 0 leaves only the mean gray; for other channel counts, the channels' mean.
    np.testing.assert_allclose(ColorJitter(contrast=(0, 0))(X), gray * np.ones((1, 3, 4, 4)))
    Y = batch(5, 2, 3, 3)
    np.testing.assert_allclose(ColorJitter(contrast=(0, 0))(Y),
                               Y.mean(axis=(1, 2, 3), keepdims=True) * np.ones((1, 2, 3, 3)))


def test_jitter_of_zero_is_the_identity_and_values_are_not_clamped():
    X = batch() - 0.5  # negative values, as in mean-subtracted images
    np.testing.assert_allclose(ColorJitter()(X), X)
    out = ColorJitter(brightness=(3, 3))(X)
    np.testing.assert_allclose(out, 3 * X)


@pytest.mark.parametrize("kwargs, match", [
    ({"brightness": -0.1}, r"brightness must be >= 0 or a pair \(min, max\); got -0.1"),
    ({"contrast": (1.5, 0.5)}, r"contrast as a pair must be \(min, max\) with "
                               r"0 <= min <= max; got \(1.5, 0.5\)"),
])
def test_jitter_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match="ColorJitter: " + match):
        ColorJitter(**kwargs)


# ----------------------------------------------------------------------------------------
# Cutout
# ----------------------------------------------------------------------------------------


def test_cutout_zeroes_one_square_per_image_clipped_at_the_borders():
    X = np.ones((400, 2, 8, 9))
    out = Cutout(3, seed=0)(X)
    holes = out[:, 0] == 0
    np.testing.assert_array_equal(out[:, 1] == 0, holes)  # the same hole in every channel
    rows, cols = holes.any(axis=2), holes.any(axis=1)
    # The hole is the rectangle rows x cols, contiguous, at most 3 x 3.
    np.testing.assert_array_equal(holes, rows[:, :, None] & cols[:, None, :])
    for r, c in zip(rows, cols):
        for line in (r, c):
            assert 1 <= line.sum() <= 3
            assert np.all(np.diff(np.flatnonzero(line)) == 1)
        inside = not (r[0] or r[-1] or c[0] or c[-1])
        assert not inside or r.sum() == c.sum() == 3  # a hole off the borders is 3 x 3
    sizes = holes.sum(axis=(1, 2))
    assert (sizes == 9).mean() > 0.4 and (sizes < 9).any()  # whole squares and clipped ones
    np.testing.assert_array_equal(out[~np.repeat(holes[:, None], 2, axis=1)], 1.0)


def test_cutout_arguments_are_checked():
    with pytest.raises(ValueError, match="Cutout: size must be an int >= 1; got 0"):
        Cutout(0)
    with pytest.raises(ValueError, match=r"Cutout: size 7 is larger than the images, \(6, 7\)"):
        Cutout(7)(batch())


# ----------------------------------------------------------------------------------------
# RandomAffine
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_affine_with_nothing_to_draw_is_the_identity(interpolation):
    X = batch()
    np.testing.assert_array_equal(RandomAffine(0, interpolation=interpolation)(X), X)


def test_affine_rotation_turns_counter_clockwise_as_rot90():
    X = batch(h=7, w=7)
    np.testing.assert_array_equal(RandomAffine((90, 90))(X), np.rot90(X, 1, axes=(2, 3)))
    np.testing.assert_array_equal(RandomAffine((-90, -90))(X), np.rot90(X, -1, axes=(2, 3)))


def test_affine_horizontal_shear_moves_each_row_by_its_height_below_the_centre():
    line = np.zeros((1, 9, 9))
    line[0, :, 4] = 1  # a vertical line through the centre
    np.testing.assert_array_equal(RandomAffine(0, shear=(45, 45))(line)[0], np.eye(9))
    np.testing.assert_array_equal(RandomAffine(0, shear=(0, 0, 45, 45))(line.transpose(0, 2, 1))[0],
                                  np.eye(9))


def test_affine_shifts_are_whole_pixels_within_the_fraction_with_nearest_pixels():
    X = batch(n=200, c=1, h=8, w=8)
    out = RandomAffine(0, translate=(0.25, 0), seed=0)(X)
    padded = np.pad(X, ((0, 0), (0, 0), (0, 0), (2, 2)))
    shifted = [padded[..., 2 - s:10 - s] for s in range(-2, 3)]  # right by s pixels
    matches = np.array([[np.array_equal(o, s[i]) for s in shifted] for i, o in enumerate(out)])
    assert matches.sum(axis=1).tolist() == [1] * 200  # each image is one of those shifts
    assert matches.any(axis=0).all()  # and every shift from -2 to 2 occurs


def test_affine_bilinear_reproduces_a_linear_ramp_where_it_reads_inside_the_image():
    ramp = np.broadcast_to(np.arange(9.0)[:, None], (1, 1, 9, 9))  # pixel value = its row
    angle = np.deg2rad(20)
    out = RandomAffine((20, 20), interpolation="bilinear")(ramp)[0, 0]
    r, c = np.mgrid[0:9, 0:9] - 4.0
    source_row = 4 + np.sin(angle) * c + np.cos(angle) * r  # the inverse rotation's row
    source_col = 4 + np.cos(angle) * c - np.sin(angle) * r
    inside = (source_row >= 0) & (source_row <= 8) & (source_col >= 0) & (source_col <= 8)
    np.testing.assert_allclose(out[inside], source_row[inside], atol=1e-12)
    far = (source_row <= -1) | (source_row >= 9) | (source_col <= -1) | (source_col >= 9)
    assert inside.sum() > 40 and far.sum() == 4 and (out[far] == 0).all()  # the corners: 0


def test_affine_zoom_out_leaves_a_zero_border_and_zoom_in_fills_the_image():
    ones = np.ones((4, 1, 8, 8))
    small = RandomAffine(0, scale=(0.5, 0.5))(ones)
    assert (small[:, 0, [0, -1]] == 0).all() and (small[:, 0, 3:5, 3:5] == 1).all()
    assert (RandomAffine(0, scale=(2, 2))(ones) == 1).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"degrees": -1}, r"RandomAffine: degrees must be a number >= 0 .* got -1"),
    ({"degrees": (5, -5)}, r"degrees as a pair must be \(min, max\) .* got \(5, -5\)"),
    ({"translate": (0.5, 2)}, r"translate must be None or a pair \(a, b\) .* got \(0.5, 2\)"),
    ({"translate": 0.1}, r"translate must be None or a pair .* got 0.1"),
    ({"scale": (0, 1)}, r"RandomAffine: scale must satisfy 0 < min <= max; got \(0, 1\)"),
    ({"shear": (1, 2, 3)}, r"shear as a pair must be \(min, max\) .* got \(1, 2, 3\)"),
    ({"shear": (0, 0, 5, 1)}, r"shear\[2:\] as a pair must be \(min, max\) .* got \(5, 1\)"),
    ({"interpolation": "cubic"}, r"interpolation must be 'nearest' or 'bilinear'; got 'cubic'"),
])
def test_affine_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomAffine(**{"degrees": 0, **kwargs})


# ----------------------------------------------------------------------------------------
# Compose
# ----------------------------------------------------------------------------------------


def test_compose_applies_the_transforms_in_order():
    X = batch()
    out = Compose([RandomCrop(6, padding=1, seed=0), Cutout(2, seed=1)])(X)
    np.testing.assert_array_equal(out, Cutout(2, seed=1)(RandomCrop(6, padding=1, seed=0)(X)))
    np.testing.assert_array_equal(Compose([])(X), X)
    with pytest.raises(TypeError, match="Compose: transforms\\[1\\] is not callable; got 3"):
        Compose([RandomHorizontalFlip(), 3])


# ----------------------------------------------------------------------------------------
# mixup
# ----------------------------------------------------------------------------------------


def test_mixup_mixes_inputs_and_labels_with_the_same_lambda():
    # Sample i is the unit vector e_i with label i, so a mixed sample and its soft target
    # are the same vector exactly when one lambda mixes both.
    n = 50
    mixed, q = mixup(np.eye(n), np.arange(n), alpha=1.0, seed=0)
    assert mixed.shape == q.shape == (n, n)
    np.testing.assert_allclose(mixed, q)
    np.testing.assert_allclose(q.sum(axis=1), 1)
    assert np.all(q >= 0) and (q.max(axis=1) < 0.9).any()


def test_mixup_lambda_follows_the_beta_distribution():
    n, alpha = 6000, 0.2
    y = np.arange(n) % 2
    _, q = mixup(np.zeros((n, 1)), y, alpha=alpha, seed=0)
    # Paired with the other class, a sample keeps lambda of its own class.
    lam = q[np.arange(n), y][q[np.arange(n), 1 - y] > 0]
    assert lam.mean() == pytest.approx(0.5, abs=0.03)
    assert lam.var() == pytest.approx(1 / (4 * (2 * alpha + 1)), abs=0.02)


def test_mixup_targets_work_with_cross_entropy():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 3, 4, 4)), rng.integers(0, 10, 16)
    mixed, q = mixup(X, y, num_classes=10, seed=0)
    assert mixed.shape == X.shape and q.shape == (16, 10)
    np.testing.assert_allclose(q.sum(axis=1), 1)
    logits = Value(rng.standard_normal((16, 10)))
    loss = cross_entropy(logits, q)
    expected = -(log_softmax(Value(logits.data), axis=1).data * q).sum(axis=1).mean()
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    np.testing.assert_allclose(logits.grad.sum(axis=1), 0, atol=1e-12)  # softmax - q rows


def test_mixup_accepts_probabilities_and_is_seeded():
    X, y = batch(6), np.array([0, 1, 2, 0, 1, 2])
    a = mixup(X, y, seed=3)
    b = mixup(X, y, seed=3)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    again = mixup(*a, seed=4)  # mixing soft targets keeps them probabilities
    np.testing.assert_allclose(again[1].sum(axis=1), 1)
    assert mixup(X.astype(np.float32), y, seed=0)[1].dtype == np.float32


def test_mixup_arguments_are_checked():
    X, y = batch(4), np.array([0, 1, 2, 1])
    for alpha in (0, -1, float("inf")):
        with pytest.raises(ValueError, match=f"mixup: alpha must be > 0 .*; got {alpha}"):
            mixup(X, y, alpha=alpha)
    with pytest.raises(ValueError, match=r"mixup: class labels must be in \[0, 2\); got \[2\]"):
        mixup(X, y, num_classes=2)
    with pytest.raises(ValueError, match=r"mixup: y must hold one class label \(shape \(4,\)\)"):
        mixup(X, y[:3])
    with pytest.raises(TypeError, match="mixup: class labels must be integers; got dtype"):
        mixup(X, y.astype(float))
    with pytest.raises(ValueError, match="mixup: num_classes=3, but y holds probabilities of "
                                         "4 classes"):
        mixup(X, np.eye(4), num_classes=3)
    with pytest.raises(ValueError, match="mixup: num_classes must be an int >= 1; got 0"):
        mixup(X, y, num_classes=0)
    with pytest.raises(TypeError, match="mixup: X must be a float array; got dtype int64"):
        mixup(np.zeros((4, 2), dtype=np.int64), y)
    with pytest.raises(ValueError, match=r"mixup: X must have shape \(N, ...\), one sample per "
                                         r"row; got a 0-d array"):
        mixup(np.array(1.0), y)


@pytest.mark.parametrize("make, message", [
    (lambda: RandomHorizontalFlip(p="0.5"), r"RandomHorizontalFlip: p \(the probability of a "
                                            r"flip\) must be in \[0, 1\]; got 0.5"),
    (lambda: RandomHorizontalFlip(p=True), r"RandomHorizontalFlip: p \(the probability of a "
                                           r"flip\) must be in \[0, 1\]; got True"),
    (lambda: ColorJitter(brightness="0.4"), r"ColorJitter: brightness must be >= 0 or a pair "
                                            r"\(min, max\); got '0.4'"),
    (lambda: mixup(np.zeros((2, 3)), np.array([0, 1]), alpha="1"),
     "mixup: alpha must be > 0 \\(and finite\\); got 1"),
])
def test_a_number_given_as_a_string_or_bool_is_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()

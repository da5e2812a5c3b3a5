"""DataLoader batching and shuffling; train/val/test splits; error messages."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.data.loader import DataLoader, train_test_split, train_val_test_split


def _data(n):
    """X whose first column is the sample's index, and y = index % 3."""
    X = np.stack([np.arange(n), -np.arange(n)], axis=1).astype(np.float64)
    return X, np.arange(n) % 3


def _epoch(loader):
    """The sample indices of one epoch, batch by batch."""
    return [X_batch[:, 0].astype(int).tolist() for X_batch, _ in loader]


# ---------------------------------------------------------------------------------------
# batching
# ---------------------------------------------------------------------------------------


@given(n=st.integers(0, 70), batch_size=st.integers(1, 20), shuffle=st.booleans(),
       drop_last=st.booleans())
def test_an_epoch_covers_every_sample_once_in_full_batches(n, batch_size, shuffle,
                                                            drop_last):
    X, y = _data(n)
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                        seed=0)
    batches = list(loader)
    assert len(batches) == len(loader)
    sizes = [len(X_batch) for X_batch, _ in batches]
    full, rest = divmod(n, batch_size)
    assert sizes == [batch_size] * full + ([rest] if rest and not drop_last else [])
    seen = np.concatenate([X_batch[:, 0] for X_batch, _ in batches] + [np.zeros(0)])
    if drop_last:
        assert len(np.unique(seen)) == len(seen) == full * batch_size
    else:
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))
    for X_batch, y_batch in batches:  # rows and labels stay together
        np.testing.assert_array_equal(X_batch[:, 0].astype(int) % 3, y_batch)
        np.testing.assert_array_equal(X_batch[:, 1], -X_batch[:, 0])


def test_no_shuffle_keeps_order_with_a_last_partial_batch():
    loader = DataLoader(*_data(10), batch_size=4)
    assert len(loader) == 3
    assert _epoch(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert _epoch(loader) == _epoch(loader)


def test_drop_last_skips_the_partial_batch():
    loader = DataLoader(*_data(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert _epoch(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(*_data(3), batch_size=4, drop_last=True)) == 0


def test_without_y_batches_are_arrays():
    X, _ = _data(5)
    batches = list(DataLoader(X, batch_size=2))
    assert all(isinstance(b, np.ndarray) for b in batches)
    np.testing.assert_array_equal(np.concatenate(batches), X)


def test_batches_are_copies():
    X, y = _data(6)
    for X_batch, y_batch in DataLoader(X, y, batch_size=3):
        X_batch[:] = 99.0
        y_batch[:] = 99
    X_original, y_original = _data(6)
    np.testing.assert_array_equal(X, X_original)
    np.testing.assert_array_equal(y, y_original)


def test_accepts_lists():
    batches = list(DataLoader([[1.0], [2.0], [3.0]], [0, 1, 0], batch_size=2))
    np.testing.assert_array_equal(batches[1][0], [[3.0]])
    np.testing.assert_array_equal(batches[1][1], [0])


# ---------------------------------------------------------------------------------------
# shuffling
# ---------------------------------------------------------------------------------------


def test_shuffle_differs_between_epochs_and_repeats_from_the_seed():
    first = DataLoader(*_data(50), batch_size=8, shuffle=True, seed=3)
    again = DataLoader(*_data(50), batch_size=8, shuffle=True, seed=3)
    epochs = [_epoch(first) for _ in range(3)]
    assert epochs == [_epoch(again) for _ in range(3)]
    assert epochs[0] != epochs[1] != epochs[2]
    assert epochs[0] != _epoch(DataLoader(*_data(50), batch_size=8, shuffle=True, seed=4))
    assert epochs[0][0] != sorted(epochs[0][0])  # really shuffled


def test_the_order_is_drawn_when_the_epoch_starts():
    loader = DataLoader(*_data(20), batch_size=5, shuffle=True, seed=0)
    reference = DataLoader(*_data(20), batch_size=5, shuffle=True, seed=0)
    first, second = iter(loader), iter(loader)
    second_epoch, first_epoch = _epoch(second), _epoch(first)
    assert [first_epoch, second_epoch] == [_epoch(reference), _epoch(reference)]


def test_manual_seed_controls_the_default_generator():
    loader = DataLoader(*_data(30), batch_size=30, shuffle=True)
    tg.manual_seed(1)
    a = _epoch(loader)
    tg.manual_seed(1)
    assert _epoch(loader) == a
    assert _epoch(loader) != a
    tg.manual_seed(1)
    # A new loader with seed=None reads the default generator at iteration time too.
    assert _epoch(DataLoader(*_data(30), batch_size=30, shuffle=True)) == a


def test_a_given_generator_is_shared():
    g = np.random.default_rng(2)
    loader = DataLoader(*_data(30), batch_size=30, shuffle=True, seed=g)
    np.testing.assert_array_equal(_epoch(loader)[0], np.random.default_rng(2).permutation(30))
    assert g.bit_generator.state != np.random.default_rng(2).bit_generator.state


# ---------------------------------------------------------------------------------------
# transform
# ---------------------------------------------------------------------------------------


def test_transform_runs_on_every_x_batch_only():
    X, y = _data(7)
    calls = []

    def double(X_batch):
        calls.append(len(X_batch))
        return 2 * X_batch

    loader = DataLoader(X, y, batch_size=3, transform=double)
    batches = list(loader)
    assert calls == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([b for b, _ in batches]), 2 * X)
    np.testing.assert_array_equal(np.concatenate([b for _, b in batches]), y)
    np.testing.assert_array_equal(X, _data(7)[0])
    np.testing.assert_array_equal(
        np.concatenate(list(DataLoader(X, batch_size=3, transform=double))), 2 * X)


# ---------------------------------------------------------------------------------------
# splits
# ---------------------------------------------------------------------------------------


@given(n=st.integers(1, 120), val=st.sampled_from([0.0, 0.1, 0.25]),
       test=st.sampled_from([0.0, 0.15, 0.3, 0.5]), shuffle=st.booleans(),
       stratify=st.booleans())
def test_splits_partition_the_samples_with_the_asked_sizes(n, val, test, shuffle, stratify):
    X, y = _data(n)
    n_val, n_test = round(val * n), round(test * n)
    # Too few samples for these fractions is an error, tested below.
    assume(not ((val and not n_val) or (test and not n_test) or n_val + n_test >= n))
    parts = train_val_test_split(X, y, val=val, test=test, shuffle=shuffle,
                                 stratify=stratify, seed=0)
    X_train, y_train, X_val, y_val, X_test, y_test = parts
    assert [len(X_val), len(X_test), len(X_train)] == [n_val, n_test, n - n_val - n_test]
    every = np.concatenate([X_train[:, 0], X_val[:, 0], X_test[:, 0]])
    np.testing.assert_array_equal(np.sort(every), np.arange(n))
    for X_part, y_part in [(X_train, y_train), (X_val, y_val), (X_test, y_test)]:
        np.testing.assert_array_equal(X_part[:, 0].astype(int) % 3, y_part)
        if not shuffle:
            assert np.all(np.diff(X_part[:, 0]) > 0)


def test_without_shuffle_the_parts_are_taken_in_turn():
    X, y = _data(10)
    X_train, _, X_val, _, X_test, _ = train_val_test_split(X, y, val=0.2, test=0.3,
                                                           shuffle=False)
    assert [X_train[:, 0].tolist(), X_val[:, 0].tolist(), X_test[:, 0].tolist()] == [
        [0, 1, 2, 3, 4], [5, 6], [7, 8, 9]]


def test_splits_are_reproducible_from_the_seed_and_shuffled():
    X, y = _data(40)
    a = train_val_test_split(X, y, seed=5)
    b = train_val_test_split(X, y, seed=5)
    for part_a, part_b in zip(a, b):
        np.testing.assert_array_equal(part_a, part_b)
    assert not np.array_equal(a[0], train_val_test_split(X, y, seed=6)[0])
    assert np.any(np.diff(a[0][:, 0]) < 0)


@given(counts=st.lists(st.integers(1, 40), min_size=2, max_size=5),
       val=st.sampled_from([0.1, 0.2]), test=st.sampled_from([0.1, 0.25]),
       shuffle=st.booleans())
def test_stratified_parts_keep_the_class_proportions(counts, val, test, shuffle):
    y = np.random.default_rng(0).permutation(np.repeat(np.arange(len(counts)), counts))
    n = len(y)
    assume(round(val * n) > 0 and round(test * n) > 0)
    X = np.arange(n)[:, None]
    _, y_train, _, y_val, _, y_test = train_val_test_split(X, y, val=val, test=test,
                                                           shuffle=shuffle, stratify=True,
                                                           seed=1)
    for y_part in (y_val, y_test):
        share = np.bincount(y_part, minlength=len(counts))
        assert np.all(np.abs(share - np.array(counts) * len(y_part) / n) < 2)
    assert len(y_train) + len(y_val) + len(y_test) == n


def test_stratified_split_of_an_exactly_divisible_dataset_is_exact():
    y = np.array(["cat"] * 60 + ["dog"] * 30 + ["eel"] * 10)
    X = np.zeros((100, 1))
    _, y_train, _, y_val, _, y_test = train_val_test_split(X, y, val=0.1, test=0.2,
                                                           stratify=True, seed=0)
    for y_part, scale in [(y_train, 0.7), (y_val, 0.1), (y_test, 0.2)]:
        labels, share = np.unique(y_part, return_counts=True)
        assert labels.tolist() == ["cat", "dog", "eel"]
        np.testing.assert_array_equal(share, np.round(np.array([60, 30, 10]) * scale))


def test_train_test_split_is_the_two_way_split():
    X, y = _data(20)
    X_train, y_train, X_test, y_test = train_test_split(X, y, seed=2)
    assert (len(X_train), len(y_train), len(X_test), len(y_test)) == (16, 16, 4, 4)
    reference = train_val_test_split(X, y, val=0.0, test=0.2, seed=2)
    np.testing.assert_array_equal(X_test, reference[4])
    assert len(reference[2]) == 0


def test_splits_draw_from_the_default_generator_without_a_seed():
    X, y = _data(30)
    tg.manual_seed(4)
    a = train_test_split(X, y)[0]
    tg.manual_seed(4)
    np.testing.assert_array_equal(a, train_test_split(X, y)[0])


# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, error, message", [
    (lambda: DataLoader(np.zeros((5, 2)), np.zeros(4)), ValueError,
     r"DataLoader: X and y must have the same number of samples; got X of shape \(5, 2\) "
     r"and y of shape \(4,\)"),
    (lambda: DataLoader(np.zeros(5), 1), ValueError,
     r"X and y must have the same number of samples; got X of shape \(5,\) and y of shape "
     r"\(\)"),
    (lambda: DataLoader(3.0), ValueError,
     r"DataLoader: X must hold one row per sample; got a 0-d array"),
    (lambda: DataLoader(np.zeros(5), batch_size=0), ValueError,
     r"DataLoader: batch_size must be an int >= 1; got 0"),
    (lambda: DataLoader(np.zeros(5), batch_size=2.0), TypeError,
     r"DataLoader: batch_size must be an int >= 1; got 2.0 \(a float\)"),
    (lambda: DataLoader(np.zeros(5), transform="flip"), TypeError,
     r"DataLoader: transform must be a function of an X batch; got 'flip'"),
    (lambda: DataLoader(np.zeros(5), seed=-1), ValueError, r"seed must be None, an int"),
    (lambda: train_test_split(np.zeros(5), np.zeros(6)), ValueError,
     r"train_test_split: X and y must have the same number of samples"),
    (lambda: train_val_test_split(np.zeros(10), np.zeros(10), val=1.0), ValueError,
     r"train_val_test_split: val must be a fraction in \[0, 1\); got 1.0"),
    (lambda: train_val_test_split(np.zeros(10), np.zeros(10), test=-0.1), ValueError,
     r"train_val_test_split: test must be a fraction in \[0, 1\); got -0.1"),
    (lambda: train_test_split(np.zeros(10), np.zeros(10), test="0.2"), ValueError,
     r"train_test_split: test must be a fraction in \[0, 1\); got '0.2'"),
    (lambda: train_val_test_split(np.zeros(10), np.zeros(10), val=0.5, test=0.5), ValueError,
     r"train_val_test_split: val \+ test must be < 1 to leave samples to train on; "
     r"got 0.5 \+ 0.5 = 1.0"),
    (lambda: train_test_split(np.zeros(4), np.zeros(4), test=0.1), ValueError,
     r"train_test_split: test=0.1 of 4 samples rounds to 0 samples; use a larger fraction "
     r"or more data"),
    (lambda: train_val_test_split(np.zeros(3), np.zeros(3), val=0.3, test=0.6), ValueError,
     r"train_val_test_split: 3 samples leave none to train on after holding out 1 for "
     r"validation and 2 for test"),
    (lambda: train_test_split(np.zeros(10), np.zeros((10, 2)), stratify=True), ValueError,
     r"train_test_split: stratify needs y to be 1-D class labels; got y of shape \(10, 2\)"),
])
def test_bad_arguments_are_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()

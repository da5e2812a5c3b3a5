"""PyTorch's dataset habits: TensorDataset, and a DataLoader over (x, y) samples."""

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.data import DataLoader, TensorDataset

X = np.arange(10.0).reshape(5, 2)
Y = np.array([0, 1, 2, 0, 1])


def test_tensor_dataset_indexes_its_arrays_together():
    ds = TensorDataset(X, Value(Y.astype(float)), [1, 2, 3, 4, 5])
    assert len(ds) == 5
    x, y, z = ds[3]
    np.testing.assert_array_equal(x, [6.0, 7.0])
    assert y == 0.0 and z == 4
    assert all(isinstance(a, np.ndarray) for a in ds.tensors)


def test_a_loader_over_a_tensor_dataset_batches_like_one_over_the_arrays():
    ours = list(DataLoader(TensorDataset(X, Y), batch_size=2, shuffle=True, seed=0))
    plain = list(DataLoader(X, Y, batch_size=2, shuffle=True, seed=0))
    assert len(ours) == len(plain) == 3
    for (xa, ya), (xb, yb) in zip(ours, plain):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_a_loader_over_a_list_of_pairs_stacks_each_field_as_pytorch_collates():
    pairs = [(X[i], int(Y[i])) for i in range(5)]
    batches = list(DataLoader(pairs, batch_size=2))
    assert len(batches) == 3
    xb, yb = batches[0]
    np.testing.assert_array_equal(xb, X[:2])
    np.testing.assert_array_equal(yb, Y[:2])
    np.testing.assert_array_equal(batches[2][0], X[4:])


def test_a_loader_over_a_map_style_dataset_object():
    class Squares:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=float), i % 2

    (xb, yb), = list(DataLoader(Squares(), batch_size=4))
    np.testing.assert_array_equal(xb, [[0, 0], [1, 1], [2, 4], [3, 9]])
    np.testing.assert_array_equal(yb, [0, 1, 0, 1])


def test_a_one_array_dataset_gives_arrays_and_three_fields_give_triples():
    assert isinstance(next(iter(DataLoader(TensorDataset(X), batch_size=2))), np.ndarray)
    batch = next(iter(DataLoader(TensorDataset(X, Y, Y * 2), batch_size=2)))
    assert len(batch) == 3
    np.testing.assert_array_equal(batch[2], [0, 2])


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: TensorDataset(), ValueError, "TensorDataset: give at least one array"),
    (lambda: TensorDataset(X, Y[:4]), ValueError,
     r"TensorDataset: every array must have the same number of samples; got shapes "
     r"\[\(5, 2\), \(4,\)\]"),
    (lambda: TensorDataset(X, 3), ValueError, "TensorDataset: array 1 is 0-d"),
    (lambda: DataLoader([(X[0], 0), (X[1, :1], 1)]), ValueError,
     r"DataLoader: field 0 of sample 1 has shape \(1,\) but sample 0's has shape \(2,\)"),
    (lambda: DataLoader([(X[0], 0), (X[1], 1, 2)]), ValueError,
     "DataLoader: every sample must be a tuple of 2 fields like sample 0; sample 1 is "
     "tuple of 3"),
    (lambda: DataLoader(TensorDataset(X, Y), Y), ValueError,
     r"DataLoader: y must be None when the data is a dataset of samples \(TensorDataset\)"),
])
def test_dataset_errors_are_clear(call, error, message):
    with pytest.raises(error, match=message):
        call()

"""save/load: .npz without pickle; a model loaded from its own save gives identical outputs."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Value
from tinygrad_edu.nn import MLP


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3), seed=st.integers(0, 100),
       batchnorm=st.booleans())
def test_model_loaded_from_its_own_save_gives_identical_outputs(tmp_path, sizes, seed, batchnorm):
    model = MLP(3, [*sizes, 2], batchnorm=batchnorm, seed=seed)
    x = Value(np.random.default_rng(seed).standard_normal((4, 3)), requires_grad=False)
    model(x)  # training step moves batch norm's running statistics
    model.eval()
    path = tmp_path / "model.npz"
    tg.save(model.state_dict(), path)
    fresh = MLP(3, [*sizes, 2], batchnorm=batchnorm, seed=seed + 1)
    fresh.load_state_dict(tg.load(path))
    fresh.eval()
    np.testing.assert_array_equal(fresh(x).data, model(x).data)


def test_corrupt_and_pickled_files_are_errors_that_run_no_code(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match=r"load: .*bad\.npz' is not a state dict"):
        tg.load(bad)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, evil=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match=r"load: .*pickled\.npz' is not a state dict"):
        tg.load(pickled)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(2))
    with pytest.raises(ValueError, match="holds a single array"):
        tg.load(single)


def test_save_refuses_non_numeric_state(tmp_path):
    with pytest.raises(TypeError, match="save: 'w' holds <U3 data"):
        tg.save({"w": np.array(["abc"])}, tmp_path / "s.npz")


def test_a_checkpoint_with_the_optimizer_resumes_training_exactly(tmp_path):
    def batch(step):
        rng = np.random.default_rng(step)
        return (Value(rng.standard_normal((8, 3)), requires_grad=False),
                rng.integers(0, 2, 8))

    def train(model, optimizer, steps):
        for step in steps:
            x, y = batch(step)
            optimizer.zero_grad()
            tg.functional.cross_entropy(model(x), y).backward()
            optimizer.step()

    model = MLP(3, [4, 2], seed=0)
    optimizer = tg.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    train(model, optimizer, range(3))
    path = tmp_path / "checkpoint.npz"
    tg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3,
             "note": "after 3 steps", "betas": (0.9, 0.999)}, path)

    checkpoint = tg.load(path)
    assert checkpoint["epoch"] == 3 and checkpoint["note"] == "after 3 steps"
    assert checkpoint["betas"] == (0.9, 0.999)
    assert sorted(checkpoint["optimizer"]["state"]) == list(range(4))  # int keys kept
    resumed = MLP(3, [4, 2], seed=1)
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer = tg.optim.Adam(resumed.parameters(), lr=0.5)
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    train(model, optimizer, range(3, 6))
    train(resumed, resumed_optimizer, range(3, 6))
    for a, b in zip(model.parameters(), resumed.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_a_flat_state_dict_stays_plain_npz(tmp_path):
    path = tmp_path / "flat.npz"
    tg.save({"w": np.ones(2), "b": Value(3.0), "n": 4}, path)
    with np.load(path, allow_pickle=False) as plain:
        assert sorted(plain.files) == ["b", "n", "w"]
    loaded = tg.load(path)
    assert loaded["b"] == 3.0 and loaded["n"] == 4 and loaded["w"].tolist() == [1.0, 1.0]


def test_what_a_checkpoint_cannot_hold_is_named(tmp_path):
    with pytest.raises(TypeError, match=r"save: state\['opt'\]\[0\] is a set"):
        tg.save({"opt": [{1, 2}]}, tmp_path / "c.npz")
    with pytest.raises(TypeError, match=r"save: state\['m'\] has a key of type tuple"):
        tg.save({"m": {(1, 2): np.ones(1)}}, tmp_path / "c.npz")
    with pytest.raises(TypeError, match=r"save: state\['x'\]\[0\] holds <U3 data"):
        tg.save({"x": [np.array(["abc"])]}, tmp_path / "c.npz")


def test_a_tampered_structure_is_an_error(tmp_path):
    path = tmp_path / "tampered.npz"
    np.savez(path, **{tg.serialization.STRUCTURE: np.array('["array", "missing"]')})
    with pytest.raises(ValueError, match=r"is not a state dict saved by tinygrad_edu\.save"):
        tg.load(path)
    np.savez(path, **{tg.serialization.STRUCTURE: np.array('["eval", "1"]')})
    with pytest.raises(ValueError, match="unknown entry 'eval'"):
        tg.load(path)


# ---------------------------------------------------------------------------------------
# The path given is the path written
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["model.pt", "model", "model.npz", "model.tar"])
def test_the_path_given_is_the_path_written_and_read(tmp_path, name):
    path = tmp_path / name
    flat = {"w": np.arange(3.0)}
    assert tg.save(flat, path) == path
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no suffix added
    assert tg.load(path)["w"].tolist() == [0.0, 1.0, 2.0]
    nested = {"model": flat, "epoch": 2}
    assert tg.save(nested, str(path)) == path
    assert tg.load(str(path))["epoch"] == 2


def test_state_dict_keys_that_are_also_argument_names_are_saved(tmp_path):
    state = {"file": np.ones(2), "allow_pickle": np.zeros(1), "args": np.full(1, 3.0)}
    loaded = tg.load(tg.save(state, tmp_path / "k.npz"))
    assert {k: v.tolist() for k, v in loaded.items()} == {
        "file": [1.0, 1.0], "allow_pickle": [0.0], "args": [3.0]}


def test_arrays_keep_dtype_shape_order_and_are_writable(tmp_path):
    state = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3),
             "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
             "big_endian": np.arange(3, dtype=">i4"), "flags": np.array([True, False]),
             "scalar": np.float64(2.5), "empty": np.zeros((0, 4))}
    loaded = tg.load(tg.save(state, tmp_path / "s.npz"))
    for name, array in state.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].flags.writeable
    assert loaded["fortran"].flags.f_contiguous

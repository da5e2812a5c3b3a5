"""save/load: .npz without pickle; a model loaded from its own save gives identical outputs."""

import gc
import io
import re
import warnings
import zipfile

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


# ---------------------------------------------------------------------------------------
# Hostile files: nothing the file claims is trusted before it is checked
# ---------------------------------------------------------------------------------------

def npy_header(shape, descr="<f8"):
    """The bytes of a ``.npy`` header (format 1.0) for ``shape`` of ``descr``."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        out, {"descr": descr, "fortran_order": False, "shape": shape})
    return out.getvalue()


def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def not_a_state_dict(path):
    return pytest.raises(ValueError, match=rf"load: '{re.escape(str(path))}' is not a state "
                                           rf"dict saved by tinygrad_edu\.save")


def test_a_header_claiming_a_huge_shape_is_refused_before_allocating(tmp_path):
    path = write_zip(tmp_path / "huge.npz", {"w.npy": npy_header((2**40,))})
    assert path.stat().st_size < 400
    with not_a_state_dict(path) as refused:
        tg.load(path)
    assert "claims shape (1099511627776,) of float64 (8796093022208 bytes), but the entry " \
        "holds 0 bytes" in str(refused.value)


@pytest.mark.parametrize(("shape", "data"), [
    ((4,), bytes(8 * 3)),  # fewer bytes than the shape needs
    ((2,), bytes(8 * 3)),  # more
    ((-1, 0), b""),  # a negative dimension
])
def test_a_header_must_describe_exactly_the_bytes_held(tmp_path, shape, data):
    path = write_zip(tmp_path / "bad.npz", {"w.npy": npy_header(shape) + data})
    with not_a_state_dict(path) as refused:
        tg.load(path)
    assert f"claims shape {shape}" in str(refused.value)


def zip_bomb(path, nbytes):
    """A deflated entry of ``nbytes`` zeros (plus its header): a small file, large once
    read."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("w.npy", "w") as entry:
            entry.write(npy_header((nbytes // 8,)))
            entry.write(bytes(nbytes))
    return path


def test_what_a_file_expands_to_is_capped_by_max_bytes(tmp_path):
    path = zip_bomb(tmp_path / "bomb.npz", 2**23)
    assert path.stat().st_size < 2**15
    with pytest.raises(ValueError, match=r"load: '.*bomb\.npz' would take 8388736 bytes once "
                                         r"read, more than max_bytes=1048576; if you trust "
                                         r"the file, pass a larger max_bytes="):
        tg.load(path, max_bytes=2**20)
    assert not tg.load(path, max_bytes=2**24)["w"].any()


def test_the_default_cap_lets_every_saved_file_load(tmp_path, monkeypatch):
    monkeypatch.setattr(tg.serialization, "DEFAULT_MAX_BYTES", 2**20)
    with pytest.raises(ValueError, match="more than max_bytes=1048576"):
        tg.load(zip_bomb(tmp_path / "bomb.npz", 2**23))
    saved = tg.save({"w": np.zeros(2**18)}, tmp_path / "big.npz")  # 2 MiB, not compressed
    assert tg.load(saved)["w"].shape == (2**18,)


@pytest.mark.parametrize(("max_bytes", "error", "message"), [
    (-1, ValueError, "load: max_bytes must be at least 0; got -1"),
    (1.5, TypeError, "load: max_bytes must be an integer or None; got 1.5"),
    ("1", TypeError, "load: max_bytes must be an integer or None; got '1'"),
    (True, TypeError, "load: max_bytes must be an integer or None; got True"),
])
def test_max_bytes_must_be_a_non_negative_integer(tmp_path, max_bytes, error, message):
    path = tg.save({"w": np.ones(1)}, tmp_path / "w.npz")
    with pytest.raises(error, match=re.escape(message)):
        tg.load(path, max_bytes=max_bytes)
    assert tg.load(path, max_bytes=136)["w"].tolist() == [1.0]  # 8 bytes + the header
    with pytest.raises(ValueError, match="would take 136 bytes once read, more than "
                                         "max_bytes=135"):
        tg.load(path, max_bytes=135)


def nested(depth):
    state = 1
    for _ in range(depth):
        state = [state]
    return state


def test_deep_nesting_is_a_clear_error_on_save_and_load(tmp_path):
    path = tmp_path / "deep.npz"
    with pytest.raises(ValueError, match=r"save: state\[0\]\[0\].*\.\.\. is nested more than "
                                         r"100 levels deep"):
        tg.save(nested(600), path)
    itself = []
    itself.append(itself)
    with pytest.raises(ValueError, match="does a list or dict contain itself"):
        tg.save({"loop": itself}, path)
    assert not path.exists()
    assert tg.load(tg.save(nested(100), path)) == nested(100)

    tree = '["value", 1]'
    for _ in range(600):
        tree = f'["list", [{tree}]]'
    np.savez(path, **{tg.serialization.STRUCTURE: np.array(tree)})
    with not_a_state_dict(path) as refused:
        tg.load(path)
    assert "its structure is nested more than 100 levels deep" in str(refused.value)
    np.savez(path, **{tg.serialization.STRUCTURE: np.array("[" * 100_000)})
    with not_a_state_dict(path) as refused:
        tg.load(path)
    assert "nested more than 100 levels deep" in str(refused.value)


def hostile_files(tmp_path):
    rng = np.random.default_rng(0)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, evil=np.array([object()], dtype=object))
    long_header = io.BytesIO()
    np.lib.format.write_array_header_2_0(long_header, {
        "descr": "<f8", "fortran_order": False, "shape": (0,), "pad": " " * 20_000})
    return {
        "random.npz": rng.bytes(4096),
        "pickle_opcodes.npz": b"\x80\x04\x95" + rng.bytes(64),
        "pickled.npz": pickled.read_bytes(),
        "long_header.npz": write_zip(tmp_path / "lh.npz",
                                     {"w.npy": long_header.getvalue()}).read_bytes(),
        "not_npy.npz": write_zip(tmp_path / "nn.npz", {"w.txt": b"hello"}).read_bytes(),
        "bad_magic.npz": write_zip(tmp_path / "bm.npz", {"w.npy": b"PK" * 8}).read_bytes(),
        "void.npz": write_zip(tmp_path / "v.npz",
                              {"w.npy": npy_header((1,), "|V8") + bytes(8)}).read_bytes(),
    }


def test_no_message_suggests_allow_pickle(tmp_path):
    for name, content in hostile_files(tmp_path).items():
        path = tmp_path / name
        path.write_bytes(content)
        with not_a_state_dict(path) as refused:
            tg.load(path)
        assert "allow_pickle" not in str(refused.value), name


def test_every_error_path_closes_the_file(tmp_path):
    good = tg.save({"w": np.arange(1000.0), "b": np.ones(3)}, tmp_path / "good.npz")
    content = good.read_bytes()
    cases = {f"truncated_{n}.npz": content[:n] for n in (30, len(content) // 2,
                                                          len(content) - 30)}
    cases.update(hostile_files(tmp_path))
    corrupt = bytearray(content)
    corrupt[100] ^= 0xFF  # inside the first array's data: a CRC error
    cases["corrupt.npz"] = bytes(corrupt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, data in cases.items():
            path = tmp_path / name
            path.write_bytes(data)
            with not_a_state_dict(path):
                tg.load(path)
        gc.collect()
    assert [str(w.message) for w in caught] == []


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "nothing.npz")


def test_files_written_by_numpy_and_by_older_saves_load(tmp_path):
    np.savez(tmp_path / "old", w=np.arange(3.0))  # as save(state, "old") wrote old.npz
    assert tg.load(tmp_path / "old.npz")["w"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(FileNotFoundError, match=r"load: no file '.*old', but '.*old\.npz' "
                                                r"exists .*: load that"):
        tg.load(tmp_path / "old")
    np.savez_compressed(tmp_path / "compressed.npz", w=np.ones((2, 2), np.float32))
    assert tg.load(tmp_path / "compressed.npz")["w"].dtype == np.float32

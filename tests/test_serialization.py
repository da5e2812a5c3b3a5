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

"""What kernels.empty measures at import (tinygrad_edu.ops.kernels._calibrate): where
reference counts cannot tell an array held elsewhere from one only its list holds, it says
so, and empty then reuses no array."""

from tinygrad_edu.ops import kernels


def test_calibrate_says_when_reference_counts_cannot_tell_held_from_alone(monkeypatch):
    monkeypatch.setattr(kernels, "_refcounts", lambda arrays: [2] * len(arrays))
    assert kernels._calibrate() == (2, False)


def test_calibrate_tells_them_apart_on_this_interpreter():
    alone, tells = kernels._calibrate()
    assert tells and (alone, tells) == (kernels._ONLY_LISTED, kernels._COUNTS_TELL)

"""Save and load state dicts as ``.npz`` files, never with pickle."""

from __future__ import annotations

import os
import zipfile
from typing import Any

import numpy as np


def save(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write a state dict (name -> array, e.g. ``model.state_dict()``) to an ``.npz`` file.

    NumPy adds the ``.npz`` suffix when ``path`` lacks it, as ``np.savez`` does.
    """
    arrays = {}
    for name, value in state.items():
        array = np.asarray(value)
        if array.dtype.kind not in "fiub":
            raise TypeError(f"save: {name!r} holds {array.dtype} data; a state dict holds "
                            f"numeric arrays only")
        arrays[name] = array
    np.savez(path, **arrays)


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a state dict written by ``save``. Pickled objects are refused, so a corrupt or
    malicious file is an error and never runs code."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not a state dict")
        with archive:
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"load: {os.fspath(path)!r} is not a state dict saved by "
                         f"tinygrad_edu.save ({e})") from None

"""Save and load state dicts and checkpoints as ``.npz`` files, never with pickle.

A flat state dict (name -> array, ``model.state_dict()``) is one ``.npz`` entry per name,
so ``np.load`` reads it too. Anything nested (``optimizer.state_dict()``, or a checkpoint
such as ``{"model": ..., "optimizer": ..., "epoch": 3}``) is stored as its arrays plus a
JSON description of the dicts, lists, tuples, numbers, strings, booleans and ``None``
around them, in an entry named ``STRUCTURE``. Loading rebuilds the same structure, dict
keys of any of those types included, and runs no code from the file.
"""

from __future__ import annotations

import json
import numbers
import os
import zipfile
from typing import Any

import numpy as np

from .autograd import ValueBase

STRUCTURE = "__tinygrad_edu_structure__"
_SCALARS = (bool, int, float, str, type(None))


def save(state: Any, path: str | os.PathLike) -> None:
    """Write a state dict or a checkpoint (see the module docstring) to an ``.npz`` file.

    Arrays (and Values, saved as their data) must be numeric. NumPy adds the ``.npz``
    suffix when ``path`` lacks it, as ``np.savez`` does.
    """
    flat = isinstance(state, dict) and all(
        isinstance(k, str) and k != STRUCTURE and _is_array(v) for k, v in state.items())
    if flat:
        np.savez(path, **{name: _array(value, repr(name)) for name, value in state.items()})
        return
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, arrays, "state")
    np.savez(path, **arrays, **{STRUCTURE: np.array(json.dumps(tree))})


def load(path: str | os.PathLike) -> Any:
    """Read what ``save`` wrote: a dict of arrays, or the saved structure. Pickled objects
    are refused, so a corrupt or malicious file is an error and never runs code."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not a state dict")
        with archive:
            arrays = {name: archive[name] for name in archive.files}
        if STRUCTURE not in arrays:
            return arrays
        return _decode(json.loads(str(arrays.pop(STRUCTURE))), arrays)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError, TypeError) as e:
        raise ValueError(f"load: {os.fspath(path)!r} is not a state dict saved by "
                         f"tinygrad_edu.save ({e})") from None


def _is_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, np.generic, ValueBase, numbers.Number))


def _array(value: Any, where: str) -> np.ndarray:
    """``value`` as a numeric ndarray, or a TypeError naming ``where`` it is."""
    array = np.asarray(value.data if isinstance(value, ValueBase) else value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"save: {where} holds {array.dtype} data; a state dict holds "
                        f"numeric arrays only")
    return array


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> list:
    """``obj`` as a JSON-able tagged tree (``["array", entry]``, ``["dict", [[key, value],
    ...]]``, ``["list", [...]]``, ``["tuple", [...]]``, ``["value", x]``); its arrays go
    into ``arrays``."""
    if isinstance(obj, (np.ndarray, np.generic, ValueBase)):
        name = f"a{len(arrays)}"
        arrays[name] = _array(obj, where)
        return ["array", name]
    if isinstance(obj, _SCALARS):
        return ["value", obj]
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, _SCALARS):
                raise TypeError(f"save: {where} has a key of type {type(key).__name__}; "
                                f"keys must be strings, numbers, booleans or None")
        return ["dict", [[key, _encode(value, arrays, f"{where}[{key!r}]")]
                         for key, value in obj.items()]]
    if isinstance(obj, (list, tuple)):
        items = [_encode(value, arrays, f"{where}[{i}]") for i, value in enumerate(obj)]
        return [type(obj).__name__, items]
    raise TypeError(f"save: {where} is a {type(obj).__name__}; a checkpoint holds arrays, "
                    f"numbers, strings, booleans, None, and dicts, lists and tuples of them")


def _decode(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The inverse of ``_encode``; a malformed tree is a ValueError."""
    tag, body = tree
    if tag == "array":
        return arrays[body]
    if tag == "value" and isinstance(body, _SCALARS):
        return body
    if tag == "dict":
        return {key: _decode(value, arrays) for key, value in body}
    if tag in ("list", "tuple"):
        items = [_decode(value, arrays) for value in body]
        return items if tag == "list" else tuple(items)
    raise ValueError(f"unknown entry {tag!r} in its structure")

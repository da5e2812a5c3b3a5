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
from pathlib import Path
from typing import Any

import numpy as np

from .autograd import ValueBase

STRUCTURE = "__tinygrad_edu_structure__"
# Containers nested inside one another; a checkpoint needs a few, and the limit keeps
# saving and loading far from Python's recursion limit.
MAX_DEPTH = 100
_SCALARS = (bool, int, float, str, type(None))
_SUFFIX = ".npy"


# ---------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------

def save(state: Any, path: str | os.PathLike) -> Path:
    """Write a state dict or a checkpoint (see the module docstring) to ``path`` and
    return it as a ``Path``.

    The file is written at exactly ``path``, whatever its suffix (``"model.pt"`` too, as
    ``torch.save`` does; NumPy's ``np.savez`` would add ``.npz``), so ``load(path)`` reads
    it back. Arrays (and Values, saved as their data) must be numeric.
    """
    flat = isinstance(state, dict) and all(
        isinstance(k, str) and k != STRUCTURE and _is_array(v) for k, v in state.items())
    if flat:
        arrays = {name: _array(value, repr(name)) for name, value in state.items()}
    else:
        arrays = {}
        tree = _encode(state, arrays, "state", 0)
        arrays[STRUCTURE] = np.array(json.dumps(tree))
    path = Path(path)
    # NOTE: the zip is written here rather than by np.savez, which takes the entries as
    # keyword arguments: a state dict key such as "file" would collide with its own.
    with open(path, "wb") as file, zipfile.ZipFile(file, "w", allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + _SUFFIX, "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)
    return path


def _is_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, np.generic, ValueBase, numbers.Number))


def _array(value: Any, where: str) -> np.ndarray:
    """``value`` as a numeric ndarray, or a TypeError naming ``where`` it is."""
    array = np.asarray(value.data if isinstance(value, ValueBase) else value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"save: {where} holds {array.dtype} data; a state dict holds "
                        f"numeric arrays only")
    return array


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str, depth: int) -> list:
    """``obj`` as a JSON-able tagged tree (``["array", entry]``, ``["dict", [[key, value],
    ...]]``, ``["list", [...]]``, ``["tuple", [...]]``, ``["value", x]``); its arrays go
    into ``arrays``. ``depth`` counts the containers around ``obj``."""
    if isinstance(obj, (np.ndarray, np.generic, ValueBase)):
        name = f"a{len(arrays)}"
        arrays[name] = _array(obj, where)
        return ["array", name]
    if isinstance(obj, _SCALARS):
        return ["value", obj]
    if isinstance(obj, (dict, list, tuple)) and depth >= MAX_DEPTH:
        shown = where if len(where) <= 60 else f"{where[:60]}..."
        raise ValueError(f"save: {shown} is nested more than {MAX_DEPTH} levels deep (does "
                         f"a list or dict contain itself?)")
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, _SCALARS):
                raise TypeError(f"save: {where} has a key of type {type(key).__name__}; "
                                f"keys must be strings, numbers, booleans or None")
        return ["dict", [[key, _encode(value, arrays, f"{where}[{key!r}]", depth + 1)]
                         for key, value in obj.items()]]
    if isinstance(obj, (list, tuple)):
        items = [_encode(value, arrays, f"{where}[{i}]", depth + 1)
                 for i, value in enumerate(obj)]
        return [type(obj).__name__, items]
    raise TypeError(f"save: {where} is a {type(obj).__name__}; a checkpoint holds arrays, "
                    f"numbers, strings, booleans, None, and dicts, lists and tuples of them")


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------

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

"""Save and load state dicts and checkpoints as ``.npz`` files, never with pickle.

A flat state dict (name -> array, ``model.state_dict()``) is one ``.npz`` entry per name,
so ``np.load`` reads it too. Anything nested (``optimizer.state_dict()``, or a checkpoint
such as ``{"model": ..., "optimizer": ..., "epoch": 3}``) is stored as its arrays plus a
JSON description of the dicts, lists, tuples, numbers, strings, booleans and ``None``
around them, in an entry named ``STRUCTURE``. Loading rebuilds the same structure, dict
keys of any of those types included, and runs no code from the file.

``load`` trusts nothing the file says before checking it: the sizes its zip directory
claims are summed and held against ``max_bytes`` before anything is decompressed, each
entry's ``.npy`` header must describe exactly the bytes the entry holds before its array
is allocated, only arrays of numbers, booleans and strings are read, and a structure
nested more than ``MAX_DEPTH`` levels deep is refused (``save`` refuses one too).
"""

from __future__ import annotations

import json
import math
import numbers
import os
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._checks import is_int
from .autograd import ValueBase

STRUCTURE = "__tinygrad_edu_structure__"
# Containers nested inside one another; a checkpoint needs a few, and the limit keeps
# saving and loading far from Python's recursion limit.
MAX_DEPTH = 100
# What load lets a file's arrays take in memory unless told otherwise (or the file's own
# size, if larger: save does not compress, so every file it writes loads).
DEFAULT_MAX_BYTES = 2**28
_SCALARS = (bool, int, float, str, type(None))
_SUFFIX = ".npy"
# Array data is read in pieces of this many bytes, straight into the array.
_CHUNK = 2**20


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

def load(path: str | os.PathLike, *, max_bytes: int | None = None) -> Any:
    """Read what ``save`` wrote at ``path``: a dict of arrays, or the saved structure.

    Pickled objects are refused, so a corrupt or malicious file is a ValueError and never
    runs code. ``max_bytes`` caps the size of the file's entries once decompressed (its
    arrays, plus a header of about a hundred bytes each); the default is
    ``DEFAULT_MAX_BYTES`` (256 MiB) or the file's size, whichever is larger, so a small
    compressed file cannot expand to fill the memory. Pass a larger ``max_bytes`` for a
    file you trust.
    """
    if max_bytes is not None and not is_int(max_bytes):
        raise TypeError(f"load: max_bytes must be an integer or None; got {max_bytes!r}")
    if max_bytes is not None and max_bytes < 0:
        raise ValueError(f"load: max_bytes must be at least 0; got {max_bytes}")
    where = os.fspath(path)
    with _open(where) as file:
        limit = max(DEFAULT_MAX_BYTES, os.fstat(file.fileno()).st_size) \
            if max_bytes is None else max_bytes
        with _open_archive(file, where) as archive:
            entries = archive.infolist()
            needed = sum(info.file_size for info in entries)
            if needed > limit:
                raise ValueError(f"load: {where!r} would take {needed} bytes once read, "
                                 f"more than max_bytes={limit}; if you trust the file, "
                                 f"pass a larger max_bytes=")
            try:
                arrays = {_entry_name(info): _read_entry(archive, info) for info in entries}
                if STRUCTURE not in arrays:
                    return arrays
                return _decode(_structure(arrays.pop(STRUCTURE)), arrays, 0)
            except (ValueError, TypeError, EOFError, OSError, NotImplementedError,
                    zipfile.BadZipFile, zlib.error) as e:
                raise ValueError(f"load: {where!r} is not a state dict saved by "
                                 f"tinygrad_edu.save ({e or type(e).__name__})") from None


def _open(where: str) -> IO[bytes]:
    """The file at ``where``, opened for reading. Missing, it is a FileNotFoundError that
    points to ``where + ".npz"`` if that exists: older versions of save added the suffix."""
    try:
        return open(where, "rb")
    except FileNotFoundError:
        if not where.endswith(".npz") and os.path.isfile(f"{where}.npz"):
            raise FileNotFoundError(f"load: no file {where!r}, but {where + '.npz'!r} "
                                    f"exists (save added .npz to a path without it before "
                                    f"it kept the path as given): load that") from None
        raise


def _open_archive(file: IO[bytes], where: str) -> zipfile.ZipFile:
    """The zip archive in ``file``, or a ValueError saying what the file is instead."""
    single = file.read(len(np.lib.format.MAGIC_PREFIX)) == np.lib.format.MAGIC_PREFIX
    file.seek(0)
    problem = "it holds a single array (.npy), not a state dict" if single else ""
    if not single:
        try:
            return zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
            problem = f"it is not a readable zip archive (.npz): {e}"
    raise ValueError(f"load: {where!r} is not a state dict saved by tinygrad_edu.save "
                     f"({problem})")


def _entry_name(info: zipfile.ZipInfo) -> str:
    if not info.filename.endswith(_SUFFIX):
        raise ValueError(f"its entry {info.filename!r} is not a {_SUFFIX} array")
    return info.filename[:-len(_SUFFIX)]


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` entry as an array. Its header must describe exactly the bytes the
    entry holds before the array is allocated; the data is then read into it."""
    name = info.filename
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(f"its entry {name!r} is compressed with method "
                         f"{info.compress_type}; .npz files are stored or deflated")
    with archive.open(info) as entry:
        shape, fortran_order, dtype = _read_header(entry, name)
        if dtype.kind not in "biufcSU" or dtype.fields or dtype.subdtype or not dtype.itemsize:
            raise ValueError(f"its entry {name!r} holds {dtype} data; load reads arrays of "
                             f"numbers, booleans and strings only")
        size = math.prod(shape) * dtype.itemsize
        held = info.file_size - entry.tell()
        if min(shape, default=0) < 0 or size != held:
            raise ValueError(f"the header of its entry {name!r} claims shape {shape} of "
                             f"{dtype} ({size} bytes), but the entry holds {held} bytes")
        data = np.empty(size, np.uint8)
        filled = 0
        while filled < size:
            got = entry.readinto(data[filled:filled + _CHUNK])
            if not got:
                raise ValueError(f"its entry {name!r} ends after {filled} of {size} bytes")
            filled += got
    return data.view(dtype).reshape(shape, order="F" if fortran_order else "C")


def _read_header(entry: IO[bytes], name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The shape, order and dtype that the ``.npy`` header at the start of ``entry``
    declares, read with NumPy's header parser (which evaluates no code)."""
    try:
        version = np.lib.format.read_magic(entry)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(entry)
        if version == (2, 0):
            return np.lib.format.read_array_header_2_0(entry)
    except ValueError as e:
        # NOTE: only the first line: the second line of NumPy's error about a long header
        # suggests allow_pickle=True, which load never uses.
        raise ValueError(f"its entry {name!r} has no valid .npy header: "
                         f"{str(e).splitlines()[0]}") from None
    raise ValueError(f"its entry {name!r} is .npy format version {version[0]}.{version[1]}; "
                     f"load reads versions 1.0 and 2.0")


def _structure(entry: np.ndarray) -> Any:
    """The JSON tree of the ``STRUCTURE`` entry."""
    if entry.dtype.kind != "U" or entry.ndim != 0:
        raise ValueError(f"its {STRUCTURE} entry is {entry.dtype} of shape {entry.shape}, "
                         f"not a string")
    try:
        return json.loads(str(entry))
    except RecursionError:
        raise ValueError(f"its structure is nested more than {MAX_DEPTH} levels "
                         f"deep") from None


def _decode(tree: Any, arrays: dict[str, np.ndarray], depth: int) -> Any:
    """The inverse of ``_encode``; a malformed tree is a ValueError."""
    if not (isinstance(tree, list) and len(tree) == 2 and isinstance(tree[0], str)):
        raise ValueError("its structure holds something other than a [tag, body] pair")
    tag, body = tree
    if tag == "array":
        if not isinstance(body, str) or body not in arrays:
            raise ValueError(f"its structure names an array {body!r} that the file lacks")
        return arrays[body]
    if tag == "value" and isinstance(body, _SCALARS):
        return body
    if tag in ("dict", "list", "tuple"):
        if depth >= MAX_DEPTH:
            raise ValueError(f"its structure is nested more than {MAX_DEPTH} levels deep")
        if not isinstance(body, list):
            raise ValueError(f"its structure has a {tag} without a list of items")
    if tag == "dict":
        items = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2 and
                    isinstance(pair[0], _SCALARS)):
                raise ValueError("its structure has a dict item that is not a [key, value] "
                                 "pair with a string, number, boolean or null key")
            items[pair[0]] = _decode(pair[1], arrays, depth + 1)
        return items
    if tag in ("list", "tuple"):
        items = [_decode(value, arrays, depth + 1) for value in body]
        return items if tag == "list" else tuple(items)
    raise ValueError(f"unknown entry {tag!r} in its structure")

"""Kernels: faster ways to compute what an op's formula says.

An op's ``forward`` and ``backward`` read as the math; where a faster way to compute the
same numbers pays off in a training step, the op calls one of these functions instead of
writing the trick inline. Each docstring says what the function computes and why it is
faster. A reader learning backprop can skip this module: replacing a call with the
formula in its docstring changes no result (beyond the rounding of a matrix product,
which BLAS may sum in another order for a smaller matrix).

Large arrays are done in parts shared among threads, as PyTorch's kernels do:
``set_num_threads`` and ``get_num_threads`` set and tell how many.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import os
import queue
import sys
import threading

import numpy as np

# ----------------------------------------------------------------------------------------
# Threads: the passes over a large array split into parts, the parts shared among threads
# ----------------------------------------------------------------------------------------

_num_threads: int | None = None  # None: one per CPU this process may run on
_jobs: queue.SimpleQueue = queue.SimpleQueue()  # what the helper threads wait on
_helpers: list[threading.Thread] = []  # started on first use, as many as needed so far
_helpers_lock = threading.Lock()
_in_part = threading.local()  # .busy: this thread is running parts of a parallel_map


def set_num_threads(n: int) -> None:
    """Let each kernel below share its passes over a large array among ``n`` threads (the
    calling thread included); ``set_num_threads(1)`` runs everything on the caller's.
    As ``torch.set_num_threads``: it sets the threads of this package's own kernels, not
    those of the BLAS library NumPy calls."""
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__} {n!r}")
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"set_num_threads: n must be at least 1, got {n}")
    global _num_threads
    _num_threads = n


def get_num_threads() -> int:
    """How many threads a kernel shares its passes over a large array among: as many as
    the CPUs this process may run on unless ``set_num_threads`` said otherwise."""
    return _num_threads if _num_threads is not None else _cpus()


@functools.cache
def _cpus() -> int:
    """How many CPUs this process may run on (asked once, as PyTorch does)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity call on this system
        return os.cpu_count() or 1


class _Job:
    """One parallel_map call: its parts, their results, which part is next, and the
    helpers that have joined in (each holds a lock until it is done)."""

    def __init__(self, fn, parts):
        self.fn, self.parts, self.results = fn, parts, [None] * len(parts)
        self.next, self.closed, self.joined, self.error = 0, False, [], None
        self.lock = threading.Lock()

    def work(self):
        """Run unclaimed parts until none is left."""
        _in_part.busy = True
        try:
            while True:
                with self.lock:
                    i, self.next = self.next, self.next + 1
                if i >= len(self.parts):
                    return
                self.results[i] = self.fn(self.parts[i])
        finally:
            _in_part.busy = False

    def help(self):
        """A helper thread's share: nothing once the caller has closed the job."""
        done = threading.Lock()
        done.acquire()
        with self.lock:
            if self.closed:
                return
            self.joined.append(done)
        try:
            self.work()
        except BaseException as error:  # handed to the caller, which raises it
            self.error = error
        finally:
            done.release()

    def close(self):
        """Let no more helpers join in, wait for those that did; raise their error."""
        with self.lock:
            self.closed = True
        for done in self.joined:
            done.acquire()
        if self.error is not None:
            raise self.error


def _help_forever():
    while True:
        _jobs.get().help()


def _wake_helpers(job, count):
    """Hand ``job`` to ``count`` helper threads, starting those that do not exist yet."""
    with _helpers_lock:
        while len(_helpers) < count:
            thread = threading.Thread(target=_help_forever, name="tinygrad_edu", daemon=True)
            thread.start()
            _helpers.append(thread)
    for _ in range(count):
        _jobs.put(job)


def _forget_helpers():
    """In a forked child: the parent's helper threads do not exist there, so start anew
    (and a lock one of them held stays held in the child: new locks)."""
    global _jobs, _helpers, _helpers_lock, _kept_lock
    _jobs, _helpers, _helpers_lock = queue.SimpleQueue(), [], threading.Lock()
    _kept_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_helpers)


def parallel_map(fn, parts):
    """[fn(part) for part in parts], the calls shared among ``get_num_threads()`` threads.

    NumPy lets go of Python's interpreter lock inside its loops over arrays and in BLAS,
    so two threads each running a part's NumPy calls run on two cores at once. The caller
    wakes helper threads (kept for the next call) and works through the parts too, taking
    the next unclaimed one each time, as do the helpers (each part is taken once): whoever
    is free does the next part, and the caller never waits for a helper that has not
    started. ``fn`` must only write what its own part owns; each result lands at its
    part's place in the list, so summing the list in order gives the same numbers as the
    loop. Calls from inside a part run there, one after the other.
    """
    parts = list(parts)
    helpers = min(get_num_threads(), len(parts)) - 1
    if helpers < 1 or getattr(_in_part, "busy", False):
        return [fn(part) for part in parts]
    job = _Job(fn, parts)
    _wake_helpers(job, helpers)
    try:
        job.work()
    finally:
        job.close()
    return job.results


def chunks(n, item_bytes, budget, even=False):
    """Slices of range(n), for n items (images, samples) of ``item_bytes`` each, taking
    about ``budget`` bytes and at least one item each: as many items as fit in each slice
    and the rest in the last one; or, ``even``, as many slices, their sizes differing by
    at most one item, which keeps all threads busy until the end.

    The chunks of a sum fix the order of its additions: a sum over chunks must keep the
    uneven slices, for the same bits as before (the shipped weights depend on them).
    """
    step = max(1, budget // max(item_bytes, 1))
    if not even or n == 0:
        return [slice(start, start + step) for start in range(0, n, step)]
    count = -(-n // step)
    ends = [i * n // count for i in range(count + 1)]
    return [slice(start, end) for start, end in itertools.pairwise(ends)]


# Bytes of an array per part of an elementwise pass: enough work to pay for handing the
# part to another thread (and Python's lock, which each part's thread takes back after its
# NumPy call), and a few parts per thread so that they finish together
_PART_BYTES = 1 << 20


def _splits(x):
    """Whether an elementwise pass over the array x pays to split into parts: a float
    array of more than two parts per thread, contiguous (its flat parts are views).

    NOTE: the caller waits for the last part a helper has started; with several parts
    each, a helper that the system runs late (on a busy machine) holds it up by a
    fraction of the pass, not by half of it.
    """
    # the first test (at least two threads' worth) costs a small array little
    return (x.nbytes > 4 * _PART_BYTES and x.nbytes > 2 * _PART_BYTES * get_num_threads()
            and x.dtype.kind == "f" and x.flags.c_contiguous)


def in_parts(fn, out, *arrays):
    """``fn(out, *arrays)`` for an elementwise ``fn`` that writes ``out``, done as the
    same call on matching parts of the flat arrays, of about ``_PART_BYTES`` of ``out``
    each, shared among threads (``parallel_map``); returns ``out``. Every array must be
    contiguous and of ``out``'s shape, so that each part is a view. Each element is
    computed as in the whole call: the same numbers."""
    flat_out, flats = out.reshape(-1), [a.reshape(-1) for a in arrays]
    count = -(-out.nbytes // _PART_BYTES)
    step = -(-out.size // count)
    parts = [slice(start, start + step) for start in range(0, out.size, step)]
    parallel_map(lambda part: fn(flat_out[part], *(a[part] for a in flats)), parts)
    return out


# ----------------------------------------------------------------------------------------
# Arrays that start on a cache line
# ----------------------------------------------------------------------------------------

# Where an aligned array's data starts: on a multiple of a cache line, which is also the
# widest vector (AVX-512's); PyTorch's CPU allocator aligns every tensor so
_ALIGNMENT = 64
# Arrays of at least this many bytes are aligned (a pass over a smaller one costs less
# than the call that makes it)
_ALIGN_FROM = 1 << 12


def aligned_empty(shape, dtype):
    """``np.empty(shape, dtype)`` (``dtype`` an ``np.dtype``), whose data starts on a
    64-byte boundary if it has at least ``_ALIGN_FROM`` bytes.

    NumPy takes its memory from malloc, which aligns to 16 bytes: an array's data then
    starts on a cache line or 16, 32 or 48 bytes into one, as it happens. Written by a
    pass of vector instructions, an array that does not start on a line has every vector
    store straddle two lines, which the processor does as two. The arrays written in
    place step after step, parameters (the update ``p.data -= lr * p.grad``) and an
    optimizer's buffers, are made aligned: they then update at one speed in every
    process, not at two depending on where malloc happened to put them.
    """
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _ALIGN_FROM:
        return np.empty(shape, dtype)
    raw = np.empty(nbytes + _ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % _ALIGNMENT
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def aligned_copy(array, dtype):
    """``array``'s values in a new array of ``dtype`` (an ``np.dtype``), aligned as
    ``aligned_empty`` aligns."""
    if array.size * dtype.itemsize < _ALIGN_FROM:
        return np.array(array, dtype)
    out = aligned_empty(array.shape, dtype)
    np.copyto(out, array)
    return out


# ----------------------------------------------------------------------------------------
# Work memory: the large arrays of a training step, made again by the next step
# ----------------------------------------------------------------------------------------

# Arrays of at least this many bytes are kept for reuse (malloc reuses smaller ones well)
_KEEP_FROM = 1 << 16
# Most bytes kept in all (see _room_for)
_KEEP_MOST = 1 << 28
_kept: dict[tuple, list[np.ndarray]] = {}  # by (shape, dtype), the most recently asked last
_kept_bytes = 0
_kept_lock = threading.Lock()


def _counts(arrays):
    """For each array of the list ``arrays`` (each a view of a memory block of its own, as
    ``aligned_empty`` makes them): sys.getrefcount of the array and of its block."""
    return [(sys.getrefcount(array), sys.getrefcount(array.base)) for array in arrays]


def _calibrate():
    """What ``_counts`` says of a kept array that only its list refers to, and whether it
    says more of one that is also held elsewhere, and of one whose memory a view holds
    (a view of a view refers to the memory block, not to the array it was made from).

    Measured, not assumed: interpreters differ in the references their own frames hold
    while the count is taken (CPython 3.14 borrows some that 3.13 took), and an assumed
    count one too high would hand out arrays still in use. Where the counts cannot tell
    these apart, ``empty`` never reuses an array.
    """
    def kept():
        return aligned_empty((_ALIGN_FROM,), np.dtype(np.uint8))

    unused = _counts([kept()])[0]
    held = kept()
    viewed = [kept()]  # only the list refers to this array; the view below, to its memory
    view_and_counts = (viewed[0][1:], _counts(viewed)[0])  # the view alive while counted
    return unused, _counts([held])[0] != unused and view_and_counts[1] != unused


_UNUSED, _COUNTS_TELL = _calibrate()


def empty(shape, dtype):
    """``np.empty(shape, dtype)`` (shape a tuple), in the memory of an array that an earlier
    call made of the same shape and dtype and that no one refers to any more, if there is
    one: each training step's large arrays then reuse those of the step before.

    Freed instead, a step's arrays are mostly on top of the C library's heap when the graph
    is let go at the step's end, and glibc hands the free top of its heap back to the
    system once it exceeds twice the largest block the process has freed, which is less
    than a CNN's activations: the next step maps that memory in again, a page fault for
    every page, which costs more than a pass over the array. So every array of at least
    ``_KEEP_FROM`` bytes this function makes is kept (up to ``_KEEP_MOST`` bytes in all,
    ``_room_for``) and handed out again once only this module refers to it, or to its
    memory: when freeing it would have let malloc hand out its memory again (the
    reference counts that say so are calibrated at import, ``_calibrate``). A view refers
    to the memory it views, so an array a user holds through a view is not handed out
    either. The kept arrays are written in every step, so they start on a cache line
    (``aligned_empty``). Parts running on other threads may call it. ``empty_cache`` lets
    the kept memory go.
    """
    dtype = np.dtype(dtype)
    if math.prod(shape) * dtype.itemsize < _KEEP_FROM or not _COUNTS_TELL:
        return np.empty(shape, dtype)
    global _kept_bytes
    with _kept_lock:
        key = (shape, dtype)
        kept = _kept[key] = _kept.pop(key, [])  # now the most recently asked for
        for array, counts in zip(kept, _counts(kept)):
            if counts == _UNUSED:
                return array
        array = aligned_empty(shape, dtype)
        if _room_for(array.nbytes):
            kept.append(array)
            _kept_bytes += array.nbytes
        return array


def _room_for(nbytes):
    """Whether ``nbytes`` more fit in ``_KEEP_MOST``, after letting go of kept arrays no
    one uses, those of the shapes asked for least recently first, as far as needed: a
    process that moves on to other shapes (another model, another batch size) keeps the
    memory of its current ones. Called with ``_kept_lock`` held."""
    global _kept_bytes
    for kept in list(_kept.values()):
        if _kept_bytes + nbytes <= _KEEP_MOST:
            break
        in_use = [array for array, counts in zip(kept, _counts(kept)) if counts != _UNUSED]
        _kept_bytes -= sum(array.nbytes for array in kept) - sum(a.nbytes for a in in_use)
        kept[:] = in_use
    return _kept_bytes + nbytes <= _KEEP_MOST


def empty_cache():
    """Let go of the arrays ``empty`` keeps for reuse, as ``torch.cuda.empty_cache`` lets go
    of its cached blocks: those no one else refers to are freed, those in use stay with
    their users. Later calls make their arrays anew."""
    global _kept_bytes
    with _kept_lock:
        _kept.clear()
        _kept_bytes = 0


def memory_reserved():
    """Bytes of the arrays ``empty`` keeps for reuse, in use or not (as
    ``torch.cuda.memory_reserved``): memory a step takes though an earlier step made it."""
    return _kept_bytes


def zeros(shape, dtype):
    """``np.zeros(shape, dtype)`` in memory from ``empty``."""
    out = empty(shape, dtype)
    out.fill(0)
    return out


# ----------------------------------------------------------------------------------------
# Matrix products: slices small enough for one BLAS thread each, on our threads
# ----------------------------------------------------------------------------------------

# Multiply-adds (per matrix) from which OpenBLAS splits a product among its own threads
ONE_THREAD = 15 << 16
# ... and from which that split pays for itself: larger products are left to it whole
_THREADS_PAY = 1 << 22


def matmul(a, b):
    """a @ b. A product of two arrays of two or more axes, of ``ONE_THREAD`` up to
    ``_THREADS_PAY`` multiply-adds per matrix, is computed by ``matmul_in_slices``.

    OpenBLAS would split such a product among its own threads, wait for all of them, and
    then leave them busy-waiting for its next call, on the cores that ``parallel_map``'s
    threads (and the rest of the machine) need. In one-thread slices on our threads,
    nothing waits in a loop.

    A product of two 2-D arrays below ``ONE_THREAD`` goes to ``np.dot``: the same BLAS
    call as ``@``, reached with less setup than the matmul ufunc's, which is much of the
    time of a tiny network's products (larger ones are faster through ``@``, whose call
    suits BLAS better for a transposed operand). Values (under ``create_graph``) get the
    recorded ``@``.
    """
    # the first test (a.size times b's columns: the multiply-adds of all of a's matrices)
    # costs a small product little: the step of a tiny network makes many
    if a.size * b.shape[-1] < ONE_THREAD:
        if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 == b.ndim:
            return np.dot(a, b)
    elif _in_slices(a, b):
        return matmul_in_slices(a, b, ONE_THREAD)
    return a @ b


def _in_slices(a, b):
    """Whether ``matmul`` computes a @ b in slices: arrays, of the size it splits."""
    return (type(a) is np.ndarray and type(b) is np.ndarray and min(a.ndim, b.ndim) >= 2
            and ONE_THREAD <= a.shape[-2] * a.shape[-1] * b.shape[-1] < _THREADS_PAY)


def affine(x, w, b):
    """x @ w.T + b for arrays, ``b`` None or of w's rows: a fully connected layer.

    The product as ``matmul`` computes it, with its size test made once, on x's rows times
    w's size (its multiply-adds): a small one goes straight to ``np.dot``. The bias is
    added into the product's own memory, so no second output-sized array is made.
    """
    if x.ndim == 2 and x.shape[0] * w.size < ONE_THREAD:
        z = np.dot(x, w.T)
    else:
        z = matmul(x, w.T)
    if b is None:
        return z
    if b.dtype is z.dtype and b.shape == w.shape[:1]:  # the layer's own bias
        z += b
        return z
    return z + b


def affine_grads(g, x, w, need_x, need_w, need_b):
    """(g @ w, g.T @ x, g summed over its rows) for 2-D g and x, each None where not
    needed: the gradients of x @ w.T + b for the output's gradient g.

    Both products have g's rows times w's size multiply-adds, so one test sends a small
    layer's three straight to ``np.dot`` (the sum as a product with ones, as
    ``sum_along``); a larger one, or Values (under ``create_graph``), go through
    ``matmul`` and ``sum_along``.
    """
    if type(g) is np.ndarray and g.shape[0] * w.size < ONE_THREAD:
        return (np.dot(g, w) if need_x else None, np.dot(g.T, x) if need_w else None,
                np.dot(_ones(g.shape[0], g.dtype), g) if need_b else None)
    return (matmul(g, w) if need_x else None, matmul(g.T, x) if need_w else None,
            sum_along(g, 0) if need_b else None)


def matmul_in_slices(a, b, most, out=None):
    """``np.matmul(a, b, out=out)`` for arrays of two or more axes, as the products of
    near-equal slices of a's rows or b's columns (whichever are more), each of fewer than
    ``most`` multiply-adds per matrix, shared among threads (``parallel_map``).

    Each entry of the result is the sum over the same k products as in the whole
    product: only rows or columns are split, never the summed axis. (BLAS may still order
    a sum differently for a smaller matrix.)
    """
    m, k, p = a.shape[-2], a.shape[-1], b.shape[-1]
    if out is None:
        out = np.empty(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (m, p),
                       np.result_type(a, b))
    by_rows = m >= p
    n = m if by_rows else p
    count = -(-n // max(1, (most - 1) // max(1, k * (p if by_rows else m))))
    if count <= 1:
        return np.matmul(a, b, out=out)
    step = -(-n // count)

    def product(part):
        if by_rows:
            np.matmul(a[..., part, :], b, out=out[..., part, :])
        else:
            np.matmul(a, b[..., part], out=out[..., part])

    parallel_map(product, [slice(start, start + step) for start in range(0, n, step)])
    return out


# ----------------------------------------------------------------------------------------
# 0-d inputs: a Value of shape () arrives in forward as a NumPy scalar, on which Python's
# own comparison and branch are much cheaper than a ufunc call.
# ----------------------------------------------------------------------------------------


def read_only(array):
    """``array``, made read-only: for an array kept and shared by every later call (a
    constant vector, an index) that no caller may write into."""
    array.flags.writeable = False
    return array


@functools.lru_cache(maxsize=16)
def _zero(dtype):
    """A read-only 0-d zero of ``dtype``, kept for reuse."""
    return read_only(np.zeros((), dtype))


def relu_owned(x):
    """max(x, 0) of a new float array that only the caller holds (a layer's product in
    ``LinearStack``), NaN kept, written into x itself: no second array is made. Compared
    with a 0-d zero of its dtype, which NumPy need not convert from a Python int first;
    a large contiguous array in parts, shared among threads (``in_parts``).
    """
    if _splits(x):
        return in_parts(_relu_into, x, x)
    return np.maximum(x, _zero(x.dtype), out=x)


def relu(x):
    """max(x, 0) elementwise, NaN kept (as ``np.maximum``), a large array into one from
    ``empty``.

    A NumPy scalar is compared in Python instead of calling ``np.maximum``; a large
    contiguous float array is done in parts, shared among threads (``in_parts``).
    """
    if type(x) is not np.ndarray:
        return x if not x <= 0 else x.dtype.type(0)
    if x.nbytes < _KEEP_FROM:  # not one that empty keeps: skip its call
        return np.maximum(x, 0)
    out = empty(x.shape, x.dtype)
    if _splits(x):
        return in_parts(_relu_into, out, x)
    return _relu_into(out, x)


def _relu_into(out, x):
    """out = max(x, 0)."""
    return np.maximum(x, 0, out=out)


def relu_grad(grad, x):
    """grad * (x > 0): the gradient through ReLU.

    A large array of one float dtype is written into an array from ``empty`` (kept for the
    next step: see there); smaller ones, Values (under ``create_graph``) and anything else
    get the formula.
    """
    if (type(x) is np.ndarray and x.nbytes >= _KEEP_FROM and type(grad) is np.ndarray
            and grad.dtype is x.dtype):
        return _times_mask(empty(x.shape, x.dtype), grad, x)
    return grad * (x > 0)


def relu_grad_owned(grad, x):
    """grad * (x > 0) of a float array grad that only the caller holds (the gradient a
    layer of ``LinearStack`` just made), written into grad itself: no new array. Values
    (under ``create_graph``) get the formula, recorded.
    """
    if type(grad) is not np.ndarray:
        return grad * (x > 0)
    return _times_mask(grad, grad, x)


def _times_mask(out, grad, x):
    """out = grad * (x > 0) in one pass, multiplying by the comparison's bools as they
    come; large contiguous arrays in parts, shared among threads (``in_parts``; a part is
    too small to be split again)."""
    if _splits(x) and grad.flags.c_contiguous and out.flags.c_contiguous:
        return in_parts(_times_mask, out, grad, x)
    return np.multiply(grad, x > 0, out=out)


def sigmoid(x):
    """1 / (1 + e**-x), from e = e**-|x|: 1 / (1 + e) for x >= 0, e / (1 + e) below.

    For a NumPy scalar a Python branch picks the formula, instead of ``np.where``.
    """
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    if type(x) is not np.ndarray:
        return r if x >= 0 else e * r
    return np.where(x >= 0, r, e * r)


# ----------------------------------------------------------------------------------------
# Softmax cross-entropy on (N, C) scores: few classes per row
# ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _ones(n, dtype):
    """A read-only vector of n ones, kept for reuse."""
    return read_only(np.ones(n, dtype))


def sum_along(x, axis):
    """x.sum(axis=axis).

    For a 2-D array, a product with a vector of ones: one BLAS call, faster than ``sum``'s
    reduction on the small arrays of a training step (the rows of few classes in
    cross-entropy, a batch of bias gradients in ``Linear``). A Value (under
    ``create_graph``) gets the recorded ``sum``.
    """
    if type(x) is np.ndarray and x.ndim == 2:
        if axis == 1:
            return np.dot(x, _ones(x.shape[1], x.dtype))
        if axis == 0:
            return np.dot(_ones(x.shape[0], x.dtype), x)
    return x.sum(axis=axis)


def max_along(x, axis):
    """x.max(axis=axis, keepdims=True), for an array.

    For (N, C) rows along axis 1, each row's argmax picked from the flat array: NumPy's
    max reduction costs more than argmax and a take on the few classes of a toy problem.
    """
    if x.ndim == 2 and axis == 1:  # take reads x flat, row after row
        return x.take(row_starts(*x.shape) + x.argmax(axis=1)).reshape(x.shape[0], 1)
    return x.max(axis=axis, keepdims=True)


@functools.lru_cache(maxsize=64)
def row_starts(rows, columns):
    """Where each row of a (rows, columns) array starts in its flat order (with one
    column: the row numbers), read-only and kept: every batch of one shape has the same."""
    return read_only(np.arange(0, rows * columns, columns))


def softmax_minus_onehot(x, axis, flat, e, total):
    """softmax(x) - onehot along ``axis``: the softmax with 1 subtracted at the labelled
    positions ``flat`` (indices into ``x.ravel()``), for cross-entropy's backward.

    For an array x it divides ``e``, the shifted exponentials forward computed, by their
    sums ``total`` and subtracts the 1s in place: no exponential computed twice and no
    one-hot array. A Value x (under ``create_graph``) gets its softmax recorded anew from
    x, so that it has a gradient too.
    """
    if type(x) is np.ndarray:
        g = e / total.reshape(e.shape[:axis] + (1,) + e.shape[axis + 1:])
        g.ravel()[flat] -= 1  # g is new and contiguous: its ravel is a view
        return g
    onehot = np.zeros(x.shape, dtype=x.dtype)
    onehot.ravel()[flat] = 1
    return (x - x.logsumexp(axis=axis, keepdims=True)).exp() - onehot


# ----------------------------------------------------------------------------------------
# Batch norm: sums of products per channel
# ----------------------------------------------------------------------------------------


def channel_dot(a, b):
    """Σ a b over every axis but the channel axis 1, kept as size-1 axes.

    For arrays, one ``einsum`` over (N, C, rest) views: it accumulates the products as it
    goes instead of first writing the full-size array a b. Values (under
    ``create_graph``) get the recorded ``(a * b).sum(...)``.
    """
    if type(a) is not np.ndarray or type(b) is not np.ndarray:
        return (a * b).sum(axis=(0, *range(2, a.ndim)), keepdims=True)
    n, channels, rest = a.shape[0], a.shape[1], math.prod(a.shape[2:])
    dot = np.einsum("ncs,ncs->c", a.reshape(n, channels, rest), b.reshape(n, channels, rest))
    return dot.reshape((1, channels) + (1,) * (a.ndim - 2))


# ----------------------------------------------------------------------------------------
# Parameter updates: param -= lr * g without a parameter-sized temporary
# ----------------------------------------------------------------------------------------

# Bytes of a parameter per block: the product lr * g of a block stays in the core's cache,
# and the blocks are few enough that the loop's own Python turns cost little beside the pass
_UPDATE_BLOCK_BYTES = 1 << 17


def subtract_scaled_(updates):
    """param -= lr * g in place, for each ``(param, lr, g)`` of ``updates`` (``param`` an
    ndarray, ``g`` of its shape).

    One call for every parameter of a step, as PyTorch's foreach kernels: a small
    network has many small parameters, and a call for each would cost about as much as
    its update. A contiguous parameter larger than one block is updated block by block
    (``_subtract_scaled_in_blocks``).
    """
    for param, lr, g in updates:
        if (param.nbytes <= _UPDATE_BLOCK_BYTES
                or not (param.flags.c_contiguous and g.flags.c_contiguous)):
            param -= lr * g
        else:
            _subtract_scaled_in_blocks(param, lr, g)


def _subtract_scaled_in_blocks(param, lr, g):
    """param -= lr * g for contiguous arrays, block by block, so lr * g is never a new
    parameter-sized array. Such an array, made and freed in every step, is what can leave
    the top of glibc's heap free and over its trim threshold at the end of a step: malloc
    then hands that memory back to the system and the next step takes it again, a page
    fault for every page. Each block's product is small, stays in the cache, and its
    memory is reused by the next block.
    """
    flat_param, flat_g = param.reshape(-1), g.reshape(-1)
    step = _UPDATE_BLOCK_BYTES // param.itemsize
    for start in range(0, flat_param.size, step):
        flat_param[start:start + step] -= lr * flat_g[start:start + step]

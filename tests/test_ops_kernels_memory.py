"""kernels.empty: the large arrays of a step are handed out again once no one holds them,
and never while anyone does."""

import os
import time
import warnings
import weakref

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn
from tinygrad_edu.ops import kernels
from tinygrad_edu.optim import SGD

LARGE = (128, 128)  # float64: 128 KB, kept
SMALL = (16, 16)  # 2 KB, not kept


@pytest.fixture(autouse=True)
def no_kept_arrays(monkeypatch):
    """Each test starts with nothing kept, and what it keeps is forgotten after it."""
    monkeypatch.setattr(kernels, "_kept", {})
    monkeypatch.setattr(kernels, "_kept_bytes", 0)


def test_an_array_no_one_holds_is_handed_out_again():
    a = kernels.empty(LARGE, np.float64)
    address = a.ctypes.data
    del a
    b = kernels.empty(LARGE, np.float64)
    assert b.ctypes.data == address and b.shape == LARGE and b.dtype == np.float64


def test_an_array_is_handed_out_again_only_for_its_shape_and_dtype():
    a = kernels.empty(LARGE, np.float64)
    address = a.ctypes.data
    del a
    others = [kernels.empty(LARGE, np.float32), kernels.empty((64, 256), np.float64)]
    assert all(o.ctypes.data != address for o in others)
    assert kernels.empty(LARGE, np.dtype("float64")).ctypes.data == address


def _suspended(a):
    """A generator suspended with ``a`` as a local of its frame (and no other reference)."""
    def frame(a):
        yield
        yield a
    gen = frame(a)
    next(gen)
    return gen


# Each way a user can hold an array, and how to get the array back from what holds it
HOLDERS = {
    "a local": (lambda a: a, lambda held: held),
    "a list": (lambda a: [a], lambda held: held[0]),
    "a dict": (lambda a: {"data": a}, lambda held: held["data"]),
    "a view": (lambda a: a[1:, ::2], lambda held: held),
    "a memoryview": (memoryview, np.asarray),
    "a Value": (lambda a: Value(a, requires_grad=False), lambda held: held.data),
    "a suspended frame's local": (_suspended, lambda held: next(held)),
}


@pytest.mark.parametrize("hold", HOLDERS)
def test_an_array_anyone_still_holds_is_not_handed_out(hold):
    keep, get = HOLDERS[hold]
    a = kernels.empty(LARGE, np.float64)
    a.fill(1.0)
    held = keep(a)
    del a
    b = kernels.empty(LARGE, np.float64)
    b.fill(2.0)
    data = get(held)
    assert not np.shares_memory(b, data)
    assert (data == 1.0).all()


def test_where_reference_counts_cannot_tell_nothing_is_reused(monkeypatch):
    monkeypatch.setattr(kernels, "_COUNTS_TELL", False)
    a = kernels.empty(LARGE, np.float64)
    assert a.shape == LARGE and a.dtype == np.float64
    assert kernels._kept == {} and kernels.memory_reserved() == 0


def test_the_calibrated_counts_tell_an_array_held_elsewhere_or_through_a_view():
    unused, tell = kernels._calibrate()
    assert tell and unused == kernels._UNUSED

    kept = [kernels.aligned_empty(LARGE, np.dtype(np.float64)) for _ in range(3)]
    held = kept[0]
    view = kept[1][::2]  # refers to the memory block, not to the array it was made from
    assert view.base is kept[1].base
    assert kernels._counts(kept) == [(unused[0] + 1, unused[1]), (unused[0], unused[1] + 1),
                                     unused]
    assert held is kept[0]


def test_every_array_a_caller_holds_is_its_own():
    held = [kernels.empty(LARGE, np.float64) for _ in range(5)]
    addresses = {a.ctypes.data for a in held}
    assert len(addresses) == 5
    del held
    again = [kernels.empty(LARGE, np.float64) for _ in range(5)]
    assert {a.ctypes.data for a in again} == addresses  # all five reused, each once


def test_small_arrays_are_not_kept():
    a = kernels.empty(SMALL, np.float64)
    assert a.shape == SMALL and a.dtype == np.float64
    assert kernels._kept == {} and kernels._kept_bytes == 0


def test_no_more_than_the_byte_limit_is_kept(monkeypatch):
    nbytes = np.empty(LARGE).nbytes
    monkeypatch.setattr(kernels, "_KEEP_MOST", 2 * nbytes + 1)
    held = [kernels.empty(LARGE, np.float64) for _ in range(4)]
    assert kernels._kept_bytes == 2 * nbytes
    assert [len(kept) for kept in kernels._kept.values()] == [2]
    assert all(any(k is a for a in held) for k in kernels._kept[(LARGE, np.dtype(np.float64))])


def test_empty_cache_lets_go_of_the_kept_arrays_but_not_of_those_in_use():
    held = kernels.empty(LARGE, np.float64)
    held.fill(3.0)
    free = kernels.empty(LARGE, np.float64)
    freed = weakref.ref(free)
    del free
    assert freed() is not None and kernels.memory_reserved() == 2 * held.nbytes
    kernels.empty_cache()
    assert freed() is None and kernels.memory_reserved() == 0
    again = kernels.empty(LARGE, np.float64)
    again.fill(4.0)
    assert (held == 3.0).all() and kernels.memory_reserved() == again.nbytes


def test_past_the_byte_limit_the_least_recently_asked_free_arrays_make_room(monkeypatch):
    nbytes = np.empty(LARGE).nbytes
    monkeypatch.setattr(kernels, "_KEEP_MOST", 2 * nbytes)
    shapes = [LARGE, (64, 256), (256, 64)]  # the same bytes each
    first = kernels.empty(shapes[0], np.float64)
    first_gone = weakref.ref(first)
    second = kernels.empty(shapes[1], np.float64)
    del first, second
    kernels.empty(shapes[1], np.float64)  # the second shape asked for again: more recent
    third = kernels.empty(shapes[2], np.float64)
    assert first_gone() is None and kernels.memory_reserved() == 2 * nbytes
    assert [len(kernels._kept[(s, np.dtype(np.float64))]) for s in shapes] == [0, 1, 1]
    held = kernels.empty(shapes[1], np.float64)  # all kept arrays in use: nothing to let go
    fourth = kernels.empty(shapes[0], np.float64)
    assert kernels.memory_reserved() == 2 * nbytes
    assert all(not np.shares_memory(fourth, a) for a in (held, third))


def test_zeros_are_zeros_in_reused_memory():
    a = kernels.empty(LARGE, np.float32)
    a.fill(np.nan)
    del a
    z = kernels.zeros(LARGE, np.float32)
    assert z.dtype == np.float32 and z.shape == LARGE and (z == 0).all()
    assert not np.signbit(z).any()


def test_threads_taking_arrays_at_once_never_share_one(monkeypatch):
    """Parts on two threads each take arrays, write their own number and check it after
    the other thread had time to take arrays too."""
    monkeypatch.setattr(kernels, "_num_threads", 2)

    def part(i):
        mine = [kernels.empty(LARGE, np.float64) for _ in range(3)]
        for a in mine:
            a.fill(i)
        time.sleep(0.002)
        return all((a == i).all() for a in mine)

    assert all(kernels.parallel_map(part, range(40)))


def test_a_forked_child_takes_arrays_though_the_parent_held_the_lock():
    with kernels._kept_lock, warnings.catch_warnings():  # held as by a thread, at the fork
        warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12+: fork in threads
        pid = os.fork()
        if pid == 0:  # the child: exit status 0 once it has its array
            try:
                kernels.empty(LARGE, np.float64)
            finally:
                os._exit(0)
    deadline = time.monotonic() + 10
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    if done[0] == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    assert done[0] == pid and os.waitstatus_to_exitcode(done[1]) == 0


def test_a_second_training_step_takes_no_new_memory(monkeypatch):
    """The arrays of a CNN's step, kept in the first step, serve the second (on one
    thread: on two, parts that ran one after the other may run at once the next time, and
    each takes an array of its own)."""
    monkeypatch.setattr(kernels, "_num_threads", 1)
    model = _cnn(0)
    rng = np.random.default_rng(0)
    x = Value(rng.standard_normal((32, 1, 28, 28)).astype(np.float32), requires_grad=False)
    labels = rng.integers(0, 10, 32)
    optimizer = SGD(model.parameters(), lr=0.1)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), labels).backward(intermediate_grads=False,
                                                   retain_graph=False)
        optimizer.step()

    step()
    kept = {key: [a.ctypes.data for a in arrays] for key, arrays in kernels._kept.items()}
    assert kernels.memory_reserved() > 0
    step()
    assert {key: [a.ctypes.data for a in arrays]
            for key, arrays in kernels._kept.items()} == kept


def _cnn(seed):
    f32 = np.float32
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, seed=seed, dtype=f32), nn.BatchNorm2d(8, dtype=f32),
        nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1, seed=seed + 1, dtype=f32),
        nn.BatchNorm2d(16, dtype=f32), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 7 * 7, 10, seed=seed + 2, dtype=f32))


def test_what_a_user_keeps_of_a_step_is_not_overwritten_by_the_next_steps():
    """The data of a layer's output, and a view of another's, kept across training steps
    of the same shapes, keep their values."""
    model = _cnn(0)
    rng = np.random.default_rng(1)
    x = Value(rng.standard_normal((32, 1, 28, 28)).astype(np.float32), requires_grad=False)
    labels = rng.integers(0, 10, 32)
    conv_out = model[0](x).data
    bn_view = model[1](model[0](x)).data[:, 3]
    expected = conv_out.copy(), bn_view.copy()
    optimizer = SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(model(x), labels).backward()
        optimizer.step()
    assert np.array_equal(conv_out, expected[0]) and np.array_equal(bn_view, expected[1])

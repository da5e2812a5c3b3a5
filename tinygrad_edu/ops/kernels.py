"""Kernels: faster ways to compute what an op's formula says.

An op's ``forward`` and ``backward`` read as the math; where a faster way to compute the
same numbers pays off in a training step, the op calls one of these functions instead of
writing the trick inline. Each docstring says what the function computes and why it is
faster. A reader learning backprop can skip this module: replacing a call with the
formula in its docstring changes no result.
"""

from __future__ import annotations

import functools
import math

import numpy as np

# ----------------------------------------------------------------------------------------
# 0-d inputs: a Value of shape () arrives in forward as a NumPy scalar, on which Python's
# own comparison and branch are much cheaper than a ufunc call.
# ----------------------------------------------------------------------------------------


def relu(x):
    """max(x, 0) elementwise, NaN kept (as ``np.maximum``).

    A NumPy scalar is compared in Python instead of calling ``np.maximum``.
    """
    if type(x) is not np.ndarray:
        return x if not x <= 0 else x.dtype.type(0)
    return np.maximum(x, 0)


def relu_grad(grad, x):
    """grad * (x > 0): the gradient through ReLU.

    For arrays of one float dtype the mask is made in that dtype and multiplied in place:
    a float array times a bool array is a loop that converts each bool on the way, much
    slower than NumPy's vector loop over two arrays of one dtype. Values (under
    ``create_graph``) and anything else get the formula.
    """
    if type(grad) is np.ndarray and type(x) is np.ndarray and grad.dtype is x.dtype:
        mask = np.greater(x, 0, out=np.empty(x.shape, grad.dtype), casting="unsafe")
        return np.multiply(grad, mask, out=mask)
    return grad * (x > 0)


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
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


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
    if x.ndim == 2 and axis == 1:
        starts = np.arange(0, x.size, x.shape[1])
        return x.take(starts + x.argmax(axis=1)).reshape(x.shape[0], 1)  # take reads x flat
    return x.max(axis=axis, keepdims=True)


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

_UPDATE_BLOCK = 1 << 13  # elements per block: the product lr * g of a block stays in cache


def subtract_scaled_(param, lr, g):
    """param -= lr * g, in place (``param`` an ndarray, ``g`` of its shape).

    A contiguous parameter larger than one block is updated block by block, so lr * g is
    never a new parameter-sized array. Such an array, made and freed in every step, is
    what can leave the top of glibc's heap free and over its trim threshold at the end of
    a step: malloc then hands that memory back to the system and the next step takes it
    again, a page fault for every page. Each block's product is small, stays in the
    cache, and its memory is reused by the next block.
    """
    if param.size <= _UPDATE_BLOCK or not (param.flags.c_contiguous and g.flags.c_contiguous):
        param -= lr * g
        return
    flat_param, flat_g = param.reshape(-1), g.reshape(-1)
    for start in range(0, flat_param.size, _UPDATE_BLOCK):
        block = slice(start, start + _UPDATE_BLOCK)
        flat_param[block] -= lr * flat_g[block]

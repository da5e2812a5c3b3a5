"""Convolution and pooling over (N, C, H, W) images, PyTorch's layouts and semantics.

A convolution is a matrix product in disguise: cut every window the kernel visits out of
the (zero-padded) input, lay each out as a column ("im2col"), and multiply the kernels,
laid out as rows, by the columns. Its gradients are the same trick run backwards: the
gradient of the columns is added back onto the windows they came from ("col2im").

Everything here is exact for any stride, padding, dilation and group count. The three
convolution ops are the three partial derivatives of one trilinear form, so each one's
backward is written with the other two and derivatives of any order come for free::

    L(x, w, g) = <conv2d(x, w), g>
    conv2d(x, w)            = dL/dg     (Conv2d)
    conv_transpose2d(g, w)  = dL/dx     (ConvTranspose2d: the input's gradient)
    conv2d_weight(x, g)     = dL/dw     (Conv2dWeight: the weight's gradient)

Shapes: x (N, C, H, W), weight (O, C / groups, kH, kW), output (N, O, Ho, Wo) with
``Ho = (H + 2 padding - dilation (kH - 1) - 1) // stride + 1`` (and the same for W).
The options arrive as pairs of ints, already checked (``tinygrad_edu.functional.conv``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd import Function
from . import kernels

Pair = tuple[int, int]


# ----------------------------------------------------------------------------------------
# Windows: im2col and col2im
# ----------------------------------------------------------------------------------------


def _output_size(size: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Pair:
    """(Ho, Wo): how many windows fit along each axis of a padded input."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1  # type: ignore[return-value]
                 for n, k, s, p, d in zip(size, kernel, stride, padding, dilation))


def _pad(x: np.ndarray, padding: Pair, fill: float = 0.0) -> np.ndarray:
    """x with ``padding`` rows and columns of ``fill`` on each side (x itself without).
    An assignment into a filled array: ``np.pad`` gives the same and is slower."""
    (ph, pw) = padding
    if not (ph or pw):
        return x
    n, c, h, w = x.shape
    out = kernels.empty((n, c, h + 2 * ph, w + 2 * pw), x.dtype)
    out.fill(fill)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _offsets(kernel: Pair, stride: Pair, dilation: Pair,
             out_size: Pair) -> Iterator[tuple[int, int, tuple[slice, slice]]]:
    """For each kernel cell (a, b), in row-major order: a, b and the (rows, columns)
    slices of the padded input that this cell visits, one per window, over all windows."""
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, out_size
    for a in range(kernel[0]):
        rows = slice(a * dh, a * dh + sh * (ho - 1) + 1, sh)
        for b in range(kernel[1]):
            yield a, b, (rows, slice(b * dw, b * dw + sw * (wo - 1) + 1, sw))


# Output rows shorter than this many pixels are gathered by index in _im2col
_GATHER_ROW = 12
# ... and in pooling (see _cells), where they are also too short for flat rows
_SHORT_ROW = 8


def _im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
            groups: int) -> np.ndarray:
    """The windows as columns, one matrix per image and group: (N, groups,
    C/groups kH kW, Ho Wo).

    Column ``i Wo + j`` of image n, group q holds the window at output pixel (i, j) over
    the group's input channels, channel-major then kernel row then kernel column (the
    order of a weight's (C/groups, kH, kW) axes):
    ``cols[n, q, (c, a, b), (i, j)] = x_pad[n, q C/groups + c, i sH + a dH, j sW + b dW]``.

    NOTE: a copy of the strided windows view proceeds one output row (Wo pixels) at a
    time; on rows of a few pixels that per-row overhead dominates, and gathering the
    cells through a flat index (``_window_index``) is faster. It reads the unpadded
    planes, each with one zero after it where the padding is read: a padded copy of x
    would again be made one short row at a time.
    """
    (sh, sw), (dh, dw) = stride, dilation
    n, c = x.shape[:2]
    out_size = _output_size(x.shape[2:], kernel, stride, padding, dilation)
    if out_size[1] < _GATHER_ROW:
        size = math.prod(x.shape[2:])
        planes = kernels.empty((n * c, size + 1), x.dtype)
        planes[:, :size] = x.reshape(n * c, size)
        planes[:, size] = 0
        index = _window_index(x.shape[2:], kernel, stride, padding, dilation, out_size)
        cols = planes.take(index, axis=1, out=kernels.empty((n * c, index.size), x.dtype),
                           mode="clip")  # (N C, kH kW Ho Wo); "clip": into out unbuffered
        return cols.reshape(n, groups, c // groups * kernel[0] * kernel[1], math.prod(out_size))
    span = (dh * (kernel[0] - 1) + 1, dw * (kernel[1] - 1) + 1)
    win = sliding_window_view(_pad(x, padding), span, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    _, _, ho, wo, kh, kw = win.shape
    cols = kernels.empty((n, groups, c // groups * kh * kw, ho * wo), x.dtype)
    np.copyto(cols.reshape(n, c, kh, kw, ho, wo), win.transpose(0, 1, 4, 5, 2, 3))
    return cols


@functools.lru_cache(maxsize=64)
def _window_index(size: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                  out_size: Pair) -> np.ndarray:
    """The flat positions in an (H, W) image of every window's cells, in _im2col's order:
    ``index[(a, b, i, j)] = r W + q`` for the cell at row ``r = i sH + a dH - pH`` and
    column ``q = j sW + b dW - pW``, or H W (one past the image) where that is padding."""
    rows = np.arange(kernel[0])[:, None] * dilation[0] + np.arange(out_size[0]) * stride[0]
    cols = np.arange(kernel[1])[:, None] * dilation[1] + np.arange(out_size[1]) * stride[1]
    rows, cols = rows[:, None, :, None] - padding[0], cols[None, :, None, :] - padding[1]
    inside = (rows >= 0) & (rows < size[0]) & (cols >= 0) & (cols < size[1])
    index = np.where(inside, rows * size[1] + cols, size[0] * size[1]).ravel()
    return kernels.read_only(index)


def _col2im(cols: np.ndarray, size: Pair, kernel: Pair, stride: Pair, padding: Pair,
            dilation: Pair) -> np.ndarray:
    """The adjoint of ``_im2col``: add every column back onto the window it came from,
    giving (N, C, H, W). One strided add per kernel cell: it covers the input pixels
    that cell touches in every window at once."""
    out_size = _output_size(size, kernel, stride, padding, dilation)
    n = cols.shape[0]
    cols = cols.reshape(n, cols.shape[1] * cols.shape[2] // math.prod(kernel), *kernel,
                        *out_size)  # (N, C, kH, kW, Ho, Wo)
    (ph, pw) = padding
    out = kernels.zeros((n, cols.shape[1], size[0] + 2 * ph, size[1] + 2 * pw), cols.dtype)
    for a, b, window in _offsets(kernel, stride, dilation, out_size):
        out[(..., *window)] += cols[:, :, a, b]
    return out[:, :, ph:ph + size[0], pw:pw + size[1]]


def _per_group(a: np.ndarray, groups: int) -> np.ndarray:
    """An (N, O, Ho, Wo) array as one matrix per image and group: (N, groups, O/groups,
    Ho Wo), the layout of a convolution's product (a view of a contiguous array)."""
    n, o = a.shape[:2]
    return a.reshape(n, groups, o // groups, math.prod(a.shape[2:]))


# ----------------------------------------------------------------------------------------
# Kernels: the products the ops below are made of
# ----------------------------------------------------------------------------------------


# Columns built per matrix product: small enough to stay in the CPU's cache
_CHUNK_BYTES = 1 << 20
# Input bytes per chunk of max pooling and of its gradient, shared among threads: their many
# NumPy calls are short (a comparison of small cells each), and a thread waits for Python's
# lock after each of them while another holds it, which on smaller chunks costs more than the
# second thread gains
_POOL_CHUNK_BYTES = 1 << 21
# Multiply-adds per matrix that BLAS runs on one thread (kernels.ONE_THREAD)
_ONE_THREAD = kernels.ONE_THREAD


def _matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b, out=out)``, in slices of a's rows or b's columns small enough
    for BLAS to multiply each on one thread (``kernels.matmul_in_slices``).

    NOTE: BLAS splits a larger product across threads, and each split call waits for
    all of its threads: when the machine's cores are busy with anything else, that wait
    outlasts the work many times over, once per call (per image, here). The chunks of
    images that call these products already share the cores among our threads.
    """
    return kernels.matmul_in_slices(a, b, _ONE_THREAD, out)


def _column_chunks(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                   dilation: Pair, even: bool = False) -> list[slice]:
    """Slices of the batch whose im2col columns take about ``_CHUNK_BYTES`` each (at least
    one image per slice; ``even`` as in ``kernels.chunks``): the chunks whose columns
    ``_correlate`` and ``_weight_grad`` build and use one at a time, shared among threads
    (``kernels.parallel_map``).

    Each chunk's columns are used while they are still in the cache, and the whole
    batch's columns, kH kW times the size of the input, are never one large new array,
    whose every page the system must map in when it is first written.
    """
    out_size = _output_size(x.shape[2:], kernel, stride, padding, dilation)
    per_image = x.shape[1] * kernel[0] * kernel[1] * out_size[0] * out_size[1] * x.itemsize
    return kernels.chunks(x.shape[0], per_image, _CHUNK_BYTES, even=even)


# ----------------------------------------------------------------------------------------
# Flat rows: a stride-1 window cell as one contiguous run
# ----------------------------------------------------------------------------------------


def _flat_rows(x_size: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
               channels: int, out_channels: int, groups: int) -> bool:
    """Whether a convolution runs as products over flat rows (``_flat_padded``), one per
    kernel cell, with no columns: with stride 1 and many channels per group (each
    product sums over them), when the columns would be larger than the output (more input
    channels times kernel cells than output channels) and the output rows short, but not
    of a few pixels only. Building im2col's columns costs per output row and kernel cell,
    which then outweighs the wider products and the output's cropping."""
    wo = _output_size(x_size, kernel, stride, padding, dilation)[1]
    return (stride == (1, 1) and channels // groups >= _CELL_CHANNELS
            and channels * kernel[0] * kernel[1] > out_channels
            and _SHORT_ROW <= wo < _FLAT_ROW)


# Stride-1 output rows shorter than this take flat rows (see _flat_rows)
_FLAT_ROW = 16
# Input channels per group from which a product per kernel cell pays (see _flat_rows)
_CELL_CHANNELS = 16


def _flat_padded(x: np.ndarray, kernel: Pair, padding: Pair,
                 dilation: Pair) -> tuple[np.ndarray, int]:
    """x zero-padded into rows of ``width`` values, (N, C, rows, width), and ``width``.

    Each padded row holds one row of x after ``padding[1]`` zeros, and the zeros at the end
    of a row are also the left padding of the next, so that the padded image of a channel,
    read as one flat array, has ``x_pad[r, c] = flat[r width + c]`` for every column c of
    the padded input. With stride 1, the cell (a, b) of the windows of all output pixels
    (i, j), j < width, is then ``flat[a dH width + b dW + (i width + j)]``: one contiguous
    run of Ho width values per channel, whose positions j >= Wo are not output pixels. The
    extra rows at the bottom hold the last of those runs.
    """
    (ph, pw), span = padding, dilation[1] * (kernel[1] - 1)
    n, c, h, w = x.shape
    width = w + max(pw, 2 * pw - span)  # at least pw zeros between rows, and >= Wo values
    out = kernels.empty((n, c, h + 2 * ph + -(-span // width), width), x.dtype)

    def pad(part):
        out[part] = 0
        out[part, :, ph:ph + h, pw:pw + w] = x[part]

    # a chunk in the cache at a time
    kernels.parallel_map(pad, kernels.chunks(n, out[0].nbytes, _CHUNK_BYTES, even=True))
    return out, width


def _cell_runs(x: np.ndarray, kernel: Pair, padding: Pair, dilation: Pair, groups: int,
               out_rows: int) -> tuple[np.ndarray, list[slice], int]:
    """x as flat rows per image, group and channel, (N, G, C/G, rows width), the slice
    of each kernel cell's run (row-major order) and ``width``."""
    xp, width = _flat_padded(x, kernel, padding, dilation)
    n, c = xp.shape[:2]
    flat = xp.reshape(n, groups, c // groups, math.prod(xp.shape[2:]))
    run = out_rows * width
    starts = [a * dilation[0] * width + b * dilation[1]
              for a in range(kernel[0]) for b in range(kernel[1])]
    return flat, [slice(start, start + run) for start in starts], width


def _correlate_flat(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, padding: Pair,
                    dilation: Pair, groups: int, dtype: np.dtype) -> np.ndarray:
    """``_correlate`` with stride 1 from flat rows, without columns: per kernel cell, the
    cell's weights (O/G, C/G per group) times the cell's runs read in place (a matrix of
    C/G rows, one per channel, Ho width values each), the kH kW products summed; then
    each output row's first Wo values, plus the bias, copied into the (N, O, Ho, Wo)
    output. A small chunk of images at a time, so that the sum stays in the fastest
    cache."""
    kernel, o = w.shape[2:], w.shape[0]
    ho, wo = _output_size(x.shape[2:], kernel, (1, 1), padding, dilation)
    flat, runs, width = _cell_runs(x, kernel, padding, dilation, groups, ho)
    # (kH kW, G, O/G, C/G): each cell's weights as one contiguous matrix per group
    cells = np.ascontiguousarray(w.reshape(groups, o // groups, w.shape[1], len(runs))
                                 .transpose(3, 0, 1, 2))
    y = kernels.empty((x.shape[0], o, ho, wo), dtype)
    shape = (groups, o // groups, ho * width)
    summed = np.result_type(x, w)  # as im2col's product, which adds the bias after it

    def correlate(part):
        images = flat[part]
        total = _matmul(cells[0], images[..., runs[0]],
                        kernels.empty((len(images), *shape), summed))
        product = kernels.empty(total.shape, summed)
        for cell, run in zip(cells[1:], runs[1:]):
            total += _matmul(cell, images[..., run], product)
        rows_out = total.reshape(len(images), o, ho, width)[..., :wo]
        if b is None:
            y[part] = rows_out
        else:
            np.add(rows_out, b[:, None, None], out=y[part])

    # chunks of half: the running sum and each product, read and written kH kW times,
    # stay in the cache, and each product is long enough to run while another thread
    # holds Python's lock (with much smaller ones, the threads mostly wait for it)
    kernels.parallel_map(correlate, kernels.chunks(len(x), o * ho * width * summed.itemsize,
                                                   _CHUNK_BYTES // 2, even=True))
    return y


def _weight_grad_flat(x: np.ndarray, g: np.ndarray, kernel: Pair, padding: Pair,
                      dilation: Pair, groups: int) -> np.ndarray:
    """``_weight_grad`` with stride 1 from flat rows, without columns: per kernel cell
    and image, g's rows (zeros at the positions past each output row) times the cell's
    runs transposed, read in place, summed over the images. Exact for finite x: the
    runs' values past each output row are other pixels, and an inf or NaN times 0 is NaN
    (see ``_weight_grad``)."""
    o, c, (ho, wo) = g.shape[1], x.shape[1], g.shape[2:]
    dtype = np.result_type(x, g)
    flat, runs, width = _cell_runs(x, kernel, padding, dilation, groups, ho)
    gw = np.zeros((len(runs), groups, o // groups, c // groups), dtype)

    def products_summed(part):  # per cell, over the chunk's images
        images = flat[part]
        g_rows = kernels.zeros((len(images), o, ho, width), dtype)
        g_rows[..., :wo] = g[part]
        g_rows = g_rows.reshape(len(images), groups, o // groups, ho * width)
        per_image = kernels.empty((len(images), *gw.shape[1:]), dtype)
        return [_matmul(g_rows, images[..., run].swapaxes(2, 3), per_image).sum(axis=0)
                for run in runs]

    # chunks of half: g's rows are read once per kernel cell, from the cache
    for sums in kernels.parallel_map(products_summed, kernels.chunks(
            len(x), o * ho * width * dtype.itemsize, _CHUNK_BYTES // 2)):
        for cell, cell_sum in zip(gw, sums):  # added in the chunks' order
            cell += cell_sum
    # (kH kW, G, O/G, C/G) -> (O, C/G, kH, kW)
    return gw.transpose(1, 2, 3, 0).reshape(o, c // groups, *kernel)


def _correlate(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Pair,
               padding: Pair, dilation: Pair, groups: int
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """conv2d(x, w) + b, (N, O, Ho, Wo) (``b`` None: no bias): the kernels as rows times
    the input's windows as columns (im2col), one matrix product per image and group,
    which lands directly in the (N, O, Ho, Wo) layout; the columns built a chunk of
    images at a time (``_columns``), and the bias added to each chunk of output while it
    is in the cache. Also the columns, when the whole batch took one chunk (the weight's
    gradient can use them again), else None."""
    kernel = w.shape[2:]
    dtype = np.result_type(x, w) if b is None else np.result_type(x, w, b)
    if _flat_rows(x.shape[2:], kernel, stride, padding, dilation, x.shape[1], w.shape[0],
                  groups):
        return _correlate_flat(x, w, b, padding, dilation, groups, dtype), None
    out_size = _output_size(x.shape[2:], kernel, stride, padding, dilation)
    y = kernels.empty((x.shape[0], w.shape[0], *out_size), dtype)
    rows = w.reshape(groups, w.shape[0] // groups, math.prod(w.shape[1:]))  # (G, O/G, C/G kH kW)

    def correlate(part):
        cols = _im2col(x[part], kernel, stride, padding, dilation, groups)
        _matmul(rows, cols, out=_per_group(y[part], groups))
        if b is not None:
            y[part] += b[:, None, None]
        return cols

    chunks = _column_chunks(x, kernel, stride, padding, dilation, even=True)
    cols = kernels.parallel_map(correlate, chunks)
    return y, cols[0] if len(chunks) == 1 else None


def _weight_grad(x: np.ndarray, g: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                 dilation: Pair, groups: int, cols: np.ndarray | None) -> np.ndarray:
    """conv2d_weight(x, g), (O, C/G, kH, kW): per image and group, g's rows times x's
    columns transposed (computed as its transpose, the columns times g transposed),
    summed over the images. ``cols`` hands over the whole batch's columns, if the
    caller has them; otherwise they are built a chunk at a time, or, where ``_flat_rows``
    says so, the products run over flat rows without columns.

    NOTE: flat rows multiply pixels past each output row by zeros of g, exact for finite
    pixels; an inf or NaN there gives a NaN. Every pixel is in some product, so flat rows
    give a finite result exactly when all x and g are finite, and otherwise the columns
    compute the result again (flat rows' warnings about it silenced, the columns' not).
    """
    if cols is None and _flat_rows(x.shape[2:], kernel, stride, padding, dilation,
                                   x.shape[1], g.shape[1], groups):
        with np.errstate(all="ignore"):
            gw = _weight_grad_flat(x, g, kernel, padding, dilation, groups)
        if np.isfinite(gw).all():
            return gw
    # transposed, (G, C/G kH kW, O/G): the columns as the left operand, read row by row
    gw_t = np.zeros((groups, x.shape[1] // groups * kernel[0] * kernel[1], g.shape[1] // groups),
                    np.result_type(x, g))

    def products_summed(part):  # over the chunk's images
        part_cols = cols
        if part_cols is None:
            part_cols = _im2col(x[part], kernel, stride, padding, dilation, groups)
        per_image = kernels.empty((len(part_cols), *gw_t.shape), gw_t.dtype)
        g_t = _per_group(g[part], groups).swapaxes(2, 3)  # (n, G, HoWo, O/G)
        return _matmul(part_cols, g_t, per_image).sum(axis=0)

    chunks = [slice(None)] if cols is not None else _column_chunks(x, kernel, stride, padding,
                                                                    dilation)
    for part_sum in kernels.parallel_map(products_summed, chunks):  # in the chunks' order
        gw_t += part_sum
    return gw_t.swapaxes(1, 2).reshape(g.shape[1], x.shape[1] // groups, *kernel)


def _conv_transpose(g: np.ndarray, w: np.ndarray, input_size: Pair, stride: Pair,
                    padding: Pair, dilation: Pair, groups: int) -> np.ndarray:
    """conv_transpose2d(g, w): the gradient of conv2d with respect to its input.

    The textbook way is col2im: each window's column of w^T g added back onto the input
    pixels the window covers. With stride 1 the same sum is a correlation: the input
    pixel y + p sees the output pixel y + p - a dH through kernel row a, so

        conv_transpose2d(g, w) = conv2d(g, w flipped in (kH, kW) with its two channel
                                 axes swapped, padding = dilation (k - 1) - padding),

    computed as a forward convolution (im2col and one product per image): that writes
    the columns once, where col2im writes them and then adds them up again in kH kW
    strided passes over the input. Its columns are O/C times col2im's, so it pays while
    g has at most twice the input's channels. Other strides, a padding wider than the
    dilated kernel and more channels out than that take col2im.
    """
    kernel = w.shape[2:]
    full = tuple(d * (k - 1) - p for k, d, p in zip(kernel, dilation, padding))
    o, c = w.shape[0], w.shape[1] * groups
    if stride == (1, 1) and min(full) >= 0 and o <= 2 * c:
        # (O, C/G, kH, kW) -> (C, O/G, kH, kW), each group's kernels transposed
        w_t = w.reshape(groups, o // groups, c // groups, *kernel).swapaxes(1, 2)
        w_t = w_t.reshape(c, o // groups, *kernel)[:, :, ::-1, ::-1]
        return _correlate(g, w_t, None, stride, full, dilation, groups)[0]
    w_t = w.reshape(groups, o // groups, math.prod(w.shape[1:])).swapaxes(1, 2)  # (G, K, O/G)
    cols = _matmul(w_t, _per_group(g, groups),
                   kernels.empty((g.shape[0], groups, w_t.shape[1], math.prod(g.shape[2:])),
                                 np.result_type(g, w)))
    return _col2im(cols, input_size, kernel, stride, padding, dilation)


# ----------------------------------------------------------------------------------------
# Convolution: the three partial derivatives of <conv2d(x, w), g>
# ----------------------------------------------------------------------------------------


class Conv2d(Function):
    """y = conv2d(x, w) + b:  y[n, o, i, j] = b[o] + sum_{c, a, b'} w[o, c, a, b']
    x_pad[n, q C/G + c, i sH + a dH, j sW + b' dW]  (q = the group of channel o);

    dy/dx = conv_transpose2d(g, w),  dy/dw = conv2d_weight(x, g),  dy/db = g summed over
    (N, Ho, Wo). Forward: the kernels as rows times the input's windows as columns
    (im2col), one matrix product per image and group, plus the bias (``_correlate``).
    """

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding, dilation, groups):
        y, ctx.cols = _correlate(x, w, b, stride, padding, dilation, groups)
        ctx.save_for_backward(x, w)
        ctx.options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gx = ConvTranspose2d.apply(grad, w, input_size=x.shape[2:], **ctx.options)
        if needs[1]:
            gw = Conv2dWeight.apply(x, grad, kernel_size=w.shape[2:], cols=ctx.cols,
                                    **ctx.options)
        if len(needs) == 2:
            return gx, gw
        if needs[2]:
            gb = grad.sum(axis=(0, 2, 3))
        return gx, gw, gb


class ConvTranspose2d(Function):
    """x' = conv_transpose2d(g, w), the gradient of conv2d with respect to its input:
    every output pixel g[n, o, i, j] spreads w[o] over the window it was computed from;

    with <x', G> = <conv2d(G, w), g>:  dx'/dg = conv2d(G, w),  dx'/dw = conv2d_weight(G, g).
    ``input_size`` is the (H, W) of conv2d's input (a stride can leave rows unvisited).
    """

    @staticmethod
    def forward(ctx, g, w, *, input_size, stride, padding, dilation, groups):
        ctx.save_for_backward(g, w)
        ctx.options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return _conv_transpose(g, w, input_size, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gg = Conv2d.apply(grad, w, **ctx.options) if needs[0] else None
        gw = None
        if needs[1]:
            gw = Conv2dWeight.apply(grad, g, kernel_size=w.shape[2:], **ctx.options)
        return gg, gw


class Conv2dWeight(Function):
    """w' = conv2d_weight(x, g), the gradient of conv2d with respect to its weight:
    w'[o, c, a, b] = sum_{n, i, j} g[n, o, i, j] x_pad[n, q C/G + c, i sH + a dH, j sW + b dW];

    with <w', G> = <conv2d(x, G), g>:  dw'/dx = conv_transpose2d(g, G),  dw'/dg = conv2d(x, G).
    Forward: g's rows times x's columns (im2col) transposed, summed over the images;
    ``cols`` may hand over x's columns when the caller already has them.
    """

    @staticmethod
    def forward(ctx, x, g, *, kernel_size, stride, padding, dilation, groups, cols=None):
        ctx.save_for_backward(x, g)
        ctx.options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return _weight_grad(x, g, kernel_size, stride, padding, dilation, groups, cols)

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = None
        if needs[0]:
            gx = ConvTranspose2d.apply(g, grad, input_size=x.shape[2:], **ctx.options)
        return gx, Conv2d.apply(x, grad, **ctx.options) if needs[1] else None


# ----------------------------------------------------------------------------------------
# Pooling
# ----------------------------------------------------------------------------------------


def _cells(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, out_size: Pair,
           fill: float) -> np.ndarray:
    """The pooling windows of x padded with ``fill``, cell by cell: a contiguous
    (kH kW, N, C, Ho, Wo) array whose entry k holds kernel cell (k // kW, k % kW) of
    every window. One copy, after which reducing over the cells is a contiguous pass
    (strided slices of the input are much slower to compare and combine).

    NOTE: as in ``_im2col``, the copy of the strided windows proceeds one output row at a
    time; on short rows the cells are gathered through a flat index instead
    (``_cell_index``), when that index is not too large to keep.
    """
    (sh, sw) = stride
    xp = _pad(x, padding, fill)
    cells = kernel[0] * kernel[1]
    if out_size[1] < _SHORT_ROW and cells * math.prod(x.shape[:2] + out_size) <= _INDEX_MOST:
        return xp.reshape(-1)[_cell_index(xp.shape, kernel, stride, out_size)]
    win = sliding_window_view(xp, kernel, axis=(2, 3))[:, :, ::sh, ::sw]
    out = kernels.empty((cells, *x.shape[:2], *out_size), x.dtype)
    np.copyto(out.reshape(*kernel, *out.shape[1:]), win.transpose(4, 5, 0, 1, 2, 3))
    return out


# Most entries of a flat index of pooling cells kept for reuse (see _cells)
_INDEX_MOST = 1 << 18


@functools.lru_cache(maxsize=8)
def _cell_index(shape: tuple[int, ...], kernel: Pair, stride: Pair,
                out_size: Pair) -> np.ndarray:
    """(kH kW, N, C, Ho, Wo): the flat position, in a contiguous array of ``shape``
    (N, C, H, W), of kernel cell (a, b) of window (n, c, i, j):
    ``((n C + c) H + i sH + a) W + j sW + b``. Entry 0 holds each window's first cell."""
    h, w = shape[2:]
    planes = np.arange(shape[0] * shape[1]) * (h * w)
    windows = np.arange(out_size[0])[:, None] * (stride[0] * w) + np.arange(out_size[1]) * stride[1]
    index = (_cell_offsets(kernel, w)[:, None, None, None] + planes[:, None, None] + windows
             ).reshape(kernel[0] * kernel[1], *shape[:2], *out_size)
    return kernels.read_only(index)


def _cell_offsets(kernel: Pair, width: int) -> np.ndarray:
    """The flat offset of each kernel cell k = a kW + b from its window's first cell, in
    rows of ``width`` values: ``a width + b``."""
    return (np.arange(kernel[0])[:, None] * width + np.arange(kernel[1])).ravel()


def _picked_index(shape: tuple[int, ...], kernel: Pair, stride: Pair,
                  choice: np.ndarray) -> np.ndarray:
    """The flat position, in a contiguous array of ``shape`` (the padded input's), of the
    cell ``choice`` picks in each window (N, C, Ho, Wo): max pooling's inputs."""
    offsets = _cell_offsets(kernel, shape[3])
    index = offsets.take(choice, out=kernels.empty(choice.shape, offsets.dtype), mode="clip")
    index += _cell_index(shape, (1, 1), stride, choice.shape[2:])[0]  # each window's first
    return index


def _tiles(x: np.ndarray, kernel: Pair, out_size: Pair) -> list[np.ndarray]:
    """When the windows tile the input (stride = kernel, no padding), the kernel cells as
    kH kW views (N, C, Ho, Wo) of x, in row-major order: the rows and the columns split
    into (window, cell within it) by a reshape, with no copy."""
    (kh, kw), (ho, wo) = kernel, out_size
    v = x[:, :, :ho * kh, :wo * kw].reshape(*x.shape[:2], ho, kh, wo, kw)
    return [v[:, :, :, a, :, b] for a in range(kh) for b in range(kw)]


def _window_max(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                out_size: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum and which kernel cell (a kW + b) holds it, as PyTorch picks:
    visiting the cells in row-major order, a cell takes over when it is larger or NaN.
    So of equal maxima the first wins, and of NaNs the last. Padding is never picked:
    where a window's real inputs are all -inf, its first real input is.

    A chunk of images at a time (``kernels.chunks``), shared among threads: the
    comparisons read each cell several times, from the cache.
    """
    best = kernels.empty(x.shape[:2] + out_size, x.dtype)
    choice = kernels.empty(best.shape, np.min_scalar_type(kernel[0] * kernel[1] - 1))

    def window_max(part):
        if stride == kernel and padding == (0, 0) and out_size[1] >= _SHORT_ROW:
            cells = _tiles(x[part], kernel, out_size)
        else:
            cells = _cells(x[part], kernel, stride, padding, out_size, fill=-np.inf)
        _first_max(cells, best[part], choice[part])

    kernels.parallel_map(window_max, kernels.chunks(len(x), math.prod(x.shape[1:]) * x.itemsize,
                                                    _POOL_CHUNK_BYTES, even=True))
    if padding != (0, 0):
        first_real = [np.maximum(p - np.arange(n) * s, 0)
                      for p, n, s in zip(padding, out_size, stride)]
        first = first_real[0][:, None] * kernel[1] + first_real[1][None, :]
        choice = np.where(best == -np.inf, first, choice).astype(choice.dtype)
    return best, choice


def _first_max(cells: list[np.ndarray], best: np.ndarray, choice: np.ndarray) -> None:
    """Into ``best`` the cells' elementwise maximum (NaN where any is NaN), into ``choice``
    the index of the first cell holding it, or of the last NaN."""
    np.maximum(cells[0], cells[-1], out=best)
    for cell in cells[1:-1]:
        np.maximum(best, cell, out=best)
    # the first cell equal to the maximum: the count of leading cells that differ from it
    # (all but the last, where none is equal: a NaN maximum)
    choice[...] = 0
    differ, this = kernels.empty(best.shape, bool), kernels.empty(best.shape, bool)
    for k, cell in enumerate(cells[:-1]):
        np.not_equal(cell, best, out=this if k else differ)
        if k:
            differ &= this
        choice += differ
    if np.isnan(best, out=this).any():  # the last NaN, which compares equal to nothing
        for k, cell in enumerate(cells):
            choice[np.isnan(cell)] = k


class MaxPool2d(Function):
    """y[n, c, i, j] = x at the maximum of window (i, j) (padding counts as -inf);

    dy/dx: each output's gradient goes to the one input it came from, added up where
    windows overlap (``WindowScatter``). Of several equal maxima the first in row-major
    order wins, as in PyTorch. Given ``choice`` (which kernel cell each output takes),
    the op just picks those cells: that is how ``WindowScatter``'s backward uses it.
    """

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding, choice=None):
        out_size = _output_size(x.shape[2:], kernel_size, stride, padding, (1, 1))
        if choice is None:
            y, choice = _window_max(x, kernel_size, stride, padding, out_size)
        else:
            xp = _pad(x, padding)
            y = xp.reshape(-1)[_picked_index(xp.shape, kernel_size, stride, choice)]
        ctx.options = dict(kernel_size=kernel_size, stride=stride, padding=padding,
                           choice=choice)
        ctx.input_size = x.shape[2:]
        return y

    @staticmethod
    def backward(ctx, grad):
        return WindowScatter.apply(grad, input_size=ctx.input_size, **ctx.options)


class WindowScatter(Function):
    """x' = zeros of the input's shape, with g[n, c, i, j] added at the cell ``choice``
    picked in window (i, j): max pooling's gradient;  dx'/dg = the same cells of G
    picked again (``MaxPool2d`` with that ``choice``)."""

    @staticmethod
    def forward(ctx, g, *, input_size, kernel_size, stride, padding, choice):
        (ph, pw) = padding
        padded = (input_size[0] + 2 * ph, input_size[1] + 2 * pw)
        out = kernels.empty(g.shape[:2] + padded, g.dtype)
        # a chunk of images at a time: its zeros and the kernel cells' strided writes meet in
        # the cache
        kernels.parallel_map(
            lambda part: _scatter_picked(g[part], choice[part], out[part], kernel_size, stride),
            kernels.chunks(len(g), math.prod(out.shape[1:]) * out.itemsize,
                           _POOL_CHUNK_BYTES, even=True))
        ctx.options = dict(kernel_size=kernel_size, stride=stride, padding=padding,
                           choice=choice)
        return out[:, :, ph:ph + input_size[0], pw:pw + input_size[1]]

    @staticmethod
    def backward(ctx, grad):
        return MaxPool2d.apply(grad, **ctx.options)


def _scatter_picked(g: np.ndarray, choice: np.ndarray, out: np.ndarray, kernel: Pair,
                    stride: Pair) -> None:
    """Into ``out`` (of the padded input's shape): zeros, with g[n, c, i, j] added at the
    cell ``choice`` picks in window (i, j): the cells no window picks are 0, whatever g
    holds (a product with a 0/1 mask would leave -0.0, or NaN for an infinite g, as
    PyTorch does not).

    Where windows do not overlap, g is written through a flat index of the picked cells
    (``_picked_index``): one write, where a masked write into each kernel cell's strided
    view is a slow loop. Otherwise (or for an index too large to keep) g is added into
    each cell's view where that cell was picked.
    """
    out.fill(0)
    disjoint = stride[0] >= kernel[0] and stride[1] >= kernel[1]
    if disjoint and g.size <= _INDEX_MOST:
        out.reshape(-1)[_picked_index(out.shape, kernel, stride, choice)] = g
        return
    picked = kernels.empty(g.shape, bool)
    for a, b, window in _offsets(kernel, stride, (1, 1), g.shape[2:]):
        np.equal(choice, a * kernel[1] + b, out=picked)
        cell = out[(..., *window)]
        if disjoint:  # each input cell is in one window at most: write, don't add
            np.copyto(cell, g, where=picked)
        else:
            np.add(cell, g, out=cell, where=picked)


class AvgPool2d(Function):
    """y[n, c, i, j] = mean of x over window (i, j), padding counted as zeros (PyTorch's
    default ``count_include_pad=True``), so every window divides by kH kW;

    dy/dx: each output's gradient is spread evenly over its window, which is a transposed
    convolution of every channel with the constant kernel 1 / (kH kW).
    """

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding):
        ctx.options = dict(stride=stride, padding=padding, dilation=(1, 1), groups=1)
        ctx.kernel = np.full((1, 1, *kernel_size), 1.0 / (kernel_size[0] * kernel_size[1]),
                             dtype=x.dtype)
        ctx.shape = x.shape
        out_size = _output_size(x.shape[2:], kernel_size, stride, padding, (1, 1))
        return _cells(x, kernel_size, stride, padding, out_size, fill=0.0).mean(axis=0)

    @staticmethod
    def backward(ctx, grad):
        n, c, h, w = ctx.shape
        planes = grad.reshape((n * c, 1, *grad.shape[2:]))
        gx = ConvTranspose2d.apply(planes, ctx.kernel, input_size=(h, w), **ctx.options)
        return gx.reshape(ctx.shape)


def _averaging_matrix(size: int, out: int) -> np.ndarray:
    """P (out, size) with row i the mean over [floor(i size / out), ceil((i+1) size / out))."""
    p = np.zeros((out, size))
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        p[i, start:end] = 1.0 / (end - start)
    return p


class AdaptiveAvgPool2d(Function):
    """y = P_H x P_W^T per (n, c) plane: output pixel (i, j) is the mean over rows
    [floor(i H / Ho), ceil((i + 1) H / Ho)) and the same for columns, as in PyTorch;

    dy/dx = P_H^T g P_W. Averaging rows and averaging columns are two matrix products,
    so the backward is the two transposed products (linear, differentiable again).
    """

    @staticmethod
    def forward(ctx, x, *, output_size):
        ctx.p_h = _averaging_matrix(x.shape[2], output_size[0]).astype(x.dtype)
        ctx.p_w = _averaging_matrix(x.shape[3], output_size[1]).astype(x.dtype)
        return ctx.p_h @ x @ ctx.p_w.T

    @staticmethod
    def backward(ctx, grad):
        return ctx.p_h.T @ grad @ ctx.p_w


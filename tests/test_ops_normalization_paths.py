"""What batch norm's passes over the batch keep (tinygrad_edu.ops.normalization): float32
data stays float32, the copy of x its backward centers included."""

import numpy as np

from tinygrad_edu.ops import normalization


def test_the_backward_centers_float32_data_in_float32():
    """_centered_sums gives x - mean bit for bit as NumPy's float32 subtraction, and the
    sums of grad and of grad (x - mean) per channel in float32: the centered copy then
    becomes dx in place, in x's dtype."""
    rng = np.random.default_rng(0)
    x, grad = (rng.standard_normal((4, 3, 5, 6)).astype(np.float32) for _ in range(2))
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    centered, grad_sum, grad_dot = normalization._centered_sums(grad, x, mean)
    assert centered.dtype == grad_sum.dtype == grad_dot.dtype == np.float32
    assert centered.tobytes() == (x - mean).tobytes()
    x64, grad64 = x.astype(np.float64), grad.astype(np.float64)
    np.testing.assert_allclose(grad_sum, grad64.sum(axis=(0, 2, 3), keepdims=True),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_dot, (grad64 * (x64 - mean)).sum(axis=(0, 2, 3),
                                                                      keepdims=True),
                               rtol=1e-5, atol=1e-5)


def test_the_passes_take_the_batch_in_chunks_of_about_a_megabyte():
    """A chunk holds as many samples as fit in normalization._CHUNK_BYTES (1 MiB), the rest
    in the last one; or, for the elementwise passes (even), as many chunks of near-equal
    size. A batch of 1 KiB samples: 1024 per chunk."""
    small, large = np.zeros((64, 4, 8, 8), np.float32), np.zeros((3000, 4, 8, 8), np.float32)
    assert normalization._chunks(small) == [slice(0, 1024)]
    assert normalization._chunks(large) == [slice(0, 1024), slice(1024, 2048),
                                            slice(2048, 3072)]
    assert normalization._chunks(large, even=True) == [slice(0, 1000), slice(1000, 2000),
                                                       slice(2000, 3000)]


def test_the_bias_gradient_sums_grad_as_rows_then_each_channels_positions():
    """Σ grad per channel, for a batch in one chunk: the samples' rows added in order, then
    each channel's positions summed (float32 throughout): bit for bit."""
    from tinygrad_edu import Value
    from tinygrad_edu.functional.normalization import batch_norm

    rng = np.random.default_rng(1)
    x = Value(rng.standard_normal((8, 3, 5, 7)).astype(np.float32))
    bias = Value(np.zeros(3, np.float32))
    grad = rng.standard_normal(x.shape).astype(np.float32)
    batch_norm(x, None, None, None, bias, training=True).backward(grad)
    expected = grad.reshape(8, -1).sum(axis=0).reshape(3, 35).sum(axis=1)
    assert bias.grad.dtype == np.float32 and bias.grad.tobytes() == expected.tobytes()

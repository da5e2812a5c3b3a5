"""Primitive ops, one ``Function`` each, forward and backward side by side.

``elementwise``: arithmetic and the classic nonlinearities; ``reduce``: sums, means,
extrema, variance, logsumexp; ``shape``: reshape, transpose, indexing, joining, padding;
``linalg``: matrix multiplication.
"""

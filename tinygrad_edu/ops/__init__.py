"""Primitive ops, one ``Function`` each, forward and backward side by side.

``elementwise``: arithmetic, exp/log/sqrt/sin/cos, maximum/minimum/clip/where;
``activation``: tanh, sigmoid, ReLU and the rest of the activation family, softmax and
log-softmax; ``loss``: cross-entropy against class labels as one fused node; ``reduce``:
sums, means, extrema, variance, logsumexp; ``shape``: reshape, transpose, indexing,
joining, padding; ``linalg``: matrix multiplication and the fully connected layer;
``conv``: convolution (``Conv2d`` and its two gradient ops ``ConvTranspose2d`` and
``Conv2dWeight``) and max, average and adaptive-average pooling (``WindowScatter`` is max
pooling's gradient); ``normalization``: batch norm in training mode as one node.

Two helper modules hold no op: ``axes`` checks axis arguments, and ``kernels`` holds the
faster ways some ops compute their formula (each op's own code still reads as the math).
"""

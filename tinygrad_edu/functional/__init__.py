"""Neural-network functions built on the ops: losses, dropout, batch norm, penalties.

``import tinygrad_edu.functional as F`` gives them PyTorch's ``F.name`` spelling.
"""

from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    huber_loss,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    nll_loss,
    smooth_l1_loss,
    svm_loss,
)
from .normalization import batch_norm
from .regularization import alpha_dropout, dropout, l1_penalty, l2_penalty

__all__ = [
    "alpha_dropout",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "hinge_loss",
    "huber_loss",
    "l1_loss",
    "l1_penalty",
    "l2_penalty",
    "mse_loss",
    "multi_margin_loss",
    "nll_loss",
    "smooth_l1_loss",
    "svm_loss",
]

"""Ready-made models: the digits CNN of examples 10 and 11 with its pretrained weights,
and test-time augmentation for image classifiers."""

from .digits import PRETRAINED, digits_cnn, digits_subset, pretrain, pretraining_split
from .tta import predict_tta

__all__ = [
    "PRETRAINED", "digits_cnn", "digits_subset", "predict_tta", "pretrain", "pretraining_split",
]

"""Data for toy networks: generated datasets, the digits, batching and splits,
preprocessing fitted on the training set, and augmentation."""

from .augmentation import (
    ColorJitter,
    Compose,
    Cutout,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    mixup,
)
from .datasets import blobs, circles, load_digits, moons, spiral, xor
from .loader import DataLoader, TensorDataset, train_test_split, train_val_test_split
from .preprocessing import PCA, ZCA, Center, Standardize

__all__ = [
    "PCA",
    "ZCA",
    "Center",
    "ColorJitter",
    "Compose",
    "Cutout",
    "DataLoader",
    "RandomAffine",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "Standardize",
    "TensorDataset",
    "blobs",
    "circles",
    "load_digits",
    "mixup",
    "moons",
    "spiral",
    "train_test_split",
    "train_val_test_split",
    "xor",
]

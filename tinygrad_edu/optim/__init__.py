"""Optimizers, gradient clipping and learning-rate schedules, with PyTorch's names.

>>> from tinygrad_edu import nn, optim
>>> model = nn.Linear(3, 1)
>>> optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30)
"""

from . import lr_scheduler
from .adaptive import Adagrad, Adam, AdamW, RMSprop
from .clip import clip_grad_norm_, clip_grad_value_
from .optimizer import Optimizer
from .sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
]

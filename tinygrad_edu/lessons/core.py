"""What every lesson shares: its result, the printing, the out folder, and the small
models and data the lessons train."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import nn
from ..data import spiral, train_test_split


class LessonUnavailable(RuntimeError):
    """A lesson that needs a part of the library this version does not have yet."""


@dataclass
class LessonResult:
    """What a lesson measured: ``numbers`` by name (what its test asserts on), the
    ``figures`` it wrote and a one-line ``finding`` that reads the numbers as the claim."""

    number: int
    claim: str
    numbers: dict[str, Any]
    finding: str
    figures: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"lesson {self.number}: {self.claim}"]
        lines += [f"  {name}: {_show(value)}" for name, value in self.numbers.items()]
        lines.append(f"  -> {self.finding}")
        lines += [f"  figure: {path}" for path in self.figures]
        return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_show(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return " ".join(_show(v) for v in value)
    return str(value)


def finish(result: LessonResult) -> LessonResult:
    """Print the lesson's numbers and figures; return the result."""
    print(result, flush=True)
    return result


def figure_path(out: str | os.PathLike, name: str) -> str:
    """``out/name``, the folder created if needed."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)


def spiral_split(seed: int, n_per_class: int = 100) -> tuple[np.ndarray, ...]:
    """The lectures' 3-class spiral, split 75/25 (stratified): X_train, y_train, X_val,
    y_val."""
    X, y = spiral(n_per_class=n_per_class, n_classes=3, noise=0.2, seed=seed)
    return train_test_split(X, y, test=0.25, stratify=True, seed=seed)


def weight(model: nn.Module, name: str) -> nn.Parameter:
    """The parameter called ``name`` (``"layers.0.weight"``)."""
    return dict(model.named_parameters())[name]

"""Every claim of CS231n's "Training Neural Networks" lectures, reproduced and measured.

Each lesson is a function ``lesson(fast=False, out="lessons", seed=0)`` that runs the
experiment with the library's own modules, prints the numbers it measured, writes its
figures into ``out`` and returns a ``LessonResult``. ``fast=True`` runs tiny nets for few
steps (what the tests run). From the command line::

    tinygrad-edu lesson list
    tinygrad-edu lesson 4 --fast --out lessons --seed 0

docs/lessons.md states each claim with the numbers and figures of a full run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from .activations import dead_relus, init_statistics, relu_vs_tanh, sigmoid_gradients, zero_init
from .core import LessonResult, LessonUnavailable
from .optimization import optimizers, random_vs_grid, update_ratio
from .training import babysitting, batchnorm_grid, dropout_gap, positive_inputs, preprocessing
from .transfer import transfer_learning

# The claims as the issue numbered them, each with its lesson.
LESSONS: dict[int, tuple[str, Callable[..., LessonResult]]] = {
    1: ("sigmoid's gradient vanishes in a deep net", sigmoid_gradients),
    2: ("all-positive inputs make weight gradients share a sign (zig-zag)", positive_inputs),
    3: ("zero initialization keeps every unit of a layer identical", zero_init),
    4: ("activation statistics through 10 layers for four inits, tanh and ReLU",
        init_statistics),
    5: ("ReLU converges faster than tanh", relu_vs_tanh),
    6: ("a too-high learning rate leaves ReLUs dead", dead_relus),
    7: ("batch norm makes training insensitive to init scale and learning rate",
        batchnorm_grid),
    8: ("dropout narrows the train/validation gap on a small training set", dropout_gap),
    9: ("centring and standardizing speed up training; PCA and whitening", preprocessing),
    10: ("babysitting: initial loss ~ log C, 20 examples overfit to 100%", babysitting),
    11: ("optimizers on a ravine and on the spiral", optimizers),
    12: ("random beats grid search under the same budget", random_vs_grid),
    13: ("the update/weight ratio is ~1e-3 at a good learning rate", update_ratio),
    14: ("transfer learning: frozen, fine-tuned, scratch on a small dataset",
         transfer_learning),
}


def add_lesson_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``lesson`` subcommand to the ``tinygrad-edu`` command's subparsers."""
    lesson = subparsers.add_parser(
        "lesson", help="run one of the lectures' claims as a measured experiment",
        description="Run lesson N: print the numbers it measures and write its figures into "
        "--out. 'tinygrad-edu lesson list' lists the lessons.")
    lesson.add_argument("which", metavar="N|list", help=f"a lesson number, 1 to {len(LESSONS)}, "
                        "or 'list'")
    lesson.add_argument("--fast", action="store_true",
                        help="tiny nets and few steps: a quick look, noisier numbers")
    lesson.add_argument("--out", default="lessons", metavar="DIR",
                        help="the folder for the figures (default: lessons)")
    lesson.add_argument("--seed", type=int, default=0, help="the seed of every draw")
    lesson.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``tinygrad-edu lesson``; return the exit code (2 for an unknown lesson, 1 for a
    lesson this version cannot run)."""
    if args.which == "list":
        for number, (title, _) in LESSONS.items():
            print(f"{number:2d}. {title}")
        return 0
    if not args.which.isdigit() or int(args.which) not in LESSONS:
        print(f"tinygrad-edu lesson: expected a lesson number 1 to {len(LESSONS)} or 'list'; "
              f"got {args.which!r}", file=sys.stderr)
        return 2
    try:
        LESSONS[int(args.which)][1](fast=args.fast, out=args.out, seed=args.seed)
    except LessonUnavailable as e:
        print(f"tinygrad-edu lesson: {e}", file=sys.stderr)
        return 1
    return 0


__all__ = ["LESSONS", "LessonResult", "LessonUnavailable", "add_lesson_parser", "babysitting",
           "batchnorm_grid", "dead_relus", "dropout_gap", "init_statistics", "optimizers",
           "positive_inputs", "preprocessing", "random_vs_grid", "relu_vs_tanh", "run",
           "sigmoid_gradients", "transfer_learning", "update_ratio", "zero_init"]

"""``tinygrad-edu search worker``: one worker that joins a study kept in a shared database.

::

    tinygrad-edu search worker train.py:objective --space train.py:space \\
        --storage postgresql://user:password@host/db --study spiral --trials 100

Start the same command on as many machines (or terminals) as you like: each runs trials
until the study's stage holds ``--trials`` of them, then prints the best ones. The
objective and the space are names defined at the top level of a Python file, which is run
(not as ``__main__``) to find them.
"""

from __future__ import annotations

import argparse
import runpy
import sys
import textwrap
from typing import Any

from ..expression import shorten
from .run import DIRECTIONS, random_search

PROG = "tinygrad-edu search worker"


def positive(kind: type, what: str) -> Any:
    """An argparse type: ``kind(text)``, which must be > 0 (``what`` names it); the
    ``tinygrad-edu`` parser's other options use it too."""
    def parse(text: str) -> Any:
        try:
            number = kind(text)
        except ValueError:
            number = 0
        if not number > 0:
            raise argparse.ArgumentTypeError(f"expected {what}, got {shorten(text)!r}")
        return number
    return parse


def add_search_command(commands: Any) -> None:
    """Add ``search worker`` to the subcommands ``commands`` of the ``tinygrad-edu``
    parser; the parsed arguments' ``run`` is ``run_search_command``."""
    search = commands.add_parser(
        "search", help="hyperparameter search: run a worker of a study in a shared database",
        description="Hyperparameter search (tinygrad_edu.search) across processes and "
        "machines: each worker joins one study in a database they share.")
    actions = search.add_subparsers(dest="action", required=True, metavar="ACTION")
    worker = actions.add_parser(
        "worker", help="run trials of a study until it holds --trials of them",
        description=textwrap.fill(
            "Run random-search trials of OBJECTIVE over the space SPACE, in the study NAME "
            "kept at the database URL, until the study's stage holds N finished trials "
            "(counting every worker's), then print the best. A trial whose worker was "
            "killed is marked failed and run again.", 79),
        epilog="example (start it on each machine):\n"
        "  tinygrad-edu search worker train.py:objective --space train.py:space \\\n"
        "      --storage postgresql://user:password@host/db --study spiral --trials 100\n"
        "exit codes: 0 done, 2 bad input",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    worker.add_argument("objective", metavar="SCRIPT.py:OBJECTIVE",
                        help="the function (params, trial) -> score in a Python file")
    worker.add_argument("--space", required=True, metavar="SCRIPT.py:SPACE",
                        help="the dict of dimensions (log_uniform, ...) in a Python file")
    worker.add_argument("--storage", required=True, metavar="URL",
                        help="the database every worker shares: sqlite:///search.db, "
                        "postgresql://..., mysql://... (or an SQLite file's path)")
    worker.add_argument("--study", required=True, metavar="NAME", help="the study's name")
    worker.add_argument("--trials", required=True, metavar="N",
                        type=positive(int, "a whole number of at least 1"),
                        help="the number of trials of the stage, over all workers")
    worker.add_argument("--stage", default="coarse", help="the stage (default: coarse)")
    worker.add_argument("--seed", type=int, default=None,
                        help="this worker's seed (default: a new one; give each worker its "
                        "own, or they draw the same params)")
    worker.add_argument("--direction", choices=DIRECTIONS, default="maximize",
                        help="whether a higher or a lower score is better (default: maximize)")
    worker.add_argument("--timeout", metavar="SECONDS",
                        type=positive(float, "a number of seconds > 0"),
                        help="start no trial after this many seconds")
    worker.set_defaults(run=run_search_command)


def _load(reference: str, what: str, scripts: dict[str, dict[str, Any]]) -> Any:
    """The object named by ``SCRIPT.py:NAME``, running each script once."""
    script, _, name = reference.rpartition(":")
    if not script or not name:
        raise ValueError(f"{what} must be SCRIPT.py:NAME; got {reference!r}")
    if script not in scripts:
        try:
            scripts[script] = runpy.run_path(script, run_name="__search_worker__")
        except OSError as e:
            raise ValueError(f"{what}: cannot read {script!r} ({e.strerror or e})") from None
    if name not in scripts[script]:
        raise ValueError(f"{what}: {script!r} defines no {name!r}")
    return scripts[script][name]


def run_search_command(args: argparse.Namespace) -> int:
    """Run one worker as ``args`` say; print the best trials; return the exit code."""
    try:
        scripts: dict[str, dict[str, Any]] = {}
        objective = _load(args.objective, "OBJECTIVE", scripts)
        space = _load(args.space, "--space", scripts)
        result = random_search(objective, space, args.trials, seed=args.seed,
                               storage=args.storage, study=args.study,
                               direction=args.direction, timeout=args.timeout,
                               stage=args.stage)
    except (ValueError, TypeError, ImportError) as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    print(result.table())
    for warning in result.warnings:
        print(f"warning: {warning}")
    return 0

"""``random_search`` and ``grid_search``: each trial draws its parameters, calls the
objective, and is recorded in an Optuna study; the study lives in memory, in an SQLite
file, or in any database Optuna supports, which worker processes and machines share.

Each stage of a search (``"coarse"``, then ``"fine"``) is an Optuna study of its own,
named ``"<study>:<stage>"``, whose trial budget counts the trials that finished (complete,
pruned, or failed with an error in the objective) or are running. A trial whose worker was
killed does not count: it is marked failed (``storage.fail_abandoned``) and a new trial
takes its place. Every worker checks, once its trial is numbered, that fewer than
``trials`` counted trials came before it; otherwise it leaves the trial out (recorded as
skipped, never shown) and stops, so N workers complete exactly the budget.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import numbers
import os
import pickle
import sys
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..train import progress_bar
from .result import SearchResult
from .space import Choice, Space, Uniform, check_space, grid_values
from .storage import (
    fail_abandoned,
    open_storage,
    quiet,
    records,
    require_optuna,
    state_name,
    storage_url,
    worker_id,
)
from .trial import Trial

DIRECTIONS = ("maximize", "minimize")


class _Failed(Exception):
    """The objective raised or returned no score; the reason is on the trial."""


class _BudgetFilled(Exception):
    """Other trials already fill the budget; this one is skipped."""


# ----------------------------------------------------------------------------------------
# One worker: trials until the budget is full
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs, sent to worker processes as is (so it must pickle)."""

    objective: Callable[[dict[str, Any], Trial], float]
    space: Space
    grid: dict[str, list[Any]] | None
    budget: int
    stage: str
    study: str
    direction: str
    seed: int | None
    pruner: Any
    deadline: float | None

    @property
    def name(self) -> str:
        """The Optuna study of this stage."""
        return f"{self.study}:{self.stage}"

    def describe(self) -> dict[str, str]:
        """The space (or grid) as text, kept with the study to check a resumed call."""
        if self.grid is not None:
            return {name: f"grid {values!r}" for name, values in self.grid.items()}
        return {name: repr(dim) for name, dim in self.space.items()}  # every digit


def _counts(trial: Any) -> bool:
    """Whether a trial takes a place in the budget: finished (complete, pruned, or failed
    in the objective) or still running."""
    state = trial.state.name
    if trial.user_attrs.get("skipped"):
        return False
    if state == "FAIL":
        return "error" in trial.user_attrs
    return state in ("RUNNING", "COMPLETE", "PRUNED")


def _run_trial(job: _Job, optuna_trial: Any) -> float:
    """The function Optuna optimizes: claim a place in the budget, draw the params, run
    the objective, record why it was pruned or failed."""
    optuna = require_optuna("search")
    optuna_trial.set_user_attr("worker", worker_id())
    before = optuna_trial.study.get_trials(deepcopy=False)
    if sum(t.number < optuna_trial.number and _counts(t) for t in before) >= job.budget:
        optuna_trial.set_user_attr("skipped", True)
        raise _BudgetFilled
    if job.grid is not None:
        params = {name: optuna_trial.suggest_categorical(name, values)
                  for name, values in job.grid.items()}
    else:
        params = {name: dim.suggest(optuna_trial, name) for name, dim in job.space.items()}
    try:
        score = job.objective(params, Trial(optuna_trial, params, job.stage))
    except optuna.TrialPruned as e:
        optuna_trial.set_user_attr("pruned", str(e) or "stopped by the pruner")
        raise
    except Exception as e:
        optuna_trial.set_user_attr("error", f"{type(e).__name__}: {e}")
        raise _Failed from e
    except KeyboardInterrupt:
        optuna_trial.set_user_attr("interrupted", "interrupted (KeyboardInterrupt)")
        raise
    if isinstance(score, bool) or not isinstance(score, numbers.Real) or not math.isfinite(
            score):
        optuna_trial.set_user_attr("error", f"the objective returned {score!r}; it must "
                                   f"return the score, a finite number")
        raise _Failed
    return float(score)


def _seed(seed: int | None, *streams: int) -> int | None:
    """A seed of its own for each stage, worker and resumption, derived from ``seed``."""
    if seed is None:
        return None
    return int(np.random.SeedSequence([seed, *streams]).generate_state(1)[0])


def _work(job: _Job, storage: Any, worker: int,
          on_trial: Callable[[list[Any]], None] | None = None) -> None:
    """Run trials of ``job`` until its budget is full or its deadline passes."""
    optuna = require_optuna("search")
    from .pruner import LossExplosionPruner

    with quiet(optuna):
        storage = open_storage(storage) if isinstance(storage, str) else storage
        started = len(storage.get_all_trials(storage.get_study_id_from_name(job.name),
                                             deepcopy=False))
        sampler = (optuna.samplers.GridSampler(job.grid, seed=job.seed)
                   if job.grid is not None else optuna.samplers.RandomSampler(
                       seed=_seed(job.seed, zlib.crc32(job.stage.encode()), worker, started)))
        study = optuna.load_study(study_name=job.name, storage=storage, sampler=sampler,
                                  pruner=job.pruner or LossExplosionPruner())
        objective = functools.partial(_run_trial, job)
        while job.deadline is None or time.time() < job.deadline:
            fail_abandoned(study, storage)
            if sum(map(_counts, study.get_trials(deepcopy=False))) >= job.budget:
                return
            try:
                study.optimize(objective, n_trials=1, gc_after_trial=False)
            except _Failed:
                pass
            except _BudgetFilled:
                return
            if on_trial is not None:
                on_trial(study.get_trials(deepcopy=False))


def _prepare(owner: str, job: _Job, storage: Any) -> Any:
    """Create the stage's Optuna study (or check a resumed one: same direction, same
    space) and return it."""
    optuna = require_optuna(owner)
    with quiet(optuna):
        study = optuna.create_study(study_name=job.name, storage=storage,
                                    direction=job.direction, load_if_exists=True)
    if study.direction.name.lower() != job.direction:
        raise ValueError(f"{owner}: study {job.name!r} maximizes or minimizes the other way "
                         f"(it was created with direction="
                         f"{study.direction.name.lower()!r}); got direction={job.direction!r}")
    described = job.describe()
    recorded = study.user_attrs.get("space")
    if recorded is None:
        study.set_user_attr("space", described)
    elif recorded != described:
        raise ValueError(f"{owner}: stage {job.stage!r} of study {job.study!r} was run over "
                         f"another space ({recorded}); got {described}. Give this search "
                         f"a stage of its own, e.g. stage='fine'")
    return study


# ----------------------------------------------------------------------------------------
# Progress over trials
# ----------------------------------------------------------------------------------------


class _Progress:
    """tqdm's bar over the trials, with the best score so far, on a terminal or in a
    notebook; a line per trial elsewhere (a log file, CI). A failure's reason is shown
    once."""

    def __init__(self, owner: str, job: _Job, show: bool) -> None:
        self.owner, self.job = owner, job
        self.bar = progress_bar(owner, job.budget, "trial") if show else None
        self.lines = show and self.bar is None
        self.seen: set[int] = set()
        self.reasons: set[str] = set()
        self.best: float | None = None

    def update(self, trials: list[Any], quietly: bool = False) -> None:
        """Show the trials that finished since the last call (only count them when
        ``quietly``: they finished before this call, in a run being resumed)."""
        for t in trials:
            if t.number in self.seen or t.state.name == "RUNNING" or not _counts(t):
                continue
            self.seen.add(t.number)
            if t.state.name == "COMPLETE" and (self.best is None or (
                    t.value > self.best if self.job.direction == "maximize" else
                    t.value < self.best)):
                self.best = t.value
            if not quietly:
                self._show(t)
        if self.bar is not None:
            self.bar.n = len(self.seen)
            self.bar.set_postfix_str("" if self.best is None else f"best {self.best:.4g}")

    def _show(self, t: Any) -> None:
        state = state_name(t)
        error = t.user_attrs.get("error")
        if self.lines:
            text = f"score {t.value:.4g}" if state == "complete" else (
                t.user_attrs.get("pruned") or error)
            best = "" if self.best is None else f" (best {self.best:.4g})"
            print(f"{self.owner} {self.job.stage}: trial {len(self.seen)}/{self.job.budget} "
                  f"{state}: {text}{best}", file=sys.stderr, flush=True)
        elif self.bar is not None and error is not None and error not in self.reasons:
            self.reasons.add(error)
            self.bar.write(f"trial {t.number} failed: {error}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ----------------------------------------------------------------------------------------
# The searches
# ----------------------------------------------------------------------------------------


def _run_processes(owner: str, job: _Job, url: str, workers: int, storage: Any,
                   study_id: int, progress: _Progress) -> None:
    """``workers`` processes (started fresh: spawn) run trials of ``job`` on the database
    at ``url``; this one shows their progress."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_work, job, url, worker) for worker in range(workers)]
        pending = futures
        while pending:
            _, pending = wait(pending, timeout=0.5)
            progress.update(storage.get_all_trials(study_id, deepcopy=False))
        try:
            for future in futures:
                future.result()  # a worker's error, raised here
        except BrokenProcessPool as e:
            raise RuntimeError(
                f"{owner}(workers={workers}): a worker process stopped abruptly: it was "
                f"killed, or the script starts the search without `if __name__ == "
                f"'__main__':` (each worker imports the script, which must not start a "
                f"search of its own). Call it again to resume") from e


def _search(owner: str, job: _Job, storage: Any, study: Any, workers: int,
            progress: bool) -> SearchResult:
    """Run ``job`` on the storage and study asked for; return every stage's trials."""
    if isinstance(study, SearchResult):
        if storage is not None and storage_url(owner, storage, workers) != study.storage:
            raise ValueError(f"{owner}: storage={storage!r} differs from the storage of the "
                             f"study passed as study= ({study.storage!r}); give only study=")
        if workers > 1 and study.storage is None:
            raise ValueError(f"{owner}: workers={workers} share a database, but the study "
                             f"passed as study= is kept in memory; run it with storage=PATH")
        url, handle = study.storage, study.handle
    else:
        url = storage_url(owner, storage, workers)
        handle = open_storage(url)
    stage_study = _prepare(owner, job, handle)
    study_id = handle.get_study_id_from_name(job.name)
    shown = _Progress(owner, job, progress)
    try:
        with quiet(require_optuna(owner)):
            fail_abandoned(stage_study, handle)
        before = handle.get_all_trials(study_id, deepcopy=False)
        shown.update(before, quietly=True)
        # no more processes than trials left to run (none when resuming a finished search)
        workers = min(workers, job.budget - sum(map(_counts, before)))
        if workers == 1:
            _work(job, handle, 0, shown.update)
        elif workers > 1:
            _run_processes(owner, job, url, workers, handle, study_id, shown)
    finally:
        shown.close()
    return SearchResult(records(handle, job.study), job.space, job.stage, job.direction,
                        job.study, url, handle)


def _check(owner: str, objective: Any, seed: Any, study: Any, workers: Any, direction: Any,
           timeout: Any, stage: Any, pruner: Any) -> None:
    if not callable(objective):
        raise TypeError(f"{owner}: objective must be a function (params, trial) returning the "
                        f"score; got {objective!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or seed < 0):
        raise ValueError(f"{owner}: seed must be None or an int >= 0; got {seed!r}")
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise ValueError(f"{owner}: workers must be an int >= 1; got {workers!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"{owner}: direction must be 'maximize' or 'minimize'; got "
                         f"{direction!r}")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(
            timeout, numbers.Real) or not timeout > 0):
        raise ValueError(f"{owner}: timeout must be None or a number of seconds > 0; got "
                         f"{timeout!r}")
    if not isinstance(stage, str) or not stage or ":" in stage:
        raise ValueError(f"{owner}: stage must be a non-empty str without ':'; got {stage!r}")
    if not isinstance(study, str) or not study:
        raise ValueError(f"{owner}: study must be a name (a non-empty str) or the result of "
                         f"an earlier search; got {study!r}")
    if pruner is not None and not isinstance(pruner, require_optuna(owner).pruners.BasePruner):
        raise TypeError(f"{owner}: pruner must be None (stop a loss over 3x its first) or an "
                        f"optuna.pruners.BasePruner; got {pruner!r}")


def _check_sendable(owner: str, job: _Job) -> None:
    """Worker processes start fresh and import the objective by name: it must be defined
    at the top level of a module or script file (not in a notebook)."""
    advice = (f"{owner}: worker processes import the objective and the space by name, so "
              f"they must be defined at the top level of a module or script file, and a "
              f"script must start the search under `if __name__ == '__main__':`")
    module = sys.modules.get(getattr(job.objective, "__module__", None) or "")
    if module is not None and module.__name__ == "__main__" and not hasattr(module, "__file__"):
        raise TypeError(f"{advice}; in a notebook, move the objective into a .py file and "
                        f"import it")
    try:
        pickle.dumps(job)
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        raise TypeError(f"{advice} ({e})") from None


def random_search(
    objective: Callable[[dict[str, Any], Trial], float],
    space: Space,
    trials: int,
    seed: int | None = 0,
    storage: str | os.PathLike | None = None,
    study: str | SearchResult | None = None,
    workers: int = 1,
    direction: str = "maximize",
    timeout: float | None = None,
    *,
    stage: str = "coarse",
    pruner: Any = None,
    progress: bool = True,
) -> SearchResult:
    """Try ``trials`` random points of ``space``, each drawn in its dimension's scale, and
    return every trial with its score. ``trials`` is the stage's total: trials that an
    earlier, interrupted call (or another worker) finished count towards it.

    ``objective(params, trial)`` trains with ``params`` (a dict by name) and returns the
    score to ``direction`` (e.g. validation accuracy, maximized); ``trial.report(loss,
    step)`` or ``fit(..., on_batch_end=trial.on_batch_end)`` lets the pruner stop a run
    whose loss explodes (``pruner``: by default ``LossExplosionPruner``, over 3x its first
    value or NaN). A pruned trial, or one whose objective raised, is recorded with its
    reason and the search goes on.

    ``seed`` makes a one-worker search repeat exactly (None: a new one each time).
    ``storage``: None keeps the trials in memory; a file path or ``sqlite:///`` URL an
    SQLite file (the default with ``workers > 1``), any database URL Optuna supports
    another; called again after an interruption, the search keeps the finished trials,
    marks the interrupted one failed and completes its ``trials``. ``study`` names the
    study (default ``"search"``), or is an earlier result to continue its study with the
    next ``stage``. ``workers`` processes run trials at the same time (the objective
    must then be defined at a module's top level). ``timeout`` seconds: no trial starts
    after it. ``progress`` shows a tqdm bar on a terminal or in a notebook, a line per
    trial elsewhere.
    """
    owner = "random_search"
    check_space(owner, space)
    if isinstance(trials, bool) or not isinstance(trials, numbers.Integral) or trials < 1:
        raise ValueError(f"{owner}: trials must be an int >= 1; got {trials!r}")
    return _start(owner, objective, space, None, int(trials), seed, storage, study, workers,
                  direction, timeout, stage, pruner, progress)


def grid_search(
    objective: Callable[[dict[str, Any], Trial], float],
    grid: dict[str, Any],
    *,
    points: int = 3,
    seed: int | None = 0,
    storage: str | os.PathLike | None = None,
    study: str | SearchResult | None = None,
    workers: int = 1,
    direction: str = "maximize",
    timeout: float | None = None,
    stage: str = "coarse",
    pruner: Any = None,
    progress: bool = True,
) -> SearchResult:
    """Try every combination of ``grid``, a dict of parameter -> list of values or
    dimension (``points`` values of a numeric one, each at the centre of one of
    ``points`` equal cells of its range in its scale), in an order shuffled by ``seed``.
    The other arguments are ``random_search``'s. The lectures' point: with the same
    budget, a grid tries only ``points`` values of the parameter that matters.
    """
    owner = "grid_search"
    if not isinstance(grid, dict) or not grid:
        raise TypeError(f"{owner}: grid must be a non-empty dict of name -> list of values "
                        f"or dimension; got {grid!r}")
    if isinstance(points, bool) or not isinstance(points, numbers.Integral) or points < 1:
        raise ValueError(f"{owner}: points must be an int >= 1; got {points!r}")
    values = {name: grid_values(owner, name, v, int(points)) for name, v in grid.items()}
    space = {name: v if isinstance(v, Uniform | Choice) else Choice(tuple(values[name]))
             for name, v in grid.items()}
    check_space(owner, space)
    budget = math.prod(len(v) for v in values.values())
    return _start(owner, objective, space, values, budget, seed, storage, study, workers,
                  direction, timeout, stage, pruner, progress)


def _start(owner: str, objective: Any, space: Space, grid: dict[str, list[Any]] | None,
           budget: int, seed: Any, storage: Any, study: Any, workers: Any, direction: Any,
           timeout: Any, stage: Any, pruner: Any, progress: bool) -> SearchResult:
    name = study.study if isinstance(study, SearchResult) else (
        "search" if study is None else study)
    _check(owner, objective, seed, name, workers, direction, timeout, stage, pruner)
    deadline = None if timeout is None else time.time() + float(timeout)
    job = _Job(objective, space, grid, budget, stage, name, direction,
               None if seed is None else int(seed), pruner, deadline)
    if workers > 1:
        _check_sendable(f"{owner}(workers={workers})", job)
    return _search(owner, job, storage, study, int(workers), progress)

"""``random_search`` and ``grid_search``: each trial draws its parameters, calls the
objective, and is recorded in an Optuna study; the study lives in memory, in an SQLite
file, or in any database Optuna supports, which worker processes and machines share.

Each stage of a search (``"coarse"``, then ``"fine"``) is an Optuna study of its own,
named ``"<study>:<stage>"``, whose trial budget counts the trials that finished (complete,
pruned, or failed with an error in the objective) or are running. A trial whose worker was
killed does not count: it is marked failed (at once when its process on this machine is
gone, by Optuna's heartbeat after ``GRACE_SECONDS`` otherwise) and a new trial takes its
place. Every worker checks, once its trial is numbered, that fewer than ``trials`` counted
trials came before it; otherwise it leaves the trial out (recorded as skipped, never shown)
and stops, so N workers complete exactly the budget.
"""

from __future__ import annotations

import contextlib
import functools
import math
import multiprocessing
import numbers
import os
import pickle
import socket
import sqlite3
import sys
import tempfile
import time
import warnings
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..train import progress_bar
from .result import SearchResult, TrialRecord
from .space import Choice, Space, Uniform, check_space, grid_values

# A running trial tells the database it is alive this often (seconds) ...
HEARTBEAT_SECONDS = 10
# ... and after this long without a sign another worker marks it failed.
GRACE_SECONDS = 60
DIRECTIONS = ("maximize", "minimize")
# Trial.on_batch_end reports a step's loss to the study at most this often (seconds).
REPORT_SECONDS = 1.0


def _optuna(owner: str) -> Any:
    try:
        import optuna
    except ImportError:
        raise ImportError(f"{owner} runs on Optuna: pip install 'tinygrad_edu[search]'"
                          ) from None
    return optuna


class _Failed(Exception):
    """The objective raised or returned no score; the reason is on the trial."""


class _BudgetFilled(Exception):
    """Other trials already fill the budget; this one is skipped."""


# ----------------------------------------------------------------------------------------
# What the objective gets
# ----------------------------------------------------------------------------------------


class Trial:
    """The trial an objective runs: its ``number`` in its ``stage`` and its ``params``.

    Report the training loss as it goes with ``report(loss, step)``, or pass
    ``on_batch_end`` to ``fit``; when the pruner stops the trial (by default, a loss that
    is not finite or is over 3x its first value), the call raises ``optuna.TrialPruned``
    with the reason, and the search records the trial as pruned and goes on. ``optuna``
    is Optuna's own trial, for anything else.
    """

    def __init__(self, optuna_trial: Any, params: dict[str, Any], stage: str) -> None:
        self.optuna, self.params, self.stage = optuna_trial, params, stage
        self.number: int = optuna_trial.number
        self._first: float | None = None
        self._sent: float | None = None  # when on_batch_end last reported

    def report(self, value: float, step: int) -> None:
        """Record the loss ``value`` at ``step``; raise ``optuna.TrialPruned`` if the
        pruner stops the trial."""
        value = _loss(value)
        if self._first is None:
            self._first = value
        self.optuna.report(value, step)
        if self.optuna.should_prune():
            from .pruner import LossExplosionPruner

            pruner = self.optuna.study.pruner
            why = (pruner.explain(self._first, value, step)
                   if isinstance(pruner, LossExplosionPruner) else
                   f"{type(pruner).__name__} stopped it at step {step} (value {value:.4g})")
            raise _optuna("Trial.report").TrialPruned(why)

    def on_batch_end(self, step: int, loss: float, lr: float) -> None:
        """``fit(..., on_batch_end=trial.on_batch_end)``: watch each step's loss.

        Every step's loss is checked against the default pruner's rule here, but reported
        to the study at most once every ``REPORT_SECONDS`` (and always when it breaks the
        rule): with a database, a write per step would cost more than the step.
        """
        from .pruner import LossExplosionPruner

        pruner = self.optuna.study.pruner
        exploded = (isinstance(pruner, LossExplosionPruner) and self._first is not None
                    and pruner.exploded(self._first, _loss(loss)))
        now = time.monotonic()
        if exploded or self._sent is None or now - self._sent >= REPORT_SECONDS:
            self._sent = now
            self.report(loss, step)


def _loss(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Trial.report: the loss must be a number (a Value's .item()); got "
                        f"{value!r}")
    return float(value)


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


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    # NOTE: on Windows os.kill(pid, 0) would end the process; there Optuna's heartbeat
    # alone finds the trials of a stopped worker.
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _fail_abandoned(study: Any, storage: Any) -> None:
    """Mark failed the running trials whose worker stopped mid-trial (killed, or its
    machine went down), so that they no longer hold a place in the budget: at once when
    the worker was a process on this machine that is gone; after ``GRACE_SECONDS``
    without a heartbeat otherwise."""
    optuna = _optuna("search")
    optuna.storages.fail_stale_trials(study)
    study_id = storage.get_study_id_from_name(study.study_name)
    host = socket.gethostname()
    running = storage.get_all_trials(study_id, deepcopy=False,
                                     states=(optuna.trial.TrialState.RUNNING,))
    for trial in running:
        name, _, pid = trial.user_attrs.get("worker", "").rpartition(":")
        if name != host or not pid.isdigit() or _alive(int(pid)):
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        # another worker may have marked it first: then Optuna refuses with a RuntimeError
        with contextlib.suppress(RuntimeError):
            storage.set_trial_user_attr(trial_id, "interrupted",
                                        f"interrupted: its worker (process {pid}) stopped")
            storage.set_trial_state_values(trial_id, optuna.trial.TrialState.FAIL)


def _run_trial(job: _Job, optuna_trial: Any) -> float:
    """The function Optuna optimizes: claim a place in the budget, draw the params, run
    the objective, record why it was pruned or failed."""
    optuna = _optuna("search")
    optuna_trial.set_user_attr("worker", _worker_id())
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
    optuna = _optuna("search")
    from .pruner import LossExplosionPruner

    with _quiet(optuna):
        storage = _open(storage) if isinstance(storage, str) else storage
        started = len(storage.get_all_trials(storage.get_study_id_from_name(job.name),
                                             deepcopy=False))
        sampler = (optuna.samplers.GridSampler(job.grid, seed=job.seed)
                   if job.grid is not None else optuna.samplers.RandomSampler(
                       seed=_seed(job.seed, zlib.crc32(job.stage.encode()), worker, started)))
        study = optuna.load_study(study_name=job.name, storage=storage, sampler=sampler,
                                  pruner=job.pruner or LossExplosionPruner())
        objective = functools.partial(_run_trial, job)
        while job.deadline is None or time.time() < job.deadline:
            _fail_abandoned(study, storage)
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


@contextlib.contextmanager
def _quiet(optuna: Any) -> Any:
    """Optuna logs a line per trial (and a traceback per failure, which the trial's
    reason keeps): silence it while the search runs, then restore the caller's level.
    Optuna also warns that its check for stale trials is experimental (when we call it,
    and before 4.4 when it calls it itself before each trial)."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*fail_stale_trials is experimental",
                                    optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(level)


# ----------------------------------------------------------------------------------------
# Storage
# ----------------------------------------------------------------------------------------


def _storage_url(owner: str, storage: Any, workers: int) -> str | None:
    """The database URL for ``storage``: None keeps the trials in memory (with one
    worker; several share a new SQLite file); a path is an SQLite file; a URL is used as
    is."""
    if storage is None:
        if workers == 1:
            return None
        storage = os.path.join(tempfile.mkdtemp(prefix="tinygrad_edu_search_"), "search.db")
    if not isinstance(storage, str | os.PathLike):
        raise TypeError(f"{owner}: storage must be None (memory), a file path or a database "
                        f"URL such as 'sqlite:///search.db'; got {storage!r}")
    storage = os.fspath(storage)
    if "://" in storage:
        return storage
    path = os.path.abspath(storage)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return f"sqlite:///{path}"


def _open(url: str | None) -> Any:
    """The Optuna storage at ``url`` (memory when None), with heartbeats for a database."""
    optuna = _optuna("search")
    if url is None:
        return optuna.storages.InMemoryStorage()
    engine = {}
    if url.startswith("sqlite:///") and "?" not in url and url != "sqlite:///:memory:":
        engine = {"creator": functools.partial(_sqlite, url.removeprefix("sqlite:///"))}
    from sqlalchemy.exc import SQLAlchemyError

    # Workers started together on a new database race to create its tables; the ones that
    # lose find them made when they try again.
    for attempt in range(5):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, engine_kwargs=engine,
                                                  heartbeat_interval=HEARTBEAT_SECONDS,
                                                  grace_period=GRACE_SECONDS)
        except SQLAlchemyError:
            if attempt == 4:
                raise
            time.sleep(0.5)


def _sqlite(path: str) -> Any:
    """A connection to the SQLite file at ``path`` for a study that several processes
    write: in WAL mode (readers do not wait for the writer) with synchronous=NORMAL, so a
    commit does not wait for the disk (which cost most of a short trial's time); a
    committed trial survives any crash of the process, and only a power cut could lose
    the last ones. A writer waits up to a minute for another's turn."""
    connection = sqlite3.connect(path, timeout=60, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def _prepare(owner: str, job: _Job, storage: Any) -> Any:
    """Create the stage's Optuna study (or check a resumed one: same direction, same
    space) and return it."""
    optuna = _optuna(owner)
    with _quiet(optuna):
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


def _records(storage: Any, study: str) -> list[TrialRecord]:
    """Every trial of every stage of ``study``: the stages in the order they began, each
    stage's trials by number."""
    optuna = _optuna("search")
    stages = []
    for name in optuna.study.get_all_study_names(storage):
        base, _, stage = name.rpartition(":")
        if base != study:
            continue
        trials = [t for t in storage.get_all_trials(storage.get_study_id_from_name(name),
                                                    deepcopy=False)
                  if not t.user_attrs.get("skipped") and t.datetime_start is not None]
        if trials:
            began = min(t.datetime_start for t in trials)
            stages.append((began, [_record(stage, t) for t in sorted(
                trials, key=lambda t: t.number)]))
    return [record for _, records in sorted(stages, key=lambda s: s[0]) for record in records]


def _state(t: Any) -> str:
    """A trial's state as ``TrialRecord`` names it."""
    return {"FAIL": "failed"}.get(t.state.name, t.state.name.lower())


def _record(stage: str, t: Any) -> TrialRecord:
    state = _state(t)
    reason = (t.user_attrs.get("pruned") or t.user_attrs.get("error")
              or t.user_attrs.get("interrupted"))
    if state == "failed" and reason is None:  # Optuna's heartbeat check marked it failed
        reason = "interrupted: its worker stopped"
    duration = (None if t.datetime_complete is None else
                (t.datetime_complete - t.datetime_start).total_seconds())
    return TrialRecord(stage, t.number, dict(t.params), t.value if state == "complete"
                       else None, state, duration, reason)


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
        state = _state(t)
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
        if storage is not None and _storage_url(owner, storage, workers) != study.storage:
            raise ValueError(f"{owner}: storage={storage!r} differs from the storage of the "
                             f"study passed as study= ({study.storage!r}); give only study=")
        if workers > 1 and study.storage is None:
            raise ValueError(f"{owner}: workers={workers} share a database, but the study "
                             f"passed as study= is kept in memory; run it with storage=PATH")
        url, handle = study.storage, study.handle
    else:
        url = _storage_url(owner, storage, workers)
        handle = _open(url)
    stage_study = _prepare(owner, job, handle)
    study_id = handle.get_study_id_from_name(job.name)
    shown = _Progress(owner, job, progress)
    try:
        with _quiet(_optuna(owner)):
            _fail_abandoned(stage_study, handle)
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
    return SearchResult(_records(handle, job.study), job.space, job.stage, job.direction,
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
    if pruner is not None and not isinstance(pruner, _optuna(owner).pruners.BasePruner):
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

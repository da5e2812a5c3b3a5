"""Where the trials are kept: in memory, in an SQLite file, or in a database that worker
processes and machines share; and how a trial whose worker stopped mid-trial is found.

Optuna is imported only here and only when a search runs (``require_optuna``), so that
``tinygrad_edu.search`` and its pictures import without it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import sqlite3
import tempfile
import time
import warnings
from typing import Any

from .result import TrialRecord

# A running trial tells the database it is alive this often (seconds) ...
HEARTBEAT_SECONDS = 10
# ... and after this long without a sign another worker marks it failed.
GRACE_SECONDS = 60


def require_optuna(owner: str) -> Any:
    """The optuna module, or an ImportError saying how to install it."""
    try:
        import optuna
    except ImportError:
        raise ImportError(f"{owner} runs on Optuna: pip install 'tinygrad_edu[search]'"
                          ) from None
    return optuna


@contextlib.contextmanager
def quiet(optuna: Any) -> Any:
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


def storage_url(owner: str, storage: Any, workers: int) -> str | None:
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


def open_storage(url: str | None) -> Any:
    """The Optuna storage at ``url`` (memory when None), with heartbeats for a database."""
    optuna = require_optuna("search")
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


def worker_id() -> str:
    """Which process runs a trial: ``host:pid``."""
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


def fail_abandoned(study: Any, storage: Any) -> None:
    """Mark failed the running trials whose worker stopped mid-trial (killed, or its
    machine went down), so that they no longer hold a place in the budget: at once when
    the worker was a process on this machine that is gone; after ``GRACE_SECONDS``
    without a heartbeat otherwise."""
    optuna = require_optuna("search")
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


def records(storage: Any, study: str) -> list[TrialRecord]:
    """Every trial of every stage of ``study``: the stages in the order they began, each
    stage's trials by number."""
    optuna = require_optuna("search")
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


def state_name(t: Any) -> str:
    """A trial's state as ``TrialRecord`` names it."""
    return {"FAIL": "failed"}.get(t.state.name, t.state.name.lower())


def _record(stage: str, t: Any) -> TrialRecord:
    state = state_name(t)
    reason = (t.user_attrs.get("pruned") or t.user_attrs.get("error")
              or t.user_attrs.get("interrupted"))
    if state == "failed" and reason is None:  # Optuna's heartbeat check marked it failed
        reason = "interrupted: its worker stopped"
    duration = (None if t.datetime_complete is None else
                (t.datetime_complete - t.datetime_start).total_seconds())
    return TrialRecord(stage, t.number, dict(t.params), t.value if state == "complete"
                       else None, state, duration, reason)

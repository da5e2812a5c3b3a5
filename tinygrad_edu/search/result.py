"""What a search found: every trial, the best one, a table, a CSV file, the next stage's
space (``refine``) and the warnings a lecturer would give (a best value at the edge)."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .space import Space, edge_warning, refine_dimension

STATES = ("complete", "pruned", "failed", "running", "waiting")


@dataclass(frozen=True)
class TrialRecord:
    """One trial: its ``stage`` (``"coarse"``, ``"fine"``, ...) and ``number`` in it, the
    ``params`` it tried, its ``score`` (None unless complete), its ``state``
    (``"complete"``, ``"pruned"``, ``"failed"`` or ``"running"``), ``duration`` in
    seconds, and for a pruned or failed trial the ``reason``."""

    stage: str
    number: int
    params: dict[str, Any]
    score: float | None
    state: str
    duration: float | None
    reason: str | None = None


@dataclass
class SearchResult:
    """The trials of every stage of a study (``trials``: the stages in the order they
    began, each stage's trials by number) and, for the stage just run (``stage``, over
    ``space``), its ``refine``d space and ``warnings``. ``best`` is the best complete
    trial of any stage.

    ``storage`` is where the trials are kept (a database URL; None in memory) and
    ``study`` the study's name; pass the result as ``study=`` to run the next stage in
    the same study."""

    trials: list[TrialRecord]
    space: Space
    stage: str
    direction: str
    study: str
    storage: str | None
    handle: Any = field(default=None, repr=False)  # the Optuna storage the trials live in

    def complete(self, stage: str | None = None) -> list[TrialRecord]:
        """The complete trials (of ``stage`` only, if given), best first."""
        done = [t for t in self.trials if t.state == "complete"
                and (stage is None or t.stage == stage)]
        return sorted(done, key=lambda t: t.score, reverse=self.direction == "maximize")

    @property
    def best(self) -> TrialRecord:
        """The complete trial with the best score, of any stage."""
        done = self.complete()
        if not done:
            reasons = sorted({t.reason for t in self.trials if t.reason})
            raise ValueError(f"search: no trial completed ({len(self.trials)} ran); "
                             f"reasons: {'; '.join(reasons) or 'none recorded'}")
        return done[0]

    @property
    def warnings(self) -> list[str]:
        """For each numeric parameter whose best value in this stage lies in the outer 10%
        of its range (in its scale), a warning to widen the range."""
        done = self.complete(self.stage)
        if not done:
            return []
        best = done[0].params
        found = (edge_warning(name, dim, best[name]) for name, dim in self.space.items())
        return [w for w in found if w is not None]

    def refine(self, top: int = 5) -> Space:
        """The space for the next (fine) stage: each parameter narrowed to where the
        ``top`` best trials of this stage landed, with a margin, in its scale (log for a
        log dimension), inside the current range; a choice keeps the options they used."""
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ValueError(f"refine: top must be an int >= 1; got {top!r}")
        best = self.complete(self.stage)[:top]
        if not best:
            raise ValueError(f"refine: stage {self.stage!r} has no complete trial to refine "
                             f"around")
        return {name: refine_dimension(dim, [t.params[name] for t in best])
                for name, dim in self.space.items()}

    def _names(self) -> list[str]:
        """Every parameter name, the current space's first."""
        names = dict.fromkeys(self.space)
        for t in self.trials:
            names.update(dict.fromkeys(t.params))
        return list(names)

    def table(self, top: int = 10) -> str:
        """The ``top`` best complete trials as a plain-text table, best first, with a
        count of every state below it."""
        names = self._names()
        header = ["rank", "stage", "trial", "score", *names, "seconds"]
        rows = [[str(rank), t.stage, str(t.number), f"{t.score:.4g}",
                 *(_fmt(t.params.get(n, "")) for n in names), _fmt(t.duration)]
                for rank, t in enumerate(self.complete()[:top], 1)]
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                 for r in (header, *rows)]
        states = [t.state for t in self.trials]
        lines.append(", ".join(f"{states.count(s)} {s}" for s in STATES if s in states))
        return "\n".join(lines)

    def to_csv(self, path: str | os.PathLike) -> str:
        """Write every trial (stage, number, state, score, seconds, reason, params) to a
        CSV file; returns the path."""
        path = os.fspath(path)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        names = self._names()
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["stage", "trial", "state", "score", "seconds", "reason", *names])
            for t in self.trials:
                writer.writerow([t.stage, t.number, t.state, _blank(t.score), _blank(t.duration),
                                 _blank(t.reason), *(_blank(t.params.get(n)) for n in names)])
        return path


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _blank(value: Any) -> Any:
    return "" if value is None else value


def stage_order(trials: Sequence[TrialRecord]) -> list[str]:
    """The stages in the order their first trials appear."""
    return list(dict.fromkeys(t.stage for t in trials))

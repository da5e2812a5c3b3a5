"""Hyperparameter search as the lectures teach it, on Optuna (``pip install
'tinygrad_edu[search]'``).

Sample at random, not on a grid, and in log space for learning rates and regularization
strengths; run a coarse stage of short runs, then a fine stage where the best ones landed;
stop a run early when its loss explodes; check that the best values do not sit at the edge
of their range::

    from tinygrad_edu import search

    space = {"lr": search.log_uniform(1e-4, 1e0), "weight_decay": search.log_uniform(1e-6, 1e-1)}
    coarse = search.random_search(objective, space, trials=30)
    print(coarse.table(), *coarse.warnings, sep="\\n")
    fine = search.random_search(objective, coarse.refine(top=5), trials=20, study=coarse,
                                stage="fine")
    search.search_scatter(fine, "out/search.png")

Optuna draws the samples and keeps the trials (in memory, an SQLite file, or a database
that processes and machines share); this package adds the workflow and its pictures.
Optuna itself is imported only when a search runs.
"""

from .compare import RandomVsGrid, random_vs_grid
from .plots import search_history, search_scatter
from .result import SearchResult, TrialRecord
from .run import grid_search, random_search
from .space import choice, int_uniform, log_uniform, uniform
from .trial import Trial

__all__ = [
    "RandomVsGrid",
    "SearchResult",
    "Trial",
    "TrialRecord",
    "choice",
    "grid_search",
    "int_uniform",
    "log_uniform",
    "random_search",
    "random_vs_grid",
    "search_history",
    "search_scatter",
    "uniform",
]

"""The lectures' argument for random over grid search, as an experiment.

With the same budget of 9 trials and one hyperparameter that matters much more than the
other, a 3x3 grid tries only 3 values of the important one and random search 9, so random
search is more likely to land near the peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .result import SearchResult
from .run import grid_search, random_search
from .space import uniform


@dataclass
class RandomVsGrid:
    """The outcome of ``random_vs_grid``: the first repetition's two searches, and how many
    of the repetitions random search won (a strictly higher best score)."""

    random: SearchResult
    grid: SearchResult
    wins: int
    repetitions: int

    @property
    def fraction(self) -> float:
        """The share of repetitions random search won."""
        return self.wins / self.repetitions

    @staticmethod
    def distinct(result: SearchResult, name: str = "x") -> int:
        """How many distinct values of ``name`` a search tried."""
        return len({t.params[name] for t in result.trials})


def random_vs_grid(repetitions: int = 200, seed: int = 0) -> RandomVsGrid:
    """Random search against a 3x3 grid, 9 trials each, on ``repetitions`` toy problems.

    Each toy score has a narrow peak in the important parameter ``x`` (drawn with seed
    ``seed + r`` for repetition r) and changes by at most 1% with ``y``; random search is
    seeded with ``seed + r`` too, so the comparison is reproducible.
    """
    space = {"x": uniform(0, 1), "y": uniform(0, 1)}
    wins, first = 0, None
    for r in range(repetitions):
        peak = np.random.default_rng(seed + r).uniform(0, 1)

        def toy(params, trial, peak=peak):
            return float(np.exp(-((params["x"] - peak) / 0.1) ** 2) + 0.01 * params["y"])

        random = random_search(toy, space, trials=9, seed=seed + r, progress=False)
        grid = grid_search(toy, space, points=3, seed=seed + r, progress=False)
        wins += random.best.score > grid.best.score
        if first is None:
            first = (random, grid)
    return RandomVsGrid(*first, wins=wins, repetitions=repetitions)

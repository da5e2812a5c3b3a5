"""Why the lectures sample hyperparameters at random rather than on a grid.

Often one parameter matters much more than another. With a budget of 9 trials on two
parameters, a 3x3 grid tries only 3 values of each, so the important one gets 3 chances to
land near its best value; 9 random trials try 9 different values of it. Here a toy score
depends sharply on x (its peak at a place drawn anew in each repetition) and hardly on y;
over 200 repetitions, count how often random search's best beats the grid's best.

Needs Optuna: pip install 'tinygrad_edu[search]'
Run: python examples/10_random_vs_grid.py
"""

import numpy as np

from tinygrad_edu import search

SPACE = {"x": search.uniform(0, 1), "y": search.uniform(0, 1)}


def toy_score(params, peak):
    """A narrow peak in the important x at ``peak``; y changes the score by at most 1%."""
    return float(np.exp(-((params["x"] - peak) / 0.1) ** 2) + 0.01 * params["y"])


def compare(repetitions=200):
    """Random search against a 3x3 grid, 9 trials each, on ``repetitions`` toy problems
    (repetition r: the peak drawn with seed r, random search seeded with r). Returns the
    distinct x values each tried in the first repetition and the fraction of repetitions
    in which random search found the higher best score."""
    wins, distinct = 0, None
    for r in range(repetitions):
        peak = np.random.default_rng(r).uniform(0, 1)

        def objective(params, trial, peak=peak):
            return toy_score(params, peak)

        random = search.random_search(objective, SPACE, trials=9, seed=r, progress=False)
        grid = search.grid_search(objective, SPACE, points=3, seed=r, progress=False)
        wins += random.best.score > grid.best.score
        if distinct is None:
            distinct = [len({t.params["x"] for t in result.trials}) for result in (random, grid)]
    return distinct, wins / repetitions


if __name__ == "__main__":
    (random_xs, grid_xs), fraction = compare()
    print(f"with 9 trials, random search tried {random_xs} distinct values of the important "
          f"parameter x, the 3x3 grid {grid_xs}")
    print(f"over 200 toy problems, random search's best beat the grid's best in {fraction:.0%} "
          f"of them")

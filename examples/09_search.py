"""Hyperparameter search the way the lectures teach it.

First, why random rather than a grid: often one hyperparameter matters much more than
another. With a budget of 9 trials on two parameters, a 3x3 grid tries only 3 values of
each, so the one that matters gets 3 chances to land near its best value; 9 random trials
try 9 different values of it. A toy score that depends sharply on x (its peak drawn anew
in each of 200 repetitions) and hardly on y counts how often random search's best beats
the grid's.

Then the real thing: tune the learning rate and the L2 strength of a spiral classifier
with random samples in log space, a coarse stage of short runs, then a fine stage where
the best of them landed. Runs whose loss explodes are stopped early (pruned). Prints the
best trials of each stage and any warning that a best value sits at the edge of its range,
and draws the score against each parameter into out/.

Needs Optuna: pip install 'tinygrad_edu[search]'
Run: python examples/09_search.py
"""


from tinygrad_edu import fit, nn, search
from tinygrad_edu.data import DataLoader, spiral, train_test_split
from tinygrad_edu.optim import SGD

# ----------------------------------------------------------------------------------------
# Coarse, then fine, on the spiral
# ----------------------------------------------------------------------------------------

X, y = spiral(n_per_class=100, n_classes=3, seed=0)
X_train, y_train, X_val, y_val = train_test_split(X, y, test=0.25, stratify=True, seed=0)


def objective(params, trial):
    """Train for a few epochs with the trial's lr and L2 strength; the score is the
    validation accuracy. Each step's loss goes to the trial, which stops a run whose loss
    goes NaN or above 3x its first value."""
    model = nn.MLP(2, [50, 3], activation="relu", seed=0)
    optimizer = SGD(model.parameters(), lr=params["lr"], momentum=0.9,
                    weight_decay=params["weight_decay"])
    batches = DataLoader(X_train, y_train, batch_size=32, shuffle=True, seed=0)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, batches, (X_val, y_val), epochs=30,
                  on_batch_end=trial.on_batch_end, progress=False)
    return history.val_acc[-1]


# Each decade is as likely: 1e-4..1e-3 gets as many trials as 1..10.
space = {"lr": search.log_uniform(1e-4, 1e1), "weight_decay": search.log_uniform(1e-5, 1e0)}

if __name__ == "__main__":
    compared = search.random_vs_grid(repetitions=200)
    print(f"with 9 trials, random search tried {compared.distinct(compared.random)} distinct "
          f"values of the important parameter x, the 3x3 grid "
          f"{compared.distinct(compared.grid)}; over {compared.repetitions} toy problems, "
          f"random search's best beat the grid's best in {compared.fraction:.0%} of them\n")

    coarse = search.random_search(objective, space, trials=30, seed=0)
    print("coarse stage: lr in [1e-4, 10], weight_decay in [1e-5, 1]")
    print(coarse.table(top=5))
    for warning in coarse.warnings:
        print("warning:", warning)

    fine_space = coarse.refine(top=5)
    print("\nfine stage:", ", ".join(f"{name} {dim}" for name, dim in fine_space.items()))
    fine = search.random_search(objective, fine_space, trials=20, seed=0, study=coarse,
                                stage="fine")
    print(fine.table(top=5))
    for warning in fine.warnings:
        print("warning:", warning)

    pruned = [t for t in fine.trials if t.state == "pruned"]  # fine.trials: both stages
    if pruned:
        print(f"\n{len(pruned)} runs stopped early, e.g. lr={pruned[0].params['lr']:.3g}: "
              f"{pruned[0].reason}")
    best = fine.best
    print(f"\nbest: {best.stage} trial {best.number}, validation accuracy {best.score:.1%}, "
          + ", ".join(f"{name}={value:.3g}" for name, value in best.params.items()))
    print("wrote", search.search_scatter(fine, "out/09_search_scatter.png"))
    print("wrote", search.search_history(fine, "out/09_search_history.png"))

"""tinygrad_edu.search: spaces, random and grid search on Optuna, pruning, refine, edge
warnings, storage shared by processes, resuming after a kill, and the pictures."""

import csv
import io
import math
import os
import runpy
import signal
import subprocess
import sys
import textwrap
import time
import types
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import optuna
import pytest
from test_examples import ENV

from tinygrad_edu import cli, fit, nn, search
from tinygrad_edu.data import DataLoader
from tinygrad_edu.optim import SGD
from tinygrad_edu.search import plots as search_plots
from tinygrad_edu.search import run as run_module
from tinygrad_edu.search import storage as storage_module
from tinygrad_edu.search import trial as trial_module
from tinygrad_edu.search.space import IntUniform, edge_warning, refine_dimension


def peak_at_1e_2(params, trial):
    """Best at lr = 1e-2, in log space."""
    return -(math.log10(params["lr"]) + 2) ** 2


def increasing(params, trial):
    """Best at the top of the lr range."""
    return params["lr"]


def x_itself(params, trial):
    """The score is x."""
    return params["x"]


def sleepy(params, trial):
    """A short trial, so that workers overlap; defined here so worker processes import it."""
    time.sleep(0.2)
    return params["x"]


def search_quietly(objective, space, trials, **kwargs):
    return search.random_search(objective, space, trials, progress=False, **kwargs)


LR = {"lr": search.log_uniform(1e-4, 1e0)}


# ----------------------------------------------------------------------------------------
# Spaces
# ----------------------------------------------------------------------------------------


def test_log_uniform_samples_are_uniform_in_log_space():
    seen = []
    search_quietly(lambda p, t: seen.append(p["lr"]) or 0.0, LR, 200, seed=0)
    decades = np.histogram(np.log10(seen), bins=4, range=(-4, 0))[0]
    # chi-square with 3 degrees of freedom; 11.34 is its 1% critical value
    assert ((decades - 50) ** 2 / 50).sum() < 11.34, decades
    assert min(seen) >= 1e-4 and max(seen) <= 1.0
    # a uniform draw of the same range puts about 90% of them in the last decade
    linear = []
    search_quietly(lambda p, t: linear.append(p["lr"]) or 0.0,
                   {"lr": search.uniform(1e-4, 1.0)}, 200, seed=0)
    assert np.mean(np.array(linear) > 0.1) > 0.85


def test_int_uniform_and_choice_draw_their_values():
    seen = []
    result = search_quietly(lambda p, t: seen.append(p) or 0.0,
                            {"width": search.int_uniform(8, 64, log=True),
                             "act": search.choice(["relu", "tanh"])}, 40, seed=0)
    assert all(isinstance(p["width"], int) and 8 <= p["width"] <= 64 for p in seen)
    assert {p["act"] for p in seen} == {"relu", "tanh"}
    assert len(result.trials) == 40


@pytest.mark.parametrize("make, message", [
    (lambda: search.log_uniform(1e-2, 1e-3), "log_uniform: low must be < high; got low=0.01"),
    (lambda: search.log_uniform(0, 1), "log_uniform: low must be > 0"),
    (lambda: search.log_uniform(-1, 1), "log_uniform: low must be > 0"),
    (lambda: search.uniform(1, 1), "uniform: low must be < high; got low=1, high=1"),
    (lambda: search.uniform(0, float("inf")), "uniform: high must be a finite number"),
    (lambda: search.uniform("0", 1), "uniform: low must be a finite number; got '0'"),
    (lambda: search.int_uniform(5, 5), "int_uniform: low must be < high; got low=5, high=5"),
    (lambda: search.int_uniform(0, 8, log=True), "int_uniform: with log=True, low must be >= 1"),
    (lambda: search.int_uniform(1.5, 8), "int_uniform: low must be an int; got 1.5"),
    (lambda: search.choice([]), "choice: options is empty"),
    (lambda: search.choice("ab"), "choice: options must be a list of values; got 'ab'"),
    (lambda: search.choice([1, 1]), "choice: the values of options must differ"),
    (lambda: search.choice([object]), "choice: each value of options must be None, a bool"),
])
def test_bad_bounds_are_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert message in str(info.value)


@pytest.mark.parametrize("call, message", [
    (lambda: search_quietly(increasing, {}, 3), "random_search: the space must be a non-empty"),
    (lambda: search_quietly(increasing, {"lr": (0, 1)}, 3),
     "random_search: space['lr'] must be made with log_uniform"),
    (lambda: search_quietly(increasing, LR, 0), "random_search: trials must be an int >= 1; "
     "got 0"),
    (lambda: search_quietly(3, LR, 3), "random_search: objective must be a function"),
    (lambda: search_quietly(increasing, LR, 3, direction="max"),
     "random_search: direction must be 'maximize' or 'minimize'; got 'max'"),
    (lambda: search_quietly(increasing, LR, 3, workers=0),
     "random_search: workers must be an int >= 1; got 0"),
    (lambda: search_quietly(increasing, LR, 3, timeout=-1),
     "random_search: timeout must be None or a number of seconds > 0; got -1"),
    (lambda: search_quietly(increasing, LR, 3, stage="a:b"),
     "random_search: stage must be a non-empty str without ':'; got 'a:b'"),
    (lambda: search_quietly(increasing, LR, 3, study=""),
     "random_search: study must be a name (a non-empty str) or the result of an earlier"),
    (lambda: search_quietly(increasing, LR, 3, storage=3), "random_search: storage must be"),
    (lambda: search_quietly(increasing, LR, 3, pruner="median"),
     "random_search: pruner must be None"),
    (lambda: search_quietly(lambda p, t: 0.0, LR, 3, workers=2),
     "random_search(workers=2): worker processes import the objective"),
    (lambda: search.grid_search(increasing, {"lr": [1, 1]}, progress=False),
     "grid_search: the values of grid['lr'] must differ"),
    (lambda: search.grid_search(increasing, {"lr": LR["lr"]}, points=0),
     "grid_search: points must be an int >= 1; got 0"),
])
def test_bad_search_arguments_are_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert message in str(info.value)


# ----------------------------------------------------------------------------------------
# Results: reproducible, refine, warnings, table, CSV
# ----------------------------------------------------------------------------------------


def test_a_seed_repeats_the_same_trials_params_and_scores():
    def run(seed):
        return [(t.number, t.params, t.score)
                for t in search_quietly(peak_at_1e_2, LR, 8, seed=seed).trials]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_trials_is_the_stage_total_so_a_second_call_extends_the_first():
    first = search_quietly(peak_at_1e_2, LR, 3, seed=0)
    more = search_quietly(peak_at_1e_2, LR, 5, study=first)
    assert [t.number for t in more.trials] == [0, 1, 2, 3, 4]
    assert more.trials[:3] == first.trials
    assert len({t.params["lr"] for t in more.trials}) == 5  # new draws, not the first again
    assert search_quietly(peak_at_1e_2, LR, 2, study=more).trials == more.trials


def test_refine_narrows_around_the_best_in_log_space():
    space = {"lr": search.log_uniform(1e-6, 1e2), "act": search.choice(["relu", "tanh", "gelu"]),
             "width": search.int_uniform(4, 256, log=True)}

    def objective(params, trial):
        return peak_at_1e_2(params, trial) - 100 * (params["act"] != "tanh")

    result = search_quietly(objective, space, 40, seed=0)
    top = result.complete()[:5]
    fine = result.refine(top=5)
    lrs = [t.params["lr"] for t in top]
    assert 1e-6 <= fine["lr"].low <= min(lrs) and max(lrs) <= fine["lr"].high <= 1e2
    assert fine["lr"].log and math.log(fine["lr"].high / fine["lr"].low) < 0.5 * math.log(1e8)
    assert fine["lr"].low < 1e-2 < fine["lr"].high  # around the peak
    assert fine["act"].options == ("tanh",)
    assert isinstance(fine["width"], IntUniform) and fine["width"].log
    with pytest.raises(ValueError, match="refine: top must be an int >= 1; got 0"):
        result.refine(top=0)


def test_refine_keeps_a_margin_and_stays_inside_the_range():
    dim = search.log_uniform(1e-4, 1e0)
    narrowed = refine_dimension(dim, [1e-3, 1e-2])  # positions 0.25 and 0.5 of the range
    assert narrowed.low == pytest.approx(10 ** -3.25) and narrowed.high == pytest.approx(
        10 ** -1.75)
    at_edge = refine_dimension(dim, [1e-4])
    assert at_edge.low == pytest.approx(1e-4) and at_edge.high == pytest.approx(10 ** -3.8)
    assert refine_dimension(search.int_uniform(1, 10), [10]) == IntUniform(9, 10)


def test_edge_warning_fires_at_the_edge_of_the_range_and_not_inside():
    at_edge = search_quietly(increasing, LR, 20, seed=0)
    assert at_edge.best.params["lr"] > 10 ** -0.4
    (warning,) = at_edge.warnings
    assert warning.startswith("lr: the best value ")
    assert "lies in the highest 10% of its range [0.0001, 1] (log scale)" in warning
    assert "widen the range above it" in warning
    inside = search_quietly(peak_at_1e_2, LR, 20, seed=0)
    assert inside.warnings == []
    assert edge_warning("lr", LR["lr"], 1.1e-4).startswith(
        "lr: the best value 0.00011 lies in the lowest 10%")
    assert edge_warning("act", search.choice(["a"]), "a") is None


def test_table_and_csv_list_the_trials(tmp_path):
    result = search_quietly(peak_at_1e_2, LR, 6, seed=0)
    lines = result.table(top=3).splitlines()
    assert lines[0].split() == ["rank", "stage", "trial", "score", "lr", "seconds"]
    assert len(lines) == 5 and lines[-1] == "6 complete"
    best = result.best
    assert lines[1].split()[:5] == ["1", "coarse", str(best.number), f"{best.score:.4g}",
                                    f"{best.params['lr']:.4g}"]
    path = result.to_csv(tmp_path / "sub" / "trials.csv")
    rows = list(csv.DictReader(Path(path).read_text().splitlines()))
    assert [int(r["trial"]) for r in rows] == list(range(6))
    assert {r["state"] for r in rows} == {"complete"}
    assert float(rows[best.number]["lr"]) == best.params["lr"]


def test_stages_share_a_study_and_the_result_shows_both(tmp_path):
    coarse = search_quietly(peak_at_1e_2, LR, 6, seed=0)
    fine = search_quietly(peak_at_1e_2, coarse.refine(top=2), 4, study=coarse, stage="fine")
    assert [t.stage for t in fine.trials] == ["coarse"] * 6 + ["fine"] * 4
    assert fine.best.score >= coarse.best.score
    with pytest.raises(ValueError, match="stage 'coarse' of study 'search' was run over another "
                       "space"):
        search_quietly(peak_at_1e_2, coarse.refine(top=2), 4, study=coarse)
    with pytest.raises(ValueError, match="was run over another space"):  # to the last digit
        search_quietly(peak_at_1e_2, {"lr": search.log_uniform(1e-4, 1.0000001)}, 6,
                       study=coarse)
    with pytest.raises(ValueError, match="direction='minimize'"):
        search_quietly(peak_at_1e_2, LR, 6, study=coarse, direction="minimize")
    lr, = search_plots._scatter(fine).axes
    assert lr.get_xscale() == "log" and lr.get_xlabel() == "lr"
    assert lr.get_legend_handles_labels()[1] == ["coarse (6)", "fine (4)"]
    history, = search_plots._history(fine).axes
    best = history.lines[0].get_ydata()
    assert list(best) == sorted(best) and best[-1] == fine.best.score  # never gets worse
    assert search.search_scatter(fine, tmp_path / "s.png") == str(tmp_path / "s.png")
    assert search.search_history(fine, tmp_path / "h.png") == str(tmp_path / "h.png")
    assert (tmp_path / "s.png").stat().st_size > 0 and (tmp_path / "h.png").stat().st_size > 0


# ----------------------------------------------------------------------------------------
# Pruning and failures
# ----------------------------------------------------------------------------------------


def regression(params, trial):
    """Linear regression by SGD; a learning rate of 10 makes its loss explode."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([[1.0], [2.0], [3.0]])
    model = nn.Linear(3, 1, seed=0)
    history = fit(model, nn.MSELoss(), SGD(model.parameters(), lr=params["lr"]),
                  DataLoader(X, y, batch_size=16), epochs=5, on_batch_end=trial.on_batch_end,
                  progress=False)
    return -history.train_loss[-1]


def test_an_exploding_run_is_pruned_with_its_reason_and_the_search_goes_on():
    result = search.grid_search(regression, {"lr": [10.0, 0.01]}, progress=False)
    by_lr = {t.params["lr"]: t for t in result.trials}
    assert by_lr[10.0].state == "pruned" and by_lr[10.0].score is None
    assert "exceeds 3x its first value" in by_lr[10.0].reason
    assert by_lr[0.01].state == "complete" and by_lr[0.01].reason is None
    assert result.best.params == {"lr": 0.01}
    panel, = search_plots._scatter(result).axes  # the pruned run: a cross along the bottom
    assert panel.get_legend_handles_labels()[1] == ["coarse (1)", "pruned or failed (1)"]


def test_fit_reports_a_loss_to_the_study_once_a_second_and_the_one_that_explodes(
        monkeypatch):
    monkeypatch.setattr(trial_module, "REPORT_SECONDS", 60)  # however slow the machine
    result = search.grid_search(regression, {"lr": [10.0, 0.01]}, progress=False)
    study = optuna.load_study(study_name="search:coarse", storage=result.handle)
    steps = {t.params["lr"]: sorted(t.intermediate_values) for t in study.trials}
    assert steps[0.01] == [0]  # of 20 steps, the first
    assert steps[10.0][0] == 0 and len(steps[10.0]) == 2  # and the step that exploded
    assert f"at step {steps[10.0][1]} exceeds 3x" in next(
        t.reason for t in result.trials if t.state == "pruned")


def test_a_loss_that_is_not_a_number_is_a_clear_error():
    def objective(params, trial):
        trial.on_batch_end(0, "1.5", 0.1)

    (failed,) = search_quietly(objective, LR, 1).trials
    assert failed.reason == ("TypeError: Trial.report: the loss must be a number (a Value's "
                             ".item()); got '1.5'")


def test_a_nan_loss_is_pruned_and_an_error_is_recorded_as_failed():
    def objective(params, trial):
        if params["x"] > 0.5:
            raise RuntimeError("out of memory")
        trial.report(1.0, 0)
        trial.report(float("nan"), 1)
        return 1.0

    result = search_quietly(objective, {"x": search.uniform(0, 1)}, 10, seed=0)
    states = {t.state for t in result.trials}
    assert states == {"pruned", "failed"} and len(result.trials) == 10
    assert {t.reason for t in result.trials if t.state == "failed"} == {
        "RuntimeError: out of memory"}
    assert {t.reason for t in result.trials if t.state == "pruned"} == {
        "loss nan at step 1 is not finite (the learning rate is too high)"}
    with pytest.raises(ValueError, match="search: no trial completed"):
        _ = result.best


def test_a_score_that_is_not_a_number_fails_the_trial():
    result = search_quietly(lambda p, t: None, LR, 2, seed=0)
    assert [t.reason for t in result.trials] == [
        "the objective returned None; it must return the score, a finite number"] * 2


def test_optuna_stays_quiet_and_a_line_per_trial_shows_off_a_terminal(capsys):
    level = optuna.logging.get_verbosity()
    search.random_search(peak_at_1e_2, LR, 3, seed=0)
    err = capsys.readouterr().err
    assert "random_search coarse: trial 3/3 complete: score " in err
    assert "Trial 0 finished" not in err
    assert optuna.logging.get_verbosity() == level


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_progress_bar_over_trials_shows_the_best_score_and_each_failure_once(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    def objective(params, trial):
        if trial.number < 2:
            raise ValueError("bad batch")
        return 0.5

    search.random_search(objective, LR, 4, seed=0)
    shown = terminal.getvalue()
    assert "4/4" in shown and "best 0.5" in shown
    assert shown.count("trial 0 failed: ValueError: bad batch") == 1
    assert "trial 1 failed" not in shown  # the same reason again


def test_workers_need_an_objective_they_can_import(monkeypatch):
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # a notebook

    def objective(params, trial):
        return 0.0

    objective.__module__ = "__main__"
    with pytest.raises(TypeError, match=r"in a notebook, move the objective into a \.py file"):
        search.random_search(objective, LR, 3, workers=2)


class BrokenPool:
    """A process pool whose workers all stopped abruptly, as when a script without a
    __main__ guard starts a search in each of them."""

    def __init__(self, workers, mp_context):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def submit(self, fn, *args):
        future = Future()
        future.set_exception(BrokenProcessPool("terminated abruptly"))
        return future


def test_a_worker_that_stops_abruptly_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(run_module, "ProcessPoolExecutor", BrokenPool)
    with pytest.raises(RuntimeError) as info:
        search.random_search(sleepy, {"x": search.uniform(0, 1)}, 2, workers=2,
                             storage=tmp_path / "s.db", progress=False)
    assert str(info.value) == (
        "random_search(workers=2): a worker process stopped abruptly: it was killed, or the "
        "script starts the search without `if __name__ == '__main__':` (each worker imports "
        "the script, which must not start a search of its own). Call it again to resume")


def test_timeout_stops_starting_trials():
    start = time.perf_counter()
    result = search_quietly(sleepy, {"x": search.uniform(0, 1)}, 100, timeout=0.5)
    # no trial starts after 0.5 s: the last one ends by about 0.7 s (100 would take 20 s)
    assert len(result.trials) < 10 and time.perf_counter() - start < 5


# ----------------------------------------------------------------------------------------
# Storage, processes, resuming
# ----------------------------------------------------------------------------------------


def test_two_worker_processes_complete_exactly_the_trials_asked_for(tmp_path):
    space = {"x": search.uniform(0, 1)}
    result = search.random_search(sleepy, space, 8, workers=2, storage=tmp_path / "s.db",
                                  progress=False)
    assert result.storage == f"sqlite:///{tmp_path / 's.db'}"
    assert [t.number for t in result.trials] == list(range(8))
    assert {t.state for t in result.trials} == {"complete"}
    assert len({t.params["x"] for t in result.trials}) == 8
    again = search.random_search(sleepy, space, 8, workers=2, study=result, progress=False)
    assert len(again.trials) == 8  # the budget was full: nothing ran


KILLABLE = """
import os, time
from tinygrad_edu import search

HERE = os.path.dirname(os.path.abspath(__file__))
space = {"x": search.uniform(0, 1)}

def objective(params, trial):
    if trial.number == 4 and os.path.exists(os.path.join(HERE, "block")):
        open(os.path.join(HERE, "running"), "w").close()  # tell the test it is running
        time.sleep(120)
    return params["x"]

def run():
    return search.random_search(objective, space, 5, storage=os.path.join(HERE, "s.db"),
                                progress=False)

if __name__ == "__main__":
    run()
"""


def kill_mid_trial(folder):
    """Run the search of KILLABLE in a process and kill it (SIGKILL) in its last trial;
    return the script's path and the killed process's id."""
    script = folder / "search.py"
    script.write_text(KILLABLE)
    (folder / "block").touch()
    process = subprocess.Popen([sys.executable, str(script)], env=ENV)
    deadline = time.time() + 60
    while not (folder / "running").exists() and process.poll() is None and (
            time.time() < deadline):
        time.sleep(0.05)
    assert (folder / "running").exists()
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    (folder / "block").unlink()
    return script, process.pid


def test_a_killed_search_resumes_where_it_stopped(tmp_path):
    script, pid = kill_mid_trial(tmp_path)
    assert subprocess.run([sys.executable, str(script)], env=ENV, timeout=120).returncode == 0
    # the same call once more finds the stage full, runs nothing and returns the trials
    result = runpy.run_path(str(script))["run"]()
    assert [(t.number, t.state) for t in result.trials] == [
        (0, "complete"), (1, "complete"), (2, "complete"), (3, "complete"), (4, "failed"),
        (5, "complete")]
    assert len({t.params["x"] for t in result.trials}) == 6
    assert result.trials[4].reason == f"interrupted: its worker (process {pid}) stopped"


def test_a_trial_abandoned_on_another_machine_fails_once_its_heartbeat_stops(
        tmp_path, monkeypatch):
    monkeypatch.setattr(storage_module, "GRACE_SECONDS", 1)
    space = {"x": search.uniform(0, 1)}
    first = search_quietly(x_itself, space, 4, storage=tmp_path / "s.db")
    # a worker on another machine starts the last trial, beats once, and is heard no more
    storage = first.handle
    study = optuna.load_study(study_name="search:coarse", storage=storage)
    with pytest.warns(UserWarning, match="Heartbeat of storage"):  # ask() beats no more
        trial = study.ask()
    trial.set_user_attr("worker", "another-machine:1234")
    storage.record_heartbeat(storage.get_trial_id_from_study_id_trial_number(
        storage.get_study_id_from_name("search:coarse"), trial.number))
    time.sleep(2.1)  # the database clock counts whole seconds: over 1 s, surely
    result = search_quietly(x_itself, space, 5, storage=tmp_path / "s.db")
    assert [(t.number, t.state) for t in result.trials] == [
        (0, "complete"), (1, "complete"), (2, "complete"), (3, "complete"), (4, "failed"),
        (5, "complete")]
    assert result.trials[4].reason == "interrupted: its worker stopped"


def test_worker_commands_in_two_processes_share_one_study(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import time
        from tinygrad_edu import search
        space = {"x": search.uniform(0, 1)}
        def objective(params, trial):
            time.sleep(0.1)
            return params["x"]
    """))
    url = f"sqlite:///{tmp_path / 's.db'}"
    command = [sys.executable, "-m", "tinygrad_edu.cli", "search", "worker",
               f"{script}:objective", "--space", f"{script}:space", "--storage", url,
               "--study", "shared", "--trials", "6"]
    workers = [subprocess.Popen([*command, "--seed", str(seed)], env=ENV,
                                stdout=subprocess.PIPE, text=True) for seed in (1, 2)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    assert all(out.startswith("rank  stage   trial  score") for out in outputs)
    result = search_quietly(x_itself, {"x": search.uniform(0, 1)}, 6, storage=url,
                            study="shared")
    assert [t.number for t in result.trials] == list(range(6))
    assert {t.state for t in result.trials} == {"complete"}
    assert len({t.params["x"] for t in result.trials}) == 6


def test_worker_command_errors_exit_2(tmp_path, capsys):
    args = ["search", "worker", f"{tmp_path / 'missing.py'}:objective", "--space",
            "x.py:space", "--storage", "sqlite:///s.db", "--study", "s", "--trials", "3"]
    assert cli.main(args) == 2
    assert "OBJECTIVE: cannot read" in capsys.readouterr().err
    assert cli.main([*args[:-1], "0"]) == 2
    assert "expected a whole number of at least 1, got '0'" in capsys.readouterr().err
    assert cli.main([*args, "--timeout", "-1"]) == 2
    assert "expected a number of seconds > 0, got '-1'" in capsys.readouterr().err
    script = tmp_path / "train.py"
    script.write_text("space = {}\n")
    assert cli.main(["search", "worker", f"{script}:objective", *args[3:]]) == 2
    assert f"OBJECTIVE: '{script}' defines no 'objective'" in capsys.readouterr().err
    assert cli.main(["search", "worker", "objective", *args[3:]]) == 2
    assert "OBJECTIVE must be SCRIPT.py:NAME; got 'objective'" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------
# Random against grid
# ----------------------------------------------------------------------------------------


def test_random_search_tries_more_values_of_the_important_parameter_than_a_grid():
    compared = search.random_vs_grid(200)
    assert (compared.distinct(compared.random), compared.distinct(compared.grid)) == (9, 3)
    assert compared.repetitions == 200 and compared.fraction > 0.5

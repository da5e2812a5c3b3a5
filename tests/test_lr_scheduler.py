"""Learning-rate schedules: the lr at given epochs against PyTorch's closed forms."""

import math

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
)


def optimizer(*lrs):
    """SGD with one parameter group per lr."""
    return SGD([{"params": [Value(np.zeros(2))], "lr": lr} for lr in lrs], lr=1.0)


def lrs_by_epoch(scheduler, epochs):
    """The lrs of every group at epochs 0..epochs-1, one row per epoch."""
    rows = [scheduler.get_last_lr()]
    for _ in range(epochs - 1):
        scheduler.optimizer.step()
        scheduler.step()
        rows.append(scheduler.get_last_lr())
    return np.array(rows)


# ----------------------------------------------------------------------------------------
# The schedules
# ----------------------------------------------------------------------------------------


def test_construction_records_initial_lr_and_sets_epoch_zero():
    opt = optimizer(0.1, 0.01)
    scheduler = LinearLR(opt, start_factor=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert scheduler.base_lrs == [0.1, 0.01]
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.005]
    assert scheduler.last_epoch == 0
    assert scheduler.get_last_lr() == [0.05, 0.005]


def test_get_last_lr_is_a_copy_of_the_groups_lrs():
    scheduler = StepLR(optimizer(0.1), step_size=1)
    scheduler.get_last_lr().append(5.0)
    scheduler.step()
    assert scheduler.get_last_lr() == [scheduler.optimizer.param_groups[0]["lr"]] == [
        pytest.approx(0.01)]


def test_step_lr():
    lrs = lrs_by_epoch(StepLR(optimizer(0.1, 0.5), step_size=30, gamma=0.1), 91)
    for epoch, expected in [(0, 0.1), (29, 0.1), (30, 0.01), (59, 0.01), (60, 1e-3),
                            (90, 1e-4)]:
        assert lrs[epoch, 0] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(lrs[:, 1], 0.5 * 0.1 ** (np.arange(91) // 30), rtol=1e-12)


def test_numpy_int_arguments_act_as_ints():
    plain = lrs_by_epoch(StepLR(optimizer(0.1), step_size=3, gamma=0.5), 10)
    numpy = lrs_by_epoch(StepLR(optimizer(0.1), step_size=np.int64(3), gamma=0.5), 10)
    np.testing.assert_array_equal(numpy, plain)
    milestones = lrs_by_epoch(MultiStepLR(optimizer(0.1), milestones=np.array([3, 6, 9]),
                                          gamma=0.5), 10)
    np.testing.assert_array_equal(milestones, plain)


def test_multi_step_lr_sorts_milestones_and_counts_repeats():
    lrs = lrs_by_epoch(MultiStepLR(optimizer(1.0), milestones=[80, 30], gamma=0.1), 100)
    np.testing.assert_allclose(lrs[[0, 29, 30, 79, 80, 99], 0],
                               [1, 1, 0.1, 0.1, 0.01, 0.01], rtol=1e-12)
    lrs = lrs_by_epoch(MultiStepLR(optimizer(1.0), milestones=[0, 2, 2], gamma=0.5), 4)
    np.testing.assert_allclose(lrs[:, 0], [0.5, 0.5, 0.125, 0.125], rtol=1e-12)


def test_exponential_lr():
    lrs = lrs_by_epoch(ExponentialLR(optimizer(0.1, 1.0), gamma=0.9), 50)
    np.testing.assert_allclose(lrs, [[0.1, 1.0]] * 0.9 ** np.arange(50)[:, None], rtol=1e-12)


def test_cosine_annealing_lr_at_t_max_and_beyond():
    base, eta_min, t_max = 0.1, 0.001, 10
    lrs = lrs_by_epoch(CosineAnnealingLR(optimizer(base), T_max=t_max, eta_min=eta_min), 31)
    t = np.arange(31)
    expected = eta_min + (base - eta_min) * (1 + np.cos(np.pi * t / t_max)) / 2
    np.testing.assert_allclose(lrs[:, 0], expected, rtol=1e-12)
    assert lrs[0, 0] == base
    assert lrs[5, 0] == pytest.approx((base + eta_min) / 2, rel=1e-12)
    assert lrs[10, 0] == pytest.approx(eta_min, rel=1e-12)
    # no restart: past T_max the cosine climbs back symmetrically, to base at 2 T_max
    np.testing.assert_allclose(lrs[11:20, 0], lrs[9:0:-1, 0], rtol=1e-12)
    assert lrs[20, 0] == pytest.approx(base, rel=1e-12)
    assert lrs[30, 0] == pytest.approx(eta_min, rel=1e-12)


def pytorch_recursive_cosine(base, eta_min, t_max, epochs):
    """PyTorch's ``CosineAnnealingLR.get_lr``: each lr from the previous one."""
    lr, out = base, [base]
    for t in range(1, epochs):
        if (t - 1 - t_max) % (2 * t_max) == 0:
            lr = lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        else:
            lr = ((1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
                  * (lr - eta_min) + eta_min)
        out.append(lr)
    return np.array(out)


def test_cosine_closed_form_agrees_with_pytorchs_recursive_form_over_many_epochs():
    # the NOTE in lr_scheduler.py: 10,000 epochs of PyTorch's recursion drift by < 1e-12
    lrs = lrs_by_epoch(CosineAnnealingLR(optimizer(0.1), T_max=37, eta_min=0.002), 10_000)
    recursive = pytorch_recursive_cosine(0.1, 0.002, 37, 10_000)
    assert np.max(np.abs(lrs[:, 0] - recursive)) < 1e-12


def test_linear_lr_warm_up():
    lrs = lrs_by_epoch(LinearLR(optimizer(0.1)), 8)
    np.testing.assert_allclose(lrs[:, 0], [0.1 / 3, 0.7 / 15, 0.06, 1.1 / 15, 1.3 / 15, 0.1,
                                           0.1, 0.1], rtol=1e-12)
    lrs = lrs_by_epoch(LinearLR(optimizer(1.0), start_factor=1.0, end_factor=0.0,
                                total_iters=4), 6)
    np.testing.assert_allclose(lrs[:, 0], [1, 0.75, 0.5, 0.25, 0, 0], atol=1e-15)


def test_a_schedule_of_your_own_defines_lr_at():
    class Halving(LRScheduler):
        def lr_at(self, base_lr, epoch):
            return base_lr / 2**epoch

    lrs = lrs_by_epoch(Halving(optimizer(1.0)), 4)
    np.testing.assert_array_equal(lrs[:, 0], [1, 0.5, 0.25, 0.125])
    with pytest.raises(NotImplementedError, match="LRScheduler must define lr_at"):
        LRScheduler(optimizer(1.0))


def test_an_lr_set_by_hand_is_replaced_at_the_next_step():
    scheduler = ExponentialLR(optimizer(1.0), gamma=0.5)
    scheduler.optimizer.param_groups[0]["lr"] = 123.0
    scheduler.step()
    assert scheduler.get_last_lr() == [0.5]


def test_a_group_added_after_the_scheduler_is_an_error():
    opt = optimizer(0.1)
    scheduler = StepLR(opt, step_size=1)
    opt.add_param_group({"params": [Value(1.0)]})
    with pytest.raises(RuntimeError, match=r"StepLR: the optimizer has 2 parameter groups but "
                                           r"the scheduler was built for 1"):
        scheduler.step()


def test_the_scheduler_drives_the_optimizer():
    p = Value(np.zeros(()))
    opt = SGD([p], lr=1.0)
    scheduler = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = np.ones(())
        opt.step()
        scheduler.step()
    assert p.item() == -(1 + 0.5 + 0.25)


# ----------------------------------------------------------------------------------------
# ReduceLROnPlateau
# ----------------------------------------------------------------------------------------


def plateau_lrs(metrics, lrs=(1.0,), **options):
    scheduler = ReduceLROnPlateau(optimizer(*lrs), **options)
    rows = []
    for metric in metrics:
        scheduler.step(metric)
        rows.append(scheduler.get_last_lr())
    return np.array(rows)


def test_plateau_cuts_after_more_than_patience_bad_epochs():
    # best 10, then 9; three epochs at 9 are > patience 2 bad epochs: cut; then 8 ...
    lrs = plateau_lrs([10, 9, 9, 9, 9, 8, 8, 8, 8], factor=0.5, patience=2, threshold=0)
    np.testing.assert_allclose(lrs[:, 0], [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25])


def test_plateau_cooldown_ignores_the_epochs_after_a_cut():
    lrs = plateau_lrs([5.0] * 8, factor=0.1, patience=1, cooldown=2)
    np.testing.assert_allclose(lrs[:, 0], [1, 1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01])


def test_plateau_min_lr_floors_each_group():
    lrs = plateau_lrs([1.0] * 4, factor=0.1, patience=0, min_lr=0.05)
    np.testing.assert_allclose(lrs[:, 0], [1, 0.1, 0.05, 0.05])
    lrs = plateau_lrs([1.0] * 3, lrs=(1.0, 1.0), factor=0.1, patience=0, min_lr=[0.5, 0])
    np.testing.assert_allclose(lrs, [[1, 1], [0.5, 0.1], [0.5, 0.01]])


def test_plateau_skips_cuts_no_larger_than_eps():
    lrs = plateau_lrs([1.0] * 5, lrs=(1e-7,), factor=0.5, patience=0)
    np.testing.assert_allclose(lrs[:, 0], [1e-7, 5e-8, 2.5e-8, 1.25e-8, 1.25e-8], rtol=1e-12)


@pytest.mark.parametrize(("mode", "threshold_mode", "threshold", "metrics"), [
    ("min", "rel", 0.1, [10.0, 9.5, 8.9, 8.5]),  # must beat best * 0.9
    ("min", "abs", 0.5, [10.0, 9.6, 9.4, 9.5]),  # must beat best - 0.5
    ("max", "rel", 0.1, [1.0, 1.05, 1.2, 1.3]),  # must beat best * 1.1
    ("max", "abs", 0.5, [1.0, 1.4, 1.6, 2.0]),   # must beat best + 0.5
    # a best other than 1, where the relative and absolute bars differ
    ("max", "rel", 0.1, [2.0, 2.1, 2.5, 2.7]),  # must beat best * 1.1
    ("max", "abs", 0.5, [2.0, 2.4, 2.6, 3.0]),  # must beat best + 0.5
    ("max", "abs", 0.0, [1.0, 1.0, 2.0, 2.0]),  # equal to the best is no improvement
    ("min", "abs", 0.0, [1.0, 1.0, 0.5, 0.5]),
])
def test_plateau_threshold_in_both_modes(mode, threshold_mode, threshold, metrics):
    # the second metric is not enough of an improvement, the third is, the fourth is not
    lrs = plateau_lrs(metrics, mode=mode, threshold_mode=threshold_mode,
                      threshold=threshold, factor=0.5, patience=0)
    np.testing.assert_allclose(lrs[:, 0], [1, 0.5, 0.5, 0.25])


def test_plateau_defaults_cut_by_ten_after_more_than_ten_bad_epochs():
    lrs = plateau_lrs([1.0] * 13)  # the first sets the best; the 12th is the 11th bad one
    np.testing.assert_allclose(lrs[:, 0], [1.0] * 11 + [0.1, 0.1])


def test_plateau_counts_bad_epochs_from_zero_and_again_after_each_cut():
    scheduler = ReduceLROnPlateau(optimizer(1.0))
    assert (scheduler.num_bad_epochs, scheduler.cooldown_counter, scheduler.last_epoch) == (
        0, 0, 0)
    # an infinite loss from the start never improves on the initial best, so every epoch
    # is bad: a cut after each second one
    lrs = plateau_lrs([math.inf] * 6, factor=0.5, patience=1)
    np.testing.assert_allclose(lrs[:, 0], [1, 0.5, 0.5, 0.25, 0.25, 0.125])


def test_plateau_accepts_the_edges_of_its_options():
    # factor 0 cuts straight to min_lr; eps 0 makes every cut count
    lrs = plateau_lrs([1.0] * 3, factor=0.0, patience=0, min_lr=0.01, eps=0.0)
    np.testing.assert_allclose(lrs[:, 0], [1, 0.01, 0.01])


def test_plateau_skips_a_cut_of_exactly_eps():
    lrs = plateau_lrs([1.0] * 3, factor=0.5, patience=0, eps=0.5)
    np.testing.assert_allclose(lrs[:, 0], [1, 1, 1])


def test_plateau_accepts_a_value_as_metric_and_refuses_nan():
    scheduler = ReduceLROnPlateau(optimizer(1.0))
    scheduler.step(Value(3.0))
    assert scheduler.best == 3.0
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau.step: the metric is NaN at epoch "
                                         r"2; training has diverged"):
        scheduler.step(float("nan"))
    scheduler.step(2.0)
    with pytest.raises(ValueError, match="the metric is NaN at epoch 3"):
        scheduler.step(float("nan"))


# ----------------------------------------------------------------------------------------
# State dicts
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda opt: CosineAnnealingLR(opt, T_max=10, eta_min=0.01),
    lambda opt: LinearLR(opt, start_factor=0.1, total_iters=8),
    lambda opt: MultiStepLR(opt, milestones=[2, 5]),
])
def test_state_dict_round_trip_resumes_the_schedule(make):
    scheduler = make(optimizer(0.1, 1.0))
    for _ in range(4):
        scheduler.step()
    opt_state, state = scheduler.optimizer.state_dict(), scheduler.state_dict()
    expected = lrs_by_epoch(scheduler, 6)
    # restore in either order: the loaded epoch's lrs are put back at once
    fresh = optimizer(0.1, 1.0)
    resumed = make(fresh)
    fresh.load_state_dict(opt_state)
    resumed.load_state_dict(state)
    np.testing.assert_array_equal(lrs_by_epoch(resumed, 6), expected)
    fresh = optimizer(0.1, 1.0)
    fresh.load_state_dict(opt_state)
    resumed = make(fresh)
    resumed.load_state_dict(state)
    np.testing.assert_array_equal(lrs_by_epoch(resumed, 6), expected)


def test_plateau_state_dict_round_trip():
    scheduler = ReduceLROnPlateau(optimizer(1.0), patience=1, cooldown=1)
    for metric in [3, 2, 2]:
        scheduler.step(metric)
    opt_state, state = scheduler.optimizer.state_dict(), scheduler.state_dict()
    later = [2, 2, 2, 1, 1, 1, 1]
    expected = []
    for metric in later:
        scheduler.step(metric)
        expected.append(scheduler.get_last_lr())
    opt = optimizer(1.0)
    resumed = ReduceLROnPlateau(opt, patience=1, cooldown=1)
    opt.load_state_dict(opt_state)
    resumed.load_state_dict(state)
    got = []
    for metric in later:
        resumed.step(metric)
        got.append(resumed.get_last_lr())
    assert got == expected


def test_loaded_state_is_copied_and_a_missing_key_is_refused():
    scheduler = MultiStepLR(optimizer(0.1), milestones=[3])
    state = MultiStepLR(optimizer(0.1), milestones=[1, 2]).state_dict()
    scheduler.load_state_dict(state)
    state["milestones"].append(5)
    assert scheduler.milestones == [1, 2]
    del state["gamma"]
    with pytest.raises(KeyError, match=r"MultiStepLR.load_state_dict: missing keys \['gamma'\], "
                                       r"unexpected keys \[\]"):
        scheduler.load_state_dict(state)


def test_multi_step_lr_default_gamma_is_a_tenth():
    lrs = lrs_by_epoch(MultiStepLR(optimizer(1.0), milestones=[2]), 3)
    np.testing.assert_allclose(lrs[:, 0], [1, 1, 0.1])


def test_the_smallest_valid_lengths_are_accepted():
    np.testing.assert_allclose(lrs_by_epoch(CosineAnnealingLR(optimizer(1.0), T_max=1), 2),
                               [[1.0], [0.0]], atol=1e-15)
    np.testing.assert_allclose(lrs_by_epoch(LinearLR(optimizer(1.0), 0.5, total_iters=1), 3),
                               [[0.5], [1.0], [1.0]])


def test_state_dict_holds_copies_and_refuses_another_schedules_state():
    scheduler = MultiStepLR(optimizer(0.1), milestones=[3])
    state = scheduler.state_dict()
    state["milestones"].append(1)
    assert scheduler.milestones == [3]
    with pytest.raises(KeyError, match=r"StepLR.load_state_dict: missing keys \['step_size'\], "
                                       r"unexpected keys \['milestones'\]"):
        StepLR(optimizer(0.1), step_size=2).load_state_dict(state)


# ----------------------------------------------------------------------------------------
# Invalid arguments: each message
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "message"), [
    (lambda o: StepLR(o, step_size=0), "StepLR: step_size must be an int >= 1; got 0"),
    (lambda o: StepLR(o, step_size=2.5), "StepLR: step_size must be an int >= 1; got 2.5"),
    (lambda o: StepLR(o, step_size=2, gamma=0), "StepLR: gamma must be a number > 0; got 0"),
    (lambda o: MultiStepLR(o, milestones=[3, -1]),
     r"MultiStepLR: each milestone must be an int >= 0; got \[3, -1\]"),
    (lambda o: MultiStepLR(o, milestones=[3], gamma=-0.1),
     "MultiStepLR: gamma must be a number > 0; got -0.1"),
    (lambda o: ExponentialLR(o, gamma="0.9"), "ExponentialLR: gamma must be a number > 0; "
                                              "got '0.9'"),
    (lambda o: CosineAnnealingLR(o, T_max=0), "CosineAnnealingLR: T_max must be an int >= 1; "
                                              "got 0"),
    (lambda o: CosineAnnealingLR(o, T_max=10, eta_min=-1e-3),
     "CosineAnnealingLR: eta_min must be a number >= 0; got -0.001"),
    (lambda o: MultiStepLR(o, milestones=[3], gamma=0),
     "MultiStepLR: gamma must be a number > 0; got 0"),
    (lambda o: ExponentialLR(o, gamma=0.0), "ExponentialLR: gamma must be a number > 0; got 0.0"),
    (lambda o: LinearLR(o, start_factor=1.5), r"LinearLR: start_factor must be a number in "
     r"\(0, 1\]; got 1.5"),
    (lambda o: LinearLR(o, start_factor=0), r"LinearLR: start_factor must be a number in "
                                            r"\(0, 1\]; got 0"),
    (lambda o: LinearLR(o, end_factor=1.5), r"LinearLR: end_factor must be a number in "
                                            r"\[0, 1\]; got 1.5"),
    (lambda o: LinearLR(o, total_iters=0), "LinearLR: total_iters must be an int >= 1; got 0"),
    (lambda o: ReduceLROnPlateau(o, mode="minimum"),
     "ReduceLROnPlateau: mode must be 'min' or 'max'; got 'minimum'"),
    (lambda o: ReduceLROnPlateau(o, threshold_mode="relative"),
     "ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs'; got 'relative'"),
    (lambda o: ReduceLROnPlateau(o, factor=1.0), r"ReduceLROnPlateau: factor must be a number "
                                                 r"in \[0, 1\); got 1.0"),
    (lambda o: ReduceLROnPlateau(o, patience=-1), "ReduceLROnPlateau: patience must be an int "
                                                  ">= 0; got -1"),
    (lambda o: ReduceLROnPlateau(o, threshold=-1e-4), "ReduceLROnPlateau: threshold must be a "
                                                      "number >= 0; got -0.0001"),
    (lambda o: ReduceLROnPlateau(o, cooldown=1.5), "ReduceLROnPlateau: cooldown must be an "
                                                   "int >= 0; got 1.5"),
    (lambda o: ReduceLROnPlateau(o, eps=-1.0), "ReduceLROnPlateau: eps must be a number >= 0; "
                                               "got -1.0"),
    (lambda o: ReduceLROnPlateau(o, min_lr=[0.1]), r"ReduceLROnPlateau: min_lr must be a "
                                                   r"number or a list of 2 \(one per parameter "
                                                   r"group\); got \[0.1\]"),
    (lambda o: ReduceLROnPlateau(o, min_lr=-0.1), "ReduceLROnPlateau: min_lr must be numbers "
                                                  ">= 0; got -0.1"),
])
def test_invalid_arguments_name_the_schedule_and_value(make, message):
    with pytest.raises(ValueError, match=message):
        make(optimizer(0.1, 0.01))


@pytest.mark.parametrize("schedule", [
    lambda o: StepLR(o, 1), lambda o: ReduceLROnPlateau(o)])
def test_a_scheduler_needs_an_optimizer(schedule):
    with pytest.raises(TypeError, match="expected an Optimizer such as SGD or Adam; got list"):
        schedule([Value(1.0)])
    with pytest.raises(TypeError, match=r"^StepLR: expected an Optimizer"):
        StepLR([Value(1.0)], 1)


def test_schedules_work_with_any_optimizer():
    opt = Adam([Value(np.ones(2))], lr=0.01)
    scheduler = CosineAnnealingLR(opt, T_max=2)
    scheduler.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.005)


def test_plateau_reports_the_starting_lrs_before_its_first_step():
    assert ReduceLROnPlateau(optimizer(0.5, 0.1)).get_last_lr() == [0.5, 0.1]

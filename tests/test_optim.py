"""Optimizers and gradient clipping: the documented update rules, step by step.

Each optimizer is checked against its pseudo-code from PyTorch's documentation, written
out below as a plain loop (``reference``), and against a few numbers worked by hand.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, is_grad_enabled, nn
from tinygrad_edu.optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Optimizer,
    RMSprop,
    clip_grad_norm_,
    clip_grad_value_,
)
from tinygrad_edu.testing import strategies as tst

# ----------------------------------------------------------------------------------------
# The documented algorithms, one step at a time, in float64
# ----------------------------------------------------------------------------------------


def reference(name, theta, grad_fn, steps, **o):
    """The trajectory of PyTorch's documented pseudo-code for optimizer ``name``."""
    theta = np.array(theta, dtype=np.float64)
    zeros = np.zeros_like(theta)
    b, m, v, v_max, g_ave = zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy(), zeros
    state_sum = np.full_like(theta, o.get("initial_accumulator_value", 0.0))
    lr, wd = o["lr"], o.get("weight_decay", 1e-2 if name == "AdamW" else 0.0)
    for t in range(1, steps + 1):
        g = grad_fn(theta)
        if name != "AdamW" and wd != 0:
            g = g + wd * theta
        if name == "SGD":
            mu, tau = o.get("momentum", 0.0), o.get("dampening", 0.0)
            if mu != 0:
                b = g if t == 1 else mu * b + (1 - tau) * g
                g = g + mu * b if o.get("nesterov", False) else b
            theta = theta - lr * g
        elif name == "Adagrad":
            lr_t = lr / (1 + (t - 1) * o.get("lr_decay", 0.0))
            state_sum = state_sum + g**2
            theta = theta - lr_t * g / (np.sqrt(state_sum) + o.get("eps", 1e-10))
        elif name == "RMSprop":
            alpha, mu, eps = o.get("alpha", 0.99), o.get("momentum", 0.0), o.get("eps", 1e-8)
            v = alpha * v + (1 - alpha) * g**2
            v_tilde = v
            if o.get("centered", False):
                g_ave = g_ave * alpha + (1 - alpha) * g
                v_tilde = v_tilde - g_ave**2
            if mu > 0:
                b = mu * b + g / (np.sqrt(v_tilde) + eps)
                theta = theta - lr * b
            else:
                theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
        else:  # Adam, AdamW
            beta1, beta2 = o.get("betas", (0.9, 0.999))
            if name == "AdamW":
                theta = theta - lr * wd * theta
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g**2
            m_hat = m / (1 - beta1**t)
            if o.get("amsgrad", False):
                v_max = np.maximum(v_max, v)
                v_hat = v_max / (1 - beta2**t)
            else:
                v_hat = v / (1 - beta2**t)
            theta = theta - lr * m_hat / (np.sqrt(v_hat) + o.get("eps", 1e-8))
    return theta


OPTIMIZERS = {"SGD": SGD, "Adagrad": Adagrad, "RMSprop": RMSprop, "Adam": Adam,
              "AdamW": AdamW}

# Every variant the options allow, each with a learning rate that moves visibly.
VARIANTS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.05)),
    ("Adagrad", dict(lr=0.3)),
    ("Adagrad", dict(lr=0.3, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5,
                     eps=1e-3)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.8)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.8, centered=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, betas=(0.5, 0.7), eps=1e-3, weight_decay=0.2, amsgrad=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True, betas=(0.5, 0.7))),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in o.items())}" for name, o in VARIANTS]

A = np.array([[1.0, -2.0, 0.5], [3.0, 0.2, -1.0]])
C = np.array([[0.3, 1.0, -0.7], [-2.0, 0.1, 0.4]])


THETA0 = np.linspace(-1.0, 1.0, 6).reshape(2, 3)


def curved_grad(theta):
    """A gradient that depends on where we are, so each step sees a different one."""
    return A * theta + C + np.sin(3 * theta)


def curved_grad_any(theta):
    """The same idea for a parameter of any shape."""
    return 2 * theta - 1 + np.sin(3 * theta)


def run(name, options, theta, grad_fn, steps, dtype=np.float64):
    p = Value(np.asarray(theta, dtype=dtype))
    optimizer = OPTIMIZERS[name]([p], **options)
    for _ in range(steps):
        p.grad = grad_fn(p.data).astype(dtype)
        optimizer.step()
    return p, optimizer


# ----------------------------------------------------------------------------------------
# Update rules
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=IDS)
@pytest.mark.parametrize("theta", [THETA0, np.array(0.3)], ids=["2x3", "0-d"])
def test_trajectory_matches_the_documented_algorithm(name, options, theta):
    grad_fn = curved_grad if theta.shape == THETA0.shape else curved_grad_any
    p, _ = run(name, options, theta, grad_fn, steps=8)
    expected = reference(name, theta, grad_fn, 8, **options)
    np.testing.assert_allclose(p.data, expected, rtol=1e-12, atol=1e-14)


@given(theta=tst.arrays(domain=tst.real(-2, 2)), variant=st.sampled_from(VARIANTS))
def test_any_shape_follows_the_documented_algorithm(theta, variant):
    """0-d parameters and size-1 axes too."""
    name, options = variant
    p, _ = run(name, options, theta, curved_grad_any, steps=3)
    np.testing.assert_allclose(p.data, reference(name, theta, curved_grad_any, 3, **options),
                               rtol=1e-12, atol=1e-14)


def test_sgd_momentum_by_hand():
    # f = θ², g = 2θ; lr 0.1, μ 0.9. b₁ = g₁ = 2; θ₁ = 0.8. g₂ = 1.6, b₂ = 0.9·2 + 1.6 = 3.4,
    # θ₂ = 0.8 - 0.34 = 0.46. g₃ = 0.92, b₃ = 3.06 + 0.92 = 3.98, θ₃ = 0.46 - 0.398 = 0.062
    thetas = [run("SGD", dict(lr=0.1, momentum=0.9), 1.0, lambda x: 2 * x, k)[0].item()
              for k in (1, 2, 3)]
    np.testing.assert_allclose(thetas, [0.8, 0.46, 0.062], rtol=1e-12)


def test_sgd_nesterov_by_hand():
    # b₁ = 2, g = 2 + 0.9·2 = 3.8, θ₁ = 0.62; g₂ = 1.24, b₂ = 1.8 + 1.24 = 3.04,
    # g = 1.24 + 0.9·3.04 = 3.976, θ₂ = 0.62 - 0.3976 = 0.2224
    thetas = [run("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), 1.0, lambda x: 2 * x,
                  k)[0].item() for k in (1, 2)]
    np.testing.assert_allclose(thetas, [0.62, 0.2224], rtol=1e-12)


def test_sgd_dampening_scales_only_the_new_gradients():
    # constant g = 1, μ = 0.5, τ = 0.5: b = 1, then 0.5 + 0.5 = 1, ... so every step is lr
    p, _ = run("SGD", dict(lr=0.1, momentum=0.5, dampening=0.5), 0.0,
               lambda x: np.ones_like(x), 4)
    assert p.item() == pytest.approx(-0.4, rel=1e-12)


def test_adagrad_by_hand():
    # g = 2θ. s₁ = 4, θ₁ = 1 - 0.1·2/2 = 0.9; g₂ = 1.8, s₂ = 7.24, θ₂ = 0.9 - 0.18/√7.24
    thetas = [run("Adagrad", dict(lr=0.1), 1.0, lambda x: 2 * x, k)[0].item() for k in (1, 2)]
    np.testing.assert_allclose(thetas, [0.9, 0.9 - 0.18 / math.sqrt(7.24)], rtol=1e-9)


def test_adagrad_steps_shrink_under_a_constant_gradient():
    # with g = 1 the t-th step is lr / √t: the sum of squares only grows
    p = Value(np.zeros(()))
    optimizer = Adagrad([p], lr=1.0)
    steps = []
    for _ in range(4):
        before = p.item()
        p.grad = np.ones(())
        optimizer.step()
        steps.append(before - p.item())
    np.testing.assert_allclose(steps, 1 / np.sqrt([1, 2, 3, 4]), rtol=1e-9)


def test_rmsprop_first_step_is_lr_over_sqrt_one_minus_alpha():
    # v₁ = (1 - α) g², so the first step is lr g / (√(1-α) |g|) = 10 lr whatever g is
    for g in (1e-3, 5.0):
        p, _ = run("RMSprop", dict(lr=0.01, eps=0), 0.0, lambda x, g=g: np.full_like(x, g), 1)
        assert p.item() == pytest.approx(-0.1, rel=1e-12)


def test_adam_first_step_is_about_lr_in_each_coordinate():
    # m̂₁ = g and v̂₁ = g², so θ moves by lr g / (|g| + ε): lr times the sign of g
    g = np.array([2.0, -1e-3, 50.0])
    for amsgrad in (False, True):
        p, _ = run("Adam", dict(lr=0.1, amsgrad=amsgrad), np.zeros(3), lambda x: g, 1)
        np.testing.assert_allclose(p.data, -0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_adam_bias_correction_makes_early_steps_full_size():
    # under a constant gradient every bias-corrected step is lr (to within ε)
    p, _ = run("Adam", dict(lr=0.01), 0.0, lambda x: np.full_like(x, 0.3), 5)
    assert p.item() == pytest.approx(-0.05, rel=1e-6)


def test_amsgrad_keeps_the_largest_second_moment():
    # a large gradient then small ones: v_max remembers the large one, so AMSGrad's steps
    # are smaller than Adam's
    grads = iter([10.0, 0.1, 0.1, 0.1])
    adam, _ = run("Adam", dict(lr=0.1), 0.0, lambda x: np.full_like(x, next(grads)), 4)
    grads = iter([10.0, 0.1, 0.1, 0.1])
    ams, opt = run("Adam", dict(lr=0.1, amsgrad=True), 0.0,
                   lambda x: np.full_like(x, next(grads)), 4)
    assert abs(ams.item()) < abs(adam.item())
    state = opt.state[opt.param_groups[0]["params"][0]]
    assert state["max_exp_avg_sq"] > state["exp_avg_sq"]


def test_adamw_decays_weights_directly_and_adam_through_the_gradient():
    # zero loss gradient, θ = 1, lr 0.1, λ 0.5: AdamW shrinks θ by 1 - lr λ = 0.95;
    # Adam sees g = λθ = 0.5 and takes a full lr-sized step to 0.9
    adamw, _ = run("AdamW", dict(lr=0.1, weight_decay=0.5), 1.0, np.zeros_like, 1)
    adam, _ = run("Adam", dict(lr=0.1, weight_decay=0.5), 1.0, np.zeros_like, 1)
    assert adamw.item() == pytest.approx(0.95, rel=1e-12)
    assert adam.item() == pytest.approx(0.9, rel=1e-7)


def test_adamw_default_weight_decay_is_one_hundredth():
    assert AdamW([Value(1.0)]).param_groups[0]["weight_decay"] == 0.01
    assert Adam([Value(1.0)]).param_groups[0]["weight_decay"] == 0


@pytest.mark.parametrize("optimizer", [
    (lambda ps: SGD(ps, lr=0.05)),
    (lambda ps: SGD(ps, lr=0.02, momentum=0.9)),
    (lambda ps: SGD(ps, lr=0.02, momentum=0.9, nesterov=True)),
    (lambda ps: Adagrad(ps, lr=0.5)),
    (lambda ps: RMSprop(ps, lr=0.01)),
    (lambda ps: RMSprop(ps, lr=0.01, momentum=0.5, centered=True)),
    (lambda ps: Adam(ps, lr=0.05)),
    (lambda ps: Adam(ps, lr=0.05, amsgrad=True)),
    (lambda ps: AdamW(ps, lr=0.05)),
], ids=["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "rmsprop-centered", "adam",
        "amsgrad", "adamw"])
def test_every_optimizer_minimizes_an_ill_conditioned_quadratic_bowl(optimizer):
    # f(x, y) = (x² + 20 y²) / 2 from (1, 1), through the engine: loss.backward(), step()
    h = Value(np.array([1.0, 20.0]), requires_grad=False)
    xy = nn.Parameter(np.array([1.0, 1.0]))
    opt = optimizer([xy])
    for _ in range(400):
        loss = (h * xy * xy).sum() * 0.5
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert np.linalg.norm(xy.data) < 0.05
    assert xy.is_leaf


# ----------------------------------------------------------------------------------------
# Parameters: groups, frozen, missing gradients, dtypes, read-only gradients
# ----------------------------------------------------------------------------------------


def test_param_groups_have_their_own_learning_rates_and_every_option_filled_in():
    body, head = Value(np.ones(2)), Value(np.ones(3))
    opt = SGD([{"params": [body], "lr": 0.001}, {"params": head}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.001, 0.1]
    assert opt.param_groups[0] == {"params": [body], "lr": 0.001, "momentum": 0.9,
                                   "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}
    assert opt.param_groups[1]["params"] == [head]  # a single Value becomes a list
    body.grad, head.grad = np.ones(2), np.ones(3)
    opt.step()
    np.testing.assert_allclose(body.data, 1 - 0.001)
    np.testing.assert_allclose(head.data, 1 - 0.1)


def test_a_group_lr_change_takes_effect_at_the_next_step():
    p = Value(np.zeros(()))
    opt = SGD([p], lr=0.1)
    opt.param_groups[0]["lr"] = 0.5
    p.grad = np.ones(())
    opt.step()
    assert p.item() == -0.5


def test_add_param_group_takes_the_defaults():
    base, new = Value(np.ones(2)), Value(np.ones(2))
    opt = Adam([base], lr=0.01, betas=(0.8, 0.9))
    opt.add_param_group({"params": [new], "lr": 0.1})
    assert opt.param_groups[1]["betas"] == (0.8, 0.9)
    assert opt.param_groups[1]["lr"] == 0.1
    with pytest.raises(ValueError, match=r"Adam: parameter group 2: parameter 0 is given "
                                         r"twice"):
        opt.add_param_group({"params": [base]})


def test_model_parameters_and_groups_from_a_module():
    model = nn.MLP(2, [3, 1], seed=0)
    head = model.layers[-1]
    body = [p for p in model.parameters() if all(p is not q for q in head.parameters())]
    opt = SGD([{"params": body, "lr": 1e-4}, {"params": head.parameters()}], lr=1e-2)
    assert sum(len(g["params"]) for g in opt.param_groups) == len(model.parameters())


def test_frozen_parameters_are_untouched_and_resume_when_unfrozen():
    frozen, live = Value(np.ones(2)), Value(np.ones(2))
    frozen.requires_grad = False
    opt = SGD([frozen, live], lr=0.1, momentum=0.9)
    frozen.grad, live.grad = np.ones(2), np.ones(2)
    opt.step()
    np.testing.assert_array_equal(frozen.data, np.ones(2))
    assert frozen not in opt.state
    frozen.requires_grad = True
    opt.step()
    np.testing.assert_allclose(frozen.data, 0.9)


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=IDS)
def test_parameters_without_a_gradient_are_skipped(name, options):
    p, q = Value(np.ones(2)), Value(np.ones(2))
    opt = OPTIMIZERS[name]([p, q], **options)
    p.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(q.data, np.ones(2))
    assert q not in opt.state and p in opt.state
    # and one without a gradient before one with it does not stop the step there
    opt = OPTIMIZERS[name]([q, p], **options)
    p.data[:] = 1.0
    opt.step()
    assert not np.array_equal(p.data, np.ones(2))


def test_zero_grad_sets_grads_to_none():
    p, q = Value(np.ones(2)), Value(np.ones(2))
    opt = SGD([{"params": [p]}, {"params": [q]}], lr=0.1)
    p.grad, q.grad = np.ones(2), np.ones(2)
    opt.zero_grad()
    assert p.grad is None and q.grad is None


@pytest.mark.parametrize("owner", ["optimizer", "module"])
def test_zero_grad_set_to_none_as_in_pytorch(owner):
    model = nn.Linear(2, 2, seed=0)
    model.weight.grad = np.ones((2, 2))
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    clear = opt.zero_grad if owner == "optimizer" else model.zero_grad
    clear(set_to_none=True)
    assert model.weight.grad is None and model.bias.grad is None
    model.weight.grad = shared = np.ones((2, 2))
    clear(set_to_none=False)  # zeros where a gradient was, None stays None
    np.testing.assert_array_equal(model.weight.grad, np.zeros((2, 2)))
    assert model.weight.grad.dtype == model.weight.dtype and model.bias.grad is None
    np.testing.assert_array_equal(shared, np.ones((2, 2)))  # a new array, not written into


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=IDS)
def test_every_optimizer_steps_after_either_zero_grad(name, options):
    p, q = Value(np.ones(2)), Value(np.ones(2))
    opt = OPTIMIZERS[name]([p, q], **options)
    p.grad, q.grad = np.ones(2), np.ones(2)
    opt.step()
    opt.zero_grad(set_to_none=True)
    before = q.data.copy()
    p.grad = np.ones(2)
    opt.step()  # q has no gradient: skipped
    np.testing.assert_array_equal(q.data, before)
    opt.zero_grad(set_to_none=False)
    opt.step()  # zero gradients: every rule still runs and stays finite
    assert np.all(np.isfinite(p.data)) and np.all(np.isfinite(q.data))


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=IDS)
def test_float32_parameters_and_buffers_stay_float32_and_are_updated_in_place(name, options):
    p = Value(THETA0, dtype=np.float32)
    data = p.data
    # NumPy float64 options must not promote the buffers either
    opt = OPTIMIZERS[name]([p], **{k: np.float64(v) if isinstance(v, float) else v
                                   for k, v in options.items()})
    for _ in range(3):
        p.grad = curved_grad(p.data).astype(np.float32)
        opt.step()
    assert p.data is data and p.data.dtype == np.float32
    buffers = [v for v in opt.state[p].values() if isinstance(v, np.ndarray)]
    assert all(b.dtype == np.float32 for b in buffers)
    expected = reference(name, THETA0, curved_grad, 3, **options)
    np.testing.assert_allclose(p.data, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=IDS)
def test_step_never_writes_to_a_gradient_array(name, options):
    # two parameters share one gradient array, as the engine may arrange
    p, q = Value(np.ones(3)), Value(np.full(3, 2.0))
    shared = np.array([0.5, -1.0, 2.0])
    opt = OPTIMIZERS[name]([p, q], **options)
    for _ in range(3):
        p.grad = q.grad = shared
        opt.step()
        assert p.grad is shared and q.grad is shared
        np.testing.assert_array_equal(shared, [0.5, -1.0, 2.0])


def test_step_records_no_graph_even_with_a_differentiable_gradient():
    p = nn.Parameter(np.array([1.0, 2.0]))
    (p * p * p).sum().backward(create_graph=True)
    assert isinstance(p.grad, Value)  # 3 p², itself differentiable
    Adam([p], lr=0.1).step()
    assert is_grad_enabled()
    assert p.is_leaf and type(p.data) is np.ndarray
    np.testing.assert_allclose(p.data, [0.9, 1.9], rtol=1e-7)


def test_grad_with_the_wrong_shape_is_an_error_naming_the_parameter():
    p = nn.Parameter(np.ones((2, 3)), name="layers.0.weight")
    p.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"SGD.step: parameter 0 \('layers.0.weight'\) has "
                                         r"shape \(2, 3\) but its grad has shape \(3,\)"):
        SGD([p], lr=0.1).step()


def test_repr_lists_each_group_options():
    opt = SGD([{"params": [Value(1.0)], "lr": 0.5}], lr=0.1)
    assert repr(opt).splitlines()[:3] == ["SGD (", "Parameter Group 0", "    dampening: 0.0"]
    assert "    lr: 0.5" in repr(opt)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0.0\n    lr: 0.5\n"
                         "    momentum: 0.0\n    nesterov: False\n    weight_decay: 0.0\n)")


# ----------------------------------------------------------------------------------------
# State dicts
# ----------------------------------------------------------------------------------------


def _train(opt, params, steps):
    for _ in range(steps):
        for p in params:
            p.grad = curved_grad(p.data)
        opt.step()


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=IDS)
def test_state_dict_round_trip_resumes_identically(name, options):
    make = OPTIMIZERS[name]
    params = [Value(THETA0), Value(THETA0[::-1] * 2)]
    opt = make([{"params": params[:1]}, {"params": params[1:], "lr": 0.02}], **options)
    _train(opt, params, 3)
    saved_data = [p.data.copy() for p in params]
    state = opt.state_dict()
    _train(opt, params, 3)
    # a fresh model at the saved point, with a fresh optimizer built the same way
    fresh = [Value(d) for d in saved_data]
    other = make([{"params": fresh[:1]}, {"params": fresh[1:], "lr": 0.5}], **options)
    other.load_state_dict(state)
    assert other.param_groups[1]["lr"] == 0.02
    _train(other, fresh, 3)
    for p, q in zip(params, fresh):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_layout_and_copies():
    p, q = Value(np.ones(2)), Value(np.ones(3))
    opt = Adam([{"params": [p]}, {"params": [q], "lr": 0.1}], amsgrad=True)
    p.grad, q.grad = np.ones(2), np.ones(3)
    opt.step()
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert list(state["param_groups"][0])[-1] == "params"  # after the options, as PyTorch's
    assert state["param_groups"][1]["lr"] == 0.1
    assert sorted(state["state"][1]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert state["state"][1]["step"] == 1
    state["state"][0]["exp_avg"][:] = 99  # the saved arrays are copies ...
    assert not np.any(opt.state[p]["exp_avg"] == 99)
    opt.load_state_dict(state)
    state["state"][0]["exp_avg"][:] = 7  # ... and so are the loaded ones
    np.testing.assert_array_equal(opt.state[p]["exp_avg"], 99)


def test_load_state_dict_casts_buffers_to_the_parameter_dtype():
    p = Value(np.ones(2))
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.ones(2)
    opt.step()
    q = Value(np.ones(2), dtype=np.float32)
    other = SGD([q], lr=0.1, momentum=0.9)
    other.load_state_dict(opt.state_dict())
    assert other.state[q]["momentum_buffer"].dtype == np.float32


def test_load_state_dict_errors_name_the_mismatch():
    p, q = Value(np.ones(2)), Value(np.ones(3))
    opt = SGD([p, q], lr=0.1, momentum=0.9)
    p.grad = np.ones(2)
    opt.step()
    state = opt.state_dict()
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: the state has 1 parameter "
                                         r"groups but the optimizer has 2"):
        SGD([{"params": [p]}, {"params": [q]}], lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: parameter group 0 has 2 "
                                         r"parameters in the state but 1 here"):
        SGD([p], lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match=r"'momentum_buffer' has shape \(2,\) in the state but "
                                         r"the parameter has shape \(3,\)"):
        SGD([q, p], lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: parameter group 0 of the "
                                         r"state lacks the option\(s\) \['amsgrad', 'betas', "
                                         r"'eps'\]; is it another optimizer's state\?"):
        Adam([p, q]).load_state_dict(state)
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: parameter 0: 'momentum_buffer' "
                                         r"has shape \(2,\)"):
        SGD([q, p], lr=0.1).load_state_dict(state)
    state["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match=r"SGD: parameter group 0: lr must be a number >= 0; "
                                         r"got -1.0"):
        SGD([p, q], lr=0.1).load_state_dict(state)
    state["param_groups"][0]["lr"] = 0.1
    state["state"][2] = {}
    with pytest.raises(ValueError, match=r"the state has an entry for parameter 2, but the "
                                         r"optimizer has 2 parameters"):
        SGD([p, q], lr=0.1).load_state_dict(state)


# ----------------------------------------------------------------------------------------
# Invalid options: each message
# ----------------------------------------------------------------------------------------


def _p():
    return Value(np.ones(2))


@pytest.mark.parametrize(("make", "message"), [
    (lambda: SGD([_p()], lr=-0.1), "SGD: lr must be a number >= 0; got -0.1"),
    (lambda: SGD([_p()], lr="0.1"), "SGD: lr must be a number >= 0; got '0.1'"),
    (lambda: SGD([_p()], lr=0.1, momentum=-0.9), "SGD: momentum must be a number >= 0; got "
                                                 "-0.9"),
    (lambda: SGD([_p()], lr=0.1, weight_decay=-1), "SGD: weight_decay must be a number >= 0; "
                                                   "got -1"),
    (lambda: SGD([_p()], lr=0.1, dampening="0.1"), "SGD: dampening must be a number; got "
                                                   "'0.1'"),
    (lambda: SGD([_p()], lr=0.1, nesterov=True), "SGD: nesterov=True needs momentum > 0 and "
                                                 "dampening = 0; got momentum=0, dampening=0"),
    (lambda: SGD([_p()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     "SGD: nesterov=True needs momentum > 0 and dampening = 0; got momentum=0.9, "
     "dampening=0.1"),
    (lambda: Adagrad([_p()], lr_decay=-0.1), "Adagrad: lr_decay must be a number >= 0; got "
                                             "-0.1"),
    (lambda: Adagrad([_p()], initial_accumulator_value=-1.0),
     "Adagrad: initial_accumulator_value must be a number >= 0; got -1.0"),
    (lambda: Adagrad([_p()], eps=-1e-10), "Adagrad: eps must be a number >= 0; got -1e-10"),
    (lambda: RMSprop([_p()], alpha=1.5), r"RMSprop: alpha must be a number in \[0, 1\]; got "
                                         r"1.5"),
    (lambda: RMSprop([_p()], momentum=-0.1), "RMSprop: momentum must be a number >= 0; got "
                                             "-0.1"),
    (lambda: Adam([_p()], betas=(0.9, 1.0)), r"Adam: betas must be a pair of numbers in "
                                             r"\[0, 1\); got \(0.9, 1.0\)"),
    (lambda: Adam([_p()], betas=(-0.1, 0.9)), r"Adam: betas must be a pair of numbers in "
                                              r"\[0, 1\); got \(-0.1, 0.9\)"),
    (lambda: Adam([_p()], betas=0.9), r"Adam: betas must be a pair of numbers in \[0, 1\); "
                                      r"got 0.9"),
    (lambda: Adam([_p()], eps=-1.0), "Adam: eps must be a number >= 0; got -1.0"),
    (lambda: AdamW([_p()], lr=-1e-3), "AdamW: lr must be a number >= 0; got -0.001"),
    (lambda: AdamW([_p()], weight_decay=-0.01), "AdamW: weight_decay must be a number >= 0; "
                                                "got -0.01"),
    (lambda: SGD([{"params": [_p()]}, {"params": [_p()], "lr": -1}], lr=0.1),
     "SGD: parameter group 1: lr must be a number >= 0; got -1"),
    (lambda: SGD([], lr=0.1), "SGD: got an empty parameter list"),
    (lambda: Adam([{"params": []}]), "Adam: parameter group 0: the group has no parameters"),
    (lambda: SGD([{"lr": 0.1}], lr=0.1), r"SGD: parameter group 0: a group needs a 'params' "
                                         r"entry; got keys \['lr'\]"),
    (lambda: SGD([{"params": [_p()], "learning_rate": 0.1}], lr=0.1),
     r"SGD: parameter group 0: unknown option\(s\) \['learning_rate'\]; SGD has "
     r"\['dampening', 'lr', 'momentum', 'nesterov', 'weight_decay'\]"),
    (lambda: SGD([Value(1.0) * 2], lr=0.1), r"SGD: parameter 0 is made by an op \(not a "
                                            r"leaf\); an optimizer updates leaves"),
])
def test_invalid_options_are_value_errors_naming_the_optimizer_and_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_parameter_given_twice_is_an_error():
    p = nn.Parameter(np.ones(2), name="bias")
    with pytest.raises(ValueError, match=r"SGD: parameter 1 \('bias'\) is given twice; each "
                                         r"parameter belongs to one group, once"):
        SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match=r"Adam: parameter group 1: parameter 0 \('bias'\) "
                                         r"is given twice"):
        Adam([{"params": [p]}, {"params": [p]}])


@pytest.mark.parametrize(("make", "message"), [
    (lambda: SGD(Value(np.ones(2), name="w"), lr=0.1),
     r"SGD: params must be an iterable of Values or of dicts; got a single Value \(wrap it "
     r"in a list: \[w\]\)"),
    (lambda: SGD(nn.Linear(2, 1), lr=0.1), r"SGD: params must be an iterable of Values or "
                                           r"of dicts; got Linear \(pass model.parameters\(\)\)"),
    (lambda: SGD([np.ones(2)], lr=0.1), "SGD: parameter 0 is a ndarray, not a Value$"),
    (lambda: SGD(Value(1.0), lr=0.1), r"got a single Value \(wrap it in a list: \[p\]\)"),
    (lambda: SGD(5, lr=0.1), "SGD: params must be an iterable of Values or of dicts; got int$"),
    (lambda: SGD(nn.Linear(2, 1).named_parameters(), lr=0.1),
     r"SGD: parameter 0 is a tuple, not a Value \(named_parameters\(\) gives \(name, "
     r"parameter\) pairs; pass parameters\(\)\)"),
    (lambda: SGD({_p(), _p()}, lr=0.1), "SGD: params is a set, whose order changes"),
    (lambda: SGD([{"params": {_p()}}], lr=0.1), "SGD: parameter group 0: params is a set"),
    (lambda: SGD([{"params": [_p()]}, _p()], lr=0.1), "SGD: params mixes dicts"),
    (lambda: SGD([_p()], lr=0.1).add_param_group([_p()]), "SGD: a parameter group must be a "
                                                          "dict; got list"),
])
def test_wrong_kinds_of_params_are_type_errors(make, message):
    with pytest.raises(TypeError, match=message):
        make()


def test_the_base_class_needs_an_update_rule():
    p = _p()
    p.grad = np.ones(2)
    with pytest.raises(NotImplementedError, match="Optimizer must define _update"):
        Optimizer([p], {"lr": 0.1}).step()


# ----------------------------------------------------------------------------------------
# Gradient clipping
# ----------------------------------------------------------------------------------------


def _with_grads(*grads):
    params = []
    for g in grads:
        p = Value(np.zeros(np.shape(g)))
        p.grad = g
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3, math.inf])
def test_clip_grad_norm_returns_the_total_norm_and_scales_to_max_norm(norm_type):
    grads = [np.array([[3.0, -4.0], [1.0, 2.0]]), np.array([12.0, 0.5]), np.array(-2.0)]
    originals = [g.copy() for g in grads]
    params = _with_grads(*grads)
    total = clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    flat = np.concatenate([g.ravel() for g in originals])
    assert total == pytest.approx(np.linalg.norm(flat, norm_type), rel=1e-12)
    scale = 1.0 / (total + 1e-6)
    for p, g, original in zip(params, grads, originals):
        np.testing.assert_allclose(p.grad, original * scale, rtol=1e-12)
        np.testing.assert_array_equal(g, original)  # replaced, not edited
        assert p.grad is not g
    new = np.concatenate([p.grad.ravel() for p in params])
    assert np.linalg.norm(new, norm_type) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_below_the_limit_leaves_the_gradients_alone():
    params = _with_grads(np.array([0.3, 0.4]))
    g = params[0].grad
    assert clip_grad_norm_(params, 1.0) == pytest.approx(0.5)
    assert params[0].grad is g


def test_clip_grad_norm_skips_missing_gradients_and_keeps_float32():
    p = Value(np.zeros(2), dtype=np.float32)
    p.grad = np.array([30.0, 40.0], dtype=np.float32)
    empty = Value(np.zeros(2))
    assert clip_grad_norm_([p, empty], 5.0) == pytest.approx(50.0)
    assert p.grad.dtype == np.float32 and empty.grad is None
    np.testing.assert_allclose(p.grad, [3.0, 4.0], rtol=1e-6)
    assert clip_grad_norm_([empty], 5.0) == 0.0


def test_clip_grad_norm_takes_a_single_value():
    (p,) = _with_grads(np.array([6.0, 8.0]))
    assert clip_grad_norm_(p, 5.0) == pytest.approx(10.0)
    np.testing.assert_allclose(p.grad, [3.0, 4.0], rtol=1e-6)


def test_clip_grad_norm_of_a_non_finite_gradient():
    params = _with_grads(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm of order 2.0 of "
                                           r"the gradients is inf"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    # PyTorch's default: scale anyway (inf · 0 is NaN, and NumPy says so) and return it
    with pytest.warns(RuntimeWarning, match="invalid value"):
        assert clip_grad_norm_(params, 1.0) == math.inf
    assert np.isnan(params[0].grad[0]) and params[0].grad[1] == 0


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda ps: clip_grad_norm_(ps, -1.0), ValueError,
     "clip_grad_norm_: max_norm must be a number >= 0; got -1.0"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type=0), ValueError,
     r"clip_grad_norm_: norm_type must be a number > 0 \(or inf\); got 0"),
    (lambda ps: clip_grad_norm_(nn.Linear(2, 1), 1.0), TypeError,
     r"clip_grad_norm_: parameters must be a Value or an iterable of Values; got Linear "
     r"\(pass model.parameters\(\)\)"),
    (lambda ps: clip_grad_norm_([np.ones(2)], 1.0), TypeError,
     "clip_grad_norm_: parameter 0 is a ndarray, not a Value"),
    (lambda ps: clip_grad_value_(ps, -0.5), ValueError,
     "clip_grad_value_: clip_value must be a number >= 0; got -0.5"),
    (lambda ps: clip_grad_value_(nn.Linear(2, 1), 1.0), TypeError,
     r"clip_grad_value_: parameters must be a Value or an iterable of Values; got Linear"),
])
def test_clip_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(_with_grads(np.ones(2)))


def test_clip_grad_value_clips_each_element_into_new_arrays():
    g = np.array([-3.0, 0.2, 5.0], dtype=np.float32)
    params = _with_grads(g, np.array(0.7))
    clip_grad_value_(params, np.float64(0.5))
    np.testing.assert_array_equal(params[0].grad, np.array([-0.5, 0.2, 0.5], np.float32))
    assert params[0].grad.dtype == np.float32
    assert params[1].grad == 0.5
    np.testing.assert_array_equal(g, np.array([-3.0, 0.2, 5.0], dtype=np.float32))


def test_clip_limits_of_zero_and_below_one_are_accepted():
    params = _with_grads(np.array([3.0, 4.0]), np.array(-2.0))
    assert clip_grad_norm_(params, 0.5) == pytest.approx(np.sqrt(29.0))
    np.testing.assert_allclose(np.linalg.norm(np.append(params[0].grad, params[1].grad)), 0.5,
                               rtol=1e-5)
    assert clip_grad_norm_(params, 0.0) == pytest.approx(0.5, rel=1e-5)
    assert not params[0].grad.any() and params[1].grad == 0
    params = _with_grads(np.array([3.0, -4.0]))
    clip_grad_value_(params, 0)
    assert not params[0].grad.any()


def test_clip_grad_norm_at_exactly_the_limit_leaves_the_gradients_alone():
    params = _with_grads(np.array([3.0, 4.0]))  # norm 5: the scale is exactly 1
    g = params[0].grad
    assert clip_grad_norm_(params, 5.0 + 1e-6) == 5.0
    assert params[0].grad is g


@pytest.mark.parametrize("norm_type", [1.0, 2.0, math.inf])
def test_clip_grad_norm_without_gradients_is_zero_for_every_norm(norm_type):
    assert clip_grad_norm_([Value(np.zeros(2))], 1.0, norm_type=norm_type) == 0.0


# ----------------------------------------------------------------------------------------
# PyTorch's defaults and state names
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "defaults"), [
    (lambda ps: Adagrad(ps), {"lr": 1e-2, "lr_decay": 0, "weight_decay": 0,
                              "initial_accumulator_value": 0, "eps": 1e-10}),
    (lambda ps: RMSprop(ps), {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0,
                              "momentum": 0, "centered": False}),
    (lambda ps: Adam(ps), {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                           "amsgrad": False}),
    (lambda ps: AdamW(ps), {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                            "weight_decay": 1e-2, "amsgrad": False}),
    (lambda ps: AdamW(ps, eps=1e-6), {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-6,
                                      "weight_decay": 1e-2, "amsgrad": False}),
], ids=["Adagrad", "RMSprop", "Adam", "AdamW", "AdamW-eps"])
def test_optimizer_defaults_are_pytorchs(make, defaults):
    group = make([_p()]).param_groups[0]
    assert {k: v for k, v in group.items() if k not in ("params", "initial_lr")} == defaults


@pytest.mark.parametrize(("make", "names"), [
    (lambda ps: SGD(ps, lr=0.1, dampening=0.5), []),
    (lambda ps: Adagrad(ps), ["step", "sum"]),
    (lambda ps: RMSprop(ps), ["square_avg", "step"]),
    (lambda ps: RMSprop(ps, momentum=0.9, centered=True),
     ["grad_avg", "momentum_buffer", "square_avg", "step"]),
], ids=["SGD-no-momentum", "Adagrad", "RMSprop", "RMSprop-centered-momentum"])
def test_state_holds_pytorchs_buffers_after_two_steps(make, names):
    p = _p()
    opt = make([p])
    for g in ([1.0, -2.0], [3.0, 0.5]):
        p.grad = np.array(g)
        opt.step()
    assert sorted(opt.state.get(p, {})) == names
    if "step" in names:
        assert opt.state[p]["step"] == 2
    if "grad_avg" in names:  # the leaky average of the gradients, alpha = 0.99
        np.testing.assert_allclose(opt.state[p]["grad_avg"],
                                   0.99 * 0.01 * np.array([1.0, -2.0]) + 0.01 * np.array(
                                       [3.0, 0.5]), rtol=1e-12)


def test_sgd_without_momentum_ignores_dampening():
    p = Value(np.array([1.0, 2.0]))
    opt = SGD([p], lr=0.1, dampening=0.5)
    for _ in range(2):
        p.grad = np.array([1.0, -1.0])
        opt.step()
    np.testing.assert_allclose(p.data, [0.8, 2.2], rtol=1e-12)


def test_weight_decay_of_zero_leaves_the_gradient_alone_and_of_one_applies():
    # Without decay an infinite weight stays infinite and does not turn the step to NaN
    p = Value(np.array([np.inf, 1.0]))
    p.grad = np.array([0.0, 1.0])
    SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.data, [np.inf, 0.9])
    p = Value(np.array([2.0, 1.0]))
    p.grad = np.array([0.0, 1.0])
    SGD([p], lr=0.1, weight_decay=1.0).step()
    np.testing.assert_allclose(p.data, [2.0 - 0.2, 1.0 - 0.2], rtol=1e-12)


def test_loaded_betas_are_a_pair_of_python_floats():
    p = _p()
    state = Adam([p]).state_dict()
    state["param_groups"][0]["betas"] = [np.float64(0.8), np.float64(0.9)]  # as a file may hold
    opt = Adam([p])
    opt.load_state_dict(state)
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)
    assert all(type(b) is float for b in opt.param_groups[0]["betas"])


def test_sgd_updates_parameters_of_two_dtypes_in_one_group_in_their_own_dtype():
    rng = np.random.default_rng(0)
    p32 = Value(rng.standard_normal((3, 4)), dtype=np.float32)
    p64 = Value(rng.standard_normal(5))
    g32, g64 = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(5)
    expected32 = p32.data - np.float32(0.3) * g32  # the product rounded in float32
    expected64 = p64.data - 0.3 * g64
    p32.grad, p64.grad = g32, g64
    SGD([p32, p64], lr=0.3).step()
    assert p32.dtype == np.float32 and p32.data.tobytes() == expected32.tobytes()
    assert p64.data.tobytes() == expected64.tobytes()

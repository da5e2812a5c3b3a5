"""Loss functions: values equal plain-NumPy references written from PyTorch's formulas,
first and second derivatives are proved, extreme logits stay finite, and every error
message is raised where it should be."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_functional_activation import assert_rejects_non_real

from tinygrad_edu import Value, grad
from tinygrad_edu.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    huber_loss,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    nll_loss,
    smooth_l1_loss,
    svm_loss,
)
from tinygrad_edu.testing import gradcheck, gradgradcheck
from tinygrad_edu.testing import strategies as ts

REDUCTIONS = ["mean", "sum", "none"]
reductions = st.sampled_from(REDUCTIONS)

# ----------------------------------------------------------------------------------------
# References: plain NumPy, one sample at a time, from PyTorch's documented formulas
# ----------------------------------------------------------------------------------------


def reduced(losses, reduction, divisor=None):
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / (losses.size if divisor is None else divisor)


def log_softmax(s):
    shifted = s - s.max()
    return shifted - np.log(np.exp(shifted).sum())


def ref_cross_entropy(a, target, weight=None, reduction="mean", label_smoothing=0.0):
    axis = 0 if a.ndim == 1 else 1
    scores = np.moveaxis(a, axis, -1)
    classes = scores.shape[-1]
    w = np.ones(classes) if weight is None else weight
    eps = label_smoothing
    soft = target.shape == a.shape
    probabilities = np.moveaxis(target, axis, -1) if soft else None
    losses = np.empty(scores.shape[:-1])
    divisor = 0.0
    for i in np.ndindex(losses.shape):
        logp = log_softmax(scores[i])
        if soft:
            q = probabilities[i] * (1 - eps) + eps / classes
            losses[i] = -np.sum(w * q * logp)
            divisor += 1
        else:
            y = target[i]
            losses[i] = -(1 - eps) * w[y] * logp[y] - eps / classes * np.sum(w * logp)
            divisor += w[y]
    return reduced(losses, reduction, divisor)


def ref_nll(a, target, weight=None, reduction="mean"):
    axis = 0 if a.ndim == 1 else 1
    logp = np.moveaxis(a, axis, -1)
    w = np.ones(logp.shape[-1]) if weight is None else weight
    losses = np.empty(logp.shape[:-1])
    for i in np.ndindex(losses.shape):
        losses[i] = -w[target[i]] * logp[i][target[i]]
    return reduced(losses, reduction, w[target].sum())


def ref_multi_margin(a, target, p=1, margin=1.0, weight=None, reduction="mean"):
    rows, labels = np.atleast_2d(a), np.atleast_1d(target)
    classes = rows.shape[1]
    losses = []
    for x, y in zip(rows, labels):
        total = sum(max(0.0, margin - x[y] + x[i]) ** p for i in range(classes) if i != y)
        losses.append((1.0 if weight is None else weight[y]) * total / classes)
    return reduced(np.reshape(losses, np.shape(target)), reduction)


def ref_svm(scores, y, margin=1.0):
    """CS231n's vectorized multiclass SVM loss (mean over the batch)."""
    n = np.arange(len(y))
    margins = np.maximum(0, scores - scores[n, y][:, None] + margin)
    margins[n, y] = 0
    return margins.sum() / len(y)


def ref_bce(x, y, weight=None, reduction="mean"):
    with np.errstate(divide="ignore"):
        log_x, log_1mx = np.maximum(np.log(x), -100), np.maximum(np.log(1 - x), -100)
    return reduced(-(1.0 if weight is None else weight) * (y * log_x + (1 - y) * log_1mx),
                   reduction)


def ref_bce_with_logits(x, y, weight=None, pos_weight=None, reduction="mean"):
    sig = 1 / (1 + np.exp(-x))
    pw = 1.0 if pos_weight is None else pos_weight
    losses = -(pw * y * np.log(sig) + (1 - y) * np.log(1 - sig))
    return reduced((1.0 if weight is None else weight) * losses, reduction)


def ref_huber(x, y, delta=1.0, reduction="mean"):
    d = np.abs(x - y)
    return reduced(np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta)), reduction)


def ref_smooth_l1(x, y, beta=1.0, reduction="mean"):
    d = np.abs(x - y)
    return reduced(np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta), reduction)


def close(ours, reference):
    np.testing.assert_allclose(ours.data, reference, rtol=1e-10, atol=1e-12)


def check_derivatives(fn, *inputs):
    gradcheck(fn, *inputs)
    gradgradcheck(fn, *inputs)


# ----------------------------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------------------------


@st.composite
def class_problems(draw, max_dims=3, gap=None):
    """Scores of shape (C,), (N, C) or (N, C, d1) and valid labels for them."""
    ndim = draw(st.integers(1, max_dims))
    shape = draw(ts.shapes(min_dims=ndim, max_dims=ndim))
    axis = 0 if ndim == 1 else 1
    scores = draw(ts.arrays(shape, gap=gap))
    labels = draw(hnp.arrays(np.intp, shape[:axis] + shape[axis + 1:],
                             elements=st.integers(0, shape[axis] - 1)))
    return scores, labels


def class_weights(classes):
    return st.none() | ts.arrays((classes,), ts.positive(0.2, 2.0))


def probabilities(draw, shape, axis):
    """Rows (along axis) of non-negative numbers summing to 1, exact zeros included."""
    raw = draw(ts.arrays(shape, ts.Domain(0.0, 1.0)))
    raw = raw + 0.5 * (raw.sum(axis=axis, keepdims=True) == 0)  # no all-zero row
    return raw / raw.sum(axis=axis, keepdims=True)


smoothing = st.sampled_from([0.0, 0.1, 1.0]) | st.floats(0.0, 1.0)


# ----------------------------------------------------------------------------------------
# Cross-entropy and NLL
# ----------------------------------------------------------------------------------------


@given(problem=class_problems(), reduction=reductions, eps=smoothing, data=st.data())
def test_cross_entropy_with_labels_matches_reference(problem, reduction, eps, data):
    a, labels = problem
    axis = 0 if a.ndim == 1 else 1
    weight = data.draw(class_weights(a.shape[axis]), label="weight")

    def loss(x):
        return cross_entropy(x, labels, weight, reduction=reduction, label_smoothing=eps)

    close(loss(Value(a)), ref_cross_entropy(a, labels, weight, reduction, eps))
    check_derivatives(loss, Value(a))


@given(problem=class_problems(), reduction=reductions, eps=smoothing, data=st.data())
def test_cross_entropy_with_probabilities_matches_reference(problem, reduction, eps, data):
    a, _ = problem
    axis = 0 if a.ndim == 1 else 1
    weight = data.draw(class_weights(a.shape[axis]), label="weight")
    p = probabilities(data.draw, a.shape, axis)

    def loss(x, q):
        return cross_entropy(x, q, weight, reduction=reduction, label_smoothing=eps)

    close(loss(Value(a), p), ref_cross_entropy(a, p, weight, reduction, eps))
    check_derivatives(loss, Value(a), Value(p))  # soft targets are differentiable too


@given(problem=class_problems(), reduction=reductions, eps=smoothing, data=st.data())
def test_one_hot_probabilities_reproduce_the_labels(problem, reduction, eps, data):
    a, labels = problem
    axis = 0 if a.ndim == 1 else 1
    one_hot = np.moveaxis(np.eye(a.shape[axis])[labels], -1, axis)
    # With class weights, "mean" divides by sum w[y] for labels but by N for probabilities.
    weight = None if reduction == "mean" else data.draw(class_weights(a.shape[axis]))
    kw = {"reduction": reduction, "label_smoothing": eps}
    np.testing.assert_allclose(cross_entropy(a, one_hot, weight, **kw).data,
                               cross_entropy(a, labels, weight, **kw).data, rtol=1e-12)


def test_cross_entropy_over_extra_axes():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 2, 2))
    labels = rng.integers(0, 3, size=(2, 2, 2))
    weight = np.array([0.5, 1.0, 2.0])
    for reduction in REDUCTIONS:  # eps 0 is the fused op, eps 0.2 the composed loss
        for eps in (0.0, 0.2):
            close(cross_entropy(a, labels, weight, reduction=reduction, label_smoothing=eps),
                  ref_cross_entropy(a, labels, weight, reduction, eps))
    # The class weights are differentiable too, divisor sum(w[y]) included.
    check_derivatives(lambda x, w: cross_entropy(x, labels, w), Value(a), Value(weight))


@given(problem=class_problems(), reduction=reductions, data=st.data())
def test_nll_loss_matches_reference(problem, reduction, data):
    a, labels = problem
    weight = data.draw(class_weights(a.shape[0 if a.ndim == 1 else 1]), label="weight")
    close(nll_loss(a, labels, weight, reduction=reduction),
          ref_nll(a, labels, weight, reduction))
    check_derivatives(lambda x: nll_loss(x, labels, weight, reduction=reduction), Value(a))


def test_cross_entropy_is_nll_of_log_softmax():
    a = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    x = Value(a)
    logp = x - x.logsumexp(axis=1, keepdims=True)
    np.testing.assert_allclose(cross_entropy(x, [2, 0]).data, nll_loss(logp, [2, 0]).data)


def test_labels_may_be_whole_floats_or_a_constant_value():
    a = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    expected = cross_entropy(a, np.array([2, 0])).data
    assert cross_entropy(a, [2.0, 0.0]).data == expected
    assert cross_entropy(a, Value([2, 0], requires_grad=False)).data == expected
    assert cross_entropy(a[0], 2).data == cross_entropy(a[:1], [2]).data


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_cross_entropy_is_stable_for_huge_logits(eps):
    a = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]])
    for target in (np.array([1, 2, 0]), np.array([[0.0, 1, 0], [1, 0, 0], [0.5, 0.5, 0]])):
        x = Value(a)
        loss = cross_entropy(x, target, [1.0, 2.0, 0.5], label_smoothing=eps)
        loss.backward()
        assert np.isfinite(loss.data) and np.isfinite(x.grad).all()
        close(loss, ref_cross_entropy(a, target, np.array([1.0, 2.0, 0.5]),
                                      label_smoothing=eps))
    assert cross_entropy(Value([1e4, -1e4, 0.0]), 1).item() == 2e4


def test_cross_entropy_starts_at_log_c_with_small_random_weights():
    """The lectures' sanity check: near-zero logits predict uniformly, so the initial loss
    of a C-class softmax classifier is log(C)."""
    rng = np.random.default_rng(0)
    X = Value(rng.standard_normal((500, 50)), requires_grad=False)
    W = Value(0.01 * rng.standard_normal((50, 10)))
    b = Value(np.zeros(10))
    y = rng.integers(0, 10, size=500)
    loss = cross_entropy(X @ W + b, y)
    assert abs(loss.item() - np.log(10)) < 0.01
    loss.backward()
    assert W.grad.shape == (50, 10) and np.isfinite(W.grad).all()


# ----------------------------------------------------------------------------------------
# Margin losses
# ----------------------------------------------------------------------------------------

# Scores on a grid of multiples of 0.25 with a margin of 0.9 or 1.15 keep every
# margin - x[y] + x[i] at least 0.1 from the kink of max(0, .).
@given(problem=class_problems(max_dims=2, gap=0.25), p=st.sampled_from([1, 2]),
       margin=st.sampled_from([0.9, 1.15]), reduction=reductions, data=st.data())
def test_multi_margin_loss_matches_reference(problem, p, margin, reduction, data):
    a, labels = problem
    weight = data.draw(class_weights(a.shape[-1]), label="weight")

    def loss(x):
        return multi_margin_loss(x, labels, p, margin, weight, reduction=reduction)

    close(loss(Value(a)), ref_multi_margin(a, labels, p, margin, weight, reduction))
    check_derivatives(loss, Value(a))


@given(problem=class_problems(max_dims=2, gap=0.25), reduction=reductions)
def test_svm_loss_is_multi_margin_loss_times_c(problem, reduction):
    a, labels = problem
    x = Value(a)
    close(svm_loss(x, labels, 1.15, reduction=reduction),
          a.shape[-1] * multi_margin_loss(x, labels, margin=1.15, reduction=reduction).data)
    check_derivatives(lambda x: svm_loss(x, labels, 1.15, reduction=reduction), x)


def test_svm_loss_matches_cs231n():
    rng = np.random.default_rng(2)
    scores = rng.standard_normal((6, 4))
    y = rng.integers(0, 4, size=6)
    close(svm_loss(scores, y), ref_svm(scores, y))


def test_hinge_loss_takes_micrograd_lists_and_column_scores():
    s = np.array([0.5, -2.0, 1.5, 0.2])
    y = np.array([1, -1, -1, 1])
    expected = np.maximum(0, 1 - y * s).mean()
    scalars = [Value(v) for v in s]
    loss = hinge_loss(scalars, y)
    close(loss, expected)
    loss.backward()
    np.testing.assert_allclose([v.grad for v in scalars], [-0.25, 0.0, 0.25, -0.25])
    close(hinge_loss(Value(s.reshape(4, 1)), y), expected)
    close(hinge_loss(s, y.reshape(4, 1).astype(float)), expected)
    assert hinge_loss(s.reshape(4, 1), y, reduction="none").shape == (4, 1)
    assert hinge_loss(s, y, reduction="sum").item() == pytest.approx(4 * expected)


@given(s=ts.arrays(st.integers(1, 5).map(lambda n: (n,)), ts.away_from(-1.0, 1.0)),
       data=st.data())
def test_hinge_loss_derivatives(s, data):
    y = data.draw(hnp.arrays(np.int64, s.shape, elements=st.sampled_from([-1, 1])))
    check_derivatives(lambda x: hinge_loss(x, y), Value(s))


# ----------------------------------------------------------------------------------------
# Binary cross-entropy
# ----------------------------------------------------------------------------------------


@given(shape=ts.shapes(), reduction=reductions, weighted=st.booleans(), data=st.data())
def test_binary_cross_entropy_matches_reference(shape, reduction, weighted, data):
    x = data.draw(ts.arrays(shape, ts.Domain(0.05, 0.95)), label="input")
    y = data.draw(ts.arrays(shape, ts.Domain(0.0, 1.0)), label="target")
    w = data.draw(ts.arrays(shape[1:], ts.positive()), label="weight") if weighted else None

    def loss(x, y, w):
        return binary_cross_entropy(x, y, w, reduction=reduction)

    close(loss(x, y, w), ref_bce(x, y, w, reduction))
    # Finite differences move the target by ±eps, which must keep it inside [0, 1].
    inner = np.clip(y, 0.01, 0.99)
    check_derivatives(loss, Value(x), Value(inner), w if w is None else Value(w))


def test_binary_cross_entropy_clamps_the_log_at_minus_100():
    x = Value([0.0, 1.0, 0.0, 1.0])
    loss = binary_cross_entropy(x, [1.0, 0.0, 0.0, 1.0], reduction="none")
    np.testing.assert_allclose(loss.data, [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    assert np.isfinite(x.grad).all()


@given(shape=ts.shapes(), reduction=reductions, weighted=st.booleans(),
       positive=st.booleans(), data=st.data())
def test_bce_with_logits_matches_reference(shape, reduction, weighted, positive, data):
    x = data.draw(ts.arrays(shape, ts.real(-5.0, 5.0)), label="input")
    y = data.draw(ts.arrays(shape, ts.Domain(0.0, 1.0)), label="target")
    w = data.draw(ts.arrays(shape[1:], ts.positive()), label="weight") if weighted else None
    pw = data.draw(ts.arrays(shape[-1:], ts.positive()), label="pos_weight") if positive else None

    def loss(x, y):
        return binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=pw)

    np.testing.assert_allclose(loss(x, y).data, ref_bce_with_logits(x, y, w, pw, reduction),
                               rtol=1e-9, atol=1e-12)
    check_derivatives(loss, Value(x), Value(y))


def test_bce_with_logits_is_stable_and_has_the_sigmoid_gradient():
    x = Value([1e4, -1e4, 1e4, -1e4, 0.0, 0.0])
    y = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    loss = binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.data, [1e4, 1e4, 0.0, 0.0, np.log(2), np.log(2)])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, -1.0, 0.0, 0.0, -0.5, 0.5])  # sigmoid(x) - y


# ----------------------------------------------------------------------------------------
# Regression
# ----------------------------------------------------------------------------------------

REGRESSION = {
    "mse": (lambda x, y, r: mse_loss(x, y, reduction=r),
            lambda x, y, r: reduced((x - y) ** 2, r), ()),
    "l1": (lambda x, y, r: l1_loss(x, y, reduction=r),
           lambda x, y, r: reduced(np.abs(x - y), r), (0.0,)),
    "huber": (lambda x, y, r: huber_loss(x, y, r, delta=0.7),
              lambda x, y, r: ref_huber(x, y, 0.7, r), (-0.7, 0.7)),
    "smooth_l1": (lambda x, y, r: smooth_l1_loss(x, y, reduction=r, beta=0.7),
                  lambda x, y, r: ref_smooth_l1(x, y, 0.7, r), (-0.7, 0.7)),
    "smooth_l1_beta0": (lambda x, y, r: smooth_l1_loss(x, y, reduction=r, beta=0.0),
                        lambda x, y, r: reduced(np.abs(x - y), r), (0.0,)),
}


@pytest.mark.parametrize("name", sorted(REGRESSION))
@given(shape=ts.shapes(), reduction=reductions, data=st.data())
def test_regression_losses_match_reference(name, shape, reduction, data):
    ours, reference, kinks = REGRESSION[name]
    x = data.draw(ts.arrays(shape), label="input")
    # The difference keeps 0.1 away from the kinks, so finite differences are meaningful.
    d = data.draw(ts.arrays(shape, ts.away_from(*kinks, lo=-2.0, hi=2.0)), label="x - y")
    close(ours(x, x - d, reduction), reference(x, x - d, reduction))
    check_derivatives(lambda x, y: ours(x, y, reduction), Value(x), Value(x - d))


def test_huber_is_delta_times_smooth_l1():
    x, y = np.array([0.1, -2.0, 3.0, 0.4]), np.zeros(4)
    close(huber_loss(x, y, delta=0.5), 0.5 * smooth_l1_loss(x, y, beta=0.5).data)


@pytest.mark.parametrize("loss", [mse_loss, cross_entropy, binary_cross_entropy_with_logits,
                                  multi_margin_loss])
def test_float32_stays_float32(loss):
    x = Value(np.array([[0.2, 0.7], [0.9, 0.1]], dtype=np.float32))
    target = np.array([1, 0]) if loss in (cross_entropy, multi_margin_loss) else np.eye(2)
    out = loss(x, target)
    out.backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


# ----------------------------------------------------------------------------------------
# Errors name the loss, the shapes and what was expected
# ----------------------------------------------------------------------------------------

X = np.zeros((2, 3))
LABELS = np.array([0, 2])
ALL_LOSSES = {
    "cross_entropy": lambda **kw: cross_entropy(X, LABELS, **kw),
    "nll_loss": lambda **kw: nll_loss(X, LABELS, **kw),
    "multi_margin_loss": lambda **kw: multi_margin_loss(X, LABELS, **kw),
    "svm_loss": lambda **kw: svm_loss(X, LABELS, **kw),
    "hinge_loss": lambda **kw: hinge_loss(X[:, 0], [1, -1], **kw),
    "mse_loss": lambda **kw: mse_loss(X, X, **kw),
    "l1_loss": lambda **kw: l1_loss(X, X, **kw),
    "huber_loss": lambda **kw: huber_loss(X, X, **kw),
    "smooth_l1_loss": lambda **kw: smooth_l1_loss(X, X, **kw),
    "binary_cross_entropy": lambda **kw: binary_cross_entropy(X, X, **kw),
    "binary_cross_entropy_with_logits":
        lambda **kw: binary_cross_entropy_with_logits(X, X, **kw),
}


@pytest.mark.parametrize("name", sorted(ALL_LOSSES))
def test_unknown_reduction(name):
    with pytest.raises(ValueError, match=f"^{name}: reduction must be 'mean', 'sum' or "
                                         f"'none'; got 'avg'"):
        ALL_LOSSES[name](reduction="avg")


CLASS_LOSSES = {"cross_entropy": cross_entropy, "nll_loss": nll_loss,
                "multi_margin_loss": multi_margin_loss, "svm_loss": svm_loss}


@pytest.mark.parametrize("name", sorted(CLASS_LOSSES))
@pytest.mark.parametrize("labels, error, message", [
    ([0, 3], ValueError, r"class labels must be in \[0, 3\) for input of shape \(2, 3\); "
                         r"got \[3\]"),
    ([-1, 5], ValueError, r"class labels must be in \[0, 3\) .*; got \[-1, 5\]"),
    (np.array([-1, 0], np.int8), ValueError, r"class labels must be in \[0, 3\) .*; got \[-1\]"),
    (np.array([2**64 - 1, 0], np.uint64), ValueError,
     r"class labels must be in \[0, 3\) .*; got \[18446744073709551615\]"),
    ([-1.0, 1e30], ValueError, r"class labels must be in \[0, 3\) .*; got \[-1.0, 1e\+30\]"),
    ([0.5, 1.0], ValueError, r"class labels must be whole numbers; got \[0.5\]"),
    ([np.nan, 1.0], ValueError, r"class labels must be whole numbers; got \[nan\]"),
    ([True, False], TypeError, "class labels must be integers; got dtype bool"),
    (Value([0, 1]), ValueError, "class labels have no gradient, but got a Value that "
                                "requires grad"),
    ([[0, 1]], ValueError, r"input of shape \(2, 3\) needs class labels of shape \(2,\)"),
])
def test_bad_class_labels(name, labels, error, message):
    loss = CLASS_LOSSES[name]
    with pytest.raises(error, match=f"^{name}: {message}"):
        loss(X, labels)


@pytest.mark.parametrize("labels, bad", [([0, 3], "[3]"), ([-1, 2], "[-1]"),
                                         ([-2**62, 2**62], "[-4611686018427387904, "
                                                            "4611686018427387904]")])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_a_training_step_refuses_labels_out_of_range(labels, bad, reduction):
    # the call of every training step (a Value of scores, an int64 array of labels) is
    # checked as it is computed; its errors are those of the full checks
    x = Value(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=rf"^cross_entropy: class labels must be in \[0, 3\) "
                                         rf"for input of shape \(2, 3\); got {re.escape(bad)}"):
        cross_entropy(x, np.array(labels), reduction=reduction)


@pytest.mark.parametrize("label_smoothing", [None, "0", np.float64(1.5)])
def test_cross_entropy_refuses_a_bad_label_smoothing_of_any_type(label_smoothing):
    with pytest.raises((TypeError, ValueError), match=r"^cross_entropy: label_smoothing"):
        cross_entropy(Value(np.zeros((2, 3))), LABELS, label_smoothing=label_smoothing)


def test_cross_entropy_of_an_empty_batch_with_mean_is_an_error_for_int64_labels():
    with pytest.raises(ValueError, match=r"^cross_entropy: reduction='mean' of an empty batch"):
        cross_entropy(Value(np.zeros((0, 3))), np.zeros(0, dtype=np.intp))


@pytest.mark.parametrize("name", sorted(CLASS_LOSSES))
@pytest.mark.parametrize("shape", [(2, 0), (0, 0)])
def test_class_loss_needs_classes(name, shape):
    loss = CLASS_LOSSES[name]
    with pytest.raises(ValueError, match=rf"^{name}: input of shape \({shape[0]}, 0\) has no "
                                         rf"classes \(axis 1 is empty\)"):
        loss(Value(np.zeros(shape)), np.zeros(shape[0], dtype=int))


def test_cross_entropy_target_fits_neither_labels_nor_probabilities():
    with pytest.raises(ValueError, match=r"^cross_entropy: input of shape \(2, 3\) needs "
                                         r"class labels of shape \(2,\) or class "
                                         r"probabilities of shape \(2, 3\); got target of "
                                         r"shape \(2, 4\)"):
        cross_entropy(X, np.full((2, 4), 0.25))


@pytest.mark.parametrize("eps", [-0.1, 1.5])
def test_label_smoothing_outside_0_1(eps):
    with pytest.raises(ValueError, match=f"^cross_entropy: label_smoothing must be in "
                                         f"\\[0, 1\\]; got {eps}"):
        cross_entropy(X, LABELS, label_smoothing=eps)


def test_class_input_shapes():
    with pytest.raises(ValueError, match=r"^nll_loss: input must have shape \(C,\), \(N, C\) "
                                         r"or \(N, C, d1, \.\.\.\), .*; got shape \(\)"):
        nll_loss(1.0, 0)
    with pytest.raises(ValueError, match=r"^multi_margin_loss: input must have shape \(C,\) "
                                         r"or \(N, C\), .*; got shape \(2, 3, 1\)"):
        multi_margin_loss(np.zeros((2, 3, 1)), np.zeros((2, 1), int))


def test_class_weight_shape():
    with pytest.raises(ValueError, match=r"^cross_entropy: weight must have shape \(3,\), one "
                                         r"per class of input shape \(2, 3\); got shape \(2,\)"):
        cross_entropy(X, LABELS, [1.0, 2.0])


def test_margin_power():
    with pytest.raises(ValueError, match=r"^multi_margin_loss: p must be 1 or 2; got 3"):
        multi_margin_loss(X, LABELS, p=3)
    with pytest.raises(ValueError, match=r"^multi_margin_loss: p must be 1 or 2; got 2\.0"):
        multi_margin_loss(X, LABELS, p=2.0)
    assert multi_margin_loss(X, LABELS, p=np.int64(2)).item() == pytest.approx(
        multi_margin_loss(X, LABELS, p=2).item())


def test_mean_with_nothing_to_divide_by():
    with pytest.raises(ValueError, match=r"^nll_loss: reduction='mean' divides by the summed "
                                         r"weights of the targets' classes, which is 0"):
        nll_loss(X, LABELS, [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=r"^mse_loss: reduction='mean' of an empty batch"):
        mse_loss(np.zeros(0), np.zeros(0))


@pytest.mark.parametrize("loss", [mse_loss, l1_loss, huber_loss, smooth_l1_loss,
                                  binary_cross_entropy, binary_cross_entropy_with_logits])
def test_input_and_target_shapes_must_match(loss):
    with pytest.raises(ValueError, match=f"^{loss.__name__}: input of shape \\(3,\\) and "
                                         f"target of shape \\(3, 1\\) differ"):
        loss(np.full(3, 0.5), np.full((3, 1), 0.5))


def test_binary_cross_entropy_needs_probabilities():
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: input must be probabilities "
                                         r"in \[0, 1\]; got \[-0.5, 2.0, nan\]"):
        binary_cross_entropy([0.5, -0.5, 2.0, np.nan], np.zeros(4))


@pytest.mark.parametrize("option", ["weight", "pos_weight"])
def test_elementwise_weights_must_broadcast_to_the_input(option):
    with pytest.raises(ValueError, match=f"^binary_cross_entropy_with_logits: {option} of "
                                         f"shape \\(2, 3\\) does not broadcast to the "
                                         f"input's shape \\(3,\\)"):
        binary_cross_entropy_with_logits(np.zeros(3), np.zeros(3), **{option: X})
    with pytest.raises(ValueError, match=r"weight of shape \(2,\) does not broadcast"):
        binary_cross_entropy(np.zeros(3), np.zeros(3), np.ones(2))


def test_huber_and_smooth_l1_thresholds():
    with pytest.raises(ValueError, match=r"^huber_loss: delta must be > 0; got 0\.0"):
        huber_loss(X, X, delta=0.0)
    with pytest.raises(ValueError, match=r"^smooth_l1_loss: beta must be >= 0; got -1\.0"):
        smooth_l1_loss(X, X, beta=-1.0)


def test_hinge_loss_errors():
    with pytest.raises(ValueError, match=r"^hinge_loss: labels must be -1 or \+1; got \[0\] "
                                         r"\(map 0/1 labels to ±1 with 2 \* y - 1\)"):
        hinge_loss(np.zeros(3), [0, 1, -1])
    with pytest.raises(ValueError, match=r"^hinge_loss: scores must have shape \(N,\) or "
                                         r"\(N, 1\); got \(2, 3\)"):
        hinge_loss(X, [1, -1])
    with pytest.raises(ValueError, match=r"^hinge_loss: 3 score\(s\) but 2 label\(s\)"):
        hinge_loss(np.zeros(3), [1, -1])
    with pytest.raises(ValueError, match=r"^hinge_loss: labels have no gradient"):
        hinge_loss(np.zeros(2), Value([1.0, -1.0]))


# ----------------------------------------------------------------------------------------
# Second derivatives through a network and its loss
# ----------------------------------------------------------------------------------------


def test_mlp_and_cross_entropy_give_second_derivatives():
    from tinygrad_edu import grad, nn

    model = nn.MLP(2, [3, 2], activation="tanh", seed=0)
    x = Value(np.linspace(-1.0, 1.0, 8).reshape(4, 2), requires_grad=False)
    labels = np.array([0, 1, 1, 0])
    params = model.parameters()
    plain = grad(cross_entropy(model(x), labels), params)
    recorded = grad(cross_entropy(model(x), labels), params, create_graph=True)
    for p, g in zip(plain, recorded):
        np.testing.assert_allclose(g.data, p, rtol=1e-12)
    # The gradient's squared norm is differentiable again; its gradient is finite.
    norm = sum(((g * g).sum() for g in recorded), Value(0.0, requires_grad=False))
    assert all(np.isfinite(h).all() for h in grad(norm, params))


# ----------------------------------------------------------------------------------------
# The defaults users call, pinned against hand-computed values and gradients
# ----------------------------------------------------------------------------------------

LN2, LN3 = np.log(2.0), np.log(3.0)
SCORES = np.array([[0.0, 0.0, 0.0], [0.0, LN2, 0.0]])  # softmax rows (1/3,)*3, (1/4, 1/2, 1/4)
MARGIN_SCORES = np.array([[0.1, 0.2, 0.4], [1.0, 3.0, 0.0]])

# name: (loss with its default options, input, target, loss value, gradient)
DEFAULTS = {
    # mean over N = 2 of -log p_y: (log 3 + log 2) / 2; gradient (softmax - onehot) / 2
    "cross_entropy": (cross_entropy, SCORES, np.array([0, 1]), (LN3 + LN2) / 2,
                      [[-1 / 3, 1 / 6, 1 / 6], [1 / 8, -1 / 4, 1 / 8]]),
    "cross_entropy_one_sample": (cross_entropy, SCORES[1], np.array(1), LN2,
                                 [1 / 4, -1 / 2, 1 / 4]),
    "cross_entropy_per_position": (cross_entropy, SCORES[:, :, None], np.array([[0], [1]]),
                                   (LN3 + LN2) / 2,
                                   np.array([[-1 / 3, 1 / 6, 1 / 6],
                                             [1 / 8, -1 / 4, 1 / 8]])[:, :, None]),
    "nll_loss": (nll_loss, np.array([[-1.0, -2.0, -3.0], [-0.5, -1.5, -2.5]]),
                 np.array([2, 0]), 1.75, [[0.0, 0.0, -0.5], [-0.5, 0.0, 0.0]]),
    # row 0: (0.7 + 0.8) / 3 = 0.5, row 1: every margin met; mean 0.25
    "multi_margin_loss": (multi_margin_loss, MARGIN_SCORES, np.array([2, 1]), 0.25,
                          [[1 / 6, 1 / 6, -1 / 3], [0.0, 0.0, 0.0]]),
    "svm_loss": (svm_loss, MARGIN_SCORES, np.array([2, 1]), 0.75,
                 [[0.5, 0.5, -1.0], [0.0, 0.0, 0.0]]),
    # margins 1 - y s: 0.5, -1 (met), 4; mean 1.5
    "hinge_loss": (hinge_loss, np.array([0.5, -2.0, 3.0]), np.array([1, -1, -1]), 1.5,
                   [-1 / 3, 0.0, 1 / 3]),
    # -log 0.25 and -log 0.5; gradient (-y/x + (1 - y)/(1 - x)) / 2
    "binary_cross_entropy": (binary_cross_entropy, np.array([0.25, 0.5]),
                             np.array([1.0, 0.0]), 1.5 * LN2, [-2.0, 1.0]),
    # softplus(0) = log 2 and softplus(log 3) = log 4; gradient (σ(x) - y) / 2
    "binary_cross_entropy_with_logits": (binary_cross_entropy_with_logits,
                                         np.array([0.0, LN3]), np.array([1.0, 0.0]),
                                         1.5 * LN2, [-0.25, 0.375]),
    "mse_loss": (mse_loss, np.array([1.0, -2.0, 4.0]), np.array([0.0, 0.0, 1.0]), 14 / 3,
                 [2 / 3, -4 / 3, 2.0]),
    "l1_loss": (l1_loss, np.array([1.0, -2.0, 4.0]), np.array([0.0, 0.0, 1.0]), 2.0,
                [1 / 3, -1 / 3, 1 / 3]),
    # delta = 1: 0.5 * 0.5**2, 2 - 0.5, 3 - 0.5; mean 4.125 / 3
    "huber_loss": (huber_loss, np.array([0.5, -2.0, 4.0]), np.array([0.0, 0.0, 1.0]),
                   1.375, [0.5 / 3, -1 / 3, 1 / 3]),
    "smooth_l1_loss": (smooth_l1_loss, np.array([0.5, -2.0, 4.0]), np.array([0.0, 0.0, 1.0]),
                       1.375, [0.5 / 3, -1 / 3, 1 / 3]),
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_defaults_give_the_hand_computed_loss_and_gradient(name):
    loss, x, target, value, gradient = DEFAULTS[name]
    x = Value(x)
    out = loss(x, target)
    assert out.shape == ()
    np.testing.assert_allclose(out.item(), value, rtol=1e-12)
    out.backward()
    np.testing.assert_allclose(x.grad, gradient, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------------------
# Second derivatives with a recorded upstream gradient, every loss
# ----------------------------------------------------------------------------------------

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((3, 4))
LABELS3 = np.array([3, 0, 2])
PROBS = np.full((3, 4), 0.1) + 0.6 * np.eye(4)[LABELS3]
# Kinked losses are checked where every difference is 0.1 or more away from its kink.
CLOSE = np.array([[0.3, -0.45, 2.0, -1.6], [0.7, 0.15, -0.35, 1.2], [-2.2, 0.6, 0.25, -0.8]])

# name: (loss of the input for a given reduction, input)
LOSS_OF_INPUT = {
    "cross_entropy": (lambda x, r: cross_entropy(x, LABELS3, reduction=r), LOGITS),
    "cross_entropy_weighted": (lambda x, r: cross_entropy(x, LABELS3, [0.5, 1.0, 2.0, 1.5],
                                                          reduction=r), LOGITS),
    "cross_entropy_smoothed": (lambda x, r: cross_entropy(x, LABELS3, reduction=r,
                                                          label_smoothing=0.2), LOGITS),
    "cross_entropy_probabilities": (lambda x, r: cross_entropy(x, PROBS, reduction=r),
                                    LOGITS),
    "cross_entropy_per_position": (lambda x, r: cross_entropy(x, [[0, 1, 1], [1, 0, 1]],
                                                              reduction=r),
                                   LOGITS.reshape(2, 2, 3)),
    "nll_loss": (lambda x, r: nll_loss(x, LABELS3, reduction=r), LOGITS),
    "multi_margin_loss": (lambda x, r: multi_margin_loss(x, LABELS3, reduction=r), CLOSE),
    "multi_margin_loss_p2": (lambda x, r: multi_margin_loss(x, LABELS3, p=2, reduction=r),
                             CLOSE),
    "svm_loss": (lambda x, r: svm_loss(x, LABELS3, reduction=r), CLOSE),
    "hinge_loss": (lambda x, r: hinge_loss(x, [1, -1, 1, -1], reduction=r), CLOSE[0]),
    "binary_cross_entropy": (lambda x, r: binary_cross_entropy(x, PROBS, reduction=r),
                             1 / (1 + np.exp(-LOGITS))),
    "binary_cross_entropy_with_logits": (
        lambda x, r: binary_cross_entropy_with_logits(x, PROBS, reduction=r,
                                                      pos_weight=[1.0, 2.0, 0.5, 1.0]),
        LOGITS),
    "mse_loss": (lambda x, r: mse_loss(x, PROBS, reduction=r), LOGITS),
    "l1_loss": (lambda x, r: l1_loss(x, np.zeros((3, 4)), reduction=r), CLOSE),
    "huber_loss": (lambda x, r: huber_loss(x, np.zeros((3, 4)), r), CLOSE),
    "smooth_l1_loss": (lambda x, r: smooth_l1_loss(x, np.zeros((3, 4)), reduction=r,
                                                   beta=0.5), CLOSE),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(LOSS_OF_INPUT))
def test_second_derivatives_with_a_recorded_upstream_gradient(name, reduction):
    # (loss**2).sum() hands the loss's backward the upstream gradient 2 loss, itself a
    # recorded Value under create_graph; its own derivative enters the second derivative.
    loss, x = LOSS_OF_INPUT[name]
    gradgradcheck(lambda x: (loss(x, reduction) ** 2).sum(), Value(x))


def test_linear_layers_and_cross_entropy_second_derivatives():
    from tinygrad_edu.ops.linalg import Linear

    rng = np.random.default_rng(1)
    x = Value(rng.standard_normal((5, 3)), requires_grad=False)
    w1, b1 = Value(rng.standard_normal((4, 3))), Value(rng.standard_normal(4))
    w2, b2 = Value(rng.standard_normal((2, 4))), Value(rng.standard_normal(2))
    labels = np.array([0, 1, 1, 0, 1])

    def network_loss(w1, b1, w2, b2):
        return cross_entropy(Linear.apply(Linear.apply(x, w1, b1).tanh(), w2, b2), labels)

    gradgradcheck(network_loss, w1, b1, w2, b2)
    gradgradcheck(lambda *p: network_loss(*p) ** 2, w1, b1, w2, b2)


# ----------------------------------------------------------------------------------------
# Binary cross-entropy at the ends of [0, 1], and huge differences
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_is_finite_at_0_and_1_in_either_dtype(dtype):
    x = Value(np.array([0.0, 1.0, 0.0, 1.0, 0.5]), dtype=dtype)
    target = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = binary_cross_entropy(x, target, reduction="none")
    assert loss.dtype == dtype
    np.testing.assert_allclose(loss.data, [100.0, 100.0, 0.0, 0.0, LN2], rtol=1e-6)
    (g,) = grad((loss**2).sum(), x)
    assert g.dtype == dtype and np.isfinite(g).all()
    np.testing.assert_allclose(g, [0.0, 0.0, 0.0, 0.0, -4 * LN2], rtol=1e-6)


def test_binary_cross_entropy_clamps_float32_subnormals():
    # float32's e**-100 is subnormal, and 1/x overflows below float32's smallest normal
    # number: such inputs count as clamped (loss 100, gradient 0) instead of giving inf.
    x = Value(np.array([1e-40, 1e-37]), dtype=np.float32)
    loss = binary_cross_entropy(x, np.ones(2), reduction="none")
    np.testing.assert_allclose(loss.data, [100.0, -np.log(np.float32(1e-37))], rtol=1e-6)
    (g,) = grad(loss.sum(), x)
    np.testing.assert_allclose(g, [0.0, -1 / np.float32(1e-37)], rtol=1e-6)


def test_binary_cross_entropy_needs_targets_in_0_1():
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: target must be "
                                         r"probabilities in \[0, 1\]; got \[-1.0, 2.0\]"):
        binary_cross_entropy(np.full(3, 0.5), [2.0, 0.5, -1.0])


@pytest.mark.parametrize(("dtype", "big"), [(np.float32, 1e30), (np.float64, 1e300)])
@pytest.mark.parametrize("loss", [huber_loss, smooth_l1_loss, l1_loss,
                                  binary_cross_entropy_with_logits])
def test_huge_differences_give_finite_losses_and_gradients(loss, dtype, big):
    # Warnings are errors in the test configuration: an overflow anywhere fails here.
    x = Value(np.array([-big, big, 0.5]), dtype=dtype)
    out = loss(x, np.zeros(3, dtype))
    (g,) = grad(out, x)
    assert np.isfinite(out.data) and np.isfinite(g).all()
    np.testing.assert_allclose(g[:2], [-1 / 3, 1 / 3] if loss is not
                               binary_cross_entropy_with_logits else [0.0, 1 / 3], rtol=1e-6)


@pytest.mark.parametrize(("dtype", "big"), [(np.float32, 1e30), (np.float64, 1e300)])
def test_mse_beyond_the_dtypes_range_is_inf_with_a_finite_gradient(dtype, big):
    # The square of 1e30 is not a float32: the loss is inf, as in PyTorch, with no warning.
    x = Value(np.array([-big, big]), dtype=dtype)
    out = mse_loss(x, np.zeros(2, dtype))
    (g,) = grad(out, x)
    assert out.item() == np.inf
    np.testing.assert_allclose(g, [-big, big], rtol=1e-6)


# ----------------------------------------------------------------------------------------
# Numeric options: one check, naming the loss, the argument and the value
# ----------------------------------------------------------------------------------------

LOSS_OPTIONS = {
    ("cross_entropy", "label_smoothing"): lambda v: cross_entropy(X, LABELS,
                                                                  label_smoothing=v),
    ("multi_margin_loss", "margin"): lambda v: multi_margin_loss(X, LABELS, margin=v),
    ("svm_loss", "margin"): lambda v: svm_loss(X, LABELS, margin=v),
    ("huber_loss", "delta"): lambda v: huber_loss(X, X, delta=v),
    ("smooth_l1_loss", "beta"): lambda v: smooth_l1_loss(X, X, beta=v),
}


@pytest.mark.parametrize(("name", "arg"), sorted(LOSS_OPTIONS))
def test_numeric_loss_options_must_be_real_numbers(name, arg):
    assert_rejects_non_real(LOSS_OPTIONS[name, arg], name, arg)


def test_cross_entropy_shifts_each_row_by_its_own_maximum():
    # rows 1000 apart: one shift for the whole batch would make the first row's loss inf
    scores = Value([[0.0, 1.0], [1000.0, 1001.0]])
    loss = cross_entropy(scores, np.array([0, 0]), reduction="none")
    np.testing.assert_allclose(loss.data, [np.log1p(np.e)] * 2, rtol=1e-12)


def test_binary_cross_entropy_with_logits_of_an_empty_batch_as_the_other_losses():
    empty = np.zeros(0)
    assert binary_cross_entropy_with_logits(empty, empty, reduction="sum").data == 0.0
    assert binary_cross_entropy_with_logits(empty, empty, reduction="none").shape == (0,)
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: reduction='mean' "
                                         r"of an empty batch is undefined"):
        binary_cross_entropy_with_logits(empty, empty)

"""Transfer learning: reuse a CNN trained on the digits 0-4 to learn the digits 5-9 from
a handful of labelled images.

``models.digits_cnn(pretrained=True)`` was trained on the digits 0-4 only (example 10's
network, weights shipped with the package; ``models.pretrain`` says how). Its first nine
layers turn an 8x8 image into 128 features. Three ways to learn the digits 5-9 from 2, 5
or 20 labelled images per digit:

  (a) frozen features: keep the pretrained layers as they are (requires_grad_(False),
      batch norm in evaluation mode) and train only a new linear classifier on top (the
      features never change, so they are computed once);
  (b) fine-tuning: start from the pretrained layers and train everything, the pretrained
      layers at a 10x lower learning rate than the new classifier (two parameter groups);
  (c) from scratch: the same network, randomly initialized, trained on the same images.

All three train alike: full-batch Adam on the labelled images, each step showing them
shifted by up to a pixel (the same augmentation for all), for up to 200 steps. Each
variant gets the learning rate, L2 weight decay (none or 0.1: a few images are easy to
overfit, and a linear classifier on fixed features most of all) and number of steps of
a small grid that score best on validation images of the digits 5-9, chosen for it and
for each size separately; the table shows its accuracy on other, held-out test images,
as the mean and standard deviation over seeds (each seed draws other labelled images,
another new classifier and, for scratch, another initialization). The last lines give
each pretrained variant's accuracy minus scratch's, with the standard error of that mean
difference (the seeds pair the variants: they see the same labelled images).

Needs the digits extra: pip install 'tinygrad_edu[digits]'.
Run: python examples/11_transfer.py           (a few minutes on 2 cores)
     python examples/11_transfer.py --fast    (5 per class only, fewer seeds, rates and steps:
                                               the tests)
"""

import sys

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Value, nn
from tinygrad_edu.data import RandomCrop, train_val_test_split
from tinygrad_edu.models import digits_cnn, digits_subset
from tinygrad_edu.optim import Adam

FAST = "--fast" in sys.argv[1:]
SEEDS = range(6) if FAST else range(12)
PER_CLASS = (5,) if FAST else (2, 5, 20)
LRS = (1e-2,) if FAST else (3e-3, 1e-2, 3e-2)
WEIGHT_DECAYS = (0, 0.1)
STEPS = (50, 100) if FAST else (25, 50, 100, 200)

X, y = digits_subset((5, 6, 7, 8, 9))  # labels 0..4 stand for the digits 5..9
X_pool, y_pool, X_val, y_val, X_test, y_test = train_val_test_split(
    X, y, val=0.2, test=0.4, stratify=True, seed=0)


def few(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` labelled images of each digit, drawn from the pool by ``seed``."""
    rng = np.random.default_rng(seed)
    keep = np.concatenate([rng.choice(np.flatnonzero(y_pool == c), per_class, replace=False)
                           for c in range(5)])
    return X_pool[keep], y_pool[keep]


def build(variant: str, seed: int, lr: float) -> tuple[nn.Sequential, list[dict]]:
    """The network for ``variant`` and its optimizer's parameter groups."""
    if variant == "scratch":
        model = digits_cnn(seed=100 + seed)
        return model, [{"params": model.parameters()}]
    features = digits_cnn(pretrained=True)[:-1]  # layers 0-8: image -> 128 features
    head = nn.Linear(128, 5, seed=seed, dtype=np.float32)
    model = nn.Sequential(*features, head)
    if variant == "frozen":
        features.requires_grad_(False)
        return model, [{"params": head.parameters()}]
    return model, [{"params": features.parameters(), "lr": lr / 10},
                   {"params": head.parameters()}]


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    model.eval()
    with tg.no_grad():
        scores = model(Value(images, requires_grad=False)).data
    return float((scores.argmax(axis=1) == labels).mean())


def train(variant: str, per_class: int, seed: int, lr: float, weight_decay: float,
          ) -> np.ndarray:
    """Train ``variant`` on ``per_class`` images per digit; its (validation, test)
    accuracies after each number of steps in STEPS, as a (len(STEPS), 2) array."""
    tg.manual_seed(seed)
    model, groups = build(variant, seed, lr)
    optimizer = Adam(groups, lr=lr, weight_decay=weight_decay)
    X_train, y_train = few(per_class, seed)
    shift = RandomCrop(8, padding=1, seed=seed)
    images = {"steps": np.stack([shift(X_train) for _ in range(max(STEPS))]),
              "val": X_val, "test": X_test}  # each step's shifted copies, and the rest
    if variant == "frozen":
        # Frozen features never change: compute them once, for every step's images, with
        # batch norm in evaluation mode (its pretrained statistics), and train the head.
        features, model = model[:-1].eval(), model[-1]
        with tg.no_grad():
            images = {k: features(Value(x.reshape(-1, 1, 8, 8))).data.reshape(
                x.shape[:-3] + (-1,)) for k, x in images.items()}
    loss_fn = nn.CrossEntropyLoss()
    scores = []
    for step in range(1, max(STEPS) + 1):
        model.train()
        loss = loss_fn(model(Value(images["steps"][step - 1], requires_grad=False)), y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step in STEPS:
            scores.append((accuracy(model, images["val"], y_val),
                           accuracy(model, images["test"], y_test)))
    return np.array(scores)


def best(variant: str, per_class: int) -> tuple[np.ndarray, str]:
    """Each seed's test accuracy at the learning rate, weight decay and number of steps
    with the best mean validation accuracy, and that choice."""
    runs = {(lr, wd): np.array([train(variant, per_class, s, lr, wd) for s in SEEDS])
            for lr in LRS for wd in WEIGHT_DECAYS}
    (lr, wd), i = max(((choice, i) for choice in runs for i in range(len(STEPS))),
                      key=lambda pick: runs[pick[0]][:, pick[1], 0].mean())
    return runs[lr, wd][:, i, 1], f"lr {lr:g}, weight decay {wd:g}, {STEPS[i]} steps"


VARIANTS = {"frozen": "(a) frozen features + new classifier",
            "finetune": "(b) fine-tune all, pretrained at lr/10",
            "scratch": "(c) same network from scratch"}
print(f"digits 5-9: {len(y_pool)} images to draw the labelled ones from, {len(y_val)} "
      f"for validation, {len(y_test)} for the test; {len(SEEDS)} seeds; learning rates "
      f"{', '.join(f'{lr:g}' for lr in LRS)} x weight decay "
      f"{', '.join(f'{wd:g}' for wd in WEIGHT_DECAYS)} x {', '.join(map(str, STEPS))} steps")
print(f"{'test accuracy, mean ± std':40}" + "".join(f"{f'{k} per class':>16}"
                                                      for k in PER_CLASS))
results, chosen = {}, {}
for variant, label in VARIANTS.items():
    picks = [best(variant, k) for k in PER_CLASS]
    results[variant] = [test for test, _ in picks]
    chosen[variant] = [choice for _, choice in picks]
    print(f"{label:40}" + "".join(f"{f'{a.mean():.1%} ± {a.std():.1%}':>16}"
                                  for a in results[variant]))
for variant in VARIANTS:
    print(f"{variant} chose: " + "; ".join(f"{c} at {k} per class"
                                           for k, c in zip(PER_CLASS, chosen[variant])))
for variant in ("frozen", "finetune"):
    gains = []
    for k, mine, theirs in zip(PER_CLASS, results[variant], results["scratch"]):
        gain = mine - theirs
        gains.append(f"{gain.mean():+.1%} ± {gain.std() / np.sqrt(len(gain)):.1%} at {k}")
    print(f"{variant} minus scratch (± standard error), per class: " + ", ".join(gains))
print("the lectures: with little data similar to the pretraining data, train a linear "
      "classifier on the frozen features; with more data, fine-tune more layers (at a "
      "lower learning rate); with a lot of data, training from scratch catches up")

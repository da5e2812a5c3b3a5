"""Transfer learning: reuse a CNN trained on the digits 0-4 to learn the digits 5-9 from
a handful of labelled images.

``models.digits_cnn(pretrained=True)`` was trained on the digits 0-4 only (example 10's
network, weights shipped with the package). Its first nine layers turn an 8x8 image into
128 features: strokes, curves and where they are. Three ways to learn the digits 5-9 from
5 or 20 labelled images per digit:

  (a) frozen features: keep the pretrained layers as they are (requires_grad_(False),
      batch norm in evaluation mode) and train only a new linear classifier on top;
  (b) fine-tuning: start from the pretrained layers and train everything, the pretrained
      layers at a 10x lower learning rate than the new classifier (two parameter groups);
  (c) from scratch: the same network, randomly initialized, trained on the same images.

Each is scored on the same held-out images of the digits 5-9 and averaged over seeds
(each seed draws other training images and another new classifier). The last lines print
each pretrained variant's accuracy minus scratch's, whichever way it goes: on these tiny
images a random network with batch norm already learns a lot from 25 images, and features
trained to tell 0-4 apart are no better a start for 5-9 (docs/transfer.md discusses it).

Needs the digits extra: pip install 'tinygrad_edu[digits]'.
Run: python examples/11_transfer.py           (about 15 s on 2 cores)
     python examples/11_transfer.py --fast    (fewer seeds and steps, for the test suite)
"""

import sys

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Value, nn
from tinygrad_edu.data import train_test_split
from tinygrad_edu.models import digits_cnn, digits_subset
from tinygrad_edu.optim import Adam

FAST = "--fast" in sys.argv[1:]
SEEDS = range(2) if FAST else range(4)
STEPS = 40 if FAST else 100
PER_CLASS = (5, 20)
LR = 1e-2

X, y = digits_subset((5, 6, 7, 8, 9))  # labels 0..4 stand for the digits 5..9
X_pool, y_pool, X_test, y_test = train_test_split(X, y, test=0.5, stratify=True, seed=0)


def few(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` labelled images of each digit, drawn from the pool by ``seed``."""
    rng = np.random.default_rng(seed)
    keep = np.concatenate([rng.choice(np.flatnonzero(y_pool == c), per_class, replace=False)
                           for c in range(5)])
    return X_pool[keep], y_pool[keep]


def build(variant: str, seed: int) -> tuple[nn.Sequential, list[dict]]:
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
    return model, [{"params": features.parameters(), "lr": LR / 10},
                   {"params": head.parameters()}]


def accuracy(variant: str, per_class: int, seed: int) -> float:
    """Train ``variant`` on ``per_class`` images per digit; its held-out accuracy."""
    tg.manual_seed(seed)
    model, groups = build(variant, seed)
    optimizer = Adam(groups, lr=LR)
    X_train, y_train = few(per_class, seed)
    images = Value(X_train, requires_grad=False)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(STEPS):
        model.train()
        if variant == "frozen":  # frozen batch norm keeps its pretrained statistics
            for layer in model[:-1]:
                layer.eval()
        loss = loss_fn(model(images), y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with tg.no_grad():
        predictions = model(Value(X_test, requires_grad=False)).data.argmax(axis=1)
    return float((predictions == y_test).mean())


VARIANTS = {"frozen": "(a) frozen features + new classifier",
            "finetune": "(b) fine-tune all, pretrained at lr/10",
            "scratch": "(c) same network from scratch"}
print(f"digits 5-9: {len(y_pool)} images to draw the labelled ones from, {len(y_test)} "
      f"held out; {len(SEEDS)} seeds, {STEPS} full-batch Adam steps at lr {LR}")
print(f"{'':40}" + "".join(f"{f'{k} per class':>14}" for k in PER_CLASS))
results = {}
for variant, label in VARIANTS.items():
    results[variant] = [np.mean([accuracy(variant, k, s) for s in SEEDS]) for k in PER_CLASS]
    print(f"{label:40}" + "".join(f"{a:>14.1%}" for a in results[variant]))

for variant in ("frozen", "finetune"):
    gains = ", ".join(f"{a - b:+.1%} at {k} per class" for k, a, b in
                      zip(PER_CLASS, results[variant], results["scratch"]))
    print(f"{variant} minus scratch: {gains}")
print("the lectures: with little data similar to the pretraining data, train a linear "
      "classifier on the frozen features; with more data, fine-tune more layers (at a "
      "lower learning rate); with a lot of data, training from scratch catches up")

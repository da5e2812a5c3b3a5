"""Train a small convolutional network on the 8x8 handwritten digits and report its
test accuracy (above 98%; the MLP of example 05 reaches about 97%).

The network is the lectures' pattern, twice: convolution, batch norm per channel, ReLU,
2x2 max pooling; then one linear layer on the flattened features:

    (1, 8, 8) -> conv 3x3 -> (16, 8, 8) -> pool -> (16, 4, 4)
              -> conv 3x3 -> (32, 4, 4) -> pool -> (32, 2, 2) -> linear -> 10 scores

Training images are shifted by up to one pixel at random (``RandomCrop`` with padding
1), the augmentation that fits digits; a horizontal flip would not: a mirrored 2 or 7 is
not a digit. Everything runs in float32, as a GPU framework would. The network is
``tinygrad_edu.models.digits_cnn``, which example 11 reuses for transfer learning.

At the end, test-time augmentation: each test image's prediction is the mean of the
softmax over its nine copies shifted by up to one pixel (``models.predict_tta``), the
shifts the network saw in training.

Needs the digits extra: pip install 'tinygrad_edu[digits]'.
Run: python examples/10_cnn_digits.py           (about 30 s on 2 cores)
     python examples/10_cnn_digits.py --fast    (3 epochs, for the test suite)
"""

import sys
import time

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Value, nn
from tinygrad_edu.data import DataLoader, RandomCrop, load_digits, train_val_test_split
from tinygrad_edu.models import digits_cnn, predict_tta
from tinygrad_edu.optim import Adam
from tinygrad_edu.optim.lr_scheduler import CosineAnnealingLR
from tinygrad_edu.train import fit

FAST = "--fast" in sys.argv[1:]
F32 = np.float32


tg.manual_seed(0)
X, y = load_digits()
X = X.reshape(-1, 1, 8, 8).astype(F32)  # (N, C, H, W): one channel, pixels in [0, 1]
X_train, y_train, X_val, y_val, X_test, y_test = train_val_test_split(
    X, y, val=0.15, test=0.15, stratify=True, seed=0)

model = digits_cnn(num_classes=10, seed=0)
print(model)
print(f"{sum(p.size for p in model.parameters())} parameters")
optimizer = Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
epochs = 3 if FAST else 40
loader = DataLoader(X_train, y_train, batch_size=64, shuffle=True, seed=0,
                    transform=RandomCrop(8, padding=1, seed=0))
start = time.perf_counter()
history = fit(model, nn.CrossEntropyLoss(), optimizer, loader, (X_val, y_val), epochs=epochs,
              scheduler=CosineAnnealingLR(optimizer, T_max=epochs), progress=False)
seconds = time.perf_counter() - start

with tg.no_grad():
    predictions = model(Value(X_test, requires_grad=False)).data.argmax(axis=1)
test_accuracy = float((predictions == y_test).mean())
print(f"{len(X_train)} training, {len(X_val)} validation, {len(X_test)} test images")
print(f"{epochs} epochs in {seconds:.1f} s; validation accuracy {history.val_acc[-1]:.1%}")
print(f"test accuracy: {test_accuracy:.1%} ({int((predictions != y_test).sum())} of "
      f"{len(y_test)} wrong)")
if not FAST:
    assert test_accuracy >= 0.98, test_accuracy

tta_accuracy = float((predict_tta(model, X_test, shift=1).argmax(axis=1) == y_test).mean())
print(f"with test-time augmentation (9 shifted copies): {tta_accuracy:.1%} "
      f"({tta_accuracy - test_accuracy:+.1%})")

"""Train an MLP on the 8x8 handwritten digits scikit-learn ships (1797 images, 10 classes)
and report its test accuracy (above 95%).

The lectures' workflow: split train/validation/test, fit the preprocessing on the
training set only, tune on validation, report test once.

Needs the digits extra: pip install 'tinygrad_edu[digits]'.
Run: python examples/05_digits.py
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Value, nn
from tinygrad_edu.data import DataLoader, Standardize, load_digits, train_val_test_split
from tinygrad_edu.optim import Adam
from tinygrad_edu.optim.lr_scheduler import CosineAnnealingLR
from tinygrad_edu.train import fit

tg.manual_seed(0)
X, y = load_digits()
X_train, y_train, X_val, y_val, X_test, y_test = train_val_test_split(
    X, y, val=0.15, test=0.15, stratify=True, seed=0)
scaler = Standardize().fit(X_train)  # statistics of the training set only
X_train, X_val, X_test = (scaler.transform(part) for part in (X_train, X_val, X_test))

model = nn.MLP(64, [128, 10], dropout=0.2, seed=0)
optimizer = Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
epochs = 30
history = fit(model, nn.CrossEntropyLoss(), optimizer,
              DataLoader(X_train, y_train, batch_size=64, shuffle=True, seed=0),
              (X_val, y_val), epochs=epochs,
              scheduler=CosineAnnealingLR(optimizer, T_max=epochs), progress=False)

with tg.no_grad():
    predictions = model(Value(X_test, requires_grad=False)).data.argmax(axis=1)
test_accuracy = float((predictions == y_test).mean())
print(f"{len(X_train)} training, {len(X_val)} validation, {len(X_test)} test images")
print(f"validation accuracy after {epochs} epochs: {history.val_acc[-1]:.1%}")
print(f"test accuracy: {test_accuracy:.1%}")
assert test_accuracy > 0.95, test_accuracy
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, predictions), 1)
print("confusion matrix (rows: true digit, columns: predicted):")
print(confusion)

"""Regenerate the shipped pretrained weights: ``python -m tinygrad_edu.models [PATH]``.

Trains ``digits_cnn`` on the digits 0-4 from its fixed seed (``pretrain()``) and saves its
state dict to PATH (by default the package's own ``digits_cnn_0to4.npz``), then prints the
held-out accuracy. Needs the digits extra.
"""

import sys

from ..serialization import save
from .digits import PRETRAINED, pretrain, pretraining_split
from .tta import predict_tta


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        sys.exit(f"usage: python -m tinygrad_edu.models [PATH]; got {len(argv)} arguments")
    model = pretrain()
    path = save(model.state_dict(), argv[0] if argv else PRETRAINED)
    _, _, X_test, y_test = pretraining_split()
    accuracy = (predict_tta(model, X_test, shift=0).argmax(axis=1) == y_test).mean()
    print(f"wrote {path}; held-out accuracy on the digits 0-4: {accuracy:.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Regenerate the pictures in docs/images/ (run from the repository root).

    python docs/make_images.py

The graphs are the main demo's: the neuron and the small MLP (``tinygrad_edu.demo``),
and the digits CNN of visualization.md (needs the digits extra), rendered to PNG by
Graphviz's ``dot``. The step viewer's screenshot comes from the
browser test: ``TINYGRAD_EDU_SCREENSHOTS=/tmp/shots pytest tests/test_viz_browser.py``,
its top 270 pixels kept as ``step_viewer.png``. The figures of ``babysitting.md`` are
written by that page's own snippets, run here from ``docs/``.
"""

import contextlib
import io
import os
import re
from pathlib import Path

from tinygrad_edu import Value, nn, viz
from tinygrad_edu.demo import neuron_gradients, small_mlp_loss
from tinygrad_edu.functional import cross_entropy
from tinygrad_edu.models import digits_cnn, digits_subset

IMAGES = Path(__file__).parent / "images"
SNIPPET = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def page_figures(page: Path) -> None:
    """Run a page's snippets from its folder, so the figures they write land in images/."""
    code = "\n".join(SNIPPET.findall(page.read_text()))
    before = os.getcwd()
    os.chdir(page.parent)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, str(page), "exec"), {"__name__": "__docs__"})
    finally:
        os.chdir(before)
    print(f"{page.name}: its figures in {IMAGES}")


def cnn_forward() -> Path:
    """The digits CNN on 64 digits, its conv and batch-norm layers collapsed, top down."""
    X, y = digits_subset((0, 1, 2, 3, 4))
    model = digits_cnn()
    images = Value(X[:64], requires_grad=False, name="images")
    with viz.trace(model):
        loss = cross_entropy(model(images), y[:64])
    loss.name = "loss"
    return viz.render(loss, IMAGES / "cnn_forward.png", collapse=(nn.Conv2d, nn.BatchNorm2d),
                      rankdir="TB", legend=False)


def main() -> None:
    with contextlib.redirect_stdout(io.StringIO()):  # the demo's printing is not wanted
        neuron = neuron_gradients()
    for mode in ("forward", "backward"):
        print(viz.render(neuron, IMAGES / f"neuron_{mode}.png", mode=mode))
    print(viz.render(small_mlp_loss(), IMAGES / "mlp_backward.png", mode="backward"))
    print(cnn_forward())
    page_figures(IMAGES.parent / "babysitting.md")


if __name__ == "__main__":
    main()

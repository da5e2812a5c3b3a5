"""Regenerate the pictures in docs/images/ (run from the repository root).

    python docs/make_images.py

The graphs are the main demo's: the neuron and the small MLP (``tinygrad_edu.demo``),
rendered to PNG by Graphviz's ``dot``. The step viewer's screenshot comes from the
browser test: ``TINYGRAD_EDU_SCREENSHOTS=/tmp/shots pytest tests/test_viz_browser.py``,
its top 270 pixels kept as ``step_viewer.png``.
"""

import contextlib
import io
from pathlib import Path

from tinygrad_edu import viz
from tinygrad_edu.demo import neuron_gradients, small_mlp_loss

IMAGES = Path(__file__).parent / "images"


def main() -> None:
    with contextlib.redirect_stdout(io.StringIO()):  # the demo's printing is not wanted
        neuron = neuron_gradients()
    for mode in ("forward", "backward"):
        print(viz.render(neuron, IMAGES / f"neuron_{mode}.png", mode=mode))
    print(viz.render(small_mlp_loss(), IMAGES / "mlp_backward.png", mode="backward"))


if __name__ == "__main__":
    main()

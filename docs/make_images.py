"""Regenerate the pictures in docs/images/ (run from the repository root).

    python docs/make_images.py

The graphs are the main demo's: the neuron and the small MLP (``tinygrad_edu.demo``),
rendered to PNG by Graphviz's ``dot``. The step viewer's screenshot comes from the
browser test: ``TINYGRAD_EDU_SCREENSHOTS=/tmp/shots pytest tests/test_viz_browser.py``,
its top 270 pixels kept as ``step_viewer.png``. The figures of ``babysitting.md`` are
written by that page's own snippets, run here from ``docs/``.
"""

import contextlib
import io
import os
import re
from pathlib import Path

from tinygrad_edu import viz
from tinygrad_edu.demo import neuron_gradients, small_mlp_loss

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


def main() -> None:
    with contextlib.redirect_stdout(io.StringIO()):  # the demo's printing is not wanted
        neuron = neuron_gradients()
    for mode in ("forward", "backward"):
        print(viz.render(neuron, IMAGES / f"neuron_{mode}.png", mode=mode))
    print(viz.render(small_mlp_loss(), IMAGES / "mlp_backward.png", mode="backward"))
    page_figures(IMAGES.parent / "babysitting.md")


if __name__ == "__main__":
    main()

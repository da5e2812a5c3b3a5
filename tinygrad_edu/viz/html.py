"""A self-contained HTML page that steps through the backward pass, one node at a time.

``save_html(loss, "backprop.html")`` writes a single file (no network access, no
external scripts) with Previous / Next / Play buttons, a slider and the arrow keys. Each
step shows the node being processed and the chain rule at it, one row per input::

    upstream x local = contribution; total so far

The data comes from ``backprop_steps`` (so it is the engine's own pass) and is embedded
as JSON. In Jupyter, ``StepViewer(loss)`` as the last expression of a cell shows the same
viewer inline. The page shows numbers only; it does not draw the graph.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

from ..autograd import ValueBase
from .steps import backprop_steps, steps_to_json

_ids = itertools.count(1)  # a distinct element id per viewer shown in the same notebook

_STYLE = """
.tge-steps { font-family: system-ui, sans-serif; max-width: 52em; outline: none; }
.tge-steps .bar { display: flex; gap: .5em; align-items: center; margin-bottom: .5em; }
.tge-steps input[type=range] { flex: 1; }
.tge-steps .node { font-size: 1.1em; margin: .4em 0; }
.tge-steps code { font-family: ui-monospace, monospace; }
.tge-steps table { border-collapse: collapse; }
.tge-steps td, .tge-steps th { padding: .2em .6em; border-bottom: 1px solid #ddd;
                               text-align: left; vertical-align: top; }
.tge-steps .order span { margin-right: .4em; color: #888; }
.tge-steps .order span.now { color: #000; font-weight: bold; }
"""

# The viewer's script: a closure over its own root element, so several can share a page.
_SCRIPT = """
(function () {
  const root = document.getElementById("__ID__");
  const steps = JSON.parse(root.querySelector("script.data").textContent);
  const $ = (sel) => root.querySelector(sel);
  const slider = $("input"), play = $(".play");
  slider.max = steps.length - 1;
  let timer = null;
  function num(x) {
    if (x === null) return "None";
    if (typeof x === "string") return x;
    if (typeof x === "number") return Number(x.toPrecision(4)).toString();
    if (x.data !== undefined) return JSON.stringify(x.data, (k, v) =>
        typeof v === "number" ? Number(v.toPrecision(4)) : v).replaceAll(",", ", ");
    return "array of shape [" + x.shape.join(", ") + "]: min " + num(x.min) +
           ", max " + num(x.max) + ", mean " + num(x.mean);
  }
  function esc(text) {
    const d = document.createElement("div"); d.textContent = text; return d.innerHTML;
  }
  function show(i) {
    i = Math.max(0, Math.min(steps.length - 1, i));
    slider.value = i;
    const s = steps[i];
    const args = s.inputs.map((e) => e.label).join(", ");
    const made = s.op === null ? "leaf" : s.op + "(" + args + ")";
    $(".count").textContent = "step " + (i + 1) + " of " + steps.length;
    $(".node").innerHTML = "<code>" + esc(s.label + " = " + made + " = " + num(s.data)) +
        "</code><br>upstream gradient <code>" + esc(num(s.upstream)) + "</code>";
    $(".rows").innerHTML = s.inputs.map((e) => "<tr><td><code>" + esc(e.label) +
        "</code></td><td><code>" + esc(num(s.upstream) + " \\u00d7 " +
        (e.local === null ? "?" : num(e.local)) + " = " + num(e.contribution)) +
        "</code></td><td><code>" + esc(num(e.total)) + "</code></td></tr>").join("") ||
        "<tr><td colspan=3>a leaf: its gradient is complete</td></tr>";
    $(".order").innerHTML = steps.map((t, j) => "<span" + (j === i ? " class=now" : "") +
        ">" + esc(t.label) + "</span>").join("");
  }
  function stop() { clearInterval(timer); timer = null; play.textContent = "Play"; }
  $(".prev").onclick = () => { stop(); show(+slider.value - 1); };
  $(".next").onclick = () => { stop(); show(+slider.value + 1); };
  slider.oninput = () => { stop(); show(+slider.value); };
  play.onclick = () => {
    if (timer !== null) { stop(); return; }
    if (+slider.value === steps.length - 1) show(0);
    play.textContent = "Pause";
    timer = setInterval(() => {
      if (+slider.value >= steps.length - 1) stop(); else show(+slider.value + 1);
    }, 1000);
  };
  root.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowLeft") { $(".prev").click(); ev.preventDefault(); }
    if (ev.key === "ArrowRight") { $(".next").click(); ev.preventDefault(); }
  });
  show(0);
})();
"""

_BODY = """<div class="tge-steps" id="__ID__" tabindex="0">
<style>__STYLE__</style>
<div class="bar"><button class="prev">Previous</button><button class="next">Next</button>
<button class="play">Play</button><input type="range" min="0" value="0">
<span class="count"></span></div>
<div class="node"></div>
<table><thead><tr><th>input</th><th>upstream &times; local = contribution</th>
<th>total so far</th></tr></thead><tbody class="rows"></tbody></table>
<p class="order"></p>
<script type="application/json" class="data">__DATA__</script>
<script>__SCRIPT__</script>
</div>"""


class StepViewer:
    """The backward pass from ``root`` as an interactive HTML viewer.

    ``steps`` holds the recorded ``Step``s; ``_repr_html_`` shows the viewer in Jupyter
    and ``save(path)`` writes it as a standalone page. ``grad`` is dL/d(root), as in
    ``root.backward(grad)``.
    """

    def __init__(self, root: ValueBase, grad: Any = None) -> None:
        self.steps = backprop_steps(root, grad)

    def _repr_html_(self) -> str:
        element = f"tge-steps-{next(_ids)}"
        # NOTE: "<" escaped as \\u003c keeps a label such as "</script>" inside the tag.
        data = steps_to_json(self.steps).replace("<", "\\u003c")
        return (_BODY.replace("__STYLE__", _STYLE).replace("__SCRIPT__", _SCRIPT)
                .replace("__ID__", element).replace("__DATA__", data))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the viewer as a self-contained HTML page; returns the path."""
        path = Path(path)
        path.write_text("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                        "<title>Stepping through backprop</title></head><body>\n"
                        f"{self._repr_html_()}\n</body></html>\n", encoding="utf-8")
        return path


def save_html(root: ValueBase, path: str | os.PathLike, grad: Any = None) -> Path:
    """Write a page that steps through ``root``'s backward pass; returns the path."""
    return StepViewer(root, grad).save(path)

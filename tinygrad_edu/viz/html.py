"""A self-contained HTML page that steps through a pass over the graph, one node at a time.

``save_html(loss, "backprop.html")`` writes a single file (no network access, no external
scripts or styles) with Previous / Next / Play buttons, a slider and the arrow keys. The
graph is drawn once, by Graphviz, as an inline SVG; each step highlights the node being
processed, shows the gradients of the nodes already finished and greys out the rest,
while a side panel shows the chain rule at that node in numbers, one row per input::

    upstream x local = contribution; total so far

``mode="forward"`` steps through the evaluation instead (each node computed from its
inputs), and ``mode="both"`` does the forward pass and then the backward pass.

The data comes from ``backprop_steps`` and ``forward_steps`` (so it is the engine's own
pass) and is embedded as JSON. In Jupyter, ``StepViewer(loss)`` as the last expression of
a cell shows the same viewer inline.
"""

from __future__ import annotations

import itertools
import os
import string
from pathlib import Path
from typing import Any

from ..autograd import ValueBase
from .dot import draw, node_keys
from .render import pipe
from .steps import ForwardStep, Step, backprop_steps, forward_steps, steps_to_json

MODES = ("backward", "forward", "both")
_ids = itertools.count(1)  # a distinct element id per viewer shown in the same notebook

_STYLE = """
.tge-steps { font-family: system-ui, sans-serif; outline: none; }
.tge-steps .bar { display: flex; gap: .5em; align-items: center; margin-bottom: .5em;
                  max-width: 60em; }
.tge-steps input[type=range] { flex: 1; }
.tge-steps .main { display: flex; gap: 1em; align-items: flex-start; flex-wrap: wrap; }
.tge-steps div.graph { flex: 1 1 30em; overflow: auto; }
.tge-steps div.graph svg { max-width: 100%; height: auto; }
.tge-steps .panel { flex: 0 1 30em; }
.tge-steps .pass { font-weight: bold; }
.tge-steps .formula { font-size: 1.1em; margin: .4em 0; }
.tge-steps code { font-family: ui-monospace, monospace; }
.tge-steps table { border-collapse: collapse; }
.tge-steps td, .tge-steps th { padding: .2em .6em; border-bottom: 1px solid #ddd;
                               text-align: left; vertical-align: top; }
.tge-steps .order span { margin-right: .4em; color: #888; }
.tge-steps .order span.now { color: #000; font-weight: bold; }
.tge-steps g.pending { opacity: .25; }
.tge-steps g.now, .tge-steps g.active { filter: drop-shadow(0 0 4px #e8453c); }
.tge-steps g.now polygon, .tge-steps g.active path { stroke: #e8453c; stroke-width: 2.5px; }
.tge-steps g.edge.active path { stroke: #e8453c; stroke-width: 2.5px; }
.tge-steps g.edge.active polygon { stroke: #e8453c; fill: #e8453c; }
.tge-steps text.hidden { visibility: hidden; }
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
  // The drawing: node groups by id, their data and gradient rows, edges by "tail->head".
  const svgNodes = {}, rows = {}, edges = {};
  root.querySelectorAll("div.graph g.node").forEach((g) => {
    svgNodes[g.id] = g;
    let part = "head";
    rows[g.id] = {data: [], grad: []};
    g.querySelectorAll("text").forEach((t) => {
      const text = t.textContent;
      if (text.startsWith("data ")) part = "data";
      if (text.startsWith("grad ") || text.startsWith("no grad")) part = "grad";
      if (part !== "head") rows[g.id][part].push(t);
    });
  });
  root.querySelectorAll("div.graph g.edge").forEach((g) => {
    const title = g.querySelector("title").textContent;
    (edges[title] = edges[title] || []).push(g);
  });
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
  function code(text) { return "<code>" + esc(text) + "</code>"; }
  // Which drawn nodes are done, current or pending at step i of its own pass.
  function paint(i) {
    const s = steps[i];
    const same = steps.filter((t) => t.pass === s.pass);
    const state = {};
    same.forEach((t) => {
      const when = t.index < s.index ? "done" : t.index === s.index ? "now" : "pending";
      state[t.key] = when;
      // The op that made the node: "active" while the node is current.
      if (t.op_key !== null && t.op_key !== undefined) {
        state[t.op_key] = when === "now" ? "active" : when;
      }
    });
    for (const [key, g] of Object.entries(svgNodes)) {
      const when = state[key] || (s.pass === "forward" ? "done" : "idle");
      g.classList.remove("done", "now", "active", "pending", "idle");
      g.classList.add(when);
      const r = rows[key];
      const hideData = s.pass === "forward" && when === "pending";
      const hideGrad = s.pass === "forward" || when === "pending";
      r.data.forEach((t) => t.classList.toggle("hidden", hideData));
      r.grad.forEach((t) => t.classList.toggle("hidden", hideGrad));
    }
    Object.values(edges).flat().forEach((g) => g.classList.remove("active"));
    const lit = s.args.map((a) => a.key + "->" + s.op_key).concat([s.op_key + "->" + s.key]);
    lit.forEach((title) => (edges[title] || []).forEach((g) => g.classList.add("active")));
  }
  function show(i) {
    i = Math.max(0, Math.min(steps.length - 1, i));
    slider.value = i;
    const s = steps[i];
    const forward = s.pass === "forward";
    const args = s.args.map((a) => a.label).join(", ");
    const made = s.op === null ? "leaf" : s.op + "(" + args + ")";
    $(".count").textContent = "step " + (i + 1) + " of " + steps.length;
    $(".pass").textContent = forward ? "forward pass" : "backward pass";
    if (forward) {
      const numbers = s.op === null ? "" :
          " = " + s.op + "(" + s.args.map((a) => num(a.data)).join(", ") + ")";
      $(".formula").innerHTML = code(s.label + " = " + made + numbers + " = " + num(s.data));
      $(".head").innerHTML = "<tr><th>argument</th><th>value</th></tr>";
      $(".rows").innerHTML = s.args.map((a) => "<tr><td>" + code(a.label) + "</td><td>" +
          code(num(a.data)) + "</td></tr>").join("") ||
          "<tr><td colspan=2>a leaf: its value is given</td></tr>";
    } else {
      $(".formula").innerHTML = code(s.label + " = " + made + " = " + num(s.data)) +
          "<br>upstream gradient " + code(num(s.upstream));
      $(".head").innerHTML = "<tr><th>input</th><th>upstream &times; local = " +
          "contribution</th><th>total so far</th></tr>";
      $(".rows").innerHTML = s.inputs.map((e) => "<tr><td>" + code(e.label) +
          "</td><td>" + code(num(s.upstream) + " \\u00d7 " +
          (e.local === null ? "?" : num(e.local)) + " = " + num(e.contribution)) +
          "</td><td>" + code(num(e.total)) + "</td></tr>").join("") ||
          "<tr><td colspan=3>a leaf: its gradient is complete</td></tr>";
    }
    $(".order").innerHTML = steps.map((t, j) => "<span" + (j === i ? " class=now" : "") +
        ">" + esc(t.label) + "</span>").join("");
    paint(i);
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

# Filled in one pass (string.Template), so text from the graph is never substituted again.
_BODY = string.Template("""<div class="tge-steps" id="$id" tabindex="0">
<style>$style</style>
<div class="bar"><button class="prev">Previous</button><button class="next">Next</button>
<button class="play">Play</button><input type="range" min="0" value="0">
<span class="count"></span></div>
<div class="main"><div class="graph">$svg</div>
<div class="panel"><div class="pass"></div><div class="formula"></div>
<table><thead class="head"></thead><tbody class="rows"></tbody></table>
<p class="order"></p></div></div>
<script type="application/json" class="data">$data</script>
<script>$script</script>
</div>""")


class StepViewer:
    """A pass over the graph of ``root`` as an interactive HTML viewer.

    ``mode`` is ``"backward"`` (backprop, from ``root`` to the leaves), ``"forward"`` (the
    evaluation, from the leaves to ``root``) or ``"both"``, one after the other. ``grad``
    is dL/d(root), as in ``root.backward(grad)``. ``steps`` holds the recorded
    ``ForwardStep``s and ``Step``s in viewing order.

    With ``graph=True`` the page shows the graph, drawn by Graphviz's ``dot`` (which must
    be installed) as an SVG with each node's final gradient; a graph of more than
    ``max_nodes`` nodes is an error, since its picture could not be read. ``graph=False``
    gives the panel of numbers only, and needs no ``dot``.

    ``_repr_html_`` shows the viewer in Jupyter and ``save(path)`` writes it as a
    standalone page.
    """

    def __init__(self, root: ValueBase, grad: Any = None, *, mode: str = "backward",
                 graph: bool = True, max_nodes: int = 300) -> None:
        if mode not in MODES:
            raise ValueError(f"StepViewer: mode must be one of {MODES}; got {mode!r}")
        backward = [] if mode == "forward" else backprop_steps(root, grad)
        self.steps: list[ForwardStep | Step] = [
            *([] if mode == "backward" else forward_steps(root)), *backward]
        self._keys: dict[int, str] | None = None
        self._svg = ""
        if graph:
            self._keys = node_keys(root, max_nodes=None)
            if len(self._keys) > max_nodes:
                raise ValueError(
                    f"StepViewer: the graph has {len(self._keys)} nodes (values and ops), "
                    f"more than max_nodes={max_nodes}, too many to read as a picture; pass "
                    f"graph=False to step through the numbers alone, or a larger max_nodes=")
            grads = {s.node: s.upstream for s in backward if s.upstream is not None}
            # Every node is headed with its label in the steps (Mul#1 for an unnamed one).
            labels = {s.node: s.label for s in self.steps}
            drawing = draw(root, max_nodes=None, legend=False, grads=grads, labels=labels)
            svg = pipe(drawing, "svg").decode("utf-8")
            self._svg = svg[svg.index("<svg"):]  # without the XML prolog and doctype

    def _repr_html_(self) -> str:
        element = f"tge-steps-{next(_ids)}"
        # NOTE: "<" escaped as \\u003c keeps a label such as "</script>" inside the tag.
        data = steps_to_json(self.steps, keys=self._keys).replace("<", "\\u003c")
        return _BODY.substitute(id=element, style=_STYLE, svg=self._svg, data=data,
                                script=_SCRIPT.replace("__ID__", element))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the viewer as a self-contained HTML page (its folder is created if
        needed); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                        "<title>Stepping through backprop</title></head><body>\n"
                        f"{self._repr_html_()}\n</body></html>\n", encoding="utf-8")
        return path


def save_html(root: ValueBase, path: str | os.PathLike, grad: Any = None,
              **options: Any) -> Path:
    """Write a page that steps through ``root``'s backward pass (``mode=`` and the other
    ``StepViewer`` options choose otherwise); returns the path."""
    return StepViewer(root, grad, **options).save(path)

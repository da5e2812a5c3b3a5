"""The step-through HTML viewer: self-contained, embeds the steps, and its script runs."""

import json
import re
import shutil
import subprocess

import pytest

from tinygrad_edu import Value
from tinygrad_edu.viz.html import StepViewer, save_html
from tinygrad_edu.viz.steps import backprop_steps

# A stand-in for the few DOM calls the viewer's script makes, so node can run it.
FAKE_DOM = """
const elements = {};
const element = () => ({textContent: "", innerHTML: "", value: 0, max: 0,
                        click() { this.onclick(); }});
const root = {
  querySelector(sel) {
    if (sel === "script.data") return {textContent: DATA};
    return elements[sel] || (elements[sel] = element());
  },
  addEventListener(type, fn) { root.onkey = fn; },
};
globalThis.document = {
  getElementById: () => root,
  createElement: () => { let t = ""; return {set textContent(v) { t = v; },
    get innerHTML() { return t.replace(/&/g, "&amp;").replace(/</g, "&lt;"); }}; },
};
const shown = () => ({count: elements[".count"].textContent,
                      node: elements[".node"].innerHTML, rows: elements[".rows"].innerHTML});
"""


def graph():
    a, b = Value(2.0, name="a"), Value(-3.0, name="</script>b")
    return (a * b + a).tanh()


def parts(html):
    data = re.search(r'<script type="application/json" class="data">(.*?)</script>', html,
                     re.S).group(1)
    (script,) = re.findall(r"<script>(.*?)</script>", html, re.S)
    return data, script


def test_the_page_is_self_contained_and_embeds_the_steps(tmp_path):
    root = graph()
    path = save_html(root, tmp_path / "steps.html")
    html = path.read_text()
    assert html.startswith("<!DOCTYPE html>") and "http" not in html and " src=" not in html
    for control in ("Previous", "Next", "Play", 'type="range"', "ArrowLeft", "ArrowRight"):
        assert control in html
    data, _ = parts(html)
    labels = [s["label"] for s in json.loads(data)]
    assert labels == [s.label for s in backprop_steps(root)]
    assert "</script>b" in labels  # the escaped name did not end the script tag


def test_each_viewer_in_a_notebook_gets_its_own_element():
    viewer = StepViewer(graph())
    first, second = viewer._repr_html_(), viewer._repr_html_()
    ids = [re.search(r'id="([^"]+)"', h).group(1) for h in (first, second)]
    assert ids[0] != ids[1] and f'getElementById("{ids[1]}")' in second


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the script")
def test_the_script_shows_the_chain_rule_and_steps_with_the_keys(tmp_path):
    data, script = parts(StepViewer(graph())._repr_html_())
    program = (FAKE_DOM.replace("DATA", json.dumps(data)) + script +
               "console.log(JSON.stringify(shown()));"
               "root.onkey({key: 'ArrowRight', preventDefault() {}});"
               "console.log(JSON.stringify(shown()));")
    (tmp_path / "viewer.js").write_text(program)
    out = subprocess.run(["node", str(tmp_path / "viewer.js")], capture_output=True,
                         text=True, check=True).stdout
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["count"] == "step 1 of 5"
    assert "Tanh#1 = Tanh(Add#1) = -0.9993" in first["node"]
    assert second["count"] == "step 2 of 5"
    assert "Add#1 = Add(Mul#1, a) = -4" in second["node"]
    assert "0.001341 × 1 = 0.001341" in second["rows"]

"""The step-through HTML viewer: self-contained, embeds the steps and the drawing.

Its script runs in a real browser in test_viz_browser.py."""

import json
import re

import graphviz
import pytest

from tinygrad_edu import Value
from tinygrad_edu.viz import GraphvizNotFoundError
from tinygrad_edu.viz.dot import node_keys
from tinygrad_edu.viz.html import StepViewer, save_html
from tinygrad_edu.viz.steps import backprop_steps, forward_steps


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
    assert html.startswith("<!DOCTYPE html>")
    # Nothing is fetched: no external script, style, image or link (the SVG namespace
    # URIs are names, not requests).
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "<link" not in html and "@import" not in html
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


def svg_ids(html):
    return re.findall(r'<g id="(n\d+)" class="node"', html)


def test_the_drawing_is_inline_with_a_node_for_every_step_key():
    root = graph()
    html = StepViewer(root)._repr_html_()
    data, _ = parts(html)
    steps = json.loads(data)
    ids = set(svg_ids(html))
    assert html.count("<svg") == 1 and "<?xml" not in html
    keys = node_keys(root)
    assert [s["key"] for s in steps] == [keys[id(s.node)] for s in backprop_steps(root)]
    for step in steps:
        assert step["key"] in ids and step["op_key"] in ids | {None}
        assert all(e["key"] in ids for e in step["inputs"])
    # The drawing shows each node's final gradient, though root.backward() never ran.
    assert root.grad is None and "grad 1.000" in html


def test_forward_and_both_modes_list_the_passes_in_order():
    root = graph()
    forward = json.loads(parts(StepViewer(root, mode="forward")._repr_html_())[0])
    both = json.loads(parts(StepViewer(root, mode="both")._repr_html_())[0])
    assert [s["pass"] for s in forward] == ["forward"] * len(forward_steps(root))
    assert [s["label"] for s in forward] == [s.label for s in forward_steps(root)]
    assert both == forward + json.loads(parts(StepViewer(root)._repr_html_())[0])
    assert forward[-1]["label"] == "Tanh#1" and forward[-1]["args"][0]["label"] == "Add#1"


def test_without_the_graph_the_page_has_no_svg_and_needs_no_dot(monkeypatch):
    def no_dot(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", no_dot)
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        StepViewer(graph())
    html = StepViewer(graph(), graph=False)._repr_html_()
    assert "<svg" not in html and '"key"' not in parts(html)[0]


def test_a_graph_too_big_to_read_is_refused_with_the_way_out():
    x = Value(1.0)
    for _ in range(200):
        x = x * 1.0
    with pytest.raises(ValueError, match=r"StepViewer: the graph has \d+ nodes.*graph=False"):
        StepViewer(x, max_nodes=100)
    assert len(StepViewer(x, graph=False).steps) == 201


def test_text_from_the_graph_is_not_substituted_into_the_template():
    a = Value(1.0, name="$svg $data __ID__ ${script}")
    html = StepViewer(a * 2.0)._repr_html_()
    assert html.count("<script>") == 1 and html.count('class="data"') == 1
    assert "$svg $data __ID__ ${script}" in json.loads(parts(html)[0])[1]["label"]


def test_bad_mode_is_a_clear_error():
    with pytest.raises(ValueError, match="StepViewer: mode must be one of"):
        StepViewer(graph(), mode="sideways")

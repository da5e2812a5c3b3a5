"""Graph views: DOT drawings of the recorded graph, rendering, and the step-through viewer.

``draw(loss, mode="backward")`` draws the graph (a ``graphviz.Digraph``), ``render`` writes
it to a file with Graphviz's ``dot``, ``trace(model)`` records module calls so drawings
group nodes by module, and ``backprop_steps`` / ``save_html`` step through the backward
pass (``forward_steps``: the forward pass) one node at a time.
"""

from .dot import draw, node_keys, to_dot
from .html import StepViewer, save_html
from .modules import trace
from .render import GraphvizNotFoundError, render
from .steps import Arg, Edge, ForwardStep, Step, backprop_steps, forward_steps, steps_to_json

__all__ = [
    "Arg",
    "Edge",
    "ForwardStep",
    "GraphvizNotFoundError",
    "Step",
    "StepViewer",
    "backprop_steps",
    "draw",
    "forward_steps",
    "node_keys",
    "render",
    "save_html",
    "steps_to_json",
    "to_dot",
    "trace",
]

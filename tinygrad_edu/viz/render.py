"""Rendering a drawing to a file with Graphviz's ``dot`` program.

Building the DOT text (``viz.dot``) needs no program; turning it into svg, png or pdf
does. When ``dot`` is missing, ``render`` says how to install it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import graphviz

from ..autograd import ValueBase
from .dot import draw

INSTALL_HINT = (
    "Graphviz's `dot` program is not on the PATH, and rendering a drawing needs it "
    "(to_dot() and draw() work without it). Install it:\n"
    "  Debian/Ubuntu:  sudo apt-get install graphviz\n"
    "  Fedora:         sudo dnf install graphviz\n"
    "  macOS:          brew install graphviz\n"
    "  conda:          conda install -c conda-forge graphviz"
)


class GraphvizNotFoundError(RuntimeError):
    """Rendering needs Graphviz's ``dot`` program, which is not installed."""


def render(graph: graphviz.Digraph | ValueBase, path: str | os.PathLike,
           format: str | None = None, **draw_options: Any) -> Path:
    """Write ``graph`` (a ``draw()`` result, or a Value to draw with ``draw_options``) to
    ``path`` (its folder is created if needed) and return the path. ``format`` defaults
    to the file's suffix (svg, png, pdf, ...). Raises ``GraphvizNotFoundError`` when
    ``dot`` is not installed."""
    path = Path(path)
    if isinstance(graph, ValueBase):
        graph = draw(graph, **draw_options)
    elif draw_options:
        raise TypeError(f"render: drawing options {sorted(draw_options)} need a Value, not "
                        f"a graph that is already drawn")
    format = format or path.suffix.lstrip(".")
    if not format:
        raise ValueError(f"render: cannot tell the format of {str(path)!r}; give the file a "
                         f"suffix such as .svg or pass format=")
    image = pipe(graph, format)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image)
    return path


def pipe(graph: graphviz.Digraph, format: str) -> bytes:
    """``graph`` laid out and rendered by ``dot`` in ``format``, as bytes. Raises
    ``GraphvizNotFoundError`` when ``dot`` is not installed."""
    try:
        return graph.pipe(format=format)
    except graphviz.ExecutableNotFound as e:
        raise GraphvizNotFoundError(INSTALL_HINT) from e

"""Every Python snippet in docs/ runs, and prints what the page says it prints.

A page's ```python blocks run in order in one namespace (they follow on from each
other). Lines starting with ``# `` right after the code are the expected output of the
block's prints, compared exactly.
"""

import contextlib
import io
import re
import textwrap
from pathlib import Path

import pytest

DOCS = sorted((Path(__file__).parent.parent / "docs").glob("*.md"))
BLOCK = re.compile(r"^([ \t]*)```python\n(.*?)^\1```", re.S | re.M)
# Pages whose snippets take long (the million-node chain) run only their quick blocks.
SLOW_MARK = "1_000_000"


def blocks(page: Path) -> list[str]:
    return [textwrap.dedent(body) for _, body in BLOCK.findall(page.read_text())]


def split_output(block: str) -> tuple[str, str]:
    """The code, and the expected output: the ``# `` lines written right under a line of
    code (the pages' convention: the comment under a ``print`` is its output)."""
    code: list[str] = []
    expected: list[str] = []
    after_code = False
    for line in block.rstrip("\n").splitlines():
        if (line.startswith("# ") or line == "#") and after_code and "print(" in block:
            expected.append(line[2:])
            continue
        code.append(line)
        after_code = bool(line.strip()) and not line.lstrip().startswith("#")
    return "\n".join(code), "\n".join(expected)


def test_there_are_pages_with_snippets():
    assert sum(len(blocks(p)) for p in DOCS) > 40


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_snippets_run_and_print_what_the_page_says(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # snippets that write files write them here
    namespace: dict = {"__name__": "__docs__"}
    for i, block in enumerate(blocks(page)):
        if SLOW_MARK in block:
            continue
        code, expected = split_output(block)
        # Run from a real file, so tracebacks and anomaly messages can quote the line;
        # the pages write its directory as /path/to/.
        script = tmp_path / "your_script.py"
        script.write_text(code)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(script), "exec"), namespace)
        printed = out.getvalue().rstrip("\n").replace(f"{tmp_path}/", "/path/to/")
        if expected:
            assert printed == expected, f"{page.name} block {i}"

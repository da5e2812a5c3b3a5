"""The step viewer in a real browser: headless Chromium opens the page that ``save_html``
writes, clicks through it, and checks what it shows against the steps embedded in it.

The page's contract, as these tests read it:

- the viewer is the ``.tge-steps`` element; its steps are the JSON in its
  ``<script type="application/json" class="data">``, each step with a unique ``"key"``;
- ``button.prev`` and ``button.next`` step back and forward, as do the arrow keys;
  ``.count`` reads "step i of N" and ``.rows`` shows the chain rule at the current step,
  a label and a contribution (to 4 significant digits) per input;
- an inline ``<svg>`` inside a ``.graph`` element draws the graph, each Value a ``<g>``
  whose id is its step's key, with the class ``now`` on the current step's node (only
  there), ``done`` on the nodes already processed and ``pending`` on those still to come.
"""

import json
import math
import os
import re
import shutil
from pathlib import Path

import pytest

from tinygrad_edu import Value
from tinygrad_edu.viz import save_html

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:  # the browser fixture then skips these tests (fails them in CI)
    By = Keys = None

pytestmark = pytest.mark.browser

SCREENSHOTS = "TINYGRAD_EDU_SCREENSHOTS"  # a directory to copy the screenshots to, if set


def neuron():
    """micrograd's neuron: o = tanh(x1*w1 + x2*w2 + b), where b makes do/dn = 0.5."""
    x1, x2 = Value(2.0, name="x1"), Value(0.0, requires_grad=False, name="x2")
    w1, w2 = Value(-3.0, name="w1"), Value(1.0, name="w2")
    b = Value(6.8813735870195432, name="b")
    n = x1 * w1 + x2 * w2 + b
    n.name = "n"
    o = n.tanh()
    o.name = "o"
    return o


# ----------------------------------------------------------------------------------------
# Reading the page
# ----------------------------------------------------------------------------------------


def open_page(browser, path: Path):
    """Load the page; return the viewer element and the steps parsed from its JSON."""
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(path.as_uri())
    viewer = browser.find_element(By.CSS_SELECTOR, ".tge-steps")
    data = viewer.find_element(By.CSS_SELECTOR, 'script[type="application/json"].data')
    return viewer, json.loads(data.get_property("textContent"))


def click(viewer, button: str, times: int = 1) -> None:
    for _ in range(times):
        viewer.find_element(By.CSS_SELECTOR, f"button.{button}").click()


def count(viewer) -> str:
    return viewer.find_element(By.CSS_SELECTOR, ".count").text


def rows(viewer) -> str:
    return viewer.find_element(By.CSS_SELECTOR, ".rows").text


def numbers(text: str) -> list[float]:
    """The numbers written in ``text``, skipping digits that are part of a label (x1, Mul#1)."""
    text = text.replace("\N{MINUS SIGN}", "-")
    return [float(x) for x in re.findall(r"(?<![\w#.])-?\d+(?:\.\d*)?(?:e[-+]?\d+)?", text)]


def assert_shows(viewer, steps: list[dict], i: int) -> None:
    """The counter and the chain-rule panel show step ``i``."""
    assert count(viewer) == f"step {i + 1} of {len(steps)}"
    text = rows(viewer)
    shown = numbers(text)
    for edge in steps[i]["inputs"]:
        assert edge["label"] in text, f"step {i}: no {edge['label']!r} in {text!r}"
        # 4 significant digits are within a relative 5e-4 of the contribution.
        assert any(math.isclose(x, edge["contribution"], rel_tol=1e-3) for x in shown), \
            f"step {i}: {edge['label']}'s contribution {edge['contribution']} not in {text!r}"


def graph_classes(browser) -> dict[str, list[str]]:
    """The ids of the graph's node groups with the class ``now``, ``done``, ``pending``."""
    return {state: [g.get_attribute("id") for g in
                    browser.find_elements(By.CSS_SELECTOR, f".graph svg g.{state}")]
            for state in ("now", "done", "pending")}


def assert_highlights(browser, steps: list[dict], i: int) -> None:
    """Step ``i``'s node is the one current node; earlier ones are done, later pending."""
    keys = [s["key"] for s in steps]
    marked = graph_classes(browser)
    assert marked["now"] == [keys[i]], f"step {i}: g.now is {marked['now']}, not {keys[i]}"
    done, pending = set(marked["done"]), set(marked["pending"])
    assert set(keys[:i]) <= done and not done & set(keys[i:]), f"step {i}: done {done}"
    assert set(keys[i + 1:]) <= pending and not pending & set(keys[:i + 1]), \
        f"step {i}: pending {pending}"


def assert_no_script_errors(browser) -> None:
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"the page logged errors: {errors}"


def screenshot(browser, path: Path) -> Path:
    """Save a PNG of the window to ``path``, and to $TINYGRAD_EDU_SCREENSHOTS if set."""
    assert browser.save_screenshot(str(path)), f"no screenshot written to {path}"
    assert path.read_bytes().startswith(b"\x89PNG"), f"{path} is not a PNG"
    if os.environ.get(SCREENSHOTS):
        folder = Path(os.environ[SCREENSHOTS])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / path.name)
    return path


# ----------------------------------------------------------------------------------------
# Tests
# ----------------------------------------------------------------------------------------


def test_next_previous_and_the_arrow_key_step_through_the_pass(browser, tmp_path):
    viewer, steps = open_page(browser, save_html(neuron(), tmp_path / "steps.html"))
    assert steps[3]["inputs"], "step 4 should be an op's, with inputs to show"
    assert_shows(viewer, steps, 0)
    at_start = rows(viewer)

    click(viewer, "next", times=3)
    assert_shows(viewer, steps, 3)
    assert rows(viewer) != at_start
    screenshot(browser, tmp_path / "test_viz_browser_step4.png")

    click(viewer, "prev")
    assert_shows(viewer, steps, 2)
    viewer.send_keys(Keys.ARROW_RIGHT)
    assert_shows(viewer, steps, 3)
    assert_no_script_errors(browser)


def test_the_graph_highlights_the_node_being_processed(browser, tmp_path):
    viewer, steps = open_page(browser, save_html(neuron(), tmp_path / "steps.html"))
    assert all("key" in s for s in steps), "the steps' JSON names no graph nodes (no key)"
    keys = [s["key"] for s in steps]
    assert len(set(keys)) == len(keys), f"step keys are not unique: {keys}"
    assert len(browser.find_elements(By.CSS_SELECTOR, ".graph svg")) == 1
    assert_highlights(browser, steps, 0)

    click(viewer, "next", times=3)
    assert_highlights(browser, steps, 3)
    assert keys[3] != keys[0]

    click(viewer, "prev")
    assert_highlights(browser, steps, 2)
    viewer.send_keys(Keys.ARROW_RIGHT)
    assert_highlights(browser, steps, 3)
    assert_no_script_errors(browser)


IMG = "<img src=x onerror=\"document.title='pwned'\">"
SCRIPT = "</script><script>document.title='pwned'</script>"


def test_names_are_shown_as_text_not_run_as_html(browser, tmp_path):
    a, b = Value(2.0, name=IMG), Value(-3.0, name=SCRIPT)
    viewer, steps = open_page(browser, save_html((a * b).tanh(), tmp_path / "steps.html"))
    title = browser.title
    assert title != "pwned"
    for i in range(len(steps)):
        if i:
            click(viewer, "next")
        assert count(viewer) == f"step {i + 1} of {len(steps)}"
        assert browser.title == title, f"step {i}: a name ran as a script"
    assert not browser.find_elements(By.CSS_SELECTOR, "img"), "a name became an <img>"
    injected = [s for s in browser.find_elements(By.TAG_NAME, "script")
                if s.get_property("textContent") == "document.title='pwned'"]
    assert not injected, "a name closed the data <script> and opened its own"
    text = browser.find_element(By.TAG_NAME, "body").text
    assert IMG in text and SCRIPT in text
    assert_no_script_errors(browser)

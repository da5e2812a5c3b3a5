"""Every notebook in docs/notebooks runs top to bottom in a real Jupyter kernel, and its
views show inline: the step viewer and draw() as HTML/SVG, the plots as PNG images.

The notebooks are kept as Jupytext percent-format ``.py`` files (reviewable, no outputs);
each is converted to ``.ipynb`` here and executed by nbclient in an ipykernel running this
interpreter, through a kernel spec written to a temporary folder (nothing is installed in
the user's Jupyter folders).
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import missing_in_ci_fails

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("[0-9][0-9]_*.py"))
# ipywidgets: tqdm's notebook bar (Optuna imports tqdm.auto, which warns without it).
PACKAGES = ("nbclient", "nbformat", "ipykernel", "jupytext", "jupyter_client", "ipywidgets")
INSTALL = ("the notebook tests need {}: pip install -e '.[dev]' (or pip install nbclient "
           "nbformat ipykernel jupytext ipywidgets)")
KERNEL = "tinygrad-edu-test"
# A cell may run this long: the slowest one trains a small network for a few epochs.
CELL_TIMEOUT = 120


@pytest.fixture(scope="session")
def kernel_manager_factory(tmp_path_factory):
    """Makes KernelManagers for a kernel spec that runs ``sys.executable``, so the
    notebooks see the package and extras of the interpreter running the tests."""
    missing = [name for name in PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        missing_in_ci_fails(INSTALL.format(", ".join(missing)))
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    # NOTE: installed by a child process: importing ipykernel here would make this process
    # look like a Jupyter kernel to code that checks sys.modules (plots' inline display).
    prefix = tmp_path_factory.mktemp("jupyter")
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix),
                    "--name", KERNEL], check=True, capture_output=True)
    specs = KernelSpecManager(kernel_dirs=[str(prefix / "share" / "jupyter" / "kernels")])
    assert specs.get_kernel_spec(KERNEL).argv[0] == sys.executable
    return lambda: KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def execute(path: Path, kernel_manager_factory, cwd: Path):
    """The notebook at ``path``, converted and executed from ``cwd`` (where it writes its
    files); an error in any cell raises ``CellExecutionError`` with its traceback."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(path)
    client = NotebookClient(notebook, km=kernel_manager_factory(), timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(cwd)}})
    # The client stops the kernel and closes its sockets only when asked to, since it
    # did not create the kernel manager.
    client.execute(cleanup_kc=True)
    return notebook


def outputs(cell) -> list[dict]:
    return [o.get("data", {}) for o in cell.get("outputs", ())]


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def stderr(notebook) -> list[str]:
    return [o["text"] for cell in code_cells(notebook) for o in cell.get("outputs", ())
            if o.get("name") == "stderr"]


def test_the_notebooks_are_found():
    assert [p.name for p in NOTEBOOKS] == [
        "01_step_through_backprop.py", "02_train_and_babysit.py", "03_custom_op.py",
        "04_lessons.py"]


def test_no_notebook_is_stored_with_outputs():
    # The .py files are the source; an .ipynb next to them would hold stale outputs.
    assert not list((ROOT / "docs" / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def executed(kernel_manager_factory, tmp_path_factory):
    """Runs a notebook (by file name) once per module; returns it executed, and the folder
    it ran in."""
    cache = {}

    def run(name):
        if name not in cache:
            cwd = tmp_path_factory.mktemp(Path(name).stem)
            cache[name] = execute(ROOT / "docs" / "notebooks" / name, kernel_manager_factory,
                                  cwd), cwd
        return cache[name]

    return run


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_without_errors_or_warnings(path, executed):
    notebook, _ = executed(path.name)
    assert all(cell.get("execution_count") for cell in code_cells(notebook))
    assert stderr(notebook) == []


def test_backprop_notebook_shows_the_step_viewer_and_the_drawings(executed):
    notebook, _ = executed("01_step_through_backprop.py")
    viewers = [data["text/html"] for cell in code_cells(notebook) for data in outputs(cell)
               if "StepViewer(" in cell.source and "text/html" in data]
    # One viewer per StepViewer cell, each with its drawing inline and its steps.
    assert len(viewers) == sum("StepViewer(" in c.source for c in code_cells(notebook)) == 2
    for html in viewers:
        assert 'class="tge-steps' in html and "<svg" in html and "script" in html
    drawings = [data["image/svg+xml"] for cell in code_cells(notebook) for data in outputs(cell)
                if "draw(" in cell.source and "image/svg+xml" in data]
    assert len(drawings) == sum("draw(" in c.source for c in code_cells(notebook)) == 3
    assert all("<svg" in svg for svg in drawings)
    # The collapsed MLP drawing names its layers.
    assert "layers.0: Linear" in drawings[-1]


def shown(notebook) -> dict[str, str]:
    """The text/plain output of each cell whose last line is a bare name, by that name."""
    last = {id(cell): re.fullmatch(r"(\w+)(  # noqa: B018)?", cell.source.splitlines()[-1])
            for cell in code_cells(notebook)}
    return {last[id(cell)].group(1): data["text/plain"] for cell in code_cells(notebook)
            for data in outputs(cell) if last[id(cell)] and "text/plain" in data}


def test_printed_objects_look_right_inline(executed):
    values = shown(executed("01_step_through_backprop.py")[0])
    assert values["o"].startswith("Value(0.7071") and "name='o'" in values["o"]
    assert "grad_fn=<Tanh>" in values["o"]
    assert "(layers.0): Linear(in_features=2, out_features=4, bias=True)" in values["model"]
    assert "(layers.1): Tanh()" in values["model"]
    z = shown(executed("03_custom_op.py")[0])["z"]
    assert "data=[0.0000e+00, 6.9315e-01, 8.0000e+02]" in z and "grad=[1., 1., 1.]" in z


def test_babysitting_notebook_shows_every_plot_inline(executed):
    notebook, cwd = executed("02_train_and_babysit.py")
    plotting = [cell for cell in code_cells(notebook)
                if re.search(r"^[^#\n]*(\bplot_\w+|\.plot)\(", cell.source, re.M)]
    images = [[data for data in outputs(cell) if "image/png" in data] for cell in plotting]
    assert len(plotting) >= 4 and all(images), [c.source for c, i in zip(plotting, images)
                                                  if not i]
    # Every figure written to a file was also shown below its cell.
    written = list(cwd.glob("*.png"))
    assert sum(map(len, images)) == len(written) >= 8


def test_custom_op_notebook_proves_the_op_and_catches_both_mistakes(executed):
    notebook, _ = executed("03_custom_op.py")
    printed = "".join(o.get("text", "") for cell in code_cells(notebook)
                      for o in cell.get("outputs", ()))
    assert "check_op: first and second derivatives passed" in printed
    assert "properties hold" in printed
    # The swapped gradient, caught by gradcheck and by check_op; the constant weight, only
    # by gradgradcheck.
    assert printed.count("gradcheck: input 1 (shape ())") == 2
    assert re.search(r"^gradgradcheck: input \d \(shape \(2,\)\)", printed, re.M)


def test_lessons_notebook_runs_every_lesson_and_shows_its_figures(executed):
    from tinygrad_edu.lessons import LESSONS

    notebook, cwd = executed("04_lessons.py")
    cells = {int(m.group(1)): cell for cell in code_cells(notebook)
             if (m := re.fullmatch(r"result = lesson\((\d+)\)(\n.*)?", cell.source, re.S))}
    assert sorted(cells) == sorted(LESSONS)
    for number, cell in cells.items():
        printed = "".join(o.get("text", "") for o in cell.get("outputs", ()))
        if f"lesson {number} cannot run here" in printed:
            continue  # a lesson that needs a part of the library this checkout lacks
        assert re.search(f"^lesson {number}: .*^  -> ", printed, re.M | re.S), printed
        # Every figure the lesson wrote is shown below its cell.
        shown = sum("image/png" in data for data in outputs(cell))
        assert shown == printed.count("\n  figure: ") >= 1, printed
    assert len(list((cwd / "lessons").glob("*.png"))) >= len(LESSONS)

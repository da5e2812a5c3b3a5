"""The two set-up commands install everything the examples and notebooks use."""

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def extras() -> dict[str, set[str]]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    section = config["options.extras_require"]
    return {name: {line.strip() for line in section[name].splitlines()
                   if line.strip() and not line.strip().startswith("#")}
            for name in section}


def test_all_extra_is_every_extra_the_examples_use():
    # JupyterLab (the notebook extra) only opens the notebooks; the tests run them with the
    # dev extra's kernel.
    found = extras()
    user_facing = set().union(*(reqs for name, reqs in found.items()
                                if name not in ("all", "dev", "notebook")))
    assert found["all"] == user_facing


def test_dev_extra_runs_the_notebooks():
    found = extras()
    names = {re.split("[<>=]", req)[0] for req in found["dev"]}
    assert {"nbclient", "ipykernel", "jupytext", "ipywidgets"} <= names


def test_make_demo_installs_every_extra_the_examples_use():
    makefile = (ROOT / "Makefile").read_text()
    rule = makefile.split("$(VENV)/.installed:", 1)[1].split("\n\n", 1)[0]
    installed = re.search(r"install --quiet -e '\.\[([^\]]*)\]'", rule)
    assert installed is not None, rule
    assert "all" in installed.group(1).split(",")


def test_dev_extra_covers_every_user_facing_extra():
    found = extras()
    assert found["all"] <= found["dev"]

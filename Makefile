# Everything a fresh machine needs: `make demo` and `make test` create .venv, install the
# package with every optional extra the examples use (`all`), and Graphviz's `dot` when it is
# missing (for `make test` also Chromium and its chromedriver), then run.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check

.PHONY: demo test bench lint mutation notebook graphviz chromium clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -e '.[all]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -e '.[dev]'
	touch $@

# Graphviz's `dot` renders the graph views. Installed with apt-get when we are root on a
# Debian-like system; otherwise we stop and say how to install it.
graphviz:
	@if command -v dot >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Graphviz's dot is missing: installing it with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends graphviz >/dev/null; \
	else \
		echo "Graphviz's 'dot' program is missing. Install it, then run make again:"; \
		echo "  Debian/Ubuntu:  sudo apt-get install graphviz"; \
		echo "  Fedora:         sudo dnf install graphviz"; \
		echo "  macOS:          brew install graphviz"; \
		echo "  conda:          conda install -c conda-forge graphviz"; \
		exit 1; \
	fi; \
	command -v dot >/dev/null 2>&1 || { echo "installing Graphviz failed: no dot on PATH"; exit 1; }

# Headless Chromium and the chromedriver of the same version run the step viewer's browser
# test (through Selenium, which then downloads nothing). Installed like Graphviz above.
chromium:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
		exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Chromium or chromedriver is missing: installing them with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; \
	else \
		echo "The browser test needs 'chromium' and 'chromedriver' (the same version) on PATH."; \
		echo "Install them, then run make again:"; \
		echo "  Debian:  sudo apt-get install chromium chromium-driver"; \
		echo "  Fedora:  sudo dnf install chromium chromedriver"; \
		exit 1; \
	fi; \
	command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
		{ echo "installing Chromium failed: no chromium or chromedriver on PATH"; exit 1; }

demo: $(VENV)/.installed graphviz
	$(PY) -m tinygrad_edu.demo

test: $(VENV)/.installed-dev graphviz chromium
	$(PY) -m pytest

# The notebooks are kept as Jupytext percent-format sources in docs/notebooks/; `make
# notebook` converts them to .ipynb under out/notebooks/ and opens JupyterLab there.
$(VENV)/.installed-notebook: $(VENV)/.installed
	$(PIP) install --quiet -e '.[notebook]'
	touch $@

NOTEBOOKS := $(patsubst docs/notebooks/%.py,out/notebooks/%.ipynb,$(wildcard docs/notebooks/[0-9]*.py))

out/notebooks/%.ipynb: docs/notebooks/%.py | $(VENV)/.installed-notebook
	@mkdir -p $(@D)
	$(VENV)/bin/jupytext --quiet --to ipynb -o $@ $<

notebook: $(NOTEBOOKS) graphviz
	$(VENV)/bin/jupyter lab out/notebooks

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check tinygrad_edu tests examples benchmarks docs

# Mutation testing (docs/testing.md): mutmut changes the code of PATHS one small bug at a
# time and runs, for each, only the tests that reach the changed function, under the CI
# profile; then the score of each module, and the mutants no test noticed. The first run
# maps which tests reach which function (one pass over the suite); later runs reuse it.
PATHS ?= tinygrad_edu/autograd.py tinygrad_edu/ops/ tinygrad_edu/functional/ tinygrad_edu/testing/
JOBS  ?= 2

mutation: $(VENV)/.installed-dev
	CI=true $(VENV)/bin/mutmut run --max-children $(JOBS) \
		$(foreach p,$(PATHS),'$(subst /,.,$(patsubst %/,%,$(p:.py=))).*')
	$(PY) tests/mutation_score.py $(PATHS)

# Benchmarks compare against micrograd and PyTorch (CPU build), installed into the venv
# only; they are never dependencies of the package.
bench: $(VENV)/.installed
	$(PIP) install --quiet micrograd 'torch==2.13.0'
	@for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(PY) $$script || exit 1; \
	done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .ruff_cache out mutants

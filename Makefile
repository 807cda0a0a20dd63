# Every target sets up what it needs in .venv first, so each works on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: build test check lint format golden bench preview release clean

build: $(VENV)/.base      ## set up and build the deck into dist/
	$(BIN)/ankibuild

test: $(VENV)/.test $(VENV)/.cards $(VENV)/.browser $(VENV)/.desktop  ## set up and run lint, the strict card check and every test
	$(BIN)/ruff check builder tests bench scripts
	$(BIN)/ruff format --check builder tests bench scripts
	$(BIN)/ankibuild check --strict
	$(BIN)/pytest

check: $(VENV)/.base
	$(BIN)/ankibuild check --strict

lint: $(VENV)/.test
	$(BIN)/ruff check builder tests bench scripts

format: $(VENV)/.test
	$(BIN)/ruff format builder tests bench scripts
	$(BIN)/ruff check --fix builder tests bench scripts

golden: $(VENV)/.test     ## regenerate tests/golden/ after an intended rendering change; review the diff
	$(BIN)/pytest tests/test_render.py --update-golden -q

release: $(VENV)/.base    ## set up and write dist/release/: versioned packages per topic, CHANGES.md, SHA256SUMS
	$(BIN)/ankibuild release

preview: $(VENV)/.base $(VENV)/.browser  ## set up and write dist/preview.html (every card as Anki shows it)
	$(BIN)/ankibuild preview

BENCH_SIZES ?= 10000
bench: $(VENV)/.test      ## benchmark against the naive pipeline: make bench BENCH_SIZES=1000,10000,50000
	$(BIN)/python bench/bench.py --sizes $(BENCH_SIZES)

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# The libraries the cards' code runs on. torch is pinned first: a bare `torch` from PyPI is a
# multi-GB CUDA build, while 2.13.0 resolves to the CPU build on this project's machines.
$(VENV)/.cards: $(VENV)/.test
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test,cards]'
	touch $@

# Chromium (Debian) and MathJax (npm) for the browser tests and the preview; see the script.
$(VENV)/.browser: scripts/install-browser-tools.sh | $(VENV)/.base
	scripts/install-browser-tools.sh
	touch $@

# Anki desktop (aqt, PyPI, the same version as the `anki` test dependency) and Xvfb (Debian) for
# tests/test_desktop.py; see the script.
$(VENV)/.desktop: scripts/install-browser-tools.sh | $(VENV)/.test
	scripts/install-browser-tools.sh desktop
	touch $@

clean:
	rm -rf $(VENV) dist

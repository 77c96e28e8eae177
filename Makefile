# Quick start: `make demo` and `make test` build .venv from nothing (only Python 3.11+ needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast test-notebooks lab lint bench bench-compare bench-imports clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The demo starts over each time (a run folder refuses results of a changed scenario, e.g. after an upgrade).
demo: $(STAMP)
	rm -rf runs/demo
	$(BIN)/ccsim run ecommerce_24x7 -r 4 --seed 1 --out runs/demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -q
	$(MAKE) test-notebooks

# Every notebook top to bottom, with small replication counts (the committed outputs use the notebooks' defaults).
NB_ENV := CCSIM_NB_REPLICATIONS=2 CCSIM_NB_TRIALS=3 CCSIM_NB_WORKERS=1
test-notebooks: $(STAMP)
	$(NB_ENV) $(BIN)/python -m pytest -q --nbmake --nbmake-timeout=600 notebooks

# JupyterLab on notebooks/, with this project's .venv as the kernel's environment.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_engine.py

# Engine speed and start-up of this tree against commit REV (default: main), interleaved in the same run.
REV ?= main
bench-compare: $(STAMP)
	$(BIN)/python bench/bench_engine.py --compare $(REV)

# Where the start-up time of a short `ccsim run` goes, by package and by the ccsim module that imports it.
bench-imports: $(STAMP)
	$(BIN)/python bench/import_report.py -- ccsim run erlang_c_textbook -r 1 --seed 1 --out '{tmp}/run' --no-progress

clean:
	rm -rf $(VENV) runs .pytest_cache

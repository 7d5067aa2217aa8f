# crmlab — the front door. `make help` lists the targets.
#
# Every install takes the exact versions in requirements-lock.txt (a constraints file
# compiled from pyproject.toml by `make lock`), so two installs a month apart get the same
# packages. `make test-latest` tries the newest releases and `make test-min` the lowest
# versions pyproject.toml allows, each in a venv of its own.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PARAMS ?= params/default.yaml
LOCK   := requirements-lock.txt
PYTEST_ARGS := tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider
PY_VERSION  = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

.DEFAULT_GOAL := help
.PHONY: help report test test-latest test-min lock lab bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null

# Reinstall whenever pyproject.toml or the lock changes; the stamp records which extras are in.
$(VENV)/.installed-base: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --constraint $(LOCK) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --constraint $(LOCK) -e ".[dev]"
	touch $@ $(VENV)/.installed-base

$(VENV)/.installed-lab: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --constraint $(LOCK) -e ".[dev,lab]"
	$(BIN)/python -m ipykernel install --sys-prefix --name crmlab --display-name "crmlab (.venv)"
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed-base

report: $(VENV)/.installed-base ## Run the whole chain on params/default.yaml (PARAMS=... to change) and print where the report is
	$(BIN)/crmlab run --params $(PARAMS)

test: $(VENV)/.installed-dev ## Unit, pipeline and notebook (nbval) tests, on the locked versions
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-latest: ## The suite on the newest releases (no lock) in .venv-latest: the early warning before `make lock`
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --upgrade pip >/dev/null
	.venv-latest/bin/python -m pip install --upgrade -e ".[dev]"
	.venv-latest/bin/python -m pip freeze --exclude-editable > .venv-latest/versions.txt
	.venv-latest/bin/python -m pytest $(PYTEST_ARGS)

test-min: $(VENV)/.installed-dev ## The suite on the lowest versions pyproject.toml allows, in .venv-min
	rm -rf .venv-min
	$(BIN)/uv pip compile pyproject.toml --extra dev --resolution lowest-direct \
	    --python-version $(PY_VERSION) --quiet -o .venv-min.txt
	$(PYTHON) -m venv .venv-min
	mv .venv-min.txt .venv-min/versions.txt
	.venv-min/bin/python -m pip install --upgrade pip >/dev/null
	.venv-min/bin/python -m pip install --constraint .venv-min/versions.txt -e ".[dev]"
	.venv-min/bin/python -m pytest $(PYTEST_ARGS)

lock: $(VENV)/.installed-dev ## Refresh requirements-lock.txt to the newest releases pyproject.toml allows (then run make test)
	$(BIN)/uv pip compile pyproject.toml --all-extras --upgrade --python-version $(PY_VERSION) \
	    --custom-compile-command "make lock" -o $(LOCK)

lab: $(VENV)/.installed-lab ## Open the notebooks in JupyterLab (kernel "crmlab (.venv)")
	$(BIN)/jupyter lab notebooks/

bench: $(VENV)/.installed-dev ## Speed / memory / accuracy benchmarks: 3 row orders x 4 tools, the chain at 15M rows (BENCH_ARGS=--quick; see benchmarks/README.md)
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

lint: $(VENV)/.installed-dev ## ruff over the package, tests and notebooks
	$(BIN)/ruff check crmlab tests benchmarks notebooks scripts

clean: ## Remove derived data and run folders (never data/raw)
	rm -rf data/processed outputs .venv-latest .venv-min

help: ## This list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# crmlab — the front door. `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PARAMS ?= params/default.yaml

.DEFAULT_GOAL := help
.PHONY: help report test lab bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null

# Reinstall whenever pyproject.toml changes; the stamp records which extras are in.
$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e . 
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[dev]"
	touch $@ $(VENV)/.installed-base

$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[dev,lab]"
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed-base

report: $(VENV)/.installed-base ## Run the whole chain on params/default.yaml (PARAMS=... to change) and print where the report is
	$(BIN)/crmlab run --params $(PARAMS)

test: $(VENV)/.installed-dev ## Unit, pipeline and notebook (nbval) tests
	$(BIN)/python -m pytest tests notebooks --nbval-lax -p no:cacheprovider

lab: $(VENV)/.installed-lab ## Open the notebooks in JupyterLab
	$(BIN)/jupyter lab notebooks/

bench: $(VENV)/.installed-dev ## Speed / memory / accuracy benchmarks: 3 row orders x 4 tools, the chain at 15M rows (BENCH_ARGS=--quick; see benchmarks/README.md)
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

lint: $(VENV)/.installed-dev ## ruff over the package, tests and notebooks
	$(BIN)/ruff check crmlab tests benchmarks notebooks

clean: ## Remove derived data and run folders (never data/raw)
	rm -rf data/processed outputs

help: ## This list
	@grep -hE '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

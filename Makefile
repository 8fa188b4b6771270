# One way in: `make report` builds everything from the data mirror, `make test` checks it.
# Both create .venv and install the locked dependencies (requirements.lock) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SNAKEMAKE := $(BIN)/snakemake
SMK_ARGS ?=

.PHONY: help setup report check test test-quick notebooks lock dryrun clean-results bench

help:
	@echo "make report      set up .venv, run the pipeline from the data mirror, print the outputs"
	@echo "make test        run the whole test suite (unit, integration, notebooks, browser)"
	@echo "make test-quick  fast unit tests only (edit loop)"
	@echo "make check       retrieve and validate the inputs only, with a per-source summary"
	@echo "make notebooks   open JupyterLab on notebooks/ in the project's environment"
	@echo "make dryrun      show what Snakemake would run, and why"
	@echo "make lock        regenerate requirements.lock from pyproject.toml"

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("INSIEna needs Python 3.11 or 3.12" if sys.version_info[:2] not in ((3, 11), (3, 12)) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

report: $(STAMP)
	@$(BIN)/python -m insiena preflight $(SMK_ARGS)
	$(SNAKEMAKE) $(SMK_ARGS)
	@$(BIN)/python -m insiena outputs $(SMK_ARGS)

dryrun: $(STAMP)
	@$(BIN)/python -m insiena preflight $(SMK_ARGS)
	$(SNAKEMAKE) -n $(SMK_ARGS)

check: $(STAMP)
	$(BIN)/python -m insiena check $(SMK_ARGS)

# The venv is installed with the network ($(STAMP)); the tests then run without it, loopback excepted
# (tools/nonet: a network namespace when unshare works, else a guard in every Python process).
NONET := NONET_PYTHON=$(BIN)/python tools/nonet

test: $(STAMP)
	$(NONET) $(BIN)/python -m pytest

test-quick: $(STAMP)
	$(NONET) $(BIN)/python -m pytest -m "not integration and not browser"

notebooks: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make lock" -o requirements.lock

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean-results:
	rm -rf results data/processed/*/ data/processed/*.parquet data/processed/*.csv logs benchmarks

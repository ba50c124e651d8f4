# The front door: `make report` runs the main job, `make test` runs every test.
# Both create the virtual environment from the lock file when it is missing.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install report validate test lint format lock clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --requirement requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --editable .
	touch $@

install: $(STAMP) ## Create the virtual environment (.venv) from the lock file

report: $(STAMP) ## Run the main job: validate the data, run every notebook, write reports/ and data/processed/
	$(BIN)/detainers report

validate: $(STAMP) ## Check data/raw against every rule
	$(BIN)/detainers validate

test: $(STAMP) ## Run the whole test suite and the linter
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest

lint: $(STAMP) ## Check style with ruff
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: $(STAMP) ## Reformat the code with ruff
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

lock: ## Re-resolve every dependency (transitive too) into requirements.lock
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check ".[dev]" "setuptools>=69"
	{ echo "# Every package the project installs, pinned. Regenerate with: make lock"; \
	  .lock-venv/bin/python -m pip freeze --all --exclude pip --exclude detainer-analysis; } > requirements.lock
	rm -rf .lock-venv

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

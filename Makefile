# The front door: `make report` runs the main job, `make test` runs every test.
# Both create the virtual environment from the lock file when it is missing.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install report reproduce bench validate test suite fuzz lab lint format lock clean screenshot screenshots

# Extra flags for `make lab` (e.g. LAB_FLAGS="--port=9999"); root (as in containers) must say so.
LAB_FLAGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --requirement requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --editable .
	@# An editable install leaves the package uncompiled: compiled once here, as pip compiles what it installs.
	$(BIN)/python -m compileall -q src
	$(BIN)/python -m analysis.pipeline.kernelspec
	touch $@

install: $(STAMP) ## Create the virtual environment (.venv) from the lock file

# An ICE export put at data/ice/detainers.<ext> (with data/ice/agencies.csv) is ingested before the report,
# which then runs the ICE-records notebook on it; data/ice/ is ignored by git.
ICE_EXPORT = $(firstword $(wildcard $(addprefix data/ice/detainers.,parquet csv xlsx dta)))

report: $(STAMP) ## Run the main job: validate the data, run every notebook, write reports/ and data/processed/
ifneq ($(ICE_EXPORT),)
	$(BIN)/detainers ingest-ice $(ICE_EXPORT) --agencies data/ice/agencies.csv --out data/ice/ingested
endif
	$(BIN)/detainers report
	@# What moved since the last commit (nothing when nothing did): the report's own bytes never depend on git.
	@$(BIN)/detainers changes --quiet

# ONLY=RUN re-executes one run of the plan instead of all of them.
ONLY ?=
reproduce: $(STAMP) ## Re-execute everything from scratch; fail, naming the files, if a committed output changes
	$(BIN)/detainers report --force $(if $(ONLY),--only $(ONLY))
	@changed=$$(git status --porcelain --untracked-files=all -- reports data/processed); \
	if [ -n "$$changed" ]; then \
	  echo "these outputs differ from the committed ones:"; echo "$$changed"; exit 1; \
	fi; \
	echo "every committed output in reports/ and data/processed/ reproduces"

bench: $(STAMP) ## Measure the report runner, detainers process and the ICE ingest: speed and memory (not in make test)
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_process.py
	$(BIN)/python benchmarks/bench_big_grid.py
	$(BIN)/python benchmarks/bench_ingest.py

validate: $(STAMP) ## Check data/raw against every rule
	$(BIN)/detainers validate

# Processes of the test session (xdist workers): one more than this machine's 2 cores, so that the cores stay busy
# while a test waits for the processes of a report it started.
TEST_JOBS ?= 3
test: $(STAMP) ## Run the linters and type checker, the whole test suite, and nbval over the committed reports
	@# The linters beside the tests: either failing fails make test, and both say what failed.
	@$(MAKE) --no-print-directory -j2 lint suite

# One pytest session: the tests, and nbval re-executing the committed reports (their figures go to a scratch
# folder), on $(TEST_JOBS) processes, a file's tests (a notebook's cells) in one, the longest files first (conftest's
# LONGEST_FIRST, not xdist's order by number of tests); every failure is listed at the end.
# Every kernel of the session, nbval's included, runs with the hash seed of the report's kernels; nbval's run on
# the project's kernel spec (installed with the environment), so they are forked from a template too.
# Only the plugins the suite uses are loaded: pytest rewrites the asserts of every module of an installed plugin's
# package (all of hypothesis, anyio, typeguard), in every test process, which took a second of each.
TEST_PLUGINS := -p xdist -p xdist.looponfail -p nbval -p hypothesispytest
suite: $(STAMP)
	scratch=$$(mktemp -d) && DETAINERS_OUTPUT_ROOT=$$scratch PYTHONHASHSEED=0 $(BIN)/python -m pytest \
	  --disable-plugin-autoload $(TEST_PLUGINS) -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder tests reports \
	  --nbval --nbval-kernel-name detainers --nbval-sanitize-with tests/nbval_sanitize.cfg; \
	  status=$$?; rm -rf $$scratch; exit $$status

fuzz: $(STAMP) ## Fuzz every entry point with many more generated inputs than make test does (minutes)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -p no:cacheprovider tests/test_fuzz.py

screenshot: $(STAMP) ## Save the landing page as Chromium shows it to docs/landing-page.png (the README's picture)
	$(BIN)/python docs/screenshot.py

screenshots: $(STAMP) ## Photograph the index, a growth page and the claims page at 1,400 and 390 px into reports/screenshots/
	$(BIN)/detainers report --screenshots

lab: $(STAMP) ## Start JupyterLab on the project's kernel (loopback only)
	$(BIN)/jupyter lab --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR) $(ROOT_FLAG) $(LAB_FLAGS)

lint: $(STAMP) ## Check style with ruff and types with mypy
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs
	$(BIN)/mypy

format: $(STAMP) ## Reformat the code with ruff
	$(BIN)/ruff format src tests benchmarks docs
	$(BIN)/ruff check --fix src tests benchmarks docs

lock: ## Re-resolve every dependency (transitive too) into requirements.lock
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check ".[dev]" "setuptools>=69"
	{ echo "# Every package the project installs, pinned. Regenerate with: make lock"; \
	  .lock-venv/bin/python -m pip freeze --all --exclude pip --exclude detainer-analysis; } > requirements.lock
	rm -rf .lock-venv

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

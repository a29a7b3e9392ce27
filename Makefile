# The two set-up commands: `make install` then `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install browser test lint test-fast bench demo clean
DEMO_OUT ?= demo-output

install:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,notebook]'
	@$(MAKE) --no-print-directory browser
	@$(BIN)/dandindex --version

# Debian's chromium for the web page's browser tests (they skip, saying why, without it)
browser:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
		(apt-get install -y -q chromium >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)); } || \
		echo "chromium could not be installed: the browser tests (tests/test_ui.py) will skip"

LINT_DIRS := $(wildcard src tests benchmarks)

lint:
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/ruff format --check $(LINT_DIRS)
	$(BIN)/mypy

# Three workers on two cores: many slow tests wait on stalled sockets, not on the CPU.
TEST_WORKERS ?= 3

test: lint
	DANDI_NO_ET=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

test-fast:
	DANDI_NO_ET=1 $(BIN)/python -m pytest -q -m "not slow"

bench:
	DANDI_NO_ET=1 $(BIN)/python benchmarks/crawl.py

# The offline tour: local archive, crawl with NWB summaries, search, stream, plot (PNGs in DEMO_OUT).
# `make demo ONLINE=1` runs the same tour against the real archive.
demo:
	DANDI_NO_ET=1 $(BIN)/python -m dandindex.demo --out $(DEMO_OUT) $(if $(ONLINE),--online,)

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache

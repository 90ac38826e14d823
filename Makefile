# Two commands on a fresh machine: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench schemas clean chromium

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "cadre-ledger needs Python 3.11+ (found %s)" % sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cadre-ledger run --demo

lint: $(STAMP)
	$(BIN)/ruff check shared services bench tests
	$(BIN)/mypy

# The browser tests drive Chromium (never a browser Playwright downloads): CADRE_CHROMIUM, by default Debian's,
# which apt-get installs when it is missing (as root). Elsewhere, install Chromium and point CADRE_CHROMIUM at it.
CADRE_CHROMIUM ?= /usr/bin/chromium
export CADRE_CHROMIUM
CHROMIUM_HINT := make test needs Chromium for its browser tests: install it (Debian: apt-get install chromium), or set CADRE_CHROMIUM=/path/to/chromium
chromium:
	@test -x "$(CADRE_CHROMIUM)" || ! command -v apt-get >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) || true
	@test -x "$(CADRE_CHROMIUM)" || { echo "$(CHROMIUM_HINT)" >&2; exit 1; }

# The suite runs in TEST_WORKERS processes (pytest-xdist), each with its own servers; a module stays on one
# worker, so its fixtures (a browser, a private system, fixed ports) are never shared across processes.
TEST_WORKERS ?= 2
test: $(STAMP) lint chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench

schemas: $(STAMP)
	$(BIN)/cadre-ledger schemas --write

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

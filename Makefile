# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test lint bench install dev clean browser screenshot native pure

# `pip install -e .` compiles the hot modules with mypyc (setup.py; docs/ARCHITECTURE.md,
# "Compiled core") beside their sources, so .native is up to date after it.
$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e .
	touch $@ $(VENV)/.native

# The extras only (ORDERSCOPE_PURE_BUILD: no second compilation; the compiled modules stay).
# The tests also exercise the benchmark's peer harness, so they install the bench extra too.
$(VENV)/.dev: $(VENV)/.installed
	ORDERSCOPE_PURE_BUILD=1 $(PIP) -e '.[dev,bench]'
	touch $@

$(VENV)/.bench: $(VENV)/.installed
	ORDERSCOPE_PURE_BUILD=1 $(PIP) -e '.[bench]'
	touch $@

# The compiled modules (and the hand-written C: _levels.c) again whenever a source changed: a stale
# extension would run old code (orderscope/_compiled.py falls back to the pure-Python source with
# a warning if one is).
NATIVE_SOURCES := $(shell find src/orderscope -name '*.py' -o -name '*.c' -o -name '*.h') setup.py
$(VENV)/.native: $(VENV)/.installed $(NATIVE_SOURCES)
	$(PIP) 'setuptools>=77' 'mypy>=2.4'
	$(PY) setup.py -q build_ext --inplace
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev

native: $(VENV)/.native

# Back to the pure-Python modules in this checkout (ORDERSCOPE_PURE=1 does it per process).
pure:
	find src -name '*.so' -delete
	rm -f $(VENV)/.native

# The web server fed by emulated venues on loopback: no exchange connection needed.
# e.g. make demo DEMO_ARGS="--port 9000 --no-browser"
demo: $(VENV)/.native
	$(VENV)/bin/orderscope demo $(DEMO_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

# Installed when missing (CI: root on a fresh machine with only the package registries).
$(CHROMIUM):
	@echo "installing Debian's chromium for the dashboard's browser tests"
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update
	DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y chromium

browser: $(CHROMIUM)

test: lint browser native
	ORDERSCOPE_CHROMIUM=$(CHROMIUM) $(VENV)/bin/pytest

# docs/images/dashboard.png, from the demo after a minute and a half of synthetic market.
screenshot: $(VENV)/.dev browser
	ORDERSCOPE_CHROMIUM=$(CHROMIUM) $(PY) -m tests.web.readme_screenshot docs/images/dashboard.png

bench: $(VENV)/.bench $(VENV)/.native
	$(VENV)/bin/orderscope bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
	find src -name '*.so' -delete

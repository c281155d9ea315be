# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test lint bench install dev clean browser screenshot

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e .
	touch $@

# The tests also exercise the benchmark's peer harness, so they install the bench extra too.
$(VENV)/.dev: $(VENV)/.installed
	$(PIP) -e '.[dev,bench]'
	touch $@

$(VENV)/.bench: $(VENV)/.installed
	$(PIP) -e '.[bench]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev

# The web server fed by emulated venues on loopback: no exchange connection needed.
# e.g. make demo DEMO_ARGS="--port 9000 --no-browser"
demo: $(VENV)/.installed
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

test: lint browser
	ORDERSCOPE_CHROMIUM=$(CHROMIUM) $(VENV)/bin/pytest

# docs/images/dashboard.png, from the demo after a minute and a half of synthetic market.
screenshot: $(VENV)/.dev browser
	ORDERSCOPE_CHROMIUM=$(CHROMIUM) $(PY) -m tests.web.readme_screenshot docs/images/dashboard.png

bench: $(VENV)/.bench
	$(VENV)/bin/orderscope bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

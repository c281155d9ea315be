# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: demo test lint bench install dev clean

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

test: lint
	$(VENV)/bin/pytest

bench: $(VENV)/.bench
	$(VENV)/bin/orderscope bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The two set-up commands: `make demo` (the main job) and `make test` (lint, types, tests).
# Both create .venv, install dreamengine into it and install missing Debian packages.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  := torch==2.14.1 torchvision==0.29.1
OUT    ?= out/demo

.PHONY: demo test lint typecheck bench system-deps install clean

demo: install
	$(VENV)/bin/dreamengine demo --out $(OUT)

test: install
	$(VENV)/bin/ruff check dreamengine tests benchmarks priors
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

bench: install
	$(PY) benchmarks/bench_skeleton.py

system-deps:
	bash scripts/system-deps.sh

# The environment is built once; the package itself is reinstalled (non-editable) every time,
# so tests always run against what a user would install, shaders and priors included.
$(VENV)/.deps: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q hatchling ".[dev]"
	touch $@

install: system-deps $(VENV)/.deps
	$(PY) -m pip install -q --no-deps --no-build-isolation --force-reinstall .

clean:
	rm -rf $(VENV) out build dist .pytest_cache .mypy_cache .ruff_cache

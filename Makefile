# Set-up and everyday tasks. Every target creates .venv (and installs fidelity with its
# dev extras) when missing or when pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= demo-output

.PHONY: demo test bench lint docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# the distribution was called "fidelity" before it became "fidelity-leakage"
	$(PY) -m pip uninstall --quiet --yes fidelity 2>/dev/null || true
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/fidelity reproduce --out $(OUT)

test: $(STAMP)
	$(PY) -m ruff check fidelity tests benchmarks
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n 2 --timeout=900

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# The documentation site, offline, warnings as errors; open site/index.html.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

lint: $(STAMP)
	$(PY) -m ruff check fidelity tests benchmarks
	$(PY) -m ruff format --check fidelity tests benchmarks

clean:
	rm -rf $(VENV) $(OUT) site .pytest_cache .ruff_cache

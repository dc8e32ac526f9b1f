# Agent Registry — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMPS := $(VENV)/.stamps

.PHONY: run test lint format semantic bench clean

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"' \
		|| { echo "error: Python 3.11+ is required (set PYTHON=python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Re-install only when a requirements file changes.
$(STAMPS)/runtime: requirements.txt | $(PY)
	$(PIP) install -q -r requirements.txt
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -q -r requirements-dev.txt
	@mkdir -p $(STAMPS) && touch $@ $(STAMPS)/runtime

$(STAMPS)/semantic: requirements-semantic.txt | $(PY)
	$(PIP) install -q -r requirements-semantic.txt
	@mkdir -p $(STAMPS) && touch $@

run: $(STAMPS)/runtime
	$(PY) -m core init-db
	$(PY) -m core seed-demo --first-run
	@bash scripts/run-dev.sh

test: $(STAMPS)/dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMPS)/dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMPS)/dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Optional: sentence-transformers embeddings (CPU torch).
semantic: $(STAMPS)/semantic

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

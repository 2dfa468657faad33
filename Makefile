# Two commands set everything up on a fresh machine: `make run` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= out/sample-audit

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Audit sample_reports/ into $(OUT); exits 0 when the run completed, whatever the verdicts.
run: install
	$(BIN)/tbs-doccheck audit sample_reports --out $(OUT) --exit-zero --force
	@echo "wrote $(OUT)/report.html, results.csv, results.jsonl, summary.json"

## Run the test suite.
test: install
	$(BIN)/python -m pytest -q

## Lint with ruff (configuration in pyproject.toml).
lint: install
	$(BIN)/ruff check .

## Measure throughput (see README, Performance).
bench: install
	$(BIN)/tbs-doccheck bench

clean:
	rm -rf $(VENV) out .pytest_cache

## report.html at scale: audit 5,000 and 20,000 generated reports, open each page in headless Chromium,
## print its size and time until usable (targets: 20,000 -> <= 25 MB and <= 2 s; 5,000 -> <= 8 MB).
.PHONY: html-scale
html-scale: install
	$(BIN)/python scripts/html_scale.py

# Two commands do all set-up:  `make run` (full embedded pipeline) and `make test` (the test suite).
# Both create .venv and install the pinned dependencies when missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test smoke dry-run bench plots readme screenshot browser clean-results help

help:
	@echo "make run    - full embedded-default pipeline (snakemake --cores all), results in results/"
	@echo "make test   - the test suite (unit, env contract, config, end-to-end smoke)"
	@echo "make smoke  - the pipeline on config/smoke.yaml (a few minutes)"
	@echo "make bench  - rollout throughput benchmark (benchmarks/rollout_throughput.py)"
	@echo "make plots  - dvc plots show with an offline template -> results/dvc_plots/index.html"
	@echo "make readme - copy results/tables/main.md into README.md (after a grid)"
	@echo "make screenshot - results/report.html in headless Chromium -> docs/report.png"

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(BIN)/pip install --quiet -r requirements.txt 2>&1 | grep -v "is ignored" || true
	$(BIN)/pip install --quiet --no-deps -e . 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import torch, transformers, snakemake, dvc, bao" 
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores all
	@echo "Report: results/report.html (tables in results/tables/, figures in results/figures/)"
	@echo "Open it: xdg-open results/report.html  (or: python3 -m http.server -d results, then http://localhost:8000/report.html)"
	@echo "Next: make test; one piece: .venv/bin/snakemake --cores all --config gyms=\"[function]\"; play a gym: .venv/bin/python -m bao.play --gym function"

smoke: $(STAMP)
	$(BIN)/snakemake --cores all --configfile config/smoke.yaml

dry-run: $(STAMP)
	$(BIN)/snakemake -n

# the report's browser test needs Chromium: installed from Debian's packages when missing and possible (root + apt)
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) \
	  && echo "installed $$(chromium --version)"; } || echo "no Chromium: the report's browser test will skip (CI fails it)"

test: $(STAMP) browser
	$(BIN)/python -m pytest -q --durations=15

bench: $(STAMP)
	$(BIN)/python benchmarks/rollout_throughput.py

plots: $(STAMP)
	$(BIN)/python -m bao.dvc_plots --out results/dvc_plots

readme: $(STAMP)
	$(BIN)/python -m bao.readme

screenshot: $(STAMP) browser
	$(BIN)/python -m bao.report_check results/report.html --screenshot docs/report.png

clean-results:
	rm -rf results/* .snakemake
	touch results/.gitkeep

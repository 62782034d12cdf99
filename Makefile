# lightning-zoo: every target sets itself up (a virtual environment in .venv, created on first use).
#   make recipe NAME=gru_lyrics [ARGS="--trainer.max_epochs 10"]   train a book experiment
#   make test                                                     the offline test suite
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

NAME ?=
ARGS ?=
CKPT ?=
BENCH ?=
IMAGES ?=
PREFIX ?=
NAMES ?=

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

.PHONY: help install test lint recipe list generate classify bench results docs clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install the zoo with its test tools

test: $(STAMP) ## Run the offline test suite (no network, CPU)
	$(PY) -m pytest -q

lint: $(STAMP) ## ruff over the code
	$(VENV)/bin/ruff check zoo datamodules tests bench

recipe: $(STAMP) ## Train a recipe: make recipe NAME=gru_lyrics [ARGS="..."]
	@if [ -z "$(NAME)" ]; then echo "usage: make recipe NAME=<recipe> [ARGS=\"...\"]; recipes:"; $(PY) -m zoo list; exit 2; fi
	$(PY) -m zoo recipe $(NAME) $(ARGS)

list: $(STAMP) ## Every recipe with a one-line description
	@$(PY) -m zoo list

generate: $(STAMP) ## Text from a checkpoint: make generate CKPT=path [PREFIX=分开] [ARGS="--length 100"]
	@if [ -z "$(CKPT)" ]; then echo "usage: make generate CKPT=<checkpoint> [PREFIX=<text>] [ARGS=\"--temperature 0.8\"]"; exit 2; fi
	$(PY) -m zoo generate --ckpt "$(CKPT)" $(if $(PREFIX),--prefix "$(PREFIX)") $(ARGS)

classify: $(STAMP) ## Classify image files with a checkpoint: make classify CKPT=path IMAGES="a.jpg b.png"
	@if [ -z "$(CKPT)" ] || [ -z "$(IMAGES)" ]; then echo "usage: make classify CKPT=<checkpoint> IMAGES=\"a.jpg b.png\" [ARGS=\"--top-k 2\"]"; exit 2; fi
	$(PY) -m zoo classify --ckpt "$(CKPT)" $(ARGS) $(IMAGES)

bench: $(STAMP) ## Benchmarks vs plain PyTorch, then a summary table: make bench [BENCH=gru_lyrics] [ARGS="--epochs 60"]
	@set -o pipefail; mkdir -p runs/bench; \
	known="$$(ls bench/[!_]*.py | xargs -n1 basename | sed 's/\.py//' | grep -vx -e summary -e gpu_throughput | tr '\n' ' ')"; \
	if [ -n "$(BENCH)" ]; then echo " $$known " | grep -q " $(BENCH) " || { echo "unknown bench '$(BENCH)'; known: $$known"; exit 2; }; names="$(BENCH)"; \
	else names="$$known"; fi; failed=""; logs=""; \
	for b in $$names; do echo "== bench/$$b.py (log: runs/bench/$$b.log)"; logs="$$logs runs/bench/$$b.log"; \
	  $(PY) bench/$$b.py $(if $(BENCH),$(ARGS)) 2>&1 | tee runs/bench/$$b.log || failed="$$failed $$b"; done; \
	echo; $(PY) bench/summary.py $$logs; \
	if [ -n "$$failed" ]; then echo "benches that failed:$$failed"; exit 1; fi

results: $(STAMP) ## Run recipes, write results/<recipe>.json, rewrite the README tables: make results [NAMES="gru_lyrics ..."]
	$(PY) -m zoo results $(NAMES) $(ARGS)

docs: $(STAMP) ## Build the documentation site (docs/*.md) into runs/site, strict: any warning fails
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir runs/site

clean: ## Remove the virtual environment and run outputs (never the data cache)
	rm -rf $(VENV) runs lightning_logs

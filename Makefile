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

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

.PHONY: help install test lint recipe list generate classify bench clean

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

bench: $(STAMP) ## Benchmarks vs plain PyTorch: make bench [BENCH=gru_lyrics] [ARGS="--epochs 60"]
	@if [ -n "$(BENCH)" ]; then test -f bench/$(BENCH).py || { echo "unknown bench '$(BENCH)'; known: $$(ls bench/[!_]*.py | xargs -n1 basename | sed 's/\.py//' | tr '\n' ' ')"; exit 2; }; \
	  $(PY) bench/$(BENCH).py $(ARGS); \
	else for f in bench/[!_]*.py; do echo "== $$f"; $(PY) $$f || exit 1; done; fi

clean: ## Remove the virtual environment and run outputs (never the data cache)
	rm -rf $(VENV) runs lightning_logs

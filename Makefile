# The two commands a fresh machine needs (README): `make demo` and `make test`.
# Each creates or refreshes .venv idempotently: pip runs again only when pyproject.toml changes.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= runs/demo

.PHONY: demo test lint typecheck unit setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned to the CPU build that lies on disk (a range would pull a CUDA build).
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# tinysoundfont renders `bandmate synth`; --no-deps because it requires pyaudio (live
	# playback only), which does not build without portaudio. So it is not in pyproject.
	$(BIN)/python -m pip install --quiet --no-deps tinysoundfont==0.3.7
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bandmate demo --out $(DEMO_OUT) $(if $(TRAIN),--train)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck unit

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache

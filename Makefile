# The two commands a fresh machine needs (README): `make demo` and `make test`.
# Each creates or refreshes .venv idempotently: pip runs again only when pyproject.toml changes.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= runs/demo
# The reserved (test-only) timbres of `bandmate synth --timbres reserved`; the list of
# files is src/bandmate/data/reserved.py (DEBIAN_PACKAGES).
TIMBRE_PACKAGES := fluid-soundfont-gm musescore-general-soundfont avldrums.lv2
# The pool of the default `bandmate synth --timbres varied` beyond pretty_midi's TimGM6mb
# (src/bandmate/synth/timbres.py): two General MIDI fonts and Hydrogen's recorded kits.
POOL_PACKAGES := csound-soundfont opl3-soundfont hydrogen-drumkits
SOUNDS := /usr/share/sounds

.PHONY: demo test lint typecheck unit setup timbres clean

setup: $(STAMP) timbres

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

# Installs the reserved-timbre SoundFonts and the varied pool's fonts and kits from Debian
# where set-up may (root, apt-get) and they are missing; otherwise says in one line how.
# Never fails: without them the reserved set cannot be rendered and the pool is smaller.
timbres:
	@if [ -f $(SOUNDS)/sf2/FluidR3_GM.sf2 ] && [ -f $(SOUNDS)/sf2/Black_Pearl_4_LV2.sf2 ] \
		&& ls $(SOUNDS)/sf[23]/MuseScore_General*.sf[23] >/dev/null 2>&1 \
		&& [ -f $(SOUNDS)/sf2/sf_GMbank.sf2 ] && [ -f $(SOUNDS)/sf2/OPL-3_FM_128M.sf2 ] \
		&& [ -d /usr/share/hydrogen/data/drumkits ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing the synth timbres: $(TIMBRE_PACKAGES) $(POOL_PACKAGES)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			$(TIMBRE_PACKAGES) $(POOL_PACKAGES); } >/dev/null 2>&1 \
		|| echo "synth timbres unavailable: apt-get install $(TIMBRE_PACKAGES) $(POOL_PACKAGES) failed"; \
	else \
		echo "synth timbres missing; to install them: sudo apt-get install $(TIMBRE_PACKAGES) $(POOL_PACKAGES)"; \
	fi

demo: $(STAMP) timbres
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

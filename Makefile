# Every target sets itself up from a fresh clone: the virtualenv is created and the
# package installed (editable, with test tools) the first time anything needs it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORE   := inferd_tui/_lazy.py inferd_tui/proto inferd_tui/client inferd_tui/grammar inferd_tui/mock_daemon \
          inferd_tui/conversation.py inferd_tui/attaching.py inferd_tui/session.py inferd_tui/store inferd_tui/settings.py \
          inferd_tui/settings_cli.py inferd_tui/conversations_cli.py inferd_tui/persistence.py inferd_tui/runtime.py \
          inferd_tui/daemon_state.py inferd_tui/text_safety.py inferd_tui/humanize.py inferd_tui/files.py \
          inferd_tui/headless inferd_tui/request_options.py inferd_tui/structured.py inferd_tui/schema_examples

.PHONY: demo test lint typecheck pytest bench fuzz screenshots snapshots-update install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/inferd-tui --demo

lint: $(STAMP)
	$(BIN)/ruff check inferd_tui tests benchmarks scripts fuzz
	$(BIN)/ruff format --check inferd_tui tests benchmarks scripts fuzz

typecheck: $(STAMP)
	$(BIN)/mypy --strict $(CORE)

pytest: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck pytest

# Long runs of every decoder (10,000+ examples each); not part of `make test`.
fuzz: $(STAMP)
	$(BIN)/python -m pytest fuzz -q

# Every benchmark runs even after a miss; the exit status says whether any target was missed.
bench: $(STAMP)
	$(BIN)/python scripts/bench.py

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

snapshots-update: $(STAMP)
	$(BIN)/python -m pytest tests/snapshots --snapshot-update

clean:
	rm -rf $(VENV) build dist *.egg-info

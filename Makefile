# groupdesk: `make run` starts everything on this machine; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test bench bench-smoke record-histories clean

CHROMIUM := /usr/bin/chromium

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "groupdesk needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# The browser tests drive Debian's chromium (Playwright cannot download browsers here),
# with a CJK font so the Chinese pages render in screenshots.
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei

install: $(STAMP)

run: install
	$(BIN)/groupdesk dev

test: install $(CHROMIUM) bench-smoke
	$(BIN)/python -m pytest

# A tiny mass event: fails if any SMS is stored twice or lost.
bench-smoke: install
	$(BIN)/python bench/mass_event.py --smoke

# The full benchmarks: mass event against the bare-Temporal baseline, live incidents, drill costs.
bench: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	$(BIN)/python bench/mass_event.py --incidents 300
	$(BIN)/python bench/mass_event.py --incidents 200 --time-scale 600
	$(BIN)/python bench/mass_event.py --live 100,1000
	$(BIN)/python bench/drill_incident.py --encrypt

record-histories: install
	$(BIN)/python tests/record_histories.py

clean:
	rm -rf $(VENV) .groupdesk *.egg-info

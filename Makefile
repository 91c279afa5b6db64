# groupdesk: `make run` starts everything on this machine; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test record-histories clean

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

test: install $(CHROMIUM)
	$(BIN)/python -m pytest

record-histories: install
	$(BIN)/python tests/record_histories.py

clean:
	rm -rf $(VENV) .groupdesk *.egg-info

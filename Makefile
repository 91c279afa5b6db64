# groupdesk: `make run` starts everything on this machine; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast bench bench-smoke record-histories clean postgresql constraints

CHROMIUM := /usr/bin/chromium

# constraints.txt pins every dependency (pip freeze of a working install): two builds install the same.
# uv (itself pinned there) installs them: the same packages as pip, in about 6 s instead of about 75 s. It does not
# compile them to bytecode (that was 65 CPU-s, most of it for packages no process imports, such as sympy and cfnlint
# under moto): what make runs writes the bytecode of what it imports as it imports it, whatever the environment's
# PYTHONDONTWRITEBYTECODE says (set empty here, for every command), so the first start compiles and the later ones
# read it back. In the suite that matters: each process it starts (workers, consoles, CLI runs) would otherwise
# compile groupdesk and its libraries from source, and each pytest process rewrite every test module's asserts.
export PYTHONDONTWRITEBYTECODE =
PIP := $(BIN)/python -m uv pip install --quiet --python $(BIN)/python -c constraints.txt

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "groupdesk needs Python 3.11 or newer")'
	@# the venv gets no pip of its own (ensurepip took 7 s): this Python's pip puts uv in, or else the venv's own
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python install --quiet --disable-pip-version-check -c constraints.txt uv \
	  || { $(BIN)/python -m ensurepip --default-pip && $(BIN)/python -m pip install --quiet -c constraints.txt uv; }
	$(PIP) -e '.[test]'
	touch $(STAMP)

# After changing dependencies in pyproject.toml: install without the pins, test, then pin what works.
constraints:
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python --upgrade -e '.[test]'
	{ echo "# Pinned versions of every dependency (pip freeze of a working install), used with pip install -c"; \
	  echo "# by the Makefile, the Dockerfile and CI so two builds install the same. Refresh: make constraints."; \
	  $(BIN)/python -m uv pip freeze --python $(BIN)/python --exclude-editable | grep -v -i '^groupdesk'; } > constraints.txt

# The browser tests drive Debian's chromium (Playwright cannot download browsers here),
# with a CJK font so the Chinese pages render in screenshots.
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei

# The storage tests run on a throwaway PostgreSQL cluster (tests/pg_cluster.py): Debian's server binaries.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

install: $(STAMP)

run: install
	$(BIN)/groupdesk dev

# The whole suite, every tier, on 4 processes (a test file stays on one, with its module's dev server):
# most of a test's time is spent waiting on a Temporal server, a subprocess or a browser, not on the CPU.
# The bench smoke runs inside it (tests/test_bench_smoke.py), beside the other files rather than before them.
test: install $(CHROMIUM) postgresql
	$(BIN)/python -m pytest -n 4 --dist loadfile --no-loadscope-reorder

# The tests that need nothing but their own process: no Temporal, PostgreSQL, fake provider API, browser or
# subprocess (tests/conftest.py marks the rest `server`). About 45 s on 2 cores (a minute on a fresh clone, which compiles as it imports): a quick check while editing.
test-fast: install
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not server"

# A tiny mass event: fails if any SMS is stored twice or lost (make test runs it as tests/test_bench_smoke.py).
bench-smoke: install
	$(BIN)/python bench/mass_event.py --smoke

# The full benchmarks: mass event against the bare-Temporal baseline, live incidents, drill costs.
bench: install
	$(PIP) -e '.[test,bench]'
	$(BIN)/python bench/mass_event.py --incidents 300 --runs 3 --eager-burst --profile worker_profile.svg
	$(BIN)/python bench/mass_event.py --live 1000,5000 --runs 3
	$(BIN)/python bench/drill_incident.py --encrypt

record-histories: install
	$(BIN)/python tests/record_histories.py

clean:
	rm -rf $(VENV) .groupdesk *.egg-info

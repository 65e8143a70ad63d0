# The two commands: `make run` (the demo) and `make test` (every test and check).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest bench clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The demo: embedded PostgreSQL and Redis under ./var (unless DATABASE_URL / REDIS_URL are set),
# migrations, the demo discom seeded once, web on :5000 (`make run PORT=8080 HOST=0.0.0.0`) and an
# RQ worker whose log goes to var/log/worker.log (the start-up banner stays on screen).
PORT ?= 5000
HOST ?= 127.0.0.1
run: install
	$(BIN)/flask --app wsgi run-demo --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Browser tests need Debian's Chromium (Playwright's own download needs the internet): installed
# with apt-get as CI does (.ci/run) when missing; without root, a message saying how.
CHROMIUM ?= /usr/bin/chromium
APT_GET ?= apt-get
USER_ID ?= $(shell id -u)
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$(USER_ID)" != 0 ]; then \
	    echo "Browser tests need Debian's chromium at $(CHROMIUM): run 'sudo apt-get install chromium' (or make test as root)." >&2; \
	    exit 1; \
	  fi; \
	  $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq chromium; \
	fi

# Two pytest-xdist workers (one per core), each with its own database and Redis database
# (tests/settings.py); a file's tests stay on one worker. `make test PYTEST_WORKERS=0` runs serially.
PYTEST_WORKERS ?= 2
pytest: install browser
	$(BIN)/python -m pytest $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadfile)

test: lint typecheck pytest

# Every benchmark at full size (tens of minutes), or `make bench QUICK=1` for small sizes.
bench: install
	$(BIN)/python benchmarks/run_all.py $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

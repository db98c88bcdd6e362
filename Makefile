# Every Seat: `make run` serves the app with the sample library; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
FLASK := $(BIN)/flask --app app
# gunicorn's own limit on the request line (4094 bytes by default) answers a long URL with
# its bare "Request Line is too large"; 0 lifts it (gunicorn still stops at 1 MB), so the
# app answers URLs over 8 KB with its own 414 page (casestudies/web.py, MAX_URL_BYTES).
GUNICORN_LIMITS := --limit-request-line 0

.PHONY: run test test-fast audit-deps test-postgres deps assets setup lint bench bench-large loadtest relevance clean cluster-demo lighthouse

# Stamps make a second `make run` quick: nothing is reinstalled unless its inputs changed.
$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The build reads nhsuk-frontend-jinja's macros from .venv (to keep only the CSS they use)
# and the templates.
static/build/.built: node_modules/.installed $(BIN)/.installed $(shell find assets templates -type f 2>/dev/null)
	npm run --silent build
	touch $@

deps: $(BIN)/.installed node_modules/.installed
assets: static/build/.built

# umask 077: the database, the search index and instance/ (with its secret-key) are
# readable by their owner only.
setup: deps assets
	umask 077 && $(FLASK) setup-demo

run: setup
	@echo "Serving Every Seat on http://$(HOST):$(PORT) (Ctrl+C to stop)"
	@$(FLASK) mail where
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --no-control-socket $(GUNICORN_LIMITS) --access-logfile - 'app:create_app()'

# Two processes (pytest-xdist), each with its own browser, servers and databases: the suite,
# browsers and PDFs included, took 10 min 41 s and 11 min 38 s in two runs on an idle 2-core machine on 2026-12-08, over
# its 10-minute budget (1,629 tests; browser and PDF tests and the two memory tests take most of it).
test: deps assets
	.ci/static-checks
	$(BIN)/python -m pytest -n 2 $(ARGS)

# Known vulnerabilities in the pinned Python packages (needs the vulnerability service).
audit-deps: deps
	.ci/pip-audit

# The edit-test loop: everything but browser, PDF, hostile-matrix and other slow tests.
# Not yet under its 90 s target: 1,356 tests in 130 s on an idle 2-core machine (most of a
# test's cost is its own app and its first queries; see README, "Command line").
# `make test-fast ARGS=--lf` reruns what failed last time.
test-fast: deps assets
	$(BIN)/python -m pytest -n 2 -m "not slow and not browser and not pdf and not hostile" $(ARGS)

# The suite (browser tests aside) against a real PostgreSQL server. TEST_DATABASE_URL names
# a user who may create databases; each test gets its own copy of a migrated template.
TEST_DATABASE_URL ?= postgresql+psycopg://every_seat:every_seat@127.0.0.1/postgres
test-postgres: deps assets
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest -m "not browser and not sqlite_only"

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf static/build node_modules $(VENV) .pytest_cache

# Two servers on this machine against a local PostgreSQL, behind nginx on 127.0.0.1:8080
# with no sticky sessions (deploy/cluster-demo.sh; needs Debian's nginx and postgresql, and
# root or sudo). Ctrl+C stops everything it started. `make cluster-demo ARGS=--fresh` starts
# from an empty database; NGINX_PORT, PORT_A, PORT_B change the ports.
cluster-demo: deps assets
	deploy/cluster-demo.sh $(ARGS)

# The benchmark (bench/run.py): import, edits and search at 1,000 and 10,000 cases, with
# an SQLite FTS5 baseline in the same run; prints a table and writes bench/results.json.
bench: deps
	$(BIN)/python -m bench.run --sizes 1000 10000

bench-large: deps
	$(BIN)/python -m bench.run --sizes 1000 10000 50000

# Search relevance on the sample library (bench/relevance.py): the judged queries of
# tests/relevance/judgements.yaml through the app and through an FTS5 baseline; nDCG@10,
# MRR and recall@10 per group of queries.
relevance: deps
	$(BIN)/python -m bench.relevance

# Not part of `make test`: 60 s of mixed traffic against gunicorn with 4 workers on 127.0.0.1.
loadtest: deps assets
	$(BIN)/python -m bench.loadtest --seconds 60 --clients 16 --workers 4

# Lighthouse (mobile) on the home, search results and case pages of the sample library,
# served by gunicorn on a free port (bench/lighthouse.sh). Lighthouse is installed
# separately, outside the project: `npm i -E lighthouse@12.2.3 --prefix
# ~/.cache/every-seat/lighthouse --no-audit --no-fund` (LIGHTHOUSE_PREFIX names another folder).
lighthouse: deps assets
	bench/lighthouse.sh

# Tessera: `make run` serves the desk, `make test` runs every test. Both set themselves up.
SHELL := /bin/sh
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Settings read PORT too: links in mail point at the port the desk serves on.
export PORT
export TESSERA_DATA_DIR ?= $(CURDIR)/var
PIP_FLAGS := --quiet --disable-pip-version-check --no-input

.PHONY: run test setup setup-dev messages lint format clean bench-data bench bench-ingest audit

$(VENV)/bin/python:
	@PYTHON=$$(scripts/find-python) || exit 1; \
	echo "Creating $(VENV) with $$PYTHON"; \
	"$$PYTHON" -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	@echo "Installing pinned dependencies…"
	@$(PY) -m pip install $(PIP_FLAGS) -r requirements.txt 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	@$(PY) -c "import django, environ, nh3, gunicorn, aiosmtpd, django_otp, django_otp_webauthn, segno, filetype, polib" || { echo "Dependency install failed." >&2; exit 1; }
	@touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	@echo "Installing pinned test dependencies…"
	@$(PY) -m pip install $(PIP_FLAGS) -r requirements-dev.txt 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	@$(PY) -c "import pytest, playwright, aiosmtpd, mypy, mypy_django_plugin" || { echo "Dependency install failed." >&2; exit 1; }
	@touch $@

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

# The translations (locale/*/LC_MESSAGES/django.po) compiled to .mo, which are build output: with
# GNU msgfmt where installed, else in pure Python (tessera/i18n's compilemessages). Only changed
# catalogues are compiled again.
messages: setup
	@$(PY) manage.py compilemessages -v0

# The desk's background work goes through the database (django-tasks-db): run_desk starts the web
# server, the task worker and the scheduler (SLA alerts, mail polling, retries) side by side.
# The cache is shared by the processes (API key and intake limits must hold across workers): the
# database's, in the same SQLite file, unless CACHE_URL names another.
run: export TASKS_BACKEND ?= database
run: export CACHE_URL ?= dbcache://tessera_cache
run: setup messages
	@$(PY) manage.py migrate --no-input
	@$(PY) manage.py createcachetable
	@$(PY) manage.py seed_demo --if-empty
	@$(PY) manage.py collectstatic --no-input -v0
	@echo "Tessera is serving on http://127.0.0.1:$(PORT)/ (portal) and http://127.0.0.1:$(PORT)/staff/ (agents), with its task worker and scheduler. Ctrl-C stops them."
	@exec $(PY) manage.py run_desk --bind 127.0.0.1:$(PORT) --workers 2

# One pytest-xdist worker per core (TEST_WORKERS=0 runs in one process, e.g. to debug); a module
# marked xdist_group stays on one worker, so its module-scoped desk is built once.
TEST_WORKERS ?= auto
test: setup-dev messages
	@$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Benchmarks (bench/RESULTS.md): fill the database DATABASE_URL names, then measure it over HTTP.
TICKETS ?= 100000
bench-data: setup
	@$(PY) -m bench.generate --tickets $(TICKETS) $(BENCH_DATA_ARGS)

bench: setup
	@$(PY) -m bench.run $(BENCH_ARGS)

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Known vulnerabilities in the pinned requirements (docs/security.md): fails on any found, and
# names every package it could not check (TESSERA_AUDIT_STRICT=1 fails on those too, for a
# machine that reaches the vulnerability service). AUDIT_SERVICE=osv or pypi.
audit: setup-dev
	@$(PY) scripts/audit_dependencies.py -r requirements.txt -r requirements-dev.txt

format: setup-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var

# Email ingest throughput (bench/RESULTS.md): DATABASE_URL names a fresh database; mail is not sent.
bench-ingest: setup
	@$(PY) -m bench.ingest $(BENCH_INGEST_ARGS)

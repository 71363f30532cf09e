# The two commands: `make run` (demo on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=
# The platform simulator (`flask simulate`): its port is also the demo integrations' base URL.
SIMULATOR_PORT ?= 5001
SIMULATOR_RATE ?= 2
export SIMULATOR_PORT
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint install install-dev migrate seed worker clean-db

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

install: $(VENV)/.installed

# Test and tooling packages (pytest, playwright, hypothesis, ruff) on top of the app's own.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

# Three processes: the worker and the platform simulator in the background, the web server in the
# foreground; Ctrl+C stops all three (the trap stops the background two with SIGTERM, and they exit
# cleanly so the embedded PostgreSQL they share stops with the last of them).
run: seed
	@echo "Serving the portal on http://$(HOST):$(PORT) — sign in as admin@sample-restaurant.com / password123"; \
	echo "Platform simulator on http://127.0.0.1:$(SIMULATOR_PORT)/ — $(SIMULATOR_RATE) orders a minute to the portal"; \
	$(FLASK) worker & worker=$$!; \
	$(FLASK) simulate --rate $(SIMULATOR_RATE) --port $(SIMULATOR_PORT) --portal-url http://127.0.0.1:$(PORT) & \
	simulator=$$!; \
	trap 'kill $$worker $$simulator 2>/dev/null; wait $$worker $$simulator 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check portal tests bench scripts wsgi.py

# The worker alone (outbound platform calls, retries, scheduled jobs), for when the web runs elsewhere.
worker: migrate
	$(FLASK) worker

# Forget the embedded database (instance/pgdata); the next `make run` starts from scratch.
clean-db:
	rm -rf instance/pgdata

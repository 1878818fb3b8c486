# The two commands: `make run` brings the whole system up on this machine's
# PostgreSQL, Redis and RabbitMQ; `make test` installs what it needs and runs
# the whole suite.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DISTS := shared services/auth services/wishlists services/notifier gateway
SERVICES := auth wishlists notifier
STAMP := $(VENV)/.installed

# A developer's .env (see .env.example) applies to every target.
ifneq (,$(wildcard .env))
include .env
export
endif

.PHONY: run smoke test lint fmt install bootstrap-db migrate lock clean

$(STAMP): requirements/dev.txt $(addsuffix /pyproject.toml,$(DISTS))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation $(addprefix -e ,$(DISTS))
	@touch $@

install: $(STAMP)

# One schema and one login role per service; each role may touch only its own.
bootstrap-db: $(STAMP)
	$(BIN)/python -m wishlist_shared.db.bootstrap $(SERVICES)

migrate: bootstrap-db
	@for s in $(SERVICES); do \
		echo "== migrating $$s"; \
		(cd services/$$s && ../../$(BIN)/alembic upgrade head) || exit 1; \
	done

run: migrate
	$(BIN)/python deploy/local/run.py

# Starts `make run` on spare ports, waits for the gateway's /readyz, stops it.
smoke: $(STAMP)
	deploy/local/smoke.sh

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared/src services/auth/src services/wishlists/src services/notifier/src gateway/src deploy/local

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-pin every Python dependency with hashes after a pyproject.toml changes.
lock:
	$(BIN)/uv pip compile --python-version 3.11 --generate-hashes --no-header \
		--annotation-style line $(foreach d,shared auth wishlists notifier gateway,--no-emit-package wishlist-$(d)) \
		requirements/dev.in -o requirements/dev.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

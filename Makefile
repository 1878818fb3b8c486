# The two commands: `make run` brings the whole system up on this machine's
# PostgreSQL, Redis and RabbitMQ; `make test` installs what it needs and runs
# the whole suite.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DISTS := shared services/auth services/wishlists services/notifier gateway
SERVICES := auth wishlists notifier
STAMP := $(VENV)/.installed
WEB := frontend
WEB_STAMP := $(WEB)/node_modules/.installed
# Debian's Chromium for the browser tests (a test tool's own download fails here).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# A developer's .env (see .env.example) applies to every target.
ifneq (,$(wildcard .env))
include .env
export
endif

.PHONY: run dev smoke test faults bench soak lint fmt install web-install system-packages api-types bootstrap-db migrate lock clean

$(STAMP): requirements/dev.txt $(addsuffix /pyproject.toml,$(DISTS))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation $(addprefix -e ,$(DISTS))
	@touch $@

install: $(STAMP)

# The web app's packages, exactly as package-lock.json pins them.
$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

web-install: $(WEB_STAMP)

# Debian packages the tests drive: Chromium (browser tests), nginx (the edge
# proxy's tests), wrk (the benchmarks' HTTP load) and Prometheus's promtool
# (the alert rules' tests). Installed only when missing.
system-packages:
	@missing=""; \
	test -x $(CHROMIUM) || missing="$$missing chromium chromium-driver"; \
	test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	test -x /usr/bin/wrk || missing="$$missing wrk"; \
	test -x /usr/bin/promtool || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then \
		echo "== installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# After an API change: the OpenAPI document the web app is typed from, and its types.
api-types: $(STAMP) $(WEB_STAMP)
	$(BIN)/python deploy/local/openapi_document.py
	cd $(WEB) && npm run --silent api:types

# One schema and one login role per service; each role may touch only its own.
bootstrap-db: $(STAMP)
	$(BIN)/python -m wishlist_shared.db.bootstrap $(SERVICES)

migrate: bootstrap-db
	@for s in $(SERVICES); do \
		echo "== migrating $$s"; \
		(cd services/$$s && ../../$(BIN)/alembic upgrade head) || exit 1; \
	done

run: migrate $(WEB_STAMP)
	$(BIN)/python deploy/local/run.py

# As `make run`, with the web app on `next dev` (hot reload) instead of a build.
dev: migrate $(WEB_STAMP)
	WEB_MODE=dev $(BIN)/python deploy/local/run.py

# Starts `make run` on spare ports, waits for the gateway's /readyz, stops it.
smoke: $(STAMP) $(WEB_STAMP)
	deploy/local/smoke.sh

# PYTEST_WORKERS pytest-xdist workers run independent tests side by side; tests
# that share a platform (or the fault suite's servers) stay on one worker
# (wishlist_shared.testing.parallel). Much of the suite waits (outages the fault
# suite sits out, browsers, readiness), so two workers on this 2-core machine
# overlap one's waiting with the other's work. More workers pay on a server
# with more cores and a larger max_connections: each test platform holds up to
# 8 connections a service (wishlist_shared.testing.stack).
PYTEST_WORKERS ?= 2

test: $(STAMP) $(WEB_STAMP) system-packages
	cd $(WEB) && npm run --silent test
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The fault suite alone, on servers of its own (it is part of `test` too, one
# round of each fault): three rounds of every fault, a database locked out for
# 60 s; FAULTS=redis,gateway picks some, FAULT_ROUNDS=1 fewer rounds.
faults: $(STAMP)
	FAULT_ROUNDS=$${FAULT_ROUNDS:-3} FAULT_DB_OUTAGE_SECONDS=$${FAULT_DB_OUTAGE_SECONDS:-60} \
		$(BIN)/pytest tests/system/faults $(PYTEST_ARGS)

# Every benchmark scenario (under 15 minutes), rewriting BENCHMARKS.md and
# docs/bench/; BENCH_ARGS="--only gateway-hop" runs some, without writing.
bench: $(STAMP) system-packages
	$(BIN)/python tests/bench/bench.py $(BENCH_ARGS)

# A few hundred locust users on the whole platform for a few minutes; fails on
# any failed request, memory growth, or an outbox left behind (docs/reliability.md).
soak: $(STAMP)
	$(BIN)/python tests/load/soak.py $(SOAK_ARGS)

lint: $(STAMP) $(WEB_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared/src services/auth/src services/wishlists/src services/notifier/src gateway/src deploy/local
	$(BIN)/python deploy/local/openapi_document.py --check
	cd $(WEB) && npm run --silent api:check && npm run --silent typecheck && npm run --silent lint

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-pin every Python dependency with hashes after a pyproject.toml changes:
# dev.txt for developers and CI; for the container images (Linux), what each
# one runs (requirements/<image>.txt) and what builds the project's own wheels
# (build.txt). The project's distributions are never pinned: they come from
# this repository, never from an index.
IMAGES := auth wishlists notifier gateway
# The local distributions' metadata is read afresh: uv's cache would otherwise
# keep a pyproject.toml's dependencies from before an edit.
COMPILE = $(BIN)/uv pip compile --python-version 3.11 --generate-hashes --no-header \
	--annotation-style line $(foreach d,shared auth wishlists notifier gateway,--no-emit-package wishlist-$(d) --refresh-package wishlist-$(d))

lock:
	$(COMPILE) requirements/dev.in -o requirements/dev.txt
	$(COMPILE) --python-platform linux requirements/build.in -o requirements/build.txt
	for i in $(IMAGES); do \
		$(COMPILE) --python-platform linux requirements/$$i.in -o requirements/$$i.txt || exit 1; \
	done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
	rm -rf $(WEB)/node_modules $(WEB)/.next $(WEB)/.next-e2e $(WEB)/.next-smoke $(WEB)/test-results

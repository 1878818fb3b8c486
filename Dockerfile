# syntax=docker/dockerfile:1
# The image of each Python process, chosen by two build arguments that must
# match: SERVICE and the PORT it serves on.
#   gateway   8000  JWT checks, routing to the services, rate limits and the
#                   WebSocket relay. Nothing persistent, so no migrations.
#   auth      8001  users, credentials, sessions and signing keys.
#   wishlists 8002  wishlists, items, shares and secret reservations.
#   notifier  8003  notifications for the people concerned.
# Build from the repository root (the image needs shared/ too), for example:
#   docker build --build-arg SERVICE=auth --build-arg PORT=8001 -t wishlist-auth .
# A service's image runs, as the service's own PostgreSQL role
# (AUTH_DATABASE_URL, ...), the service (default command) and its migrations
# as a one-off:
#   docker run --rm --env-file ... wishlist-auth alembic upgrade head
# and, having shared/ inside, the database bootstrap (with DATABASE_ADMIN_URL):
#   docker run --rm --env-file ... wishlist-auth \
#     python -m wishlist_shared.db.bootstrap auth wishlists notifier

# --- build: hashed wheels from the index, the project's own wheels built here,
# and /app: what the runtime stage gets besides the virtual environment.
FROM python:3.11-slim AS build
ARG SERVICE
ARG PORT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Before anything is copied or downloaded: an unknown process, or a port other
# than the one Compose, Kubernetes and the gateway expect, stops the build.
RUN case "${SERVICE}:${PORT}" in \
      gateway:8000 | auth:8001 | wishlists:8002 | notifier:8003) ;; \
      *) echo "SERVICE='${SERVICE}' PORT='${PORT}': build with --build-arg SERVICE=... --build-arg PORT=...," \
              "one of gateway 8000, auth 8001, wishlists 8002, notifier 8003" >&2 \
         && exit 1 ;; \
    esac
# Only binary wheels, each checked against its hash: nothing is compiled, so
# no compiler is needed, and nothing unpinned gets in. All of requirements/
# (no path here depends on SERVICE), so that the check above comes first.
COPY requirements/ requirements/
RUN python -m venv /opt/build \
 && /opt/build/bin/pip install --require-hashes --only-binary=:all: --no-deps \
      -r requirements/build.txt \
 && python -m venv --without-pip /opt/venv \
 && pip --python /opt/venv/bin/python install --require-hashes --only-binary=:all: --no-deps \
      -r "requirements/${SERVICE}.txt"
# Every process's folder (.dockerignore leaves tests and caches out); the
# wheel holds only the package (pyproject.toml), /app a service's migrations.
COPY shared/pyproject.toml shared/
COPY shared/src shared/src
COPY services services
COPY gateway gateway
RUN case "${SERVICE}" in \
      gateway) folder=gateway ;; \
      *) folder="services/${SERVICE}" ;; \
    esac \
 && /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels ./shared "./${folder}" \
 && pip --python /opt/venv/bin/python install --no-deps /wheels/*.whl \
 && mkdir /app \
 && if [ "${SERVICE}" != gateway ]; then \
      cp "${folder}/alembic.ini" /app/ && cp -R "${folder}/migrations" /app/migrations; \
    fi

# --- runtime: the interpreter, the virtual environment and a service's migrations.
FROM python:3.11-slim AS runtime
ARG SERVICE
ARG PORT
# uvicorn takes its application and port from UVICORN_APP and UVICORN_PORT,
# so the command below stays in exec form without naming them. WebSockets
# (the gateway's) go without permessage-deflate: its compressor state cost
# about 35 KiB per socket (BENCHMARKS.md, sockets), to save a few hundred
# bytes per notification.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UVICORN_APP=${SERVICE}.main:create_app \
    UVICORN_PORT=${PORT} \
    UVICORN_WS_PER_MESSAGE_DEFLATE=false
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
# A service's `alembic upgrade head` runs from here, with its alembic.ini and
# migrations/; the gateway's /app is empty.
COPY --from=build /app /app
WORKDIR /app
# A numeric user, so that an orchestrator can check it is not root.
USER 10001:10001
EXPOSE ${PORT}
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['UVICORN_PORT'], timeout=2)"]
# Forwarded headers are the application's business (its trusted proxies), so
# uvicorn's own handling stays off. On SIGTERM, requests in flight get 25 s.
CMD ["uvicorn", "--factory", "--no-proxy-headers", \
     "--host", "0.0.0.0", "--timeout-graceful-shutdown", "25"]

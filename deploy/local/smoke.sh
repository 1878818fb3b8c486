#!/usr/bin/env bash
# Brings the platform up with `make run` on spare ports and checks that the
# gateway and every service report ready and that the web app serves its
# pages and reaches the gateway, then stops it. Used by CI; safe beside a
# running `make run` on the standard ports (its web build is kept apart).
set -euo pipefail
cd "$(dirname "$0")/../.."

base=${SMOKE_BASE_PORT:-18000}
export GATEWAY_PORT=$base AUTH_PORT=$((base + 1)) WISHLISTS_PORT=$((base + 2)) NOTIFIER_PORT=$((base + 3))
export WEB_PORT=$((base + 4)) NEXT_DIST_DIR=.next-smoke
export GATEWAY_AUTH_URL=http://127.0.0.1:$AUTH_PORT
export GATEWAY_WISHLISTS_URL=http://127.0.0.1:$WISHLISTS_PORT
export GATEWAY_NOTIFIER_URL=http://127.0.0.1:$NOTIFIER_PORT
export GATEWAY_JWKS_URL=$GATEWAY_AUTH_URL/api/v1/auth/jwks.json
log=$(mktemp)

setsid make run >"$log" 2>&1 &
pid=$!
stop() { kill -INT -- "-$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT

web=http://127.0.0.1:$WEB_PORT
ready() {
  for port in $GATEWAY_PORT $AUTH_PORT $WISHLISTS_PORT $NOTIFIER_PORT; do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 || return 1
  done
  curl -fsS "$web/login" >/dev/null 2>&1
}

# Long enough for a first build of the web app.
for _ in $(seq 1 360); do
  if ready; then
    # Through the web app's own origin to the gateway, as the browser goes.
    curl -fsS "$web/api/v1/auth/jwks.json" | grep -q '"keys"'
    echo "smoke: make run is up; every service ready, the web app serving and reaching the gateway"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
echo "smoke: the platform did not become ready; make run said:" >&2
tail -n 80 "$log" >&2
exit 1

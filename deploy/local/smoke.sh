#!/usr/bin/env bash
# Brings the platform up with `make run` on spare ports and checks that the
# gateway reports ready, then stops it. Used by CI; safe beside a running
# `make run` on the standard ports.
set -euo pipefail
cd "$(dirname "$0")/../.."

base=${SMOKE_BASE_PORT:-18000}
export GATEWAY_PORT=$base AUTH_PORT=$((base + 1)) WISHLISTS_PORT=$((base + 2)) NOTIFIER_PORT=$((base + 3))
export GATEWAY_AUTH_URL=http://127.0.0.1:$AUTH_PORT
export GATEWAY_WISHLISTS_URL=http://127.0.0.1:$WISHLISTS_PORT
export GATEWAY_NOTIFIER_URL=http://127.0.0.1:$NOTIFIER_PORT
export GATEWAY_JWKS_URL=$GATEWAY_AUTH_URL/api/v1/auth/jwks.json
log=$(mktemp)

setsid make run >"$log" 2>&1 &
pid=$!
stop() { kill -INT -- "-$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$GATEWAY_PORT/readyz" >/dev/null 2>&1; then
    for port in $AUTH_PORT $WISHLISTS_PORT $NOTIFIER_PORT; do
      curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null
    done
    echo "smoke: make run is up; gateway and every service report ready"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
echo "smoke: the platform did not become ready; make run said:" >&2
tail -n 80 "$log" >&2
exit 1

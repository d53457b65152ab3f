#!/usr/bin/env bash
# Starts the real server with no DATABASE_URL (embedded PostgreSQL in a temporary DATA_DIR),
# checks /readyz, creates an account with the printed token, restarts, and checks the account
# is still there. Stops the server with SIGTERM each time (graceful shutdown).
set -euo pipefail
cd "$(dirname "$0")/.."
unset DATABASE_URL
export DATA_DIR="$(mktemp -d)/data" PORT="${SMOKE_PORT:-3917}" EMBEDDED_PG_PORT="${SMOKE_PG_PORT:-54391}" LOG_LEVEL=warn
log="$(mktemp)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT

start() {
  node_modules/.bin/tsx src/server.ts >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "server exited"; return 1; fi
    sleep 1
  done
  cat "$log"; echo "server did not become ready"; return 1
}

stop() {
  kill -TERM "$pid"
  wait "$pid" || { echo "server did not exit cleanly"; cat "$log"; return 1; }
  pid=""
}

start
curl -fsS "http://127.0.0.1:$PORT/readyz"; echo
token="$(grep -o 'lms_[A-Za-z0-9_-]*' "$log" | head -1)"
[ -n "$token" ] || { cat "$log"; echo "no token printed on first start"; exit 1; }
account="$(curl -fsS -X POST "http://127.0.0.1:$PORT/v1/lms/accounts/" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"name":"Smoke Traders","sanctioned_limit":500000}')"
id="$(node -e 'console.log(JSON.parse(process.argv[1]).id)' "$account")"
echo "created account $id"
stop

start
curl -fsS "http://127.0.0.1:$PORT/v1/lms/accounts/$id/" -H "Authorization: Bearer $token" | grep -q '"Smoke Traders"'
echo "account survived the restart"
cli_token="$(npm run -s cli -- token create --name smoke 2>/dev/null)"
curl -fsS "http://127.0.0.1:$PORT/v1/auth/ping/" -H "Authorization: Bearer $cli_token" | grep -q pong
echo "CLI token (created while the server runs) works"
stop
echo "smoke: ok"

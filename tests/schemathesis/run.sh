#!/usr/bin/env bash
# The schema-driven check (issue: "no input breaks a request"): starts the server on a fresh sandbox
# database, puts a signing proxy in front of it, and runs Schemathesis against /openapi.json. Fails on any
# 5xx or any response that does not match the schema. Bounded: a fixed number of examples per operation
# and an overall time budget.
#
# Usage: tests/schemathesis/run.sh [SCHEMATHESIS] — the schemathesis command (default: on PATH).
set -euo pipefail
cd "$(dirname "$0")/../.."
st=${1:-schemathesis}
work=$(mktemp -d /tmp/escrow-schemathesis.XXXXXX)
chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
proxy_port=$(free_port)
server_pid=""
proxy_pid=""
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  # The sandbox stops its PostgreSQL on shutdown; make sure of it if the server died.
  if [ -f "$work/data/postgres/postmaster.pid" ]; then
    pg_ctl=$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | tail -n 1)
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$pg_ctl -D '$work/data/postgres' -m immediate stop" >/dev/null 2>&1 || true
    else "$pg_ctl" -D "$work/data/postgres" -m immediate stop >/dev/null 2>&1 || true; fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== schemathesis: starting the server on a fresh sandbox database"
ESCROW__DATA_DIR="$work/data" ESCROW__HTTP__LISTEN="127.0.0.1:$port" ESCROW_LOG=warn \
  ./target/debug/escrow-server > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 240); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log"; exit 1; fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null

python3 tests/schemathesis/proxy.py "http://127.0.0.1:$port" "$work/data/sandbox.json" "$proxy_port" > "$work/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 120); do
  grep -q "proxy ready" "$work/proxy.log" 2>/dev/null && break
  if ! kill -0 "$proxy_pid" 2>/dev/null; then cat "$work/proxy.log"; exit 1; fi
  sleep 0.5
done
grep -q "proxy ready" "$work/proxy.log"

echo "== schemathesis: running against /openapi.json"
status=0
"$st" run "http://127.0.0.1:$proxy_port/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
  --max-time "${SCHEMATHESIS_MAX_TIME:-600}" \
  --request-timeout 30 \
  --workers 2 \
  --suppress-health-check all \
  --seed 20261123 \
  --no-color || status=$?
if [ "$status" != 0 ]; then
  echo "== server log (errors)"; grep -i '"level":"ERROR"' "$work/server.log" | tail -n 30 || true
fi
exit "$status"

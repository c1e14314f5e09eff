#!/usr/bin/env bash
# The server benchmark of issue 2: builds the demo company at scale, starts the release
# server, and measures with wrk on this machine:
#   GET /healthz, GET a customer by id, the customer 360, search, and creating orders,
# then the server's resident memory and a check that every purchase summary is exact.
#
#   scripts/bench-api.sh                       # SQLite file bench.sqlite, 1,000,000 customers, 10,000,000 lines
#   DATABASE=postgres://crm:crm@127.0.0.1/crm_bench scripts/bench-api.sh
#   CUSTOMERS=100000 LINES=1000000 DURATION=10s scripts/bench-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATABASE=${DATABASE:-bench.sqlite}
CUSTOMERS=${CUSTOMERS:-1000000}
LINES=${LINES:-10000000}
DURATION=${DURATION:-20s}
PORT=${PORT:-8181}
THROUGHPUT_CONNECTIONS=${THROUGHPUT_CONNECTIONS:-32}
LATENCY_CONNECTIONS=${LATENCY_CONNECTIONS:-4}
BIN=.build/release/crm

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
[ -x "$BIN" ] || swift build -c release --product crm

fresh=0
if [[ "$DATABASE" == postgres* ]]; then
  count=$(psql "$DATABASE" -Atc "select count(*) from customers" 2>/dev/null || echo 0)
  [ "$count" = "0" ] && fresh=1
else
  [ -f "$DATABASE" ] || fresh=1
fi
if [ "$fresh" = 1 ]; then
  echo "== loading $CUSTOMERS customers / $LINES order lines into $DATABASE"
  /usr/bin/time -f "demo load: %e s elapsed, peak RSS %M KB" "$BIN" demo --database "$DATABASE" --customers "$CUSTOMERS" --order-lines "$LINES"
fi
echo "== analytics refresh (also keeps the server's scheduled refresh from running during the measurements)"
/usr/bin/time -f "refresh: %e s elapsed, peak RSS %M KB" "$BIN" analytics refresh --database "$DATABASE" --log-level warning
TOKEN=$("$BIN" token create --database "$DATABASE" --user admin --name "bench $(date +%s)" --scope readWrite | grep -o 'crm_[A-Za-z0-9_-]*')

"$BIN" serve --database "$DATABASE" --port "$PORT" --log-level warning &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

url="http://127.0.0.1:$PORT"
run() { # name connections args…
  local name=$1 c=$2; shift 2
  local out; out=$(wrk -t2 -c"$c" -d"$DURATION" --latency "$@")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  local errors; errors=$(grep -E "Non-2xx|Socket errors" <<<"$out" || true)
  printf '%-28s %6s conns  %10s req/s   p50 %8s   p99 %8s  %s\n' "$name" "$c" "$rps" "$p50" "$p99" "$errors"
  echo "$rps" > "/tmp/bench-$name.rps"
}
echo "== wrk, ${DURATION} each, server and wrk on the same machine ($(nproc) cores)"
run healthz "$THROUGHPUT_CONNECTIONS" "$url/healthz"
run customer "$THROUGHPUT_CONNECTIONS" -s scripts/wrk/customer.lua "$url" -- "$TOKEN" "$CUSTOMERS"
run customer360-latency "$LATENCY_CONNECTIONS" -s scripts/wrk/customer360.lua "$url" -- "$TOKEN" "$CUSTOMERS"
run search-latency "$LATENCY_CONNECTIONS" -s scripts/wrk/search.lua "$url" -- "$TOKEN"
run orders "$THROUGHPUT_CONNECTIONS" -s scripts/wrk/orders.lua "$url" -- "$TOKEN" "$CUSTOMERS" 16
awk -v c="$(cat /tmp/bench-customer.rps)" -v h="$(cat /tmp/bench-healthz.rps)" 'BEGIN { printf "customer by id / healthz: %.0f%%\n", 100 * c / h }'
grep -E 'VmRSS|VmHWM' "/proc/$SERVER/status"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
trap - EXIT
echo "== purchase summaries after the order load"
"$BIN" summaries --database "$DATABASE"

#!/usr/bin/env bash
# The web benchmark of issue 5: server time for each main page on a large database, as
# curl sees it from the same machine (time to the last byte, one request at a time), and
# the size of the customer 360 page with its stylesheet and script.
#
#   scripts/bench-pages.sh DATABASE [REQUESTS]
#
# DATABASE is a SQLite file or postgres:// URL with the analysis already run (for example
# `crm demo --customers 1000000 --order-lines 3000000` then `crm analytics refresh`).
# The admin user's password is set to a throwaway one for the run.
set -euo pipefail
cd "$(dirname "$0")/.."
DATABASE=${1:?give the database}
REQUESTS=${2:-200}
PORT=${PORT:-8182}
BIN=.build/release/crm
[ -x "$BIN" ] || swift build -c release --product crm
BASE="http://127.0.0.1:$PORT"
PASSWORD="bench-pages-$(date +%s)"

"$BIN" user reset-password admin --password "$PASSWORD" --database "$DATABASE" >/dev/null
"$BIN" serve --database "$DATABASE" --port "$PORT" --log-level warning &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.5; done

jar=$(mktemp)
token=$(curl -fsS -c "$jar" -b "$jar" "$BASE/login" | grep -o 'name="_csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
curl -fsS -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$token" --data-urlencode "username=admin" \
     --data-urlencode "password=$PASSWORD" --data-urlencode "next=/" "$BASE/login"

# Customer ids spread over the whole table, people and organisations.
max_id=$(curl -fsS -b "$jar" "$BASE/api/v1/customers?sort=-id&limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
measure() {  # name, then paths (cycled through)
    local name=$1; shift
    local paths=("$@") times=()
    for i in $(seq 1 "$REQUESTS"); do
        local path=${paths[$(( (i - 1) % ${#paths[@]} ))]}
        times+=("$(curl -fsS -o /dev/null -b "$jar" -w '%{time_total}' "$BASE$path")")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v name="$name" '
        { t[NR] = $1 * 1000 } END { printf "%-28s p50 %6.1f ms   p95 %6.1f ms   max %6.1f ms   (%d requests)\n",
          name, t[int(NR * 0.5 + 0.5)], t[int(NR * 0.95 + 0.5)], t[NR], NR }'
}
ids=(); for i in $(seq 1 50); do ids+=("$(( (RANDOM * 32768 + RANDOM) % max_id + 1 ))"); done
p360=(); for id in "${ids[@]}"; do p360+=("/customers/$id"); done
pedit=(); for id in "${ids[@]}"; do pedit+=("/customers/$id/edit"); done

echo "== $DATABASE, $max_id customers, $REQUESTS requests per page, sequential"
measure "dashboard /" "/"
measure "customer list" "/customers" "/customers?sort=-updatedAt" "/customers?tier=gold" "/customers?churn=high&stage=loyal"
measure "search (one character)" "/customers?q=%E5%BC%A0" "/customers?q=%E7%8E%8B" "/customers?q=%E6%9D%8E" "/customers?q=%E9%99%88"
measure "search as you type" "/customers?q=%E5%BC%A0%E4%BC%9F&fragment=results" "/customers?q=wang&fragment=results"
measure "customer 360" "${p360[@]}"
measure "edit form" "${pedit[@]}"
measure "tasks" "/tasks"
measure "audit log" "/audit" "/audit?entity=customer"
measure "imports" "/imports"
measure "administration" "/admin/users"

largest=0
for id in "${ids[@]}"; do
    size=$(curl -fsS -o /dev/null -b "$jar" -w '%{size_download}' "$BASE/customers/$id")
    (( size > largest )) && largest=$size
done
css=$(curl -fsS -o /dev/null -w '%{size_download}' "$BASE/static/app-1.css")
js=$(curl -fsS -o /dev/null -w '%{size_download}' "$BASE/static/app-1.js")
echo "customer 360 page: largest HTML of 50 = $largest bytes; + CSS $css + script $js = $((largest + css + js)) bytes uncompressed"
rm -f "$jar"

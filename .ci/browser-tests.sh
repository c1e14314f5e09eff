#!/usr/bin/env bash
# Browser tests: starts `crm serve --demo` on a fresh SQLite file and a free port, runs
# Tests/Browser/test_web.py (Selenium, headless Chromium) against it, and stops it.
# Screenshots go to $CRM_CI_ARTIFACTS_DIR/screenshots (ci-artifacts/ by default); the
# server's log to $CRM_CI_ARTIFACTS_DIR/browser-server.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ARTIFACTS_DIR="${CRM_CI_ARTIFACTS_DIR:-$PWD/ci-artifacts}"
mkdir -p "$ARTIFACTS_DIR/screenshots"
export CRM_CI_ARTIFACTS_DIR="$ARTIFACTS_DIR"

swift build --product crm
BIN="$(swift build --show-bin-path)/crm"

workdir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log="$ARTIFACTS_DIR/browser-server.log"
"$BIN" serve --demo --database "$workdir/browser.sqlite" --port "$port" >"$log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$workdir"; }
trap cleanup EXIT

for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$server" 2>/dev/null; then echo "the server stopped:"; tail -n 40 "$log"; exit 1; fi
    sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { echo "the server did not come up in 120 s"; tail -n 40 "$log"; exit 1; }

if ! CRM_BASE_URL="http://127.0.0.1:$port" python3 Tests/Browser/test_web.py; then
    echo "--- the server's log (last 40 lines) ---"; tail -n 40 "$log"; exit 1
fi
echo "screenshots: $(ls "$ARTIFACTS_DIR/screenshots" | wc -l) in $ARTIFACTS_DIR/screenshots"

#!/usr/bin/env bash
# Serves a board with demo data and real postings and drives it in headless
# Chromium (e2e/browser.mjs): a visitor searches, filters, opens a job and
# applies; a new employer posts a job that an admin approves; a visitor
# subscribes to an alert and confirms it from the email. axe-core checks every
# page type at desktop and phone widths, and the main pages are saved as
# screenshots in target/e2e-screenshots/. Exits non-zero on any failed check,
# serious or critical accessibility violation, console error, uncaught page
# error or failed request for the board's own assets.
#
#   bash e2e/browser-check.sh [path/to/jobboard]     (default: target/debug/jobboard)
#
# Needs node, /usr/bin/chromium (or CHROMIUM=path) and e2e/node_modules
# (`npm ci --prefix e2e`: playwright-core and axe-core).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${1:-target/debug/jobboard}
[ -x "$BIN" ] || { echo "browser-check: $BIN is not an executable; build it first (cargo build)" >&2; exit 1; }
for m in playwright-core axe-core; do
    [ -d "e2e/node_modules/$m" ] || { echo "browser-check: e2e/node_modules/$m missing; run: npm ci --prefix e2e" >&2; exit 1; }
done
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "browser-check: no Chromium at $CHROMIUM (set CHROMIUM=path)" >&2; exit 1; }

# The first free port of 18300-18349 (PORT=n to choose one).
if [ -z "${PORT:-}" ]; then
    PORT=$(python3 - <<'PY'
import socket
for port in range(18300, 18350):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
PY
)
    [ -n "$PORT" ] || { echo "browser-check: no free port in 18300-18349" >&2; exit 1; }
fi
BASE="http://127.0.0.1:$PORT"

WORK=$(mktemp -d)
DATA="$WORK/data"
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN" --data-dir "$DATA" demo --jobs 60 2>/dev/null
# A closed job, a job applied to by email, and real postings in many scripts.
cat > "$WORK/extra.jsonl" <<'JSON'
{"title":"Closed Role","company_name":"Closed Co","description":"Was *open*.","category":"Design","job_type":"contract","apply_url":"https://closed.example/a","status":"expired","published_at":"2026-01-01T00:00:00Z","expires_at":"2026-01-31T00:00:00Z"}
{"title":"Mail Role","company_name":"Mail Co","description":"Write to us.","category":"Writing","job_type":"part_time","apply_email":"jobs@mail.example"}
JSON
"$BIN" --data-dir "$DATA" import "$WORK/extra.jsonl" 2>/dev/null
"$BIN" --data-dir "$DATA" import tests/data/openings-sample.jsonl 2>/dev/null
ADMIN_EMAIL=admin@browser-check.example
ADMIN_PASSWORD='copper lantern beside the river'
echo "$ADMIN_PASSWORD" | "$BIN" --data-dir "$DATA" admin create --email "$ADMIN_EMAIL" >/dev/null 2>&1
"$BIN" --data-dir "$DATA" export > "$WORK/export.jsonl"

# Posts wait for an admin, so the employer's job needs the approval the admin
# gives in the browser; no rate limit gets in the way of one quick visitor.
JOBBOARD_BASE_URL="$BASE" JOBBOARD_POSTING_REQUIRE_APPROVAL=true JOBBOARD_LIMITS_ENABLED=false \
    "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
PID=$!
for _ in $(seq 1 100); do
    curl -fs "$BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "$BASE/healthz" >/dev/null || { echo "browser-check: the server did not start:" >&2; cat "$WORK/serve.log" >&2; exit 1; }

status=0
BASE="$BASE" DATA="$DATA" EXPORT="$WORK/export.jsonl" CHROMIUM="$CHROMIUM" \
ADMIN_EMAIL="$ADMIN_EMAIL" ADMIN_PASSWORD="$ADMIN_PASSWORD" SHOTS=target/e2e-screenshots \
    node e2e/browser.mjs || status=$?
if [ "$status" != 0 ] && grep -q ' ERROR ' "$WORK/serve.log"; then
    echo "browser-check: errors in the server's log:" >&2
    grep ' ERROR ' "$WORK/serve.log" | tail -20 >&2
fi
exit "$status"

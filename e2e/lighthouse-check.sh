#!/usr/bin/env bash
# Serves a board with demo data and real postings and runs Lighthouse on the
# home page, a search with results and a job page: three runs each on mobile
# (Lighthouse's default config) and one on desktop, gating on the median score
# of each category: accessibility, best practices and SEO 100, performance 95
# or more. Prints the scores and, for a category under target, the audits that
# cost it points; exits non-zero on any miss. Reports (JSON and HTML) are kept
# in target/lighthouse/.
#
#   bash e2e/lighthouse-check.sh [path/to/jobboard]     (default: target/debug/jobboard)
#
# Needs chromium (CHROME_PATH, default /usr/bin/chromium) and
# e2e/node_modules (`npm ci --prefix e2e`). LH_RUNS and LH_DESKTOP_RUNS change
# the number of runs, LH_FORM_FACTORS="mobile" leaves desktop out.
# Performance is measured with Lighthouse's simulated slow network and CPU,
# yet a busy machine still lowers it: the load average is printed with the
# scores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${1:-target/debug/jobboard}
# The first free port of 18350-18379 (PORT=n to choose one).
PORT=${PORT:-$(python3 -c '
import socket
for port in range(18350, 18380):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
')}
[ -n "$PORT" ] || { echo "lighthouse-check: no free port in 18350-18379" >&2; exit 1; }
BASE="http://127.0.0.1:$PORT"
OUT=target/lighthouse
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
[ -d e2e/node_modules/lighthouse ] || { echo "lighthouse-check: e2e/node_modules/lighthouse missing; run: npm ci --prefix e2e" >&2; exit 1; }
[ -x "$CHROME_PATH" ] || { echo "lighthouse-check: no Chrome at $CHROME_PATH (set CHROME_PATH)" >&2; exit 1; }

WORK=$(mktemp -d)
DATA="$WORK/data"
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN" --data-dir "$DATA" demo --jobs 60 2>/dev/null
"$BIN" --data-dir "$DATA" import tests/data/openings-sample.jsonl 2>/dev/null

# The board's own origin is the one Lighthouse loads (canonical links, the
# sitemap in robots.txt). Chrome treats http://127.0.0.1 as a secure context,
# as it does localhost, so is-on-https holds without TLS.
JOBBOARD_BASE_URL="$BASE" JOBBOARD_LIMITS_ENABLED=false \
    "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
PID=$!
TERM_WITH_RESULTS=engineer
ready=
for _ in $(seq 1 100); do
    # Up, and the imported jobs searchable.
    if curl -fs "$BASE/jobs?q=$TERM_WITH_RESULTS" 2>/dev/null | grep -q 'class="job-card'; then ready=1; break; fi
    sleep 0.1
done
[ -n "$ready" ] || { echo "lighthouse-check: the board did not answer a search for '$TERM_WITH_RESULTS'" >&2; cat "$WORK/serve.log" >&2; exit 1; }

# A job with a salary and a location: the fullest job page.
JOB=$("$BIN" --data-dir "$DATA" export --status published | python3 -c '
import json, sys
jobs = [json.loads(l) for l in sys.stdin]
full = [j for j in jobs if j["salary_min"] and j["location"]] or jobs
print("/" + full[0]["url"].split("://", 1)[1].split("/", 1)[1])
')

rm -rf "$OUT"
node e2e/lighthouse-check.mjs "$BASE" "$OUT" home=/ "search=/jobs?q=$TERM_WITH_RESULTS" "job=$JOB"

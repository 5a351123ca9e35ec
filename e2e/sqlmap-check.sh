#!/usr/bin/env bash
# Points sqlmap at every search and filter parameter of a served board: the
# job listing page (/jobs), the API listing (/api/v1/jobs), the feed
# (/feed.xml) and the company page's slug. Fails if sqlmap finds any
# injectable parameter, and also if a run did not complete (sqlmap failed,
# or did not report on every parameter it was given, or the board stopped
# answering): a broken run is never green.
#
#   bash e2e/sqlmap-check.sh [path/to/jobboard]   (default: target/debug/jobboard)
#   bash e2e/sqlmap-check.sh --self-test          (only the self-test below)
#
# First, a self-test: the same detector against a deliberately injectable
# target (a dozen lines of Python whose SQLite query is built by string
# concatenation) must report it, or the check fails; so a sqlmap that no
# longer finds anything, or output the detector no longer reads, cannot pass.
#
# sqlmap runs with --level 3 --risk 3 (boolean, error, UNION, stacked and
# time-based payloads with the boundaries of levels 1-3, OR-based ones
# included) for SQLite only (--dbms=SQLite: we know the engine), each
# parameter named with -p, a fresh session (--flush-session) and its output in
# a temp dir. About 1.5 minutes with the debug binary on two busy cores
# (level 5 is about 3); SQLMAP_LEVEL and SQLMAP_RISK change them.
#
# Needs python3 (3.10+); the pinned tools of e2e/requirements.txt go into
# e2e/.venv on first use. Ports 18450-18499.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SELF_TEST=false
if [ "${1:-}" = --self-test ]; then
    SELF_TEST=true
    shift
fi
BIN=${1:-target/debug/jobboard}
LEVEL=${SQLMAP_LEVEL:-3}
RISK=${SQLMAP_RISK:-3}

VENV=e2e/.venv
if ! cmp -s e2e/requirements.txt "$VENV/requirements.txt" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r e2e/requirements.txt
    cp e2e/requirements.txt "$VENV/requirements.txt"
fi
SQLMAP="$PWD/$VENV/bin/sqlmap"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    for p in $(seq 18450 18499); do
        if port_free "$p"; then echo "$p"; return 0; fi
    done
    echo "sqlmap-check: no free port in 18450-18499" >&2
    return 1
}

WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

wait_up() { # url
    for _ in $(seq 1 100); do
        curl -fs "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# One sqlmap run: fails on an injection found or a run that did not report on
# every parameter. Args: name health-url url params (comma-separated, or
# "URI" for a `*` in the URL).
FOUND=0
BROKEN=0
scan() {
    local name=$1 health=$2 url=$3 params=$4 out="$WORK/sqlmap-$1" args=()
    [ "$params" = URI ] || args=(-p "$params")
    local rc=0
    "$SQLMAP" -u "$url" "${args[@]}" --batch --dbms=SQLite --level "$LEVEL" --risk "$RISK" \
        --flush-session --output-dir="$out" --disable-coloring >"$WORK/$name.log" 2>&1 || rc=$?
    # An injection: sqlmap's report of injection points, or its per-target
    # log (where it writes only those).
    if grep -qE "identified the following injection point|is vulnerable|^Parameter: .*\((GET|URI)\)" "$WORK/$name.log" ||
        find "$out" -name log -size +0 2>/dev/null | grep -q .; then
        echo "sqlmap-check: $name: INJECTABLE" >&2
        sed -n '/^Parameter: /,/^---$/p' "$WORK/$name.log" >&2
        find "$out" -name log -size +0 -exec cat {} + >&2 2>/dev/null || true
        FOUND=1
        return
    fi
    # A complete run ends with "all tested parameters do not appear to be
    # injectable" after a verdict on each parameter.
    local missing=()
    if [ "$params" = URI ]; then
        grep -q "URI parameter '#1\*' does not seem to be injectable" "$WORK/$name.log" || missing+=("URI #1*")
    else
        IFS=, read -ra names <<<"$params"
        for p in "${names[@]}"; do
            grep -q "GET parameter '$p' does not seem to be injectable" "$WORK/$name.log" || missing+=("$p")
        done
    fi
    if [ "$rc" != 0 ] || [ ${#missing[@]} != 0 ] ||
        ! grep -q "all tested parameters do not appear to be injectable" "$WORK/$name.log"; then
        echo "sqlmap-check: $name: the run did not complete (exit $rc; no verdict on: ${missing[*]:-none})" >&2
        grep -E "\[(CRITICAL|ERROR)\]" "$WORK/$name.log" >&2 || tail -5 "$WORK/$name.log" >&2
        BROKEN=1
        return
    fi
    if ! curl -fs "$health" >/dev/null; then
        echo "sqlmap-check: $name: the target stopped answering" >&2
        BROKEN=1
        return
    fi
    echo "sqlmap-check: $name: $(grep -c "does not seem to be injectable" "$WORK/$name.log") parameter(s), none injectable"
}

# The self-test.
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
{
    # A tiny search whose query is built by string concatenation: the
    # detector must call it injectable.
    cat >"$WORK/vulnerable.py" <<'PY'
import http.server, sqlite3, sys, urllib.parse
db = sqlite3.connect(":memory:", check_same_thread=False)
db.executescript("CREATE TABLE jobs (title TEXT); INSERT INTO jobs VALUES ('Rust engineer'), ('Designer');")
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("q", [""])[0]
        try:
            rows = db.execute("SELECT title FROM jobs WHERE title LIKE '%" + q + "%'").fetchall()
            body, code = "\n".join(r[0] for r in rows), 200
        except sqlite3.Error as e:
            body, code = "error: %s" % e, 500
        self.send_response(code); self.end_headers(); self.wfile.write(body.encode())
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
    python3 "$WORK/vulnerable.py" "$PORT" &
    PID=$!
    wait_up "$BASE/?q=x" || { echo "sqlmap-check: the self-test target did not start" >&2; exit 1; }
    scan self-test "$BASE/?q=x" "$BASE/?q=engineer" q 2>"$WORK/self-test.err"
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=
    if [ "$FOUND" != 1 ]; then
        cat "$WORK/self-test.err" >&2
        echo "sqlmap-check: self-test FAILED: the deliberately injectable target was not caught" >&2
        exit 1
    fi
    FOUND=0
    echo "sqlmap-check: self-test passed: the deliberately injectable target was caught"
}
$SELF_TEST && exit 0

[ -x "$BIN" ] || { echo "sqlmap-check: $BIN not found; run: cargo build" >&2; exit 1; }
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
DATA="$WORK/data"
"$BIN" --data-dir "$DATA" demo --jobs 60 2>"$WORK/demo.log" ||
    { echo "sqlmap-check: demo data failed:" >&2; cat "$WORK/demo.log" >&2; exit 1; }
JOBBOARD_LIMITS_ENABLED=false JOBBOARD_BASE_URL="$BASE" \
    "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
PID=$!
wait_up "$BASE/healthz" || { echo "sqlmap-check: the board did not start" >&2; cat "$WORK/serve.log" >&2; exit 1; }
COMPANY=$(curl -fs "$BASE/api/v1/jobs?per_page=1" | python3 -c "import json, sys; print(json.load(sys.stdin)['jobs'][0]['company']['slug'])")

SEARCH="q=engineer&category=software-development&job_type=full_time&remote=europe&tag=rust&salary_min=1000&posted_within=30&sort=newest&page=1&per_page=20"
PARAMS=q,category,job_type,remote,tag,salary_min,posted_within,sort,page,per_page
scan jobs-page "$BASE/healthz" "$BASE/jobs?$SEARCH" "$PARAMS"
scan jobs-api "$BASE/healthz" "$BASE/api/v1/jobs?$SEARCH" "$PARAMS"
scan feed "$BASE/healthz" "$BASE/feed.xml?q=engineer&category=software-development&tag=rust" q,category,tag
scan company "$BASE/healthz" "$BASE/companies/$COMPANY*" URI

if grep -q 'panicked' "$WORK/serve.log"; then
    echo "sqlmap-check: the server panicked:" >&2
    grep -A3 'panicked' "$WORK/serve.log" >&2
    BROKEN=1
fi
if [ "$FOUND" = 1 ]; then
    echo "sqlmap-check: FAILED: sqlmap found an injectable parameter" >&2
    exit 1
fi
if [ "$BROKEN" = 1 ]; then
    echo "sqlmap-check: FAILED: a run did not complete" >&2
    exit 1
fi
echo "sqlmap-check: no injectable parameter (level $LEVEL, risk $RISK)"

#!/usr/bin/env bash
# Load benchmark: jobboard beside a bare poem "ceiling" of the same page size,
# in the same run, pinned the same way (method: BENCH.md; how to read: bench/README.md).
#
#   cargo build --release && cargo build --release --example ceiling
#   bash bench/run.sh
#
# Environment (defaults in brackets):
#   BOARD_BIN     [target/release/jobboard]
#   CEILING_BIN   [target/release/examples/ceiling]
#   DATA_DIR      [/tmp/jobboard-bench]   made with `demo --jobs $JOBS` if it has no jobboard.db
#   JOBS          [100000]
#   PAIRS         [5]      alternating ceiling/board pairs per scenario
#   DURATION      [10s]    per wrk run
#   WARMUP        [3s]     one warm-up run per side per scenario
#   CONNS         [32]     wrk connections (one wrk thread)
#   SCENARIOS     [home job api search apisearch]
#   BOARD_PORT    [18080]  CEILING_PORT [19090]
#   SERVER_CPU    [0]      WRK_CPU [1]
#   OUT_DIR       [a new /tmp/jobboard-bench-run.XXXXXX]  logs, path lists, raw wrk output, results.md
#   CEILING_ONLY  [unset]  =1: self-test of the harness without the board; a second ceiling
#                          (--bytes $FAKE_BYTES, default 20000) stands in for the board, job
#                          paths are made up, and every share should come out close to 1.0.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

BOARD_BIN=${BOARD_BIN:-target/release/jobboard}
CEILING_BIN=${CEILING_BIN:-target/release/examples/ceiling}
DATA_DIR=${DATA_DIR:-/tmp/jobboard-bench}
JOBS=${JOBS:-100000}
PAIRS=${PAIRS:-5}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNS=${CONNS:-32}
SCENARIOS=${SCENARIOS:-home job api search apisearch}
BOARD_PORT=${BOARD_PORT:-18080}
CEILING_PORT=${CEILING_PORT:-19090}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
CEILING_ONLY=${CEILING_ONLY:-}
FAKE_BYTES=${FAKE_BYTES:-20000}
LUA="$ROOT/bench/paths.lua"

BOARD_URL="http://127.0.0.1:$BOARD_PORT"
CEILING_URL="http://127.0.0.1:$CEILING_PORT"

say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }
now_ns() { date +%s%N; }
# Milliseconds (one decimal) between two now_ns readings.
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }

# ---------------------------------------------------------------- tools
need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found. $2"
}
need wrk "Install it with: apt-get install -y wrk"
need taskset "Install it with: apt-get install -y util-linux"
need curl "Install it with: apt-get install -y curl"
need python3 "Install it with: apt-get install -y python3"
[[ -f $LUA ]] || die "missing $LUA"

CPUS=$(nproc)
if (( CPUS < 2 )); then
    die "need 2 CPUs (server on CPU $SERVER_CPU, wrk on CPU $WRK_CPU); this machine has $CPUS"
fi

[[ -x $CEILING_BIN ]] || die "no ceiling binary at $CEILING_BIN; build it: cargo build --release --example ceiling"
if [[ -z $CEILING_ONLY ]]; then
    [[ -x $BOARD_BIN ]] || die "no board binary at $BOARD_BIN; build it: cargo build --release (or CEILING_ONLY=1 to test the harness)"
fi

if [[ -n ${OUT_DIR:-} ]]; then
    mkdir -p "$OUT_DIR"
else
    OUT_DIR=$(mktemp -d /tmp/jobboard-bench-run.XXXXXX)
fi
RAW="$OUT_DIR/runs.tsv"   # scenario pair side rps p50_us p99_us non2xx sock_errors
: > "$RAW"

# ---------------------------------------------------------------- processes
BOARD_PID=""
CEILING_PID=""

stop_pid() { # pid
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$CEILING_PID"
    stop_pid "$BOARD_PID"
    if (( rc != 0 )); then
        say "run.sh: stopped (exit $rc); logs in $OUT_DIR" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { # url
    curl -s -o /dev/null --max-time 1 "$1/" 2>/dev/null
}

# Polls URL until it answers 200; prints the ms from START_NS to that answer.
# Fails if PID dies or TIMEOUT_S passes.
wait_200() { # url start_ns pid timeout_s
    local url=$1 start=$2 pid=$3 timeout_s=$4 code t
    local deadline=$(( start + timeout_s * 1000000000 ))
    while :; do
        code=$(taskset -c "$WRK_CPU" curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null || true)
        t=$(now_ns)
        if [[ $code == 200 ]]; then
            ms_between "$start" "$t"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        (( t < deadline )) || return 1
        sleep 0.005
    done
}

start_board() { # sets BOARD_PID, BOARD_START_MS
    local log="$OUT_DIR/board.log" t0
    port_in_use "$BOARD_URL" && die "something already answers on $BOARD_URL; stop it first"
    t0=$(now_ns)
    if [[ -n $CEILING_ONLY ]]; then
        taskset -c "$SERVER_CPU" "$CEILING_BIN" --listen "127.0.0.1:$BOARD_PORT" --bytes "$FAKE_BYTES" >>"$log" 2>&1 &
    else
        taskset -c "$SERVER_CPU" "$BOARD_BIN" --data-dir "$DATA_DIR" serve --listen "127.0.0.1:$BOARD_PORT" >>"$log" 2>&1 &
    fi
    BOARD_PID=$!
    if ! BOARD_START_MS=$(wait_200 "$BOARD_URL/" "$t0" "$BOARD_PID" 60); then
        tail -n 30 "$log" >&2 || true
        die "board did not answer 200 on $BOARD_URL/ within 60 s (log: $log)"
    fi
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BOARD_URL/healthz" || true)
    [[ $code == 200 ]] || die "board: GET /healthz answered $code, not 200 (log: $log)"
}

start_ceiling() { # bytes; sets CEILING_PID, CEILING_START_MS
    local bytes=$1 log="$OUT_DIR/ceiling.log" t0 got
    port_in_use "$CEILING_URL" && die "something already answers on $CEILING_URL; stop it first"
    t0=$(now_ns)
    taskset -c "$SERVER_CPU" "$CEILING_BIN" --listen "127.0.0.1:$CEILING_PORT" --bytes "$bytes" >>"$log" 2>&1 &
    CEILING_PID=$!
    if ! CEILING_START_MS=$(wait_200 "$CEILING_URL/" "$t0" "$CEILING_PID" 30); then
        tail -n 30 "$log" >&2 || true
        die "ceiling did not answer 200 on $CEILING_URL/ (log: $log)"
    fi
    got=$(curl -s -o /dev/null -w '%{size_download}' "$CEILING_URL/")
    [[ $got == "$bytes" ]] || die "ceiling serves $got bytes, asked for $bytes"
}

# VmHWM RssAnon RssFile in kB, space-separated ("? ? ?" if gone).
mem_kb() { # pid
    [[ -r /proc/$1/status ]] || { printf '? ? ?\n'; return 0; }
    awk '/^VmHWM:/ {h=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2}
         END { printf "%s %s %s\n", (h==""?"?":h), (a==""?"?":a), (f==""?"?":f) }' \
        "/proc/$1/status"
}
mb() { awk -v k="$1" 'BEGIN { if (k == "?") print "?"; else printf "%.1f", k / 1024 }'; }

# ---------------------------------------------------------------- header
say "# jobboard load benchmark"
say ""
say "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
if COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
    git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || COMMIT="$COMMIT + uncommitted changes"
else
    COMMIT="none (no commit yet)"
fi
say "commit:    $COMMIT"
say "machine:   $(uname -srm), $CPUS CPUs, $(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
say "cpu model: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
say "wrk:       taskset -c $WRK_CPU wrk -t1 -c$CONNS -d$DURATION --latency -s bench/paths.lua URL   (warm-up ${WARMUP}, $PAIRS pairs)"
say "servers:   taskset -c $SERVER_CPU (board and ceiling)"
say "out dir:   $OUT_DIR"
if [[ -n $CEILING_ONLY ]]; then
    say ""
    say "*** CEILING_ONLY=1: the 'board' is a second ceiling serving $FAKE_BYTES bytes. This tests the"
    say "*** harness only; every share should be close to 1.0 (differences under 5 % are noise)."
fi
say ""

if command -v vmstat >/dev/null 2>&1; then
    say "## vmstat 1 3"
    VMSTAT=$(vmstat 1 3)
    say "$VMSTAT"
    # The first line of numbers is the average since boot; use the other two.
    read -r STEAL IDLE < <(printf '%s\n' "$VMSTAT" | awk '
        NR == 2 { for (i = 1; i <= NF; i++) { if ($i == "st") st = i; if ($i == "id") id = i } next }
        NR >= 4 && st { s += $st; d += $id; n++ }
        END { if (n) printf "%.1f %.1f\n", s / n, d / n; else print "? ?" }')
    say "steal (st): ${STEAL}% over 2 s; idle (id): ${IDLE}%."
    say "  st should be 0: CPU time taken by the hypervisor makes req/s noisy. id should be near 100"
    say "  before the run: a build or another load on this machine skews both sides (never build while measuring)."
    if awk -v i="$IDLE" -v s="$STEAL" 'BEGIN { exit !((i != "?" && i < 90) || (s != "?" && s > 0)) }'; then
        say "  WARNING: the machine is not idle (or has steal): treat this run's numbers as rough."
    fi
    say ""
fi

# ---------------------------------------------------------------- data
DEMO_SECS=""
if [[ -z $CEILING_ONLY ]]; then
    if [[ ! -f $DATA_DIR/jobboard.db ]]; then
        say "## demo data"
        say "no $DATA_DIR/jobboard.db: $BOARD_BIN --data-dir $DATA_DIR demo --jobs $JOBS"
        mkdir -p "$DATA_DIR"
        t0=$(now_ns)
        "$BOARD_BIN" --data-dir "$DATA_DIR" demo --jobs "$JOBS" >"$OUT_DIR/demo.log" 2>&1 \
            || { tail -n 30 "$OUT_DIR/demo.log" >&2; die "demo failed (log: $OUT_DIR/demo.log)"; }
        t1=$(now_ns)
        DEMO_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
        say "demo --jobs $JOBS took ${DEMO_SECS} s ($(awk -v j="$JOBS" -v s="$DEMO_SECS" 'BEGIN { if (s > 0) printf "%.0f", j / s; else print "?" }') jobs/s)"
        say ""
    else
        say "data: $DATA_DIR/jobboard.db exists (delete it to regenerate with --jobs $JOBS)"
        say ""
    fi
fi

# ---------------------------------------------------------------- start board
say "## start"
# First start: page cache may still be cold for the database. Second start:
# warm page cache, the figure BENCH.md asks for (< 200 ms).
start_board
FIRST_START_MS=$BOARD_START_MS
stop_pid "$BOARD_PID"
BOARD_PID=""
start_board
say "spawn to first 200 of GET /: ${FIRST_START_MS} ms (first start), ${BOARD_START_MS} ms (second start, warm page cache)"
say "  (polled with curl every ~5 ms from CPU $WRK_CPU: resolution a few ms)"
say "board pid $BOARD_PID; /healthz 200"
read -r H A F < <(mem_kb "$BOARD_PID")
say "board memory idle: VmHWM $(mb "$H") MB, RssAnon $(mb "$A") MB, RssFile $(mb "$F") MB"
say ""

# ---------------------------------------------------------------- path lists
make_paths() { # scenario file
    local scenario=$1 file=$2 n
    : > "$file"
    case $scenario in
        home)
            say "/" >> "$file"
            for n in $(seq 2 50); do say "/?page=$n" >> "$file"; done
            ;;
        api)
            for n in $(seq 1 50); do say "/api/v1/jobs?page=$n" >> "$file"; done
            ;;
        job)
            if [[ -n $CEILING_ONLY ]]; then
                for n in $(seq 1 1000); do say "/jobs/$n-made-up-job-$n" >> "$file"; done
                return 0
            fi
            for n in $(seq 1 10); do
                curl -sf --max-time 30 "$BOARD_URL/api/v1/jobs?per_page=100&page=$n" \
                    > "$OUT_DIR/api-page-$n.json" \
                    || die "GET /api/v1/jobs?per_page=100&page=$n failed"
            done
            python3 - "$OUT_DIR" >> "$file" <<'PY'
import json, sys, urllib.parse

def items(doc):
    """The list of jobs, wherever the response keeps it."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in ("jobs", "items", "data", "results"):
            if isinstance(doc.get(key), list):
                return doc[key]
        for value in doc.values():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                return value
    return []

seen = set()
for n in range(1, 11):
    with open(f"{sys.argv[1]}/api-page-{n}.json") as f:
        doc = json.load(f)
    for job in items(doc):
        url = job.get("url") if isinstance(job, dict) else None
        if not url:
            continue
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (("?" + parts.query) if parts.query else "")
        if path and path not in seen:
            seen.add(path)
            print(path)
PY
            ;;
        search|apisearch)
            # 1,000 distinct searches: words from the demo vocabulary, most with a
            # filter or two, so no cache can flatter them.
            local prefix="/jobs"
            [[ $scenario == apisearch ]] && prefix="/api/v1/jobs"
            python3 - "$prefix" >> "$file" <<'PY'
import random, sys, urllib.parse
prefix = sys.argv[1]
rng = random.Random(1000)
words = ["rust", "engineer", "senior", "designer", "data", "product", "manager", "python",
         "backend", "frontend", "kubernetes", "support", "writer", "analyst", "remote",
         "developer", "marketing", "sales", "figma", "postgresql", "security", "cloud",
         "teaching", "accountant", "enginer", "desinger", "platform", "growth", "editor", "lead"]
categories = ["software-development", "design", "product", "data", "devops-sysadmin",
              "marketing", "sales", "customer-support", "writing"]
regions = ["europe", "americas", "asia_pacific", "africa", "middle_east"]
tags = ["rust", "go", "python", "react", "aws", "sql", "figma", "seo", "linux", "saas"]
seen = set()
pairs = ["senior engineer", "product designer", "data engineer", "backend engineer",
         "frontend developer", "site reliability", "technical writer", "customer success",
         "account executive", "machine learning", "product manager", "support engineer",
         "lead developer", "staff engineer", "growth marketer", "cloud engineer",
         "rust engineer", "python developer", "ux researcher", "financial analyst"]
while len(seen) < 1000:
    q = []
    q.append(("q", rng.choice(words) if rng.random() < 0.6 else rng.choice(pairs)))
    r = rng.random()
    if r < 0.3:
        q.append(("category", rng.choice(categories)))
    if rng.random() < 0.4:
        q.append(("remote", rng.choice(regions)))
    if rng.random() < 0.2:
        q.append(("tag", rng.choice(tags)))
    if rng.random() < 0.15:
        q.append(("salary_min", str(rng.choice([50000, 80000, 100000]))))
    if rng.random() < 0.2:
        q.append(("page", str(rng.choice([2, 3]))))
    path = prefix + "?" + urllib.parse.urlencode(q)
    if path not in seen:
        seen.add(path)
        print(path)
PY
            ;;
        *)
            die "unknown scenario '$scenario' (known: home job api search apisearch)"
            ;;
    esac
}

# Checks every path answers 200 and prints the median body size in bytes.
# One curl process for all paths (keep-alive), as wrk sends them: no Accept-Encoding.
measure_size() { # base_url paths_file scenario
    local base=$1 file=$2 scenario=$3 cfg="$OUT_DIR/$3.curl" out="$OUT_DIR/$3.sizes"
    : > "$cfg"
    while IFS= read -r p; do
        printf 'url = "%s%s"\noutput = "/dev/null"\n' "$base" "$p" >> "$cfg"
    done < "$file"
    curl -s --max-time 120 -K "$cfg" -w '%{http_code} %{size_download} %{url_effective}\n' > "$out" || true
    python3 - "$out" "$file" <<'PY'
import statistics, sys
rows = [l.split(" ", 2) for l in open(sys.argv[1]) if l.strip()]
want = sum(1 for l in open(sys.argv[2]) if l.strip())
bad = [r for r in rows if r[0] != "200"]
if len(rows) != want or bad:
    for r in bad[:10]:
        print(f"  {r[0]} {r[2].strip()}", file=sys.stderr)
    print(f"{len(rows)} answers for {want} paths, {len(bad)} not 200", file=sys.stderr)
    sys.exit(1)
sizes = [int(r[1]) for r in rows]
print(int(statistics.median_low(sizes)), min(sizes), max(sizes))
PY
}

# ---------------------------------------------------------------- wrk
# Parses one wrk output file: prints "rps p50_us p99_us non2xx socket_errors".
parse_wrk() { # file
    python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^BENCH (.*)$", text, re.M)
if m:
    kv = dict(x.split("=", 1) for x in m.group(1).split())
    sock = sum(int(kv[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    print(kv["rps"], kv["p50_us"], kv["p99_us"], kv["non2xx"], sock)
    sys.exit(0)
# Fallback: wrk's own text (no Lua done() line).
def us(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s|m)", v).groups()
    return float(n) * {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6}[unit]
rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
if not (rps and p50 and p99):
    print("cannot parse wrk output", file=sys.stderr)
    sys.exit(1)
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
print(rps.group(1), us(p50.group(1)), us(p99.group(1)),
      non2xx.group(1) if non2xx else 0, sum(map(int, sock.groups())) if sock else 0)
PY
}

run_wrk() { # url paths_file duration out_file
    PATHS_FILE="$2" taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"$3" --latency -s "$LUA" "$1" > "$4" 2>&1 \
        || { cat "$4" >&2; die "wrk failed against $1"; }
}

# ---------------------------------------------------------------- scenarios
SUMMARY_ROWS=()
for scenario in $SCENARIOS; do
    say "## scenario: $scenario"
    paths="$OUT_DIR/$scenario.paths"
    make_paths "$scenario" "$paths"
    npaths=$(grep -c . "$paths" || true)
    (( npaths > 0 )) || die "$scenario: no paths"
    [[ $scenario == job && $npaths -lt 1000 ]] && say "note: only $npaths job paths (wanted 1000)"
    read -r SIZE SMIN SMAX < <(measure_size "$BOARD_URL" "$paths" "$scenario") \
        || die "$scenario: not every path answers 200 (see $OUT_DIR/$scenario.sizes)"
    say "$npaths paths, all 200; body bytes median $SIZE (min $SMIN, max $SMAX)"

    start_ceiling "$SIZE"
    say "ceiling pid $CEILING_PID serving $SIZE bytes (spawn to first 200: ${CEILING_START_MS} ms)"

    say "warm-up ${WARMUP} each"
    run_wrk "$CEILING_URL" "$paths" "$WARMUP" "$OUT_DIR/$scenario.warm.ceiling.txt"
    run_wrk "$BOARD_URL" "$paths" "$WARMUP" "$OUT_DIR/$scenario.warm.board.txt"

    printf '%-5s %12s %12s %7s %10s %10s %10s %10s %7s\n' pair "ceiling r/s" "board r/s" share "c p50 ms" "c p99 ms" "b p50 ms" "b p99 ms" non2xx
    for pair in $(seq 1 "$PAIRS"); do
        for side in ceiling board; do
            if [[ $side == ceiling ]]; then url=$CEILING_URL; else url=$BOARD_URL; fi
            out="$OUT_DIR/$scenario.$pair.$side.txt"
            run_wrk "$url" "$paths" "$DURATION" "$out"
            read -r rps p50 p99 non2xx sock < <(parse_wrk "$out") || die "cannot parse $out"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$pair" "$side" "$rps" "$p50" "$p99" "$non2xx" "$sock" >> "$RAW"
            if [[ $side == ceiling ]]; then
                c_rps=$rps; c_p50=$p50; c_p99=$p99; c_bad=$(( non2xx + sock ))
            else
                awk -v cr="$c_rps" -v cp50="$c_p50" -v cp99="$c_p99" -v br="$rps" -v bp50="$p50" -v bp99="$p99" \
                    -v pair="$pair" -v bad="$(( non2xx + sock + c_bad ))" 'BEGIN {
                    printf "%-5s %12.0f %12.0f %7.3f %10.3f %10.3f %10.3f %10.3f %7d\n",
                        pair, cr, br, (cr > 0 ? br / cr : 0), cp50 / 1000, cp99 / 1000, bp50 / 1000, bp99 / 1000, bad }'
            fi
        done
    done

    read -r CH CA CF < <(mem_kb "$CEILING_PID")
    read -r H A F < <(mem_kb "$BOARD_PID")
    stop_pid "$CEILING_PID"
    CEILING_PID=""

    row=$(python3 - "$RAW" "$scenario" "$SIZE" "$A" <<'PY'
import statistics, sys
raw, scenario, size, anon = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
runs = {}
for line in open(raw):
    s, pair, side, rps, p50, p99, non2xx, sock = line.rstrip("\n").split("\t")
    if s == scenario:
        runs.setdefault(int(pair), {})[side] = (float(rps), float(p50), float(p99), int(non2xx), int(sock))
pairs = [p for p in sorted(runs) if "ceiling" in runs[p] and "board" in runs[p]]
def col(side, i): return [runs[p][side][i] for p in pairs]
def mmm(xs, fmt):
    return f"{fmt(statistics.median(xs))} ({fmt(min(xs))}–{fmt(max(xs))})"
share = [runs[p]["board"][0] / runs[p]["ceiling"][0] for p in pairs]
f2 = lambda x: f"{x:.2f}"
f0 = lambda x: f"{x:,.0f}"
ms = lambda x: f"{x / 1000:.2f}"
bad_board = sum(col("board", 3)); sock_board = sum(col("board", 4))
bad_ceil = sum(col("ceiling", 3)) + sum(col("ceiling", 4))
anon_mb = "?" if anon == "?" else f"{int(anon) / 1024:.1f}"
errors = f"{bad_board}" + (f" (+{sock_board} socket)" if sock_board else "")
if bad_ceil:
    errors += f" [ceiling: {bad_ceil}]"
print("|".join([
    "", f" {scenario} ", f" {size:,} ", f" {mmm(share, f2)} ", f" {mmm(col('board', 0), f0)} ",
    f" {mmm(col('ceiling', 0), f0)} ", f" {mmm(col('board', 1), ms)} ", f" {mmm(col('board', 2), ms)} ",
    f" {errors} ", f" {anon_mb} ", ""]))
PY
    )
    SUMMARY_ROWS+=("$row")
    say ""
    say "$scenario: share / req/s / latency as median (min–max) over $PAIRS pairs:"
    say "$row"
    say "board after $scenario: VmHWM $(mb "$H") MB, RssAnon $(mb "$A") MB, RssFile $(mb "$F") MB"
    say "ceiling ($SIZE bytes): VmHWM $(mb "$CH") MB, RssAnon $(mb "$CA") MB, RssFile $(mb "$CF") MB"
    say ""
done

# ---------------------------------------------------------------- results
read -r H A F < <(mem_kb "$BOARD_PID")
kill -0 "$BOARD_PID" 2>/dev/null || die "the board exited during the run (log: $OUT_DIR/board.log)"

{
    say "### $(date -u '+%Y-%m-%d') — commit $COMMIT${CEILING_ONLY:+ — CEILING_ONLY self-test, not the board}"
    say ""
    say "$CPUS CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)); server on CPU $SERVER_CPU, \`taskset -c $WRK_CPU wrk -t1 -c$CONNS -d$DURATION --latency -s bench/paths.lua\`; $PAIRS alternating pairs after a ${WARMUP} warm-up; steal ${STEAL:-?} %, idle ${IDLE:-?} % before the run."
    say "Values are median (min–max) over the pairs; share = board req/s ÷ ceiling req/s in the same pair; latency in ms."
    say ""
    say "| scenario | page bytes | share | board req/s | ceiling req/s | board p50 ms | board p99 ms | non-2xx | RssAnon MB after |"
    say "|---|---:|---|---|---|---|---|---:|---:|"
    for row in "${SUMMARY_ROWS[@]}"; do say "$row"; done
    say ""
    say "Board memory after all runs: VmHWM $(mb "$H") MB, RssAnon $(mb "$A") MB (heap etc.), RssFile $(mb "$F") MB (file-backed: binary, mmapped index/database)."
    say "Cold start, spawn to first 200 of \`/\`: ${BOARD_START_MS} ms with a warm page cache (${FIRST_START_MS} ms on the first start)."
    if [[ -n $DEMO_SECS ]]; then
        say "Demo data: \`demo --jobs $JOBS\` took ${DEMO_SECS} s."
    fi
} > "$OUT_DIR/results.md"

say "## results (paste into bench/README.md)"
say ""
cat "$OUT_DIR/results.md"
say ""
say "raw: $RAW; wrk outputs and logs: $OUT_DIR"

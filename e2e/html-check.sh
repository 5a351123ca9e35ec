#!/usr/bin/env bash
# Serves a board with demo data and real postings, fetches one page of every
# type, and runs the Nu HTML checker (vnu-jar) over them. Exits non-zero on any
# HTML error, a non-200 page, or a sitemap that is not well-formed XML.
#
#   bash e2e/html-check.sh [path/to/jobboard]     (default: target/debug/jobboard)
#
# Pages only the test suite can reach (paid posting against its local Stripe)
# are checked too when JOBBOARD_TEST_PAGES names the folder `cargo test` kept
# them in (`JOBBOARD_TEST_PAGES=$PWD/target/test-pages cargo test`).
#
# Needs java and e2e/node_modules/vnu-jar (`npm ci --prefix e2e`); xmllint when present.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${1:-target/debug/jobboard}
PORT=${PORT:-18181}
BASE="http://127.0.0.1:$PORT"
VNU=e2e/node_modules/vnu-jar/build/dist/vnu.jar
[ -f "$VNU" ] || { echo "html-check: $VNU missing; run: npm ci --prefix e2e" >&2; exit 1; }

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
echo 'copper lantern beside the river' | "$BIN" --data-dir "$DATA" admin create --email admin@html-check.example >/dev/null 2>&1

JOBBOARD_BASE_URL="$BASE" "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
PID=$!
for _ in $(seq 1 100); do
    curl -fs "$BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

# Paths of one job of each kind, from the export.
"$BIN" --data-dir "$DATA" export > "$WORK/export.jsonl"
read -r first chinese closed mail company < <(python3 - "$WORK/export.jsonl" <<'PY'
import json, re, sys
jobs = [json.loads(l) for l in open(sys.argv[1])]
path = lambda j: j["url"].split("://", 1)[1].split("/", 1)[1]
first = next(j for j in jobs if j["status"] == "published")
chinese = next(j for j in jobs if re.search(r"[\u4e00-\u9fff]", j["title"]))
closed = next(j for j in jobs if j["title"] == "Closed Role")
mail = next(j for j in jobs if j["title"] == "Mail Role")
print("/" + path(first), "/" + path(chinese), closed["id"], mail["id"], first["company"]["slug"])
PY
)

mkdir -p "$WORK/pages"
fetch() { # name path expected-status
    local code
    code=$(curl -s -o "$WORK/pages/$1.html" -w '%{http_code}' "$2")
    if [ "$code" != "$3" ]; then echo "html-check: $2 answered $code, expected $3" >&2; exit 1; fi
}
fetch home "$BASE/" 200
fetch jobs "$BASE/jobs" 200
fetch jobs-page-2 "$BASE/jobs?page=2" 200
fetch job "$BASE$first" 200
fetch job-chinese "$BASE$chinese" 200
fetch job-closed "$BASE/jobs/$closed" 301
fetch job-closed "$(curl -s -o /dev/null -w '%{redirect_url}' "$BASE/jobs/$closed")" 200
fetch apply-email "$BASE/jobs/$mail/apply" 200
fetch company "$BASE/companies/$company" 200
fetch search "$BASE/jobs?q=engineer&remote=europe&tag=rust" 200
fetch search-cjk "$BASE/jobs?q=%E5%B7%A5%E7%A8%8B%E5%B8%AB" 200
fetch search-empty "$BASE/jobs?q=zzzzqqqq&category=design" 200
fetch not-found "$BASE/no/such/page" 404

# The account and posting pages, as one browser with a cookie jar: a new
# employer posts a job through the forms.
JAR="$WORK/cookies.txt"
page() { # name expected-status curl-args...  (keeps cookies; saves the body)
    local name=$1 want=$2 code
    shift 2
    code=$(curl -s -b "$JAR" -c "$JAR" -o "$WORK/pages/$name.html" -w '%{http_code}' "$@")
    if [ "$code" != "$want" ]; then echo "html-check: $name answered $code, expected $want" >&2; exit 1; fi
}
page login 200 "$BASE/login"
CSRF=$(grep -o 'name="csrf_token" value="[0-9a-f]*"' "$WORK/pages/login.html" | head -1 | sed 's/.*value="//; s/"//')
form() { # name expected-status path fields...
    local name=$1 want=$2 path=$3 args=()
    shift 3
    for f in "csrf_token=$CSRF" "$@"; do args+=(--data-urlencode "$f"); done
    page "$name" "$want" "${args[@]}" "$BASE$path"
}
page register 200 "$BASE/register"
page forgot-password 200 "$BASE/forgot-password"
page reset-password-expired 400 "$BASE/reset-password?token=nope"
form login-refused 422 /login email=nobody@example.com "password=not the password"
page post 200 "$BASE/post"
form post-refused 422 /post "title=Half a job" salary_min=lots
JOB=(title=Cartographer "company_name=Atlas & Co" company_website=https://atlas.example
     "description=## Maps\n\nWe draw **maps**." category=design job_type=contract tags=maps,gis
     remote=europe remote=africa salary_min=50000 salary_max=70000 salary_currency=EUR
     salary_period=year apply_email=jobs@atlas.example)
form post-account 200 /post "${JOB[@]}"
form post-registered 303 /post "${JOB[@]}" account=register email=maps@atlas.example "password=violet tractor under moonlight"
ID=$("$BIN" --data-dir "$DATA" export --status draft | python3 -c "import json, sys; print(json.loads(sys.stdin.readline())['id'])")
page post-preview 200 "$BASE/post/$ID/preview"
form post-submitted 303 "/post/$ID/submit"
page post-done 200 "$BASE/post/$ID/done"
page dashboard 200 "$BASE/dashboard"
page dashboard-company 200 "$BASE/dashboard/company"
page dashboard-tokens 200 "$BASE/dashboard/tokens"
page dashboard-receipts 200 "$BASE/dashboard/receipts"
form dashboard-token-created 200 /dashboard/tokens name=html-check
page dashboard-edit 200 "$BASE/dashboard/jobs/$ID/edit"
form dashboard-edit-refused 422 "/dashboard/jobs/$ID/edit" title=
page dashboard-delete 200 "$BASE/dashboard/jobs/$ID/delete"

# The admin pages, signed in as the admin made above.
JAR="$WORK/admin-cookies.txt"
page admin-login 200 "$BASE/login"
CSRF=$(grep -o 'name="csrf_token" value="[0-9a-f]*"' "$WORK/pages/admin-login.html" | head -1 | sed 's/.*value="//; s/"//')
form admin-signed-in 303 /login email=admin@html-check.example "password=copper lantern beside the river"
page admin 200 "$BASE/admin"
page admin-jobs 200 "$BASE/admin/jobs?status=published"
page admin-users 200 "$BASE/admin/users"
page admin-payments 200 "$BASE/admin/payments"
page admin-job 200 "$BASE/admin/jobs/$ID"
page admin-edit 200 "$BASE/admin/jobs/$ID/edit"
form admin-reject-refused 422 "/admin/jobs/$ID/reject" reason=
rm -f "$WORK/pages/admin-login.html" "$WORK/pages/admin-signed-in.html"

# Alerts: the form from a search, a refused and an accepted subscription, then
# the pages behind the links of the confirmation email the worker delivers.
page alerts-form 200 "$BASE/alerts?q=engineer&remote=europe&tag=rust"
form alerts-refused 422 /alerts email=not-an-address frequency=daily q=engineer
form alerts-subscribed 303 /alerts email=alerts@html-check.example frequency=daily q=engineer remote=europe
page alerts-sent 200 "$BASE/alerts/sent"
LINK=""
for _ in $(seq 1 100); do
    LINK=$(python3 - "$DATA/outbox" <<'PY'
import email, os, re, sys
folder = sys.argv[1]
for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
    msg = email.message_from_bytes(open(os.path.join(folder, name), "rb").read())
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            m = re.search(r"/alerts/confirm/[0-9]+\.[0-9a-f]+", part.get_payload(decode=True).decode())
            if m:
                print(m.group(0))
                sys.exit()
PY
)
    [ -n "$LINK" ] && break
    sleep 0.1
done
[ -n "$LINK" ] || { echo "html-check: no alert confirmation email in the outbox" >&2; exit 1; }
page alerts-confirmed 200 "$BASE$LINK"
link_in() { # page-name path-prefix: the first link to it on that page, as a path
    { grep -oE "(href|action)=\"[^\"]*$2[0-9]*\.[0-9a-f]*\"" "$WORK/pages/$1.html" || true; } | head -1 \
        | sed -E 's/^(href|action)="//; s/"$//; s|^https?://[^/]*||'
}
ALERT_MANAGE=$(link_in alerts-confirmed /alerts/manage/)
[ -n "$ALERT_MANAGE" ] || { echo "html-check: no manage link on the confirmed page" >&2; exit 1; }
page alerts-manage 200 "$BASE$ALERT_MANAGE"
ALERT_STOP=$(link_in alerts-confirmed /alerts/unsubscribe/)
[ -n "$ALERT_STOP" ] || ALERT_STOP=$(link_in alerts-manage /alerts/unsubscribe/)
[ -n "$ALERT_STOP" ] || { echo "html-check: no unsubscribe link on the alert pages" >&2; exit 1; }
page alerts-unsubscribe 200 "$BASE$ALERT_STOP"
rm -f "$WORK/pages/alerts-subscribed.html"
rm -f "$WORK/pages/post-registered.html" "$WORK/pages/post-submitted.html"

if [ -n "${JOBBOARD_TEST_PAGES:-}" ]; then
    kept=("$JOBBOARD_TEST_PAGES"/*.html)
    [ -e "${kept[0]}" ] || { echo "html-check: no pages kept in $JOBBOARD_TEST_PAGES" >&2; exit 1; }
    for f in "${kept[@]}"; do cp "$f" "$WORK/pages/test-$(basename "$f")"; done
fi

java -Dnu.validator.servlet.allow-forbidden-hosts=true -jar "$VNU" --errors-only --also-check-css "$WORK"/pages/*.html
curl -fs "$BASE/assets/$(grep -o 'css/app\.[0-9a-f]*\.css' "$WORK/pages/home.html" | head -1)" > "$WORK/app.css"
java -jar "$VNU" --errors-only --css "$WORK/app.css"

curl -fs "$BASE/sitemap.xml" > "$WORK/sitemap.xml"
curl -fs "$BASE/feed.xml?q=engineer" > "$WORK/feed.xml"
for xml in "$WORK/sitemap.xml" "$WORK/feed.xml"; do
    if command -v xmllint >/dev/null; then
        xmllint --noout "$xml"
    else
        python3 -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])" "$xml"
    fi
done
grep -q '<entry>' "$WORK/feed.xml" || { echo "html-check: the feed has no entries" >&2; exit 1; }
echo "html-check: $(ls "$WORK"/pages | wc -l) pages valid (Nu HTML checker), stylesheet valid, sitemap and feed well-formed"

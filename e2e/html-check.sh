#!/usr/bin/env bash
# Serves a board with demo data and real postings, fetches one page of every
# type (error pages included), and runs the Nu HTML checker (vnu-jar) over them
# and the stylesheet. Checks the machine-readable output too:
#   - the sitemap against the sitemaps.org XSD (from the npm sitemap package),
#     and, on a second board of 40,001 jobs, the sitemap index against
#     e2e/schemas/siteindex.xsd and each of its files against the XSD;
#   - every kind of Atom feed against RFC 4287 with e2e/atom-check.py (the
#     RELAX NG grammar e2e/schemas/atom.rng and the rules it cannot state),
#     after a self-test that broken feeds are refused;
#   - the JSON-LD JobPosting of job pages of every kind with
#     e2e/jsonld-check.py (Google's required properties).
# Exits non-zero on any error or a page answering an unexpected status.
#
#   bash e2e/html-check.sh [path/to/jobboard]     (default: target/debug/jobboard)
#
# Pages only the test suite can reach (paid posting against its local Stripe)
# are checked too when JOBBOARD_TEST_PAGES names the folder `cargo test` kept
# them in (`JOBBOARD_TEST_PAGES=$PWD/target/test-pages cargo test`).
#
# Needs java, python3, xmllint (libxml2-utils) and e2e/node_modules
# (`npm ci --prefix e2e`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${1:-target/debug/jobboard}
PORT=${PORT:-18181}
BASE="http://127.0.0.1:$PORT"
VNU=e2e/node_modules/vnu-jar/build/dist/vnu.jar
SITEMAP_XSD=e2e/node_modules/sitemap/schema/sitemap.xsd
[ -f "$VNU" ] || { echo "html-check: $VNU missing; run: npm ci --prefix e2e" >&2; exit 1; }
[ -f "$SITEMAP_XSD" ] || { echo "html-check: $SITEMAP_XSD missing; run: npm ci --prefix e2e" >&2; exit 1; }
command -v xmllint >/dev/null || { echo "html-check: xmllint missing (apt-get install libxml2-utils)" >&2; exit 1; }

WORK=$(mktemp -d)
DATA="$WORK/data"
PID=
BIG_PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null
    [ -n "$BIG_PID" ] && kill "$BIG_PID" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# A board past one sitemap file (40,000 jobs) serves a sitemap index; its
# demo data is made in the background while the first board is checked.
"$BIN" --data-dir "$WORK/big" demo --jobs 40001 >/dev/null 2>&1 &
BIG_DEMO=$!

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
read -r first chinese closed mail company hybrid remote worldwide hourly mail_page closed_company < <(python3 - "$WORK/export.jsonl" <<'PY'
import json, re, sys
jobs = [json.loads(l) for l in open(sys.argv[1])]
path = lambda j: "/" + j["url"].split("://", 1)[1].split("/", 1)[1]
live = [j for j in jobs if j["status"] == "published"]
first = live[0]
chinese = next(j for j in live if re.search(r"[\u4e00-\u9fff]", j["title"]))
closed = next(j for j in jobs if j["title"] == "Closed Role")
mail = next(j for j in jobs if j["title"] == "Mail Role")
# Job pages whose JSON-LD differs: an office and a salary; fully remote
# without a salary; worldwide; paid by the hour.
hybrid = next(j for j in live if j["location"] and "," in j["location"] and j["salary_min"])
remote = next(j for j in live if not j["location"] and not j["salary_min"])
worldwide = next(j for j in live if j["remote"] == ["worldwide"])
hourly = next(j for j in live if j["salary_period"] == "hour")
print(path(first), path(chinese), closed["id"], mail["id"], first["company"]["slug"],
      path(hybrid), path(remote), path(worldwide), path(hourly), path(mail), closed["company"]["slug"])
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
fetch job-hybrid "$BASE$hybrid" 200
fetch job-remote "$BASE$remote" 200
fetch job-worldwide "$BASE$worldwide" 200
fetch job-hourly "$BASE$hourly" 200
fetch job-mail "$BASE$mail_page" 200
fetch job-closed "$BASE/jobs/$closed" 301
fetch job-closed "$(curl -s -o /dev/null -w '%{redirect_url}' "$BASE/jobs/$closed")" 200
fetch apply-email "$BASE/jobs/$mail/apply" 200
fetch company "$BASE/companies/$company" 200
fetch company-without-jobs "$BASE/companies/$closed_company" 200
fetch search "$BASE/jobs?q=engineer&remote=europe&tag=rust" 200
fetch search-cjk "$BASE/jobs?q=%E5%B7%A5%E7%A8%8B%E5%B8%AB" 200
fetch search-empty "$BASE/jobs?q=zzzzqqqq&category=design" 200
fetch not-found "$BASE/no/such/page" 404
fetch method-not-allowed "$BASE/logout" 405
code=$(curl -s -o "$WORK/pages/forbidden.html" -w '%{http_code}' --data 'email=a@b.example' "$BASE/login")
[ "$code" = 403 ] || { echo "html-check: a sign-in without a CSRF token answered $code, expected 403" >&2; exit 1; }

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
form register-refused 422 /register email=not-an-address password=short
page forgot-password 200 "$BASE/forgot-password"
form forgot-password-refused 422 /forgot-password email=not-an-address
page reset-password-expired 400 "$BASE/reset-password?token=nope"
form login-refused 422 /login email=nobody@example.com "password=not the password"
page post 200 "$BASE/post"
form post-refused 422 /post "title=Half a job" salary_min=lots company_website=not-a-site apply_url=nowhere apply_email=nobody
JOB=(title=Cartographer "company_name=Atlas & Co" company_website=https://atlas.example
     "description=## Maps\n\nWe draw **maps**." category=design job_type=contract tags=maps,gis
     remote=europe remote=africa salary_min=50000 salary_max=70000 salary_currency=EUR
     salary_period=year apply_email=jobs@atlas.example)
form post-account 200 /post "${JOB[@]}"
form post-registered 303 /post "${JOB[@]}" account=register email=maps@atlas.example "password=violet tractor under moonlight"
ID=$("$BIN" --data-dir "$DATA" export --status draft | python3 -c "import json, sys; print(json.loads(sys.stdin.readline())['id'])")
page post-edit 200 "$BASE/post/$ID/edit"
page post-preview 200 "$BASE/post/$ID/preview"
form post-submitted 303 "/post/$ID/submit"
page post-done 200 "$BASE/post/$ID/done"
fetch job-posted "$BASE$(curl -s -o /dev/null -w '%{redirect_url}' "$BASE/jobs/$ID" | sed -E 's|^https?://[^/]*||')" 200
page dashboard 200 "$BASE/dashboard"
page dashboard-company 200 "$BASE/dashboard/company"
page dashboard-tokens 200 "$BASE/dashboard/tokens"
page dashboard-receipts 200 "$BASE/dashboard/receipts"
form dashboard-token-created 200 /dashboard/tokens name=html-check
form dashboard-company-refused 422 /dashboard/company company_name= company_website=not-a-site
page dashboard-edit 200 "$BASE/dashboard/jobs/$ID/edit"
form dashboard-edit-refused 422 "/dashboard/jobs/$ID/edit" title=
page dashboard-delete 200 "$BASE/dashboard/jobs/$ID/delete"

# Links the worker mails: the last one matching a pattern, once at least
# `count` such links are in the outbox.
outbox_link() { # pattern count
    local link=""
    for _ in $(seq 1 100); do
        link=$(python3 - "$DATA/outbox" "$1" "$2" <<'PY'
import email, os, re, sys
folder, pattern, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
found = []
for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
    msg = email.message_from_bytes(open(os.path.join(folder, name), "rb").read())
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            found += re.findall(pattern, part.get_payload(decode=True).decode())
if len(found) >= count:
    print(found[-1])
PY
)
        [ -n "$link" ] && break
        sleep 0.1
    done
    [ -n "$link" ] || { echo "html-check: no email with a link to $1 in the outbox" >&2; exit 1; }
    echo "$link"
}

# Verifying the new employer's email: before, a new link, the link, used again.
page verify-email-waiting 200 "$BASE/verify-email"
form verify-email-sent 200 /verify-email
VERIFY=$(outbox_link '/verify-email\?token=[0-9A-Za-z_.-]+' 2)
page verify-email-verified 200 "$BASE$VERIFY"
page verify-email-used 400 "$BASE$VERIFY"

# A password reset for them: asked for, the emailed form, a refused password.
form forgot-password-sent 200 /forgot-password email=maps@atlas.example
RESET=$(outbox_link '/reset-password\?token=[0-9A-Za-z_.-]+' 1)
page reset-password 200 "$BASE$RESET"
form reset-password-refused 422 /reset-password "token=${RESET#*token=}" password=short

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
page alerts-manage-changed 200 "$BASE$ALERT_MANAGE?changed=1"
ALERT_STOP=$(link_in alerts-confirmed /alerts/unsubscribe/)
[ -n "$ALERT_STOP" ] || ALERT_STOP=$(link_in alerts-manage /alerts/unsubscribe/)
[ -n "$ALERT_STOP" ] || { echo "html-check: no unsubscribe link on the alert pages" >&2; exit 1; }
page alerts-unsubscribe 200 "$BASE$ALERT_STOP"
page alerts-unsubscribed 200 --data List-Unsubscribe=One-Click "$BASE$ALERT_STOP"
rm -f "$WORK/pages/alerts-subscribed.html"
rm -f "$WORK/pages/post-registered.html" "$WORK/pages/post-submitted.html"

if [ -n "${JOBBOARD_TEST_PAGES:-}" ]; then
    kept=("$JOBBOARD_TEST_PAGES"/*.html)
    [ -e "${kept[0]}" ] || { echo "html-check: no pages kept in $JOBBOARD_TEST_PAGES" >&2; exit 1; }
    for f in "${kept[@]}"; do cp "$f" "$WORK/pages/test-$(basename "$f")"; done
fi

# The HTML part of every email the worker wrote (verification, reset, alert
# confirmation, publication...) is checked like a page.
python3 - "$DATA/outbox" "$WORK/pages" <<'PY'
import email, os, re, sys
folder, pages = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(folder)):
    msg = email.message_from_bytes(open(os.path.join(folder, name), "rb").read())
    subject = re.sub(r"[^a-z0-9]+", "-", str(msg["Subject"]).lower()).strip("-")[:40]
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            with open(os.path.join(pages, f"email-{name[:-4]}-{subject}.html"), "wb") as f:
                f.write(part.get_payload(decode=True))
PY

# One run of the checker (a JVM start costs seconds) for the pages and the stylesheet.
curl -fs "$BASE/assets/$(grep -o 'css/app\.[0-9a-f]*\.css' "$WORK/pages/home.html" | head -1)" > "$WORK/app.css"
java -Dnu.validator.servlet.allow-forbidden-hosts=true -jar "$VNU" --errors-only --also-check-css "$WORK"/pages/*.html "$WORK/app.css"

# XML files against their schema; xmllint's output only when one fails.
xsd() { # schema files...
    local schema=$1
    shift
    xmllint --noout --schema "$schema" "$@" 2>"$WORK/xmllint.txt" || { cat "$WORK/xmllint.txt" >&2; exit 1; }
}
# The sitemap's own rules: absolute URLs on this board, each once, at most
# 50,000 a file; every live job listed (and nothing else under /jobs/): those
# of an export, or as many jobs as a number says.
sitemap_rules() { # base export|count files...
    python3 - "$@" <<'PY'
import json, sys, xml.etree.ElementTree as ET
base, export, files = sys.argv[1], sys.argv[2], sys.argv[3:]
ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
errors, seen = [], set()
for f in files:
    locs = [e.text for e in ET.parse(f).getroot().iter(ns + "loc")]
    if len(locs) > 50000:
        errors.append(f"{f}: {len(locs)} URLs, more than 50,000")
    for loc in locs:
        if not loc.startswith(base + "/"):
            errors.append(f"{f}: {loc} is not on {base}")
        if loc in seen:
            errors.append(f"{f}: {loc} listed twice")
        seen.add(loc)
jobs = {u for u in seen if u.startswith(base + "/jobs/")}
if export.isdigit():
    if len(jobs) != int(export):
        errors.append(f"{len(jobs)} jobs listed, expected {export}")
else:
    # The export speaks of its own base URL; the paths are what must match.
    live = {base + "/" + j["url"].split("://", 1)[1].split("/", 1)[1]
            for j in map(json.loads, open(export)) if j["status"] == "published"}
    errors += [f"the live job {u} is missing" for u in sorted(live - jobs)[:5]]
    errors += [f"{u} is not a live job" for u in sorted(jobs - live)[:5]]
for e in errors:
    print(f"html-check: sitemap: {e}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

# The sitemap of a board of one file, and the files /sitemaps/ serves.
"$BIN" --data-dir "$DATA" export > "$WORK/export.jsonl"
for f in sitemap.xml sitemaps/site.xml sitemaps/jobs-1.xml; do
    curl -fs "$BASE/$f" > "$WORK/${f//\//-}"
done
xsd "$SITEMAP_XSD" "$WORK/sitemap.xml" "$WORK/sitemaps-site.xml" "$WORK/sitemaps-jobs-1.xml"
sitemap_rules "$BASE" "$WORK/export.jsonl" "$WORK/sitemap.xml"

# Feeds of every kind: all jobs, a search, a search in Chinese, filters, a
# search with no results. Each must be valid Atom, after a self-test proving
# that the check refuses broken feeds.
FEEDS=("/feed.xml" "/feed.xml?q=engineer" "/feed.xml?q=%E5%B7%A5%E7%A8%8B%E5%B8%AB"
       "/feed.xml?category=design&remote=europe&remote=africa" "/feed.xml?tag=rust&job_type=full_time&salary_min=1"
       "/feed.xml?q=zzzzqqqq")
args=()
for i in "${!FEEDS[@]}"; do
    type=$(curl -fs -o "$WORK/feed-$i.xml" -w '%{content_type}' "$BASE${FEEDS[$i]}")
    [ "$type" = "application/atom+xml; charset=utf-8" ] || { echo "html-check: ${FEEDS[$i]} is $type" >&2; exit 1; }
    args+=("$WORK/feed-$i.xml=$BASE${FEEDS[$i]}")
done
python3 e2e/atom-check.py --self-test "$WORK/feed-0.xml" >/dev/null
python3 e2e/atom-check.py "${args[@]}"
for i in 0 1; do
    grep -q '<entry>' "$WORK/feed-$i.xml" || { echo "html-check: ${FEEDS[$i]} has no entries" >&2; exit 1; }
done
! grep -q '<entry>' "$WORK/feed-5.xml" || { echo "html-check: ${FEEDS[5]} has entries" >&2; exit 1; }

# JSON-LD: a full JobPosting on every open job's page, none on a closed one's.
python3 e2e/jsonld-check.py "$WORK"/pages/job.html "$WORK"/pages/job-{chinese,hybrid,remote,worldwide,hourly,mail,posted}.html \
    --none "$WORK/pages/job-closed.html"

# The board of 40,001 jobs: its sitemap is an index of sitemap files.
wait "$BIG_DEMO" || { echo "html-check: the demo of 40,001 jobs failed" >&2; exit 1; }
BIG_BASE="http://127.0.0.1:$((PORT + 1))"
JOBBOARD_BASE_URL="$BIG_BASE" "$BIN" --data-dir "$WORK/big" serve --no-worker --listen "127.0.0.1:$((PORT + 1))" 2>"$WORK/big.log" &
BIG_PID=$!
for _ in $(seq 1 100); do
    curl -fs "$BIG_BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "$BIG_BASE/sitemap.xml" > "$WORK/big-index.xml"
xsd e2e/schemas/siteindex.xsd "$WORK/big-index.xml"
mapfile -t parts < <(python3 -c '
import sys, xml.etree.ElementTree as ET
for loc in ET.parse(sys.argv[1]).getroot().iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc"):
    print(loc.text)' "$WORK/big-index.xml")
[ "${#parts[@]}" -ge 3 ] || { echo "html-check: the index lists ${#parts[@]} sitemaps, expected site and two job files" >&2; exit 1; }
files=()
fetches=()
for i in "${!parts[@]}"; do
    case "${parts[$i]}" in "$BIG_BASE"/sitemaps/*) ;; *) echo "html-check: the index lists ${parts[$i]}" >&2; exit 1 ;; esac
    curl -fs -o "$WORK/big-part-$i.xml" "${parts[$i]}" &
    fetches+=($!)
    files+=("$WORK/big-part-$i.xml")
done
for f in "${fetches[@]}"; do
    wait "$f" || { echo "html-check: a sitemap file of the index did not answer 200" >&2; exit 1; }
done
xsd "$SITEMAP_XSD" "${files[@]}"
sitemap_rules "$BIG_BASE" 40001 "${files[@]}"

emails=$(find "$WORK/pages" -name 'email-*' | wc -l)
echo "html-check: $(($(ls "$WORK"/pages | wc -l) - emails)) pages and $emails emails valid (Nu HTML checker), stylesheet valid;" \
    "sitemap and sitemap index valid (XSD); ${#FEEDS[@]} Atom feeds valid (RFC 4287; self-test passed); JSON-LD complete on 8 job pages"

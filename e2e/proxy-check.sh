#!/usr/bin/env bash
# Runs a board behind nginx configured by packaging/nginx.conf (test ports, a
# self-signed certificate for localhost) and checks the setup README's
# Deployment section describes:
#   - http:// is redirected to https://, which serves the board;
#   - base_url https: HSTS and Secure cookies;
#   - X-Forwarded-For: clients behind the proxy are counted apart by the rate
#     limits, and an address a client forges is ignored;
#   - bodies: nginx refuses one over client_max_body_size (413), the board one
#     over its route's limit (413), declared or chunked;
#   - slow clients (headers one byte a second) are cut off by nginx and by the
#     board without a proxy, while others are served meanwhile.
#
#   bash e2e/proxy-check.sh [path/to/jobboard]     (default: target/debug/jobboard)
#
# Needs nginx, openssl, curl and python3. Ports: PORT (the board, 18281), and
# the two after it for nginx (http, https).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${1:-target/debug/jobboard}
BOARD_PORT=${PORT:-18281}
HTTP_PORT=$((BOARD_PORT + 1))
TLS_PORT=$((BOARD_PORT + 2))
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

fail() {
    echo "proxy-check: $*" >&2
    exit 1
}
[ -x "$NGINX" ] || fail "nginx not found (apt install nginx)"

WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    if [ -f "$WORK/nginx.pid" ]; then kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true; fi
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- the board, with a small sign-in limit to count clients by ----------------
JOBBOARD_BASE_URL="https://localhost:$TLS_PORT" JOBBOARD_LIMITS_LOGIN_PER_IP=3/1h \
    "$BIN" --data-dir "$WORK/data" serve --listen "127.0.0.1:$BOARD_PORT" 2>"$WORK/serve.log" &
PIDS+=($!)

# --- nginx with packaging/nginx.conf --------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
sed -e "s/jobs\.example\.org/localhost/g" \
    -e "s/server 127\.0\.0\.1:8080;/server 127.0.0.1:$BOARD_PORT;/" \
    -e "s/^    listen 80;/    listen 127.0.0.1:$HTTP_PORT;/" \
    -e "s/^    listen 443 ssl http2;/    listen 127.0.0.1:$TLS_PORT ssl http2;/" \
    -e "/^    listen \[::\]/d" \
    -e "s#/etc/letsencrypt/live/localhost/fullchain\.pem#$WORK/cert.pem#" \
    -e "s#/etc/letsencrypt/live/localhost/privkey\.pem#$WORK/key.pem#" \
    packaging/nginx.conf >"$WORK/site.conf"
for rewritten in "127.0.0.1:$BOARD_PORT;" "127.0.0.1:$HTTP_PORT;" "127.0.0.1:$TLS_PORT ssl" "$WORK/cert.pem" "$WORK/key.pem"; do
    grep -qF "$rewritten" "$WORK/site.conf" || fail "packaging/nginx.conf changed shape: could not set $rewritten"
done
mkdir -m 777 "$WORK/tmp"
cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events { worker_connections 256; }
http {
    access_log $WORK/access.log;
    client_body_temp_path $WORK/tmp/body;
    proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fastcgi;
    uwsgi_temp_path $WORK/tmp/uwsgi;
    scgi_temp_path $WORK/tmp/scgi;
    include $WORK/site.conf;
}
EOF
"$NGINX" -t -q -c "$WORK/nginx.conf" -p "$WORK" || fail "nginx refuses the configuration"
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK"

HTTP="http://localhost:$HTTP_PORT"
HTTPS="https://localhost:$TLS_PORT"
BOARD="http://127.0.0.1:$BOARD_PORT"
for _ in $(seq 1 100); do
    curl -fsk "$HTTPS/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsk "$HTTPS/healthz" >/dev/null || {
    cat "$WORK/serve.log" "$WORK/error.log" >&2
    fail "the board does not answer through nginx"
}

# --- http → https, TLS, HSTS, Secure cookies ------------------------------------
read -r code location < <(curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' "$HTTP/jobs?q=rust")
[ "$code" = 301 ] || fail "http:// answered $code, expected 301"
[ "$location" = "https://localhost/jobs?q=rust" ] || fail "http:// redirected to $location"
headers=$(curl -sk -D - -o /dev/null "$HTTPS/login")
grep -qi '^strict-transport-security: max-age=31536000' <<<"$headers" || fail "no HSTS over https: $headers"
grep -i '^set-cookie: jb_csrf=' <<<"$headers" | grep -qi '; *secure' || fail "the CSRF cookie is not Secure: $headers"
echo "proxy-check: redirect, TLS, HSTS and Secure cookies ok"

# --- X-Forwarded-For ------------------------------------------------------------
# Sign-in attempts from two client addresses (127.0.0.2 and .3, both loopback
# on Linux); the board sees only nginx (127.0.0.1) as its peer and must count
# them apart by the address nginx appends, never by one a client sends.
sign_in() { # from-address forged-xff email → HTTP status
    local jar="$WORK/jar-$1" token
    token=$(curl -sk --interface "$1" -c "$jar" "$HTTPS/login" |
        sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
    [ -n "$token" ] || fail "no CSRF token on /login"
    curl -sk --interface "$1" -b "$jar" -o /dev/null -w '%{http_code}' \
        -H "X-Forwarded-For: $2" \
        --data-urlencode "csrf_token=$token" --data-urlencode "email=$3" \
        --data-urlencode "password=not the password at all" "$HTTPS/login"
}
for i in 1 2 3; do
    code=$(sign_in 127.0.0.2 "198.51.100.$i" "someone$i@example.org")
    [ "$code" != 429 ] || fail "attempt $i from 127.0.0.2 was limited already"
done
code=$(sign_in 127.0.0.2 198.51.100.99 someone4@example.org)
[ "$code" = 429 ] || fail "a forged X-Forwarded-For escaped the limit: $code"
code=$(sign_in 127.0.0.3 198.51.100.1 someone5@example.org)
[ "$code" != 429 ] || fail "another client behind the proxy was limited with the first"
echo "proxy-check: X-Forwarded-For ok"

# --- body limits ------------------------------------------------------------------
head -c 3000000 /dev/zero >"$WORK/3mb"
head -c 100000 /dev/zero | tr '\0' 'a' >"$WORK/100kb"
code=$(curl -sk -o "$WORK/out" -w '%{http_code}' --data-binary "@$WORK/3mb" "$HTTPS/login")
[ "$code" = 413 ] && grep -qi nginx "$WORK/out" || fail "nginx let 3 MB through: $code"
code=$(curl -sk -o "$WORK/out" -w '%{http_code}' --data-binary "@$WORK/100kb" "$HTTPS/login")
[ "$code" = 413 ] && grep -q 'too large' "$WORK/out" || fail "the board took 100 KB on /login: $code"
code=$(curl -sk -o "$WORK/out" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
    --data-binary "@$WORK/100kb" "$HTTPS/login")
[ "$code" = 413 ] || fail "the board took a chunked 100 KB on /login: $code"
code=$(curl -s -o "$WORK/out" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
    --data-binary "@$WORK/100kb" "$BOARD/login")
[ "$code" = 413 ] || fail "the board without a proxy took a chunked 100 KB on /login: $code"
echo "proxy-check: body limits ok"

# --- slow clients -----------------------------------------------------------------
# Ten clients each on nginx and on the board itself send a header byte a
# second and never finish; both hang up on them (10 s deadlines), and a
# normal request is answered meanwhile.
python3 - "$HTTP_PORT" "$BOARD_PORT" <<'PY'
import http.client, socket, sys, threading, time

ports = [int(p) for p in sys.argv[1:]]
cut = {}

def trickle(port, n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    start = time.monotonic()
    s.settimeout(1)
    while time.monotonic() - start < 60:
        try:
            s.sendall(b"z")
            s.recv(1024)
            break  # closed, or answered (408) before closing
        except socket.timeout:
            continue
        except OSError:
            break
    cut[(port, n)] = time.monotonic() - start
    s.close()

threads = [threading.Thread(target=trickle, args=(p, n)) for p in ports for n in range(10)]
for t in threads:
    t.start()
time.sleep(2)
for port, expected in zip(ports, (301, 200)):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/healthz", headers={"Host": "localhost"})
    status = c.getresponse().status
    assert status == expected, f"a normal request on port {port} answered {status}"
    c.close()
for t in threads:
    t.join()
for (port, n), secs in sorted(cut.items()):
    assert secs < 30, f"a slow client on port {port} was kept {secs:.0f} s"
print("proxy-check: slow clients cut off after", ", ".join(
    f"{min(s for (p, _), s in cut.items() if p == port):.0f}-{max(s for (p, _), s in cut.items() if p == port):.0f} s on port {port}"
    for port in ports))
PY
curl -fsk "$HTTPS/healthz" >/dev/null || fail "nginx stopped answering"
echo "proxy-check: ok"

#!/usr/bin/env python3
"""Payments benchmark: paid posting through Stripe Checkout, against a fake
Stripe on loopback.

    cargo build --release
    python3 bench/payments.py [--bin target/release/jobboard] [--runs 200] [--poll-ms 5]

Starts a small fake Stripe in this process (the Checkout Session endpoints the
board calls: create, retrieve, expire), then the board on a fresh data dir with
demo data, rate limits off, paid posting at 49.00 and the Stripe API pointed at
the fake. One employer signs up; then, --runs times:
  a. checkout start: a saved draft is submitted (POST /post/{id}/submit), and
     the board makes a Checkout Session at the fake and answers 303 to its page;
  b. the fake marks the session paid and a signed checkout.session.completed
     event is sent to POST /stripe/webhook: time to the 200 (a durable commit);
  e. paid to live: from sending that event until GET /api/v1/jobs/{id} answers
     200 (polled every --poll-ms; the event is settled by the background worker);
  c. the same event again (a retry: same body, fresh signature): time to 200;
  d. the same event signed with another secret: time to the 400.
  Each round waits for the receipt in the outbox before the next one starts.
Then, --runs times:
  f. success redirect: a session paid at the fake with no event sent yet; time
     GET /post/{id}/done?session_id=... (the board looks the session up at the
     fake and settles it in the request); its event is sent afterwards and must
     change nothing.
Then the page cache: GET / (cached) right after a refused event (no write, the
control) and right after a duplicate of a kept event, alternating.
Two references measured in the same run: the loopback round trip of
GET /healthz, and one SQLite commit with synchronous=FULL (WAL) on the same
disk just before each webhook of b., the cost of the fsync every durable write
pays (a shared disk's flush time drifts, so it is taken pair by pair).
At the end it checks what should have happened: one payments row `paid` per
paid session and nothing else, every job published, every event kept once,
every task done, one receipt .eml per payment. Any wrong answer stops the run.
Only the standard library; times are wall-clock round trips on loopback.
"""
import argparse, email, email.policy, hashlib, hmac, http.client, http.server, json, os, re, secrets, shutil
import socket, sqlite3, statistics, string, subprocess, sys, tempfile, threading, time
from urllib.parse import parse_qsl, urlencode, urlsplit

PASSWORD = "violet tractor under moonlight"
SECRET_KEY = "sk_test_bench"
WEBHOOK_SECRET = "whsec_bench"
PRICE = 4900
API_VERSION = "2025-09-30.clover"


class Failed(Exception):
    """A request answered something else than it should: the run stops."""


def check(ok, what):
    if not ok:
        raise Failed(what)


def random_id(n):
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


# ---------------------------------------------------------------------------
# The fake Stripe


class FakeStripe:
    """Checkout Sessions as Stripe's API answers them, kept in memory."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sessions = {}      # id -> session JSON (a dict)
        self.forms = {}         # id -> the create form, as pairs
        self.calls = {"create": 0, "retrieve": 0, "expire": 0, "refused": 0, "other": 0}
        self.handle_times = []  # seconds the fake spent on each create (parse to written)
        handler = type("Handler", (FakeHandler,), {"fake": self})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-stripe", daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def create(self, form):
        fields = dict(form)
        if fields.get("mode") != "payment":
            return 400, invalid("mode", "The fake Stripe only does `payment` mode.")
        items = sorted({int(k.split("[")[1].split("]")[0]) for k in fields if k.startswith("line_items[")})
        if not items:
            return 400, invalid("line_items", "You must specify `line_items` in `payment` mode.")
        total, currency = 0, None
        for i in items:
            p = f"line_items[{i}]"
            try:
                unit = int(fields[f"{p}[price_data][unit_amount]"])
                quantity = int(fields[f"{p}[quantity]"])
                code = fields[f"{p}[price_data][currency]"].lower()
            except (KeyError, ValueError) as e:
                return 400, invalid(f"{p}", f"Missing or invalid param: {e}.")
            if f"{p}[price_data][product_data][name]" not in fields:
                return 400, invalid(f"{p}[price_data][product_data][name]", "Missing required param.")
            if currency not in (None, code):
                return 400, invalid("line_items", "All line items must use the same currency.")
            currency, total = code, total + unit * quantity
        now = int(time.time())
        expires_at = int(fields.get("expires_at", now + 86400))
        if not now + 1800 <= expires_at <= now + 86400:
            return 400, invalid("expires_at", "The `expires_at` timestamp must be 30 minutes to 24 hours away.")
        for key in ("success_url", "cancel_url"):
            if key in fields and not fields[key].startswith(("http://", "https://")):
                return 400, invalid(key, "Not a valid URL")
        metadata = {k[len("metadata["):-1]: v for k, v in form if k.startswith("metadata[")}
        sid = f"cs_test_{random_id(24)}"
        session = {
            "id": sid, "object": "checkout.session", "after_expiration": None, "allow_promotion_codes": None,
            "amount_subtotal": total, "amount_total": total,
            "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
            "billing_address_collection": None, "cancel_url": fields.get("cancel_url"),
            "client_reference_id": fields.get("client_reference_id"), "client_secret": None, "consent": None,
            "consent_collection": None, "created": now, "currency": currency, "custom_fields": [],
            "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                            "terms_of_service_acceptance": None},
            "customer": None, "customer_creation": "if_required", "customer_details": None,
            "customer_email": fields.get("customer_email"), "expires_at": expires_at, "invoice": None,
            "livemode": False, "locale": None, "metadata": metadata, "mode": "payment", "payment_intent": None,
            "payment_link": None, "payment_method_collection": "if_required", "payment_method_types": ["card"],
            "payment_status": "unpaid", "phone_number_collection": {"enabled": False}, "recovered_from": None,
            "setup_intent": None, "shipping_address_collection": None, "shipping_cost": None,
            "shipping_options": [], "status": "open", "submit_type": None, "subscription": None,
            "success_url": fields.get("success_url"),
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted_page", "url": f"{self.base}/pay/{sid}",
        }
        with self.lock:
            self.sessions[sid] = session
            self.forms[sid] = list(form)
            self.calls["create"] += 1
        return 200, session

    def retrieve(self, sid):
        with self.lock:
            self.calls["retrieve"] += 1
            s = self.sessions.get(sid)
            return (200, json.loads(json.dumps(s))) if s else (404, no_such_session(sid))

    def expire(self, sid):
        with self.lock:
            self.calls["expire"] += 1
            s = self.sessions.get(sid)
            if s is None:
                return 404, no_such_session(sid)
            if s["status"] != "open":
                return 400, invalid(None, 'Only Checkout Sessions with a status in ["open"] can be expired.')
            s["status"], s["url"] = "expired", None
            return 200, json.loads(json.dumps(s))

    def pay(self, sid):
        """The customer paid by card: complete and paid. Returns the session."""
        with self.lock:
            s = self.sessions[sid]
            check(s["status"] == "open", f"pay {sid}: the session is {s['status']}, not open")
            s.update(status="complete", payment_status="paid", url=None,
                     payment_intent=f"pi_test_{random_id(24)}", customer=f"cus_test_{random_id(14)}",
                     customer_details={"address": None, "email": s["customer_email"], "name": "Test Buyer",
                                       "phone": None, "tax_exempt": "none", "tax_ids": []})
            return json.loads(json.dumps(s))


def invalid(param, message):
    error = {"type": "invalid_request_error", "message": message}
    if param:
        error["param"] = param
    return {"error": error}


def no_such_session(sid):
    return {"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "session",
                      "message": f"No such checkout.session: '{sid}'"}}


class FakeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as api.stripe.com
    fake = None

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        data = (json.dumps(body) if content_type == "application/json" else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{random_id(14)}")
        self.end_headers()
        self.wfile.write(data)

    def route(self, method):
        start = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        parts = urlsplit(self.path).path.strip("/").split("/")
        if parts[0] == "pay" and len(parts) == 2 and method == "GET":
            return self.answer(200, f"<!doctype html><title>Fake Stripe</title><h1>Pay {parts[1]}</h1>", "text/html")
        if parts[0] != "v1":
            return self.answer(404, invalid(None, f"Unrecognized request URL ({method}: {self.path})."))
        if self.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            self.fake.calls["refused"] += 1
            return self.answer(401, invalid(None, "Invalid API Key provided."))
        rest = parts[1:]
        if method == "POST" and rest == ["checkout", "sessions"]:
            status, reply = self.fake.create(parse_qsl(body, keep_blank_values=True))
            self.answer(status, reply)
            self.fake.handle_times.append(time.perf_counter() - start)
        elif method == "GET" and len(rest) == 3 and rest[:2] == ["checkout", "sessions"]:
            self.answer(*self.fake.retrieve(rest[2]))
        elif method == "POST" and len(rest) == 4 and rest[:2] == ["checkout", "sessions"] and rest[3] == "expire":
            self.answer(*self.fake.expire(rest[2]))
        else:
            self.fake.calls["other"] += 1
            self.answer(404, invalid(None, f"Unrecognized request URL ({method}: {self.path})."))

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")


# ---------------------------------------------------------------------------
# The board's side


class Browser:
    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, fields=None, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
        elapsed = time.perf_counter() - start
        for k, v in resp.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";")[0]
                if value and "Max-Age=0" not in v:
                    self.cookies[name] = value
                else:
                    self.cookies.pop(name, None)
        conn.close()
        return resp.status, resp.getheader("Location"), data, elapsed

    def csrf(self, html):
        m = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
        check(m, "no csrf_token on the page")
        return m.group(1)


def job_fields(n):
    return [("title", f"Payments Bench Engineer {n}"), ("company_name", "Bench Co"),
            ("description", "## Role\n\nMeasure **payments**."), ("category", "software-development"),
            ("job_type", "full_time"), ("tags", "rust, payments"), ("remote", "worldwide"),
            ("salary_min", "90000"), ("salary_max", "120000"), ("salary_currency", "USD"),
            ("salary_period", "year"), ("apply_url", "https://bench.example/apply")]


def event_for(session):
    t = int(time.time())
    return json.dumps({"id": f"evt_test_{random_id(24)}", "object": "event", "api_version": API_VERSION,
                       "created": t, "data": {"object": session}, "livemode": False, "pending_webhooks": 1,
                       "request": {"id": None, "idempotency_key": None}, "type": "checkout.session.completed"},
                      separators=(",", ":"))


def signature(secret, body):
    t = int(time.time())
    v1 = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


def send_event(port, body, secret=WEBHOOK_SECRET):
    """POSTs a signed event as Stripe does; (status, answer, seconds)."""
    headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature(secret, body),
               "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
    s, _, data, t = Browser(port).request("POST", "/stripe/webhook", body=body.encode(), headers=headers)
    return s, data, t


class Outbox:
    """Receipts in data_dir/outbox, read as they arrive."""

    def __init__(self, path):
        self.path, self.seen, self.receipts = path, set(), {}  # payment number -> [file]

    def scan(self):
        if not os.path.isdir(self.path):
            return
        for name in os.listdir(self.path):
            if name in self.seen or not name.endswith(".eml"):
                continue
            with open(os.path.join(self.path, name), "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            self.seen.add(name)
            if not str(msg["Subject"] or "").startswith("Receipt:"):
                continue
            part = msg.get_body(preferencelist=("plain",))
            text = part.get_content() if part else ""
            m = re.search(r"Receipt:\s+No\. (\d+)", text)
            check(m, f"receipt {name} has no number:\n{text}")
            self.receipts.setdefault(int(m.group(1)), []).append(name)

    def wait_for(self, number, timeout=10):
        end = time.perf_counter() + timeout
        while True:
            self.scan()
            if number in self.receipts:
                return time.perf_counter()
            check(time.perf_counter() < end, f"no receipt for payment {number} after {timeout} s")
            time.sleep(0.005)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FsyncReference:
    """One small SQLite commit with synchronous=FULL in WAL mode, on the same
    disk as the board's database: the fsync every durable write pays."""

    def __init__(self, directory):
        self.db = sqlite3.connect(os.path.join(directory, "fsync-reference.db"), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT)")

    def commit(self):
        start = time.perf_counter()
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO t (payload) VALUES (?)", ("x" * 2000,))
        self.db.execute("COMMIT")
        return time.perf_counter() - start


# ---------------------------------------------------------------------------


def ms(x):
    return f"{x * 1000:.2f} ms"


def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(len(xs) * p)) - 1))]


def line(name, xs):
    return f"  {name:55} p50 {ms(statistics.median(xs)):>10}  p99 {ms(q(xs, .99)):>10}  max {ms(max(xs)):>10}  (n={len(xs)})"


def draft(b, token, n):
    s, loc, _, _ = b.request("POST", "/post", [("csrf_token", token)] + job_fields(n))
    check(s == 303 and loc and re.fullmatch(r"/post/\d+/preview", loc), f"save draft {n}: {s} {loc}")
    return int(loc.split("/")[2])


def submit(b, token, job, fake, email_addr):
    s, loc, body, t = b.request("POST", f"/post/{job}/submit", [("csrf_token", token)])
    check(s == 303 and loc and loc.startswith(f"{fake.base}/pay/cs_test_"),
          f"submit job {job}: {s} {loc} {body[:300]}")
    sid = loc.rsplit("/", 1)[1]
    form = dict(fake.forms[sid])
    check(form.get("line_items[0][price_data][unit_amount]") == str(PRICE) and "line_items[1][quantity]" not in form,
          f"job {job}: the session asks for the wrong amount: {form}")
    check(form.get("metadata[job_id]") == str(job) and form.get("client_reference_id", "").startswith("payment-")
          and form.get("metadata[payment_id]") == form["client_reference_id"][len("payment-"):],
          f"job {job}: the session names the wrong payment or job: {form}")
    check(form.get("success_url", "").endswith(f"/post/{job}/done?session_id={{CHECKOUT_SESSION_ID}}")
          and form.get("customer_email") == email_addr, f"job {job}: success_url or email: {form}")
    return sid, int(form["metadata[payment_id]"]), t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/jobboard")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--poll-ms", type=float, default=5.0, help="how often e. polls the job (ms)")
    ap.add_argument("--keep", action="store_true", help="keep the data dir (printed) for a look afterwards")
    a = ap.parse_args()
    check(os.access(a.bin, os.X_OK), f"no board binary at {a.bin}: cargo build --release")
    work = tempfile.mkdtemp(prefix="jobboard-payments-bench.")
    data = os.path.join(work, "data")
    fake = FakeStripe()
    port = free_port()
    env = dict(os.environ, JOBBOARD_DATA_DIR=data, JOBBOARD_LISTEN=f"127.0.0.1:{port}",
               JOBBOARD_BASE_URL=f"http://127.0.0.1:{port}", JOBBOARD_LIMITS_ENABLED="false",
               JOBBOARD_STRIPE_SECRET_KEY=SECRET_KEY, JOBBOARD_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
               JOBBOARD_STRIPE_API_BASE=fake.base, JOBBOARD_POSTING_PRICE_CENTS=str(PRICE),
               JOBBOARD_POSTING_FEATURED_PRICE_CENTS="2000", JOBBOARD_MAIL_TRANSPORT="file",
               JOBBOARD_LOG_LEVEL="warn")
    log = open(os.path.join(work, "server.log"), "wb")
    server = subprocess.Popen([a.bin, "serve", "--demo"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            check(server.poll() is None, f"the board exited ({server.returncode}): see {work}/server.log")
            try:
                if Browser(port).request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise Failed("the board did not answer /healthz within 15 s")
        fs = subprocess.run(["df", "-T", work], capture_output=True, text=True).stdout.splitlines()[-1].split()
        print(f"board {a.bin} on 127.0.0.1:{port}, fake Stripe on {fake.base}, data dir {data} ({fs[0]}, {fs[1]})")

        # The employer.
        b, email_addr = Browser(port), "payer@example.com"
        s, _, html, _ = b.request("GET", "/register")
        check(s == 200, f"GET /register: {s}")
        token = b.csrf(html)
        s, loc, _, _ = b.request("POST", "/register", [("csrf_token", token), ("next", "/post"),
                                                        ("email", email_addr), ("password", PASSWORD)])
        check(s == 303, f"POST /register: {s} {loc}")
        s, _, html, _ = b.request("GET", "/post")
        check(s == 200, f"GET /post: {s}")
        token = b.csrf(html)

        outbox = Outbox(os.path.join(data, "outbox"))
        reference, fsync = FsyncReference(work), []
        start_t, hook_t, dup_t, bad_t, live_t, receipt_t, polls = [], [], [], [], [], [], []
        paid = {}  # session id -> (payment id, job id)
        for n in range(a.runs):
            job = draft(b, token, n)
            sid, payment, t = submit(b, token, job, fake, email_addr)
            start_t.append(t)
            session = fake.pay(sid)
            body = event_for(session)
            api = Browser(port)
            s, _, _, _ = api.request("GET", f"/api/v1/jobs/{job}")
            check(s == 404, f"job {job} is public ({s}) before it is paid")
            fsync.append(reference.commit())  # the disk's flush cost, just before the webhook's
            sent = time.perf_counter()
            s, answer, t = send_event(port, body)
            check(s == 200 and json.loads(answer) == {"received": True}, f"webhook for {sid}: {s} {answer}")
            hook_t.append(t)
            tries = 0
            while True:
                if tries:
                    time.sleep(a.poll_ms / 1000)
                tries += 1
                s, _, got, _ = api.request("GET", f"/api/v1/jobs/{job}")
                if s == 200:
                    live_t.append(time.perf_counter() - sent)
                    break
                check(s == 404, f"GET /api/v1/jobs/{job} while waiting: {s} {got[:200]}")
                check(time.perf_counter() - sent < 10, f"job {job} not live 10 s after its payment event")
            polls.append(tries)
            check(json.loads(got)["id"] == job, f"GET /api/v1/jobs/{job}: {got[:200]}")
            receipt_t.append(outbox.wait_for(payment) - sent)
            s, answer, t = send_event(port, body)
            check(s == 200 and json.loads(answer) == {"received": True}, f"duplicate webhook for {sid}: {s} {answer}")
            dup_t.append(t)
            s, answer, t = send_event(port, body, secret="whsec_not_ours")
            check(s == 400 and "signature" in answer, f"forged webhook for {sid}: {s} {answer}")
            bad_t.append(t)
            paid[sid] = (payment, job)

        fake_create_t = list(fake.handle_times)

        # f. The success redirect settles a paid session before any event.
        redirect_t, late = [], []
        for n in range(a.runs):
            job = draft(b, token, a.runs + n)
            sid, payment, _ = submit(b, token, job, fake, email_addr)
            session = fake.pay(sid)
            s, _, html, t = b.request("GET", f"/post/{job}/done?session_id={sid}")
            check(s == 200, f"success redirect for {sid}: {s}")
            check("Your job is live" in html and "Payment received" in html,
                  f"success redirect for {sid} did not settle it: {re.findall(r'<h1>(.*?)</h1>', html)}")
            redirect_t.append(t)
            check(Browser(port).request("GET", f"/api/v1/jobs/{job}")[0] == 200,
                  f"job {job} not public right after the success redirect settled it")
            paid[sid] = (payment, job)
            late.append(event_for(session))
        for body in late:  # Stripe's event comes anyway, a second later: it must change nothing.
            s, answer, _ = send_event(port, body)
            check(s == 200, f"late webhook: {s} {answer}")

        # References, in the same run.
        health = [Browser(port).request("GET", "/healthz")[3] for _ in range(a.runs)]

        # Wait for the worker to finish, then check everything happened once.
        db = sqlite3.connect(f"file:{os.path.join(data, 'jobboard.db')}?mode=ro", uri=True)
        end = time.time() + 30
        while True:
            left = db.execute("SELECT count(*) FROM tasks WHERE state IN ('queued', 'running') AND run_at <= ?",
                              (int(time.time()),)).fetchone()[0]
            outbox.scan()
            if left == 0 and len(outbox.receipts) >= len(paid):
                break
            check(time.time() < end, f"{left} tasks still due, {len(outbox.receipts)} receipts, after 30 s")
            time.sleep(0.05)
        rows = db.execute("SELECT id, job_id, status, session_id, amount_cents, currency, payment_intent_id, error "
                          "FROM payments").fetchall()
        statuses = {}
        for r in rows:
            statuses[r[2]] = statuses.get(r[2], 0) + 1
        check(statuses == {"paid": len(paid)}, f"payments by status {statuses}, expected {len(paid)} paid")
        by_session = {r[3]: r for r in rows}
        check(len(by_session) == len(rows) and set(by_session) == set(paid), "paid sessions and payment rows differ")
        for sid, (payment, job) in paid.items():
            r = by_session[sid]
            check((r[0], r[1], r[4], r[5]) == (payment, job, PRICE, "usd"), f"payment row {r} for {sid}")
            check(r[6] == fake.sessions[sid]["payment_intent"], f"payment {payment}: intent {r[6]}")
            check(r[7] is None, f"payment {payment} has a note: {r[7]}")
        jobs = dict(db.execute("SELECT status, count(*) FROM jobs WHERE id IN (%s) GROUP BY status"
                               % ",".join(str(j) for _, j in paid.values())).fetchall())
        check(jobs == {"published": len(paid)}, f"paid jobs by status {jobs}")
        events = db.execute("SELECT count(*) FROM stripe_events").fetchone()[0]
        check(events == 2 * a.runs, f"{events} events kept, expected {2 * a.runs}")
        tasks = dict(db.execute("SELECT state, count(*) FROM tasks WHERE kind = 'stripe_event' GROUP BY state"))
        check(tasks == {"done": 2 * a.runs}, f"stripe_event tasks by state {tasks}")
        failed = db.execute("SELECT kind, last_error FROM tasks WHERE state = 'failed' OR last_error IS NOT NULL"
                            " LIMIT 5").fetchall()
        check(not failed, f"tasks with errors: {failed}")
        receipts = {k: len(v) for k, v in outbox.receipts.items()}
        check(set(receipts) == {p for p, _ in paid.values()} and set(receipts.values()) == {1},
              f"receipts per payment: {len(receipts)} payments, counts {sorted(set(receipts.values()))}")
        db.close()
        for _, job in paid.values():
            s, _, got, _ = Browser(port).request("GET", f"/api/v1/jobs/{job}")
            check(s == 200, f"GET /api/v1/jobs/{job} at the end: {s}")
            s, _, page, _ = Browser(port).request("GET", urlsplit(json.loads(got)["url"]).path)
            check(s == 200 and f"Payments Bench Engineer" in page, f"the page of paid job {job}: {s}")
        # Does an event that changes nothing public empty the page cache? GET / once
        # the page is cached, right after a refused event (no write: the control) or
        # after a duplicate of an event already kept (accepted, nothing new to store).
        after_refused, after_duplicate = [], []
        old_event = late[0]
        for i in range(a.runs):
            for secret, out in ((WEBHOOK_SECRET, after_duplicate), ("whsec_not_ours", after_refused))[::1 - 2 * (i % 2)]:
                home = Browser(port)
                for _ in range(2):
                    check(home.request("GET", "/")[0] == 200, "GET /")
                s, _, _ = send_event(port, old_event, secret)
                check(s == (200 if secret == WEBHOOK_SECRET else 400), f"event for the page cache test: {s}")
                s, _, _, t = home.request("GET", "/")
                check(s == 200, f"GET /: {s}")
                out.append(t)
        check(fake.calls["create"] == 2 * a.runs and fake.calls["expire"] == 0 and fake.calls["refused"] == 0
              and fake.calls["other"] == 0, f"calls at the fake Stripe: {fake.calls}")

        print(f"checkout start to webhook, {a.runs} paid posts (one employer; round trips on loopback):")
        print(line("a. checkout start (submit -> 303 to Stripe)", start_t))
        print(line("   of which the fake Stripe's own create", fake_create_t))
        print(line("b. webhook, new event (durable commit)", hook_t))
        print(line("c. webhook, the same event again", dup_t))
        print(line("d. webhook, refused signature (400)", bad_t))
        print(line(f"e. paid to live (event sent -> API 200)", live_t) + f"  (polled every {a.poll_ms:g} ms, "
              f"{statistics.median(polls):.0f} polls; live at the first, right after the 200: {polls.count(1)})")
        print(line("   event sent -> receipt in the outbox", receipt_t))
        print(line("f. success redirect settling in the request", redirect_t))
        print(line("GET / right after a refused event (cached)", after_refused))
        print(line("GET / right after a duplicate event", after_duplicate))
        print("references in the same run:")
        print(line("GET /healthz round trip", health))
        print(line("SQLite commit, WAL, synchronous=FULL (before each b.)", fsync))
        over = sum(1 for t in hook_t if t >= 0.05)
        print(f"webhook answers at or over 50 ms: {over} of {len(hook_t)}")
        print(f"checked: {len(paid)} payments paid once each, {len(paid)} jobs published, {events} events kept, "
              f"{len(receipts)} receipts (one each), Stripe calls {fake.calls}")
        status = open(f"/proc/{server.pid}/status").read()
        print("server memory:", " ".join(l.split(":")[0] + " " + l.split(":")[1].strip() for l in status.splitlines()
                                         if l.startswith(("VmHWM", "RssAnon", "RssFile"))))
    except Failed as e:
        print(f"FAILED: {e}\n(server log: {work}/server.log)", file=sys.stderr)
        a.keep = True
        return 1
    finally:
        server.terminate()
        server.wait()
        fake.stop()
        log.close()
        if a.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

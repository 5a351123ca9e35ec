#!/usr/bin/env python3
"""Background work benchmark: what a flood of email costs pages, and what an
idle worker costs the machine.

    cargo build --release
    python3 bench/tasks.py [--bin target/release/jobboard] [--mails 10000]

Starts the board on a fresh data dir with demo data, then:
  1. idle: the server's CPU time over 30 s with nothing to do (the worker
     sleeps until work is due, so this should be close to zero);
  2. GET / latency alone, then while the worker delivers --mails queued emails
     (written straight into the tasks table by this script, as another process
     would queue them), and how long the worker took to deliver them all;
  3. with --alerts N: N confirmed instant alerts (written into the alerts table),
     one job posted through the API, and GET / latency until all N alert emails
     are delivered.
Only the standard library; the file transport writes to data_dir/outbox/.
"""
import argparse, http.client, json, os, shutil, sqlite3, statistics, subprocess, sys, tempfile, time

EML = ("From: Job Board <noreply@localhost>\r\nTo: someone@example.com\r\nSubject: Bench\r\n"
       "Date: Fri, 27 Nov 2026 09:00:00 +0000\r\nMessage-ID: <bench@localhost>\r\nMIME-Version: 1.0\r\n"
       "Content-Type: text/plain; charset=utf-8\r\n\r\n" + "A line of a job alert digest.\r\n" * 60)


def get(port, path="/"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return time.perf_counter() - start


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ms(x):
    return f"{x * 1000:.2f} ms"


def q(xs, p):
    return sorted(xs)[max(0, int(len(xs) * p) - 1)]


def alerts(a, data, db):
    """N instant alerts get one new job: page latency while their mail goes out."""
    subprocess.run([a.bin, "--data-dir", data, "admin", "create", "--email", "bench@example.com"],
                   input=b"copper lantern beside the river\n", check=True, capture_output=True)
    token = subprocess.run([a.bin, "--data-dir", data, "token", "create", "--email", "bench@example.com"],
                           check=True, capture_output=True).stdout.decode().strip()
    now = int(time.time()) - 10
    db.executemany("INSERT INTO alerts (email, query, frequency, created_at, confirmed_at, since) "
                   "VALUES (?, '', 'instant', ?, ?, ?)",
                   [(f"subscriber{i}@example.com", now, now, now) for i in range(a.alerts)])
    db.commit()
    before = db.execute("SELECT count(*) FROM tasks WHERE kind = 'mail' AND state = 'done'").fetchone()[0]
    alone = [get(a.port) for _ in range(3000)]
    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=30)
    body = json.dumps({"title": "Alert Bench Engineer", "company_name": "Bench Co", "description": "New.",
                       "category": "Other", "job_type": "contract", "apply_url": "https://bench.example"})
    conn.request("POST", "/api/v1/jobs", body=body,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 201, resp.status
    posted = time.perf_counter()
    busy, done_at = [], None
    while time.perf_counter() - posted < 600:
        busy.append(get(a.port))
        if len(busy) % 200 == 0:
            done = db.execute("SELECT count(*) FROM tasks WHERE kind = 'mail' AND state = 'done'").fetchone()[0]
            if done - before >= a.alerts:
                done_at = time.perf_counter()
                break
    print(f"GET / alone:                 p50 {ms(statistics.median(alone))}  p99 {ms(q(alone, .99))}")
    print(f"GET / while {a.alerts} alerts are matched and mailed: p50 {ms(statistics.median(busy))}  "
          f"p99 {ms(q(busy, .99))}  ({len(busy)} requests)")
    if done_at:
        print(f"{a.alerts} alert emails delivered {done_at - posted:.1f} s after the job was posted")
    else:
        print("not all alert emails delivered within 600 s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/jobboard")
    ap.add_argument("--mails", type=int, default=10000)
    ap.add_argument("--port", type=int, default=18191)
    ap.add_argument("--idle", type=int, default=30)
    ap.add_argument("--alerts", type=int, default=0)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="jobboard-tasks-bench.")
    data = f"{work}/data"
    env = dict(os.environ, JOBBOARD_LOG_LEVEL="warn")
    server = subprocess.Popen([a.bin, "--data-dir", data, "serve", "--demo", "--listen", f"127.0.0.1:{a.port}"],
                              env=env, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                get(a.port, "/healthz")
                break
            except OSError:
                time.sleep(0.05)
        time.sleep(2)  # first schedule rounds done
        before = cpu_seconds(server.pid)
        time.sleep(a.idle)
        idle = cpu_seconds(server.pid) - before
        print(f"idle: {idle:.3f} s of CPU over {a.idle} s ({idle / a.idle * 100:.2f} % of one core)")

        alone = [get(a.port) for _ in range(3000)]
        db = sqlite3.connect(f"{data}/jobboard.db", timeout=30)
        now = int(time.time())
        payload = json.dumps({"to": "someone@example.com", "subject": "Bench", "eml": EML})
        db.executemany("INSERT INTO tasks (kind, payload, run_at, created_at, updated_at) VALUES ('mail', ?, ?, ?, ?)",
                       [(payload, now, now, now)] * a.mails)
        db.commit()
        queued_at = time.perf_counter()
        busy, done_at = [], None
        outbox = f"{data}/outbox"
        while time.perf_counter() - queued_at < 300:
            busy.append(get(a.port))
            if len(busy) % 200 == 0:
                left = db.execute("SELECT count(*) FROM tasks WHERE kind = 'mail' AND state != 'done'").fetchone()[0]
                if left == 0:
                    done_at = time.perf_counter()
                    break
        sent = len(os.listdir(outbox)) if os.path.isdir(outbox) else 0
        print(f"GET / alone:                 p50 {ms(statistics.median(alone))}  p99 {ms(q(alone, .99))}  ({len(alone)} requests)")
        print(f"GET / while {a.mails} mails go out: p50 {ms(statistics.median(busy))}  p99 {ms(q(busy, .99))}  ({len(busy)} requests)")
        if done_at:
            took = done_at - queued_at
            print(f"{sent} mails delivered in {took:.1f} s ({sent / took:.0f}/s, from the moment they were queued)")
        else:
            print(f"not all delivered within 300 s ({sent} files)")
        if a.alerts:
            alerts(a, data, db)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

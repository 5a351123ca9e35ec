#!/usr/bin/env python3
"""Accounts and posting benchmark: the posting flow step by step, sign-in
latency, and what a storm of sign-ins does to page latency.

    cargo build --release
    python3 bench/accounts.py [--bin target/release/jobboard] [--flows 20]

Starts the board on a fresh data dir with demo data (rate limits off), then:
  1. runs --flows complete posting flows as new employers (form, account step
     with sign-up, preview, submit, confirmation) and reports the median server
     time of each step and of the whole flow;
  2. signs in --flows times one after the other (median latency: mostly argon2);
  3. measures GET / latency alone, then while --storm clients sign in without
     pause (argon2 runs at most two at a time, so pages should barely move).
Only the standard library; times are wall-clock round trips on loopback.
"""
import argparse, http.client, os, re, shutil, statistics, subprocess, sys, tempfile, threading, time
from urllib.parse import urlencode

PASSWORD = "violet tractor under moonlight"


class Browser:
    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, fields=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
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
        return m.group(1) if m else ""


JOB = [("title", "Benchmark Engineer"), ("company_name", "Bench Co"), ("description", "## Role\n\nMeasure **things**."),
       ("category", "software-development"), ("job_type", "full_time"), ("tags", "rust, benchmarks"),
       ("remote", "worldwide"), ("salary_min", "90000"), ("salary_max", "120000"), ("salary_currency", "USD"),
       ("salary_period", "year"), ("apply_url", "https://bench.example/apply")]


def flow(port, n):
    b = Browser(port)
    steps = {}
    s, _, html, t = b.request("GET", "/post"); steps["form"] = t; assert s == 200, s
    token = b.csrf(html)
    s, _, _, t = b.request("POST", "/post", [("csrf_token", token)] + JOB); steps["account step"] = t; assert s == 200, s
    fields = [("csrf_token", token)] + JOB + [("account", "register"), ("email", f"bench{n}@example.com"), ("password", PASSWORD)]
    s, loc, _, t = b.request("POST", "/post", fields); steps["sign-up + draft"] = t; assert s == 303, s
    s, _, _, t = b.request("GET", loc); steps["preview"] = t; assert s == 200, s
    job = loc.split("/")[2]
    s, loc, _, t = b.request("POST", f"/post/{job}/submit", [("csrf_token", token)]); steps["submit"] = t; assert s == 303, s
    s, _, html, t = b.request("GET", loc); steps["confirmation"] = t; assert s == 200 and "is live" in html, s
    return steps


def sign_in(port, email):
    b = Browser(port)
    s, _, html, _ = b.request("GET", "/login")
    s, _, _, t = b.request("POST", "/login", [("csrf_token", b.csrf(html)), ("email", email), ("password", PASSWORD)])
    assert s == 303, s
    return t


def page_latencies(port, seconds):
    b, out, end = Browser(port), [], time.time() + seconds
    while time.time() < end:
        out.append(b.request("GET", "/")[3])
    return out


def ms(x):
    return f"{x * 1000:.1f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/jobboard")
    ap.add_argument("--flows", type=int, default=20)
    ap.add_argument("--storm", type=int, default=16)
    ap.add_argument("--port", type=int, default=18190)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="jobboard-accounts-bench.")
    env = dict(os.environ, JOBBOARD_LIMITS_ENABLED="false", JOBBOARD_LOG_LEVEL="warn")
    server = subprocess.Popen([a.bin, "--data-dir", f"{work}/data", "serve", "--demo", "--listen", f"127.0.0.1:{a.port}"],
                              env=env, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if Browser(a.port).request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        runs = [flow(a.port, n) for n in range(a.flows)]
        print(f"posting flow, {a.flows} new employers (median per step):")
        for step in runs[0]:
            print(f"  {step:16} {ms(statistics.median(r[step] for r in runs))}")
        print(f"  {'whole flow':16} {ms(statistics.median(sum(r.values()) for r in runs))}  (6 requests, 5 pages)")
        signs = [sign_in(a.port, f"bench{n % a.flows}@example.com") for n in range(a.flows)]
        print(f"sign-in, one at a time: median {ms(statistics.median(signs))}, max {ms(max(signs))}")
        idle = page_latencies(a.port, 3)
        stop, storm_done = time.time() + 5, []
        def storm(i):
            while time.time() < stop:
                storm_done.append(sign_in(a.port, f"bench{i % a.flows}@example.com"))
        threads = [threading.Thread(target=storm, args=(i,)) for i in range(a.storm)]
        for t in threads: t.start()
        busy = page_latencies(a.port, 4)
        for t in threads: t.join()
        q = lambda xs, p: sorted(xs)[int(len(xs) * p) - 1]
        print(f"GET / alone:            p50 {ms(statistics.median(idle))}  p99 {ms(q(idle, .99))}  ({len(idle)} requests)")
        print(f"GET / during {a.storm} clients signing in: p50 {ms(statistics.median(busy))}  p99 {ms(q(busy, .99))}  ({len(busy)} requests)")
        print(f"sign-ins completed in 5 s under the storm: {len(storm_done)} ({len(storm_done) / 5:.1f}/s), median {ms(statistics.median(storm_done))}")
        rss = open(f"/proc/{server.pid}/status").read()
        print("server memory:", " ".join(l.split(":")[0] + l.split(":")[1].strip().replace(" ", "") for l in rss.splitlines() if l.startswith(("VmHWM", "RssAnon"))))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

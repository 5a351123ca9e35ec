#!/usr/bin/env python3
"""Backup and restore benchmark: `jobboard backup` of a 100,000-job board while
it serves (idle, then under light write load), and restore to serving.

    cargo build --release
    python3 bench/backup.py [--bin target/release/jobboard] [--jobs 100000] [--runs 3]

Makes the board once with `demo --jobs N` (as bench/run.sh does) in --data
(kept between runs; delete it to regenerate), plus --logos files of 20 kB in
uploads/logos/. Then, --runs times:
  1. backup while the server runs and nobody writes;
  2. backup while a client posts a job through the API every 50 ms (20 a
     second) and reads a page between posts: the write latency before and
     during the backup says whether writers wait for it;
  3. restore of that backup into a fresh data dir, then `serve` on it until
     /healthz answers 200 with the index ready ("restore to serving").
Prints each run and the medians. With --vacuum-into it also times SQLite's
`VACUUM INTO` and a one-step backup API copy of the live database through
Python's sqlite3 module, for comparison. Only the standard library.
"""
import argparse, http.client, json, os, re, shutil, sqlite3, statistics, subprocess, sys, tempfile, threading, time


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def wait_ready(port, proc, timeout=600):
    """Seconds until /healthz answers 200 with the index ready."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode})")
        try:
            status, body = request(port, "GET", "/healthz")
            if status == 200 and b'"index":"ready"' in body:
                return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.01)
    raise SystemExit("the server was not ready in time")


def timed(cmd):
    """Runs a command; returns (seconds, peak RSS in MB, stderr)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {err}")
    return took, usage.ru_maxrss / 1024, err


def ms(x):
    return f"{x * 1000:.1f} ms"


class Writer(threading.Thread):
    """Posts a job every `every` seconds and reads / between posts; keeps
    (time, write latency) pairs."""

    def __init__(self, port, token, every=0.05):
        super().__init__(daemon=True)
        self.port, self.token, self.every = port, token, every
        self.samples, self.errors, self.stop = [], 0, threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            body = json.dumps({"title": f"Backup Bench Writer {n}", "company_name": "Bench Co",
                               "description": "Posted during a backup.", "category": "Other",
                               "job_type": "contract", "apply_url": "https://bench.example/apply"})
            start = time.perf_counter()
            status, _ = request(self.port, "POST", "/api/v1/jobs", body,
                                {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
            took = time.perf_counter() - start
            if status != 201:
                self.errors += 1
            self.samples.append((start, took))
            request(self.port, "GET", "/")
            time.sleep(max(0.0, self.every - (time.perf_counter() - start)))

    def between(self, a, b):
        return [t for s, t in self.samples if a <= s <= b]


def q(xs, p):
    return sorted(xs)[max(0, int(len(xs) * p) - 1)] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/jobboard")
    ap.add_argument("--jobs", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--logos", type=int, default=200)
    ap.add_argument("--data", default="/tmp/jobboard-backup-bench")
    ap.add_argument("--port", type=int, default=18291)
    ap.add_argument("--vacuum-into", action="store_true")
    a = ap.parse_args()
    bin_ = os.path.abspath(a.bin)
    data = os.path.join(a.data, "data")
    if not os.path.exists(os.path.join(data, "jobboard.db")):
        print(f"making the board: demo --jobs {a.jobs} in {data}")
        os.makedirs(data, exist_ok=True)
        subprocess.run([bin_, "--data-dir", data, "demo", "--jobs", str(a.jobs)], check=True,
                       stderr=subprocess.DEVNULL)
        logos = os.path.join(data, "uploads", "logos")
        os.makedirs(logos, exist_ok=True)
        for i in range(a.logos):
            with open(os.path.join(logos, f"{i + 1}-{i:016x}.png"), "wb") as f:
                f.write(os.urandom(20_000))
        subprocess.run([bin_, "--data-dir", data, "admin", "create", "--email", "bench@example.com"],
                       input=b"copper lantern beside the river\n", check=True, capture_output=True)
    token = subprocess.run([bin_, "--data-dir", data, "token", "create", "--email", "bench@example.com"],
                           check=True, capture_output=True).stdout.decode().strip()
    work = tempfile.mkdtemp(prefix="jobboard-backup-bench.")
    env = dict(os.environ, JOBBOARD_LOG_LEVEL="warn", JOBBOARD_LIMITS_ENABLED="false")
    server = subprocess.Popen([bin_, "--data-dir", data, "serve", "--listen", f"127.0.0.1:{a.port}"],
                              env=env, stderr=subprocess.DEVNULL)
    rows = []
    try:
        wait_ready(a.port, server)
        db_mb = os.path.getsize(os.path.join(data, "jobboard.db")) / 1e6
        jobs = sqlite3.connect(f"file:{data}/jobboard.db?mode=ro", uri=True).execute(
            "SELECT count(*) FROM jobs").fetchone()[0]
        print(f"board: {jobs} jobs, jobboard.db {db_mb:.0f} MB, {a.logos} logo files; "
              f"{os.cpu_count()} CPUs; {a.runs} runs\n")
        for run in range(1, a.runs + 1):
            idle_dir = os.path.join(work, f"idle-{run}")
            idle, idle_rss, _ = timed([bin_, "--data-dir", data, "backup", idle_dir])

            writer = Writer(a.port, token)
            writer.start()
            time.sleep(3)
            loaded_dir = os.path.join(work, f"loaded-{run}")
            t0 = time.perf_counter()
            loaded, _, said = timed([bin_, "--data-dir", data, "backup", loaded_dir])
            t1 = time.perf_counter()
            time.sleep(1)
            writer.stop.set()
            writer.join()
            before = writer.between(0, t0)
            during = writer.between(t0, t1)

            restored = os.path.join(work, f"restored-{run}")
            rt, restore_rss, said = timed([bin_, "--data-dir", restored, "restore", loaded_dir])
            parts = re.search(r"ok \(([\d.]+)s\); search index rebuilt \(\d+ jobs, ([\d.]+)s\)", said)
            checked, indexed = (float(parts[1]), float(parts[2])) if parts else (float("nan"),) * 2
            port = a.port + run
            start = time.perf_counter()
            second = subprocess.Popen([bin_, "--data-dir", restored, "serve", "--listen", f"127.0.0.1:{port}"],
                                      env=env, stderr=subprocess.DEVNULL)
            try:
                serve_ready = wait_ready(port, second)
            finally:
                second.terminate()
                second.wait()
            row = {"idle": idle, "loaded": loaded, "restore": rt, "serve": serve_ready,
                   "total": rt + serve_ready, "w_before": statistics.median(before),
                   "w_during": statistics.median(during) if during else float("nan"),
                   "w_during_max": max(during) if during else float("nan"),
                   "writes_during": len(during), "errors": writer.errors,
                   "backup_rss": idle_rss, "restore_rss": restore_rss, "checked": checked, "indexed": indexed}
            rows.append(row)
            print(f"run {run}: backup idle {idle:.2f} s, under writes {loaded:.2f} s "
                  f"({len(during)} writes acknowledged meanwhile, p50 {ms(row['w_during'])}, "
                  f"max {ms(row['w_during_max'])}; before: p50 {ms(row['w_before'])}; {writer.errors} errors); "
                  f"restore {rt:.2f} s (copy and checks {checked:.1f} s, index {indexed:.1f} s) "
                  f"+ serve to ready {serve_ready:.2f} s = {rt + serve_ready:.2f} s; "
                  f"peak RSS backup {idle_rss:.0f} MB, restore {restore_rss:.0f} MB")
            for d in (idle_dir, restored):
                shutil.rmtree(d, ignore_errors=True)
            backup_mb = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(loaded_dir) for f in fs) / 1e6
            shutil.rmtree(loaded_dir, ignore_errors=True)

        if a.vacuum_into:
            src = sqlite3.connect(f"{data}/jobboard.db", timeout=30)
            for how in ("VACUUM INTO", "backup API, one step"):
                out = os.path.join(work, "compare.db")
                start = time.perf_counter()
                if how == "VACUUM INTO":
                    src.execute("VACUUM INTO ?", (out,))
                else:
                    dst = sqlite3.connect(out)
                    src.backup(dst, pages=-1)
                    dst.close()
                took = time.perf_counter() - start
                print(f"python sqlite3 {sqlite3.sqlite_version} {how}: {took:.2f} s, "
                      f"{os.path.getsize(out) / 1e6:.0f} MB")
                os.remove(out)
            src.close()

        med = lambda k: statistics.median(r[k] for r in rows)
        print(f"\nmedians of {len(rows)} runs ({jobs} jobs, jobboard.db {db_mb:.0f} MB, backup {backup_mb:.0f} MB):")
        print(f"| backup while serving, idle | {med('idle'):.2f} s |")
        print(f"| backup while serving, 20 posts/s | {med('loaded'):.2f} s |")
        print(f"| write latency p50 before / during the backup | {ms(med('w_before'))} / {ms(med('w_during'))} "
              f"(slowest during: {ms(med('w_during_max'))}) |")
        print(f"| restore: copy, checks, index rebuild | {med('restore'):.2f} s "
              f"(copy and checks {med('checked'):.1f} s, index {med('indexed'):.1f} s) |")
        print(f"| serve start to /healthz ready | {med('serve'):.2f} s |")
        print(f"| restore to serving | {med('total'):.2f} s |")
        print(f"| peak RSS: backup / restore | {med('backup_rss'):.0f} MB / {med('restore_rss'):.0f} MB |")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The 512 MB VM: the board under a 512 MB memory limit (a cgroup v1 memory
controller, as `MemoryMax=512M` is under systemd) with 100,000 jobs, while 50
clients mix searches, pages and posts, 100 people sign in at once, a reindex
runs and a backup is taken. Reports peak memory and whether anything was
killed or failed.

    cargo build --release
    sudo python3 bench/mem512.py [--bin target/release/jobboard] [--seconds 60]

Needs root (it makes /sys/fs/cgroup/memory/jobboard-mem512). The data dir
(--data, default /tmp/jobboard-mem512) is made once with `demo --jobs 100000`
and reused. Only the standard library.

What it reports, from the cgroup (every process of the board runs in it:
`serve`, `reindex`, `backup`):
  - peak usage as the kernel counts it (memory.max_usage_in_bytes), which
    includes page cache the kernel can drop at any time;
  - the peak of anonymous memory plus mapped files (rss + mapped_file in
    memory.stat, sampled every 50 ms), the part that cannot simply be dropped;
  - `serve`'s own VmHWM (peak resident set) and RssAnon at the end;
  - failcnt (times the limit was hit, so cache was reclaimed) and oom_kill.
"""
import argparse, http.client, json, os, random, re, shutil, subprocess, sys, tempfile, threading, time
from urllib.parse import urlencode

CG = "/sys/fs/cgroup/memory/jobboard-mem512"
PASSWORD = "violet tractor under moonlight"
WORDS = ["engineer", "rust", "design", "remote", "data", "python", "manager", "support",
         "senior", "sales", "marketing", "devops", "writer", "analyst", "product"]


def cg_write(name, value):
    with open(os.path.join(CG, name), "w") as f:
        f.write(str(value))


def cg_read(name):
    with open(os.path.join(CG, name)) as f:
        return f.read()


def cg_stat():
    out = {}
    for line in cg_read("memory.stat").splitlines():
        k, v = line.split()
        out[k] = int(v)
    return out


def in_cgroup(cmd):
    """The command, started inside the cgroup."""
    return ["sh", "-c", f'echo $$ > {CG}/cgroup.procs && exec "$@"', "sh"] + cmd


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        for k, v in resp.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name] = rest.split(";")[0]
        conn.close()
        return resp.status, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/jobboard")
    ap.add_argument("--data", default="/tmp/jobboard-mem512")
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--limit-mb", type=int, default=512)
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    if os.geteuid() != 0:
        sys.exit("mem512: needs root for the cgroup")
    if not os.path.isdir("/sys/fs/cgroup/memory"):
        sys.exit("mem512: no cgroup v1 memory controller at /sys/fs/cgroup/memory")

    data = args.data
    if not os.path.exists(os.path.join(data, "jobboard.db")):
        print(f"making {args.jobs} demo jobs in {data} (once)…", flush=True)
        subprocess.run([binary, "--data-dir", data, "demo", "--jobs", str(args.jobs)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, JOBBOARD_LIMITS_ENABLED="false", JOBBOARD_MAIL_TRANSPORT="log",
               JOBBOARD_LOG_LEVEL="warn")
    subprocess.run([binary, "--data-dir", data, "admin", "create", "--email", "mem@bench.example"],
                   input=PASSWORD + "\n", text=True, check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    token = subprocess.run([binary, "--data-dir", data, "token", "create", "--email", "mem@bench.example"],
                           capture_output=True, text=True, check=True, env=env).stdout.strip()

    if os.path.isdir(CG):
        for pid in cg_read("cgroup.procs").split():
            subprocess.run(["kill", "-9", pid])
        time.sleep(0.2)
        os.rmdir(CG)
    os.mkdir(CG)
    cg_write("memory.limit_in_bytes", args.limit_mb * 1024 * 1024)
    cg_write("memory.swappiness", 0)
    cg_write("memory.oom_control", 0)  # the kernel kills on OOM, as on a VM

    # A cold start: the page cache of the data files is the cgroup's from now.
    subprocess.run(["sync"])
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1")

    port = free_port()
    base_env = dict(env, JOBBOARD_BASE_URL=f"http://127.0.0.1:{port}")
    serve = subprocess.Popen(in_cgroup([binary, "--data-dir", data, "serve", "--listen", f"127.0.0.1:{port}"]),
                             env=base_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            st, body = Client(port).request("GET", "/healthz")
            if st == 200 and b'"ready"' in body:
                break
        except OSError:
            pass
        time.sleep(0.1)
    else:
        sys.exit("mem512: the board did not become ready")
    serve_pid = int(cg_read("cgroup.procs").split()[0])

    # Job paths to visit.
    st, body = Client(port).request("GET", "/api/v1/jobs?per_page=100")
    paths = [j["url"].split(str(port), 1)[-1] for j in json.loads(body)["jobs"]]

    stop = threading.Event()
    counts = {"requests": 0, "errors": 0, "posts": 0}
    lock = threading.Lock()

    def note(ok):
        with lock:
            counts["requests"] += 1
            if not ok:
                counts["errors"] += 1

    def client_loop(seed):
        rnd = random.Random(seed)
        c = Client(port)
        while not stop.is_set():
            kind = rnd.random()
            try:
                if kind < 0.35:
                    q = "+".join(rnd.sample(WORDS, rnd.randint(1, 2)))
                    st, _ = c.request("GET", f"/jobs?q={q}&page={rnd.randint(1, 3)}")
                elif kind < 0.55:
                    st, _ = c.request("GET", rnd.choice(paths))
                elif kind < 0.70:
                    st, _ = c.request("GET", f"/?page={rnd.randint(1, 50)}")
                elif kind < 0.85:
                    st, _ = c.request("GET", f"/api/v1/jobs?q={rnd.choice(WORDS)}&remote=europe")
                elif kind < 0.95:
                    st, _ = c.request("GET", f"/feed.xml?q={rnd.choice(WORDS)}")
                else:
                    job = {"title": f"Memory test {rnd.random():.6f}", "company": {"name": "Mem Ltd"},
                           "description": "A job posted during the 512 MB test.\n\n" + "Text. " * 200,
                           "category": "Software Development", "job_type": "full_time",
                           "remote": ["worldwide"], "apply_url": "https://mem.example/apply"}
                    st, _ = c.request("POST", "/api/v1/jobs", json.dumps(job),
                                      {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
                    if st == 201:
                        with lock:
                            counts["posts"] += 1
                note(st < 500)
            except OSError:
                note(False)

    def sign_in_burst(n):
        """n people sign in at the same moment (argon2 is bounded to two at a time)."""
        clients = []
        for _ in range(n):
            c = Client(port)
            st, body = c.request("GET", "/login")
            m = re.search(rb'name="csrf_token" value="([0-9a-f]+)"', body)
            clients.append((c, m.group(1).decode() if m else ""))
        results = []

        def one(c, csrf):
            form = urlencode({"csrf_token": csrf, "email": "mem@bench.example", "password": PASSWORD})
            st, _ = c.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
            results.append(st)
        threads = [threading.Thread(target=one, args=cc) for cc in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    peak = {"rss_mapped": 0}

    def sampler():
        while not stop.is_set():
            s = cg_stat()
            peak["rss_mapped"] = max(peak["rss_mapped"], s.get("rss", 0) + s.get("mapped_file", 0))
            time.sleep(0.05)

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(args.clients)]
    threads.append(threading.Thread(target=sampler))
    started = time.time()
    for t in threads:
        t.start()

    events = []
    time.sleep(args.seconds * 0.15)
    reindex = subprocess.Popen(in_cgroup([binary, "--data-dir", data, "reindex"]), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    events.append(("reindex started", time.time() - started))
    time.sleep(args.seconds * 0.15)
    backup_dir = tempfile.mkdtemp(prefix="jobboard-mem512-backup.")
    shutil.rmtree(backup_dir)
    t0 = time.time()
    backup = subprocess.run(in_cgroup([binary, "--data-dir", data, "backup", backup_dir]), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    events.append((f"backup exit {backup.returncode} in {time.time() - t0:.1f} s", time.time() - started))
    logins = sign_in_burst(100)
    events.append((f"100 sign-ins at once: {sum(1 for s in logins if s == 303)} signed in", time.time() - started))
    reindex_rc = reindex.wait()
    events.append((f"reindex exit {reindex_rc}", time.time() - started))
    remaining = args.seconds - (time.time() - started)
    if remaining > 0:
        time.sleep(remaining)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.time() - started

    alive = serve.poll() is None
    status = open(f"/proc/{serve_pid}/status").read() if alive else ""
    field = lambda k: int(re.search(rf"{k}:\s+(\d+) kB", status).group(1)) * 1024 if status else 0
    health = Client(port).request("GET", "/healthz")[0] if alive else 0
    oom = dict(line.split() for line in cg_read("memory.oom_control").splitlines())
    mb = lambda b: f"{b / 1048576:.0f} MB"
    print(f"\n512 MB test: {args.clients} clients for {elapsed:.0f} s, {args.jobs} jobs")
    for what, at in events:
        print(f"  at {at:5.1f} s: {what}")
    print(f"  requests {counts['requests']} ({counts['requests'] / elapsed:.0f}/s), 5xx or failed {counts['errors']}, "
          f"jobs posted {counts['posts']}")
    print(f"  serve alive: {alive}, /healthz {health}")
    print(f"  peak, kernel count (incl. droppable cache): {mb(int(cg_read('memory.max_usage_in_bytes')))}")
    print(f"  peak rss + mapped files (sampled):          {mb(peak['rss_mapped'])}")
    print(f"  serve VmHWM {mb(field('VmHWM'))}, RssAnon now {mb(field('RssAnon'))}")
    print(f"  limit hit (cache reclaimed): {cg_read('memory.failcnt').strip()} times; "
          f"oom_kill {oom.get('oom_kill', '?')}")
    if backup.returncode != 0:
        print(f"  backup stderr: {backup.stderr.strip()[:300]}")
    serve.terminate()
    try:
        serve.wait(timeout=30)
    except subprocess.TimeoutExpired:
        serve.kill()
    shutil.rmtree(backup_dir, ignore_errors=True)
    os.rmdir(CG)
    ok = alive and health == 200 and oom.get("oom_kill", "0") == "0" and backup.returncode == 0 \
        and reindex_rc == 0 and counts["errors"] == 0
    print("  result:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""Load on the served explorer: concurrent sessions against one `sqm explore` server on 127.0.0.1.

Each session does what a person's browser does on arrival (the page, then the default view of each explorer)
and then a few selection changes, half of the sessions in Chinese. Reported per number of sessions: the time
from launch until the address is printed and until the first page was usable (the data read and the churn
model fitted), the slowest time until a session's page was usable (page + its three default views, after the
server was ready), the slowest selection change, the slowest item-level driver change (exact LMG over 2²²
subsets, two charts), and the server's peak memory (RSS, sampled every 50 ms). Loads are bounded: at most `--sessions` sessions of `--changes` changes each, every
request with a 60 s timeout, all on 127.0.0.1.

    python benchmarks/bench_serve.py [--data data/sample] [--sessions 1 8] [--changes 4]

Targets: the address printed ≤ 5 s after launch; one session usable in ≤ 3 s; an item-level driver change
≤ 1.5 s with one session; with 8 concurrent sessions every page usable in ≤ 10 s and the server's memory
≤ 1.5 GB.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data: str, port: int, log: Path, timeout: float = 180, timed: bool = False):
    """Start `sqm explore` and return (process, url with token) once it prints its address (with ``timed``
    also the seconds that took)."""
    fh = open(log, "w")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sqmlib.cli", "explore", "--data", data, "--port", str(port)],
                            stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", log.read_text())
        if m:
            return (proc, m.group(1), time.perf_counter() - t0) if timed else (proc, m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError(f"the explorer did not start:\n{log.read_text()}")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Session:
    def __init__(self, url: str, lang: str = "en"):
        self.base = url.split("?", 1)[0]
        self.token_url = url
        self.lang = lang
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str):
        if path.startswith("api/"):
            path += ("&" if "?" in path else "?") + f"_lang={self.lang}"
        with self.opener.open(self.base + path if path else self.token_url, timeout=60) as r:
            body = r.read()
            return json.loads(body) if path.startswith("api/") else body

    def arrive(self) -> float:
        t0 = time.perf_counter()
        self.get("")
        for name in ("survey", "drivers", "churn"):
            self.get(f"api/{name}/view")
        return time.perf_counter() - t0

    def change(self, k: int) -> float:
        sel = [{"segment": "region", "value": "North"}, {"segment": "region", "value": "South", "block": "P"},
               {"segment": "channel", "value": "online"}, {"quarter": "(all)"}, {"dimension": "empathy"}][k % 5]
        t0 = time.perf_counter()
        self.get("api/survey/view?" + urllib.parse.urlencode(sel))
        self.get("api/drivers/view?" + urllib.parse.urlencode({k_: v for k_, v in sel.items() if k_ != "block"
                                                               and k_ != "dimension"}))
        return time.perf_counter() - t0

    def item_change(self, k: int) -> float:
        """An item-level driver change (a new segment value or outcome each time)."""
        sel = [{"segment": "region", "value": "North"}, {"segment": "channel", "value": "phone"},
               {"outcome": "nps"}, {"segment": "region", "value": "West"}][k % 4]
        t0 = time.perf_counter()
        self.get("api/drivers/view?" + urllib.parse.urlencode({"level": "item", **sel}))
        return time.perf_counter() - t0


def run(data: str = str(ROOT / "data" / "sample"), sessions=(1, 8), changes: int = 4, log_dir: Path | None = None):
    """One server per row (a fresh cache each time, so every row starts cold). Returns the table's rows."""
    import tempfile

    log_dir = Path(log_dir or tempfile.mkdtemp())
    rows = []
    for n in sessions:
        launched = time.perf_counter()
        proc, url, address_s = start(data, free_port(), log_dir / f"serve-{n}.log", timed=True)
        peak = [rss_mb(proc.pid)]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak.append(rss_mb(proc.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            Session(url).get("")  # the first page answers once the data is read
            ready_s = time.perf_counter() - launched

            def one(i):
                s = Session(url, "zh" if i % 2 else "en")
                usable = s.arrive()
                slowest = max((s.change(i + k) for k in range(changes)), default=0.0)
                return usable, slowest, max((s.item_change(i + k) for k in range(changes)), default=0.0)

            with ThreadPoolExecutor(max_workers=n) as pool:
                results = list(pool.map(one, range(n)))
        finally:
            stop.set()
            sampler.join()
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)
        rows.append({"sessions": n, "address_s": round(address_s, 2), "ready_s": round(ready_s, 2),
                     "slowest_usable_s": round(max(r[0] for r in results), 3),
                     "slowest_change_s": round(max(r[1] for r in results), 3),
                     "slowest_item_drivers_s": round(max(r[2] for r in results), 3),
                     "peak_rss_mb": round(max(p for p in peak if p == p), 1)})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "sample"))
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--changes", type=int, default=4)
    args = ap.parse_args(argv)
    rows = run(args.data, args.sessions, args.changes)
    heads = {"sessions": "sessions", "address_s": "address (s)", "ready_s": "ready (s)",
             "slowest_usable_s": "slowest usable (s)", "slowest_change_s": "slowest change (s)",
             "slowest_item_drivers_s": "item drivers (s)", "peak_rss_mb": "peak RSS (MB)"}
    print(" ".join(f"{h:>{max(len(h), 8)}}" for h in heads.values()))
    for r in rows:
        print(" ".join(f"{r[k]:>{max(len(h), 8)}}" for k, h in heads.items()))


if __name__ == "__main__":
    main()

"""What a node costs on a small board: memory idle and after 100,000 envelopes, and bytes written idle.

A sending daemon (``--bench-ops``, standard profile) publishes the envelopes on a plain topic; two
receiving daemons, one forced to ``--profile small`` and one to ``--profile standard``, link to it and
pull them all as a fresh node catches up (signatures checked, stored, as any received envelope). Each
receiver also founds a circle of its own, so the circle timers (duties, presence, retention) run while it
idles. All on 127.0.0.1, ``--no-discovery``, each daemon in its own MESHCARE_HOME under a temporary dir.

For each receiving profile it prints one JSON line:

* ``rss_idle_kib`` / ``hwm_idle_kib``: VmRSS and VmHWM (/proc/PID/status) once the daemon settled;
* ``rss_ingested_kib`` / ``hwm_ingested_kib``: after it stored all the envelopes (``ingest_s`` it took);
* ``rss_after_idle_kib``: at the end of the idle window;
* ``idle_s``, ``write_bytes_idle``, ``write_syscalls_idle``: /proc/PID/io ``write_bytes`` (what reached,
  or will reach, the disk) and ``syscw`` (write syscalls of any kind) over the idle window, linked to the
  sender, nothing published; ``write_bytes_per_hour`` extrapolates the window to an hour, and
  ``write_bytes_by_minute`` says in which minute of the window each write happened.

Usage: python benchmarks/bench_pi.py [--envelopes N] [--idle SECONDS] [--quick]
(``--quick``: 2,000 envelopes and a 20 s idle window, a smoke run; the figures in docs/benchmarks.md
come from the defaults: 100,000 envelopes and 600 s.)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon_procs import SECRET, Proc  # noqa: E402  (benchmarks/: the daemons every benchmark starts)

BODY = "x" * 192
CHUNK = 10_000          # envelopes per topic.publish request
SETTLE_S = 3.0          # after start-up and after ingest, before a figure is taken
PROFILES = ("small", "standard")


def proc_status_kib(text: str) -> dict[str, int]:
    """VmRSS and VmHWM in KiB from the text of /proc/PID/status (0 when a line is missing)."""
    out = {"VmRSS": 0, "VmHWM": 0}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in out and rest.split():
            out[name] = int(rest.split()[0])
    return out


def proc_io(text: str) -> dict[str, int]:
    """The counters of /proc/PID/io (``write_bytes``, ``syscw``, ...) as numbers."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if value.strip().isdigit():
            out[name.strip()] = int(value)
    return out


def per_hour(amount: int, seconds: float) -> int:
    """``amount`` over ``seconds``, extrapolated to one hour (rounded)."""
    if seconds <= 0:
        raise ValueError("the idle window must be longer than 0 s")
    return round(amount * 3600 / seconds)


def memory(pid: int) -> dict[str, int]:
    return proc_status_kib(Path(f"/proc/{pid}/status").read_text())


def io(pid: int) -> dict[str, int]:
    return proc_io(Path(f"/proc/{pid}/io").read_text())


def wait_for(what: str, done: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def found_circle(node: Proc) -> None:
    """The receiver founds a circle alone, so the circle timers run while it idles."""
    subprocess.run([sys.executable, "-m", "meshcare", "circle", "create", "Pi bench", "--json"], env=node.env,
                   check=True, capture_output=True)


def run(envelopes: int, idle_s: float) -> list[dict[str, Any]]:
    """Start the daemons, ingest, idle; one figures dict per receiving profile."""
    with tempfile.TemporaryDirectory(prefix="mcbench-pi") as tmp:
        root = Path(tmp)
        procs: list[Proc] = []
        try:
            sender = Proc(root, "sender", args=("--profile", "standard"))
            procs.append(sender)
            for start in range(0, envelopes, CHUNK):
                sender.request("topic.publish", secret=SECRET, text=BODY, count=min(CHUNK, envelopes - start))
            rows: dict[str, dict[str, Any]] = {}
            receivers: dict[str, Proc] = {}
            for profile in PROFILES:
                node = Proc(root, profile, (sender.port,), args=("--profile", profile), secret=None)
                procs.append(node)
                receivers[profile] = node
                status = node.request("status")
                if status.get("profile") != profile:
                    raise RuntimeError(f"the daemon runs profile {status.get('profile')!r}, not {profile!r}")
                found_circle(node)
                time.sleep(SETTLE_S)
                idle = memory(node.pid)
                node.request("topic.join", secret=SECRET)
                t0 = time.perf_counter()
                wait_for(f"{profile} to store {envelopes} envelopes",
                         lambda n=node: n.request("status")["envelopes"] >= envelopes, 120 + envelopes / 200)
                took = time.perf_counter() - t0
                time.sleep(SETTLE_S)
                ingested = memory(node.pid)
                rows[profile] = {"bench": "pi", "profile": profile, "envelopes": envelopes,
                                 "rss_idle_kib": idle["VmRSS"], "hwm_idle_kib": idle["VmHWM"],
                                 "ingest_s": round(took, 1), "rss_ingested_kib": ingested["VmRSS"],
                                 "hwm_ingested_kib": ingested["VmHWM"]}
            start_io = {p: io(n.pid) for p, n in receivers.items()}
            t0 = time.monotonic()
            minutes: dict[str, list[int]] = {p: [] for p in receivers}  # write_bytes in each minute of the window: when
            last = dict(start_io)                       # a write happens says what it was
            while (left := idle_s - (time.monotonic() - t0)) > 0:
                time.sleep(min(60.0, left))
                for profile, node in receivers.items():
                    now_io = io(node.pid)
                    minutes[profile].append(now_io["write_bytes"] - last[profile]["write_bytes"])
                    last[profile] = now_io
            window = time.monotonic() - t0
            for profile, node in receivers.items():
                end = io(node.pid)
                written = end["write_bytes"] - start_io[profile]["write_bytes"]
                rows[profile].update({
                    "idle_s": round(window, 1), "write_bytes_idle": written,
                    "write_syscalls_idle": end["syscw"] - start_io[profile]["syscw"],
                    "write_bytes_per_hour": per_hour(written, window), "write_bytes_by_minute": minutes[profile],
                    "rss_after_idle_kib": memory(node.pid)["VmRSS"], "hwm_after_idle_kib": memory(node.pid)["VmHWM"]})
            return [rows[p] for p in PROFILES]
        finally:
            for proc in procs:
                proc.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--envelopes", type=int, default=100_000, help="envelopes each receiver ingests (default 100000)")
    ap.add_argument("--idle", type=float, default=600.0, metavar="SECONDS",
                    help="the measured idle window (default 600; figures per hour are extrapolated from it)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 2000 envelopes, a 20 s idle window")
    args = ap.parse_args(argv)
    if args.quick:
        args.envelopes, args.idle = 2_000, 20.0
    if not 1 <= args.envelopes <= 1_000_000:
        ap.error("--envelopes must be between 1 and 1000000")
    if not 5 <= args.idle <= 86_400:
        ap.error("--idle must be between 5 and 86400 seconds")
    if not Path("/proc/self/io").exists():
        print("bench_pi: /proc/PID/io is not available here (Linux with task I/O accounting is needed)",
              file=sys.stderr)
        return 1
    try:
        rows = run(args.envelopes, args.idle)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"bench_pi: {exc}", file=sys.stderr)
        return 1
    for row in rows:
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Two real daemons on loopback: latency, burst latency, throughput, CPU and bytes per message, catch-up, memory.

Each daemon is a `meshcare daemon --no-discovery` process with its own MESHCARE_HOME; the benchmark
talks to them over their control sockets (topic.join, topic.publish, status, subscribe), exactly as the
CLI does. 200-byte bodies. Latency is measured from the moment the publish request is sent to A's
control socket until B's control socket reports the envelope delivered (so it includes both control
round trips, not only the link).

Usage: python benchmarks/bench_daemon.py [--messages N] [--catchup N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon_procs import SECRET, Proc  # noqa: E402  (benchmarks/: the daemons bench_oneshot starts too)
from meshcare.client import ControlClient  # noqa: E402

BODY = "x" * 192  # + 8 digits of counter = 200 bytes
SYNC = "FULL"


class Arrivals:
    """Subscribes to a daemon's events in a thread; records when each envelope id arrived."""

    def __init__(self, node: Proc) -> None:
        self.times: dict[str, float] = {}
        self.cond = threading.Condition()
        self.client = ControlClient.connect(node.home / "control.sock", timeout=120)
        self.client.subscribe()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        for event in self.client.events():
            if event.name == "envelope":
                with self.cond:
                    self.times[event.data["id"]] = time.perf_counter()
                    self.cond.notify_all()

    def wait(self, ids: list[str], timeout: float = 60.0) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: all(i in self.times for i in ids), timeout):
                missing = sum(1 for i in ids if i not in self.times)
                raise RuntimeError(f"{missing} of {len(ids)} envelopes did not arrive in {timeout} s")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=20_000, help="messages for the throughput run")
    ap.add_argument("--catchup", type=int, default=50_000, help="envelopes a fresh node pulls")
    ap.add_argument("--stored", type=int, default=100_000, help="envelopes stored for the memory figure")
    ap.add_argument("--sync", choices=("FULL", "NORMAL"), default="FULL", help="store_synchronous of both daemons")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    global SYNC
    SYNC = args.sync
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="mcbench") as tmp:
        root = Path(tmp)
        a = Proc(root, "a", sync=SYNC)
        time.sleep(1.0)
        out["rss_idle_mib"] = round(a.rss_mib(), 1)
        b = Proc(root, "b", (a.port,), sync=SYNC)
        while not a.request("status")["links"]:
            time.sleep(0.02)
        arrivals = Arrivals(b)
        try:
            # 1. one message in flight (one control connection kept open, as the TUI does)
            lat = []
            publisher = ControlClient.connect(a.home / "control.sock", timeout=120)
            for i in range(500):
                t0 = time.perf_counter()
                sent = publisher.request("topic.publish", secret=SECRET, text=BODY[:192] + f"{i:08d}")["id"]
                arrivals.wait([sent])
                lat.append((arrivals.times[sent] - t0) * 1000)
            publisher.close()
            out["latency_ms"] = {"p50": round(pct(lat[50:], 0.5), 3), "p99": round(pct(lat[50:], 0.99), 3)}

            # 2. eight senders bursting at once: each publishes 50 messages back to back
            burst: list[float] = []
            lock = threading.Lock()
            go = threading.Barrier(8)

            def sender(k: int) -> None:
                client = ControlClient.connect(a.home / "control.sock", timeout=120)
                go.wait()
                sent = []
                for r in range(50):
                    t0 = time.perf_counter()
                    sent.append((client.request("topic.publish", secret=SECRET, text=BODY)["id"], t0))
                arrivals.wait([i for i, _ in sent])
                with lock:
                    burst.extend((arrivals.times[i] - t0) * 1000 for i, t0 in sent)
                client.close()
            threads = [threading.Thread(target=sender, args=(k,)) for k in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            out["burst_8_senders_ms"] = {"p50": round(pct(burst, 0.5), 3), "p99": round(pct(burst, 0.99), 3),
                                         "messages": len(burst)}

            # 3. sustained throughput, CPU and bytes per delivered message
            # (B's event stream is not used here: a control client that cannot keep up with thousands of
            # events per second is disconnected by design; B's store count is polled instead)
            cpu0, st_a0, st_b0 = a.cpu() + b.cpu(), a.request("status"), b.request("status")
            t0 = time.perf_counter()
            ids: list[str] = []
            chunk = 2000
            for start in range(0, args.messages, chunk):
                ids += a.request("topic.publish", secret=SECRET, text=BODY, count=min(chunk, args.messages - start))["ids"]
            target = st_b0["envelopes"] + len(ids)
            deadline = time.monotonic() + 300
            while b.request("status")["envelopes"] < target:
                if time.monotonic() > deadline:
                    raise RuntimeError("throughput run: not everything arrived within 300 s")
                time.sleep(0.005)
            elapsed = time.perf_counter() - t0
            cpu1, st_a1, st_b1 = a.cpu() + b.cpu(), a.request("status"), b.request("status")
            wire = (st_a1["wire_bytes_out"] - st_a0["wire_bytes_out"]) + (st_b1["wire_bytes_out"] - st_b0["wire_bytes_out"])
            out["throughput"] = {"messages": len(ids), "per_s": round(len(ids) / elapsed),
                                 "cpu_ms_per_message": round((cpu1 - cpu0) * 1000 / len(ids), 4),
                                 "wire_bytes_per_message": round(wire / len(ids), 1)}

            # 4. catch-up: a fresh node pulls everything a holds
            have = a.request("status")["envelopes"]
            if have < args.catchup:
                for start in range(have, args.catchup, chunk):
                    a.request("topic.publish", secret=SECRET, text=BODY, count=min(chunk, args.catchup - start))
            total = a.request("status")["envelopes"]
            c = Proc(root, "c", (a.port,), sync=SYNC)  # timed from the moment its control socket answers
            t0 = time.perf_counter()
            while c.request("status")["envelopes"] < total:
                time.sleep(0.02)
            took = time.perf_counter() - t0
            st_c = c.request("status")
            envelope_bytes = total * 412  # a 200-byte body is 412 bytes encoded (v2: with the 32-byte prev)
            out["catchup"] = {"envelopes": total, "seconds": round(took, 3), "per_s": round(total / took),
                              "wire_bytes_in": st_c["wire_bytes_in"],
                              "wire_over_envelope_bytes": round(st_c["wire_bytes_in"] / envelope_bytes, 3)}
            c.stop()

            # 5. memory with many stored envelopes
            have = a.request("status")["envelopes"]
            for start in range(have, args.stored, chunk):
                a.request("topic.publish", secret=SECRET, text=BODY, count=min(chunk, args.stored - start))
            time.sleep(1.0)
            out["rss_mib"] = {"idle": out.pop("rss_idle_mib"), "stored": a.request("status")["envelopes"],
                              "with_stored": round(a.rss_mib(), 1), "peer_b": round(b.rss_mib(), 1)}
        finally:
            a.stop()
            b.stop()
    if args.json:
        print(json.dumps(out))
        return
    print("two daemons on loopback, 200-byte bodies")
    for key, value in out.items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()

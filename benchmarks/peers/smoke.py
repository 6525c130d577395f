#!/usr/bin/env python3
"""Smoke run of lxmf_worker.py, with the peers venv: a sender, a receiver and (for the chain) a relay on
loopback ports, messages sent one at a time with each delivery method, and what arrived and which
delivery proofs came back printed. Exit status 1 if a message or a proof is missing, 2 if a worker
would not start. It checks the worker works; it measures nothing (benchmarks/bench_oneshot.py does).

    benchmarks/peers/.venv/bin/python benchmarks/peers/smoke.py [--messages 20]
"""

from __future__ import annotations

import argparse
import json
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

WORKER = Path(__file__).resolve().with_name("lxmf_worker.py")
READY_TIMEOUT_S = 60.0     # a worker may wait 20 s for its connections and 20 s for a path
QUIT_TIMEOUT_S = 10.0


class SmokeError(Exception):
    """A worker that did not start or did not answer: the message names it and says why."""


@dataclass
class Worker:
    """One worker process and the JSON lines it wrote, read by a thread into a queue."""
    name: str
    proc: subprocess.Popen[str]
    stderr_path: Path
    lines: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)

    def start_reader(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None  # Popen was given stdout=PIPE

        def read(stream: TextIO) -> None:
            for line in stream:
                try:
                    self.lines.put(json.loads(line))
                except ValueError:
                    self.lines.put({"error": f"not a JSON line: {line!r}"})
            self.lines.put({"eof": True})

        threading.Thread(target=read, args=(stdout,), daemon=True).start()

    def command(self, obj: dict[str, Any]) -> None:
        stdin = self.proc.stdin
        assert stdin is not None  # Popen was given stdin=PIPE
        stdin.write(json.dumps(obj) + "\n")
        stdin.flush()

    def next_line(self, timeout: float) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise SmokeError(f"{self.name}: nothing within {timeout:.0f} s{self.stderr_tail()}") from None
        if "eof" in line:
            raise SmokeError(f"{self.name} exited (status {self.proc.wait()}){self.stderr_tail()}")
        return line

    def stderr_tail(self) -> str:
        text = self.stderr_path.read_text(errors="replace").strip() if self.stderr_path.exists() else ""
        return ":\n    " + "\n    ".join(text.splitlines()[-8:]) if text else ""


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on 127.0.0.1 (the kernel picks them; a small race, fine for a smoke run)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def start(name: str, python: str, workdir: Path, args: list[str]) -> Worker:
    err = workdir / f"{name}.stderr"
    proc = subprocess.Popen([python, str(WORKER), "--dir", str(workdir / name), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err.open("w"),
                            text=True, bufsize=1)
    worker = Worker(name, proc, err)
    worker.start_reader()
    return worker


def wait_ready(worker: Worker) -> str:
    line = worker.next_line(READY_TIMEOUT_S)
    if not line.get("ready"):
        raise SmokeError(f"{worker.name}: expected ready, got {line}")
    return str(line["address"])


def spread(numbers: list[int]) -> str:
    """1-20 style, for the report."""
    if not numbers:
        return "none"
    runs, first, last = [], numbers[0], numbers[0]
    for n in numbers[1:]:
        if n == last + 1:
            last = n
            continue
        runs.append(f"{first}-{last}" if first != last else str(first))
        first = last = n
    runs.append(f"{first}-{last}" if first != last else str(first))
    return ",".join(runs)


def one_run(topology: str, method: str, args: argparse.Namespace, workdir: Path) -> bool:
    """Start the workers of one topology, send, print, quit them; True when nothing was lost."""
    ports = free_ports(3)
    workers: list[Worker] = []
    try:
        if topology == "chain":
            relay = start("relay", args.python, workdir, ["--role", "relay", "--listen-port", str(ports[2])])
            workers.append(relay)
            wait_ready(relay)
            upstream = ["--connect-port", str(ports[2])]
        else:
            upstream = []
        receiver = start("receiver", args.python, workdir,
                         ["--role", "receiver", "--listen-port", str(ports[0]), *upstream])
        workers.append(receiver)
        address = wait_ready(receiver)
        towards = upstream or ["--connect-port", str(ports[0])]
        sender = start("sender", args.python, workdir, ["--role", "sender", "--listen-port", str(ports[1]),
                                                       *towards, "--method", method, "--to", address])
        workers.append(sender)
        wait_ready(sender)

        delivered: dict[int, tuple[float, bool]] = {}
        acked: dict[int, float] = {}
        problems: list[str] = []

        def note(worker: Worker, line: dict[str, Any]) -> None:
            if "acked" in line:
                acked[line["acked"]] = line["t"]
            elif "delivered" in line:
                delivered[line["delivered"]] = (line["t"], bool(line.get("verified")))
            elif "error" in line:
                problems.append(f"{worker.name}: {line['error']}")

        def drain(worker: Worker, timeout: float) -> bool:
            try:
                line = worker.lines.get(timeout=timeout)
            except queue.Empty:
                return False
            if "eof" in line:
                raise SmokeError(f"{worker.name} exited (status {worker.proc.wait()}){worker.stderr_tail()}")
            note(worker, line)
            return True

        sent_at: dict[int, float] = {}
        for n in range(1, args.messages + 1):
            sent_at[n] = time.clock_gettime(time.CLOCK_MONOTONIC)
            sender.command({"cmd": "send", "n": n, "size": args.size, "to": address})
            deadline = time.monotonic() + args.timeout
            while n not in delivered and time.monotonic() < deadline:
                drain(receiver, 0.05)
                while drain(sender, 0):
                    pass
        deadline = time.monotonic() + args.timeout
        while len(acked) < len(sent_at) and time.monotonic() < deadline:
            drain(sender, 0.05)

        stats = {}
        for worker in workers:
            worker.command({"cmd": "stats"})
            while "stats" not in (line := worker.next_line(args.timeout)):
                note(worker, line)
            stats[worker.name] = line["stats"]
    finally:
        for worker in workers:
            if worker.proc.poll() is None:
                try:
                    worker.command({"cmd": "quit"})
                except OSError:
                    pass
        for worker in workers:
            try:
                worker.proc.wait(QUIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                print(f"  {worker.name} (pid {worker.proc.pid}) did not quit: killed", file=sys.stderr)
                worker.proc.kill()
                worker.proc.wait()

    numbers = sorted(sent_at)
    lost = [n for n in numbers if n not in delivered]
    unproved = [n for n in numbers if n not in acked]
    unverified = [n for n in numbers if n in delivered and not delivered[n][1]]
    latencies = sorted((delivered[n][0] - sent_at[n]) * 1000 for n in numbers if n in delivered)
    proof_ms = sorted((acked[n] - sent_at[n]) * 1000 for n in numbers if n in acked)
    label = f"{topology}/{method}"
    print(f"{label}: sent {spread(numbers)}")
    print(f"  arrived {spread(sorted(delivered))} ({len(delivered)}/{len(numbers)}; signature verified: "
          f"{len(delivered) - len(unverified)}), lost: {spread(lost)}")
    print(f"  proofs  {spread(sorted(acked))} ({len(acked)}/{len(numbers)}), missing: {spread(unproved)}")
    if latencies:
        print(f"  send -> delivered: median {latencies[len(latencies) // 2]:.1f} ms, max {latencies[-1]:.1f} ms")
    if proof_ms:
        print(f"  send -> proof:     median {proof_ms[len(proof_ms) // 2]:.1f} ms, max {proof_ms[-1]:.1f} ms")
    for name, st in stats.items():
        print(f"  {name:8} cpu {st['cpu_s']:.3f} s, rss {st['rss_kib'] / 1024:.1f} MiB, "
              f"wire in {st['wire_in']} B out {st['wire_out']} B")
    for problem in problems:
        print(f"  error line: {problem}")
    return not lost and not unproved


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20, help="messages per run (default 20, at most 200)")
    parser.add_argument("--size", type=int, default=200, help="body bytes (default 200)")
    parser.add_argument("--topology", choices=("pair", "chain", "both"), default="both")
    parser.add_argument("--method", choices=("direct", "opportunistic", "both"), default="both")
    parser.add_argument("--timeout", type=float, default=15.0,
                        help="seconds to wait for one delivery, and for the proofs at the end (default 15)")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter with rns and lxmf (default: this one)")
    args = parser.parse_args(argv)
    if not 1 <= args.messages <= 200:
        parser.error("--messages must be 1-200")
    if args.size < 8:
        parser.error("--size must be at least 8 (the message number comes first)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    topologies = ("pair", "chain") if args.topology == "both" else (args.topology,)
    methods = ("direct", "opportunistic") if args.method == "both" else (args.method,)
    ok = True
    for topology in topologies:
        for method in methods:
            workdir = Path(tempfile.mkdtemp(prefix=f"lxmf-smoke-{topology}-{method}-"))
            try:
                ok = one_run(topology, method, args, workdir) and ok
            except SmokeError as exc:
                print(f"{topology}/{method}: {exc}", file=sys.stderr)
                return 2
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    print("smoke: every message arrived and was proved" if ok else "smoke: FAILED, see above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

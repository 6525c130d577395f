"""Worker processes as the driver sees them: start one, write commands, read its lines.

Every worker of a run writes into one queue (``Inbox``), tagged with its name, so the driver waits
on the sender and the receiver at once. Each worker's stdout is read by its own thread; a line that
is not the protocol is kept aside in ``noise`` (a library that logs to stdout must not stop a run;
the run reports them), and the end of a worker's stdout becomes ``Exited`` (with the tail of its
stderr, which goes to a file in the run's directory).
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import worker_protocol as wp


@dataclass(frozen=True, slots=True)
class Exited:
    """A worker's stdout ended: it exited (``code``) or closed it."""

    code: int | None
    stderr_tail: str


@dataclass(frozen=True, slots=True)
class Received:
    """One thing a worker said: a checked line, or that it exited."""

    worker: str
    item: wp.WorkerLine | Exited


class Inbox:
    """What the workers of one run said, in the order it was read."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Received] = queue.Queue()

    def put(self, received: Received) -> None:
        self._queue.put(received)

    def get(self, timeout: float) -> Received | None:
        """The next thing said, or None if nothing came within ``timeout`` seconds."""
        try:
            return self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None


class WorkerDied(RuntimeError):
    """A worker exited (or never became ready); the message has the tail of its stderr."""


class WorkerProc:
    """One worker process: ``argv`` started with pipes; its lines go to ``inbox`` tagged ``name``."""

    def __init__(self, name: str, argv: list[str], inbox: Inbox, log_dir: Path,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.inbox = inbox
        self.log_path = log_dir / f"worker-{name}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                         env=env, text=True, bufsize=1)
        if self.proc.stdin is None:            # stdin=PIPE was given, so this does not happen
            raise WorkerDied(f"worker {name} started without a stdin pipe")
        self._stdin: IO[str] = self.proc.stdin
        self._lock = threading.Lock()
        self.address = ""
        self.noise: list[str] = []                    # lines that were not the protocol (the first 20)
        threading.Thread(target=self._read, name=f"read-{name}", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        stdout = self.proc.stdout
        if stdout is not None:
            for line in stdout:
                if not line.strip():
                    continue
                try:
                    item = wp.parse_worker_line(line)
                except wp.ProtocolError as exc:
                    if len(self.noise) < 20:        # e.g. a library logging to stdout: kept, not fatal
                        self.noise.append(str(exc))
                    continue
                self.inbox.put(Received(self.name, item))
        self.inbox.put(Received(self.name, Exited(self.proc.wait(), self.stderr_tail())))

    def stderr_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def write(self, message: dict[str, Any]) -> float:
        """Write one command; answer the protocol's time just before it was written."""
        line = wp.encode(message)
        with self._lock:
            t = wp.now()
            try:
                self._stdin.write(line)
                self._stdin.flush()
            except (BrokenPipeError, ValueError):
                raise WorkerDied(f"worker {self.name} is gone (exit {self.proc.poll()}):\n"
                                 f"{self.stderr_tail()}") from None
        return t

    def quit(self, timeout: float = 10.0) -> int | None:
        """Ask it to quit; kill it if it has not exited within ``timeout`` seconds. Answers its exit code."""
        if self.proc.poll() is None:
            try:
                self.write({"cmd": "quit"})
                self._stdin.close()
            except (WorkerDied, OSError):
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


def wait_ready(inbox: Inbox, workers: list[WorkerProc], timeout: float) -> None:
    """Wait until every worker in ``workers`` said ``ready``; set each one's ``address``.

    Raises WorkerDied (with its stderr) when one exits or has not said it within ``timeout`` seconds.
    Lines other than ``ready`` that come meanwhile are dropped (nothing was asked of them yet)."""
    waiting = {w.name: w for w in workers}
    deadline = time.monotonic() + timeout
    while waiting:
        got = inbox.get(deadline - time.monotonic())
        if got is None:
            names = ", ".join(sorted(waiting))
            tails = "\n".join(f"--- {n}:\n{w.stderr_tail()}" for n, w in waiting.items())
            raise WorkerDied(f"worker(s) {names} not ready within {timeout:g} s\n{tails}")
        worker = waiting.get(got.worker)
        if worker is None:
            continue
        if isinstance(got.item, Exited):
            raise WorkerDied(f"worker {got.worker} exited with {got.item.code} before it was ready:\n"
                             f"{got.item.stderr_tail}")
        if got.item.kind == "ready":
            worker.address = got.item.address or ""
            del waiting[got.worker]
        elif got.item.kind == "error":
            raise WorkerDied(f"worker {got.worker} before it was ready: {got.item.error}")


def ask_stats(inbox: Inbox, workers: list[WorkerProc], timeout: float = 30.0) -> tuple[
        dict[str, dict[str, float | int | None]], list[Received]]:
    """Send ``stats`` to each worker and collect the answers by name. Other lines that arrive meanwhile
    are returned, in order, for the caller to account (a late delivery is still a delivery).
    Raises WorkerDied when one does not answer within ``timeout`` seconds."""
    for worker in workers:
        worker.write({"cmd": "stats"})
    answers: dict[str, dict[str, float | int | None]] = {}
    other: list[Received] = []
    deadline = time.monotonic() + timeout
    while len(answers) < len(workers):
        got = inbox.get(deadline - time.monotonic())
        if got is None:
            missing = sorted({w.name for w in workers} - set(answers))
            raise WorkerDied(f"no stats from {', '.join(missing)} within {timeout:g} s")
        if isinstance(got.item, wp.WorkerLine) and got.item.kind == "stats":
            answers[got.worker] = got.item.stats
        elif isinstance(got.item, Exited):
            raise WorkerDied(f"worker {got.worker} exited with {got.item.code}:\n{got.item.stderr_tail}")
        else:
            other.append(got)
    return answers, other

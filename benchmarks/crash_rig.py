"""The crash rig: a real target daemon ingesting from a real sending peer, killed with SIGKILL, checked.

One *round* (``kill_round``): a fresh target daemon dials the sender (a daemon holding ``envelopes``
envelopes of a plain topic) and ingests them; meanwhile a local client posts to the target one envelope
at a time over the control socket. At a random point of the ingest (seeded) the target is killed with
SIGKILL, right after a post was acknowledged. Then, with the process gone:

* the store opens (``SqliteStore``), ``PRAGMA integrity_check`` answers ``ok``;
* every envelope the target ACKNOWLEDGED is in it. Acknowledged means the target told someone it is
  stored: a ``topic.publish`` reply to the client (sent after the group commit), or an id a
  ``topic.ids`` reply listed (read from the store; what sync tells a peer it holds is read from the
  same committed store, and a link writer commits before it sends);
* the identity and the state file load;
* the target starts again on the same data dir and catches up everything the sender holds.

What it records per round: where it was killed (envelopes stored), acknowledged vs found, seconds to
reopen the store, to answer ``status`` again, and to catch up. ``bench_crash.py`` prints them;
``tests/test_crash_safety.py`` runs a small seeded size. Only 127.0.0.1, no discovery.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon_procs import SECRET, Proc, config_text  # noqa: E402

from meshcare.client import ControlClient  # noqa: E402

#: The topic of the target's own posts: the sender does not join it, so no link writer commits them
#: early (a writer commits what is pending before it sends); only the op's own group commit does.
OWN_SECRET = "6b" * 16
#: The calibration target's data dir: later targets copy its identity and config (``Target``).
TEMPLATE = "calibration"
from meshcare.config import STORE_FILE  # noqa: E402
from meshcare.crypto import keystore  # noqa: E402
from meshcare.store.sqlite import SqliteStore  # noqa: E402
from meshcare.transport.state_file import LocalStateFile  # noqa: E402


class Target:
    """A `meshcare daemon` that can be killed and started again on the same data dir."""

    def __init__(self, root: Path, name: str, peer_port: int, *, sync: str = "FULL",
                 template: Path | None = None, existing: bool = False) -> None:
        """``template``: a data dir to copy the identity and config from (a fresh store and state), instead
        of running ``meshcare init`` (a second each on a busy machine); the rounds run one at a time.
        ``existing``: the data dir ``root/name`` is there already (a copy after a power cut): use it."""
        self.name = name
        self.home = root / name
        self.env = {**os.environ, "MESHCARE_HOME": str(self.home)}
        self.peer_port = peer_port
        self.log_path = root / f"{name}.log"
        if existing:
            pass
        elif template is None:
            subprocess.run([sys.executable, "-m", "meshcare", "init", "--name", name], env=self.env, check=True,
                           capture_output=True)
            (self.home / "config.toml").write_text(config_text(sync))
        else:
            self.home.mkdir(mode=0o700)
            for part in ("identity.key", "config.toml"):
                shutil.copy2(template / part, self.home / part)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0, wrap: Sequence[str] = ()) -> float:
        """Start the daemon (under ``wrap``: strace and its options); seconds until it answered ``status``."""
        argv = [*wrap, sys.executable, "-m", "meshcare", "daemon", "--no-discovery", "--listen", "127.0.0.1:0",
                "--log-level", "info", "--bench-ops", "--peer", f"127.0.0.1:{self.peer_port}"]
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        deadline = started + timeout
        while True:
            try:
                self.request("status")
                return time.monotonic() - started
            except Exception:  # noqa: BLE001 (not up yet)
                if self.proc.poll() is not None:
                    raise RuntimeError(f"daemon {self.name} exited with {self.proc.returncode}; see "
                                       f"{self.log_path}:\n" + self.log_path.read_text(errors="replace")[-2000:]) from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def request(self, op: str, **args: Any) -> dict[str, Any]:
        client = ControlClient.connect(self.home / "control.sock", timeout=60)
        try:
            return client.request(op, **args)
        finally:
            client.close()

    def daemon_pid(self) -> int:
        """The daemon's own pid (from its lock file): not the wrapper's when it runs under strace."""
        return int((self.home / "daemon.lock").read_text().split()[0])

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"daemon {self.name} is not running")
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL, and wait until the process is gone (the kernel has dropped its lock and sockets)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@dataclass
class Acks:
    """What the target told its client, gathered by the client threads while it ran."""

    posted: list[bytes] = field(default_factory=list)     # topic.publish replies: own envelopes
    listed: set[bytes] = field(default_factory=set)       # topic.ids replies: envelopes it said it holds
    errors: list[str] = field(default_factory=list)       # failures other than the kill itself


@dataclass(frozen=True)
class Round:
    """One kill and its checks (see the module docstring)."""

    killed_at: int            # envelopes in the target's store after the kill
    acknowledged: int         # distinct envelopes acknowledged (posted + listed)
    found: int                # of those, in the store after the kill
    lost: tuple[str, ...]     # ids acknowledged and not found (must be empty)
    integrity: str            # PRAGMA integrity_check's answer
    reopen_s: float           # opening the store after the kill
    restart_s: float          # starting the daemon again until it answers status
    catch_up_s: float         # from the restart until it held everything the sender holds
    stored_after: int         # envelopes in the target's store at the end

    @property
    def ok(self) -> bool:
        return not self.lost and self.integrity == "ok"


def poster(target: Target, stop: threading.Event, armed: threading.Event, acks: Acks) -> None:
    """Post one envelope at a time; once ``armed``, SIGKILL the target right after the next acknowledgement
    (the moment an "acknowledged before committed" bug would lose it)."""
    i = 0
    try:
        client = ControlClient.connect(target.home / "control.sock", timeout=30)
    except Exception as exc:  # noqa: BLE001 (recorded; the round's checks report it)
        acks.errors.append(f"poster could not connect: {exc}")
        return
    try:
        while not stop.is_set():
            i += 1
            try:
                reply = client.request("topic.publish", secret=OWN_SECRET, text=f"own post {i}")
            except Exception:  # noqa: BLE001 (the kill ends the connection: expected)
                return
            acks.posted.append(bytes.fromhex(reply["id"]))
            if armed.is_set():
                target.kill()
                return
    finally:
        client.close()


def lister(target: Target, stop: threading.Event, acks: Acks) -> None:
    """Ask the target what it holds (``topic.ids``) until stopped; every id listed is acknowledged."""
    while not stop.is_set():
        try:
            reply = target.request("topic.ids", secret=SECRET)
        except Exception:  # noqa: BLE001 (the kill: expected)
            return
        acks.listed.update(bytes.fromhex(i) for i in reply["ids"])


def check_store(home: Path, acknowledged: set[bytes]) -> tuple[str, list[bytes], float, int]:
    """Open the store of a dead daemon: (integrity_check's answer, acknowledged ids missing, seconds
    to open, envelopes stored). Loading the identity and the state file raises if they are damaged."""
    started = time.monotonic()
    store = SqliteStore(home / STORE_FILE)
    reopen = time.monotonic() - started
    try:
        integrity = "; ".join(str(row[0]) for row in store._db.execute("PRAGMA integrity_check"))
        missing = store.missing(sorted(acknowledged))
        stored = len(store)
    finally:
        store.close()
    identity = keystore.load(home / "identity.key", None)
    LocalStateFile(home, identity).load()
    return integrity, missing, reopen, stored


def wait_for(target: Target, expected: set[bytes], timeout: float, pause: float = 0.05) -> float:
    """Seconds until the target's topic holds every id of ``expected``; TimeoutError if it never does."""
    started = time.monotonic()
    while True:
        held = {bytes.fromhex(i) for i in target.request("topic.ids", secret=SECRET)["ids"]}
        if expected <= held:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{target.name} holds {len(expected & held)} of {len(expected)} envelopes "
                               f"after {timeout:.0f} s; see {target.log_path}")
        time.sleep(pause)


def _stored_reaches(target: Target, count: int, deadline: float) -> int:
    """Poll ``status`` on one connection, as fast as it answers, until the target stores ``count``
    envelopes; the count it last reported."""
    client = ControlClient.connect(target.home / "control.sock", timeout=30)
    try:
        while True:
            stored = int(client.request("status")["envelopes"])
            if stored >= count:
                return stored
            if time.monotonic() > deadline:
                raise TimeoutError(f"{target.name} stored {stored} envelopes, not {count}, in time; "
                                   f"see {target.log_path}")
    finally:
        client.close()


def ingest_seconds(root: Path, sender: Proc, sender_ids: set[bytes], timeout: float = 300.0) -> float:
    """How long a fresh target takes to ingest everything the sender holds, from joining the topic (link,
    reconciliation, transfer, writes): the span the rounds draw their kill times from. Ingest comes in a
    few large batches; polling a count would overshoot them."""
    target = Target(root, TEMPLATE, sender.port)
    try:
        target.start()
        target.request("topic.join", secret=SECRET)
        started = time.monotonic()
        _stored_reaches(target, len(sender_ids), started + timeout)
        return time.monotonic() - started
    finally:
        target.stop()
        for part in ("control.sock", "daemon.lock"):
            (target.home / part).unlink(missing_ok=True)


def kill_round(root: Path, name: str, sender: Proc, sender_ids: set[bytes], kill_after: float, *,
               catch_up_timeout: float = 120.0) -> Round:
    """One round: ingest, kill, check, restart, catch up (module docstring). The kill comes
    ``kill_after`` seconds after the target joined the sender's topic (``kill_times`` draws them), just
    after the next acknowledged post."""
    template = root / TEMPLATE
    target = Target(root, name, sender.port, template=template if template.is_dir() else None)
    try:
        target.start()
        target.request("circle.create", name="crash circle")   # a state file to load after the kill
        target.request("topic.join", secret=OWN_SECRET)
        target.request("topic.join", secret=SECRET)           # the ingest begins
        acks = Acks()
        stop, armed = threading.Event(), threading.Event()
        threads = [threading.Thread(target=poster, args=(target, stop, armed, acks)),
                   threading.Thread(target=lister, args=(target, stop, acks))]
        for t in threads:
            t.start()
        try:
            time.sleep(kill_after)
            armed.set()
            threads[0].join(timeout=30)
            target.kill()           # (already dead unless the poster had stopped)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        if acks.errors:
            raise RuntimeError(f"{name}: the client could not do its part: {'; '.join(acks.errors)}")
        acknowledged = set(acks.posted) | acks.listed
        integrity, missing, reopen, killed_at = check_store(target.home, acknowledged)
        restart = target.start()
        target.request("topic.join", secret=SECRET)    # (plain test topics are not kept across restarts)
        catch_up = wait_for(target, sender_ids | (acks.listed - set(missing)), catch_up_timeout)
        stored = target.request("status")["envelopes"]
        return Round(killed_at=killed_at, acknowledged=len(acknowledged), found=len(acknowledged) - len(missing),
                     lost=tuple(i.hex() for i in missing), integrity=integrity, reopen_s=reopen,
                     restart_s=restart, catch_up_s=catch_up, stored_after=stored)
    finally:
        target.stop()


def kill_times(rng: random.Random, kills: int, span: float) -> list[float]:
    """Seconds from the join to each kill: uniform over the ingest and a quarter past it (a kill while the
    node is quiet is where acknowledging before the commit shows: no link writer commits for it)."""
    return [rng.uniform(0.0, 1.25 * span) for _ in range(kills)]


def summary(rounds: list[Round]) -> dict[str, Any]:
    """The figures of a run (what bench_crash.py prints)."""
    def median(values: list[float]) -> float:
        ordered = sorted(values)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

    return {"kills": len(rounds), "acknowledged": sum(r.acknowledged for r in rounds),
            "found": sum(r.found for r in rounds), "lost": sum(len(r.lost) for r in rounds),
            "integrity_ok": sum(r.integrity == "ok" for r in rounds),
            "killed_at": [r.killed_at for r in rounds],
            "reopen_ms_median": round(1000 * median([r.reopen_s for r in rounds]), 2),
            "reopen_ms_max": round(1000 * max(r.reopen_s for r in rounds), 2),
            "restart_s_median": round(median([r.restart_s for r in rounds]), 3),
            "catch_up_s_median": round(median([r.catch_up_s for r in rounds]), 3),
            "catch_up_s_max": round(max(r.catch_up_s for r in rounds), 3)}


def sender_with(root: Path, envelopes: int) -> tuple[Proc, set[bytes]]:
    """The sending peer: a daemon holding ``envelopes`` envelopes of the plain topic, and their ids."""
    sender = Proc(root, "sender")
    try:
        ids: set[bytes] = set()
        while len(ids) < envelopes:
            batch = min(5000, envelopes - len(ids))
            reply = sender.request("topic.publish", secret=SECRET, text="from the sender", count=batch)
            ids.update(bytes.fromhex(i) for i in reply["ids"])
        return sender, ids
    except BaseException:
        sender.stop()
        raise

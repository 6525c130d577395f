"""Power cuts, simulated: what a data dir looks like after the power went out mid-write.

The model. A ``kill -9`` leaves the files as the kernel's page cache holds them: every ``write`` the
process made is there. A power cut loses, on top of that, whatever was written but not yet forced to the
device by ``fsync``/``fdatasync``, and the device may have written any prefix of it, even half a page. So:

1. The target daemon runs under ``strace`` (pwrite64, fsync, fdatasync on every file, with paths). When
   it is stopped with SIGSTOP mid-burst, the trace says which bytes of the WAL were forced to the device:
   ``durable_wal`` follows the current WAL generation (a write at offset 0 starts one, after a checkpoint)
   and records its extent at each fsync/fdatasync of the WAL.
2. The data dir is copied (the page-cache state), and then cut: the ``-wal`` file is truncated at random
   points between the durable extent and its written end, at a frame boundary and at a byte inside a frame
   (a torn frame, which SQLite must discard: its checksum fails). The ``-shm`` index is dropped (SQLite
   rebuilds it from the WAL), and a half-written state-file temporary is left behind as an interrupted
   ``replace_private`` would leave it.
3. Each copy must open (``integrity_check`` ok) holding every post that was acknowledged (own posts are
   committed with ``synchronous=FULL``: fsynced before the reply), and a daemon must start on it and catch
   up from its peer. Received envelopes after the last fsync may be gone: nothing promised them (their
   senders hold them and resend them).

Limits: the main database file is taken as the page cache had it (it is only written by checkpoints, which
fsync it before the WAL restarts, so a lost checkpoint write is redone from the WAL); the device's own
write cache and a card that lies about flushes are outside what any software test can show.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WAL_HEADER = 32
FRAME_HEADER = 24
#: One strace line for the syscalls we trace: pid, call, fd path, then (pwrite64) size and offset, result.
_LINE = re.compile(r"^(?:\d+\s+)?(pwrite64|fsync|fdatasync)\(\d+<([^>]*)>(?:, .*, (\d+), (\d+))?\)\s+=\s+(-?\d+)")


@dataclass(frozen=True)
class WalState:
    """What the trace says of one WAL file when the process stopped."""

    durable: int     # bytes of the current generation forced to the device (0: not even its header)
    written: int     # bytes of the current generation written (what the page cache holds)
    syncs: int       # fsync/fdatasync calls on the WAL in the whole trace


def durable_wal(trace: str, wal: str) -> WalState:
    """Follow ``wal``'s writes and syncs in an strace log (``-y -s 0 -e trace=pwrite64,fsync,fdatasync``).

    A write at offset 0 (the WAL header) starts a new generation: what the older one held was
    checkpointed into the database (and fsynced) before SQLite restarted the WAL, so the durable extent
    starts again at 0 until the next sync.
    """
    durable = written = syncs = 0
    for line in trace.splitlines():
        m = _LINE.match(line)
        if m is None or m.group(2) != wal or int(m.group(5)) < 0:
            continue
        if m.group(1) == "pwrite64":
            size, offset = int(m.group(3)), int(m.group(4))
            if offset == 0:
                durable, written = 0, size
            else:
                written = max(written, offset + size)
        else:
            durable, syncs = written, syncs + 1
    return WalState(durable, written, syncs)


def frame_size(page_size: int) -> int:
    return FRAME_HEADER + page_size


def cuts(state: WalState, page_size: int, rng: random.Random) -> list[tuple[str, int]]:
    """Where to cut the WAL: (what, length) at the durable extent, at a random frame boundary past it,
    and at a random byte inside a frame past it (a torn frame)."""
    size = frame_size(page_size)
    first = state.durable if state.durable >= WAL_HEADER else 0
    frames = [b for b in range(WAL_HEADER, state.written + 1, size) if b >= first]
    out = [("the fsynced prefix", first)]
    if frames:
        out.append(("a frame boundary after it", rng.choice(frames)))
        whole = [b for b in frames if b + size <= state.written]   # frames written whole: tear one
        if whole:
            out.append(("a torn frame", rng.choice(whole) + rng.randrange(1, size)))
    return out


def frame_floor(length: int, page_size: int) -> int:
    """The frame boundary at or below ``length`` (what SQLite keeps of a WAL cut at ``length``)."""
    if length < WAL_HEADER:
        return 0
    return WAL_HEADER + (length - WAL_HEADER) // frame_size(page_size) * frame_size(page_size)


def cut_copy(source: Path, dest: Path, wal_length: int, *, state_tmp: bool = True) -> Path:
    """Copy the data dir ``source`` to ``dest`` as a power cut would leave it: the WAL cut at
    ``wal_length``, no ``-shm``, no lock or socket, and (``state_tmp``) half a state-file temporary."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("*-shm", "control.sock", "daemon.lock"))
    wal = next(dest.glob("*-wal"), None)
    if wal is not None:
        with open(wal, "r+b") as f:
            f.truncate(wal_length)
    state = dest / "circles.state"
    if state_tmp and state.exists():
        data = state.read_bytes()
        (dest / ".circles.state.99999.tmp").write_bytes(data[:len(data) // 2])
    return dest


@dataclass(frozen=True)
class Cut:
    """One copy of the data dir as a power cut may leave it, and what opening it showed."""

    what: str                 # which cut (see ``cuts``)
    wal_length: int           # the -wal file's length in the copy
    integrity: str            # PRAGMA integrity_check's answer
    acknowledged: int         # own posts acknowledged before the stop
    lost: tuple[str, ...]     # of those, missing from the copy (must be empty)
    stored: int               # envelopes in the copy's store


@dataclass(frozen=True)
class PowerCut:
    """One stop mid-burst: the WAL as the trace saw it, each cut copy, the frame-floor check of the torn
    one, and the restart of a daemon on the hardest cut."""

    wal: WalState
    cuts: tuple[Cut, ...]
    torn_matches_floor: bool | None   # the torn copy holds what a cut at its frame boundary holds
    catch_up_s: float                 # the daemon on the fsynced-prefix copy, until it held everything
    restart_lost: int                 # acknowledged posts that daemon does not hold (must be 0)

    @property
    def ok(self) -> bool:
        return (all(c.integrity == "ok" and not c.lost for c in self.cuts) and self.torn_matches_floor is not False
                and self.restart_lost == 0)


STRACE = ("strace", "-f", "-qq", "-y", "-s", "0", "-e", "signal=none", "-e", "trace=pwrite64,fsync,fdatasync")


def page_size(db: Path) -> int:
    """The database's page size, from its header (bytes 16-17; 1 means 65536)."""
    value = int.from_bytes(db.read_bytes()[16:18], "big")
    return 65536 if value == 1 else value


def power_cut_round(root: Path, name: str, sender: Any, sender_ids: set[bytes], stop_after: float,
                    rng: random.Random, *, catch_up_timeout: float = 120.0) -> PowerCut:
    """A target under strace ingests from ``sender`` while its client posts; ``stop_after`` seconds into the
    ingest it is stopped (SIGSTOP), its data dir copied and cut (module docstring), and then killed."""
    import crash_rig as rig  # noqa: PLC0415 (the rig imports the daemon's client; the model above is pure)

    target = rig.Target(root, name, sender.port)
    trace = root / f"{name}.strace"
    acks, stop, armed = rig.Acks(), threading.Event(), threading.Event()
    poster = threading.Thread(target=rig.poster, args=(target, stop, armed, acks))
    try:
        target.start(wrap=(*STRACE, "-o", str(trace)))
        target.request("circle.create", name="power cut circle")
        target.request("topic.join", secret=rig.OWN_SECRET)
        poster.start()
        target.request("topic.join", secret=rig.SECRET)
        time.sleep(stop_after)
        pid = target.daemon_pid()
        os.kill(pid, signal.SIGSTOP)
        time.sleep(0.3)                 # replies sent before the stop reach the client
        acknowledged = set(acks.posted)
        at_stop = root / f"{name}-at-stop"
        shutil.copytree(target.home, at_stop, ignore=shutil.ignore_patterns("control.sock"))
        os.kill(pid, signal.SIGKILL)
    finally:
        stop.set()
        target.kill()
        if poster.is_alive():
            poster.join(timeout=30)
    store = target.home / "store.sqlite3"
    wal = durable_wal(trace.read_text(errors="replace"), f"{store}-wal")
    size = page_size(at_stop / "store.sqlite3")
    made: list[Cut] = []
    planned = [*cuts(wal, size, rng), ("as the page cache held it (a kill -9)", wal.written)]
    torn = next((length for what, length in planned if what == "a torn frame"), None)
    if torn is not None:
        planned.append(("the frame boundary below the torn frame", frame_floor(torn, size)))
    for i, (what, length) in enumerate(planned):
        copy = cut_copy(at_stop, root / f"{name}-cut{i}", length)
        integrity, missing, _, stored = rig.check_store(copy, acknowledged)
        made.append(Cut(what, length, integrity, len(acknowledged), tuple(m.hex() for m in missing), stored))
    torn_ok = None if torn is None else made[-1].stored == next(c.stored for c in made if c.what == "a torn frame")
    restarted = rig.Target(root, f"{name}-cut0", sender.port, existing=True)
    try:
        restarted.start()
        restarted.request("topic.join", secret=rig.SECRET)
        restarted.request("topic.join", secret=rig.OWN_SECRET)
        catch_up = rig.wait_for(restarted, sender_ids, catch_up_timeout)
        own = {bytes.fromhex(i) for i in restarted.request("topic.ids", secret=rig.OWN_SECRET)["ids"]}
    finally:
        restarted.stop()
    return PowerCut(wal, tuple(made), torn_ok, catch_up, len(acknowledged - own))


def summary(cuts: list[PowerCut]) -> dict[str, int]:
    """The power-cut figures of a run (what bench_crash.py prints)."""
    torn = [p.torn_matches_floor for p in cuts if p.torn_matches_floor is not None]
    return {"power_cuts": len(cuts), "power_cut_copies": sum(len(p.cuts) for p in cuts),
            "power_cut_copies_ok": sum(c.integrity == "ok" and not c.lost for p in cuts for c in p.cuts),
            "power_cut_lost": sum(len(c.lost) for p in cuts for c in p.cuts) + sum(p.restart_lost for p in cuts),
            "torn_checked": len(torn), "torn_discarded": sum(torn)}

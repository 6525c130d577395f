"""A full disk (issue 14 item 5): the daemon says so, keeps running, loses nothing it acknowledged, and
recovers by itself once there is room.

A real daemon's data dir is on a small tmpfs this test mounts (root only: skipped with the reason
otherwise). It posts, links to a sending peer, then the disk is filled and it is asked to ingest the
peer's envelopes and to post: ``status`` shows ``disk_full``, the log says it in words, a post is refused
with "the disk is full ... free some space" (no acknowledgement), the link stays up, reading works, and
sync stops asking (no reconciliation started while full). Then the filler is removed: the next post is
acknowledged, ``disk_full`` is null again and catch-up completes. About 15 s.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from meshcare.errors import RequestFailed
from tests.helpers import load_benchmark

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ENVELOPES = int(os.environ.get("MESHCARE_DISKFULL_ENVELOPES", "2000"))


@contextlib.contextmanager
def small_disk(where: Path, size: str):
    """A tmpfs of ``size`` at ``where``, unmounted afterwards; skips the test when it cannot be mounted."""
    if os.geteuid() != 0:
        pytest.skip("the disk-full test mounts a small tmpfs and needs root (run the suite as root to include it)")
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): the disk-full test needs one")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Write a filler file until the disk has no room left; its path."""
    filler = disk / "filler"
    chunk = b"\0" * (64 * 1024)
    with open(filler, "wb", buffering=0) as f:
        for size in (len(chunk), 4096, 512):   # big steps, then the last pages
            with contextlib.suppress(OSError):
                while f.write(chunk[:size]):
                    pass
    return filler


def eventually(check, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)


def test_a_full_disk_is_said_survived_and_recovered_from(tmp_path):
    rig = load_benchmark("bench_crash").rig
    with small_disk(tmp_path / "disk", f"{4 + ENVELOPES * 3 // 1000}m") as disk:
        sender, ids = rig.sender_with(tmp_path, ENVELOPES)
        target = rig.Target(disk, "target", sender.port, template=None)
        target.log_path = tmp_path / "target.log"      # the log is read after: keep it off the full disk
        try:
            target.start()
            target.request("topic.join", secret=rig.OWN_SECRET)
            acked = [target.request("topic.publish", secret=rig.OWN_SECRET, text=f"before {i}")["id"]
                     for i in range(5)]
            eventually(lambda: target.request("status")["links"] >= 1, "a link to the sender")
            filler = fill(disk)
            target.request("topic.join", secret=rig.SECRET)       # the ingest meets a full disk
            status = eventually(lambda: (s := target.request("status"))["disk_full"] and s, "status.disk_full")
            assert "the disk is full" in status["disk_full"] and "free some space" in status["disk_full"]
            with pytest.raises(RequestFailed) as refused:
                target.request("topic.publish", secret=rig.OWN_SECRET, text="while full")
            assert "the disk is full" in refused.value.message and "free some space" in refused.value.message
            # it keeps running: the link stays up, reading works, and sync stops asking
            started = target.request("status")["statistics"]["reconcile_started"]
            time.sleep(3)
            status = target.request("status")
            assert status["links"] >= 1 and status["disk_full"]
            assert status["statistics"]["reconcile_started"] == started
            held = set(target.request("topic.ids", secret=rig.OWN_SECRET)["ids"])
            assert set(acked) <= held
            log = target.log_path.read_text()
            assert "the disk is full" in log and "ended" not in log
            # room again: it notices by itself, writes, and catches up
            filler.unlink()
            eventually(lambda: target.request("status")["disk_full"] is None, "disk_full cleared")
            after = target.request("topic.publish", secret=rig.OWN_SECRET, text="after")["id"]
            rig.wait_for(target, ids, 60)
            held = set(target.request("topic.ids", secret=rig.OWN_SECRET)["ids"])
            assert set(acked) | {after} <= held
            assert "there is room on the disk again" in target.log_path.read_text()
        finally:
            target.stop()
            sender.stop()


# --- the writer's rules, over a store that can be made full (no process, no disk) -------------------------

class _FullableStore:
    """A MemoryStore whose ``add`` raises DiskFull while ``full``."""

    def __init__(self) -> None:
        from meshcare.store.memory import MemoryStore
        self.inner = MemoryStore()
        self.full = False
        self.tries = 0

    def add(self, envelopes, now, *, durable=True):
        self.tries += 1
        if self.full:
            from meshcare.files import disk_full
            raise disk_full(Path("/data"), "cannot write to the envelope store")
        return self.inner.add(envelopes, now, durable=durable)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _writer():
    from meshcare.transport.store_writer import StoreWriter
    store = _FullableStore()
    return StoreWriter(store), store


def _persist(seq: int, received: bool):
    from meshcare.node_events import Persist
    from tests.helpers import make_envelope
    return Persist((make_envelope(seq=seq),), received=received)


def test_on_a_full_disk_received_envelopes_are_dropped_quietly_and_own_ones_kept_and_reported(caplog):
    from meshcare.errors import DiskFull
    writer, store = _writer()
    store.full = True
    writer.persist(_persist(1, received=True))
    writer.flush(100.0)                                # received only: no error, dropped
    assert not writer.pending and writer.full is not None and len(store.inner) == 0
    assert "the disk is full" in caplog.text
    writer.persist(_persist(2, received=False))
    with pytest.raises(DiskFull, match="free some space.*not saved"):
        writer.flush(100.5)                            # within the retry pause: not even tried
    assert store.tries == 1 and writer.pending
    assert writer.retry_at == 102.0
    assert not writer.probe(102.0)                     # tried, still full: False, not an exception
    assert store.tries == 2 and writer.pending and writer.retry_at == 104.0
    store.full = False
    assert writer.probe(104.0) and writer.full is None and not writer.pending
    assert len(store.inner) == 1                       # the own envelope, written once there was room
    assert "there is room on the disk again" in caplog.text


def test_room_is_found_by_free_space_when_nothing_waits(monkeypatch):
    from meshcare.transport import store_writer
    writer, store = _writer()
    store.full = True
    writer.persist(_persist(1, received=True))
    writer.flush(10.0)
    monkeypatch.setattr(store_writer.shutil, "disk_usage", lambda path: type("U", (), {"free": 10})())
    assert not writer.probe(12.0) and writer.retry_at == 14.0
    monkeypatch.setattr(store_writer.shutil, "disk_usage", lambda path: type("U", (), {"free": 1 << 30})())
    assert writer.probe(14.0) and writer.full is None and writer.retry_at is None


def test_a_full_disk_while_saving_a_private_file_leaves_the_old_one_and_no_temporary(tmp_path, monkeypatch):
    import errno

    from meshcare import files
    from meshcare.errors import DiskFull
    path = tmp_path / "circles.state"
    files.replace_private(path, b"old")

    def no_room(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(files.os, "write", no_room)
    with pytest.raises(DiskFull, match="the disk is full: cannot write .*circles.state; free some space"):
        files.replace_private(path, b"new")
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["circles.state"]


def test_a_partial_write_is_finished_not_left_torn(tmp_path, monkeypatch):
    from meshcare import files
    real = files.os.write
    monkeypatch.setattr(files.os, "write", lambda fd, data: real(fd, bytes(data[:3])))
    files.replace_private(tmp_path / "f", b"0123456789")
    assert (tmp_path / "f").read_bytes() == b"0123456789"


def test_a_paused_engine_asks_for_nothing_and_resuming_catches_up():
    from tests.meshnet import Net
    from meshcare.sync import events as ev
    from tests.meshnet import TOPIC
    net = Net(2)
    net.handle(0, ev.TopicJoined(TOPIC))
    for i in range(20):
        net.publish(0, text=b"m%d" % i)
    net.nodes[1].pause_fetching()
    net.start({0: [], 1: [0]})                     # node 1 dials: it would be the one to reconcile
    net.run(900.0)                                 # link open and many periodic rounds
    assert net.nodes[1].stats.get("reconcile_started", 0) == 0
    net.apply(1, net.nodes[1].resume_fetching(net.now))
    net.run(5.0)
    assert net.nodes[1].stats.get("reconcile_started", 0) >= 1
    assert net.ids(1) == net.ids(0) and len(net.ids(0)) == 20

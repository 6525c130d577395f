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
    with small_disk(tmp_path / "disk", "6m") as disk:
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

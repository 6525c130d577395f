"""The units' ``SystemCallFilter=@system-service`` (with ``SystemCallErrorNumber=EPERM``) leaves the daemon
every system call it makes: a daemon traced with strace starts, links to a peer, answers its control socket
and stops, and each call it made is in the set ``systemd-analyze syscall-filter`` expands @system-service to.

mDNS is not exercised (tests never multicast on real interfaces); zeroconf's calls (sockets, setsockopt,
netlink for the interfaces) are of the same families. Skips without strace or systemd-analyze. Budget: ~6 s.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

from .helpers import DaemonProcess, wait_real

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
STRACE, ANALYZE = shutil.which("strace"), shutil.which("systemd-analyze")


def allowed_calls(listing: str, group: str = "@system-service") -> set[str]:
    """The system calls ``group`` stands for, its nested groups expanded, from ``systemd-analyze
    syscall-filter``'s listing (a ``@group`` line, then its members indented, ``#`` lines comments)."""
    groups: dict[str, list[str]] = {}
    current = None
    for line in listing.splitlines():
        if line.startswith("@"):
            current = line.strip()
            groups[current] = []
        elif current and line.strip() and not line.strip().startswith("#"):
            groups[current].append(line.strip())

    def expand(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        found: set[str] = set()
        for member in groups.get(name, []):
            if member.startswith("@"):
                found |= expand(member, seen | {name}) if member not in seen else set()
            else:
                found.add(member)
        return found
    return expand(group)


def calls_made(trace: str) -> set[str]:
    """The system calls named in an ``strace -f`` log (``PID name(args) = result`` lines)."""
    return set(re.findall(r"^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)\(", trace, re.MULTILINE))


def test_expansion_and_parsing():
    listing = "@a\n    # comment\n    read\n    @b\n@b\n    write\n    @a\n"
    assert allowed_calls(listing, "@a") == {"read", "write"}
    assert calls_made("12 read(3, ...) = 1\n13 <... futex resumed>) = 0\n14 openat(AT_FDCWD) = 3\n") == {
        "read", "openat"}


@pytest.mark.skipif(STRACE is None or ANALYZE is None, reason="needs strace and systemd-analyze (apt install strace)")
def test_the_daemon_stays_within_system_service(tmp_path):
    listing = subprocess.run([str(ANALYZE), "syscall-filter"], capture_output=True, text=True, timeout=60).stdout
    allowed = allowed_calls(listing)
    assert {"read", "socket", "epoll_wait"} <= allowed
    peer = DaemonProcess(tmp_path / "peer", "peer")
    traced = DaemonProcess(tmp_path / "traced", "traced")
    trace = tmp_path / "trace"
    proc = None
    try:
        peer.start()
        argv = [str(STRACE), "-f", "-qq", "-o", str(trace), sys.executable, "-m", "meshcare", "daemon",
                "--no-discovery", "--listen", "127.0.0.1:0", "--peer", f"127.0.0.1:{peer.port}"]
        proc = subprocess.Popen(argv, env=traced.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_real(lambda: any(p["linked"] for p in traced.peers()) if traced.cli("status", check=False).returncode
                  == 0 else False, "the traced daemon to link", timeout=40)
        daemon_pid = int((traced.home / "daemon.lock").read_text().split()[0])   # strace's child, not strace
        os.kill(daemon_pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        for p in (proc, peer.proc):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    made = calls_made(trace.read_text())
    assert {"connect", "accept4", "sendto", "fdatasync"} & made, sorted(made)
    assert sorted(made - allowed) == [], "outside @system-service: the unit's SystemCallFilter would refuse them"

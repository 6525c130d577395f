"""The units' sandbox leaves the daemon what it needs (meshcare/service/units.py).

* ``MemoryDenyWriteExecute=yes``: PyNaCl (cffi, no callbacks), msgpack, trio and zeroconf load and work with
  no page writable and executable; if a dependency starts needing W+X pages (a cffi ``ffi.callback``, a
  JIT), this fails before a Pi's daemon does, and the units' setting must go. Two flavours: the kernel's
  ``prctl(PR_SET_MDWE)`` (systemd 257+; Linux 6.3+), under which two daemons link and deliver, and the
  seccomp filter of older systemd (Bookworm has 252), which refuses any ``mprotect`` with PROT_EXEC:
  checked on an strace log.
* ``SystemCallFilter=@system-service`` (with ``SystemCallErrorNumber=EPERM``): every system call a daemon
  made while it started, linked, answered its control socket and stopped is in the set
  ``systemd-analyze syscall-filter`` expands @system-service to. mDNS is not exercised (tests never
  multicast on real interfaces); zeroconf's calls (sockets, setsockopt, netlink) are of the same families.

The strace parts skip without strace or systemd-analyze; the W^X parts on a kernel before 6.3.
Budget: about 10 s (two daemons, one traced).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import PROCESS_SECRET, DaemonProcess, wait_real

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
LAUNCH = str(Path(__file__).with_name("mdwe_launch.py"))
STRACE, ANALYZE = shutil.which("strace"), shutil.which("systemd-analyze")


def allowed_calls(listing: str, group: str = "@system-service") -> set[str]:
    """The system calls ``group`` stands for, its nested groups expanded, from ``systemd-analyze
    syscall-filter``'s listing (a ``@group`` line, then its members indented; ``#`` lines are comments)."""
    groups: dict[str, list[str]] = {}
    current = None
    for line in listing.splitlines():
        if line.startswith("@"):
            current = line.strip()
            groups[current] = []
        elif current and line.strip() and not line.strip().startswith("#"):
            groups[current].append(line.strip())

    def expand(name: str, seen: frozenset[str]) -> set[str]:
        found: set[str] = set()
        for member in groups.get(name, []):
            if not member.startswith("@"):
                found.add(member)
            elif member not in seen:
                found |= expand(member, seen | {name})
        return found
    return expand(group, frozenset())


def calls_made(trace: str) -> set[str]:
    """The system calls named in an ``strace -f`` log (``PID name(args) = result`` lines)."""
    return set(re.findall(r"^\d+\s+([a-z_0-9]+)\(", trace, re.MULTILINE))


def exec_grabs(trace: str) -> list[str]:
    """Lines of an strace log the seccomp flavour of MemoryDenyWriteExecute refuses: ``mprotect`` or
    ``pkey_mprotect`` with PROT_EXEC, ``mmap`` writable and executable."""
    return [line for line in trace.splitlines()
            if ("mprotect(" in line and "PROT_EXEC" in line) or ("mmap(" in line and "PROT_WRITE|PROT_EXEC" in line)]


def test_parsing_the_listing_and_the_trace():
    listing = "@a\n    # comment\n    read\n    @b\n@b\n    write\n    @a\n"
    assert allowed_calls(listing, "@a") == {"read", "write"}
    trace = ("12 read(3, ...) = 1\n13 <... futex resumed>) = 0\n14 mmap(NULL, 4096, PROT_READ|PROT_EXEC, ...) = 0\n"
             "15 mprotect(0x7f, 4096, PROT_READ|PROT_EXEC) = 0\n")
    assert calls_made(trace) == {"read", "mmap", "mprotect"}
    assert exec_grabs(trace) == ["15 mprotect(0x7f, 4096, PROT_READ|PROT_EXEC) = 0"]


@pytest.fixture(scope="module")
def probed() -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, LAUNCH, "--probe"], capture_output=True, text=True, timeout=60)
    if out.returncode == 3:
        pytest.skip(f"this kernel cannot deny W+X memory per process: {out.stderr.strip()}")
    return out


def test_libraries_work_without_write_execute_pages(probed):
    assert probed.returncode == 0, probed.stderr
    assert probed.stdout.strip() == "ok"


def test_no_library_asks_for_executable_memory_later(tmp_path):
    """What the daemon imports (zeroconf too, which a --no-discovery daemon does not load) maps libraries
    read+execute with ``mmap`` (allowed) and never asks for PROT_EXEC afterwards."""
    if STRACE is None:
        pytest.skip("strace is not installed (apt install strace)")
    trace = tmp_path / "trace"
    code = ("import nacl.signing, nacl.public, nacl.pwhash, msgpack, trio, zeroconf, zeroconf.asyncio, sqlite3\n"
            "k = nacl.signing.SigningKey.generate(); k.verify_key.verify(k.sign(b'x'))\n"
            "nacl.pwhash.argon2id.kdf(32, b'p', b's' * 16, opslimit=2, memlimit=8 << 20)\n"
            "trio.run(trio.sleep, 0)\n")
    out = subprocess.run([STRACE, "-f", "-qq", "-e", "trace=mmap,mprotect,pkey_mprotect", "-o", str(trace),
                          sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    text = trace.read_text()
    assert "PROT_READ|PROT_EXEC" in text        # the loader, as expected
    assert exec_grabs(text) == []


class _Guarded(DaemonProcess):
    """A DaemonProcess whose daemon runs under the W^X switch, and under strace when ``trace`` is given
    (the CLI calls stay ordinary)."""

    trace: Path | None = None

    def start(self, *peers: int) -> None:
        argv = [sys.executable, LAUNCH, "daemon", "--no-discovery", "--listen", "127.0.0.1:0", "--bench-ops"]
        for port in peers:
            argv += ["--peer", f"127.0.0.1:{port}"]
        if self.trace is not None:
            argv = [str(STRACE), "-f", "-qq", "-o", str(self.trace), *argv]
        self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.home / "daemon.log", "ab"))
        wait_real(lambda: self.cli("status", check=False).returncode == 0 or self.proc.poll() is not None,
                  f"daemon in {self.home} to start", timeout=40)
        assert self.proc.poll() is None, (self.home / "daemon.log").read_text()
        self.request("topic.join", secret=PROCESS_SECRET)

    def terminate(self) -> int:
        """SIGTERM to the daemon itself (under strace, the lock file names it), then its exit status."""
        assert self.proc is not None
        os.kill(int((self.home / "daemon.lock").read_text().split()[0]), signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self.proc = None
        return code


def test_two_daemons_link_and_deliver_inside_the_sandbox(probed, tmp_path):
    made: list[_Guarded] = []
    try:
        a = _Guarded(tmp_path / "a", "a")
        made.append(a)
        a.start()
        b = _Guarded(tmp_path / "b", "b")
        made.append(b)
        traced = STRACE is not None and ANALYZE is not None
        b.trace = tmp_path / "trace" if traced else None
        b.start(a.port)
        wait_real(lambda: any(p["linked"] for p in a.peers()), "a link (a Noise handshake under W^X)", timeout=40)
        sent = a.request("topic.publish", secret=PROCESS_SECRET, text="call for support", urgent=True)["id"]
        wait_real(lambda: sent in b.ids(), "delivery to b", timeout=40)
        assert b.terminate() == 0 and a.terminate() == 0
    finally:
        for node in made:
            if node.proc is not None:
                node.proc.kill()
                node.proc.wait(timeout=10)
    # outside systemd (no $JOURNAL_STREAM) the log keeps its own prefix
    assert re.search(r"meshcare\[\d+\] INFO meshcare.daemon: stopped", (a.home / "daemon.log").read_text())
    if b.trace is None:
        pytest.skip("the sandbox's system calls were not checked: needs strace and systemd-analyze")
    text = b.trace.read_text()
    made_calls = calls_made(text)
    assert {"connect", "sendto", "fdatasync"} <= made_calls, sorted(made_calls)
    listing = subprocess.run([str(ANALYZE), "syscall-filter"], capture_output=True, text=True, timeout=60).stdout
    outside = sorted(made_calls - allowed_calls(listing))
    assert outside == [], "outside @system-service: the units' SystemCallFilter would refuse them"
    assert exec_grabs(text) == []

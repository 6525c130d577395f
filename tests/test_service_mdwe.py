"""MemoryDenyWriteExecute=yes in the units is safe: PyNaCl (cffi, no callbacks), msgpack, trio and zeroconf
load and work with no page writable and executable, and two daemons link and deliver under it.

If a dependency starts needing W+X pages (a cffi ``ffi.callback``, a JIT), this fails, and the units'
``MemoryDenyWriteExecute=yes`` must go (meshcare/service/units.py) before a Pi's daemon fails at start.
Skips on a kernel without ``PR_SET_MDWE`` (before 6.3). Budget: about 8 s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import PROCESS_SECRET, DaemonProcess, wait_real

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
LAUNCH = str(Path(__file__).with_name("mdwe_launch.py"))


def _probe() -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, LAUNCH, "--probe"], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def probed() -> subprocess.CompletedProcess[str]:
    out = _probe()
    if out.returncode == 3:
        pytest.skip(f"this kernel cannot deny W+X memory per process: {out.stderr.strip()}")
    return out


def test_libraries_work_without_write_execute_pages(probed):
    assert probed.returncode == 0, probed.stderr
    assert probed.stdout.strip() == "ok"


class _Guarded(DaemonProcess):
    """A DaemonProcess whose daemon runs under the W^X switch (the CLI calls stay ordinary)."""

    def start(self, *peers: int) -> None:
        argv = [sys.executable, LAUNCH, "daemon", "--no-discovery", "--listen", "127.0.0.1:0", "--bench-ops"]
        for port in peers:
            argv += ["--peer", f"127.0.0.1:{port}"]
        self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.home / "daemon.log", "ab"))
        wait_real(lambda: self.cli("status", check=False).returncode == 0 or self.proc.poll() is not None,
                  f"daemon in {self.home} to start")
        assert self.proc.poll() is None, (self.home / "daemon.log").read_text()
        self.request("topic.join", secret=PROCESS_SECRET)


def test_two_daemons_link_and_deliver_without_write_execute_pages(probed, tmp_path):
    made: list[_Guarded] = []
    try:
        a = _Guarded(tmp_path / "a", "a")
        made.append(a)
        a.start()
        b = _Guarded(tmp_path / "b", "b")
        made.append(b)
        b.start(a.port)
        wait_real(lambda: any(p["linked"] for p in a.peers()), "a link (a Noise handshake under W^X)")
        sent = a.request("topic.publish", secret=PROCESS_SECRET, text="call for support", urgent=True)["id"]
        wait_real(lambda: sent in b.ids(), "delivery to b")
        assert a.stop() == 0 and b.stop() == 0
    finally:
        for node in made:
            if node.proc is not None:
                node.proc.kill()
                node.proc.wait(timeout=10)


def test_no_mprotect_to_executable_as_older_systemd_forbids(tmp_path):
    """systemd before 257 (Bookworm has 252) makes MemoryDenyWriteExecute a seccomp filter, stricter
    than the prctl: any ``mprotect``/``pkey_mprotect`` with PROT_EXEC fails, not just one that adds it
    to a writable page. The loader maps libraries read+execute with ``mmap`` (allowed); nothing the
    daemon loads may ask for PROT_EXEC later, nor map W+X. Checked with strace (skipped without it)."""
    import shutil

    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed (apt install strace)")
    trace = tmp_path / "trace"
    code = ("import nacl.signing, nacl.public, nacl.pwhash, msgpack, trio, zeroconf, zeroconf.asyncio, sqlite3\n"
            "k = nacl.signing.SigningKey.generate(); k.verify_key.verify(k.sign(b'x'))\n"
            "nacl.pwhash.argon2id.kdf(32, b'p', b's' * 16, opslimit=2, memlimit=8 << 20)\n"
            "trio.run(trio.sleep, 0)\n")
    out = subprocess.run([strace, "-f", "-qq", "-e", "trace=mmap,mprotect,pkey_mprotect", "-o", str(trace),
                          sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if out.returncode != 0 and "ptrace" in out.stderr:
        pytest.skip(f"strace cannot trace here: {out.stderr.strip()}")
    assert out.returncode == 0, out.stderr
    calls = trace.read_text().splitlines()
    assert any("mmap(" in line and "PROT_EXEC" in line for line in calls)   # the loader, as expected
    assert [c for c in calls if "mprotect(" in c and "PROT_EXEC" in c] == []
    assert [c for c in calls if "mmap(" in c and "PROT_WRITE|PROT_EXEC" in c] == []

"""Run ``python -m meshcare ARGS`` (or ``--probe``) under the kernel's W^X switch: the launcher of
tests/test_service_sandbox.py.

``prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)`` (Linux 6.3+) is what systemd 257+ uses for
``MemoryDenyWriteExecute=yes``: from then on no mapping may be writable and executable, nor become
executable later. Exits 3 with a line on stderr when the kernel has no such switch.
"""

from __future__ import annotations

import ctypes
import mmap
import runpy
import sys

PR_SET_MDWE = 65
PR_GET_MDWE = 66
PR_MDWE_REFUSE_EXEC_GAIN = 1


def deny_write_execute() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        print(f"prctl(PR_SET_MDWE) failed: errno {ctypes.get_errno()} (a kernel before 6.3)", file=sys.stderr)
        sys.exit(3)
    if libc.prctl(PR_GET_MDWE, 0, 0, 0, 0) != PR_MDWE_REFUSE_EXEC_GAIN:
        print("PR_MDWE_REFUSE_EXEC_GAIN did not stick", file=sys.stderr)
        sys.exit(3)


def probe() -> None:
    """The switch is on (a W+X mapping is refused), and everything the daemon loads still works."""
    try:
        mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except OSError:
        pass
    else:
        sys.exit("a writable and executable mapping was allowed: the switch is not on")
    import msgpack
    import nacl.public
    import nacl.pwhash
    import nacl.signing
    import trio
    import zeroconf  # noqa: F401 (imported for its compiled parts, not used: no multicast in tests)

    key = nacl.signing.SigningKey.generate()
    key.verify_key.verify(key.sign(b"call for support"))
    mine = nacl.public.PrivateKey.generate()
    sealed = nacl.public.SealedBox(mine.public_key).encrypt(b"sealed")
    assert nacl.public.SealedBox(mine).decrypt(sealed) == b"sealed"
    nacl.pwhash.argon2id.kdf(32, b"passphrase", b"s" * 16, opslimit=2, memlimit=8 * 1024 * 1024)
    assert msgpack.unpackb(msgpack.packb({"a": [1, b"x"]})) == {"a": [1, b"x"]}
    trio.run(trio.sleep, 0)
    print("ok")


if __name__ == "__main__":
    deny_write_execute()
    if sys.argv[1:] == ["--probe"]:
        probe()
    else:
        sys.argv = ["meshcare", *sys.argv[1:]]
        runpy.run_module("meshcare", run_name="__main__", alter_sys=True)

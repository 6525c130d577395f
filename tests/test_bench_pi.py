"""benchmarks/bench_pi.py: what it reads from /proc and computes, and its usage errors (no daemon runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_pi  # noqa: E402

STATUS = """Name:\tpython
VmPeak:\t  250000 kB
VmHWM:\t   61234 kB
VmRSS:\t   48120 kB
Threads:\t3
"""
IO = """rchar: 1200
wchar: 3400
syscr: 12
syscw: 7
read_bytes: 0
write_bytes: 8192
cancelled_write_bytes: 0
"""


def test_status_and_io_are_parsed() -> None:
    assert bench_pi.proc_status_kib(STATUS) == {"VmRSS": 48120, "VmHWM": 61234}
    assert bench_pi.proc_status_kib("Name: x\n") == {"VmRSS": 0, "VmHWM": 0}
    io = bench_pi.proc_io(IO)
    assert io["write_bytes"] == 8192 and io["syscw"] == 7 and io["cancelled_write_bytes"] == 0


def test_this_process_reads() -> None:
    import os

    assert bench_pi.memory(os.getpid())["VmRSS"] > 0
    if Path("/proc/self/io").exists():
        assert "write_bytes" in bench_pi.io(os.getpid())


def test_per_hour() -> None:
    assert bench_pi.per_hour(0, 600) == 0
    assert bench_pi.per_hour(4096, 600) == 24576
    assert bench_pi.per_hour(10, 3600) == 10
    with pytest.raises(ValueError):
        bench_pi.per_hour(1, 0)


@pytest.mark.parametrize("argv, words", [(["--envelopes", "0"], "--envelopes must be between"),
                                         (["--idle", "1"], "--idle must be between"),
                                         (["--envelopes", "many"], "invalid int value")])
def test_usage_errors(argv: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench_pi.main(argv)
    assert exit_.value.code == 2 and words in capsys.readouterr().err

"""The stage marks (meshcare/transport/trace.py) and how benchmarks/trace_stages.py lines them up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from meshcare.transport import trace

from .helpers import load_benchmark

ROOT = Path(__file__).resolve().parents[1]

stages = load_benchmark("trace_stages")


def test_marks_are_off_unless_asked_for() -> None:
    assert "MESHCARE_TRACE" not in os.environ
    assert trace.mark is trace._noop


def test_a_traced_process_writes_its_marks_when_it_exits(tmp_path: Path) -> None:
    code = "from meshcare.transport.trace import mark\nmark('a')\nmark('b')\n"
    env = {**os.environ, "MESHCARE_TRACE": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)
    (written,) = tmp_path.glob("trace-*.json")
    marks = json.loads(written.read_text())
    assert [name for name, _ in marks] == ["a", "b"] and marks[0][1] <= marks[1][1]


def _marks(start: int) -> dict[str, list[tuple[str, int]]]:
    """One message's marks at 10 us steps from ``start``, with other work's marks in between."""
    ann = ["request.read", "op.done", "op.applied", "link.sending"]
    bob = ["link.read", "data.handled", "event.sending"]
    t = start
    out: dict[str, list[tuple[str, int]]] = {"ann": [], "bob": []}
    for name in ann:
        t += 10_000
        out["ann"].append((name, t))
    out["bob"].append(("event.sending", start + 1))            # an event of earlier work: skipped
    for name in bob:
        t += 10_000
        out["bob"].append((name, t))
        out["bob"].append(("link.read", t + 1))                 # a ping after: never taken for the next point
    return out


def test_each_message_takes_the_first_mark_of_each_point_after_the_previous_point() -> None:
    first, second = _marks(0), _marks(1_000_000)
    marks = {p: first[p] + second[p] for p in ("ann", "bob")}
    rows = stages.align(marks, [(0, 80_000), (1_000_000, 1_080_000)])
    assert len(rows) == 2
    for row in rows:
        assert list(row.values()) == [10_000] * 8
    (total,) = [r for r in stages.summarize(rows) if r["stage"] == "end to end"]
    assert total["p50_us"] == 80.0


def test_a_message_missing_a_point_is_left_out_not_guessed() -> None:
    marks = _marks(0)
    marks["bob"] = [(n, t) for n, t in marks["bob"] if n != "data.handled"]
    assert stages.align(marks, [(0, 80_000)]) == []

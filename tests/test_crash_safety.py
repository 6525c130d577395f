"""Crash safety (issue 14 item 5): a real daemon ingesting from a real peer, killed with SIGKILL.

Nothing it acknowledged is lost, the store opens clean (``PRAGMA integrity_check``), the identity and
state file load, and it starts again and catches up (benchmarks/crash_rig.py). ``make test`` runs three
seeded kills during the ingest of 1,000 envelopes, the last one when the node is quiet: that is where
acknowledging a post before its commit loses it (checked by trying it: this test fails then). The full
figure (20 kills x 10,000) is ``make soak`` / benchmarks/bench_crash.py; MESHCARE_CRASH_KILLS and
MESHCARE_CRASH_ENVELOPES size this test for a longer run.
"""

from __future__ import annotations

import json
import os
import random

import pytest

from tests.helpers import load_benchmark

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

KILLS = int(os.environ.get("MESHCARE_CRASH_KILLS", "3"))
ENVELOPES = int(os.environ.get("MESHCARE_CRASH_ENVELOPES", "1000"))


def test_nothing_acknowledged_is_lost_across_kills(tmp_path):
    rig = load_benchmark("bench_crash").rig
    sender, ids = rig.sender_with(tmp_path, ENVELOPES)
    try:
        span = rig.ingest_seconds(tmp_path, sender, ids)
        times = rig.kill_times(random.Random(14), KILLS - 1, span) + [1.2 * span + 0.2]   # the last: quiet
        rounds = [rig.kill_round(tmp_path, f"target{i}", sender, ids, after) for i, after in enumerate(times)]
    finally:
        sender.stop()
    for r in rounds:
        assert r.integrity == "ok"
        assert r.lost == (), f"acknowledged and lost after a kill: {r.lost}"
        assert r.found == r.acknowledged > 0
        assert r.stored_after >= ENVELOPES       # caught up with the sender, and kept its own posts
    figures = rig.summary(rounds)
    assert figures["kills"] == KILLS and figures["lost"] == 0 and figures["integrity_ok"] == KILLS


def _round(**kw):
    rig = load_benchmark("bench_crash").rig
    base = dict(killed_at=10, acknowledged=5, found=5, lost=(), integrity="ok", reopen_s=0.002, restart_s=1.0,
                catch_up_s=0.5, stored_after=20)
    return rig.Round(**{**base, **kw})


def test_the_summary_adds_up_and_a_loss_fails_the_round():
    rig = load_benchmark("bench_crash").rig
    rounds = [_round(), _round(reopen_s=0.004, catch_up_s=1.5), _round(found=4, lost=("ab",), integrity="bad")]
    figures = rig.summary(rounds)
    assert figures["kills"] == 3 and figures["acknowledged"] == 15 and figures["found"] == 14
    assert figures["lost"] == 1 and figures["integrity_ok"] == 2
    assert figures["reopen_ms_median"] == 2.0 and figures["reopen_ms_max"] == 4.0
    assert figures["catch_up_s_max"] == 1.5
    assert [r.ok for r in rounds] == [True, True, False]
    json.dumps(figures)


def test_kill_times_are_seeded_and_span_the_ingest_and_a_little_after():
    rig = load_benchmark("bench_crash").rig
    a, b = rig.kill_times(random.Random(3), 50, 2.0), rig.kill_times(random.Random(3), 50, 2.0)
    assert a == b and all(0.0 <= t <= 2.5 for t in a) and max(a) > 2.0


def test_bench_crash_refuses_bad_arguments(capsys):
    bench = load_benchmark("bench_crash")
    for argv in (["--kills", "0"], ["--envelopes", "5"], ["--kills", "x"], ["--power-cuts", "-1"]):
        with pytest.raises(SystemExit) as exit_:
            bench.main(argv)
        assert exit_.value.code == 2
    assert "--envelopes" in capsys.readouterr().err

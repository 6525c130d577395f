"""benchmarks/bench_own_post.py measures what it says: both ways record the same calls (a tiny run)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import load_benchmark


def test_a_tiny_run_prints_both_medians_and_their_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("bench_own_post")
    assert bench.main(["--calls", "4", "--rounds", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ingest_us"] > 0 and out["ingest_own_us"] > 0
    assert out["ratio"] == pytest.approx(out["ingest_own_us"] / out["ingest_us"])


def test_bad_arguments_are_refused_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("bench_own_post")
    with pytest.raises(SystemExit) as exit_:
        bench.main(["--calls", "0"])
    assert exit_.value.code == 2 and "--calls" in capsys.readouterr().err

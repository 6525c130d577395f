"""benchmarks/bench_tor.py: the figures it computes (percentiles, ratios, CPU from /proc, the table) and its
usage errors. No tor runs here (tests/tor runs the private network)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_tor  # noqa: E402

STAT = ("4242 (tor worker) S 1 4242 4242 0 -1 4194560 1200 0 0 0 "
        "350 150 0 0 20 0 1 0 12345 30000000 3400 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0")


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert bench_tor.percentile(values, 50) == 50.0
    assert bench_tor.percentile(values, 99) == 99.0
    assert bench_tor.percentile(values, 100) == 100.0
    assert bench_tor.percentile([7.0], 99) == 7.0
    assert bench_tor.percentile([3.0, 1.0, 2.0], 50) == 2.0
    with pytest.raises(ValueError):
        bench_tor.percentile([], 50)


def test_latency_summary_and_ratio() -> None:
    summary = bench_tor.latency_summary([10.0, 20.0, 30.0, 40.0])
    assert summary == {"n": 4, "p50_ms": 20.0, "p99_ms": 40.0, "max_ms": 40.0, "mean_ms": 25.0}
    assert bench_tor.latency_summary([])["p50_ms"] is None
    assert bench_tor.ratio(30.0, 4.0) == 7.5
    assert bench_tor.ratio(None, 4.0) is None
    assert bench_tor.ratio(3.0, 0) is None


def test_cpu_ticks_read_past_a_name_with_spaces() -> None:
    assert bench_tor.cpu_ticks(STAT) == 500   # utime 350 + stime 150


def test_idle_figures_per_process_and_together() -> None:
    figures = bench_tor.idle_figures({"tor": 100, "meshcare": 200}, {"tor": 160, "meshcare": 230},
                                     {"tor": 14 * 1024, "meshcare": 40 * 1024}, 60.0, 100)
    assert figures["tor"] == {"cpu_percent": 1.0, "rss_mib": 14.0}
    assert figures["meshcare"] == {"cpu_percent": 0.5, "rss_mib": 40.0}
    assert figures["total"] == {"cpu_percent": 1.5, "rss_mib": 54.0}
    with pytest.raises(ValueError):
        bench_tor.cpu_percent(0, 1, 0, 100)


def test_table_has_a_row_per_figure() -> None:
    result = {
        "network": {"bring_up_s": 21.3, "keys_s": 3.4, "consensus_s": 15.5, "clients_s": 2.1},
        "publish_s": 3.2,
        "onion_link": {"join_s": 2.5, "link_s": 1.9, "relink_s": [1.2, 2.4]},
        "calls": {"direct": {"p50_ms": 4.0, "p99_ms": 9.0}, "onion": {"p50_ms": 30.0, "p99_ms": 90.0},
                  "ratio_p50": 7.5, "ratio_p99": 10.0},
        "idle": {"seconds": 60.0, "tor": {"cpu_percent": 1.0, "rss_mib": 14.0},
                 "meshcare": {"cpu_percent": 0.5, "rss_mib": 40.0}, "total": {"cpu_percent": 1.5, "rss_mib": 54.0}},
    }
    text = bench_tor.table(result)
    assert text.startswith("| what | figure |\n|---|---|\n")
    assert "| onion relink after a daemon restart | 1.2-2.4 s |" in text
    assert "| onion / direct, p50 / p99 | 7.5 / 10.0 |" in text
    assert len(text.splitlines()) == 13


@pytest.mark.parametrize("argv", [["--calls", "0"], ["--idle", "1"], ["--interval", "-1"], ["--relinks", "99"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        bench_tor.main(argv)
    assert exc.value.code == 2

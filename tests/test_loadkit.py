"""The arithmetic of the flood and soak runs (``tests/netns/loadkit.py``, ``soak.py``, and the two
benchmarks' verdicts and tables): pure, no namespaces, no daemons (well under a second)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import load_benchmark
from tests.netns.loadkit import RssSeries, latency_summary, nft_drops, percentile, ratio
from tests.netns.soak import KINDS, circle_members, churn_plan

RULESET = """table bridge meshloss {
	chain lossy {
		type filter hook forward priority filter; policy accept;
		numgen random mod 10000 < 1000 counter packets 171 bytes 29305 drop
	}
}"""


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 90) == 90 and percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


@given(st.lists(st.floats(0, 1e6), min_size=1), st.floats(0, 100))
def test_a_percentile_is_one_of_the_values_and_grows_with_p(values: list[float], p: float) -> None:
    assert percentile(values, p) in values
    assert percentile(values, p) <= percentile(values, min(100.0, p + 10))


def test_latency_summary_is_in_milliseconds_and_empty_is_none() -> None:
    assert latency_summary([0.010, 0.020, 0.030]) == {"p50_ms": 20.0, "p90_ms": 30.0, "p99_ms": 30.0,
                                                       "max_ms": 30.0}
    assert set(latency_summary([]).values()) == {None}


def test_ratio() -> None:
    assert ratio(30.0, 12.0) == 2.5
    assert ratio(None, 12.0) is None and ratio(3.0, None) is None and ratio(3.0, 0.0) is None


def test_rss_figures_skip_the_warm_up_and_report_growth() -> None:
    series = RssSeries(3, 99, ((0.0, 40 * 1024), (10.0, 46 * 1024), (40.0, 50 * 1024), (70.0, 48 * 1024)))
    assert series.figures(warmup_s=5.0) == {"start_mib": 46.0, "max_mib": 50.0, "end_mib": 48.0,
                                            "growth_mib": 2.0, "lived_s": 70.0}
    assert series.figures(warmup_s=500.0)["growth_mib"] == 0.0  # lived less than the warm-up: no growth
    with pytest.raises(ValueError):
        RssSeries(1, 1, ()).figures()


def test_nft_drops_reads_the_loss_rules_counter() -> None:
    assert nft_drops(RULESET) == (171, 29305)
    assert nft_drops("table bridge meshpart {}") == (0, 0)


def test_every_host_is_in_one_or_two_circles_and_every_circle_has_two_hosts() -> None:
    for n, circles in ((6, 2), (20, 4), (5, 1), (3, 3)):
        members = circle_members(n, circles)
        assert set(members) == set(range(circles))
        counts = {i: sum(i in hosts for hosts in members.values()) for i in range(1, n + 1)}
        assert set(counts.values()) <= {1, 2}, counts
        assert all(len(hosts) >= 2 for hosts in members.values()) or n < 2 * circles
    with pytest.raises(ValueError):
        circle_members(1, 1)


@given(st.integers(0, 10_000), st.integers(3, 22), st.integers(1, 4))
def test_the_churn_plan_keeps_its_bounds(seed: int, n: int, max_out: int) -> None:
    hosts = list(range(1, n + 1))
    plan = churn_plan(random.Random(seed), hosts, 120.0, 5.0, (3.0, 30.0), max_out)
    assert plan and all(0 < o.start < o.end <= 120.0 and o.kind in KINDS for o in plan)
    for o in plan:
        out = [p for p in plan if p.start <= o.start < p.end]
        assert len(out) <= max_out and len({p.host for p in out}) == len(out)  # one outage per host at once
    assert {o.kind for o in plan[:4]} == set(KINDS) or len(plan) < 4


def test_the_soak_benchmark_verdict_counts_only_daemons_that_ran_throughout() -> None:
    bench = load_benchmark("bench_soak")
    result = {"rss_whole_run": ["h1/10", "h2/11"],
              "rss_mib": {"h1/10": {"growth_mib": 3.0, "lived_s": 600, "start_mib": 46, "max_mib": 50, "end_mib": 49},
                          "h2/11": {"growth_mib": 1.0, "lived_s": 600, "start_mib": 46, "max_mib": 47, "end_mib": 47},
                          "h1/12": {"growth_mib": 90.0, "lived_s": 20, "start_mib": 46, "max_mib": 46,
                                    "end_mib": 46}}}
    assert bench.memory_verdict(result, 32.0) == (True, 3.0)
    assert bench.memory_verdict(result, 2.0) == (False, 3.0)
    table = bench.rss_table(result).splitlines()
    assert len(table) == 4 and [line.split()[0] for line in table[1:]] == ["h1/10", "h1/12", "h2/11"]


@pytest.mark.parametrize("name, argv, flag", [
    ("bench_soak", ["--nodes", "30"], "--nodes"), ("bench_soak", ["--down", "9", "3"], "--down"),
    ("bench_soak", ["--seconds", "0"], "--seconds"), ("bench_flood", ["--nodes", "2"], "--nodes"),
    ("bench_flood", ["--batch", "0"], "--batch")])
def test_bad_arguments_are_refused_with_a_message(name: str, argv: list[str], flag: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        load_benchmark(name).main(argv)
    assert exit_.value.code == 2 and flag in capsys.readouterr().err


def test_the_flood_client_explains_its_usage_and_a_missing_daemon(tmp_path: object,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    from tests.netns.flood_client import main
    assert main([]) == 2 and "usage" in capsys.readouterr().err
    assert main([str(Path(str(tmp_path)) / "control.sock"), "ab" * 16, "20"]) == 1
    assert "no meshcare daemon is running" in capsys.readouterr().err

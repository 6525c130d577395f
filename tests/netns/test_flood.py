"""A flood in a namespaced mesh (``-m netns``): calls between the other nodes still arrive, memory stays bounded.

Four daemons on one bridge, real mDNS (``Cluster`` from ``test_mesh.py``), default settings (so the
per-author budget of ``meshcare/sync/budget.py`` is in force, as in a real circle). h1 publishes on a
shared topic back to back through its control socket; h2 posts calls one at a time on another topic,
first with no flood, then during it; h3 and h4 must get every call. The figures (latency ratio, RSS over
time) are ``benchmarks/bench_flood.py``'s job: this test asserts behaviour only, no timing:

* every call posted during the flood reaches h3 and h4 (within a generous 30 s settle);
* the flood really ran and reached them (h1 published thousands, h3 and h4 received flood envelopes);
* no link was dropped as misbehaving (an honest flooder is rate-limited, not cut off);
* the RSS of h2..h4 stays under ``RSS_BOUND_MIB`` throughout: an idle daemon is ~45 MiB, and a
  receiver holds only what the per-author budget lets in (120/min after a burst), so 200 MiB
  leaves room for the Python heap to breathe, while an unbounded queue of a flood's envelopes would
  pass it within seconds. The flooder itself stores all it writes (it is its own data) and is not bound.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from .flood import FLOODER, run_flood
from .test_mesh import Cluster, linked_mesh

pytestmark = [pytest.mark.netns]

RSS_BOUND_MIB = 200


@pytest.fixture
def four() -> Iterator[Cluster]:
    with linked_mesh(4, "mcF", "the flood") as cluster:
        yield cluster


@pytest.mark.timeout(120)
def test_calls_between_the_others_arrive_during_a_flood_and_memory_stays_bounded(four: Cluster) -> None:
    cluster = four
    t0 = time.monotonic()
    with cluster.explain():
        result = run_flood(cluster, messages=10, warmup=2, interval=0.3, timeout=10.0, ramp=2.0, batch=20,
                           rss_interval=0.5, say=lambda text: print(f"\n[flood] {text}", flush=True))
        print(f"\n[flood] rss {result['rss_mib']}\n[flood] nodes {result['nodes_after']}\n"
              f"[flood] whole test {time.monotonic() - t0:.1f} s", flush=True)
        assert result["calls_missing_after_settle"] == {3: 0, 4: 0}, result
        assert result["flood"]["published"] >= 1000, result["flood"]
        for host in (3, 4):
            got = result["nodes_after"][f"h{host}"]
            assert got["envelopes"] > 20 + 2 + 10, f"the flood never reached h{host}: {got}"
        for host in cluster.hosts:
            assert result["nodes_after"][f"h{host}"]["links_dropped_misbehaved"] == 0, result["nodes_after"]
            if host != FLOODER:
                peak = result["rss_mib"][f"h{host}"]["max"]
                assert 0 < peak < RSS_BOUND_MIB, f"h{host} peaked at {peak} MiB (bound {RSS_BOUND_MIB})"

"""A short soak in a namespaced mesh (``-m netns``): churn and 10 % loss, then every post everywhere.

Five daemons, real mDNS, default settings, two overlapping circles of four and three
(``soak.circle_members``); for ``SECONDS`` (``MESHCARE_SOAK_SECONDS``, default 20) a post every 0.5 s
from a random running node, one host out every 5 s for 3-8 s (daemon stopped, killed with SIGKILL, or its cable cut at the switch; at
most two out at once), 10 % of frames dropped at the switch throughout. Then every host comes back and
the test asserts behaviour, not timing:

* full convergence: every host holds every acknowledged post of its circles (within a generous
  120 s; the figure is printed);
* the loss rule really dropped frames, and the churn really happened (stops, kills and cuts);
* every daemon's RSS stayed under ``RSS_BOUND_MIB`` (an idle daemon is ~45 MiB; a few hundred small
  envelopes and four links add little, so 200 MiB only fails on a leak or an unbounded queue).

The 20-node, 10-minute run with the figures is ``benchmarks/bench_soak.py`` (``make soak``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from .soak import run_soak
from .test_mesh import Cluster, linked_mesh

pytestmark = [pytest.mark.netns]

SECONDS = float(os.environ.get("MESHCARE_SOAK_SECONDS", "20"))
RSS_BOUND_MIB = 200


@pytest.fixture
def five() -> Iterator[Cluster]:
    """Five, not six: building the mesh and initialising each node's data directory is most of the test's
    time (~25 s quiet, ~45 s with the machine loaded), and the test must stay under a minute."""
    with linked_mesh(5, "mcS", "the soak") as cluster:
        yield cluster


@pytest.mark.timeout(int(SECONDS) + 240)
def test_churn_and_loss_then_every_node_holds_every_post_of_its_circles(five: Cluster) -> None:
    cluster = five
    t0 = time.monotonic()
    with cluster.explain():
        result = run_soak(cluster, seconds=SECONDS, loss=10.0, circles=2, post_every=0.5, churn_every=5.0,
                          down=(3.0, 8.0), max_out=2, seed=14, rss_every=1.0, converge_timeout=120.0,
                          say=lambda text: print(f"\n[soak] {text}", flush=True))
        print(f"\n[soak] {result}\n[soak] whole test {time.monotonic() - t0:.1f} s", flush=True)
        assert result["converged"], f"not every post everywhere 120 s after the heal: {result['lacking_after']}"
        assert result["posts"] >= SECONDS, result
        assert result["switch_drops"]["packets"] > 0, "the loss rule dropped nothing"
        assert all(result["outages"].values()), f"the churn left out a kind: {result['outages']}"
        for name, figures in result["rss_mib"].items():
            assert figures["max_mib"] < RSS_BOUND_MIB, f"{name} peaked at {figures['max_mib']} MiB"

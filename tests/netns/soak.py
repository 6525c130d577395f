"""The soak: n namespaced daemons for a while under churn and frame loss, then full convergence.

Used by ``test_soak.py`` (6 nodes, ~30 s: behaviour) and ``benchmarks/bench_soak.py`` (20 nodes, 10
minutes: the figures). Real daemons with real mDNS (``Cluster`` from ``test_mesh.py``), default settings.

* Circles: ``circles`` plain topics, overlapping; host i is a member of one or two of them
  (``circle_members``).
  The daemons sync them as they sync a circle's topics (topics joined by secret are not persisted, so a
  restarted daemon joins them again, as a circle's would be loaded from its store).
* Posts: every ``post_every`` s a random running host posts in one of its circles.
* Churn (``churn_plan``, seeded): every ``churn_every`` s one host leaves for ``down`` s: its daemon is
  stopped (SIGTERM or SIGKILL) and started again, or its cable is cut at the switch and put back. At most ``max_out`` hosts are out at once.
* Loss: ``loss`` % of frames dropped at the switch throughout, convergence included.
* At the end every host is brought back (cables restored, daemons started) and we wait until every host
  holds every post of both its circles: the convergence time after the heal is the figure.
* Memory: every daemon's RSS is sampled every ``rss_every`` s (a restarted daemon starts a new series).
"""

from __future__ import annotations

import random
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .loadkit import RssSampler, nft_drops

if TYPE_CHECKING:  # importing test_mesh at run time would register its tests' marker outside tests/netns
    from .test_mesh import Cluster


@dataclass(frozen=True, slots=True)
class Outage:
    """Host ``host`` is out from ``start`` to ``end`` (seconds into the run): ``kind`` is "stop",
    "kill" (SIGKILL) or "cut"."""

    start: float
    end: float
    host: int
    kind: str


#: The order outages take turns in (see ``churn_plan``).
KINDS = ("stop", "cut", "kill", "cut")


def circle_members(n: int, circles: int) -> dict[int, list[int]]:
    """Circle -> its hosts (1..n): host i is in circles (i-1) % circles and ((i-1) // circles) % circles
    (one or two circles each; with 20 hosts and 4 circles, circles of 8-10 that overlap)."""
    if circles < 1 or n < 2:
        raise ValueError(f"a soak needs at least 2 hosts and 1 circle, not {n} and {circles}")
    members: dict[int, list[int]] = {c: [] for c in range(circles)}
    for i in range(1, n + 1):
        for c in sorted({(i - 1) % circles, ((i - 1) // circles) % circles}):
            members[c].append(i)
    return members


def churn_plan(rng: random.Random, hosts: list[int], seconds: float, every: float, down: tuple[float, float],
               max_out: int) -> list[Outage]:
    """One outage every ``every`` s (from ``every`` on), each lasting ``down`` s (uniform), of a random host
    not already out, never more than ``max_out`` at once, every one over by ``seconds``; the kinds take
    turns (``KINDS``: half are cable cuts, a quarter SIGTERM, a quarter SIGKILL)."""
    plan: list[Outage] = []
    t = every
    while t < seconds:
        length = rng.uniform(*down)
        end = min(t + length, seconds)
        out = [o for o in plan if o.start <= t < o.end]
        free = [h for h in hosts if h not in {o.host for o in out}]
        if len(out) < max_out and free and end > t:
            kind = KINDS[len(plan) % len(KINDS)]
            plan.append(Outage(round(t, 3), round(end, 3), rng.choice(free), kind))
        t += every
    return plan


@dataclass
class Soak:
    """The running soak's state: who is out, who still has to join its circles again, what was posted."""

    cluster: Cluster
    members: dict[int, list[int]]
    secrets_: dict[int, str]
    posted: dict[int, set[str]] = field(default_factory=dict)
    unjoined: set[int] = field(default_factory=set)
    stopped: set[int] = field(default_factory=set)
    cut: set[int] = field(default_factory=set)
    log: list[str] = field(default_factory=list)

    def circles_of(self, i: int) -> list[int]:
        return [c for c, hosts in self.members.items() if i in hosts]

    def join(self, i: int) -> bool:
        """Join host i to its circles if its daemon answers; True when done."""
        try:
            for c in self.circles_of(i):
                self.cluster.request(i, "topic.join", timeout=2.0, secret=self.secrets_[c])
        except Exception:  # noqa: BLE001 (not up yet: the next round tries again)
            return False
        self.unjoined.discard(i)
        return True

    def leave(self, outage: Outage) -> None:
        i = outage.host
        if outage.kind == "cut":
            self.cluster.mesh.cut(i)
            self.cut.add(i)
        else:
            self.cluster.stop(i, sig=signal.SIGKILL if outage.kind == "kill" else signal.SIGTERM)
            self.stopped.add(i)

    def back(self, outage: Outage) -> None:
        i = outage.host
        if outage.kind == "cut":
            self.cluster.mesh.restore(i)
            self.cut.discard(i)
        else:
            self.cluster.start(i)
            self.stopped.discard(i)
            self.unjoined.add(i)

    def post(self, rng: random.Random, n: int) -> None:
        ready = [i for i in self.cluster.hosts if i not in self.stopped and i not in self.unjoined]
        if not ready:
            return
        i = rng.choice(ready)
        c = rng.choice(self.circles_of(i))
        try:
            ident = self.cluster.publish(i, self.secrets_[c], f"soak post {n} from h{i}")[0]
        except Exception as exc:  # noqa: BLE001 (a daemon busy past the timeout: not acknowledged, not counted)
            self.log.append(f"post {n} at h{i} not acknowledged: {exc}")
            return
        self.posted.setdefault(c, set()).add(ident)

    def lacking(self) -> dict[int, int]:
        """Per host, how many posts of its circles it does not hold (hosts that cannot answer: all of them)."""
        out = {}
        for i in self.cluster.hosts:
            want = 0
            for c in self.circles_of(i):
                posted = self.posted.get(c, set())
                try:
                    want += len(posted - self.cluster.ids(i, self.secrets_[c]))
                except Exception:  # noqa: BLE001 (not answering right now)
                    want += len(posted)
            out[i] = want
        return out


def run_soak(cluster: Cluster, *, seconds: float, loss: float, circles: int, post_every: float, churn_every: float,
             down: tuple[float, float], max_out: int, seed: int, rss_every: float = 2.0,
             converge_timeout: float = 300.0, say: Callable[[str], None] = print) -> dict[str, Any]:
    """The whole soak on a started, connected ``cluster``; returns the figures (see the module docstring)."""
    rng = random.Random(seed)
    hosts = cluster.hosts
    soak = Soak(cluster, circle_members(len(hosts), circles), {c: secrets.token_hex(16) for c in range(circles)})
    for i in hosts:
        if not soak.join(i):
            raise RuntimeError(f"h{i} did not join its circles")
    plan = churn_plan(rng, hosts, seconds, churn_every, down, max_out)
    actions: list[tuple[float, int, Outage]] = sorted([(o.start, 0, o) for o in plan] + [(o.end, 1, o) for o in plan],
                                                      key=lambda a: (a[0], a[1]))
    sampler = RssSampler(lambda: {i: cluster.procs[i].pid for i in hosts if cluster.running(i)}, rss_every)
    sampler.start()
    cluster.mesh.loss(loss)
    say(f"soak: {len(hosts)} nodes, {circles} circles of {[len(m) for m in soak.members.values()]} hosts, "
        f"{seconds:g} s, {loss:g} % loss, {len(plan)} outages planned "
        f"({sum(o.kind == 'stop' for o in plan)} stop, {sum(o.kind == 'kill' for o in plan)} kill -9, "
        f"{sum(o.kind == 'cut' for o in plan)} cut), a post every {post_every:g} s")
    t0 = time.monotonic()
    posts, next_post, next_report = 0, 0.0, 60.0
    try:
        while (now := time.monotonic() - t0) < seconds or actions:
            while actions and actions[0][0] <= now:
                _, back, outage = actions.pop(0)
                (soak.back if back else soak.leave)(outage)
            for i in sorted(soak.unjoined):
                soak.join(i)
            if now >= next_post and now < seconds:
                soak.post(rng, posts)
                posts += 1
                next_post += post_every
            if now >= next_report:
                latest = sampler.latest_kib()
                say(f"  {now:5.0f} s: {sum(len(p) for p in soak.posted.values())} posts acknowledged; out now: "
                    f"stopped {sorted(soak.stopped)}, cut {sorted(soak.cut)}; RSS MiB min/max "
                    f"{min(latest.values()) / 1024:.0f}/{max(latest.values()) / 1024:.0f}")
                next_report += 60.0
            time.sleep(0.05)

        # the heal: everyone back (the plan ends every outage by ``seconds``, this is the safety net)
        for i in sorted(soak.cut):
            cluster.mesh.restore(i)
        soak.cut.clear()
        for i in sorted(soak.stopped):
            cluster.start(i)
            soak.unjoined.add(i)
        soak.stopped.clear()
        healed = time.monotonic()
        cluster.wait_ready()
        while soak.unjoined:
            for i in sorted(soak.unjoined):
                soak.join(i)
            time.sleep(0.1)
        total = sum(len(p) for p in soak.posted.values())
        lacking = soak.lacking()
        at_heal = dict(lacking)
        while any(lacking.values()) and time.monotonic() - healed < converge_timeout:
            time.sleep(1.0)
            lacking = soak.lacking()
        converged = time.monotonic() - healed
        ruleset = cluster.mesh.nft_counters()
        sampler.sample()
    finally:
        sampler.stop()
    packets, dropped_bytes = nft_drops(ruleset)
    series = sampler.series()
    end = max((s.samples[-1][0] for s in series if s.samples), default=0.0)
    # the processes that ran from the start to the end (never stopped): the ones whose growth means something
    whole = [s for s in series if s.samples and s.samples[0][0] < 5.0 and s.samples[-1][0] > end - 5.0]
    result: dict[str, Any] = {
        "nodes": len(hosts), "seconds": seconds, "loss_percent": loss, "circles": circles, "seed": seed,
        "outages": {k: sum(o.kind == k for o in plan) for k in ("stop", "kill", "cut")},
        "posts": total, "posts_not_acknowledged": len(soak.log),
        "lacking_at_heal": sum(at_heal.values()), "lacking_after": {f"h{i}": n for i, n in lacking.items() if n},
        "converged": not any(lacking.values()), "convergence_s": round(converged, 1),
        "switch_drops": {"packets": packets, "bytes": dropped_bytes},
        "rss_mib": {f"h{s.host}/{s.pid}": s.figures(warmup_s=min(30.0, seconds / 4)) for s in series},
        "rss_whole_run": [f"h{s.host}/{s.pid}" for s in whole],
    }
    stats: dict[str, int] = {}
    for i in hosts:
        got = (cluster.status(i) or {}).get("statistics", {})
        for key in ("envelopes_received", "accepted", "duplicates_received", "dropped_budget", "links_opened",
                    "links_dropped_misbehaved", "reconcile_started"):
            stats[key] = stats.get(key, 0) + int(got.get(key, 0))
    result["engine_totals"] = stats
    return result

"""The simulator: topologies, the virtual network, metrics, the effect shell, and whole runs over the engine."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter

import pytest

from meshcare.sync import events as ev
from meshcare.errors import BadInput
from meshcare.sim import scenario as sc
from meshcare.sim import topology
from meshcare.sim.metrics import DeliveryLog, percentile
from meshcare.sim.network import MIN_RTO, Clock, LinkModel, Pipe
from meshcare.sim.runner import WALL_FIELDS, SimConfig, simulate
from meshcare.sim.world import World
from meshcare.store.memory import MemoryStore

from .helpers import sim_argv

CONTRACT_KEYS = {"delivery_ratio", "latency_ms", "hops", "copies_per_delivered", "payload_bytes_per_delivered",
                 "control_bytes_per_delivered", "events_per_wall_s"}


# --- topology ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", topology.KINDS)
@pytest.mark.parametrize("n", [2, 7, 60])
def test_every_topology_is_connected_and_symmetric(kind, n):
    if kind == "random-regular" and n < 6:
        pytest.skip("a 4-regular graph needs at least 5 nodes")
    topo = topology.build(kind, n, random.Random(n))
    assert topo.size == n and topo.is_connected()
    for node, peers in enumerate(topo.visible):
        for peer, segment in peers:
            assert peer != node and topo.reachable(node, peer)
            assert segment in topo.segments[node] and segment in topo.segments[peer]
            assert (node, segment) in topo.visible[peer]  # discovery is symmetric


def test_a_big_lan_sees_a_bounded_sample_but_can_reach_everyone():
    topo = topology.build("lan", 2000, random.Random(1), sample=32)
    degrees = [topo.degree(i) for i in range(2000)]
    assert topo.is_connected()
    assert max(degrees) < 80 and 20 < sum(degrees) / len(degrees) < 40
    assert topo.reachable(0, 1999) and topo.reachable(5, 17)


def test_lans_bridges_sit_on_two_adjacent_segments():
    topo = topology.build("lans", 100, random.Random(3), lans=5, bridges=2)
    assert topo.lan_count == 5 and topo.is_connected()
    bridges = topo.bridges()
    assert len(bridges) == 5 * 2  # a ring of 5 LANs: 5 adjacent pairs, 2 bridges each
    pairs = Counter(tuple(sorted(topo.segments[b])) for b in bridges)
    assert set(pairs) == {(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)} and set(pairs.values()) == {2}
    others = [i for i in range(100) if i not in bridges]
    assert all(len(topo.segments[i]) == 1 for i in others)
    assert not topo.reachable(others[0], others[-1])  # LAN 0 and LAN 4 meet only through bridges


def test_two_lans_are_a_line_and_one_lan_has_no_bridges():
    assert len(topology.build("lans", 40, random.Random(1), lans=2).bridges()) == 2
    assert topology.build("lans", 40, random.Random(1), lans=1).bridges() == []


def test_chain_reaches_only_its_neighbours():
    topo = topology.build("chain", 10, random.Random(1))
    for i in range(10):
        assert {p for p, _ in topo.visible[i]} == {j for j in (i - 1, i + 1) if 0 <= j < 10}
        for j in range(10):
            assert topo.reachable(i, j) == (abs(i - j) == 1)


@pytest.mark.parametrize("degree", [3, 4, 6])
def test_random_regular_has_exact_degrees_and_follows_the_seed(degree):
    topo = topology.build("random-regular", 200, random.Random(7), degree=degree)
    assert all(topo.degree(i) == degree and len(topo.segments[i]) == degree for i in range(200))
    assert topo.is_connected()
    assert topo == topology.build("random-regular", 200, random.Random(7), degree=degree)
    assert topo != topology.build("random-regular", 200, random.Random(8), degree=degree)


@pytest.mark.parametrize("kind, n, kwargs", [("random-regular", 5, {"degree": 3}), ("random-regular", 4, {"degree": 4}),
                                             ("lan", 1, {}), ("mesh", 10, {})])
def test_impossible_topologies_are_bad_input(kind, n, kwargs):
    with pytest.raises(BadInput):
        topology.build(kind, n, random.Random(1), **kwargs)


# --- scenario ------------------------------------------------------------------------------------


def test_the_plan_orders_boot_partition_churn_and_catchup():
    config = sc.ScenarioConfig(nodes=20, messages=10, rate=10.0, warmup=2.0, partition=3.0, churn=0.1,
                               offline_catchup=4)
    plan = sc.plan(config, random.Random(1))
    assert plan == sc.plan(config, random.Random(1))
    kinds = Counter(s.kind for s in plan.steps)
    assert kinds == {sc.BOOT: 20, sc.PUBLISH: 14, sc.PARTITION: 1, sc.HEAL: 1, sc.DOWN: 3, sc.UP: 3}
    assert [s.at for s in plan.steps] == sorted(s.at for s in plan.steps)
    assert max(s.at for s in plan.steps if s.kind == sc.BOOT) < 2.0 <= min(s.at for s in plan.steps
                                                                            if s.kind == sc.PUBLISH)
    catchup = [s for s in plan.steps if s.phase == sc.CATCHUP]
    assert [s.kind for s in catchup] == [sc.DOWN] + [sc.PUBLISH] * 4 + [sc.UP]
    assert catchup[0].node == catchup[-1].node == plan.catchup_node
    heal = next(s.at for s in plan.steps if s.kind == sc.HEAL)
    assert catchup[0].at > heal and plan.end == catchup[-1].at == plan.catchup_return


# --- network -------------------------------------------------------------------------------------


def test_clock_runs_in_time_order_and_same_time_actions_in_schedule_order():
    clock, seen = Clock(), []
    for when, tag in [(2.0, "c"), (1.0, "a"), (1.0, "b"), (3.0, "late")]:
        clock.at(when, seen.append, tag)
    assert clock.run(until=2.5) is False
    assert seen == ["a", "b", "c"] and clock.now == 2.5 and clock.pending == 1


def test_a_link_never_reorders_under_heavy_jitter_and_loss():
    model = LinkModel(random.Random(1), latency=0.01, jitter=0.5, loss=0.3)
    clock, pipe, arrived = Clock(), Pipe(), []
    for i in range(2000):
        send_at = i * 0.001
        clock.at(send_at, lambda i=i: clock.at(model.arrival(pipe, clock.now, 1), arrived.append, i))
    clock.run(until=1e9)
    assert arrived == list(range(2000))


def test_loss_costs_retransmission_time_never_bytes():
    latency = 0.05
    rto = max(MIN_RTO, 2 * latency)
    model = LinkModel(random.Random(2), latency=latency, jitter=0.0, loss=0.5)
    delays = [model.transit() for _ in range(4000)]
    retransmits = [round((d - latency) / rto, 6) for d in delays]
    assert all(r == int(r) and r >= 0 for r in retransmits)  # latency + k RTOs, nothing else
    assert 0.45 < retransmits.count(0) / len(delays) < 0.55  # each try lost with p = 0.5
    assert sum(retransmits) == model.retransmissions
    lossless = LinkModel(random.Random(2), latency=latency, jitter=0.0, loss=0.0)
    assert {lossless.transit() for _ in range(100)} == {latency}


def test_loss_of_one_is_refused():
    with pytest.raises(ValueError):
        LinkModel(random.Random(1), latency=0.01, loss=1.0)


# --- metrics -------------------------------------------------------------------------------------


def test_percentile_is_nearest_rank():
    values = [5, 1, 4, 2, 3]
    assert [percentile(values, q) for q in (0, 20, 21, 50, 99, 100)] == [1, 1, 2, 3, 5, 5]
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_delivery_log_counts_hops_from_the_sender():
    log = DeliveryLog(4)
    index = log.publish(b"m", 100, author=0, now=10.0)
    assert log.deliver(b"m", 0, None, 10.0) is None and log.duplicates == 0  # the author's own Deliver
    assert log.deliver(b"m", 1, 0, 10.5) == index
    assert log.deliver(b"m", 2, 1, 11.0) == index
    assert log.deliver(b"m", 2, 1, 11.5) is None and log.duplicates == 1
    assert log.deliver(b"other", 3, 0, 12.0) is None and log.untracked == 1
    assert log.got[index] == {0: (10.0, 0), 1: (10.5, 1), 2: (11.0, 2)}
    assert log.per_node == [1, 1, 1, 0]


# --- the effect shell, with a scripted engine ---------------------------------------------------------


class ScriptedEngine:
    """Records events; answers each with the effects queued in ``script`` for that event type."""

    def __init__(self, node, journal):
        self.node, self.journal, self.script, self.outbox = node, journal, {}, {}

    def handle(self, event, now):
        self.journal.append((now, self.node, event))
        return self.script.pop(type(event), [])

    def next_deadline(self):
        return None

    def handle_deadline(self, now):
        return []

    def take_output(self, peer, max_bytes=None):
        return self.outbox.pop(peer, b"")

    def statistics(self):
        return {}


def make_world(kind="chain", n=3, latency=0.01):
    journal, engines = [], {}

    def make_engine(node):
        engines[node] = ScriptedEngine(node, journal)
        return engines[node]

    topo = topology.build(kind, n, random.Random(1))
    clock = Clock()
    world = World(clock, LinkModel(random.Random(1), latency), topo, [MemoryStore() for _ in range(n)],
                  b"T" * 16, DeliveryLog(n), make_engine, random.Random(1), [sc.partition_side(i, n) for i in range(n)])
    return world, clock, engines, journal


def events_of(journal, node, kind):
    return [(t, e) for t, nd, e in journal if nd == node and isinstance(e, kind)]


def test_connect_opens_a_link_at_both_ends_and_carries_bytes_in_order():
    world, clock, engines, journal = make_world()
    world.up(0)
    world.up(1)
    engines[0].script[ev.DataReceived] = []
    world._apply(0, [ev.Connect(1)])
    clock.run(until=1.0)
    (t0, opened0), = events_of(journal, 0, ev.LinkOpened)
    (t1, opened1), = events_of(journal, 1, ev.LinkOpened)
    assert opened0.initiator and not opened1.initiator and opened0.handshake_hash == opened1.handshake_hash
    assert t0 == t1 == pytest.approx(0.01)
    for chunk in (b"one", b"two", b"three"):
        engines[0].outbox[1] = chunk
        world._apply(0, [ev.OutputReady(1)])
    clock.run(until=2.0)
    assert [e.data for _, e in events_of(journal, 1, ev.DataReceived)] == [b"one", b"two", b"three"]


def test_a_dial_that_cannot_succeed_fails_after_the_connect_timeout():
    world, clock, engines, journal = make_world()
    world.up(0)
    world.up(2)
    world._apply(0, [ev.Connect(2)])  # not adjacent on the chain
    world._apply(2, [ev.Connect(1)])  # adjacent, but node 1 is offline
    clock.run(until=5.0)
    assert [(t, e.reason) for t, e in events_of(journal, 0, ev.LinkClosed)] == [(1.0, "unreachable")]
    assert [(t, e.peer) for t, e in events_of(journal, 2, ev.LinkClosed)] == [(1.0, 1)]


def test_drop_link_closes_both_ends_and_discards_bytes_in_flight():
    world, clock, engines, journal = make_world()
    world.up(0)
    world.up(1)
    world._apply(0, [ev.Connect(1)])
    clock.run(until=1.0)
    engines[0].outbox[1] = b"in flight"
    world._apply(0, [ev.OutputReady(1), ev.DropLink(1, "trimmed")])
    clock.run(until=2.0)
    assert events_of(journal, 1, ev.DataReceived) == []
    assert world.counters["discarded_bytes"] == len(b"in flight")
    assert [(t, e.peer) for t, e in events_of(journal, 0, ev.LinkClosed)] == [(1.0, 1)]
    assert [(t, e.peer) for t, e in events_of(journal, 1, ev.LinkClosed)] == [(pytest.approx(1.01), 0)]


def test_going_offline_closes_links_and_coming_back_rediscovers():
    world, clock, engines, journal = make_world()
    for node in range(3):
        world.up(node)
    world._apply(1, [ev.Connect(0), ev.Connect(2)])
    clock.run(until=1.0)
    world.down(1)
    clock.run(until=2.0)
    assert [e.peer for _, e in events_of(journal, 0, ev.LinkClosed)] == [1]
    assert [e.peer for _, e in events_of(journal, 2, ev.PeerLost)] == [1]
    first_engine = engines[1]
    world.up(1)
    assert engines[1] is not first_engine  # a restarted process: new engine, same store
    assert sorted(e.peer for _, e in events_of(journal, 1, ev.PeerDiscovered)) == [0, 0, 2, 2]


# --- whole simulations over the engine ---------------------------------------------------------------


def small(**kwargs) -> SimConfig:
    base = dict(seed=3, nodes=30, topology="lan", messages=5, warmup=2.0)
    base.update(kwargs)
    return SimConfig(**base)


@pytest.mark.parametrize("gossip", ["plumtree", "flood"])
def test_a_small_lan_delivers_everything(gossip):
    result = simulate(small(gossip=gossip))
    assert CONTRACT_KEYS <= result.keys() and "catchup" not in result
    assert result["delivery_ratio"] == 1.0 and result["completed"]
    assert result["deliveries"] == 5 * 29
    assert result["copies_per_delivered"] >= 1.0 and result["hops"]["p50"] >= 1
    assert result["duplicate_delivers"] == 0 and result["rejected"] == 0


def test_same_seed_same_result():
    config = small(loss=0.1, churn=0.1, topology="random-regular")
    first, second = simulate(config), simulate(config)
    strip = lambda r: {k: v for k, v in r.items() if k not in WALL_FIELDS}  # noqa: E731
    assert strip(first) == strip(second)
    assert strip(first) != strip(simulate(small(loss=0.1, churn=0.1, topology="random-regular", seed=4)))


@pytest.mark.parametrize("kind", ["lan", "lans", "random-regular"])
def test_a_partition_heals_and_the_halves_converge(kind):
    # 10 s: long enough for every node to refill its neighbour set inside its own half
    result = simulate(small(topology=kind, nodes=40, messages=10, partition=10.0))
    assert result["completed"] and result["delivery_ratio"] == 1.0


def test_bridges_reconnect_the_lans_after_a_partition():
    # 12 LANs in a ring; the cut runs through LAN 5 and between LAN 11 and LAN 0: after healing, the
    # bridges (65, 66 and 138, 139) must link into both of their segments again
    result = simulate(SimConfig(seed=2, nodes=150, topology="lans", messages=20, partition=20.0))
    assert result["completed"] and result["delivery_ratio"] == 1.0


def test_churned_nodes_catch_up_when_they_return():
    result = simulate(small(churn=0.2, messages=10, churn_down=3.0))
    assert result["completed"] and result["delivery_ratio"] == 1.0


def test_offline_catchup_is_measured():
    result = simulate(small(nodes=8, topology="chain", messages=0, offline_catchup=40, prefill=300))
    catchup = result["catchup"]
    assert catchup["complete"] and result["delivery_ratio"] == 1.0
    assert catchup["bytes"] > 0 and catchup["missing_bytes"] > 0  # (links carry compact envelopes: fewer bytes)
    assert 0.7 * catchup["missing_bytes"] <= catchup["payload_bytes"] <= catchup["bytes"]  # compact records
    assert catchup["round_trips"] >= 1
    assert catchup["bytes_after"] >= 0 and catchup["seconds"] > 0


def test_the_cli_prints_one_deterministic_json_object_and_loads_no_io_framework():
    argv = sim_argv("--seed", "5", "--nodes", "12", "--messages", "3", "--topology", "lans", "--lans", "3",
                    "--offline-catchup", "2", "--json")
    outs = []
    for hash_seed in ("1", "2"):  # engines must not depend on set/dict order of bytes keys
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert CONTRACT_KEYS | {"catchup"} <= result.keys()
        assert {"bytes", "missing_bytes", "round_trips"} <= result["catchup"].keys()
        assert {"p50", "p99", "max"} <= result["latency_ms"].keys() and {"p50", "max"} <= result["hops"].keys()
        outs.append({k: v for k, v in result.items() if k not in WALL_FIELDS})
    assert outs[0] == outs[1]


def test_the_module_entry_point_prints_a_table(capsys):
    from meshcare.sim.__main__ import main

    assert main(["--nodes", "6", "--messages", "2", "--warmup", "1"]) == 0
    out = capsys.readouterr().out
    assert "delivery ratio" in out and "copies per delivered" in out
    assert main(["--nodes", "1"]) == 1
    assert "at least 2" in capsys.readouterr().err


def test_bad_flags_are_bad_input():
    for config in (small(loss=1.0), small(gossip="gossipsub"), small(churn=1.5), small(nodes=1)):
        with pytest.raises(BadInput):
            simulate(config)

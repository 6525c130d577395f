"""The sync engine end to end over an in-memory mesh (virtual time, deterministic)."""

from __future__ import annotations

from meshcare import envelope as env
from meshcare import wire
from meshcare.sync import events as ev
from meshcare.sync.engine import SyncConfig

from .meshnet import TOPIC, Net


def chain(n: int) -> dict[int, list[int]]:
    return {i: [j for j in (i - 1, i + 1) if 0 <= j < n] for i in range(n)}


def test_full_mesh_delivers_everywhere_fast():
    net = Net(6, seed=1)
    net.start()
    net.run(3)
    e = net.publish(0, b"call for support", lane=env.Lane.URGENT)
    t0 = net.now
    net.run(1)
    assert all(e.id in d for d in net.delivered)
    assert all(e.id in net.ids(i) for i in range(6))
    del t0


def test_multi_hop_chain():
    net = Net(6, seed=2)
    net.start(chain(6))
    net.run(3)
    e = net.publish(0)
    net.run(1)
    assert e.id in net.delivered[5]  # five hops away, no direct path


def test_plumtree_prunes_to_few_copies():
    net = Net(8, seed=3)
    net.start()
    net.run(3)
    for k in range(30):
        net.publish(k % 8, bytes([k]))
        net.run(0.5)
    received = sum(n.statistics().get("envelopes_received", 0) for n in net.nodes)
    late = received  # all copies over the run
    assert all(len(d) == 30 for d in net.delivered)
    # flooding over the same links would deliver ~degree copies each; Plumtree must do far better
    assert late / (30 * 7) < 2.0


def test_offline_node_catches_up_on_return():
    net = Net(5, seed=4)
    net.start()
    net.run(3)
    net.blocked |= {frozenset((4, j)) for j in range(4)}
    for j in range(4):
        net.cut(4, j)
    published = [net.publish(k % 4, bytes([k])) for k in range(40)]
    net.run(2)
    assert not any(e.id in net.ids(4) for e in published)
    net.blocked.clear()
    net.run(20)
    assert {e.id for e in published} <= net.ids(4)


def test_partition_then_heal_converges():
    net = Net(6, seed=5)
    net.start()
    net.run(3)
    left, right = {0, 1, 2}, {3, 4, 5}
    net.blocked |= {frozenset((i, j)) for i in left for j in right}
    for i in left:
        for j in right:
            net.cut(i, j)
    a = [net.publish(0, b"left") for _ in range(5)]
    b = [net.publish(5, b"right") for _ in range(5)]
    net.run(3)
    assert not ({e.id for e in a} & net.ids(4))
    net.blocked.clear()
    for i in left:
        for j in right:
            net.handle(i, ev.PeerDiscovered(j))
    net.run(130)
    everything = {e.id for e in a + b}
    assert all(everything <= net.ids(i) for i in range(6))


def test_non_member_envelope_rejected_and_never_forwarded():
    net = Net(4, seed=6, members={0, 1, 2})  # node 3 runs a node but is not a member
    net.start()
    net.run(3)
    forged = net.publish(3, b"spoof")
    net.run(2)
    for i in range(3):
        assert forged.id not in net.ids(i)
        assert forged.id not in net.delivered[i]
    assert sum(n.statistics().get("rejected", 0) for n in net.nodes[:3]) >= 1


def test_malformed_frame_drops_only_that_link():
    net = Net(3, seed=7)
    net.start()
    net.run(3)
    victim = net.nodes[0]
    assert set(victim.linked_peers) == {1, 2}
    effects = victim.handle(ev.DataReceived(1, wire.encode_frame(b"\xc1")), net.now)
    drop = next(e for e in effects if isinstance(e, ev.DropLink))
    assert drop.peer == 1 and drop.misbehaved
    from meshcare.sync.frames import CODEC, Close
    goodbye = CODEC.decoder().feed(drop.farewell)[-1]
    assert isinstance(goodbye, Close) and "malformed" in goodbye.reason  # the peer learns why
    net.apply(0, effects)
    assert victim.linked_peers == [2]
    e = net.publish(2)
    net.run(1)
    assert e.id in net.delivered[0]
    assert victim.statistics()["protocol_errors"] == 1


def test_oversized_frame_announcement_drops_link():
    net = Net(2, seed=8)
    net.start()
    net.run(3)
    effects = net.nodes[0].handle(ev.DataReceived(1, wire.HEADER.pack(1 << 31)), net.now)
    assert any(isinstance(e, ev.DropLink) and e.misbehaved for e in effects)


def test_dead_peer_timeout_and_redial():
    net = Net(2, seed=9, config=SyncConfig(ping_interval=2, dead_after=6))
    net.start()
    net.run(3)
    assert net.nodes[0].linked_peers == [1]
    net.links.clear()  # the wire goes silent without a FIN (Wi-Fi dropped)
    net.run(10)
    assert net.nodes[0].statistics()["links"] in (0, 1)  # dropped as silent, possibly redialled


def test_flood_mode_sends_more_copies():
    copies = {}
    for mode in ("plumtree", "flood"):
        net = Net(8, seed=10, config=SyncConfig(gossip=mode))
        net.start()
        net.run(3)
        for k in range(20):
            net.publish(k % 8, bytes([k]))
            net.run(0.5)
        assert all(len(d) == 20 for d in net.delivered)
        copies[mode] = sum(n.statistics().get("envelopes_received", 0) for n in net.nodes)
    assert copies["flood"] > 1.5 * copies["plumtree"]


def test_urgent_envelopes_jump_the_queue():
    net = Net(2, seed=11)
    net.start()
    net.run(3)
    node = net.nodes[0]
    node.handle(ev.Published(_sealed(net, 0, env.Lane.NORMAL)), net.now)
    urgent = _sealed(net, 0, env.Lane.URGENT)
    node.handle(ev.Published(urgent), net.now)
    from meshcare.sync.frames import CODEC
    first = CODEC.decoder().feed(node.take_output(1, max_bytes=1))
    (record,) = first[0].envelopes  # a compact record (compact.py): it ends with the ciphertext
    assert record.endswith(urgent.ciphertext)


def _sealed(net: Net, i: int, lane: env.Lane) -> env.Envelope:
    net.seqno[i] += 1
    return env.seal(signing_key=net.keys[i], topic=TOPIC, epoch=0, key=b"K" * 32, seq=net.seqno[i],
                    lamport=1, created=int(net.now), expires=int(net.now) + 100, plaintext=b"x", lane=lane,
                    prev=env.filler_prev(net.seqno[i]))


def test_urgent_envelopes_take_every_link_not_only_the_tree():
    net = Net(8, seed=12)
    net.start()
    net.run(3)
    for k in range(20):  # let Plumtree prune to a tree
        net.publish(k % 8, bytes([k]))
        net.run(0.5)

    def copies_of(lane: env.Lane) -> int:
        before = sum(n.statistics().get("envelopes_received", 0) for n in net.nodes)
        e = net.publish(3, b"x", lane=lane)
        net.run(1)
        assert all(e.id in d for d in net.delivered)
        return sum(n.statistics().get("envelopes_received", 0) for n in net.nodes) - before

    normal, urgent = copies_of(env.Lane.NORMAL), copies_of(env.Lane.URGENT)
    assert urgent > 1.5 * normal, (normal, urgent)
    # flooding urgent envelopes must not dismantle the tree for the rest (no prunes, no grafts)
    assert copies_of(env.Lane.NORMAL) <= normal + 1


def test_envelope_published_while_the_topic_becomes_shared_still_arrives_at_once():
    net = Net(2, seed=13)
    for i in range(2):
        net.handle(i, ev.PeerDiscovered(1 - i))
    net.handle(0, ev.TopicJoined(TOPIC))
    net.run(1)                      # linked, but only node 0 syncs the topic
    net.handle(1, ev.TopicJoined(TOPIC))
    e = net.publish(0)              # node 0 does not know yet that node 1 shares it
    net.run(1.0)                    # well before any periodic reconciliation (30-90 s)
    assert e.id in net.delivered[1]


def test_graft_wait_follows_the_links_round_trip():
    from meshcare.sync.engine import SyncEngine
    from meshcare.store.memory import MemoryStore
    node = SyncEngine(MemoryStore(), lambda envs, now: [True] * len(envs), rng=__import__("random").Random(1))
    node.handle(ev.TopicJoined(TOPIC), 0.0)
    node.handle(ev.LinkOpened("fast", b"h" * 64, True, rtt=0.001), 0.0)
    assert node._graft_wait("fast") == 0.02                      # a LAN: 20 ms, not 250
    node.handle(ev.LinkOpened("slow", b"g" * 64, True, rtt=0.02), 0.0)
    # only the announcing link's round trip counts: a stranger's slow link must not stretch the wait
    assert node._graft_wait("fast") == 0.02
    assert abs(node._graft_wait("slow") - 0.08) < 1e-9           # four round trips of its own link
    node.handle(ev.LinkOpened("unknown", b"k" * 64, True), 0.0)
    assert node._graft_wait("unknown") == SyncConfig().graft_timeout

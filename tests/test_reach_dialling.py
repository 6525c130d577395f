"""Dialling members over Tor (issue 15, C4/C5): the neighbour set's address-to-node rule for onion
addresses, and real nodes (tests/nodenet.py, virtual time) that tell their circles their onion address,
dial the others' while tor can, forget them when tor goes or a member leaves, and name them in invites.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from meshcare.circles import reach as rc
from meshcare.circles.invites import MAX_HINTS, parse_token
from meshcare.crypto.onion_key import onion_address
from meshcare.errors import NotFound
from meshcare.node_events import Connect, Effect, PeerDiscovered, TorChanged
from meshcare.sync import neighbours as nb
from meshcare.sync.config import SyncConfig
from meshcare.sync.neighbours import ONION_SEGMENT, NeighbourSet

from .test_node_events import CIRCLE, SETTLE, Watched, join

ONION = {name: onion_address(bytes([i + 1]) * 32) for i, name in enumerate(("ann", "bob", "cat", "dan"))}
AT = {name: f"{host}:7447" for name, host in ONION.items()}


@dataclass
class FakeLink:
    initiator: bool = True
    opened: float = 0.0
    last_rx: float = 0.0


def neighbours(links: dict[object, FakeLink], **config: float) -> NeighbourSet:
    return NeighbourSet(SyncConfig(**config), random.Random(1), links)


# --- the neighbour set -------------------------------------------------------------------------------


def test_a_members_onion_address_is_not_dialled_while_that_member_is_linked_over_the_lan() -> None:
    links: dict[object, FakeLink] = {}
    ns = neighbours(links, target_links=3)
    onion = (ONION["bob"], 7447)
    links[b"bob"] = FakeLink()                          # bob is linked (over the LAN)
    ns.discovered(onion, ONION_SEGMENT, b"bob")
    assert onion in ns.busy() and ns.fill(0.0) == []
    ns.closed(b"bob", b"", 1.0)                         # the LAN link ends
    del links[b"bob"]
    assert ns.fill(400.0) == [onion]                    # after the backoff, it is worth a dial over Tor


def test_a_lan_address_of_a_member_linked_over_tor_is_still_dialled() -> None:
    """The LAN link is better: the daemon keeps it and drops the onion one (one link per node pair)."""
    links: dict[object, FakeLink] = {}
    ns = neighbours(links, target_links=3)
    onion, lan = (ONION["bob"], 7447), ("192.168.1.20", 7447)
    ns.discovered(lan, "lan")
    assert ns.fill(0.0) == [lan]
    assert ns.opened(b"bob", lan, initiator=True)      # the LAN dial reached bob: lan is bob's address
    links[b"bob"] = FakeLink()
    ns.closed(b"bob", b"", 1.0)                         # the LAN link broke
    del links[b"bob"]
    ns.discovered(onion, ONION_SEGMENT, b"bob")
    assert set(ns.fill(400.0)) == {lan, onion}          # both tried
    assert ns.opened(b"bob", onion, initiator=True)    # Tor won the race
    ns.dialing.discard(lan)
    links[b"bob"] = FakeLink()
    assert onion in ns.busy() and lan not in ns.busy()  # the LAN address is still worth a dial
    assert ns.fill(401.0) == [lan]
    assert ns.opened(b"bob", lan, initiator=True)      # the daemon kept the LAN link in its place
    assert lan in ns.busy() and onion in ns.busy()      # and now neither is dialled again


def test_an_accepted_link_keeps_every_known_address_of_its_node_idle() -> None:
    links: dict[object, FakeLink] = {b"bob": FakeLink(initiator=False)}
    ns = neighbours(links, target_links=3)
    assert ns.opened(b"bob", None, initiator=False)
    ns.discovered((ONION["bob"], 7447), ONION_SEGMENT, b"bob")
    assert ns.fill(0.0) == []


def test_addresses_known_by_node_stay_bounded_and_are_forgotten_with_the_address() -> None:
    ns = neighbours({}, target_links=1)
    for i in range(nb.MAX_REMEMBERED + 50):
        ns.discovered((f"{i}.onion", 7447), ONION_SEGMENT, i.to_bytes(32, "big"))
    assert len(ns._address_node) <= nb.MAX_REMEMBERED and len(ns._known) <= nb.MAX_REMEMBERED
    last = (f"{nb.MAX_REMEMBERED + 49}.onion", 7447)
    ns.lost(last)
    assert last not in ns._address_node


# --- real nodes ----------------------------------------------------------------------------------------


class OnionNet(Watched):
    """Nodes whose dials to onion addresses are recorded (``dialled``), not carried out: the links
    between them are the in-memory ones NodeNet makes by node id."""

    def __init__(self, *names: str) -> None:
        super().__init__(*names)
        self.dialled: dict[str, list[tuple[str, int]]] = {name: [] for name in names}

    def apply(self, name: str, effects: Sequence[Effect]) -> None:
        onion = [e for e in effects if isinstance(e, Connect) and isinstance(e.peer, tuple)]
        self.dialled[name] += [e.peer for e in onion]
        super().apply(name, [e for e in effects if e not in onion])

    def tor(self, name: str, *, dial: bool = True, onion: bool = True) -> None:
        self.handle(name, TorChanged(dial=dial, onion=AT[name] if onion else None))


def three() -> OnionNet:
    net = OnionNet("ann", "bob", "cat")
    net.start("ann")
    net.op("ann", "circle.create", name=CIRCLE)
    join(net, "bob", "ann")
    join(net, "cat", "bob")
    return net


def members(net: OnionNet, who: str) -> dict[str, str | None]:
    rows = net.op(who, "circle.members", circle=CIRCLE)["members"]
    return {row["name"]: row["onion"] for row in rows}


def test_each_node_tells_the_circle_its_onion_and_every_member_sees_it() -> None:
    net = three()
    for name in ("ann", "bob", "cat"):
        net.tor(name)
    net.run(SETTLE)
    for name in ("ann", "bob", "cat"):
        assert members(net, name) == {"ann": AT["ann"], "bob": AT["bob"], "cat": AT["cat"]}
    # told once: tor coming and going, or the same address again, posts nothing more
    count = {n: net.nodes[n].registry.find(CIRCLE).roster.reaches for n in ("ann",)}["ann"]
    net.tor("bob", dial=False, onion=False)
    net.tor("bob")
    net.run(SETTLE)
    assert net.nodes["ann"].registry.find(CIRCLE).roster.reaches == count
    assert sum(1 for line in net.logs["bob"] if line.startswith("onion")) == 1


def test_members_onions_are_dialled_only_while_tor_can_and_never_ones_own() -> None:
    net = three()
    for name in ("ann", "bob", "cat"):
        net.tor(name, dial=False)
    net.run(SETTLE)
    ann = net.nodes["ann"]
    assert not any(seg == ONION_SEGMENT for seg in ann.known.values())
    net.tor("ann")
    want = {(ONION["bob"], 7447), (ONION["cat"], 7447)}
    assert {a for a, seg in ann.known.items() if seg == ONION_SEGMENT} == want
    # ann is linked to bob in memory: bob's onion is busy; cat is not linked to ann
    assert (ONION["bob"], 7447) not in net.dialled["ann"] and (ONION["ann"], 7447) not in net.dialled["ann"]
    assert (ONION["cat"], 7447) in net.dialled["ann"]
    # her own address, even when someone hands it to her, is never dialled
    ann.handle(PeerDiscovered((ONION["ann"], 7447), ONION_SEGMENT), net.now)
    assert (ONION["ann"], 7447) not in ann.known
    net.tor("ann", dial=False)
    assert not any(seg == ONION_SEGMENT for seg in ann.known.values())


def test_a_member_who_turns_sharing_off_or_is_removed_is_forgotten() -> None:
    net = three()
    for name in ("ann", "bob", "cat"):
        net.tor(name)
    net.run(SETTLE)
    ann = net.nodes["ann"]
    answer = net.op("cat", "circle.reach", circle=CIRCLE, share=False)
    assert answer == {"circle": ann.registry.find(CIRCLE).topic.hex(), "share": False, "onion": AT["cat"],
                      "shown": AT["cat"]}
    assert net.saved["cat"].unshared == {bytes(ann.registry.find(CIRCLE).topic)}
    net.run(SETTLE)
    assert members(net, "ann")["cat"] is None and (ONION["cat"], 7447) not in ann.known
    assert net.op("cat", "circle.reach", circle=CIRCLE, share=True)["share"] is True
    net.run(SETTLE)
    assert members(net, "ann")["cat"] == AT["cat"] and (ONION["cat"], 7447) in ann.known
    net.op("ann", "circle.remove", circle=CIRCLE, member="bob")
    net.run(SETTLE)
    assert (ONION["bob"], 7447) not in ann.known and "bob" not in members(net, "cat")


def test_an_invite_names_this_nodes_onion_and_reachable_members_and_a_joiner_dials_them() -> None:
    net = OnionNet("ann", "bob", "cat", "dan")
    net.start("ann")
    net.op("ann", "circle.create", name=CIRCLE)
    join(net, "bob", "ann")
    join(net, "cat", "ann")
    for name in ("ann", "bob", "cat"):
        net.tor(name)
    net.run(SETTLE)
    hints = parse_token(net.op("ann", "circle.invite", circle=CIRCLE)["token"]).hints
    assert hints[0] == AT["ann"] and set(hints[1:]) == {AT["bob"], AT["cat"]} and len(hints) <= MAX_HINTS
    net.op("ann", "circle.reach", circle=CIRCLE, share=False)
    hints = parse_token(net.op("ann", "circle.invite", circle=CIRCLE)["token"]).hints
    assert AT["ann"] not in hints
    # dan joins from afar: the hints are dialled over Tor, in the onion segment, whose node is not known
    net.start("dan")
    token = net.op("bob", "circle.invite", circle=CIRCLE)["token"]
    net.op("dan", "circle.join", token=token)
    assert {(ONION["bob"], 7447), (ONION["cat"], 7447)} <= set(net.dialled["dan"])
    assert net.nodes["dan"].known[(ONION["bob"], 7447)] == ONION_SEGMENT


def test_circle_reach_is_refused_for_a_circle_this_node_is_not_in() -> None:
    net = OnionNet("ann")
    net.start("ann")
    with pytest.raises(NotFound):
        net.op("ann", "circle.reach", circle="Nowhere", share=False)
    assert rc.MAX_MEMBER_HINTS < MAX_HINTS


def test_an_onion_the_circles_would_refuse_is_not_told_to_them() -> None:
    net = three()
    net.handle("ann", TorChanged(dial=True, onion=AT["ann"].upper()))
    net.run(SETTLE)
    assert net.nodes["ann"].tor.onion is None and members(net, "bob")["ann"] is None
    assert any("not telling circles" in line for line in net.logs["ann"])

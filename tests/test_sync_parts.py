"""The engine's two deciding collaborators on their own: ``NeighbourSet`` and ``CatchUp``.

The engine tests (test_node*.py) cover them end to end; these pin each decision down directly, over a
hand-made link table, with a seeded RNG and explicit times.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from meshcare.store.memory import MemoryStore
from meshcare.sync.catchup import CatchUp
from meshcare.sync.config import SyncConfig
from meshcare.sync.frames import Reconcile
from meshcare.sync.neighbours import NeighbourSet

TOPIC = b"T" * 16


@dataclass
class FakeLink:
    initiator: bool = True
    opened: float = 0.0
    last_rx: float = 0.0
    slow: bool = False


def neighbours(links: dict[object, FakeLink], **config: float) -> NeighbourSet:
    return NeighbourSet(SyncConfig(**config), random.Random(1), links)


# --- NeighbourSet ------------------------------------------------------------------------------------------

def test_dials_into_segments_no_link_reaches_yet_first():
    links = {"x": FakeLink()}
    ns = neighbours(links, target_links=2)
    for peer, segment in (("x", "lan1"), ("a", "lan1"), ("b", "lan1"), ("c", "lan2")):
        ns.discovered(peer, segment)
    assert ns.fill(0.0) == ["c"]                 # one wanted: the only peer on a LAN not reached yet
    assert ns.dialing == {"c"} and ns.fill(0.0) == []   # the dial under way counts towards the target


def test_a_failed_dial_backs_the_peer_off_doubling():
    ns = neighbours({}, target_links=1, redial_backoff=2.0)
    ns.discovered("a", "lan")
    assert ns.fill(0.0) == ["a"]
    ns.closed("a", b"", 0.0)                      # the dial failed: about 2 s (jittered 1.5 to 2.5)
    assert ns.fill(1.4) == [] and ns.fill(2.6) == ["a"]
    ns.closed("a", b"", 2.6)                      # again: about 4 s
    assert ns.fill(2.6 + 2.9) == [] and ns.fill(2.6 + 5.1) == ["a"]


def test_a_misbehaving_node_cannot_come_back_through_its_address():
    links: dict[object, FakeLink] = {}
    ns = neighbours(links, target_links=1, misbehaviour_backoff=60.0)
    ns.discovered("addr", "lan")
    assert ns.fill(0.0) == ["addr"]
    assert ns.opened("node", "addr", initiator=True)     # the dial at addr reached node
    ns.misbehaved("node", 1.0)                           # backed off by its node id
    assert ns.fill(1.0 + 44.0) == []                     # at least 45 s, whatever the jitter
    assert ns.fill(1.0 + 76.0) == ["addr"]               # at most 75 s


def test_an_accepted_link_over_max_links_is_refused():
    links = {"a": FakeLink(initiator=False), "b": FakeLink(initiator=False)}
    ns = neighbours(links, max_links=2)
    assert not ns.opened("c", None, initiator=False)
    assert ns.opened("d", "d", initiator=True)           # our own dials are always kept (trim follows)


def test_trim_drops_the_oldest_dialled_link_but_never_the_only_one_into_a_segment():
    links = {"b": FakeLink(opened=0.0), "a": FakeLink(opened=1.0), "c": FakeLink(opened=2.0)}
    ns = neighbours(links, target_links=1)
    for peer, segment in (("a", "lan1"), ("b", "lan2"), ("c", "lan1")):
        ns.discovered(peer, segment)
    assert ns.trim(keep="c") == "a"                      # b is older, but the only link into lan2
    assert neighbours(links, target_links=3).trim(keep="c") is None   # not above the target


def test_a_silent_link_gets_a_ping_then_is_dead():
    links = {"quiet": FakeLink(last_rx=0.0), "fresh": FakeLink(last_rx=20.0), "gone": FakeLink(last_rx=-50.0)}
    ns = neighbours(links, ping_interval=15.0, dead_after=45.0)
    assert ns.silent(20.0) == [("quiet", False), ("gone", True)]


def test_a_slow_link_through_tor_is_pinged_and_declared_dead_later():
    links = {"lan": FakeLink(last_rx=0.0), "tor": FakeLink(last_rx=0.0, slow=True)}
    ns = neighbours(links, ping_interval=15.0, dead_after=45.0, ping_interval_slow=30.0, dead_after_slow=120.0)
    assert ns.silent(20.0) == [("lan", False)]
    assert ns.silent(50.0) == [("lan", True), ("tor", False)]
    assert ns.silent(121.0) == [("lan", True), ("tor", True)]


# --- CatchUp -------------------------------------------------------------------------------------------------

def catchup(**config: float) -> CatchUp:
    return CatchUp(MemoryStore(), SyncConfig(**config), random.Random(1))


def test_one_neighbour_at_a_time_reconciles_a_topic_the_others_wait_once():
    cu = catchup()
    opening = cu.begin("a", TOPIC, 0.0, {"a", "b"})
    assert isinstance(opening, Reconcile) and opening.topic == TOPIC
    assert cu.begin("b", TOPIC, 0.0, {"a", "b"}) is None
    assert cu.begin("b", TOPIC, 0.1, {"a", "b"}) is None
    assert not cu.progress("a", TOPIC, False, 0.5)       # the exchange goes on
    assert not cu.progress("b", TOPIC, True, 0.5)        # not the active peer: nothing ends
    assert cu.progress("a", TOPIC, True, 0.6)            # done: the next one may start
    nxt = cu.finish(TOPIC, 0.6, {"b"})
    assert nxt is not None and nxt[0] == "b"
    assert cu.finish(TOPIC, 0.7, {"b"}) is None          # b was queued once


def test_a_queued_peer_that_no_longer_shares_the_topic_is_skipped():
    cu = catchup()
    cu.begin("a", TOPIC, 0.0, {"a"})
    cu.begin("b", TOPIC, 0.0, {"a"})
    cu.begin("c", TOPIC, 0.0, {"a"})
    nxt = cu.finish(TOPIC, 1.0, {"c"})
    assert nxt is not None and nxt[0] == "c"


def test_an_exchange_is_over_when_quiet_or_when_its_link_is_gone():
    cu = catchup(reconcile_quiet=2.0)
    cu.begin("a", TOPIC, 0.0, set())
    assert cu.quiet(1.0, {"a"}) == []
    assert cu.quiet(2.5, {"a"}) == [TOPIC]
    assert cu.quiet(1.0, set()) == [TOPIC]
    assert cu.begin("b", TOPIC, 1.0, set()) is not None  # a's link is gone: b need not wait for it


def test_catch_up_is_reconciled_again_once_it_has_been_quiet():
    cu = catchup(catchup_debounce=0.5)
    cu.after_catchup(TOPIC, 10.0)
    cu.after_catchup(TOPIC, 10.3)                        # still flowing: the debounce starts over
    assert 10.8 in cu.deadlines()
    assert cu.due_after_catchup(10.6) == []
    assert cu.due_after_catchup(10.8) == [TOPIC]
    assert cu.due_after_catchup(11.0) == []


def test_the_periodic_round_is_jittered_around_its_interval():
    cu = catchup(anti_entropy_interval=60.0)
    cu.start_timers(0.0)
    (due,) = cu.deadlines()
    assert 30.0 <= due <= 90.0
    assert not cu.round_due(due - 0.1) and cu.round_due(due)
    assert not cu.round_due(due)                         # re-armed
    assert cu.pick([]) is None and cu.pick(["a", "b"]) in {"a", "b"}


def test_catching_up_lasts_from_the_first_exchange_to_the_last_and_through_a_catch_up_stream():
    cu = catchup(catchup_debounce=0.5)
    assert cu.catching_up() == frozenset()
    cu.begin("a", TOPIC, 0.0, {"a", "b"})               # a link began sharing the topic
    cu.begin("b", TOPIC, 0.0, {"a", "b"})               # queued behind a
    assert cu.catching_up() == {TOPIC}
    assert cu.finish(TOPIC, 1.0, {"b"}) is not None      # b's turn: still catching up
    assert cu.catching_up() == {TOPIC}
    assert cu.finish(TOPIC, 2.0, {"b"}) is None          # the last exchange ended: caught up
    assert cu.catching_up() == frozenset()
    cu.after_catchup(TOPIC, 3.0)                         # catch-up envelopes flow (e.g. as a responder)
    assert cu.catching_up() == {TOPIC}
    assert cu.due_after_catchup(3.5) == [TOPIC]
    assert cu.catching_up() == frozenset()


def test_a_periodic_exchange_alone_is_not_catching_up():
    cu = catchup()
    assert cu.begin("a", TOPIC, 0.0, {"a"}, periodic=True) is not None
    assert cu.catching_up() == frozenset()
    assert cu.finish(TOPIC, 1.0, {"a"}) is None
    assert cu.catching_up() == frozenset()

"""The neighbour set keeps this person's mailboxes linked: a preferred node is dialled first (beyond the
target, its LAN address before its onion address, the next address after a failure), its link is never
trimmed nor refused for a full set, and a linked mailbox's other addresses are not dialled. Pure: a fake
link table, no engine, no sockets."""

from __future__ import annotations

import random
from dataclasses import dataclass

from meshcare.sync.config import SyncConfig
from meshcare.sync.neighbours import ONION_SEGMENT, NeighbourSet

BOX = b"m" * 32                                      # the mailbox's node id
BOX_LAN = ("192.0.2.50", 7447)
BOX_ONION = ("a" * 56 + ".onion", 7447)
CONFIG = SyncConfig(target_links=2, max_links=3)


@dataclass
class FakeLink:
    initiator: bool
    opened: float
    last_rx: float = 0.0


def make(links: dict[object, FakeLink]) -> NeighbourSet:
    return NeighbourSet(CONFIG, random.Random(7), links)  # type: ignore[arg-type]  # FakeLink is a Linked


def others(table: NeighbourSet, links: dict[object, FakeLink], n: int) -> None:
    """``n`` other nodes linked (dialled), each at an address of its own on the LAN."""
    for i in range(n):
        address, node = ("192.0.2.1", 9000 + i), bytes([i]) * 32
        table.discovered(address, "lan")
        table.opened(node, address, initiator=True)
        links[node] = FakeLink(initiator=True, opened=float(i))


def test_a_mailbox_is_dialled_first_even_when_the_target_is_reached() -> None:
    links: dict[object, FakeLink] = {}
    table = make(links)
    others(table, links, 2)
    assert table.fill(10.0) == []                        # target reached: nobody else is dialled
    table.discovered(BOX_ONION, ONION_SEGMENT, BOX)
    table.prefer(frozenset({BOX}))
    assert table.fill(10.0) == [BOX_ONION]
    assert table.fill(11.0) == []                         # one dial at a time per mailbox


def test_without_a_preference_a_known_node_address_is_an_ordinary_peer() -> None:
    links: dict[object, FakeLink] = {}
    table = make(links)
    others(table, links, 2)
    table.discovered(BOX_ONION, ONION_SEGMENT, BOX)
    assert table.fill(10.0) == []


def test_lan_before_onion_then_onion_once_the_lan_address_failed() -> None:
    links: dict[object, FakeLink] = {}
    table = make(links)
    table.prefer(frozenset({BOX}))
    table.discovered(BOX_ONION, ONION_SEGMENT, BOX)
    table.discovered(BOX_LAN, "lan", BOX)
    first = table.fill(0.0)
    assert first[0] == BOX_LAN and BOX_ONION not in first
    table.closed(BOX_LAN, b"", 1.0)                     # the dial failed: that address is backed off
    assert table.fill(1.0)[0] == BOX_ONION


def test_a_lan_address_learned_by_a_dial_counts_as_the_mailbox() -> None:
    links: dict[object, FakeLink] = {}
    table = make(links)
    table.discovered(BOX_LAN, "lan")                    # mDNS: nobody knows whose it is yet
    table.opened(BOX, BOX_LAN, initiator=True)          # a dial there reached the mailbox
    table.prefer(frozenset({BOX}))
    assert table.fill(0.0) == [BOX_LAN]                 # not linked now: dialled, though the target is 2


def test_a_linked_mailbox_is_not_dialled_again_at_any_address() -> None:
    links: dict[object, FakeLink] = {}
    table = make(links)
    table.prefer(frozenset({BOX}))
    table.discovered(BOX_LAN, "lan", BOX)
    table.discovered(BOX_ONION, ONION_SEGMENT, BOX)
    assert table.fill(0.0)[0] == BOX_LAN
    table.opened(BOX, BOX_LAN, initiator=True)
    links[BOX] = FakeLink(initiator=True, opened=0.0)
    assert table.fill(1.0) == []
    assert BOX_ONION in table.busy()


def test_the_mailbox_link_is_never_trimmed() -> None:
    links: dict[object, FakeLink] = {}
    table = make(links)
    table.prefer(frozenset({BOX}))
    table.discovered(BOX_LAN, "lan", BOX)
    table.opened(BOX, BOX_LAN, initiator=True)
    links[BOX] = FakeLink(initiator=True, opened=-100.0)  # the oldest link of all
    others(table, links, 2)
    newest = bytes([1]) * 32
    assert table.trim(newest) == bytes([0]) * 32         # the oldest other one goes, not the mailbox
    links.pop(bytes([0]) * 32)
    assert table.trim(newest) is None                   # back at the target


def test_only_the_mailbox_left_to_trim_means_nothing_is_trimmed() -> None:
    links: dict[object, FakeLink] = {BOX: FakeLink(initiator=True, opened=0.0),
                                     b"x" * 32: FakeLink(initiator=False, opened=1.0)}
    table = NeighbourSet(SyncConfig(target_links=1, max_links=3), random.Random(1), links)  # type: ignore[arg-type]
    table.prefer(frozenset({BOX}))
    links[b"y" * 32] = FakeLink(initiator=True, opened=2.0)
    assert table.trim(b"y" * 32) is None


def test_a_full_set_still_accepts_the_mailbox() -> None:
    links: dict[object, FakeLink] = {bytes([i]) * 32: FakeLink(initiator=False, opened=0.0) for i in range(3)}
    table = make(links)
    assert not table.opened(b"z" * 32, None, initiator=False)    # max_links reached
    table.prefer(frozenset({BOX}))
    assert table.opened(BOX, None, initiator=False)


def test_clearing_the_preference_makes_the_mailbox_an_ordinary_peer_again() -> None:
    links: dict[object, FakeLink] = {}
    table = make(links)
    others(table, links, 2)
    table.discovered(BOX_LAN, "lan", BOX)
    table.prefer(frozenset({BOX}))
    assert table.fill(0.0) == [BOX_LAN]
    table.closed(BOX_LAN, b"", 0.5)
    table.prefer(frozenset())
    assert table.fill(1000.0) == []                      # target reached; no mailbox to keep


def test_a_peer_named_by_its_node_id_is_its_own_address() -> None:
    """The simulator and the tests' NodeNet name peers by node id: a preferred node known that way is dialled
    first too, and is not dialled a second time as an ordinary peer."""
    links: dict[object, FakeLink] = {}
    table = make(links)
    others(table, links, 2)
    table.discovered(BOX, "static")
    table.prefer(frozenset({BOX}))
    assert table.addresses_of(BOX) == [BOX]
    assert table.fill(0.0) == [BOX]
    table.opened(BOX, BOX, initiator=True)
    links[BOX] = FakeLink(initiator=True, opened=1.0)
    assert table.fill(1.0) == [] and table.trim(BOX) == bytes([0]) * 32


def test_a_mailbox_linked_over_tor_gets_its_lan_address_dialled() -> None:
    """Back home, the laptop still linked to its mailbox over Tor dials the mailbox's LAN address (the daemon
    then keeps the direct link); it never dials the onion address again while linked."""
    links: dict[object, FakeLink] = {}
    table = make(links)
    table.prefer(frozenset({BOX}))
    table.discovered(BOX_ONION, ONION_SEGMENT, BOX)
    assert table.fill(0.0) == [BOX_ONION]
    table.opened(BOX, BOX_ONION, initiator=True)
    links[BOX] = FakeLink(initiator=True, opened=0.0)
    assert table.fill(1.0) == []
    table.discovered(BOX_LAN, "lan", BOX)                  # home again: mDNS (or a remembered address)
    assert table.fill(2.0) == [BOX_LAN]


def test_the_mailboxes_are_kept_in_the_state_file_and_older_files_still_load() -> None:
    from meshcare.circles.state import LocalState

    state = LocalState(mailboxes={BOX}, unshared={b"t" * 32})
    again = LocalState.from_obj(state.to_obj())
    assert again.mailboxes == {BOX} and again.unshared == {b"t" * 32}
    v6 = [6, *state.to_obj()[1:10]]                      # a file from before mailboxes
    older = LocalState.from_obj(v6)
    assert older.mailboxes == set() and older.unshared == {b"t" * 32}

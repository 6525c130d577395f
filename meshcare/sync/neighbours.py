"""``NeighbourSet``: which peers this node dials, which link it gives up, and which links are silent.

Theory of operation
-------------------
Discovery reports peers with the segment (LAN) it saw them on. The set dials towards ``target_links`` and
accepts at most ``max_links`` links, preferring segments no link reaches yet, so that bridges between LANs
stay linked. A failed dial or an ended link backs that peer off (from ``redial_backoff``, doubling up to
``MAX_BACKOFF``, jittered); a misbehaving peer is backed off ``misbehaviour_backoff`` by its node id, and an
address is remembered as the node a dial there reached, so it cannot come back through its address. Every
``rotate_interval`` or so one more random peer is dialled and the oldest dialled link trimmed (never the only
one into a segment). A link silent for ``ping_interval`` gets a Ping; one silent for ``dead_after`` is dead (a slow link, through
Tor: ``ping_interval_slow`` and ``dead_after_slow``).

Onion addresses (segment ``ONION_SEGMENT``) usually come with the node they belong to (a member's
``reach`` in the roster): remembered as that node's address from the start, so while the node is linked
over the LAN its onion address is not dialled. The other way round does not hold: a link dialled at an
onion address does not make the node's other addresses busy, so a LAN address of a node linked over Tor
is still dialled (the shell keeps the direct link and drops the onion one: one link per node pair).

Preferred nodes (this person's mailboxes, ``prefer``) are kept linked whenever an address of theirs is
known (told by discovery with ``node``, or learned when a dial there reached them): while one is not
linked, one of its addresses is dialled at every ``fill``, before anyone else and beyond the target,
addresses on a LAN segment before its onion address (slower, and the daemon keeps a direct link over
an onion one); a failed dial backs that address off and the next one is tried. A link
to a preferred node is never trimmed and never refused for a full set.

The set decides, the engine acts: it reads the engine's link table (and never changes it) and answers with
peers to dial, to drop or to ping, which the engine turns into ``Connect``, ``DropLink`` and frames. Time is
the ``now`` argument; the random source is the engine's, handed in.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Hashable, Mapping
from typing import Final, Protocol, TypeVar

from .config import SyncConfig
from .events import PeerKey

_V = TypeVar("_V")

#: The longest a peer is backed off after repeated failures (seconds).
MAX_BACKOFF: Final = 300.0
#: Peers remembered in each table (discovered addresses, backoffs, address -> node): a LAN or a flood of
#: node ids announcing thousands cannot grow them; the entry added longest ago goes first.
MAX_REMEMBERED: Final = 2048
#: The segment discovery names onion peers by (docs: one segment for everything reached through Tor).
ONION_SEGMENT: Final = "onion"


def _remember(table: dict[PeerKey, _V], key: PeerKey, value: _V) -> None:
    """``table[key] = value``; a new key beyond ``MAX_REMEMBERED`` drops the oldest (an update keeps its
    place, so the order peers are tried in is what it was)."""
    table[key] = value
    while len(table) > MAX_REMEMBERED:
        del table[next(iter(table))]


class Linked(Protocol):
    """What the neighbour set reads of one of the engine's links."""

    @property
    def initiator(self) -> bool:
        """This node dialled the link."""

    @property
    def opened(self) -> float: ...

    @property
    def last_rx(self) -> float:
        """When the peer last sent anything."""

    @property
    def slow(self) -> bool:
        """A slow link (through Tor): pinged and declared dead later."""


class NeighbourSet:
    """The dialling side of the node's links: known peers, dials under way, backoffs, rotation."""

    def __init__(self, config: SyncConfig, rng: random.Random, links: Mapping[PeerKey, Linked]) -> None:
        self._config = config
        self._rng = rng
        self._links = links                                     # the engine's table, read only
        self._known: dict[PeerKey, Hashable] = {}               # discovered peer -> its segment
        self.dialing: set[PeerKey] = set()                      # addresses a Connect is out for
        self._address_node: dict[PeerKey, PeerKey] = {}         # address -> the node a dial there reached
        self._backoff: dict[PeerKey, tuple[float, float]] = {}  # peer -> (until, last delay)
        self._over_onion: set[PeerKey] = set()                  # linked nodes whose link we dialled over Tor
        self._next_rotate: float | None = None
        self.preferred: frozenset[PeerKey] = frozenset()         # node ids kept linked (mailboxes)

    # --- discovery and the life of a link ------------------------------------------------------------

    def discovered(self, peer: PeerKey, segment: Hashable, node: bytes = b"") -> None:
        """``peer`` can be dialled; ``node``: whose address it is, when known (it is busy while that node
        is linked)."""
        _remember(self._known, peer, segment)
        if node:
            _remember(self._address_node, peer, node)

    def prefer(self, nodes: frozenset[PeerKey]) -> None:
        """Keep these nodes linked from now on (the set replaces the last one)."""
        self.preferred = nodes

    def lost(self, peer: PeerKey) -> None:
        self._known.pop(peer, None)
        self._address_node.pop(peer, None)

    def opened(self, peer: PeerKey, address: PeerKey | None, initiator: bool) -> bool:
        """A link to ``peer`` is up (dialled at ``address``, if we dialled). Returns whether to keep it: a
        link we accepted is refused once ``max_links`` links are held. Call with the table not holding it."""
        self.dialing.discard(peer)
        self._over_onion.discard(peer)
        if address is not None:
            self.dialing.discard(address)
            if address in self._known:
                _remember(self._address_node, address, peer)
                if self._known[address] == ONION_SEGMENT:
                    self._over_onion.add(peer)
        if not initiator and len(self._links) >= self._config.max_links and peer not in self.preferred:
            return False
        self._backoff.pop(peer, None)
        return True

    def closed(self, peer: PeerKey, node: bytes, now: float) -> None:
        """A link or a dial ended (``node``: who was reached there, b"" if unknown). Call while the link is
        still in the table: a failed dial or an ended link makes other peers go first."""
        if node and peer in self._known:
            _remember(self._address_node, peer, node)  # that address is a node we are linked with
        if peer in self._links:
            self._over_onion.discard(peer)
        if peer in self.dialing or peer in self._links:
            self.dialing.discard(peer)
            self.back_off(peer, now, self._config.redial_backoff)

    def misbehaved(self, peer: PeerKey, now: float) -> None:
        self.back_off(peer, now, self._config.misbehaviour_backoff)

    def back_off(self, peer: PeerKey, now: float, base: float) -> None:
        """Do not dial ``peer`` for about ``base`` seconds, or twice its last backoff (jittered)."""
        _, last = self._backoff.get(peer, (0.0, 0.0))
        delay = min(MAX_BACKOFF, max(base, last * 2))
        _remember(self._backoff, peer, (now + delay * (0.75 + 0.5 * self._rng.random()), delay))

    # --- decisions ---------------------------------------------------------------------------------------

    def fill(self, now: float) -> list[PeerKey]:
        """The peers to dial: an address of each preferred node not linked, then others towards
        ``target_links``, uncovered segments first (all now counted as dialling)."""
        if not self._known:
            return []
        busy = self.busy()
        chosen = self._preferred_dials(busy, now)
        self.dialing.update(chosen)
        want = self._config.target_links - len(self._links) - len(self.dialing) + len(chosen)
        if want <= 0:
            return chosen
        busy |= set(chosen) | self._preferred_addresses()
        candidates = [p for p in self._known if p not in busy and self._dialable(p, now)]
        if not candidates:
            return chosen
        covered = {self._known.get(p) for p in busy}
        self._rng.shuffle(candidates)
        candidates.sort(key=lambda p: self._known[p] in covered)  # stable: uncovered segments first
        others = candidates[:want]
        self.dialing.update(others)
        return chosen + others

    def _preferred_dials(self, busy: set[PeerKey], now: float) -> list[PeerKey]:
        """One address for each preferred node that is neither linked nor being dialled: LAN before onion,
        the address first known first (``busy``: as ``busy()`` answered, so it holds the addresses of
        linked nodes, but for the LAN addresses of one linked over Tor: a node linked over Tor gets its LAN
        address dialled, never another onion dial)."""
        if not self.preferred:
            return []
        # a preferred node that is itself a known peer (the simulator and the tests' NodeNet name peers by
        # node id) is its own address
        by_node: dict[PeerKey, list[PeerKey]] = {n: [n] for n in self.preferred if n in self._known}
        for address, node in self._address_node.items():
            if node in self.preferred and address in self._known:
                by_node.setdefault(node, []).append(address)
        chosen: list[PeerKey] = []
        for node in sorted(by_node, key=repr):
            addresses = by_node[node]
            if any(a in self.dialing or a in self._links for a in addresses):
                continue
            ready = [a for a in addresses if a not in busy and self._dialable(a, now)
                     and not (node in self._links and self._known.get(a) == ONION_SEGMENT)]
            ready.sort(key=lambda a: self._known.get(a) == ONION_SEGMENT)  # stable: LAN first
            if ready:
                chosen.append(ready[0])
        return chosen

    def start_timers(self, now: float) -> None:
        if self._next_rotate is None:
            self._next_rotate = now + self._config.rotate_interval * (0.5 + self._rng.random())

    def next_deadline(self) -> float | None:
        return self._next_rotate

    def rotation(self, now: float) -> PeerKey | None:
        """When the rotation timer is due: re-arm it, and return one random peer to dial beyond the target
        (``trim`` then drops an older link), or None.

        A slowly re-randomised overlay is what lets two halves of a healed partition find each other:
        once every node has refilled its neighbour set inside its own half, nothing else would make it
        dial across again (mDNS gives no event for a peer it already knew).
        """
        if self._next_rotate is None or self._next_rotate > now:
            return None
        self._next_rotate = now + self._config.rotate_interval * (0.5 + self._rng.random())
        busy = self.busy() | self._preferred_addresses()
        candidates = [p for p in self._known if p not in busy and self._dialable(p, now)]
        if not candidates or len(self._links) < self._config.target_links:
            return None
        peer = self._rng.choice(sorted(candidates, key=repr))
        self.dialing.add(peer)
        return peer

    def trim(self, keep: PeerKey) -> PeerKey | None:
        """Above the target, the oldest link we dialled other than ``keep`` (never the only one into a
        segment): the link to drop, or None."""
        dialled = [p for p, link in self._links.items() if link.initiator and p != keep]
        if len(dialled) + 1 <= self._config.target_links:
            return None
        dialled = [p for p in dialled if not self.is_preferred(p)]
        if not dialled:
            return None
        segments = Counter(self._segment(p) for p in self._links)
        dialled = [p for p in dialled if segments[self._segment(p)] > 1 or self._segment(p) is None]
        if not dialled:
            return None
        return min(dialled, key=lambda p: self._links[p].opened)

    def silent(self, now: float) -> list[tuple[PeerKey, bool]]:
        """Links silent too long, in table order, each with True if it is dead (drop it), False if it is
        only due a Ping."""
        out: list[tuple[PeerKey, bool]] = []
        config = self._config
        for peer, link in self._links.items():
            dead, ping = ((config.dead_after_slow, config.ping_interval_slow) if link.slow
                          else (config.dead_after, config.ping_interval))
            if now - link.last_rx > dead:
                out.append((peer, True))
            elif now - link.last_rx > ping:
                out.append((peer, False))
        return out

    # --- helpers ---------------------------------------------------------------------------------------

    def busy(self) -> set[PeerKey]:
        """Links, dials under way, and addresses whose node is linked already (under its node id)."""
        for address in [a for a in self._address_node if a not in self._known]:
            del self._address_node[address]   # bounded by what discovery knows
        linked = {a for a, node in self._address_node.items()
                  if node in self._links and (node not in self._over_onion or self._known[a] == ONION_SEGMENT)}
        return set(self._links) | self.dialing | linked

    def addresses_of(self, node: PeerKey) -> list[PeerKey]:
        """Addresses known (to discovery) to belong to ``node``, in the order they were learned."""
        own = [node] if node in self._known else []
        return own + [a for a, n in self._address_node.items() if n == node and a in self._known]

    def _preferred_addresses(self) -> set[PeerKey]:
        """Addresses of preferred nodes: ``fill`` tries them one at a time, never as ordinary peers."""
        if not self.preferred:
            return set()
        return {a for a, node in self._address_node.items() if node in self.preferred} | set(self.preferred)

    def is_preferred(self, peer: PeerKey) -> bool:
        """``peer`` (a link's key: a node id in the daemon, or an address) is a preferred node."""
        return peer in self.preferred or self._address_node.get(peer) in self.preferred

    def _dialable(self, address: PeerKey, now: float) -> bool:
        """Not backed off, neither the address nor the node last reached there (a misbehaving node is
        backed off by its node id; it must not come back through its address)."""
        node = self._address_node.get(address)
        until = max(self._backoff.get(address, (0.0,))[0],
                    self._backoff.get(node, (0.0,))[0] if node is not None else 0.0)
        return until <= now

    def _segment(self, peer: PeerKey) -> Hashable:
        """The segment a link's peer was discovered on (its dialled address's, when keyed by node id)."""
        if peer in self._known:
            return self._known[peer]
        return next((self._known.get(a) for a, node in self._address_node.items() if node == peer), None)

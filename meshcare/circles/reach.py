"""Members' onion addresses: the value a ``reach`` roster operation carries, and who shares which. Pure.

A member (or relay) whose node runs an onion service may tell its circle where to dial it: a ``reach``
roster operation ``{"onion": "xxx.onion:PORT"}`` (or ``""``: not reachable, or no longer), about itself.
The latest counted one per author wins, like a ``rename`` (roster_fold.py); ``Roster.reach`` holds the
result for current members only, so someone who left or was removed is never dialled again.

Why a roster operation and not a post: posts expire with the circle's retention, joiners cannot read
posts from before they joined, and relays (the mailbox Pi, the very node people most want to reach)
read the roster but no post. The roster is encrypted with the roster key: members and relays read it,
nobody else.

The value is checked strictly, in its one canonical form ("<56 lowercase base32>.onion:PORT", port 1 to
65535 without leading zeros, a valid v3 address with its checksum): a hostile member cannot make other
nodes dial anything but an onion service, nor make two spellings of one address look different.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from ..crypto.onion_key import onion_public
from ..errors import BadInput

#: Counted ``reach`` operations per member (each after the last is ignored): an address changes when a
#: node's key does, and sharing is turned off and on by hand; a modified client announcing a new address
#: every second would make every node redial for ever.
MAX_REACHES: Final = 100
#: Onion addresses of members (other than the inviter) an invite names, at most.
MAX_MEMBER_HINTS: Final = 3
_MAX_VALUE: Final = 80        # "<56>.onion:65535" is 68 characters


def parse_onion(value: str) -> tuple[str, int]:
    """("xxx.onion", port) of a canonical "xxx.onion:PORT". Raises BadInput saying what is wrong."""
    if type(value) is not str or not 0 < len(value) <= _MAX_VALUE:
        raise BadInput("an onion address is written xxx.onion:PORT (56 letters and digits, then .onion)")
    host, sep, port = value.rpartition(":")
    if not sep or not host.endswith(".onion") or host != host.lower():
        raise BadInput(f"{value!r} is not written xxx.onion:PORT (lowercase, with the port)")
    if not port.isascii() or not port.isdigit() or port.startswith("0") or not 1 <= int(port) <= 65535:
        raise BadInput(f"{value!r}: the port must be a number from 1 to 65535")
    onion_public(host)            # length, base32, version 3, checksum
    return host, int(port)


def check_reach(value: object) -> str:
    """A ``reach`` op's ``onion`` value: "" (not reachable) or a canonical "xxx.onion:PORT". Raises
    BadInput."""
    if value == "":
        return ""
    if type(value) is not str:
        raise BadInput("the onion address must be text")
    parse_onion(value)
    return value


def address_of(value: str) -> tuple[str, int] | None:
    """The (host, port) a member's ``reach`` value names, or None for "" (or anything not canonical)."""
    if not value:
        return None
    try:
        return parse_onion(value)
    except BadInput:
        return None


#: Seconds between two ``reach`` operations of this node in one circle, unless the value is new: tor
#: coming and going must not become a stream of roster operations every member stores for ever.
REPOST_AFTER: Final = 600.0


def reach_to_post(own: str | None, share: bool, shown: str | None) -> str | None:
    """The ``reach`` value this node should post in a circle, or None when the roster already says the
    right thing. ``own``: this node's published onion ("xxx.onion:PORT"), None while it has none (tor
    down or not yet published: the address the circle has stays, it comes back); ``share``: the person
    shares it in this circle; ``shown``: what the roster shows for this node (None: it never said)."""
    if not share:
        return "" if shown else None
    if own is None or own == shown:
        return None
    return own


def reach_due(value: str, last: tuple[float, str] | None, now: float) -> float:
    """When to post ``value`` given this node's last ``reach`` in the circle (time, value): at once for a
    value it did not post last, else ``REPOST_AFTER`` after the last (the last did not count, or a
    concurrent one of ours overtook it)."""
    if last is None or last[1] != value:
        return now
    return max(now, last[0] + REPOST_AFTER)


def member_onions(reaches: Iterable[Mapping[bytes, str]], me: bytes) -> dict[tuple[str, int], bytes]:
    """Every onion address members of this node's circles gave (``Roster.reach`` of each), to the member
    it belongs to; never this node's own. An address two members claim (a copy, hostile or stale) is
    kept with node b"": the handshake says whose it is when it is dialled."""
    out: dict[tuple[str, int], bytes] = {}
    for reach in reaches:
        for member, value in reach.items():
            address = address_of(value)
            if address is None or member == me:
                continue
            out[address] = member if out.get(address, member) == member else b""
    return out


def hint_onions(reach: Mapping[bytes, str], roles: Mapping[bytes, str], me: bytes,
                limit: int = MAX_MEMBER_HINTS) -> list[str]:
    """Up to ``limit`` members' onion addresses for an invite's hints: relays first (always-on mailboxes),
    then facilitators, then members; by id within each, never this node's."""
    order = {"relay": 0, "facilitator": 1, "member": 2}
    chosen = sorted((order.get(roles.get(m, ""), 3), m) for m, v in reach.items()
                    if m != me and m in roles and address_of(v) is not None)
    return [reach[m] for _, m in chosen[:limit]]


def onion_changes(announced: Mapping[tuple[str, int], bytes], wanted: Mapping[tuple[str, int], bytes]
                  ) -> tuple[list[tuple[str, int]], list[tuple[tuple[str, int], bytes]]]:
    """(addresses to forget, (address, node) pairs to announce) to go from what discovery was told to
    ``wanted``: an address whose member changed is forgotten and announced again with the new one."""
    lost = [a for a, node in announced.items() if wanted.get(a) != node]
    found = [(a, node) for a, node in sorted(wanted.items()) if announced.get(a) != node]
    return lost, found

"""How this node is linked, in words: over the LAN (direct TCP), through Tor, or not at all. Pure.

`meshcare status`, `meshcare peers`, the TUI's status line and `meshcare doctor` all say it, so the words
live once, here, beside the records they read (``StatusResult.tor``/``links_direct``/``links_onion``,
``Peer.via``; docs/control.md). They are honest about Tor's cost (research notes section 2.2 and 5.3):
a link through Tor works like any other but is slow (seconds to open, a few hundred milliseconds per
message), so it is called "via Tor (slow)", never just "linked".

Older daemons do not send ``via`` or the link split: a peer's way is then read from its address (an
onion address is reached through Tor; anything else directly), and a missing split is left unsaid.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Protocol

__all__ = ["DIRECT", "ONION", "TorLike", "PeerLike", "is_onion_address", "link_split", "peer_via",
           "reach_words", "split_peers", "tor_line", "via_words"]

DIRECT: Final = "direct"
ONION: Final = "onion"


class TorLike(Protocol):
    """The ``tor`` map of ``status`` and ``node.health`` (``views_doctor.TorStatus``), as far as words need it."""

    @property
    def control(self) -> str: ...
    @property
    def socks(self) -> str: ...
    @property
    def connected(self) -> bool: ...
    @property
    def bootstrap(self) -> int | None: ...
    @property
    def onion(self) -> str | None: ...
    @property
    def published(self) -> bool: ...
    @property
    def error(self) -> str | None: ...


class PeerLike(Protocol):
    """A row of ``peers`` (``views.Peer``), as far as the way it is linked goes."""

    @property
    def address(self) -> str: ...
    @property
    def linked(self) -> bool: ...
    @property
    def via(self) -> str | None: ...


def is_onion_address(address: str) -> bool:
    """True for ``xxx.onion:PORT`` (or a bare ``xxx.onion``): such a peer is reached through Tor. Cheap: the
    name's ending, case-insensitively (C1)."""
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
    return host.lower().rstrip(".").endswith(".onion")


def peer_via(peer: PeerLike) -> str:
    """``direct`` or ``onion``: the daemon's ``via`` when it says, else what the address implies."""
    if peer.via in (DIRECT, ONION):
        return peer.via
    return ONION if is_onion_address(peer.address) else DIRECT


def via_words(peer: PeerLike) -> str:
    """The ``VIA`` column of `meshcare peers`: "direct", "Tor", or "-" for a peer not linked now."""
    if not peer.linked:
        return "-"
    return "Tor" if peer_via(peer) == ONION else DIRECT


def split_peers(peers: Iterable[PeerLike]) -> tuple[int, int]:
    """(direct, onion): the linked peers counted by the way they are linked."""
    direct = onion = 0
    for p in peers:
        if p.linked:
            if peer_via(p) == ONION:
                onion += 1
            else:
                direct += 1
    return direct, onion


def link_split(links: int, direct: int | None, onion: int | None) -> str:
    """"3 (2 direct, 1 via Tor)"; just "3" when the daemon does not tell the split, or "0"."""
    if direct is None or onion is None or links == 0:
        return str(links)
    return f"{links} ({direct} direct, {onion} via Tor)"


def reach_words(direct: int, onion: int) -> str:
    """How this node is linked, for the status line: "linked via LAN", "linked via Tor (slow)", both, or
    "unreachable" (no link at all: nothing this node posts can leave it now)."""
    if direct and onion:
        return f"linked via LAN ({direct}) and via Tor ({onion}, slow)"
    if direct:
        return f"linked via LAN to {direct} neighbour{'s' if direct != 1 else ''}"
    if onion:
        return f"linked via Tor (slow) to {onion} neighbour{'s' if onion != 1 else ''}"
    return "unreachable"


def tor_line(tor: TorLike | None) -> str:
    """One line on Tor for `meshcare status`: off, not connected (and why), bootstrapping, or ready, and the
    onion service: none, being published, or published (peers can reach this node)."""
    if tor is None:
        return "Tor: not used (start the node with --tor, or `tor = true` in config.toml)"
    if not tor.connected:
        why = f": {tor.error}" if tor.error else ""
        return f"Tor: not connected to tor's control port {tor.control}{why}"
    ready = ("ready (bootstrapped 100%)" if tor.bootstrap == 100
             else f"starting (bootstrapped {tor.bootstrap}%)" if tor.bootstrap is not None
             else "bootstrap not known")
    parts = [f"Tor: connected ({tor.control}), {ready}, dialling through {tor.socks}"]
    if tor.onion is None:
        parts.append("no onion service (this node dials out only, or tor has not added it yet)")
    elif tor.published:
        parts.append(f"onion {tor.onion} published: peers can reach this node through Tor")
    else:
        parts.append(f"onion {tor.onion} not published yet: peers cannot reach it through Tor yet")
    line = "; ".join(parts)
    return f"{line}; last error: {tor.error}" if tor.error else line

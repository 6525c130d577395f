"""Who may start a handshake with this node: bounds on connections nobody has authenticated yet.

Theory of operation
-------------------
Anyone who can reach the listening port can open TCP connections and say nothing; each costs a task, a
socket and, once it speaks, a Diffie-Hellman or two. The handshake deadline (``links.HANDSHAKE_TIMEOUT``)
ends each one, but within that window a stranger could hold thousands. So an accepted connection first
asks ``Admission.enter``: it is refused at once (closed before any byte is read, and counted) when

* the node already holds ``max_links`` links (the engine would drop the link after the handshake
  anyway; refusing first saves the work), or
* ``max_handshakes`` accepted connections are already in their handshake, or
* ``per_source`` of them come from the same source (an IPv4 address, or an IPv6 /64: one host's
  addresses), so one host cannot take every slot.

Each admitted connection calls ``leave`` when its handshake ends, however it ends. Pure bookkeeping: the
shell owns the sockets.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass
from typing import Final

MAX_HANDSHAKES: Final = 64
PER_SOURCE: Final = 8


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    max_handshakes: int = MAX_HANDSHAKES
    per_source: int = PER_SOURCE


def source_of(host: str) -> str:
    """The unit a per-source cap counts: the IPv4 address, or the /64 of an IPv6 address."""
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class Admission:
    """Counts of accepted connections still in their handshake, in total and per source."""

    def __init__(self, limits: AdmissionLimits | None = None) -> None:
        self.limits = limits or AdmissionLimits()
        self._pending: Counter[str] = Counter()
        self._total = 0
        self.refused: Counter[str] = Counter()   # why, for statistics

    @property
    def in_handshake(self) -> int:
        return self._total

    def enter(self, host: str, links: int, max_links: int) -> str | None:
        """Admit a connection from ``host`` (returns its source, to give to ``leave``), or None: refuse it."""
        source = source_of(host)
        if links >= max_links:
            why = "links_full"
        elif self._total >= self.limits.max_handshakes:
            why = "handshakes_full"
        elif self._pending[source] >= self.limits.per_source:
            why = "handshakes_per_source"
        else:
            self._pending[source] += 1
            self._total += 1
            return source
        self.refused[why] += 1
        return None

    def leave(self, source: str) -> None:
        """The handshake of a connection ``enter`` admitted has ended (done, failed or timed out)."""
        self._pending[source] -= 1
        if self._pending[source] <= 0:
            del self._pending[source]
        self._total -= 1

    def statistics(self) -> dict[str, int]:
        stats = {f"refused_{why}": n for why, n in self.refused.items()}
        stats["refused_connections"] = sum(self.refused.values())
        stats["in_handshake"] = self._total
        return stats

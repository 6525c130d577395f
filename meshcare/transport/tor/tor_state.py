"""What the daemon knows of tor, for ``status``, ``node.health`` and the node's ``TorChanged``; and the
NEWNYM rate limit. Pure: the onion service task (``onion_service.py``) and the daemon change it.

``TorOptions`` is the daemon's Tor configuration (from ``Settings``: ``tor_socks``, ``tor_control``,
``onion_port``, and the onion key when ``onion_service`` is on). ``TorState`` is the C4 ``tor`` status map.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

from ...control.views_doctor import TorStatus
from ...crypto.onion_key import OnionKey

#: NEWNYM at most this often (tor itself rate-limits it to one per 10 s and says so with a warning)
NEWNYM_INTERVAL: Final = 10.0


def show_hostport(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True, slots=True)
class TorOptions:
    """How this daemon uses tor: where its SOCKS and control ports are, and the onion service (``key``
    None: dial out only, ``--no-onion-service``)."""

    socks: tuple[str, int]
    control: str
    onion_port: int
    key: OnionKey | None = None

    @property
    def onion(self) -> str | None:
        """This node's onion address as peers dial it ("xxx.onion:PORT"), None without an onion service."""
        return None if self.key is None else f"{self.key.address}:{self.onion_port}"


@dataclass(frozen=True, slots=True)
class TorState:
    """The C4 ``tor`` map: the control connection, bootstrap, the onion service and what is wrong."""

    control: str
    socks: str
    connected: bool = False
    bootstrap: int | None = None
    onion: str | None = None
    published: bool = False
    error: str | None = None

    @classmethod
    def initial(cls, options: TorOptions) -> "TorState":
        return cls(control=options.control, socks=show_hostport(options.socks), onion=options.onion,
                   error="not connected to tor's control port yet")

    def change(self, **changes: Any) -> "TorState":
        return replace(self, **changes)

    def view(self) -> TorStatus:
        return TorStatus(control=self.control, socks=self.socks, connected=self.connected, bootstrap=self.bootstrap,
                         onion=self.onion, published=self.published, error=self.error)

    def node_view(self) -> tuple[bool, str | None]:
        """What the node hears (``TorChanged``): dial (the SOCKS port is configured: always, with --tor) and
        this node's onion address while it is published."""
        return True, self.onion if self.published else None


class NewnymLimit:
    """At most one NEWNYM per ``NEWNYM_INTERVAL`` seconds: a failed onion dial asks for fresh circuits
    (a stuck rendezvous circuit blocks new streams until then), but a burst of failures asks once."""

    def __init__(self, interval: float = NEWNYM_INTERVAL) -> None:
        self.interval = interval
        self._last: float | None = None
        self.sent = 0

    def allow(self, now: float) -> bool:
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        self.sent += 1
        return True

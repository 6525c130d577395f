"""The ``tor`` map that ``status`` and ``node.health`` carry (issue 15, contract C4): how the daemon's
connection to the system tor stands. Built on ``schema`` alone, so ``views``, ``results`` and
``results_doctor`` may import it.

The daemon fills it (the onion transport keeps it up to date); `meshcare status`, `meshcare doctor` and the
TUI read it. ``null`` in place of the whole map: this node does not use Tor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from .schema import Flag, Int, Maybe, Record, Text, key

__all__ = ["TOR_VIEWS", "TorHealth"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TorHealth(Record):
    """The daemon's connection to tor: the control port it talks to, the SOCKS port it dials through, how
    far tor has bootstrapped, and this node's onion service."""

    WHAT: ClassVar[str] = "the Tor state"
    control: str = key(Text(), "tor's control port the daemon talks to: a unix socket path or HOST:PORT")
    socks: str = key(Text(), "tor's SOCKS port onion peers are dialled through (HOST:PORT)")
    connected: bool = key(Flag(), "the control connection is open and authenticated")
    bootstrap: int | None = key(Maybe(Int(0, 100)), "tor's bootstrap percentage (100: ready; null: not known, "
                                                    "e.g. not connected)")
    onion: str | None = key(Maybe(Text()), "this node's onion address, xxx.onion:PORT (null: no onion service, "
                                           "or not added yet)")
    published: bool = key(Flag(), "tor said the onion service's descriptor is uploaded: peers can reach it")
    error: str | None = key(Maybe(Text()), "what went wrong last, in words (null: nothing)")


TOR_VIEWS: Final = (TorHealth,)

"""The records ``node.health`` nests (``views.py`` lists them in ``VIEWS``): a linked peer's clock, and the
daemon's mDNS discovery as it runs. Built on ``schema`` alone, so ``views`` and ``results_doctor`` may import it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from .schema import Flag, Hex, Int, Maybe, Number, Record, Seq, Text, key

__all__ = ["DOCTOR_VIEWS", "DiscoveryHealth", "PeerClock", "TorStatus"]

_COUNT = Int(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerClock(Record):
    """How far a linked peer's clock seems to be from this node's: the largest ``created`` minus arrival
    time of the envelopes it authored and pushed live in the last hour (transit time makes it a little
    low; good to about a second)."""

    WHAT: ClassVar[str] = "a peer's clock"
    node_id: str = key(Hex(32), "the peer's node id")
    offset_s: float = key(Number(None, None), "seconds its clock is ahead of ours (negative: behind)")
    samples: int = key(_COUNT, "envelopes the estimate rests on")
    age_s: float = key(Number(0, None), "seconds since the last of them arrived")


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryHealth(Record):
    """The daemon's mDNS discovery as it runs (absent keys: it has not started yet)."""

    WHAT: ClassVar[str] = "the discovery state"
    enabled: bool = key(Flag(), "discovery is on in the settings (`discovery` in config.toml)")
    running: bool = key(Flag(), "zeroconf is running now (false while it retries after an error)")
    interfaces: tuple[str, ...] = key(Seq(Text(), item_noun="interface"),
                                      "IPv4 addresses it is limited to (`interfaces`; empty: all)")
    registered: bool = key(Flag(), "this node's service is announced on the LAN")
    advertised: tuple[str, ...] = key(Seq(Text(), item_noun="address"), "addresses announced")
    instance_name: str | None = key(Maybe(Text()), "the service instance name announced", omit_none=True)
    found: int = key(_COUNT, "services of other nodes found since it started")
    last_error: str = key(Text(), "the last error zeroconf reported (empty: none)")


@dataclass(frozen=True, slots=True, kw_only=True)
class TorStatus(Record):
    """The daemon's view of tor (`--tor`): its control port, whether the onion service is published, and
    why not in words (the daemon keeps running without tor: LAN links work on)."""

    WHAT: ClassVar[str] = "the Tor state"
    control: str = key(Text(), "tor's control port: a unix socket path or host:port")
    socks: str = key(Text(), "tor's SOCKS port, which onion peers are dialled through (host:port)")
    connected: bool = key(Flag(), "the control connection is up and authenticated")
    bootstrap: int | None = key(Maybe(Int(0, 100)), "tor's bootstrap percentage (100: it can build circuits); "
                                "null while not connected")
    onion: str | None = key(Maybe(Text()), "this node's onion address as peers dial it (xxx.onion:PORT); null "
                            "without an onion service (`--no-onion-service`)")
    published: bool = key(Flag(), "tor has uploaded the onion service's descriptor: peers can reach it")
    error: str | None = key(Maybe(Text()), "what is wrong with tor, in words (null: nothing)")


DOCTOR_VIEWS: Final = (PeerClock, DiscoveryHealth, TorStatus)

"""What mDNS discovery says and sends, as values: ``Found``/``Gone`` events, the statistics, the
advertisement's names and TXT record, and the address rules. Pure (no zeroconf, no trio, no sockets), so
tests check a hostile TXT record or an address order without a network; ``discovery.py`` is the shell
that runs zeroconf in its threads and uses these.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

SERVICE_TYPE = "_meshcare._tcp.local."
LABEL = re.compile(r"[0-9a-f]{8,32}")  # an instance label: what new_instance_label draws


# --- events and statistics ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """A meshcare service was announced or changed (new addresses, a restart with a new incarnation).

    ``addresses`` are IPv4 addresses to dial at ``port``, those on one of our own subnets first. The same
    ``name`` may be reported again; treat it as an update.
    """

    name: str
    addresses: tuple[str, ...]
    port: int
    version: int
    incarnation: str


@dataclass(frozen=True, slots=True)
class Gone:
    """A meshcare service said goodbye (or its records expired). A hint only: links decide liveness."""

    name: str


DiscoveryEvent: TypeAlias = Found | Gone


@dataclass(frozen=True, slots=True)
class DiscoveryStatistics:
    """A snapshot for the status screen and logs."""

    instance_name: str
    incarnation: str
    registered: bool
    advertised: tuple[str, ...]
    found: int
    gone: int
    dropped: int
    unresolved: int
    malformed: int
    register_failures: int
    rescans: int
    rescan_failures: int
    last_error: str


# --- pure helpers (no sockets) --------------------------------------------------------------------


def new_instance_label(random_hex: Callable[[int], str] = secrets.token_hex) -> str:
    """A fresh random label (16 hex digits). A daemon may keep one per boot to reuse it after a crash.

    64 random bits make a clash on one LAN so unlikely (about n^2 / 2^65) that registration can skip
    mDNS probing, which otherwise holds every start back by ~1.2 s."""
    return random_hex(8)


def instance_name(label: str) -> str:
    """The service instance name for ``label``: nothing personal, nothing derived from the identity."""
    return f"mc-{label}.{SERVICE_TYPE}"


def advertised_properties(version: int, port: int, incarnation: str) -> dict[str, str]:
    """The TXT record, exactly these three keys (see the module docstring: nothing else may leak)."""
    return {"v": str(version), "port": str(port), "inc": incarnation}


def parse_found(name: str, properties: Mapping[str, str | None], srv_port: int | None,
                addresses: Sequence[str]) -> Found:
    """Turn a resolved service into a ``Found``.

    The SRV port wins; the TXT ``port`` is the fallback. Raises ``ValueError`` when the record is not a
    usable meshcare announcement (missing or non-numeric ``v``, no port, no ``inc``, no address).
    """
    version = int(properties.get("v") or "")
    port = srv_port or int(properties.get("port") or "")
    incarnation = properties.get("inc") or ""
    if not 0 <= version <= 0xFFFF or not 0 < port <= 0xFFFF:
        raise ValueError(f"version {version} or port {port} out of range")
    if not incarnation:
        raise ValueError("no incarnation nonce")
    if not addresses:
        raise ValueError("no address")
    return Found(name, tuple(addresses), port, version, incarnation)


def order_addresses(addresses: Sequence[str], local: Sequence[ipaddress.IPv4Interface]) -> tuple[str, ...]:
    """Put addresses on one of our own subnets first (those are the ones we can reach directly)."""
    networks = [iface.network for iface in local if not iface.ip.is_loopback]

    def on_our_lan(address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in network for network in networks)

    return tuple(sorted(dict.fromkeys(addresses), key=lambda a: not on_our_lan(a)))


def addresses_to_advertise(chosen: Sequence[str], local: Sequence[ipaddress.IPv4Interface]) -> tuple[str, ...]:
    """Our A records: the configured addresses, else every non-loopback address (possibly none).

    Loopback is advertised only when configured explicitly (``interfaces=["127.0.0.1"]`` for nodes sharing
    one host): a peer elsewhere must never be told to dial 127.0.0.1, which would connect it to itself,
    and such a record would linger in its cache for two minutes after our LAN address appeared.
    """
    if chosen:
        return tuple(chosen)
    return tuple(dict.fromkeys(str(iface.ip) for iface in local if not iface.ip.is_loopback))

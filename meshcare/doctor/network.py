"""Neighbours on the LAN: does the node have links, and can mDNS discovery work on the interfaces it was
given. Pure: judges ``node.health`` and the interface list.

Discovery (transport/discovery.py) finds other nodes with mDNS: multicast UDP 5353 on each interface
chosen (``interfaces`` in config.toml, IPv4 addresses; empty: all). It needs an interface that is up,
has the MULTICAST flag and an IPv4 address. What breaks it in homes: Wi-Fi "client isolation" (guest
networks, some mesh routers), a firewall dropping UDP 5353, a VPN that takes the default route. Static
peers (`--peer HOST:7447`, ``peers`` in config.toml) need none of it.

The self-probe (run only when the daemon runs with discovery on, on the interfaces it uses) asks on
the LAN for this node's own advertisement: an answer means mDNS queries leave and answers come back there.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Final

from ..control.results_doctor import NodeHealthResult
from .facts import Interface
from .findings import Finding, info, ok, problem, warning

NEIGHBOURS: Final = "neighbours"
MULTICAST: Final = "multicast"

STATIC = "add a node you know as a static peer: `peers = [\"HOST:7447\"]` in config.toml (or `meshcare start --peer HOST:7447`)"


def judge_neighbours(health: NodeHealthResult) -> list[Finding]:
    """Links, or why there are none: discovery off or failing, nobody found, peers known but not linked."""
    d = health.discovery
    if health.links:
        found = f"; mDNS found {d.found} node(s)" if d.enabled else ""
        return [ok(NEIGHBOURS, f"linked to {health.links} node(s){found}.")]
    if not d.enabled and not health.static_peers and not health.known:
        return [problem(NEIGHBOURS, "no links, discovery is off and no static peers are set: this node cannot "
                                    "reach anyone.", f"turn discovery on (`discovery = true` in config.toml), or {STATIC}.")]
    if d.enabled and not d.running:
        why = f" ({d.last_error})" if d.last_error else ""
        return [warning(NEIGHBOURS, f"no links, and mDNS discovery is not running{why}; the node retries it.",
                        "check the interfaces (`interfaces` in config.toml must list IPv4 addresses of this machine, "
                        f"`ip -4 addr`), or {STATIC}.")]
    if health.known:
        return [warning(NEIGHBOURS, f"no links: {health.known} node address(es) are known but none answers.",
                        "check that those nodes run (`meshcare peers` lists the addresses) and that nothing blocks "
                        "TCP to their port (7447 by default) between the machines.")]
    if d.enabled and not d.registered:
        return [warning(NEIGHBOURS, "no links, and this node is not announced on the LAN yet (no LAN address?).",
                        "check that the machine is on the network (`ip -4 addr`); the node announces itself once "
                        f"it has an address. Or {STATIC}.")]
    return [warning(NEIGHBOURS, "no links: no other meshcare node was found on the LAN"
                                + (f" (mDNS found {d.found})." if d.found else "."),
                    "start a node of your circle on the same network; on a guest Wi-Fi or with 'client isolation' "
                    f"mDNS cannot pass: {STATIC}.")]


def chosen_interfaces(interfaces: Sequence[Interface], addresses: Sequence[str]) -> list[Interface]:
    """The interfaces discovery uses: those holding one of ``addresses`` (config.toml ``interfaces``),
    or, when none are given, every interface but loopback."""
    if addresses:
        wanted = set(addresses)
        return [i for i in interfaces if wanted & set(i.ipv4)]
    return [i for i in interfaces if not i.loopback]


def judge_multicast(interfaces: Sequence[Interface], addresses: Sequence[str], discovery: bool) -> list[Finding]:
    """Whether mDNS can work on the chosen interfaces: they exist, are up, have MULTICAST and IPv4."""
    if not discovery:
        return [info(MULTICAST, "discovery is off (`discovery = false` in config.toml, or `--no-discovery`), so "
                                "multicast is not used (static peers only).")]
    out: list[Finding] = []
    held = {a for i in interfaces for a in i.ipv4}
    for address in addresses:
        if address not in held:
            out.append(problem(MULTICAST, f"{address} (in `interfaces`, config.toml) is not an address of this "
                                          "machine, so discovery cannot use it.",
                               "put this machine's LAN address there (`ip -4 addr`), or remove `interfaces` to use "
                               "all of them."))
    chosen = chosen_interfaces(interfaces, addresses)
    usable = []
    for i in chosen:
        if not i.up:
            out.append(problem(MULTICAST, f"interface {i.name} is down.", f"`sudo ip link set dev {i.name} up` (or "
                                                                          "connect the cable / Wi-Fi)."))
        elif not i.multicast:
            out.append(problem(MULTICAST, f"interface {i.name} has multicast turned off, so mDNS cannot pass.",
                               f"`sudo ip link set dev {i.name} multicast on`."))
        elif not [a for a in i.ipv4 if not ipaddress.IPv4Address(a).is_link_local]:
            if addresses:
                out.append(problem(MULTICAST, f"interface {i.name} has no IPv4 address.",
                                   f"connect {i.name} to the network (DHCP), or choose another interface."))
        else:
            usable.append(i)
    if not usable and not out:
        out.append(problem(MULTICAST, "no network interface is up with multicast and an IPv4 address: this machine "
                                      "is not on a LAN where other nodes can find it.",
                           f"connect it to the network (`ip -4 addr` should show a LAN address), or {STATIC}."))
    if out:
        return out
    names = ", ".join(f"{i.name} ({', '.join(i.ipv4)})" for i in usable)
    return [ok(MULTICAST, f"multicast can work on {names}.")]


def judge_probe(answered: bool | None, interfaces: Sequence[str]) -> list[Finding]:
    """The mDNS self-probe: None when it was not run (the daemon does not run with discovery on)."""
    on = ", ".join(interfaces) or "every interface"
    if answered is None:
        return []
    if answered:
        return [ok(MULTICAST, f"this node's own mDNS announcement is heard on {on}.")]
    return [warning(MULTICAST, f"this node's own mDNS announcement was not heard on {on}: a firewall may drop "
                               "mDNS (UDP port 5353) or the daemon's announcement failed.",
                    "allow mDNS: `sudo ufw allow 5353/udp` (or `sudo nft add rule inet filter input udp dport 5353 "
                    "accept`), then restart the node.")]

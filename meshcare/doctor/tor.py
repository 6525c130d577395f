"""Tor: can the node talk to the system tor, has tor bootstrapped, is the node's onion service published,
and does Debian's tor service run. Pure: judges the daemon's ``tor`` map (``node.health``), a direct look
at tor's control port (``TorProbe``, when no daemon tells), and ``systemctl show`` of tor's units.

How a node uses tor (docs/operations.md, "Tor"): it talks to tor's control port (Debian's tor: the unix
socket /run/tor/control, cookie authentication, readable by the group ``debian-tor``) to publish its onion
service, and dials peers' onion addresses through tor's SOCKS port. What goes wrong in practice: tor is not
installed or not running; the node's user is not in ``debian-tor`` (the socket or the cookie is refused);
tor cannot reach the Tor network (a firewall, a network that blocks Tor), so it never finishes
bootstrapping; the onion service is not published yet (a minute or two after tor starts) or tor refused it.

Only checked when the node uses Tor (``tor = true`` in config.toml, ``--tor``, or a running daemon that
reports a ``tor`` map); otherwise one ``info`` line says it is not used.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ..control.reachability import TorLike
from .facts import UnitFact
from .findings import Finding, info, ok, problem, warning

TOR: Final = "tor"
#: Debian's tor: its control socket, the group that may use it, and its units (tor.service only groups
#: the instances; tor@default.service is the tor that /etc/tor/torrc configures).
DEBIAN_CONTROL: Final = "/run/tor/control"
GROUP: Final = "debian-tor"
UNITS: Final = ("tor.service", "tor@default.service")

#: Words in tor's or the daemon's error that mean "refused for lack of rights" rather than "not there".
_DENIED: Final = ("permission denied", "eacces", "authentication", "auth ", "cookie", GROUP)

LOGS = "`journalctl -u tor@default -n 50` (or tor's own log) says why"
START = "install and start Debian's tor: `sudo apt install tor`, then `sudo systemctl enable --now tor`"
PASSWORD_FIX = ("turn cookie authentication on in /etc/tor/torrc: `CookieAuthentication 1` and "
                "`CookieAuthFileGroupReadable 1` (Debian's default), then `sudo systemctl restart tor`.")


@dataclass(frozen=True, slots=True)
class TorProbe:
    """What a direct look at tor's control port found (probes.tor_control), when no daemon tells.

    ``reachable``: a connection was made and tor answered PROTOCOLINFO. ``error``: why not, in words.
    ``denied``: the socket refused this user (EACCES). ``methods``: the authentication methods tor offers;
    ``cookie``: the cookie file it names; ``cookie_readable``: this user can read it (None: not asked)."""

    where: str
    reachable: bool
    error: str = ""
    denied: bool = False
    missing: bool = False
    methods: tuple[str, ...] = ()
    cookie: str | None = None
    cookie_readable: bool | None = None


def parse_protocolinfo(text: str) -> tuple[tuple[str, ...], str | None]:
    """The auth methods and the cookie file of a PROTOCOLINFO reply (control-spec section 3.21):
    ``250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/run/tor/control.authcookie"``. Nothing found: ((), None)."""
    for line in text.splitlines():
        body = line[4:] if len(line) > 4 and line[:3] == "250" else ""
        if not body.startswith("AUTH "):
            continue
        methods: tuple[str, ...] = ()
        cookie = None
        for word in shlex.split(body[5:], posix=True):
            name, _, value = word.partition("=")
            if name == "METHODS":
                methods = tuple(m for m in value.split(",") if m)
            elif name == "COOKIEFILE":
                cookie = value
        return methods, cookie
    return (), None


def _group_fix(user: str) -> str:
    return (f"add the user to the {GROUP} group: `sudo adduser {user} {GROUP}`, then restart meshcare "
            f"(`meshcare stop` and `meshcare start`, or `sudo systemctl restart meshcare@{user}`); a service "
            "installed with `sudo meshcare service install --tor` has the group already.")


def _denied(error: str | None) -> bool:
    low = (error or "").lower()
    return any(word in low for word in _DENIED)


def judge_daemon_tor(tor: TorLike, user: str) -> list[Finding]:
    """The running daemon's ``tor`` map: connected, bootstrapped, the onion service published."""
    if not tor.connected:
        why = f" ({tor.error})" if tor.error else ""
        if "password" in (tor.error or "").lower():
            return [problem(TOR, f"tor at {tor.control} asks for a password{why}; meshcare authenticates with "
                                 "tor's cookie.", PASSWORD_FIX)]
        if _denied(tor.error):
            return [problem(TOR, f"tor refused the node at its control port {tor.control}{why}: the node's user may "
                                 f"not use tor's control socket or read its cookie.", _group_fix(user))]
        return [problem(TOR, f"the node cannot reach tor's control port {tor.control}{why}: no onion service, and "
                             "peers' onion addresses cannot be dialled (links on the LAN still work).",
                        f"{START}; if tor runs elsewhere, set `tor_control` in config.toml to its control port "
                        "(a unix socket path or HOST:PORT); the node retries by itself.")]
    out: list[Finding] = []
    if tor.bootstrap is None or tor.bootstrap < 100:
        pct = "an unknown share" if tor.bootstrap is None else f"{tor.bootstrap}%"
        out.append(warning(TOR, f"tor is connecting to the Tor network: bootstrapped {pct} (links through Tor "
                                "wait until it reaches 100%).",
                           "wait a minute or two; if it stays below 100%, tor cannot reach the Tor network (a "
                           "firewall, a wrong clock, or a network that blocks Tor: see 'Tor' in "
                           f"docs/operations.md); {LOGS}."))
    else:
        out.append(ok(TOR, f"connected to tor ({tor.control}), bootstrapped 100%."))
    if tor.onion is None:
        out.append(info(TOR, "no onion service: this node dials out through Tor only (`onion_service = false`, "
                             "or tor has not added it yet); nobody can dial it through Tor."))
    elif tor.published:
        out.append(ok(TOR, f"the onion service {tor.onion} is published: members can reach this node through Tor."))
    elif tor.error:
        out.append(problem(TOR, f"the onion service {tor.onion} is not published: {tor.error}",
                           f"{LOGS}; the node tries again by itself (restart it to try at once)."))
    else:
        out.append(warning(TOR, f"the onion service {tor.onion} is not published yet: members cannot reach this "
                                "node through Tor until it is (this takes a minute or two after tor starts).",
                           f"wait a few minutes and run doctor again; if it stays, {LOGS}."))
    return out


def judge_probe(probe: TorProbe, user: str) -> list[Finding]:
    """A direct look at tor's control port while the node does not run (or does not report on tor)."""
    where = probe.where
    if not probe.reachable:
        if probe.denied:
            return [problem(TOR, f"{user} may not use tor's control socket {where} ({probe.error}).",
                            _group_fix(user))]
        if probe.missing:
            return [problem(TOR, f"tor's control socket {where} does not exist: tor is not running here (or not "
                                 "installed), so the node cannot publish its onion service.", START + ".")]
        return [problem(TOR, f"tor's control port {where} does not answer ({probe.error}).",
                        f"{START}; or set `tor_control` in config.toml to where your tor's control port is.")]
    cookie_ways = {"COOKIE", "SAFECOOKIE"} & set(probe.methods)
    if probe.methods and not cookie_ways and "NULL" not in probe.methods:
        return [problem(TOR, f"tor at {where} asks for a password ({', '.join(probe.methods)}); meshcare "
                             "authenticates with tor's cookie.", PASSWORD_FIX)]
    if cookie_ways and probe.cookie_readable is False:
        return [problem(TOR, f"{user} cannot read tor's cookie {probe.cookie or ''}, so tor would refuse the node.",
                        _group_fix(user))]
    return [ok(TOR, f"tor's control port {where} answers and would let the node in; the node publishes its "
                    "onion service when it starts.")]


def judge_units(units: Sequence[UnitFact], debian_control: bool) -> list[Finding]:
    """Debian's tor units (``systemctl show``): installed, running, started at boot. ``debian_control``:
    the node uses Debian's control socket (so it needs Debian's tor running on this machine)."""
    by_name = {u.name: u for u in units}
    master, instance = by_name.get(UNITS[0]), by_name.get(UNITS[1])
    if master is None or master.load in ("", "not-found"):
        if debian_control:
            return [problem(TOR, "Debian's tor is not installed (no tor.service).", START + ".")]
        return []
    if master.load == "masked":
        return [problem(TOR, "tor.service is masked: systemd will not start tor.",
                        "`sudo systemctl unmask tor` then `sudo systemctl enable --now tor`.")]
    out: list[Finding] = []
    if instance is not None and instance.load not in ("", "not-found") and instance.active != "active":
        state = instance.active + (f", {instance.result}" if instance.result not in ("", "success") else "")
        out.append(problem(TOR, f"Debian's tor (tor@default.service) is not running ({state}).",
                           "`sudo systemctl restart tor`; if it fails again, `journalctl -u tor@default -n 50` "
                           "says why (often a mistake in /etc/tor/torrc: `sudo tor --verify-config`)."))
    elif master.active != "active":
        out.append(problem(TOR, f"tor.service is not running ({master.active}).", "`sudo systemctl start tor`."))
    if master.unit_file not in ("enabled", "static", "generated", "linked", "enabled-runtime"):
        out.append(warning(TOR, f"tor.service will not start at boot ({master.unit_file or 'disabled'}).",
                           "`sudo systemctl enable tor` (a node installed with `meshcare service install --tor` "
                           "starts it too, but only when the node starts)."))
    return out or [ok(TOR, "Debian's tor is running (tor@default.service) and starts at boot.")]

"""Running the checks: each in its own thread with a timeout, each failure its own, in a fixed order.

Theory of operation
-------------------
``CHECKS`` is the table: a name and a function ``(Context) -> list[Finding]`` that gathers its facts
through ``Context.probes`` and hands them to a pure judge (files.py, node.py, network.py, tor.py, clock.py,
disk.py, systemd.py). ``run_checks`` runs them in order; each runs in a daemon thread joined with a
timeout, so a probe that hangs (a stuck NFS home, a systemctl that never answers, a daemon that accepts
and says nothing) becomes one ``error`` finding and the others still run; a check that raises becomes
one ``error`` finding naming the exception. Facts several checks need (the daemon's, the identity) are
gathered once and kept in the Context.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ..config import Settings
from . import clock, disk, files, network, node, systemd, tor
from . import probes as p
from .facts import DaemonFacts, DiskFact, FileFact, Interface
from .findings import Finding, Level, info, warning

#: Seconds one check may take before it is reported as not finished.
CHECK_TIMEOUT: Final = 10.0


@dataclass(frozen=True, slots=True)
class Probes:
    """The functions that look at the system (probes.py); tests pass fakes."""

    file_fact: Callable[[Path], FileFact] = p.file_fact
    port_results: Callable[[str, int, int], list[tuple[int, int]]] = p.port_results
    interfaces: Callable[[], list[Interface]] = p.interfaces
    disk_fact: Callable[[Path], DiskFact] = p.disk_fact
    systemd_booted: Callable[[], bool] = p.systemd_booted
    systemctl_show: Callable[[str, tuple[str, ...]], str] = p.systemctl_show
    daemon_facts: Callable[[Settings], DaemonFacts] = p.daemon_facts
    #: None: never send the mDNS self-probe (``--no-probe``, and tests)
    mdns_probe: Callable[[str, tuple[str, ...]], bool] | None = p.mdns_probe
    #: a direct look at tor's control port (PROTOCOLINFO only), when no running daemon reports on tor
    tor_control: Callable[[str], tor.TorProbe] = p.tor_control


@dataclass
class Context:
    """What the checks share: the settings, who runs doctor, the probes, and facts gathered once."""

    settings: Settings
    probes: Probes = field(default_factory=Probes)
    uid: int = field(default_factory=os.geteuid)
    user: str = field(default_factory=lambda: _user_name(os.geteuid()))
    _daemon: DaemonFacts | None = None

    def daemon(self) -> DaemonFacts:
        if self._daemon is None:
            self._daemon = self.probes.daemon_facts(self.settings)
        return self._daemon


def _user_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return os.environ.get("USER") or str(uid)


# --- the checks: gather, then judge --------------------------------------------------------------------

def check_data_dir(ctx: Context) -> list[Finding]:
    return files.judge_data_dir(ctx.probes.file_fact(ctx.settings.home), ctx.uid, ctx.user)


def check_files(ctx: Context) -> list[Finding]:
    home = ctx.probes.file_fact(ctx.settings.home)
    if not home.exists or not home.is_dir:
        return [info(files.FILES, "not checked: there is no data dir (see above).")]
    facts = [ctx.probes.file_fact(ctx.settings.home / name) for name in files.PRIVATE_FILES]
    return files.judge_files(facts, ctx.uid, ctx.user)


def check_daemon(ctx: Context) -> list[Finding]:
    return node.judge_daemon(ctx.daemon(), str(ctx.settings.control_path), str(ctx.settings.log_path))


def check_identity(ctx: Context) -> list[Finding]:
    from ..crypto import keystore
    from ..errors import KeystoreError

    if not ctx.probes.file_fact(ctx.settings.keystore_path).exists:
        return [info(node.IDENTITY, "not checked: there is no identity.key (see above).")]
    try:
        name, _, protected = keystore.read_public(ctx.settings.keystore_path)
    except KeystoreError as exc:
        return node.judge_identity(None, False, str(exc), False, False)
    running = ctx.daemon().pid is not None
    by_file = ctx.settings.passphrase_file is not None or bool(os.environ.get("MESHCARE_PASSPHRASE_FILE"))
    return node.judge_identity(name, protected, "", running, by_file)


def check_port(ctx: Context) -> list[Finding]:
    from ..transport.listening import PORT_TRIES

    facts = ctx.daemon()
    if facts.pid is not None:
        if facts.health is not None:
            return node.judge_port_running(facts.health.listen)
        return node.judge_port_unknown("the node holds the data dir, so it has its port.")
    host, port = ctx.settings.listen
    if port == 0:
        return node.judge_port_unknown("`listen` asks for any free port.")
    tries = 1 if ctx.settings.listen_fixed else PORT_TRIES
    return node.judge_port(host, port, ctx.probes.port_results(host, port, tries), ctx.settings.listen_fixed)


def check_neighbours(ctx: Context) -> list[Finding]:
    health = ctx.daemon().health
    if health is None:
        return [info(network.NEIGHBOURS, f"not checked: the node does not run or answer ({ctx.daemon().note}).")]
    return network.judge_neighbours(health)


def check_multicast(ctx: Context) -> list[Finding]:
    settings = ctx.settings
    health = ctx.daemon().health
    if health is not None:      # what the running node does (flags may differ from config.toml)
        enabled, addresses = health.discovery.enabled, health.discovery.interfaces
    else:
        enabled, addresses = settings.discovery, settings.interfaces
    found = network.judge_multicast(ctx.probes.interfaces(), addresses, enabled)
    probe = ctx.probes.mdns_probe
    if (probe is None or health is None or not health.discovery.running or not health.discovery.registered
            or not health.discovery.instance_name or any(f.level is Level.PROBLEM for f in found)):
        return found
    answered = probe(health.discovery.instance_name, tuple(health.discovery.interfaces))
    return found + network.judge_probe(answered, health.discovery.interfaces)


def tor_settings(settings: Settings) -> tuple[bool, str]:
    """(uses Tor, its control port): ``tor`` and ``tor_control`` of config.toml (docs/operations.md, "Tor")."""
    return settings.tor, settings.tor_control


def check_tor(ctx: Context) -> list[Finding]:
    configured, control = tor_settings(ctx.settings)
    facts = ctx.daemon()
    reported = facts.health.tor if facts.health is not None else None
    if not configured and reported is None:
        return [info(tor.TOR, "Tor is not used (`tor = true` in config.toml, or `meshcare start --tor`, lets "
                              "members reach this node from anywhere: docs/operations.md, 'Tor').")]
    if reported is not None:
        found = tor.judge_daemon_tor(reported, ctx.user)
        control = reported.control
    elif facts.health is not None:      # a daemon that runs without --tor, while config.toml asks for it
        found = [warning(tor.TOR, "config.toml says `tor = true`, but the running node does not use Tor: it "
                                  "was started before that was set, or with flags that override it.",
                         "restart the node: `meshcare stop` then `meshcare start` (or `sudo systemctl restart "
                         f"meshcare@{ctx.user}`).")]
        found += tor.judge_probe(ctx.probes.tor_control(control), ctx.user)
    else:
        found = tor.judge_probe(ctx.probes.tor_control(control), ctx.user)
    if ctx.probes.systemd_booted():
        units = [systemd.parse_show(name, ctx.probes.systemctl_show(name, systemd.PROPERTIES))
                 for name in tor.UNITS]
        found += tor.judge_units(units, control == tor.DEBIAN_CONTROL)
    return found


def check_clock(ctx: Context) -> list[Finding]:
    health = ctx.daemon().health
    if health is None:
        return [info(clock.CLOCK, "not checked: the node does not run or answer, and it is what compares clocks.")]
    return clock.judge_clock(health)


def check_disk(ctx: Context) -> list[Finding]:
    return disk.judge_disk(ctx.probes.disk_fact(ctx.settings.home))


def check_service(ctx: Context) -> list[Finding]:
    if not ctx.probes.systemd_booted():
        return systemd.judge_service(False, ())
    units = [systemd.parse_show(name, ctx.probes.systemctl_show(name, systemd.PROPERTIES))
             for name in systemd.unit_names(ctx.user)]
    return systemd.judge_service(True, units)


Check = Callable[[Context], list[Finding]]

#: Every check, in the order they run and print (the name is the ``check`` key of the findings).
CHECKS: Final[tuple[tuple[str, Check], ...]] = (
    (files.DATA_DIR, check_data_dir), (files.FILES, check_files), (node.DAEMON, check_daemon),
    (node.IDENTITY, check_identity), (node.PORT, check_port), (network.NEIGHBOURS, check_neighbours),
    (network.MULTICAST, check_multicast), (tor.TOR, check_tor), (clock.CLOCK, check_clock), (disk.DISK, check_disk),
    (systemd.SERVICE, check_service))


def run_one(name: str, check: Check, ctx: Context, timeout: float) -> list[Finding]:
    """One check in a daemon thread: its findings, or one ``error`` finding if it raised or did not end
    within ``timeout`` seconds (the thread is left behind; it ends with the process)."""
    box: list[list[Finding]] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            box.append(check(ctx))
        except Exception as exc:  # noqa: BLE001 - one check failing is shown as such; the others run
            failure.append(exc)

    thread = threading.Thread(target=target, name=f"doctor-{name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return [Finding(name, Level.ERROR, f"the check did not finish within {timeout:g} s.",
                        "run `meshcare doctor` again; if this check hangs again, something it asks does not answer "
                        "(the node, systemctl or the filesystem of the data dir): please report it.")]
    if failure:
        exc = failure[0]
        return [Finding(name, Level.ERROR, f"the check could not run: {type(exc).__name__}: {exc}",
                        "please report it, with this line; the other checks ran.")]
    return box[0]


def run_checks(ctx: Context, checks: Sequence[tuple[str, Check]] = CHECKS,
               timeout: float = CHECK_TIMEOUT) -> list[Finding]:
    """Every check, in order, each bounded by ``timeout`` seconds; their findings in that order."""
    out: list[Finding] = []
    for name, check in checks:
        out += run_one(name, check, ctx, timeout)
    return out


def _same_names() -> None:
    """The table and the names the CLI offers agree (checked at import: a mismatch is our bug)."""
    from ..errors import LocalProtocolError
    from .names import CHECK_NAMES

    if tuple(name for name, _ in CHECKS) != CHECK_NAMES:
        raise LocalProtocolError("doctor: CHECKS and names.CHECK_NAMES differ")


_same_names()

"""The systemd unit files, rendered as text by pure functions (the installer writes them; tests verify them).

Two shapes (docs/raspberry-pi.md; the reasoning with sources: research notes "Raspberry Pi operations"):

* ``meshcare@.service``, a template with ``User=%i``, for a household Pi whose owner also runs the TUI as
  themselves: the control socket is 0600, so the daemon must run under the owner's uid (no DynamicUser).
  The data dir is written out as ``/home/%i/.local/share/meshcare`` (the default ``meshcare`` uses for that
  user) because systemd does not resolve ``%h`` for a system unit's ``User=``; an owner whose home is
  elsewhere gets a drop-in (``home_dropin``) with the real path.
* ``meshcare.service`` for an appliance relay Pi: a static ``meshcare`` system user, data in
  ``StateDirectory=meshcare`` (/var/lib/meshcare), used with ``sudo -u meshcare meshcare --home /var/lib/meshcare status``.

systemd takes a ``#`` only at the start of a line (a comment after a value becomes part of the value), so
every comment here stands on its own line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

TEMPLATE_UNIT: Final = "meshcare@.service"
SYSTEM_UNIT: Final = "meshcare.service"
SYSTEM_USER: Final = "meshcare"
DEFAULT_VENV: Final = PurePosixPath("/opt/meshcare/venv")
UNIT_DIR: Final = PurePosixPath("/etc/systemd/system")
#: The drop-in file the installer writes for an owner whose home is not /home/NAME.
DROPIN_NAME: Final = "meshcare-home.conf"
#: The drop-in ``service install --tor`` writes for one node (``meshcare@ana.service.d/``, ``meshcare.service.d/``).
TOR_DROPIN_NAME: Final = "meshcare-tor.conf"
#: Debian's tor's group: it may use the control socket /run/tor/control and read its cookie.
TOR_GROUP: Final = "debian-tor"


@dataclass(frozen=True, slots=True)
class UnitOptions:
    """What varies between installs. ``memory_high``/``memory_max``: systemd sizes (``128M``), by default
    2.5x and 3.8x the 50.6 MiB a small-profile daemon peaked at with 100,000 envelopes stored
    (docs/benchmarks.md section 14). ``watchdog_s``: systemd restarts a
    daemon whose event loop has not said WATCHDOG=1 for that long (it says so every half of it)."""

    venv: PurePosixPath = DEFAULT_VENV
    memory_high: str = "128M"
    memory_max: str = "192M"
    watchdog_s: int = 60

    @property
    def executable(self) -> PurePosixPath:
        return self.venv / "bin" / "meshcare"


def user_data_dir(user: str) -> PurePosixPath:
    """Where ``meshcare`` keeps ``user``'s node when their home is /home/USER (platformdirs' default)."""
    return PurePosixPath("/home") / user / ".local/share/meshcare"


def _unit_section(description: str) -> str:
    return f"""\
[Unit]
Description={description}
# how to install, run and remove it: docs/raspberry-pi.md in meshcare's source
Wants=network-online.target
After=network-online.target
# five failed starts within a minute: systemd stops trying (see `systemctl status`, `journalctl -u`)
StartLimitIntervalSec=60
StartLimitBurst=5
"""


def _service_common(opts: UnitOptions) -> str:
    """Everything both units share after the user and data-dir lines: how it runs, and the sandbox.
    Each line is there for a reason the daemon has (sockets, mDNS, zeroconf's threads, PyNaCl via cffi)."""
    return f"""\
# the daemon says READY=1 once its control socket and listeners are up, then WATCHDOG=1 every
# {opts.watchdog_s // 2} s from its event loop; a loop that hangs for {opts.watchdog_s} s is restarted
Type=notify
NotifyAccess=main
WatchdogSec={opts.watchdog_s}
ExecStart={opts.executable} run
Restart=on-failure
RestartSec=5
# a Zero 2 W on a slow card takes a while to load Python and open a large store
TimeoutStartSec=120
TimeoutStopSec=20
# journald adds the time and meshcare[PID] to each line; the daemon leaves its own prefix out under it
SyslogIdentifier=meshcare

# files: the whole system read-only but the data dir
ProtectSystem=strict
PrivateTmp=yes
PrivateDevices=yes
ProtectProc=invisible
UMask=0077

# privileges: none at all
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictNamespaces=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
# PyNaCl calls libsodium through cffi without callbacks, so no page is ever writable and executable:
# tests/test_service_sandbox.py runs the daemon under the kernel's own W^X switch and fails if that changes
MemoryDenyWriteExecute=yes

# network: links over TCP, mDNS over UDP, the control socket (AF_UNIX), and netlink, which
# zeroconf reads the interfaces through (getifaddrs)
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

# memory on a 512 MB board: above MemoryHigh the kernel reclaims hard, at MemoryMax it kills the daemon
# (and Restart= starts it again); the figures come from the RSS measurements in docs/benchmarks.md
MemoryHigh={opts.memory_high}
MemoryMax={opts.memory_max}
"""


_INSTALL = """\

[Install]
WantedBy=multi-user.target
"""


def template_unit(opts: UnitOptions = UnitOptions()) -> str:
    """``meshcare@.service``: one node per household member, ``systemctl enable --now meshcare@ana``."""
    data = user_data_dir("%i")
    return (_unit_section("meshcare node of %i") + f"""
[Service]
User=%i
# the same data dir `meshcare` uses when %i runs it (the TUI over SSH talks to this daemon);
# systemd does not resolve %h for a system unit, so it is written out (a drop-in changes it)
Environment=MESHCARE_HOME={data}
# the data dir is the one writable place in a read-only home; `meshcare service install` makes it
ProtectHome=read-only
ReadWritePaths=-{data}
""" + _service_common(opts) + _INSTALL)


def system_unit(opts: UnitOptions = UnitOptions()) -> str:
    """``meshcare.service``: an appliance relay node under the ``meshcare`` system user."""
    return (_unit_section("meshcare relay node") + f"""
[Service]
User={SYSTEM_USER}
Group={SYSTEM_USER}
# /var/lib/meshcare, made by systemd for the meshcare user and writable despite ProtectSystem=strict
StateDirectory=meshcare
StateDirectoryMode=0700
Environment=MESHCARE_HOME=%S/meshcare
ProtectHome=yes
# IPC objects of the meshcare user go when it stops (not in the template: they would be the owner's)
RemoveIPC=yes
""" + _service_common(opts) + _INSTALL)


def home_dropin(data_dir: PurePosixPath) -> str:
    """The drop-in for one owner whose home is not /home/NAME (``meshcare@NAME.service.d/``): their data dir
    in place of the template's. An empty ``ReadWritePaths=`` first clears the template's path."""
    return f"""\
# written by `meshcare service install`: this user's home is not /home/%i
[Service]
Environment=MESHCARE_HOME={data_dir}
ReadWritePaths=
ReadWritePaths=-{data_dir}
"""


def tor_dropin() -> str:
    """The drop-in of a node that uses Debian's tor (``service install --tor``). A drop-in per node rather
    than lines in the template: one household member's node may use Tor while another's does not, and
    a later install of the other must not take Tor away from the first. It passes nothing new to the
    daemon: ``tor = true`` in the node's config.toml is what makes it use Tor; this only lets it reach tor.

    The sandbox of the unit leaves /run/tor reachable, checked line by line: ``ProtectSystem=strict``
    makes /run read-only, which stops neither ``connect()`` on a socket nor reading the cookie (the kernel
    refuses writes to files on a read-only mount, not connections to sockets); no ``ReadOnlyPaths=``,
    ``InaccessiblePaths=``, ``TemporaryFileSystem=`` or ``PrivateTmp=`` covers /run/tor; ``ProtectHome``
    concerns /home only; and ``RestrictAddressFamilies`` allows AF_UNIX (the control socket) and AF_INET
    (tor's SOCKS port, 127.0.0.1:9050)."""
    return f"""\
# written by `meshcare service install --tor`: this node talks to Debian's tor (docs/operations.md, "Tor")
[Unit]
# start tor with the node; tor.service only groups Debian's tor instances, tor@default.service is the
# tor itself (Type=notify: ready once its control socket is open), so the node starts after both
Wants=tor.service
After=tor.service tor@default.service

[Service]
# tor's control socket /run/tor/control and its cookie are open to the {TOR_GROUP} group only; /run/tor
# stays reachable under ProtectSystem=strict (read-only /run still lets the node connect and read)
SupplementaryGroups={TOR_GROUP}
"""


def instance(user: str) -> str:
    """The unit name of ``user``'s node: ``meshcare@ana.service``."""
    return f"meshcare@{user}.service"

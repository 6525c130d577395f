"""The daemon's side of systemd's ``Type=notify``: READY, STATUS, WATCHDOG and STOPPING datagrams.

The protocol is one datagram of ``KEY=value`` lines to the Unix socket named by ``$NOTIFY_SOCKET`` (a path,
or ``@name`` for an abstract socket); sd_notify(3). It is a dozen lines, so meshcare writes it itself rather
than depend on a package for it (pypi's ``sdnotify`` has had no release since 2017 and no abstract-socket
or watchdog help; ``systemd-python`` needs libsystemd headers and a C build on the Pi).

Nothing happens when ``$NOTIFY_SOCKET`` is unset (a daemon run by hand, by ``meshcare start``, by tests).
Sending never raises: a service manager that went away must not take the node down with it; the first
failure is logged, the rest are counted silently.

``Notifier.watchdog_interval`` is half of ``$WATCHDOG_USEC`` (when ``$WATCHDOG_PID`` is unset or names us),
the rhythm sd_watchdog_enabled(3) asks for. ``announce`` is the trio task that sends WATCHDOG=1 at that
rhythm: it is an ordinary task in the daemon's nursery, so a blocked event loop stops it, and systemd
restarts a daemon that stopped answering.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from typing import Final

log = logging.getLogger("meshcare.sd_notify")

READY: Final = "READY=1"
WATCHDOG: Final = "WATCHDOG=1"
STOPPING: Final = "STOPPING=1"


def status(words: str) -> str:
    """``STATUS=`` with ``words`` on one line (what ``systemctl status`` shows under the unit)."""
    return "STATUS=" + " ".join(words.split())


def socket_address(value: str) -> str | bytes | None:
    """The address ``$NOTIFY_SOCKET`` names: a path, or ``@name`` for the abstract ``\\0name``; None for
    anything else (empty, relative, or a ``vsock:`` address, which meshcare does not speak)."""
    if value.startswith("@") and len(value) > 1:
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None


def watchdog_interval(env: Mapping[str, str], pid: int) -> float | None:
    """Seconds between WATCHDOG=1 datagrams: half of ``$WATCHDOG_USEC``; None when the watchdog is off
    or meant for another process (``$WATCHDOG_PID``)."""
    owner = env.get("WATCHDOG_PID", "")
    if owner and owner != str(pid):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2_000_000 if usec > 0 else None


class Notifier:
    """Datagrams to the service manager. ``Notifier.from_environment()`` is what the daemon uses."""

    def __init__(self, address: str | bytes | None, watchdog: float | None = None) -> None:
        self.address = address
        self.watchdog_interval = watchdog if address is not None else None
        self.failures = 0

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> "Notifier":
        env = os.environ if env is None else env
        address = socket_address(env.get("NOTIFY_SOCKET", ""))
        return cls(address, watchdog_interval(env, os.getpid()))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        """One datagram of ``lines``; True when it was sent (False when off or it failed)."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(lines).encode(), self.address)
        except OSError as exc:
            self.failures += 1
            if self.failures == 1:
                log.warning("could not tell the service manager %r (%s); carrying on without it",
                            lines[0] if lines else "", exc)
            return False
        return True


async def announce(notifier: Notifier) -> None:
    """The daemon's task for the service manager, started once the node is ready: WATCHDOG=1 every
    ``watchdog_interval`` seconds (or nothing, when the watchdog is off) until cancelled, then STOPPING=1
    as shutdown begins (the cancellation of the daemon's nursery reaches this task first thing)."""
    import trio  # noqa: PLC0415 (the CLI imports this package without trio)

    try:
        interval = notifier.watchdog_interval
        if interval is None or not notifier.enabled:
            await trio.sleep_forever()
        while True:
            notifier.send(WATCHDOG)
            await trio.sleep(interval)
    finally:
        notifier.send(STOPPING, status("stopping"))

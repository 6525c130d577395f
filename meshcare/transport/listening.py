"""Opening the link listener: the port asked for, else the next free one, and errors a person can act on.

Two households on one machine (two data dirs) both default to port 7447: the second daemon should not
die with a traceback, it should take the next free port and say so in one line. Peers find it anyway:
mDNS advertises the port it really listens on, and invite tokens carry it. A port asked for on the
command line (``--listen HOST:PORT``) is different: the person chose it (a firewall rule, a peer
configured with it), so it is used or the daemon stops with one line that says what is in the way;
``tries=1`` says so. A port of 0 takes any free port and never needs another try.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Final

import trio

from ..errors import StartupError

log = logging.getLogger("meshcare.daemon")

#: Ports tried when the one configured (or the default) is in use: it and the next 19.
PORT_TRIES: Final = 20


async def open_listeners(host: str, port: int, *, tries: int = 1) -> list[trio.SocketListener]:
    """Listeners on ``host``:``port`` (``host`` empty: every interface), or on the first free port of
    the ``tries`` from ``port`` up; a move is logged as one line. Raises StartupError naming the problem
    and what to do (port in use, an address not of this machine, no permission)."""
    last = min(port + max(tries, 1), 65536) - 1 if port else 0
    candidate = port
    while True:
        try:
            listeners = await trio.open_tcp_listeners(candidate, host=host or None)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE and candidate < last:
                candidate += 1
                continue
            raise StartupError(describe(exc, host, port, candidate, tries)) from exc
        if candidate != port:
            log.warning("port %d is in use (another meshcare on this machine?); listening on %d instead",
                        port, candidate)
        return listeners


def describe(exc: OSError, host: str, port: int, tried: int, tries: int) -> str:
    """One line for a failed bind of ``host``:``tried`` (``port`` was asked for, ``tries`` ports tried)."""
    where = f"{host or '0.0.0.0'}:{tried}"
    choose = "choose another with --listen HOST:PORT (or `listen` in config.toml)"
    if exc.errno == errno.EADDRINUSE:
        if tries > 1 and tried != port:
            return (f"ports {port} to {tried} on {host or 'this machine'} are all in use (other meshcare "
                    f"daemons on this machine?); stop one, or {choose}")
        hint = "" if tries > 1 else ", or leave --listen out to take the next free port"
        return (f"port {port} on {host or 'this machine'} is in use (another meshcare on this machine?); "
                f"stop what uses it, {choose}{hint}")
    if exc.errno == errno.EACCES:
        return (f"no permission to listen on {where} (ports below 1024 need root); {choose}, with a port "
                "from 1024 up")
    if exc.errno == errno.EADDRNOTAVAIL:
        return (f"{host} is not an address of this machine, so the node cannot listen on {where}; give one "
                "of its addresses, or 0.0.0.0 for all of them (--listen HOST:PORT)")
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {where}: the host {host!r} is unknown here ({exc.strerror}); {choose}"
    return f"cannot listen on {where}: {exc.strerror or exc}; {choose}"

"""What ``meshcare daemon`` runs: lock, store, node, discovery, control socket, signals, in one nursery.

Start-up order matters: the lock first (a second daemon on the same data dir must fail before it
touches anything), then the store, the node's listener, the control socket (readiness: clients can
talk to us), discovery last (peers that find us can already connect). Shutdown is the reverse, and the
mDNS goodbye is shielded so SIGTERM still announces our departure.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any

import trio

from ..ops import Operation
from ..sync.budget import Limits
from ..sync.engine import SyncConfig
from .. import profile
from ..config import Settings
from ..crypto import keystore
from ..crypto.keys import Identity
from ..errors import AlreadyRunning, MeshcareError, StartupError
from .state_file import LocalStateFile
from ..store.sqlite import SqliteStore
from .daemon import Daemon
from .listening import PORT_TRIES
from .notifier import Notifier
from .tor.tor_state import TorOptions

log = logging.getLogger("meshcare.daemon")


@contextmanager
def data_dir_lock(settings: Settings) -> Iterator[None]:
    """Hold an exclusive lock on the data dir for the daemon's lifetime (released by the kernel on crash).
    Raises AlreadyRunning, or StartupError when the data dir cannot be made or written."""
    path = settings.lock_path
    try:
        settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        _tighten(settings.home)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        what = f"{os.path.basename(exc.filename)}: " if exc.filename and os.fspath(exc.filename) != os.fspath(
            settings.home) else ""
        raise StartupError(f"cannot use the data directory {settings.home} ({what}{exc.strerror or exc}); it must "
                           "be a directory you own and can write (or give another with --home or "
                           "MESHCARE_HOME)") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise AlreadyRunning(f"another meshcare daemon (pid {other}) is already running for {settings.home}; "
                                 "stop it first, or give this one its own MESHCARE_HOME") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _tighten(home: os.PathLike[str]) -> None:
    """The data dir holds the key, the store and the control socket: only its owner may enter it. A dir
    made by hand (or by an older meshcare) with 0755 is tightened at start, and the log says so once
    (the next start finds it 0700 and says nothing)."""
    mode = os.stat(home).st_mode & 0o777
    if mode & 0o077:
        os.chmod(home, 0o700)
        log.warning("the data dir %s was open to other users (mode %o); changed it to 0700", home, mode)


async def serve(settings: Settings, identity: Identity, *, config: SyncConfig | None = None,
                bench_ops: bool = False, task_status: trio.TaskStatus[Daemon] = trio.TASK_STATUS_IGNORED) -> None:
    """Run the node until SIGTERM/SIGINT or cancellation. ``task_status.started(daemon)`` when ready."""
    from .control_server import serve_control  # noqa: PLC0415 (the shell's parts, imported where used)

    with data_dir_lock(settings):
        chosen = profile.choose(settings.profile, profile.machine_memory() if settings.profile == profile.AUTO else None)
        store = SqliteStore(settings.store_path, synchronous=settings.store_synchronous, profile=chosen)
        started = False
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve_signals, nursery.cancel_scope)
                if config is None:
                    limits = Limits(author_per_min=settings.author_per_minute, author_burst=2 * settings.author_per_minute)
                    config = SyncConfig(limits=limits)
                state = LocalStateFile(settings.home, identity)
                daemon = Daemon(identity, store, listen=settings.listen, peers=settings.peers, config=config,
                                state=state, extra_ops=_bench_ops() if bench_ops else None,
                                port_tries=1 if settings.listen_fixed else PORT_TRIES,
                                keep_name=partial(keystore.rename, settings.keystore_path),
                                notifier=_notifier(settings, identity), profile=chosen.name,
                                tor=tor_options(settings))
                await nursery.start(daemon.run)
                await nursery.start(serve_control, settings.control_path, daemon)
                if settings.discovery:
                    nursery.start_soon(_discover, daemon, settings)
                started = True
                _tell_service_manager(nursery, daemon, settings)
                log.info("memory profile: %s%s", chosen.name,      # (after start-up: a failure is one line)
                         " (chosen by the machine's memory)" if settings.profile == profile.AUTO else "")
                task_status.started(daemon)
        finally:
            store.close()
            if started:         # a start that failed says why in one line (transport/command.py), nothing more
                log.info("stopped")


def tor_options(settings: Settings) -> TorOptions | None:
    """The daemon's Tor configuration (None without ``--tor``); the onion key from ``onion.key`` in the data
    dir (made on first use, 0600; StartupError when it is unsafe or unreadable, saying what to do)."""
    if not settings.tor:
        return None
    from ..crypto.onion_key import load_or_create  # noqa: PLC0415 (only a node with Tor needs it)

    key = load_or_create(settings.home / "onion.key") if settings.onion_service else None
    return TorOptions(socks=settings.tor_socks, control=settings.tor_control, onion_port=settings.onion_port, key=key)


def _tell_service_manager(nursery: trio.Nursery, daemon: Daemon, settings: Settings) -> None:
    """systemd's Type=notify (meshcare/service/sd_notify.py): READY=1 now that clients can talk to us and
    peers reach the listener, then the watchdog, and STOPPING=1 at shutdown; nothing without $NOTIFY_SOCKET."""
    from ..service import sd_notify  # noqa: PLC0415

    notifier = sd_notify.Notifier.from_environment()
    if notifier.enabled:
        notifier.send(sd_notify.READY, sd_notify.status(
            f"serving: links on port {daemon.port}, control socket {settings.control_path}"))
        nursery.start_soon(sd_notify.announce, notifier)


def _notifier(settings: Settings, identity: Identity) -> Notifier | None:
    """The runner of config.toml's ``notify_command`` (None when there is none)."""
    if not settings.notify.enabled:
        return None
    return Notifier(settings.notify, identity.node_id.hex(), cwd=settings.home)


def _bench_ops() -> Mapping[str, Operation]:
    """The ``topic.*`` ops for tests and benchmarks (``meshcare daemon --bench-ops``)."""
    from ..ops.bench import BENCH_OPS  # noqa: PLC0415 (only a benchmark daemon has them)

    log.warning("serving the benchmark ops (topic.join, topic.publish, topic.ids): for tests only")
    return BENCH_OPS


async def _discover(daemon: Daemon, settings: Settings) -> None:
    """Feed mDNS findings to the node; discovery trouble is logged and retried, never fatal."""
    from .discovery import Discovery  # noqa: PLC0415 (zeroconf is only imported when discovery runs)

    names: dict[str, tuple[str, int]] = {}
    watch = daemon.discovery_watch  # what node.health (meshcare doctor) shows of discovery
    watch.enabled, watch.interfaces = True, tuple(settings.interfaces)
    delay = 2.0
    while True:
        try:
            async with Discovery(daemon.identity.node_id, daemon.port, interfaces=settings.interfaces) as found:
                delay = 2.0
                watch.statistics, watch.last_error = found.statistics, ""
                async for event in found.events:
                    try:
                        _on_discovery(daemon, names, event)
                    except Exception as exc:  # noqa: BLE001 - the backstop: one finding, not the node
                        daemon.faults.report("handling a discovery event", exc, daemon.now())
        except (OSError, MeshcareError) as exc:
            watch.last_error = str(exc)
            log.warning("mDNS discovery unavailable (%s); retrying in %.0f s", exc, delay)
        watch.statistics = None         # not running until the next try
        await trio.sleep(delay)
        delay = min(delay * 2, 60.0)


def _on_discovery(daemon: Daemon, names: dict[str, tuple[str, int]], event: Any) -> None:
    kind = type(event).__name__
    if kind == "Found" and event.addresses:
        key = (event.addresses[0], event.port)
        names[event.name] = key
        daemon.discovered(key, ".".join(event.addresses[0].split(".")[:3]))
    elif kind == "Gone" and event.name in names:
        daemon.lost(names.pop(event.name))


async def serve_signals(cancel: trio.CancelScope) -> None:
    """SIGTERM (systemd) and SIGINT end the daemon cleanly: cancel, let shielded goodbyes run, exit 0."""
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("received %s; shutting down", signal.Signals(signum).name)
            cancel.cancel()
            return

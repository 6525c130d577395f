"""mDNS discovery for the trio daemon: zeroconf's synchronous API kept in its own threads.

Theory of operation
-------------------
The synchronous ``Zeroconf`` runs a private asyncio loop in a daemon thread (``use_asyncio=False`` makes
that explicit, so importing us into an asyncio process changes nothing), and ``ServiceBrowser`` runs one
more thread that calls our handler. No zeroconf code runs on the trio thread:

* blocking calls (construct, register, ``update_interfaces``, close) go through ``trio.to_thread.run_sync``;
* the browser handler resolves a service *in the browser thread* (blocking is allowed there and answers
  usually come from the cache), builds a frozen ``Found`` / ``Gone`` and hands it to trio with
  ``TrioToken.run_sync_soon(send_nowait)``: zeroconf never waits for trio, and when the bounded channel is
  full the event is dropped and counted instead of stalling the browser.

Order matters:

1. Start: ``Zeroconf``, then the browser, *then* registration in a background task. Browsing first lets
   a newcomer see a running mesh in ~0.2 s instead of after its own ~1.7 s probe-and-announce, and the
   consumer of ``events`` never waits for registration. A node with no LAN address yet (a Pi whose Wi-Fi
   comes up after the daemon) browses but registers only once it has an address to advertise, retrying
   with backoff; loopback is never advertised unless configured.
2. Every ``rescan_interval``: when our address set changed, ``update_service()`` with the new A records,
   then ``update_interfaces()`` (sockets for new interfaces, re-announce), then a fresh browser (zeroconf's
   browser stops asking for new services ~14 s after it starts). Services whose resolution timed out
   (a lost packet) are retried then too.
3. Stop (shielded, one worker thread): cancel the browser (no more callbacks), ``unregister_all_services()``
   (the goodbye, TTL 0, so peers see ``Gone`` at once), ``close()``.

Privacy: the advertisement says nothing about the person. The instance name is ``mc-<random hex>`` (fresh
per start, or a random label the daemon keeps for one boot), the host name the same, and the TXT record
holds exactly ``v`` (protocol version), ``port`` and ``inc``. The node id is learned inside the Noise
handshake, never here.

mDNS is a hint, not liveness. A node that vanishes without a goodbye stays in its peers' caches for at
least 1125 s (zeroconf clamps PTR TTLs), so links and heartbeats decide liveness. ``inc`` is a nonce drawn
at every start: a crashed node that comes back under the same label announces a different TXT record, so
every peer gets an update (a ``Found``) instead of silence.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType

import ifaddr
import trio
import zeroconf
from zeroconf import (InterfaceChoice, IPVersion, NonUniqueNameException, ServiceBrowser, ServiceInfo,
                      ServiceStateChange, Zeroconf)

from ..errors import BadInput, DiscoveryUnavailable, LocalProtocolError
from .backstop import Faults
from .discovery_records import (LABEL, SERVICE_TYPE, DiscoveryEvent, DiscoveryStatistics, Found, Gone, addresses_to_advertise,
                                advertised_properties, instance_name, new_instance_label, order_addresses,
                                parse_found)

RESOLVE_TIMEOUT_MS = 2000
EVENT_BUFFER = 256
RESOLVE_RETRIES = 3
# What can go wrong inside zeroconf calls: socket trouble, or zeroconf's own errors (loop blocked or
# stopped, name conflicts). Anything else is a bug and propagates.
_ZEROCONF_FAILURES = (OSError, zeroconf.Error)


def local_ipv4_interfaces() -> list[ipaddress.IPv4Interface]:
    """The host's IPv4 addresses with their prefixes (reads the interfaces; cheap, but not pure)."""
    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if ip.is_IPv4:
                found.append(ipaddress.IPv4Interface(f"{ip.ip}/{ip.network_prefix}"))
    return found


def _check_interfaces(interfaces: Sequence[str]) -> tuple[str, ...]:
    for address in interfaces:
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            raise BadInput(f"discovery interface {address!r} is not an IPv4 address of this host "
                           "(give addresses such as 192.168.1.20, not interface names)") from None
    return tuple(interfaces)


# --- the trio shell -------------------------------------------------------------------------------


class Discovery:
    """Advertise this node and report other meshcare nodes on the LAN, as an async context manager.

    ``async with Discovery(node_id, port) as discovery: async for event in discovery.events: ...``

    ``interfaces``: IPv4 addresses to use (default: every interface, which needs no multicast route).
    ``instance_label``: reuse a label (``new_instance_label()``) across restarts within one boot so that
    peers replace the old records instead of keeping a ghost; default: a fresh one per start.
    ``node_id`` is kept for the caller's logs only; it is never advertised.

    Entering raises ``DiscoveryUnavailable`` when zeroconf cannot start (no such interface address, no
    socket); the caller logs it and retries. Registration runs in the background and is retried on
    failure; ``statistics()`` tells whether it succeeded. Leaving sends the goodbye, even when cancelled,
    and may take up to ~2 s if it coincides with a registration or interface change in progress.
    """

    def __init__(self, node_id: bytes, port: int, *, interfaces: Sequence[str] = (), protocol_version: int = 1,
                 rescan_interval: float = 30.0, instance_label: str | None = None,
                 random_hex: Callable[[int], str] = secrets.token_hex) -> None:
        if not 0 < port <= 0xFFFF:
            raise BadInput(f"discovery port {port} is not a TCP port (1..65535)")
        if rescan_interval <= 0:
            raise BadInput(f"rescan_interval must be positive, not {rescan_interval}")
        if instance_label is not None and not LABEL.fullmatch(instance_label):
            raise BadInput("instance_label must be 8 to 32 lowercase hex digits (use new_instance_label())")
        self.node_id = bytes(node_id)
        self._port = port
        self._interfaces = _check_interfaces(interfaces)
        self._version = protocol_version
        self._rescan_interval = rescan_interval
        self._random_hex = random_hex
        self._label = instance_label or new_instance_label(random_hex)
        self._name = instance_name(self._label)
        self._incarnation = random_hex(4)
        self._info: ServiceInfo | None = None
        self._local: list[ipaddress.IPv4Interface] = []
        self._unresolved: dict[str, int] = {}          # name -> failed attempts (browser + rescan threads)
        self._counts: Counter[str] = Counter()
        self._last_error = ""
        self._lock = threading.Lock()                  # guards _unresolved, _counts, _last_error, _faults
        self._faults = Faults(logging.getLogger("meshcare.discovery"))
        self._browser: ServiceBrowser | None = None
        self._lifecycle_cm: AbstractAsyncContextManager[Discovery] | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._send: trio.MemorySendChannel[DiscoveryEvent] | None = None
        self._receive: trio.MemoryReceiveChannel[DiscoveryEvent] | None = None

    # --- public surface ---

    @property
    def events(self) -> trio.MemoryReceiveChannel[DiscoveryEvent]:
        """``Found`` / ``Gone`` events, in the order zeroconf reported them; closed when discovery stops."""
        if self._receive is None:
            raise RuntimeError("Discovery.events is only available inside 'async with Discovery(...)'")
        return self._receive

    @property
    def instance_name(self) -> str:
        """Our own service instance name (the one we never report)."""
        return self._name

    def statistics(self) -> DiscoveryStatistics:
        """A consistent snapshot of what discovery did so far."""
        with self._lock:
            counts = Counter(self._counts)
            last_error = self._last_error
        info = self._info
        return DiscoveryStatistics(
            instance_name=self._name, incarnation=self._incarnation, registered=info is not None,
            advertised=tuple(info.parsed_addresses()) if info is not None else (),
            found=counts["found"], gone=counts["gone"], dropped=counts["dropped"],
            unresolved=counts["unresolved"], malformed=counts["malformed"],
            register_failures=counts["register_failures"], rescans=counts["rescans"],
            rescan_failures=counts["rescan_failures"], last_error=last_error)

    async def __aenter__(self) -> Discovery:
        if self._lifecycle_cm is not None:
            raise RuntimeError("a Discovery can be entered only once; create a new one to restart")
        self._lifecycle_cm = self._lifecycle()
        return await self._lifecycle_cm.__aenter__()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> bool | None:
        if self._lifecycle_cm is None:
            raise LocalProtocolError("Discovery.__aexit__ without __aenter__")
        return await self._lifecycle_cm.__aexit__(exc_type, exc, tb)

    # --- lifecycle (trio thread) ---

    @asynccontextmanager
    async def _lifecycle(self) -> AsyncIterator[Discovery]:
        """Start, run the maintenance task around the caller's block, and always stop with a goodbye.

        The caller's exception is caught at the ``yield`` and re-raised after the nursery closed, so it
        reaches the caller as itself rather than wrapped in an ``ExceptionGroup``.
        """
        self._token = trio.lowlevel.current_trio_token()
        send, self._receive = trio.open_memory_channel[DiscoveryEvent](EVENT_BUFFER)
        self._send = send
        started = False
        try:
            zc = await self._start()
            started = True
        finally:
            if not started:
                send.close()
        try:
            body_error: BaseException | None = None
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._maintain, zc)
                try:
                    yield self
                except BaseException as exc:  # noqa: BLE001 (re-raised below, not wrapped by the nursery)
                    body_error = exc
                nursery.cancel_scope.cancel()
            if body_error is not None:
                raise body_error
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(self._stop_sync, zc)
            send.close()

    async def _start(self) -> Zeroconf:
        """Create zeroconf and start browsing, in a worker thread; typed error if the host can't do mDNS."""
        try:
            return await trio.to_thread.run_sync(self._start_sync)
        except _ZEROCONF_FAILURES as exc:
            raise DiscoveryUnavailable(
                f"mDNS discovery could not start ({exc}); check that the configured interface addresses "
                "exist and a LAN interface is up. Static peers keep working; discovery will be retried."
            ) from exc

    def _start_sync(self) -> Zeroconf:
        zc = Zeroconf(interfaces=list(self._interfaces) or InterfaceChoice.All, ip_version=IPVersion.V4Only,
                      use_asyncio=False)
        try:
            self._local = local_ipv4_interfaces()
            self._browser = ServiceBrowser(zc, SERVICE_TYPE, handlers=[self._on_state_change])
        except BaseException:
            zc.close()
            raise
        return zc

    def _stop_sync(self, zc: Zeroconf) -> None:
        """Browser first (no more callbacks), then the goodbye, then close: peers see ``Gone`` at once."""
        try:
            if self._browser is not None:
                self._browser.cancel()
            zc.unregister_all_services()
        except _ZEROCONF_FAILURES as exc:
            self._note_error("goodbye", exc)
        finally:
            zc.close()

    # --- registration and rescans (one trio task driving worker threads) ---

    async def _maintain(self, zc: Zeroconf) -> None:
        """Register as soon as there is an address to advertise, then rescan every ``rescan_interval``.

        Until registration succeeds the task retries with backoff (1, 2, 4 ... s, at most the rescan
        interval), which is also how a node that booted without a LAN address gets on the air quickly.
        """
        delay = 1.0
        while True:
            await self._refresh(zc)
            if self._info is None:
                await self._register(zc)
            if self._info is None:
                await trio.sleep(delay)
                delay = min(delay * 2, self._rescan_interval)
            else:
                await trio.sleep(self._rescan_interval)
            if self._unresolved:
                await trio.to_thread.run_sync(self._retry_unresolved_sync, zc)

    async def _register(self, zc: Zeroconf) -> None:
        """One registration attempt (the ~1.7 s probe and announce, in a worker thread)."""
        try:
            await trio.to_thread.run_sync(self._register_sync, zc)
        except NonUniqueNameException as exc:
            # Another responder holds our random label (or our own previous run is still answering): draw anew.
            self._note_error("register", exc)
            self._count("register_failures")
            self._label = new_instance_label(self._random_hex)
            self._name = instance_name(self._label)
        except _ZEROCONF_FAILURES as exc:
            self._note_error("register", exc)
            self._count("register_failures")

    def _register_sync(self, zc: Zeroconf) -> None:
        addresses = addresses_to_advertise(self._interfaces, self._local)
        if not addresses:
            return  # no LAN address yet (Wi-Fi still coming up): try again later
        info = self._service_info(addresses)
        zc.register_service(info, cooperating_responders=True)  # no probing: names are 64-bit random
        self._info = info

    def _service_info(self, addresses: Sequence[str]) -> ServiceInfo:
        return ServiceInfo(SERVICE_TYPE, self._name, port=self._port,
                           properties=advertised_properties(self._version, self._port, self._incarnation),
                           server=f"mc-{self._label}.local.", parsed_addresses=list(addresses))

    async def _refresh(self, zc: Zeroconf) -> None:
        try:
            await trio.to_thread.run_sync(self._refresh_sync, zc)
        except _ZEROCONF_FAILURES as exc:
            self._note_error("rescan", exc)
            self._count("rescan_failures")
        self._count("rescans")

    def _refresh_sync(self, zc: Zeroconf) -> None:
        """Follow address changes: new A records first, then sockets, then a fresh browser.

        The order keeps stale addresses off the air: ``update_interfaces`` re-announces what is registered,
        so the registration must already hold the new addresses. The browser is restarted because
        zeroconf's browser stops asking for new services ~14 s after it starts; a node whose LAN came up
        later would otherwise only learn of peers that happen to announce.
        """
        local = local_ipv4_interfaces()
        changed = set(local) != set(self._local)
        self._local = local
        info = self._info
        if info is not None:
            addresses = addresses_to_advertise(self._interfaces, local)
            if addresses and set(addresses) != set(info.parsed_addresses()):
                updated = self._service_info(addresses)
                zc.update_service(updated)
                self._info = updated
        zc.update_interfaces()
        if changed and self._browser is not None:
            self._browser.cancel()
            self._browser = ServiceBrowser(zc, SERVICE_TYPE, handlers=[self._on_state_change])

    def _retry_unresolved_sync(self, zc: Zeroconf) -> None:
        with self._lock:
            names = list(self._unresolved)
        for name in names:
            self._resolve_and_report(zc, SERVICE_TYPE, name)

    # --- browser callbacks (zeroconf's ServiceBrowser thread) ---

    def _on_state_change(self, zeroconf: Zeroconf, service_type: str, name: str,
                         state_change: ServiceStateChange) -> None:
        try:
            self._state_changed(zeroconf, service_type, name, state_change)
        except Exception as exc:  # noqa: BLE001 - the backstop: one odd announcement never stops discovery
            self._fault("an mDNS browser callback", exc)

    def _fault(self, where: str, exc: Exception) -> None:
        """Log an unexpected error once (then rate-limited) and count it; discovery goes on (any thread)."""
        self._count("callback_errors")
        with self._lock:
            self._faults.report(where, exc, time.monotonic())

    def _state_changed(self, zeroconf: Zeroconf, service_type: str, name: str,
                       state_change: ServiceStateChange) -> None:
        if name.lower() == self._name.lower():
            return  # our own announcement
        if state_change is ServiceStateChange.Removed:
            with self._lock:
                self._unresolved.pop(name, None)
            self._to_trio(Gone(name))
        else:
            self._resolve_and_report(zeroconf, service_type, name)

    def _resolve_and_report(self, zc: Zeroconf, service_type: str, name: str) -> None:
        """Resolve ``name`` (blocking, in a zeroconf or worker thread) and report it; count failures."""
        try:
            info = zc.get_service_info(service_type, name, timeout=RESOLVE_TIMEOUT_MS)
        except _ZEROCONF_FAILURES as exc:
            self._note_error("resolve", exc)
            info = None
        if info is None:
            self._count("unresolved")
            with self._lock:
                attempts = self._unresolved.get(name, 0) + 1
                if attempts > RESOLVE_RETRIES:
                    self._unresolved.pop(name, None)  # a ghost whose records expired: stop asking
                else:
                    self._unresolved[name] = attempts
            return
        with self._lock:
            self._unresolved.pop(name, None)
        try:
            found = parse_found(name, info.decoded_properties, info.port,
                                order_addresses(info.parsed_addresses(IPVersion.V4Only), self._local))
        except ValueError:
            self._count("malformed")
            return
        self._to_trio(found)

    def _to_trio(self, event: DiscoveryEvent) -> None:
        """Hand ``event`` to the trio thread without waiting for it."""
        if self._token is None:
            raise LocalProtocolError("discovery delivered an event before it was started in trio")
        try:
            self._token.run_sync_soon(self._deliver, event)
        except trio.RunFinishedError:
            self._count("dropped")  # trio has exited; nobody is listening any more

    # --- trio thread ---

    def _deliver(self, event: DiscoveryEvent) -> None:
        """Runs via ``run_sync_soon``: an exception here would end the whole trio run, so none escapes."""
        try:
            if self._send is None:
                raise RuntimeError("discovery delivered an event before its channel existed")
            self._send.send_nowait(event)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            self._count("dropped")
            return
        except Exception as exc:  # noqa: BLE001 - the backstop
            self._fault("delivering a discovery event", exc)
            return
        self._count("found" if isinstance(event, Found) else "gone")

    # --- bookkeeping (any thread) ---

    def _count(self, what: str) -> None:
        with self._lock:
            self._counts[what] += 1

    def _note_error(self, during: str, exc: BaseException) -> None:
        with self._lock:
            self._last_error = f"{during}: {type(exc).__name__}: {exc}"

"""The daemon's onion service task: keep the node's onion service published, and keep ``TorState`` true.

Theory of operation
-------------------
One control connection at a time. The service is added on it NOT detached (``add_onion``), so tor drops it
the moment the connection ends: a daemon that dies leaves no service behind, and a restarted tor or a lost
connection simply means "connect again and add it again". The loop::

    connect + authenticate -> bootstrap % -> ADD_ONION (onion_port -> 127.0.0.1:listener) ->
    wait for HS_DESC UPLOADED (published) -> listen on the connection (a closed one shows at once),
    refreshing bootstrap every ``poll`` s

Any ``TorError`` or ``OSError`` on the way marks the state not connected / not published with the reason in
words, and the loop tries again after a backoff (1 s doubling to 60 s, jittered). Nothing here ever stops
the daemon: without tor, LAN links work on and ``status`` says why Tor does not. Without an onion service
(``--no-onion-service``) the same loop only watches the connection and bootstrap, for ``status`` and
``meshcare doctor``. Every change of ``state`` is handed to ``on_change`` (the daemon turns it into the
node's ``TorChanged``). ``newnym`` asks tor for fresh circuits, at most once per 10 s.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Final, NoReturn

import trio

from ...errors import TorError
from ...text import for_log
from .control import TorControl, open_control
from .tor_state import NewnymLimit, TorOptions, TorState

log = logging.getLogger("meshcare.tor")

FIRST_RETRY: Final = 1.0
MAX_RETRY: Final = 60.0
#: How often the connection and bootstrap are checked once up (a closed control connection shows here)
POLL: Final = 10.0
#: How long one wait for the descriptor upload lasts before bootstrap is checked again
PUBLISH_WAIT: Final = 30.0
CONTROL_TIMEOUT: Final = 10.0


class OnionService:
    """Keeps the onion service of ``options.key`` published to ``127.0.0.1:target_port`` (None: no service)."""

    def __init__(self, options: TorOptions, target_port: int | None, on_change: Callable[[TorState], None], *,
                 poll: float = POLL, rng: random.Random | None = None) -> None:
        self.options = options
        self.target_port = target_port
        self.state = TorState.initial(options)
        self._on_change = on_change
        self._poll = poll
        self._rng = rng or random.Random()
        self._control: TorControl | None = None
        self._newnym = NewnymLimit()
        self._nursery: trio.Nursery | None = None
        self.connects = 0           # control connections made (tests, statistics)
        self._was_up = False        # the last session got as far as an authenticated connection

    def _set(self, **changes: object) -> None:
        state = self.state.change(**changes)
        if state != self.state:
            self.state = state
            self._on_change(state)

    async def run(self) -> None:
        """Serve until cancelled; never raises for tor's sake."""
        delay = FIRST_RETRY
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            while True:
                error = await self._session()
                if error is not None:   # (the same trouble again is logged at debug: no line a minute for days)
                    log.log(logging.DEBUG if error == self.state.error else logging.WARNING,
                            "tor: %s; trying again in %.0f s", for_log(error), delay)
                self._set(connected=False, bootstrap=None, published=False, error=error)
                if self._was_up:
                    delay = FIRST_RETRY
                await trio.sleep(delay * (0.75 + 0.5 * self._rng.random()))
                delay = min(delay * 2, MAX_RETRY)

    async def _session(self) -> str | None:
        """One control connection, from connect to its end: the reason it ended, in words."""
        self._was_up = False
        try:
            control = await open_control(self.options.control, timeout=CONTROL_TIMEOUT)
        except (TorError, OSError) as exc:
            return str(exc) if isinstance(exc, TorError) else f"cannot use tor's control port {self.options.control}: {exc}"
        self._control = control
        self.connects += 1
        try:
            self._was_up = True
            bootstrap = await control.bootstrap()
            self._set(connected=True, bootstrap=bootstrap, error=None)
            log.info("tor: connected to %s (bootstrapped %d%%)", self.options.control, bootstrap)
            if self.options.key is not None and self.target_port is not None:
                service_id = await control.add_onion(self.options.key, self.options.onion_port,
                                                     ("127.0.0.1", self.target_port))
                await self._wait_published(control, service_id)
            else:
                await control.set_events("HS_DESC")     # (add_onion subscribes itself): _watch listens to it
            await self._watch(control)
        except (TorError, OSError) as exc:
            return f"the control connection to tor ended: {exc}"
        finally:
            self._control = None
            with trio.CancelScope(shield=True), trio.move_on_after(CONTROL_TIMEOUT):
                await control.aclose()

    async def _watch(self, control: TorControl) -> NoReturn:
        """Until the connection ends (raises TorError then): listen on it, so a closed connection (tor
        stopped or restarted) shows at once, and refresh bootstrap every ``poll`` seconds."""
        while True:
            try:
                await control.wait_event("HS_DESC", lambda event: False, timeout=self._poll)
            except TorError:
                if control.closed:
                    raise
            self._set(bootstrap=await control.bootstrap())

    async def _wait_published(self, control: TorControl, service_id: str) -> None:
        """Until tor says it uploaded the descriptor; meanwhile bootstrap stays current (tor publishes
        only once it has bootstrapped)."""
        while True:
            try:
                await control.wait_published(service_id, timeout=PUBLISH_WAIT)
            except TorError:
                if control.closed:
                    raise
                bootstrap = await control.bootstrap()
                self._set(bootstrap=bootstrap, error=None if bootstrap < 100 else
                          f"tor has not published the onion service after {PUBLISH_WAIT:.0f} s; still trying")
                continue
            self._set(published=True, error=None)
            log.info("tor: onion service published: %s", self.state.onion)
            return

    def newnym(self, now: float) -> None:
        """Ask tor for fresh circuits (after a failed onion dial), at most once per 10 s; quietly nothing
        while there is no control connection."""
        control, nursery = self._control, self._nursery
        if control is None or nursery is None or not self._newnym.allow(now):
            return

        async def send() -> None:
            try:
                await control.newnym()
            except (TorError, OSError) as exc:
                log.info("tor: NEWNYM failed: %s", for_log(str(exc)))
        nursery.start_soon(send)

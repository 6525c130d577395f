"""The daemon's Tor side: the onion listener, onion dials, and what tor's state tells the node.

Why it is apart from ``daemon.py``: the daemon only runs links; whether a link came over Tor, how an onion is
dialled and what tor's state means for the node are this module's. The daemon calls it at five points:

- ``open`` (before ``Started``): with ``--tor`` and an onion key, the onion listener on 127.0.0.1, any free
  port; tor maps the onion service's port to it, so every link accepted there came over Tor (via "onion").
  They all come from 127.0.0.1, so they pass an admission bucket of their own (``ONION_ADMISSION``).
- ``start`` (after ``Started``): tells the node tor's state as it is (``TorChanged``), then runs the onion
  service task (``onion_service.py``), whose every change becomes a ``TorChanged`` when what the node hears
  changes.
- ``dial``: a Connect to a ``.onion`` host through tor's SOCKS port (``onion_dial.py``: its own timeout, a
  fresh SOCKS username per attempt); a failure asks tor for NEWNYM (rate-limited), as ``stalled`` does for a
  handshake that stalls on an onion link: a stuck rendezvous circuit otherwise blocks every new stream.
- ``binding``: what a dialler's handshake names over Tor (its onion key and the port peers dial it on).
- ``status``: the ``tor`` map of ``status`` and ``node.health``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

import trio

from ...control.views_doctor import TorStatus
from ...crypto.onion_key import OnionKey
from ...node_events import TorChanged
from ..admission import Admission, AdmissionLimits
from ..listening import open_listeners
from .onion_dial import open_onion
from .onion_service import OnionService
from .tor_state import TorOptions, TorState

Address = tuple[str, int]

#: Links accepted on the onion listener all come from 127.0.0.1 (tor): their own admission bucket, one source
ONION_ADMISSION: Final = AdmissionLimits(max_handshakes=32, per_source=32)


class OnionLinks:
    """This daemon's links through Tor (``options`` None: no Tor at all; an onion dial then fails at once).

    ``tell``: hands the node a ``TorChanged``. ``room``: (links now, the most links the node wants), for
    admission. ``serve``: runs a link accepted on the onion listener, with the admission slot it holds.
    """

    def __init__(self, options: TorOptions | None, tell: Callable[[TorChanged], None],
                 room: Callable[[], tuple[int, int]],
                 serve: Callable[[trio.SocketStream, str], Awaitable[None]]) -> None:
        self.options = options
        self.admission = Admission(ONION_ADMISSION)
        self.listen_port: int | None = None     # the loopback port tor maps the onion service to
        self.service: OnionService | None = None
        self._tell = tell
        self._room = room
        self._serve = serve
        self._told: tuple[bool, str | None] | None = None   # the last TorChanged the node heard

    async def open(self, nursery: trio.Nursery) -> None:
        """With ``--tor``: the onion listener (when there is an onion key) and the service task's object."""
        if self.options is None:
            return
        if self.options.key is not None:
            listeners = await nursery.start(self._listen)
            self.listen_port = listeners[0].socket.getsockname()[1]
        self.service = OnionService(self.options, self.listen_port, self._changed)

    def start(self, nursery: trio.Nursery) -> None:
        """Once the node has started: tell it tor's state, then keep the onion service published."""
        if self.service is not None:
            self._changed(self.service.state)
            nursery.start_soon(self.service.run)

    async def _listen(self, *, task_status: trio.TaskStatus[list[trio.SocketListener]]
                      = trio.TASK_STATUS_IGNORED) -> None:
        """The onion service's own listener (127.0.0.1, any free port): what arrives here came over Tor."""
        listeners = await open_listeners("127.0.0.1", 0)
        await trio.serve_listeners(self._accepted, listeners, task_status=task_status)

    async def _accepted(self, stream: trio.SocketStream) -> None:
        links, max_links = self._room()
        source = self.admission.enter("onion", links, max_links)
        if source is None:
            await trio.aclose_forcefully(stream)
            return
        await self._serve(stream, source)

    async def dial(self, key: Address, now: float) -> tuple[trio.abc.Stream | None, str]:
        """A stream to the onion ``key`` through tor; or None and why not, in words (a NEWNYM is asked)."""
        stream, reason = await open_onion(self.options, key)
        if stream is None:
            self.stalled(now)       # a stuck circuit: fresh ones for the next try
        return stream, reason

    def stalled(self, now: float) -> None:
        """An onion dial or handshake failed: ask tor for fresh circuits (at most once per 10 s)."""
        if self.service is not None:
            self.service.newnym(now)

    def binding(self, initiator: bool, port: int) -> tuple[OnionKey | None, int]:
        """What a handshake on an onion link names: a dialler with an onion service names its onion key and
        the port peers dial it on (the listener learns where it is reachable, which 127.0.0.1 cannot tell it);
        otherwise no key and ``port``, the daemon's own listening port."""
        if initiator and self.options is not None and self.options.key is not None:
            return self.options.key, self.options.onion_port
        return None, port

    def status(self) -> TorStatus | None:
        """The ``tor`` map of ``status`` and ``node.health`` (None without ``--tor``)."""
        return self.service.state.view() if self.service is not None else None

    def _changed(self, state: TorState) -> None:
        """The onion service task's TorState changed: tell the node when what it hears changes."""
        told = state.node_view()
        if told != self._told:
            self._told = told
            self._tell(TorChanged(*told))

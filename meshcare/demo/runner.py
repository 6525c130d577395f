"""Runs the demo's script against the real nodes: one reader thread per node, one loop that acts.

Theory of operation
-------------------
Each node watched (Bo's and Chloe's, for the script; the person's, for the narrator) has a reader
thread: a blocking control client (``meshcare.client``) subscribed to that node's events, which puts
``(who, event)`` on one queue. ``Director.run`` is the only place that waits: it takes events from the
queue until the script's next deadline (or the end), hands each to the script and the narrator, and
sends the acts that are due, each over a fresh connection to the neighbour's own node. A refused act
(someone else took the call first, the call was resolved) is told as a line and the demo goes on.

A reader ends when its daemon closes the connection, which is how the demo stops them: it ends the
daemons (``DemoNodes.close``), then joins the readers. They are daemon threads, so even a reader
stuck on a dying node never keeps the process alive.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

from ..client import ControlClient
from ..control.api import read_event
from ..control.events import Event
from ..errors import MeshcareError, RequestFailed
from .narrate import Narrator
from .nodes import NAMES, YOU, DemoNodes, ask
from .script import Act, Script

#: Longest wait for an event before the loop looks at the clock and the stop flag again.
_TICK = 0.25


class Director:
    """The reader threads and the acting loop of one demo."""

    def __init__(self, nodes: DemoNodes, script: Script, *, narrator: Narrator | None = None,
                 say: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic) -> None:
        self.nodes = nodes
        self.script = script
        self.narrator = narrator
        self.say = say
        self.clock = clock
        self._events: queue.Queue[tuple[str, Event | None]] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._subscribed = threading.Semaphore(0)

    def start(self, timeout: float = 10.0) -> None:
        """Subscribe to the nodes (the script's neighbours; the person's too when narrating) and return
        once every reader is subscribed, so no event of the demo is missed."""
        watched = [key for key in self.nodes.nodes if key in self.script.ids]
        if self.narrator is not None:
            watched.append(YOU)
        for key in watched:
            thread = threading.Thread(target=self._read, args=(key,), name=f"demo-reader-{key}", daemon=True)
            thread.start()
            self._threads.append(thread)
        for _ in watched:
            if not self._subscribed.acquire(timeout=timeout):
                raise MeshcareError("the demo could not follow the events of its nodes")

    def _read(self, key: str) -> None:
        try:
            with ControlClient.connect(self.nodes.nodes[key].settings.control_path) as client:
                client.subscribe()
                self._subscribed.release()
                for message in client.events():
                    event = read_event(message.name, message.data)
                    if event is not None:
                        self._events.put((key, event))
        except MeshcareError:
            pass  # the node ended (the demo is stopping) or answered nonsense: this reader is done
        finally:
            self._events.put((key, None))

    def run(self, *, until: float | None = None, stop: threading.Event | None = None) -> None:
        """Act and narrate until ``until`` (on the clock), ``stop`` is set, or forever."""
        while (stop is None or not stop.is_set()) and (until is None or self.clock() < until):
            now = self.clock()
            deadlines = [d for d in (self.script.next_deadline(), until) if d is not None]
            wait = max(0.0, min([now + _TICK, *deadlines]) - now)
            try:
                who, event = self._events.get(timeout=wait)
            except queue.Empty:
                pass
            else:
                if event is not None:
                    self._on_event(who, event)
            for act in self.script.due(self.clock()):
                self._perform(act)

    def _on_event(self, who: str, event: Event) -> None:
        if who == YOU:
            if self.narrator is not None:
                for line in self.narrator.on_event(event):
                    self.say(line)
        else:
            self.script.on_event(who, event, self.clock())

    def _perform(self, act: Act) -> None:
        try:
            ask(self.nodes.nodes[act.who].settings, act.request)
        except RequestFailed as exc:
            self.say(f"({NAMES[act.who]} could not {act.what}: {exc.message})")
        except MeshcareError as exc:
            self.say(f"({NAMES[act.who]}'s node did not answer: {exc})")

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the readers to end (call after the daemons were ended)."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

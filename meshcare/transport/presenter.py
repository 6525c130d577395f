"""The node's facts turned into the events subscribers get, one at a time, in a task of their own.

Each event carries a view (a call's, a member's) that costs 0.1-0.2 ms to build, and a change summary
that gathered a hundred changed calls (a burst of receipts) built them all inside one timer round:
13-36 ms in which no link or client was served (docs/benchmarks.md, section 11). Facts wait here, after
the write they announce, and ``run`` presents them with a checkpoint between each; a view is built when
its event goes out, so it shows the state then. A bug presenting one fact loses that event only. When
more than ``limit`` facts wait, the subscriptions are ended (a client resubscribes and asks for a
snapshot) rather than facts held without bound.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Final

import trio

from ..circles.changes import Fact

log = logging.getLogger("meshcare.daemon")

LIMIT: Final = 10_000


class Presenter:
    def __init__(self, present: Callable[[Fact], None], overflow: Callable[[], None],
                 fault: Callable[[BaseException], object], limit: int = LIMIT) -> None:
        self._present, self._overflow, self._fault, self.limit = present, overflow, fault, limit
        self.waiting: deque[Fact] = deque()
        self._wake = trio.Event()

    def add(self, facts: list[Fact]) -> None:
        """Facts whose writes are committed."""
        self.waiting.extend(facts)
        if len(self.waiting) > self.limit:
            log.warning("%d facts waiting to be presented: ending the event subscriptions", len(self.waiting))
            self.waiting.clear()
            self._overflow()
        if self.waiting:
            self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            while self.waiting:
                fact = self.waiting.popleft()
                try:
                    self._present(fact)
                except Exception as exc:  # noqa: BLE001 - a bug presenting one fact loses that event only
                    self._fault(exc)
                await trio.lowlevel.checkpoint()

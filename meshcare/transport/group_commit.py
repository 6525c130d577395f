"""Ops that are ready together write together: one transaction and one fsync for a burst of requests.

The first op of a round lets the others that are ready run (a shielded checkpoint: a cancel never skips
the write), then calls ``commit`` for all of them; the others wait for that round. A failed write fails
every op of the round, with the same exception. The daemon keeps the promises around it: a link writer
commits whatever is pending before it sends, and events wait for the write they announce
(transport/daemon.py, ``_commit``).
"""

from __future__ import annotations

from collections.abc import Callable

import trio


class _Round:
    def __init__(self) -> None:
        self.done = trio.Event()
        self.error: Exception | None = None


class GroupCommit:
    """``await join()`` after an op's effects: returns once its writes (and its round's) are committed."""

    def __init__(self, commit: Callable[[], None]) -> None:
        self._commit = commit
        self._round: _Round | None = None

    async def join(self) -> None:
        round_ = self._round
        if round_ is not None:
            await round_.done.wait()
            if round_.error is not None:
                raise round_.error
            return
        round_ = self._round = _Round()
        try:
            await trio.lowlevel.cancel_shielded_checkpoint()   # the others run; a cancel never skips the write
        finally:
            self._round = None
            try:
                self._commit()
            except Exception as exc:
                round_.error = exc
                raise
            finally:
                round_.done.set()

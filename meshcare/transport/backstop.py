"""The shell's backstop: a bug met while serving one link or one duty never ends the node.

Theory of operation
-------------------
The core raises ``RemoteProtocolError`` for a peer's fault and ``LocalProtocolError`` for our own; the
shell closes the link for the first and, for the second, would rather crash loudly. But a node that a
crafted packet or one bad envelope can stop is a node an attacker can keep offline, and the people in a
circle lose their calls for support. So every per-link task and every discovery callback catches
``Exception`` (never ``BaseException``: trio's ``Cancelled`` and ``KeyboardInterrupt`` must pass) at one
place, hands it to ``Faults.report``, and then closes only that link. The node's own timer and duty
paths are isolated inside the pure ``Node`` (node.py), which postpones the failing path and hands the
exception out as a ``Fault`` effect; the daemon reports it here.

``Faults`` logs a fault with its traceback the first time it is seen (a fault is where it happened, the
exception type and its first line), then only a one-line count at most once per ``repeat_interval``:
the same bug firing on every timer tick must not fill the disk; ``count`` feeds the ``internal_errors``
statistic. It also hands out a backoff per place (1 s doubling to 5 minutes, reset by ``ok``), which
the daemon's timer loop waits out should the node's timers themselves fail. Time is an argument.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from typing import Final

from ..text import for_log, for_terminal

BACKOFF_START: Final = 1.0
BACKOFF_MAX: Final = 300.0
REPEAT_INTERVAL: Final = 3600.0
_MAX_KINDS: Final = 1024   # distinct faults remembered; past it the oldest is forgotten
_MAX_TRACE: Final = 16_000  # characters of one traceback in the log


@dataclass(slots=True)
class _Seen:
    first: float
    last_logged: float
    suppressed: int = 0


class Faults:
    """Rate-limited reports of unexpected exceptions, and per-place retry backoff."""

    def __init__(self, log: logging.Logger, repeat_interval: float = REPEAT_INTERVAL) -> None:
        self._log = log
        self._repeat = repeat_interval
        self._seen: dict[tuple[str, str, str], _Seen] = {}
        self._backoff: dict[str, float] = {}
        self.count = 0  # every report, for statistics

    def report(self, where: str, exc: BaseException, now: float) -> float:
        """Log ``exc`` met at ``where`` (traceback once, then a rate-limited count); return how long to
        wait before trying ``where`` again."""
        self.count += 1
        first_line = (str(exc).splitlines() or [""])[0]
        key = (where, type(exc).__name__, for_log(first_line, 120))
        seen = self._seen.get(key)
        if seen is None:
            if len(self._seen) >= _MAX_KINDS:
                del self._seen[next(iter(self._seen))]
            self._seen[key] = _Seen(now, now)
            self._log.error("unexpected error in %s (the node keeps running): %s: %s\n%s", where, key[1], key[2],
                            _traceback(exc))
        else:
            seen.suppressed += 1
            if now - seen.last_logged >= self._repeat:
                self._log.error("unexpected error in %s again, %d times since it was first logged: %s: %s",
                                where, seen.suppressed, key[1], key[2])
                seen.last_logged = now
                seen.suppressed = 0
        delay = min(BACKOFF_MAX, self._backoff.get(where, BACKOFF_START / 2) * 2)
        self._backoff[where] = delay
        return delay

    def ok(self, where: str) -> None:
        """``where`` worked again: the next fault there starts from the shortest backoff."""
        self._backoff.pop(where, None)


def _traceback(exc: BaseException) -> str:
    """The traceback, with every control character but the newline escaped and its length bounded:
    an exception's message may quote what a peer sent, and must not drive a terminal tailing the log."""
    text = "".join(traceback.format_exception(exc)).rstrip()
    return for_terminal(text, _MAX_TRACE)

"""Care notices that come due by the clock: a safety timer gone silent, a follow-up check-in to do. Pure.

Theory of operation
-------------------
``changes.py`` asks ``Alarms.check(circle, view, now)`` for a circle whenever it summarizes it and
whenever the circle's earliest alarm time (``due``) has come; ``due`` is one of its ``next_time``
deadlines, as a presence's ``until`` is. Each alarm is told once per node run:

* ``safety_overdue``, only on a **facilitator's** node (the roster's role now), for a running timer of
  someone else that ``safety.is_overdue`` says is overdue: once per silence (a new "I'm OK" starts a new
  one, which may be told again). The timer fold already ignores one sealed to a non-facilitator, and a
  timer is sealed to facilitators only, so nobody else's node holds one to alarm about.
* ``followup_due``, only on the node of the follow-up's ``who``: once for the first check-in, once for
  the second (``followups.due_now``).

At start every circle is checked once (``reset``), so an alarm that came due while the node was off is
told then. The notices carry the person's id and name, the circle, and the timer's or call's id
(``about``), nothing the person wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ..ids import TopicId
from . import followups as fu
from . import safety as sf
from .circle import Circle

#: Alarms told and remembered (the oldest forgotten first: a node runs for months).
REMEMBER: Final = 4096


class Alarms:
    """What this node has told and when it next needs to look (module docstring)."""

    def __init__(self, me: bytes) -> None:
        self.me = me
        self._told: dict[tuple[str, bytes, int], None] = {}
        self._due: dict[TopicId, int] = {}

    def reset(self, topic: TopicId) -> None:
        """Look at ``topic`` at the next chance (a circle taken as it is at start)."""
        self._due[topic] = 0

    def forget(self, topic: TopicId) -> None:
        self._due.pop(topic, None)

    def due(self) -> int | None:
        """The earliest time some circle has an alarm to tell (may be in the past)."""
        return min(self._due.values(), default=None)

    def due_at(self, now: int) -> list[TopicId]:
        """Circles with an alarm due at ``now``."""
        return [topic for topic, at in self._due.items() if at <= now]

    def check(self, circle: Circle, safety: Mapping[bytes, sf.TimerState],
              followups: Mapping[bytes, fu.FollowupState], now: int) -> list[tuple[str, bytes, bytes]]:
        """The alarms of ``circle`` due at ``now`` and not yet told: (kind, member, about) each; the
        circle's next alarm time is remembered for ``due``."""
        out: list[tuple[str, bytes, bytes]] = []
        later: list[int] = []
        if self.me in circle.roster.facilitators:
            for timer_id, timer in safety.items():
                at = sf.overdue_at(timer)
                if at is None or timer.person == self.me or ("safety", timer_id, timer.last) in self._told:
                    continue
                if at <= now:
                    self._tell(("safety", timer_id, timer.last))
                    out.append(("safety_overdue", timer.person, timer_id))
                else:
                    later.append(at)
        for call_id, state in followups.items():
            at = fu.next_due(state)
            if state.who != self.me or at is None:
                continue
            key = ("followup", state.id, int(state.done_at is not None))
            if key in self._told:
                continue
            if at <= now:
                self._tell(key)
                out.append(("followup_due", state.asker, call_id))
            else:
                later.append(at)
        if later:
            self._due[circle.topic] = min(later)
        else:
            self._due.pop(circle.topic, None)
        return out

    def _tell(self, key: tuple[str, bytes, int]) -> None:
        self._told[key] = None
        if len(self._told) > REMEMBER:
            del self._told[next(iter(self._told))]

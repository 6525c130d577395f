"""What the terminal UI keeps of follow-ups, safety timers and this person's load. Pure.

These are not in the snapshot: the app reads them with their list ops (``followup.list``,
``safety.list``, ``me.load``) after every snapshot and whenever a ``care.changed`` event or a care
notice names them (``Model`` collects those names in ``stale``; the app asks, then ``set_*``). A timer's
countdown is computed here from its ``next_ok_at`` and the clock the app passes in, so the screen
redraws it every second without asking the daemon anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..control.results_care import LoadResult
from ..control.views import Followup, Timer

#: The care objects the TUI reads (``vocab.CARE_OBJECTS`` names), and the list op behind each.
READS = ("followups", "safety")


@dataclass(slots=True)
class CareState:
    """The follow-ups, timers and load this person's node showed last."""

    followups: dict[str, Followup] = field(default_factory=dict)
    timers: dict[str, Timer] = field(default_factory=dict)
    load: LoadResult | None = None
    #: care objects changed since they were last read (the app reads them again)
    stale: set[str] = field(default_factory=lambda: set(READS))

    def set_followups(self, followups: Iterable[Followup]) -> None:
        self.followups = {f.call: f for f in followups}
        self.stale.discard("followups")

    def set_timers(self, timers: Iterable[Timer]) -> None:
        self.timers = {t.id: t for t in timers}
        self.stale.discard("safety")

    def take_stale(self) -> set[str]:
        """The care objects to read again now (each handed out once)."""
        out, self.stale = self.stale & set(READS), set()
        return out

    def todo(self) -> list[Followup]:
        """Check-ins this person does that are due now and not done."""
        return sorted((f for f in self.followups.values() if f.mine and f.todo is not None), key=lambda f: f.due)

    def my_timer(self) -> Timer | None:
        """This person's running timer (the latest, if several)."""
        mine = [t for t in self.timers.values() if t.mine and t.ended_at is None]
        return max(mine, key=lambda t: t.started) if mine else None

    def overdue(self) -> list[Timer]:
        """Others' running timers gone silent (a facilitator's view)."""
        return [t for t in self.timers.values() if not t.mine and t.ended_at is None and t.overdue]

    def followup_for(self, call: str) -> Followup | None:
        return self.followups.get(call)


def countdown(timer: Timer, now: float) -> int:
    """Seconds until ``timer``'s next "I'm OK" is due (negative: late)."""
    return int((timer.next_ok_at if timer.next_ok_at is not None else now) - now)


def countdown_words(timer: Timer, now: float) -> str:
    """"next "I'm OK" in 9:30", or "I'm OK was due 2 min ago": words, never colour alone."""
    left = countdown(timer, now)
    if left >= 0:
        return f"next \"I'm OK\" in {left // 60}:{left % 60:02d}"
    late = -left
    return f"\"I'm OK\" was due {late // 60} min ago: press o"

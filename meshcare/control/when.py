"""Local-time moments the clients compute for care: "tomorrow morning" for a follow-up, "until tomorrow
08:00" for "take me off for tonight". Pure (``now`` is an argument; the local time zone is the
machine's, as the person reads their clock): the daemon only ever sees the unix times."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

__all__ = ["next_hour", "tomorrow_morning"]


def next_hour(now: float, hour: int, tz: tzinfo | None = None) -> int:
    """Unix seconds of the next local ``hour``:00 strictly after ``now`` (today or tomorrow); ``tz``
    None: this computer's time zone."""
    start = datetime.fromtimestamp(now, tz)
    target = start.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target.timestamp() <= now:
        target += timedelta(days=1)
    return int(target.timestamp())


def tomorrow_morning(now: float, hour: int, at_least_h: int = 6, tz: tzinfo | None = None) -> int:
    """The next local ``hour``:00 at least ``at_least_h`` hours away: after a night's sleep, whether the
    call ended at 23:00 or at 02:00."""
    due = next_hour(now, hour, tz)
    while due - now < at_least_h * 3600:
        due = next_hour(due, hour, tz)
    return due

"""The notification settings of config.toml, read once and checked with messages a person can act on. Pure.

::

    notify_command = "/home/pi/bin/meshcare-led"      # or a list: ["aplay", "-q", "/home/pi/bell.wav"]
    notify_content = "hidden"                         # "hidden" (default) | "name" | "full"
    quiet_hours = "23:00-07:00"                       # local time; may wrap midnight
    notify_timeout = 10                               # seconds before a command that hangs is stopped

A string command is split like a shell would split words (``shlex``), but no shell runs it: no pipes,
no ``$VAR``, no globbing (write a small script for those). A leading ``~`` is the daemon user's home.

Why ``hidden`` is the default: a notification shows up where other people may see it (a lock screen, a
shared living room, a log), so by default it says only that something happened and where ("New call in
Elm St (now)"), never who or what they wrote. ``name`` adds who; ``full`` adds their own words too.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..errors import ConfigError

#: How much a notification shows: only the circle and urgency; also who; also what they wrote.
CONTENT_LEVELS: Final = ("hidden", "name", "full")
DEFAULT_CONTENT: Final = "hidden"
DEFAULT_TIMEOUT: Final = 10.0
MAX_TIMEOUT: Final = 300.0
#: The config.toml keys this module reads.
KEYS: Final = ("notify_command", "notify_content", "quiet_hours", "notify_timeout")
DAY_MINUTES: Final = 24 * 60

_CLOCK: Final = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A span of local clock time, ``start`` included, ``end`` excluded, in minutes after midnight; it
    wraps midnight when ``start`` is later than ``end`` (23:00-07:00)."""

    start: int
    end: int

    def covers(self, minute: int) -> bool:
        """Whether the clock time ``minute`` (minutes after local midnight) is inside the quiet hours."""
        m = minute % DAY_MINUTES
        if self.start < self.end:
            return self.start <= m < self.end
        return m >= self.start or m < self.end

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """What the daemon runs for a notification, how much it shows, and when it keeps quiet.

    ``command`` empty: notifications are off (the default)."""

    command: tuple[str, ...] = ()
    content: str = DEFAULT_CONTENT
    quiet_hours: QuietHours | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def enabled(self) -> bool:
        return bool(self.command)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_clock(text: str) -> int:
    """``HH:MM`` (24-hour, ``24:00`` is midnight) -> minutes after midnight. Raises ConfigError."""
    match = _CLOCK.match(text)
    if match is None:
        raise ConfigError(f"{text.strip()!r} is not a time of day; write it as HH:MM, e.g. 23:00")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ConfigError(f"{text.strip()!r} is not a time of day; hours go from 00 to 23, minutes from 00 to 59")
    return (hours * 60 + minutes) % DAY_MINUTES


def parse_quiet_hours(text: str) -> QuietHours:
    """``"23:00-07:00"`` -> QuietHours. Raises ConfigError naming what to write instead."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ConfigError(f"quiet_hours {text!r} needs a start and an end, e.g. \"23:00-07:00\"")
    try:
        span = QuietHours(parse_clock(start), parse_clock(end))
    except ConfigError as exc:
        raise ConfigError(f"quiet_hours {text!r}: {exc}") from None
    if span.start == span.end:
        raise ConfigError(f"quiet_hours {text!r} starts and ends at the same time; write the span to keep "
                          "quiet, e.g. \"23:00-07:00\", or leave quiet_hours out")
    return span


def parse_command(value: Any) -> tuple[str, ...]:
    """A command as config.toml gives it (a string split into words, or a list of strings) -> argv.
    Raises ConfigError for anything else, or an empty command."""
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ConfigError(f"notify_command {value!r} cannot be split into words ({exc}); check its "
                              "quotes, or write it as a list of strings") from None
    elif isinstance(value, list) and all(isinstance(word, str) for word in value):
        argv = list(value)
    else:
        raise ConfigError("notify_command must be a string (\"/path/to/script --flag\") or a list of strings")
    if not argv or not argv[0].strip():
        raise ConfigError("notify_command is empty; name the program to run, or leave notify_command out")
    if any("\0" in word for word in argv):
        raise ConfigError("notify_command holds a NUL character")
    return (os.path.expanduser(argv[0]), *argv[1:])


def from_mapping(data: Mapping[str, Any]) -> NotifySettings:
    """The notification settings among config.toml's parsed keys (others are ignored here). Raises
    ConfigError naming the bad key."""
    command: tuple[str, ...] = ()
    content = DEFAULT_CONTENT
    quiet: QuietHours | None = None
    timeout = DEFAULT_TIMEOUT
    if "notify_command" in data:
        command = parse_command(data["notify_command"])
    if "notify_content" in data:
        value = data["notify_content"]
        if not isinstance(value, str) or value.strip().lower() not in CONTENT_LEVELS:
            raise ConfigError(f"notify_content must be \"hidden\" (circle and urgency only), \"name\" (also "
                              f"who) or \"full\" (also what they wrote), not {value!r}")
        content = value.strip().lower()
    if "quiet_hours" in data:
        value = data["quiet_hours"]
        if not isinstance(value, str):
            raise ConfigError("quiet_hours must be a string like \"23:00-07:00\"")
        quiet = parse_quiet_hours(value)
    if "notify_timeout" in data:
        value = data["notify_timeout"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:
            raise ConfigError(f"notify_timeout must be a number of seconds, more than 0 and at most {MAX_TIMEOUT:g}")
        timeout = float(value)
    return NotifySettings(command=command, content=content, quiet_hours=quiet, timeout=timeout)

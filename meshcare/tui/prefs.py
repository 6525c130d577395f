"""The terminal UI's own preferences (theme, bell), kept in ``tui.toml`` in the data directory.

Why a file of its own and not config.toml: config.toml is the node's (the daemon reads it and refuses
keys it does not know), while these are one person's taste for one screen. Loaded once at start and
passed into the app; saved when the person changes them on the settings screen. A damaged or unknown
value falls back to the default instead of stopping the UI: a theme is never worth a crash at 3 a.m.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from ..errors import ConfigError

#: The file, in the data directory.
PREFS_FILE: Final = "tui.toml"
#: Themes the settings screen offers (registered in ``themes.py``).
THEMES: Final = ("meshcare", "meshcare-light", "high-contrast", "colour-blind-safe")


@dataclass(frozen=True, slots=True)
class Prefs:
    """One person's preferences for the terminal UI."""

    theme: str = "meshcare"
    bell: bool = True

    def with_(self, **changes: Any) -> Prefs:
        return replace(self, **changes)

    def to_toml(self) -> str:
        return (f"# meshcare terminal UI preferences (the settings screen writes this file)\n"
                f"theme = \"{self.theme}\"\nbell = {'true' if self.bell else 'false'}\n")


def from_mapping(data: dict[str, Any]) -> Prefs:
    """Preferences from parsed TOML; values that do not fit take the default."""
    prefs = Prefs()
    theme = data.get("theme")
    if isinstance(theme, str) and theme in THEMES:
        prefs = prefs.with_(theme=theme)
    bell = data.get("bell")
    if isinstance(bell, bool):
        prefs = prefs.with_(bell=bell)
    return prefs


def load(home: Path) -> Prefs:
    """The preferences saved in ``home`` (defaults when there are none or the file is damaged)."""
    try:
        return from_mapping(tomllib.loads((home / PREFS_FILE).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return Prefs()


def save(home: Path, prefs: Prefs) -> None:
    """Write ``prefs`` to ``home``/tui.toml (mode 0600, replaced atomically). Raises ConfigError."""
    path = home / PREFS_FILE
    tmp = path.with_name(f".{PREFS_FILE}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(prefs.to_toml())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"could not save the preferences in {home / PREFS_FILE}: {exc.strerror or exc}") from None

"""The person's own contacts outside meshcare: free lines (a crisis line, a friend), kept on this computer only.

meshcare is not an emergency service and never contacts anyone outside a circle; the first-run setup
says so and offers a place for the people and numbers the person would reach for themselves. They live
in ``<home>/outside-contacts.txt``, mode 0600, one per line, replaced atomically, and are never sent to
anyone: no op, event or envelope carries them (the terminal UI shows them on its help screen).

Pure: only ``os`` and files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import BadInput
from .files import replace_private

FILE_NAME = "outside-contacts.txt"
#: Bounds that keep the file a short list a screen can show (and a slip of the keyboard small).
MAX_LINES = 40
MAX_LINE = 300


def path(home: Path) -> Path:
    """Where the contacts of the node in ``home`` are kept."""
    return home / FILE_NAME


def clean(lines: Iterable[str]) -> list[str]:
    """The lines as they are kept: each stripped, empty ones dropped, control characters (tabs included)
    replaced by spaces. Raises BadInput past ``MAX_LINES`` lines or ``MAX_LINE`` characters in one."""
    kept: list[str] = []
    for line in lines:
        text = "".join(ch if ch.isprintable() else " " for ch in line).strip()
        if not text:
            continue
        if len(text) > MAX_LINE:
            raise BadInput(f"one line of your outside contacts is longer than {MAX_LINE} characters: "
                           f"{text[:40]}...")
        kept.append(text)
    if len(kept) > MAX_LINES:
        raise BadInput(f"keep your outside contacts to {MAX_LINES} lines (there are {len(kept)})")
    return kept


def read(home: Path) -> list[str]:
    """The contacts, one per line; none when the file does not exist. Raises BadInput if it cannot be read."""
    try:
        text = path(home).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise BadInput(f"cannot read {path(home)}: {exc.strerror}") from None
    return [line.strip() for line in text.splitlines() if line.strip()][:MAX_LINES]


def write(home: Path, lines: Iterable[str]) -> list[str]:
    """Keep ``lines`` (cleaned: see ``clean``) as the contacts, mode 0600; no lines removes the file.
    Returns what was kept. Raises BadInput (too long, or the file cannot be written)."""
    kept = clean(lines)
    target = path(home)
    try:
        if not kept:
            target.unlink(missing_ok=True)
            return kept
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        replace_private(target, ("\n".join(kept) + "\n").encode("utf-8"))
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror}") from None
    return kept

"""Text from other people, made safe for a terminal and a log. Pure.

Theory of operation
-------------------
Every human-readable string in a circle (call text, updates, offers, plan parts, names, a peer's Close
reason) was written by someone else's node, which may run a modified client. Two rules, applied at two
places:

* **On input** (``clean``): a field is cut to its limit and loses every control character except the
  newline (and the tab, shown as spaces): no ESC sequences, no ``\\r`` that rewrites a line, no bidi
  overrides that reorder what a reader sees, no NUL. A post whose text had them is still accepted, with
  them removed, so a modified client cannot make honest nodes disagree about what a post says. ``clean``
  is idempotent.
* **On output** (``for_terminal``, ``for_log``): whatever reaches a terminal or a log line is escaped
  again, so a string that never passed ``clean`` (an old store, a bug) still cannot drive the terminal or
  forge a log line. ``for_log`` also makes it one line and bounds its length.

The categories follow Unicode: Cc (controls), Cf (format: bidi overrides, zero-width joiners are kept
only where harmless), Zl/Zp (line and paragraph separators), Co/Cs/Cn (private use, surrogates,
unassigned).
"""

from __future__ import annotations

import unicodedata
from typing import Final

#: Format characters that change how surrounding text is *ordered or hidden* (bidi embeddings,
#: overrides and isolates): the "Trojan Source" set. Other Cf characters (ZWJ in emoji) are harmless.
_BIDI: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_DROP_CATEGORIES: Final = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})
LOG_LIMIT: Final = 200


def _unsafe(ch: str) -> bool:
    if ch in _BIDI:
        return True
    return unicodedata.category(ch) in _DROP_CATEGORIES


def clean(text: str, limit: int, *, multiline: bool = True) -> str:
    """``text`` without control characters, cut to ``limit`` characters. Newlines are kept when
    ``multiline`` (runs of more than two collapse to two), tabs become a space; every other control or
    bidi character is removed. Never raises: what is unsafe is dropped, not refused."""
    if len(text) <= limit and text.isprintable():
        # every character printable (no control, format, separator other than the space, surrogate,
        # private or unassigned one): nothing to drop. The common case, and a character-by-character
        # look-up was most of the cost of opening a post (docs/benchmarks.md, section 10)
        return text
    return _clean_each(text, limit, multiline)


def _clean_each(text: str, limit: int, multiline: bool) -> str:
    out: list[str] = []
    newlines = 0
    for ch in text:
        if ch == "\t" or (ch == "\n" and not multiline):
            ch = " "
        if ch == "\n" and multiline:
            newlines += 1
            if newlines > 2:
                continue
            out.append(ch)
            continue
        if _unsafe(ch):
            continue
        newlines = 0
        out.append(ch)
        if len(out) >= limit:
            break
    return "".join(out)[:limit]


def for_terminal(text: str, limit: int | None = None) -> str:
    """``text`` as it may be printed to a terminal: newlines kept, every other control or bidi
    character shown as a visible escape (``\\x1b``, ``\\u202e``), optionally cut to ``limit``."""
    body = text if limit is None else text[:limit]
    return "".join(ch if ch == "\n" or not _unsafe(ch) else _escape(ch) for ch in body)


def for_log(text: object, limit: int = LOG_LIMIT) -> str:
    """A peer-supplied value as one log-safe line: every control character escaped (newlines too, so
    nobody can start a forged log line), cut to ``limit`` characters with a marker saying how much more
    there was."""
    s = text if isinstance(text, str) else repr(text)
    cut = len(s) > limit
    body = "".join(_escape(ch) if ch in "\n\r" or _unsafe(ch) else ch for ch in s[:limit])
    return f"{body}…(+{len(s) - limit} chars)" if cut else body


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"

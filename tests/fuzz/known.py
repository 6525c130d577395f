"""Crashes the fuzzers found whose fix lives on another branch of issue 9 (still open here).

While an entry is listed, ``run.py`` treats a crash with its signature as a pass (so the fuzzer can go
on looking for other crashes) and the replay test marks its crasher files xfail. Once the fix is merged,
``test_known_crashes_are_still_open`` fails and says which entry to delete; the crasher files stay as
regression tests. Add an entry only for a crash reported to the area that owns the code.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Known:
    """A crash signature: exception type raised in ``function`` of ``path`` (innermost meshcare frame)."""

    target: str
    exception: str
    path: str          # path of the innermost frame under meshcare/ (or tests/fuzz/ for invariants)
    function: str
    reason: str


#: Empty: the two crashes found while issue 9 was built (the handshake assert, msgpack timestamps passing
#: strict decoding) are fixed; their crasher files stay in crashers/ as regression tests.
KNOWN: Final[tuple[Known, ...]] = ()


def signature(exc: BaseException) -> tuple[str, str, str]:
    """(exception type, path, function) of the innermost frame in meshcare/ or, failing that, tests/fuzz/."""
    frames = traceback.extract_tb(exc.__traceback__)
    for marker in ("/meshcare/", "/tests/fuzz/"):
        inside = [f for f in frames if marker in f.filename.replace("\\", "/")]
        if inside:
            last = inside[-1]
            filename = last.filename.replace("\\", "/")
            path = filename[filename.rindex(marker) + 1:]
            return type(exc).__name__, path, last.name
    return type(exc).__name__, "", ""


def match(target: str, exc: BaseException) -> Known | None:
    """The known entry this crash of ``target`` is, if any."""
    kind, path, function = signature(exc)
    for known in KNOWN:
        if (known.target, known.exception, known.path, known.function) == (target, kind, path, function):
            return known
    return None

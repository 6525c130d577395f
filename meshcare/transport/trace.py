"""Stage marks for measuring where one message's time goes (``benchmarks/trace_stages.py``).

Off unless ``MESHCARE_TRACE`` names a directory: then the shell notes (stage, monotonic ns) at a few
fixed points (a control request read, an op done, its effects applied, a reply or event written, link
bytes read and sent), and writes them to ``<dir>/trace-<pid>.json`` when the process exits. With one
message in flight, every mark between a request and its delivery belongs to that message, so no id has
to be carried through the layers. Off, ``mark`` is a function that does nothing (about 40 ns a call).
At most ``LIMIT`` marks are kept: a long run stops noting, it never grows without bound.
"""

from __future__ import annotations

import atexit
import json
import os
import time
from pathlib import Path
from typing import Final

LIMIT: Final = 2_000_000
_marks: list[tuple[str, int]] = []


def _noop(stage: str) -> None:
    return None


def _note(stage: str) -> None:
    if len(_marks) < LIMIT:
        _marks.append((stage, time.perf_counter_ns()))


def _dump(directory: Path) -> None:
    try:
        (directory / f"trace-{os.getpid()}.json").write_text(json.dumps(_marks))
    except OSError:
        pass        # a measurement aid: never a reason for the daemon to fail on its way out


_DIRECTORY = os.environ.get("MESHCARE_TRACE")
mark = _note if _DIRECTORY else _noop
if _DIRECTORY:
    atexit.register(_dump, Path(_DIRECTORY))

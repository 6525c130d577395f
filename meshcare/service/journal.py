"""Is stderr journald? Then the daemon logs there without its own time or pid, and writes no log file.

systemd sets ``$JOURNAL_STREAM`` to ``DEVICE:INODE`` of the stream it connected to stdout/stderr
(systemd.exec(5)); comparing it with what fd 2 is now tells a service's own stderr from a child's stderr
that was redirected elsewhere (the variable is inherited by both).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

#: journald adds the time, the unit and ``meshcare[PID]`` itself.
JOURNAL_FORMAT: Final = "%(levelname)s %(name)s: %(message)s"


def stderr_is_journal(env: Mapping[str, str] | None = None, fd: int = 2) -> bool:
    """True when ``fd`` is the journal stream named by ``$JOURNAL_STREAM``."""
    value = (os.environ if env is None else env).get("JOURNAL_STREAM", "")
    device, sep, inode = value.partition(":")
    if not sep:
        return False
    try:
        st = os.fstat(fd)
        return (st.st_dev, st.st_ino) == (int(device), int(inode))
    except (OSError, ValueError):
        return False

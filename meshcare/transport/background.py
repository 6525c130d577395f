"""What a daemon started in the background (by `meshcare` or `meshcare start`) takes from its launcher.

Two things, both given as flags of `meshcare daemon` that only the launcher uses:

* **The passphrase, over an inherited pipe** (``--passphrase-fd N``). The launcher asked the person once;
  handing it on through argv or the environment would show it to anyone who can read ``/proc``, and a
  file would be left on disk (or in a crash dump of the tmpfs). A pipe holds it only until the daemon has
  read it, and the read end closes right after.
* **Its log file, bounded** (``--log-file F``). Nobody reads a background daemon's stderr, so the log goes
  to a file that is rotated at ``MAX_BYTES`` (one older file is kept: at most about 2 MiB on a Pi's SD
  card). Standard output and standard error are pointed at the current file too, after every rotation, so
  a crash's last words (a traceback, a start-up error) land where the launcher and the person look.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path

from ..errors import BadInput

#: A log file is rotated when it reaches this size; one older file (``daemon.log.1``) is kept.
MAX_BYTES = 1024 * 1024
BACKUPS = 1
#: The most a passphrase pipe is read for (a passphrase is a line, not a document).
_MAX_PASSPHRASE = 4096


def read_passphrase_fd(fd: int) -> bytes:
    """The passphrase the launcher wrote to the pipe ``fd`` (its first line); the fd is closed after.

    Raises BadInput if the fd cannot be read or holds no passphrase.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        with os.fdopen(fd, "rb", closefd=True) as pipe:
            while size <= _MAX_PASSPHRASE:
                chunk = pipe.read(_MAX_PASSPHRASE + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except OSError as exc:
        raise BadInput(f"cannot read the passphrase from file descriptor {fd}: {exc.strerror}") from None
    data = b"".join(chunks)
    if size > _MAX_PASSPHRASE:
        raise BadInput(f"the passphrase on file descriptor {fd} is longer than {_MAX_PASSPHRASE} bytes")
    passphrase = data.splitlines()[0] if data.strip() else b""
    if not passphrase:
        raise BadInput(f"no passphrase arrived on file descriptor {fd}")
    return passphrase


class _RotatingLog(logging.handlers.RotatingFileHandler):
    """A rotating log file that also receives the process's stdout and stderr (see the module doc)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
        self._point_stdio()

    def _open(self) -> io.TextIOWrapper:
        """The file, created 0600 (it names circles and peers), opened for appending."""
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    def doRollover(self) -> None:  # noqa: N802 (logging's name)
        super().doRollover()
        self._point_stdio()

    def _point_stdio(self) -> None:
        if self.stream is not None:
            self.stream.flush()
            for fd in (1, 2):
                os.dup2(self.stream.fileno(), fd)


def log_to_file(path: Path, level: str, fmt: str) -> None:
    """Send this process's log (and its stdout and stderr) to ``path``, rotated at ``MAX_BYTES``.

    Raises BadInput if the file cannot be opened.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = _RotatingLog(path)
    except OSError as exc:
        raise BadInput(f"cannot write the log file {path}: {exc.strerror}") from None
    handler.setFormatter(logging.Formatter(fmt))
    logging.basicConfig(level=level.upper(), handlers=[handler])

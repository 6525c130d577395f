"""A real terminal for end-to-end tests: a program running in a private tmux server, read by
``capture-pane`` and driven by ``send-keys``.

Each ``Terminal`` starts its own tmux server (``tmux -L <unique name>``, no user config), so a test
never touches a person's tmux sessions, and ``close`` kills only that server. ``wait_for`` polls the
screen on the real clock: the program under test runs in another process, so there is nothing to
await. Tests skip (with the reason) where tmux is missing; ``make test`` installs it when root allows.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType

import pytest

TMUX = shutil.which("tmux")


def need_tmux() -> None:
    """Skip the calling test when tmux is not installed (tests/system-deps.sh installs it as root)."""
    if TMUX is None:
        pytest.skip("tmux is not installed (tests/system-deps.sh installs it when run as root)")


class Terminal:
    """``argv`` running in a ``width`` x ``height`` terminal of a tmux server of its own."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                 width: int = 100, height: int = 30) -> None:
        need_tmux()
        self.socket = f"meshcare-test-{uuid.uuid4().hex[:12]}"
        command = " ".join(shlex.quote(a) for a in argv)
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        # the program's exit status is kept on screen, so a crash is visible in the failure message
        shell = f"env {exports} {command}; echo; echo '[exited with status' $? ']'; sleep 600"
        self._tmux("new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height), shell)
        self._tmux("set-option", "-t", "main", "status", "off")

    def _tmux(self, *args: str) -> str:
        assert TMUX is not None
        out = subprocess.run([TMUX, "-L", self.socket, "-f", os.devnull, *args], capture_output=True,
                             text=True, timeout=20)
        if out.returncode != 0:
            raise RuntimeError(f"tmux {args[0]}: {out.stderr.strip()}")
        return out.stdout

    def screen(self) -> str:
        """What the terminal shows now, one line per row."""
        return self._tmux("capture-pane", "-p", "-t", "main")

    def press(self, *keys: str) -> None:
        """Keys as tmux names them (``Enter``, ``Escape``, ``Tab``, ``C-c``) or single characters."""
        for key in keys:
            self._tmux("send-keys", "-t", "main", key)

    def type(self, text: str) -> None:
        """Literal text (no key names)."""
        self._tmux("send-keys", "-t", "main", "-l", text)

    def wait_for(self, what: str | Callable[[str], bool], timeout: float = 20.0) -> str:
        """Poll the screen until it contains ``what`` (or ``what(screen)`` is true); return the screen.
        Raises AssertionError with the last screen, so a failure shows what the person would have seen."""
        test = (lambda s: what in s) if isinstance(what, str) else what
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if test(shown):
                return shown
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what!r}; the screen shows:\n{shown}")

    def close(self) -> None:
        """Kill this terminal's tmux server (and with it the program)."""
        try:
            self._tmux("kill-server")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

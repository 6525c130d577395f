"""A 100x30 terminal of its own for the TUI: a private tmux server, read through one control-mode client.

``Terminal(argv, ...)`` starts ``tmux -L meshcare-bench-<random>`` (no user config) with one session
whose shell first waits on a FIFO (``read _ < gate``), then runs ``argv``. ``start`` opens the FIFO and
writes to it: that moment is the spawn the start-up figure counts from, with the tmux server, the pane
and the shell already up and out of the measurement. After the program ends the shell prints its
exit status and stays, so a crash is on the screen the error message shows.

Reading the screen (``capture``) goes through one ``tmux -C`` client attached with ``ignore-size`` (the
window stays 100x30): each capture is a ``capture-pane -p`` line on its stdin and a reply block on its
stdout, about a millisecond, with no process started. The same client reports ``%output`` whenever the
program writes to its terminal; ``wait_for`` captures again at once after each, and otherwise every
``poll`` seconds, so a change is seen within about one capture of the TUI drawing it. Every
``Sighting`` keeps the times that bound when it was drawn (see ``Sighting``).

``close`` kills this tmux server only (by its socket name), which ends the shell and the program in it.
"""

from __future__ import annotations

import errno
import os
import queue
import shlex
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .control_mode import Attached, ClientExit, PaneOutput, Parser, ReplyBlock

#: Seconds any one tmux command may take.
COMMAND_TIMEOUT = 10.0


class TmuxMissing(RuntimeError):
    """tmux is not installed."""


def tmux_path() -> str:
    """Where tmux is. Raises TmuxMissing with what to do."""
    found = shutil.which("tmux")
    if found is None:
        raise TmuxMissing("tmux is not installed: bench_tui.py runs the TUI in a terminal of its own "
                          "(install it with `apt-get install tmux`, or `sh tests/system-deps.sh` as root)")
    return found


@dataclass(frozen=True, slots=True)
class Sighting:
    """The first capture that passed ``wait_for``'s test.

    ``done``: when its reply arrived (the screen was read at most then: the time the figures use);
    ``sent``: when it was asked for; ``before``: when the previous capture, which did not pass, was
    asked for (None if this was the first), so it was drawn after ``before`` and by ``done``;
    ``output``: when tmux last said the program wrote to its terminal, if that came between the
    previous capture and this one (None otherwise: the poll found it, tmux's word came later or not at
    all): then the nearest the benchmark sees to the moment it was drawn.
    """

    screen: str
    sent: float
    done: float
    before: float | None
    output: float | None
    captures: int


def shell_line(argv: Sequence[str], env: Mapping[str, str | None], cwd: Path, gate: Path) -> str:
    """The pane's shell command: wait for the gate, run ``argv`` in ``cwd`` with ``env`` (None: unset;
    ``env -u`` must come before the assignments), then show its exit status and stay."""
    unset = [f"-u {shlex.quote(k)}" for k, v in env.items() if v is None]
    assign = [shlex.quote(f"{k}={v}") for k, v in env.items() if v is not None]
    command = " ".join(["env", *unset, *assign, *(shlex.quote(a) for a in argv)])
    return (f"read _ < {shlex.quote(str(gate))}; cd {shlex.quote(str(cwd))} && {command}; "
            "echo; echo \"[exited with status $?]\"; sleep 600")


class Terminal:
    """``argv`` in a ``width`` x ``height`` terminal of a tmux server of its own (see the module
    docstring). ``env``: variables set for the program (None: unset), on top of tmux's environment
    (which sets TERM);
    ``gate``: a path for the start FIFO."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str | None], cwd: Path, gate: Path,
                 width: int = 100, height: int = 30) -> None:
        self._tmux = tmux_path()
        self.socket = f"meshcare-bench-{uuid.uuid4().hex[:12]}"
        self._gate = gate
        self._replies: queue.Queue[ReplyBlock] = queue.Queue()
        self._cond = threading.Condition()
        self.outputs = 0                  # %output notifications so far
        self.output_bytes = 0             # bytes the program wrote to its terminal so far
        self.last_output: float | None = None
        self.first_output: float | None = None  # the first output after ``start``
        self._exited = ""
        self._client: subprocess.Popen[bytes] | None = None
        self._write_lock = threading.Lock()
        self._attached = threading.Event()
        self._socket_path = ""
        os.mkfifo(gate, 0o600)
        shell = shell_line(argv, env, cwd, gate)
        try:
            self._run("new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height), shell)
            self._socket_path = self._run("display-message", "-p", "-t", "main", "#{socket_path}").strip()
            self._run("set-option", "-t", "main", "status", "off")
            self._client = subprocess.Popen(
                [self._tmux, "-L", self.socket, "-f", os.devnull, "-C", "attach-session", "-t", "main",
                 "-f", "ignore-size"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_tmux_env())
            threading.Thread(target=self._read, name="tmux-control", daemon=True).start()
            self._sync()
            self.pane_pid = int(self.command("display-message -p -t main '#{pane_pid}'")[0])
        except BaseException:
            self.close()
            raise

    # --- tmux ------------------------------------------------------------------------------------

    def _run(self, *args: str) -> str:
        """One tmux command run as its own client (setup and teardown only)."""
        done = subprocess.run([self._tmux, "-L", self.socket, "-f", os.devnull, *args], capture_output=True,
                              text=True, timeout=COMMAND_TIMEOUT, env=_tmux_env())
        if done.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {done.stderr.strip() or done.returncode}")
        return done.stdout

    def _read(self) -> None:
        """The control client's stdout: replies to the queue, output counted (under the condition)."""
        assert self._client is not None and self._client.stdout is not None
        parser = Parser()
        for raw in self._client.stdout:
            message = parser.feed(raw.rstrip(b"\n").decode("utf-8", "surrogateescape"))
            if isinstance(message, ReplyBlock):
                self._replies.put(message)
            elif isinstance(message, PaneOutput):
                now = time.monotonic()
                with self._cond:
                    self.outputs += 1
                    self.output_bytes += message.size
                    self.last_output = now
                    if self.first_output is None:
                        self.first_output = now
                    self._cond.notify_all()
            elif isinstance(message, Attached):
                self._attached.set()
            elif isinstance(message, ClientExit):
                break
        with self._cond:
            self._exited = "the tmux control client ended"
            self._cond.notify_all()

    def _send(self, line: str) -> None:
        assert self._client is not None and self._client.stdin is not None
        with self._write_lock:
            self._client.stdin.write(line.encode() + b"\n")
            self._client.stdin.flush()

    def _sync(self) -> None:
        """Skip the reply to the client's own attach: wait until it is attached (``Attached``), then
        ask for a word and drop every block before its answer."""
        if not self._attached.wait(COMMAND_TIMEOUT):
            raise RuntimeError(f"the tmux control client did not attach within {COMMAND_TIMEOUT:g} s")
        word = f"sync-{uuid.uuid4().hex[:8]}"
        self._send(f"display-message -p {word}")
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while True:
            block = self._replies.get(timeout=max(deadline - time.monotonic(), 0.01))
            if block.lines == (word,):
                return

    def command(self, line: str) -> tuple[str, ...]:
        """One command through the control client; its output lines. Raises RuntimeError on %error."""
        self._send(line)
        try:
            block = self._replies.get(timeout=COMMAND_TIMEOUT)
        except queue.Empty:
            raise RuntimeError(f"tmux did not answer {line.split()[0]} within {COMMAND_TIMEOUT:g} s "
                               f"({self._exited or 'no reply'})") from None
        if block.error:
            raise RuntimeError(f"tmux {line.split()[0]}: {' '.join(block.lines)}")
        return block.lines

    # --- the program -----------------------------------------------------------------------------

    def start(self, timeout: float = COMMAND_TIMEOUT) -> float:
        """Let the shell run the program; the moment it was let go (``time.monotonic``). The shell
        itself writes nothing before it, so ``first_output`` is then the program's first write."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self.first_output = None
        while True:
            try:
                fd = os.open(self._gate, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as exc:                   # ENXIO: the shell has not opened the FIFO yet
                if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
        try:
            started = time.monotonic()
            os.write(fd, b"go\n")
        finally:
            os.close(fd)
        return started

    def capture(self) -> str:
        """What the terminal shows now, one line per row."""
        return "\n".join(self.command("capture-pane -p -t main"))

    def press(self, key: str) -> None:
        """One key as tmux names it (``q``, ``Enter``, ``Escape``)."""
        self.command(f"send-keys -t main {shlex.quote(key)}")

    def wait_for(self, test: Callable[[str], bool], what: str, timeout: float = 10.0,
                 poll: float = 0.005) -> Sighting:
        """Capture until ``test(screen)`` holds: again at once after the program wrote anything, else
        every ``poll`` seconds. Raises RuntimeError (with the last screen) after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        before: float | None = None
        captures = 0
        with self._cond:
            output_at_start = self.outputs
        while True:
            with self._cond:
                mark = self.outputs
                output = self.last_output if mark > output_at_start else None
            if output is not None and before is not None and output < before:
                output = None                # nothing written since the previous capture: the poll's turn
            sent = time.monotonic()
            screen = self.capture()
            done = time.monotonic()
            captures += 1
            if test(screen):
                return Sighting(screen, sent, done, before, output, captures)
            if done > deadline:
                raise RuntimeError(f"the screen did not show {what} within {timeout:g} s; it shows:\n{screen}")
            before = sent
            with self._cond:
                self._cond.wait_for(lambda: self.outputs != mark or bool(self._exited), poll)
                if self._exited:
                    raise RuntimeError(f"{self._exited} while waiting for {what}; the screen showed:\n{screen}")

    def wait_quiet(self, period: float, timeout: float = 10.0) -> None:
        """Wait until the program has written nothing to its terminal for ``period`` seconds (it is
        done drawing). Raises RuntimeError if it keeps writing for ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                mark = self.outputs
                if not self._cond.wait_for(lambda: self.outputs != mark or bool(self._exited), period):
                    return
                if self._exited:
                    raise RuntimeError(f"{self._exited} while waiting for the screen to settle")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the program kept writing to its terminal for {timeout:g} s")

    # --- the end ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Kill this terminal's tmux server (and with it the shell and the program), and remove the FIFO
        and the server's socket file (tmux 3.3 leaves it behind)."""
        try:
            self._run("kill-server")
        except (RuntimeError, subprocess.TimeoutExpired, OSError):
            pass
        if self._client is not None:
            try:
                self._client.wait(timeout=COMMAND_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._client.kill()
                self._client.wait()
            for stream in (self._client.stdin, self._client.stdout):
                if stream is not None:
                    stream.close()
        for path in (str(self._gate), self._socket_path):
            if path:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass


def _tmux_env() -> dict[str, str]:
    """The environment tmux itself runs with: ours without $TMUX (so it never mistakes itself for a
    nested client), in UTF-8 (so the screen's glyphs come back as they are)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    if "UTF-8" not in env.get("LANG", "").upper():
        env["LANG"] = "C.UTF-8"
    return env

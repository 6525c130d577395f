"""Daemons in the background: start one for a data directory, find it, wait until it answers, stop it.

Theory of operation
-------------------
`meshcare` (no arguments) and `meshcare start` run the node in the background, so that closing the
terminal UI leaves it running: it is the always-on part, through which calls reach the person. The
daemon is spawned in a session of its own (no controlling terminal: closing the terminal or pressing
Ctrl-C in the UI does not reach it), stdin from /dev/null, stdout and stderr appended to
``<home>/daemon.log``, which the daemon then takes over and rotates itself (``--log-file``). A
passphrase goes through a pipe the child inherits (``--passphrase-fd``): never argv, the environment
or a file.

**Ready** means its control socket answers ``status``: from then on clients can use it. Until then the
launcher watches three things: the socket, the child (an exit means it failed, and the last line it
logged says why) and a deadline (then the child is ended, by its pid, and the last log line is quoted).

**Which daemon runs for a data dir** is told by its lock file (``daemon.lock``): the daemon holds an
exclusive flock on it for its whole life (the kernel drops it when the process ends, however it ends)
and writes its pid in it. ``running_pid`` probes the lock with a shared, non-blocking flock that it
releases at once, so it never stands in a running daemon's way; ``stop`` sends SIGTERM to that pid and
waits until the lock is free.

The spawned daemon is a child of the launcher only until the launcher exits (then the system adopts
it), and it gets none of the launcher's file descriptors but the three above and the pipe. Whoever ends
a daemon that is its own child (``stop``, ``end``, ``alive``) also collects its exit status, so no
zombie is left in a long-lived launcher such as ``meshcare demo`` or a test.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .errors import BadInput, DaemonUnavailable, LaunchError

#: How long a new daemon may take to answer (an Argon2 unlock on a Pi Zero takes a few seconds).
START_TIMEOUT = 30.0
#: How long ``stop`` waits for the daemon to end after SIGTERM (it needs well under a second).
STOP_TIMEOUT = 10.0
#: How ``meshcare`` itself is run in a child: this interpreter, this package.
MESHCARE = (sys.executable, "-m", "meshcare")
_POLL = 0.05
_LAST_LINE_CHARS = 300


@dataclass(frozen=True, slots=True)
class Spawned:
    """A daemon this process started: its pid, and where its log of this start begins."""

    pid: int
    log: Path
    log_offset: int


# --- is one running? ----------------------------------------------------------------------------------

def running_pid(settings: Settings) -> int | None:
    """The pid of the daemon holding this data dir's lock, or None when no daemon runs for it.

    Raises LaunchError if the lock is held but no pid can be read from it within a second.
    """
    try:
        fd = os.open(settings.lock_path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LaunchError(f"cannot read {settings.lock_path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid_in(fd, settings.lock_path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _pid_in(fd: int, path: Path) -> int:
    """The pid a daemon wrote in its lock file (it writes it right after taking the lock)."""
    deadline = time.monotonic() + 1.0
    while True:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit():
            return int(text)
        if time.monotonic() > deadline:
            raise LaunchError(f"a meshcare daemon holds {path}, but the pid in it is unreadable ({text!r})")
        time.sleep(_POLL)


def answers(settings: Settings, timeout: float = 2.0) -> bool:
    """True when a daemon answers ``status`` on this data dir's control socket.

    Raises BadInput if the socket path is too long for a Unix socket (no daemon can serve there).
    """
    from .client import ControlClient
    from .control.requests import Status

    try:
        with ControlClient.connect(settings.control_path, timeout=timeout) as client:
            client.request(Status.OP)
    except DaemonUnavailable:
        return False
    return True


def alive(pid: int) -> bool:
    """True while process ``pid`` exists and has not ended (a zombie child is collected, and counts as ended)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (FileNotFoundError, IndexError):
        return not Path("/proc/self").exists()  # no /proc here: kill(0) said it exists


# --- start --------------------------------------------------------------------------------------------

def daemon_argv(settings: Settings, flags: Sequence[str], *, passphrase_fd: int | None = None,
                command: Sequence[str] = MESHCARE) -> list[str]:
    """The command line of a background daemon for ``settings.home`` with the daemon ``flags``."""
    argv = [*command, "--home", os.fspath(settings.home), "daemon", "--log-file", os.fspath(settings.log_path),
            *flags]
    if passphrase_fd is not None:
        argv += ["--passphrase-fd", str(passphrase_fd)]
    return argv


def spawn(settings: Settings, flags: Sequence[str], passphrase: bytes | None = None, *,
          command: Sequence[str] = MESHCARE) -> Spawned:
    """Start a daemon for ``settings.home`` in a session of its own; do not wait for it.

    ``passphrase`` (if any) is written to a pipe the child reads (``--passphrase-fd``). Raises LaunchError
    if the process cannot be started at all.
    """
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    log = settings.log_path
    log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    read_end = write_end = -1
    try:
        offset = os.fstat(log_fd).st_size
        if passphrase is not None:
            read_end, write_end = os.pipe()
        argv = daemon_argv(settings, flags, passphrase_fd=read_end if passphrase is not None else None,
                           command=command)
        pid = _spawn_detached(argv, log_fd, () if passphrase is None else (read_end,))
        if passphrase is not None:
            os.close(read_end)
            read_end = -1
            try:
                os.write(write_end, passphrase + b"\n")  # a pipe holds 64 KiB: this never blocks
            except BrokenPipeError:
                pass  # the child ended already; waiting for it tells why
        return Spawned(pid, log, offset)
    finally:
        os.close(log_fd)
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)


def _spawn_detached(argv: list[str], log_fd: int, pass_fds: tuple[int, ...]) -> int:
    """Start ``argv`` in a new session (stdin /dev/null, stdout and stderr to ``log_fd``, no other fd of
    ours but ``pass_fds``) and return its pid. Raises LaunchError if it cannot be started.

    The ``Popen`` object is dropped at once, on purpose: the daemon outlives this process, so nothing here
    waits on it through ``subprocess``; ``alive``, ``end`` and ``stop`` collect it by pid when it ends.
    Dropping a running child makes ``subprocess`` warn (ResourceWarning), which is silenced for that reason.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
                                    close_fds=True, pass_fds=pass_fds, start_new_session=True)
        except OSError as exc:
            raise LaunchError(f"cannot start {argv[0]}: {exc.strerror}") from None
        pid = proc.pid
        del proc
    return pid


def wait_ready(settings: Settings, spawned: Spawned, timeout: float = START_TIMEOUT) -> None:
    """Return once the daemon ``spawned`` answers on its control socket.

    Raises LaunchError, quoting the last line it logged, if it ends first or does not answer within
    ``timeout`` seconds (then it is ended: SIGTERM, SIGKILL after 5 s).
    """
    deadline = time.monotonic() + timeout
    while True:
        status = _exit_status(spawned.pid)
        if status is not None:
            raise LaunchError(f"the node did not start: {last_line(spawned)} (exit status {status}; "
                              f"the whole log: {spawned.log})")
        if answers(settings, timeout=max(0.2, min(2.0, deadline - time.monotonic()))):
            return
        if time.monotonic() > deadline:
            end(spawned.pid)
            raise LaunchError(f"the node did not answer within {timeout:g} s and was stopped; it last said: "
                              f"{last_line(spawned)} (the whole log: {spawned.log})")
        time.sleep(_POLL)


def _exit_status(pid: int) -> int | None:
    """The exit status of our child ``pid`` once it ended (collecting it), else None."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None if alive(pid) else -1
    return os.waitstatus_to_exitcode(status) if done == pid else None


def last_line(spawned: Spawned) -> str:
    """The last non-empty line the daemon wrote to its log since it was started, or a phrase saying so."""
    try:
        with open(spawned.log, "rb") as f:
            f.seek(spawned.log_offset)
            data = f.read()[-64 * 1024:]
    except OSError:
        data = b""
    lines = [line.strip() for line in data.decode("utf-8", errors="replace").splitlines() if line.strip()]
    if not lines:
        return "(nothing in its log)"
    text = lines[-1]
    return text if len(text) <= _LAST_LINE_CHARS else text[:_LAST_LINE_CHARS] + "…"


def start(settings: Settings, flags: Sequence[str], passphrase: bytes | None = None, *,
          timeout: float = START_TIMEOUT, command: Sequence[str] = MESHCARE) -> Spawned:
    """Spawn a daemon and wait until it answers (``spawn`` then ``wait_ready``). Raises LaunchError."""
    spawned = spawn(settings, flags, passphrase, command=command)
    wait_ready(settings, spawned, timeout)
    return spawned


def wait_for_running(settings: Settings, pid: int, timeout: float = START_TIMEOUT) -> None:
    """Wait for a daemon someone else started (it holds the lock) to answer. Raises LaunchError."""
    deadline = time.monotonic() + timeout
    while not answers(settings):
        if not alive(pid):
            raise LaunchError(f"the node that was starting for {settings.home} (pid {pid}) ended; "
                              f"its log: {settings.log_path}")
        if time.monotonic() > deadline:
            raise LaunchError(f"the node for {settings.home} (pid {pid}) holds its data directory but has not "
                              f"answered for {timeout:g} s; see {settings.log_path}, or stop it with `meshcare stop`")
        time.sleep(_POLL)


# --- stop ---------------------------------------------------------------------------------------------

def end(pid: int, grace: float = 5.0) -> None:
    """End process ``pid``: SIGTERM, then SIGKILL after ``grace`` seconds; collect it if it is our child."""
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive(pid):  # alive() collects our own child once it ended
        if time.monotonic() > deadline:
            _signal(pid, signal.SIGKILL)
            try:
                os.waitpid(pid, 0)  # SIGKILL cannot be refused: this returns at once
            except ChildProcessError:
                pass
            return
        time.sleep(_POLL)


def stop(settings: Settings, timeout: float = STOP_TIMEOUT) -> int:
    """Stop the daemon of this data dir: SIGTERM to the pid in its lock file, then wait until it has let
    go of the lock. Returns its pid.

    Raises BadInput when no daemon runs for this data dir, LaunchError when it does not end in time.
    """
    pid = running_pid(settings)
    if pid is None:
        raise BadInput(f"no meshcare node is running for {settings.home}")
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while running_pid(settings) is not None or alive(pid):
        if time.monotonic() > deadline:
            raise LaunchError(f"the node (pid {pid}) did not stop within {timeout:g} s; see {settings.log_path}, "
                              f"or end it with `kill -9 {pid}`")
        time.sleep(_POLL)
    return pid


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass  # it ended already

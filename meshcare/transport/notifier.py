"""Runs ``notify_command`` for the events ``meshcare.notify.rules`` picks, without ever holding up the node.

Theory of operation
-------------------
The daemon presents its circles' changes as control events one at a time (``presenter.py``); for the
few facts ``wants`` (a call appeared, a check-in got replies) it builds the event even when no client is
subscribed and hands it to ``consider``, which is synchronous and cheap: the pure rules pick the
notifications, quiet hours hold back all but calls marked ``now``, and the rest wait in a bounded
``Backlog`` (dropped and counted beyond it). ``run``, a task of the daemon's nursery, starts at most
``max_running`` commands at a time, each in a task of its own:

* no shell: the argv from config.toml, stdin from /dev/null, the daemon's environment plus the
  ``MESHCARE_*`` variables (``rules.environment``), the data directory as working directory, a session
  of its own (so its children can be stopped with it);
* ``timeout`` seconds, then SIGTERM to its process group, and SIGKILL two seconds later;
* its output (stdout and stderr together, the first 2 KB kept) goes to the log escaped and cut short
  (``text.for_log``): it may quote what a peer wrote;
* a command that cannot start, fails or hangs is a warning line, at most one per kind of trouble every
  ten minutes (with how many more there were): a broken LED script must not fill a Pi's SD card.

Nothing here raises into the daemon: a bug running one command is logged and that notification is lost.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Final

import trio

from ..circles.changes import CallChanged, CheckinChanged, Fact
from ..control.events import Event
from ..notify.rules import BACKLOG, Backlog, Notification, Rules, allowed, environment
from ..notify.settings import NotifySettings
from ..text import for_log

log = logging.getLogger("meshcare.notify")

#: Commands running at once, at most.
MAX_RUNNING: Final = 2
#: Bytes of a command's output kept for the log, and characters of it logged.
OUTPUT_LIMIT: Final = 2048
LOG_OUTPUT: Final = 300
#: Seconds between SIGTERM and SIGKILL for a command past its timeout.
GRACE: Final = 2.0
#: Seconds between two log lines about the same kind of trouble.
COMPLAIN_EVERY: Final = 600.0


def local_minute(now: float) -> int:
    """The local clock time at unix time ``now``, in minutes after midnight (what quiet hours compare)."""
    moment = time.localtime(now)
    return moment.tm_hour * 60 + moment.tm_min


class Notifier:
    """The daemon's notification runner (module docstring). ``me``: this node's id (hex); ``cwd``: where
    the command runs (the data directory)."""

    def __init__(self, settings: NotifySettings, me: str, *, cwd: Path | None = None,
                 max_running: int = MAX_RUNNING, backlog: int = BACKLOG) -> None:
        self.settings = settings
        self.cwd = cwd
        self.rules = Rules(me, settings.content)
        self.backlog = Backlog(backlog)
        self.max_running = max_running
        self.running = 0
        self.counts = {"notify_runs": 0, "notify_failed": 0, "notify_timed_out": 0, "notify_quiet": 0}
        self._wake = trio.Event()
        self._complaints: dict[str, tuple[float, int]] = {}

    # --- deciding (synchronous, on the daemon's trio thread) -------------------------------------

    @staticmethod
    def wants(fact: Fact) -> bool:
        """Whether ``fact`` may call for a notification (so its event is built even for no subscriber)."""
        if isinstance(fact, CallChanged):
            return fact.change == "new"
        return isinstance(fact, CheckinChanged) and fact.change in ("new", "reply")

    def consider(self, event: Event, now: float) -> None:
        """Queue the notifications ``event`` calls for at unix time ``now`` (quiet hours kept)."""
        notes = self.rules.select(event)
        if not notes:
            return
        minute = local_minute(now)
        for note in notes:
            if not allowed(note, self.settings.quiet_hours, minute):
                self.counts["notify_quiet"] += 1
                log.info("quiet hours (%s): notify_command not run for %s", self.settings.quiet_hours, _what(note))
                continue
            if not self.backlog.add(note):
                self._complain("dropped", f"notify_command cannot keep up with a burst: {self.backlog.dropped} "
                               "notification(s) dropped so far (the next one run says how many: MESHCARE_DROPPED)")
        self._wake.set()

    def statistics(self) -> dict[str, int]:
        """Counters for ``status`` (names are not a contract)."""
        return {**self.counts, "notify_dropped": self.backlog.dropped, "notify_waiting": len(self.backlog),
                "notify_running": self.running}

    # --- running ----------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Start waiting notifications' commands, ``max_running`` at a time, until cancelled."""
        self._check_command()
        async with trio.open_nursery() as nursery:
            task_status.started()
            while True:
                await self._wake.wait()
                self._wake = trio.Event()
                while self.running < self.max_running:
                    item = self.backlog.take()
                    if item is None:
                        break
                    self.running += 1
                    nursery.start_soon(self._run_one, *item)

    def _check_command(self) -> None:
        program = self.settings.command[0]
        where = program if os.sep in program else shutil.which(program)
        if where is not None and self.cwd is not None and not os.path.isabs(where):
            where = str(self.cwd / where)
        quiet = f", quiet hours {self.settings.quiet_hours}" if self.settings.quiet_hours else ""
        log.info("notifications: running %s for new calls and \"need support now\" replies (content %s%s)",
                 for_log(program), self.settings.content, quiet)
        if where is None or not os.access(where, os.X_OK):
            log.warning("notify_command: %s is not an executable program here (yet); notifications fail until "
                        "it is (fix notify_command in config.toml)", for_log(program))

    async def _run_one(self, note: Notification, dropped: int) -> None:
        try:
            await self._execute(note, dropped)
        except Exception as exc:  # noqa: BLE001 - the backstop: one notification is lost, never the daemon
            log.exception("notify_command: internal error running it for %s", _what(note))
            self._complain("bug", f"notify_command: internal error ({type(exc).__name__})")
        finally:
            self.running -= 1
            self._wake.set()

    async def _execute(self, note: Notification, dropped: int) -> None:
        argv = list(self.settings.command)
        self.counts["notify_runs"] += 1
        try:
            proc = await trio.lowlevel.open_process(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env={**os.environ, **environment(note, dropped)}, cwd=self.cwd, start_new_session=True)
        except OSError as exc:
            self.counts["notify_failed"] += 1
            self._complain("start", f"notify_command cannot be started: {for_log(argv[0])}: "
                           f"{exc.strerror or exc}; fix notify_command in config.toml")
            return
        output = bytearray()
        timed_out = False
        try:
            with trio.move_on_after(self.settings.timeout) as deadline:
                if proc.stdout is not None:         # (always: we asked for a pipe)
                    await _drain(proc.stdout, output)
                await proc.wait()
            if deadline.cancelled_caught:
                timed_out = True
                self.counts["notify_timed_out"] += 1
                await _stop(proc)
        finally:
            with trio.CancelScope(shield=True):     # the daemon stopping, or the timeout: leave no process
                if proc.returncode is None:
                    _signal_group(proc, signal.SIGKILL)
                    with trio.move_on_after(GRACE):
                        await proc.wait()
                if proc.stdout is not None:
                    await proc.stdout.aclose()
        said = for_log(output.decode("utf-8", "replace").strip(), LOG_OUTPUT)
        if timed_out:
            self._complain("timeout", f"notify_command {for_log(argv[0])} did not finish within "
                           f"{self.settings.timeout:g} s and was stopped" + (f"; it said: {said}" if said else ""))
        elif proc.returncode != 0:
            self.counts["notify_failed"] += 1
            self._complain("exit", f"notify_command {for_log(argv[0])} failed (exit status {proc.returncode})"
                           + (f": {said}" if said else ""))
        elif said:
            log.info("notify_command said: %s", said)

    def _complain(self, kind: str, message: str) -> None:
        """One warning per ``kind`` of trouble every COMPLAIN_EVERY seconds, then how many were held back."""
        now = trio.current_time()
        last, held = self._complaints.get(kind, (None, 0))
        if last is not None and now - last < COMPLAIN_EVERY:
            self._complaints[kind] = (last, held + 1)
            return
        more = f" ({held} more like this in the last {COMPLAIN_EVERY / 60:.0f} min)" if held else ""
        log.warning("%s%s", message, more)
        self._complaints[kind] = (now, 0)


def _what(note: Notification) -> str:
    """A notification in a log line: its kind, circle and urgency (never who or what)."""
    kind = "a call" if note.event == "call" else "a check-in reply"
    return f"{kind} in {note.circle}" + (f" ({note.urgency})" if note.urgency else "")


async def _drain(stream: trio.abc.ReceiveStream, into: bytearray) -> None:
    """Read ``stream`` to its end, keeping the first OUTPUT_LIMIT bytes (the rest is read and dropped, so a
    chatty command never blocks on a full pipe)."""
    while True:
        chunk = await stream.receive_some(4096)
        if not chunk:
            return
        room = OUTPUT_LIMIT - len(into)
        if room > 0:
            into += chunk[:room]


async def _stop(proc: trio.Process) -> None:
    """SIGTERM to the command's process group, SIGKILL after GRACE seconds."""
    _signal_group(proc, signal.SIGTERM)
    with trio.move_on_after(GRACE):
        await proc.wait()
        return
    _signal_group(proc, signal.SIGKILL)
    await proc.wait()


def _signal_group(proc: trio.Process, sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)        # its own session: the group id is its pid
    except ProcessLookupError:
        pass

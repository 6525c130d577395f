"""``meshcare watch [--json]``: what happens in this node's circles, printed as it happens, one line each.

Theory of operation
-------------------
A subscribed client of the control socket, like the TUI: connect, ``subscribe``, take a ``snapshot``
(so names are known from the start), then print each event as it comes: in words for people
(``event_words.describe``), or with ``--json`` one object per line, ``{"name": NAME, "data": DATA}``,
DATA being the event's data exactly as the control API sends it (docs/control.md, Events; ``seq``
included). That line shape is a contract (docs/cli.md).

When the daemon goes away (restarted, upgraded, or it dropped this client for reading too slowly), watch
says so on stderr, reconnects with a growing pause (a quarter of a second doubling to five), subscribes
and takes a snapshot again, says so, and goes on; ``seq`` starts again at 1 after a daemon restart. Only
the first connection's failure ends it (no daemon running: exit 1, as every command). Ctrl-C, or a
reader that stops reading (``| head``), ends it quietly with status 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from .. import config
from ..errors import BadInput, DaemonUnavailable
from ..text import for_terminal
from .common import EXIT_OK, add_command, jsonable

if TYPE_CHECKING:  # the client and the control API's records load when `watch` runs (`meshcare --help` stays fast)
    from ..client import ControlClient

#: Seconds between two attempts to reach a daemon that went away: the first, and the longest.
FIRST_PAUSE: Final = 0.25
LONGEST_PAUSE: Final = 5.0

SUMMARY = "print what happens in your circles as it happens, one line each (for a terminal or a script)"
MORE = """\
New calls for support, claims, offers, check-ins and their answers, people joining and leaving,
availability, links to neighbours: each as one line in plain words, with the time. Raw per-envelope
events are shown only with --json.

With --json, each event is one JSON object on a line of its own: {"name": NAME, "data": DATA}, DATA being
the event's data as the control API sends it (docs/control.md lists every event and its keys;
docs/cli.md says what scripts may rely on).

When the daemon restarts, watch says so on stderr, reconnects, and goes on. Ctrl-C stops it."""
EXAMPLE = """\
meshcare watch
meshcare watch --json | jq -r 'select(.name == "call.changed" and .data.change == "new") | .data.view.circle_name'"""


def register(sub: Any) -> None:
    """Add ``watch`` to the top-level subparsers ``sub``."""
    add_command(sub, "watch", cmd_watch, SUMMARY, EXAMPLE, more=MORE,
                json_help="print each event as one JSON object per line: {\"name\": ..., \"data\": {...}}")


def cmd_watch(args: argparse.Namespace, settings: config.Settings) -> int:
    watch = Watch(settings.control_path, as_json=args.json)
    try:
        watch.run()
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:         # the reader went away (`meshcare watch --json | head -1`): done
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())      # so the interpreter's last flush does not complain
    return EXIT_OK


class Watch:
    """Follows the daemon at the control socket ``path`` and prints its events (module docstring).

    ``connect`` and ``sleep`` are the blocking client's and the clock's, replaceable in tests."""

    def __init__(self, path: Path, *, as_json: bool = False, out: TextIO | None = None, err: TextIO | None = None,
                 connect: Callable[[Path], ControlClient] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        from ..client import ControlClient
        from .event_words import Names

        self.path, self.as_json = path, as_json
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self._connect, self._sleep = connect or ControlClient.connect, sleep
        self.names = Names()

    def run(self) -> None:
        """Print events until interrupted. Raises what the first connection raises (DaemonNotRunning...)."""
        client = self._open()
        self._say(f"watching the node in {self.path.parent} (Ctrl-C stops)")
        while True:
            why = self._follow(client)
            self._say(f"lost the daemon ({why}); reconnecting…")
            client = self._reopen()
            self._say("reconnected to the daemon; watching again")

    def _open(self) -> ControlClient:
        """Connect, subscribe, and learn names from a snapshot."""
        from ..control.requests import Snapshot

        client = self._connect(self.path)
        try:
            client.subscribe()
            request = Snapshot()
            data = client.request(request.OP, **request.to_data())
            self.names.learn_snapshot(request.read_result(data))
        except BaseException:
            client.close()
            raise
        return client

    def _follow(self, client: ControlClient) -> str:
        """Print events until the connection ends; why it ended."""
        try:
            for event in client.events():
                self.show(event.name, event.data)
            return "it closed the connection"
        except DaemonUnavailable as exc:
            return str(exc)
        finally:
            client.close()

    def _reopen(self) -> ControlClient:
        pause = FIRST_PAUSE
        while True:
            self._sleep(pause)
            try:
                return self._open()
            except DaemonUnavailable:
                pause = min(pause * 2, LONGEST_PAUSE)

    def show(self, name: str, data: dict[str, Any]) -> None:
        """Print one event (nothing for an event shown only with --json, or one this version does not know)."""
        from ..control.api import read_event
        from .event_words import describe

        if self.as_json:
            line = json.dumps({"name": name, "data": jsonable(data)}, sort_keys=True, ensure_ascii=True)
        else:
            try:
                event = read_event(name, data)
            except BadInput as exc:
                self._say(f"a {name!r} event this meshcare cannot read ({exc}); is the daemon another version?")
                return
            words = None if event is None else describe(event, self.names)
            if words is None:
                return
            line = for_terminal(f"{time.strftime('%H:%M')}  {words}")
        print(line, file=self.out, flush=True)

    def _say(self, message: str) -> None:
        print(for_terminal(f"meshcare watch: {message}"), file=self.err, flush=True)

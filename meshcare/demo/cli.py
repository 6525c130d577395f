"""``meshcare demo``: its flags, and running it so that everything it made is removed however it ends.

The order is: three nodes and the circle (``nodes``), the readers and the script (``runner``), then
either the terminal UI as the third member (a child process on this terminal: ``meshcare tui`` on the
person's node) or, with ``--no-tui``, lines on stdout. Whatever happens (the UI closed, ``--seconds``
ran out, Ctrl-C, SIGTERM, SIGHUP, an error of the demo itself), the ``finally`` ends the UI if it still
runs, then every daemon by its pid, and removes the temporary directory; signals are ignored while
it does, so a second Ctrl-C cannot leave half of it behind. Only SIGKILL, which nothing can catch,
leaves the daemons (they are in sessions of their own) and the directory under ``$TMPDIR``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from ..text import for_terminal

HELP = "try meshcare: a support circle with two scripted neighbours on this computer (nothing goes on the network)"
DESCRIPTION = HELP + """. Three nodes run on 127.0.0.1 in a temporary directory: Bo (a facilitator) and Chloe,
played by a script, and you (Alex). They answer your calls for support and check-ins, and post one of
each of their own. Everything is removed when the demo ends (close the terminal UI, Ctrl-C, or --seconds)."""

#: Signals that end the demo cleanly (Ctrl-C is KeyboardInterrupt).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
#: What a terminal needs to be usable again after a full-screen app was ended from outside.
_TERMINAL_RESET = "\x1b[?7h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[?1049l\x1b[?25h"


class Stopped(BaseException):
    """A stop signal arrived (a BaseException, so that no ``except Exception`` on the way swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"{value:g} is outside 0..86400 seconds")
    return value


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser("demo", help=HELP, description=DESCRIPTION)
    p.add_argument("--no-tui", action="store_true",
                   help="print what happens as lines instead of opening the terminal UI (for scripts and tests; "
                        "ends with Ctrl-C or --seconds)")
    p.add_argument("--seconds", type=_seconds, metavar="N", help="end the demo N seconds after its circle is ready")
    p.add_argument("--pace", type=_seconds, default=2.0, metavar="S",
                   help="seconds between the neighbours' steps (default 2)")
    p.set_defaults(handler=lambda args, _settings: run(args), needs_settings=False)
    return p


def meshcare_command() -> str:
    """How the person typed ``meshcare`` (for the hints the demo prints)."""
    if Path(sys.argv[0]).name == "meshcare":
        return shlex.quote(sys.argv[0])
    return f"{shlex.quote(sys.executable)} -m meshcare"


class Lines:
    """Prints lines with the seconds since the demo began; silent while the terminal UI has the screen."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.began = clock()
        self.quiet = False

    def __call__(self, line: str) -> None:
        if self.quiet:
            return
        try:
            print(f"[{self.clock() - self.began:5.1f}s] {for_terminal(line)}", flush=True)
        except BrokenPipeError:  # whoever read the lines is gone (`meshcare demo --no-tui | head`)
            self.quiet = True


def run(args: argparse.Namespace) -> int:
    """Run the demo (see the module doc). Returns 0, the UI's exit status, or 128 + a stop signal."""
    say = Lines()
    demo = _Demo(args, say)

    def stopped(signum: int, _frame: FrameType | None) -> None:
        raise Stopped(signum)

    previous = {s: signal.signal(s, stopped) for s in STOP_SIGNALS}
    try:
        return demo.play()
    except KeyboardInterrupt:  # a second one, while the first was being told
        return 0
    except Stopped as exc:
        return 128 + exc.signum
    finally:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        for s in STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)  # no signal but SIGKILL interrupts the clean-up
        try:
            demo.close()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


class _Demo:
    """One run of the demo: what it started, so that ``close`` removes exactly that."""

    def __init__(self, args: argparse.Namespace, say: Lines) -> None:
        from .nodes import DemoNodes
        from .runner import Director

        self.args = args
        self.say = say
        self.nodes = DemoNodes()
        self.director: Director | None = None
        self.stop = threading.Event()

    def play(self) -> int:
        """Start everything and run until the UI closes, ``--seconds`` pass, Ctrl-C or a stop signal."""
        from .narrate import Narrator
        from .nodes import BO, CHLOE, CIRCLE_NAME, NAMES, YOU
        from .runner import Director
        from .script import Script

        say, args, nodes = self.say, self.args, self.nodes
        with_tui = not args.no_tui
        try:
            say("Starting three nodes on this computer (127.0.0.1 only, nothing goes on the network)...")
            nodes.start()
            circle = nodes.form_circle()
            you = nodes.nodes[YOU]
            say(f"{NAMES[BO]} made the circle \"{CIRCLE_NAME}\"; {NAMES[CHLOE]} and you ({NAMES[YOU]}) joined, "
                "you as a facilitator.")
            say("Nodes: " + ", ".join(f"{n.name} pid {n.spawned.pid} port {n.port}"
                                      for n in nodes.nodes.values() if n.spawned is not None))
            say(f"Your node: MESHCARE_HOME={you.settings.home}")
            say(f"Try, in another terminal: MESHCARE_HOME={shlex.quote(os.fspath(you.settings.home))} "
                f"{meshcare_command()} call {shlex.quote(CIRCLE_NAME)} \"Could someone come by tonight?\"")
            script = Script(circle=circle, person=you.node_id, start=time.monotonic(), pace=args.pace,
                            neighbours={BO: nodes.nodes[BO].node_id, CHLOE: nodes.nodes[CHLOE].node_id})
            self.director = director = Director(nodes, script, say=say,
                                                narrator=None if with_tui else Narrator(you.node_id))
            director.start()
            until = time.monotonic() + args.seconds if args.seconds else None
            if not with_tui:
                director.run(until=until)
                return 0
            threading.Thread(target=director.run, kwargs={"stop": self.stop}, name="demo-director",
                             daemon=True).start()
            say.quiet = True
            return run_tui(you.settings.home, until)
        except KeyboardInterrupt:
            say.quiet = False
            say("Ctrl-C: ending the demo.")
            return 0
        except Stopped as exc:
            say.quiet = False
            say(f"{exc}: ending the demo.")
            return 128 + exc.signum

    def close(self) -> None:
        """End the director, every daemon by its pid, the readers; remove the directory; say so."""
        self.stop.set()
        root = self.nodes.root
        self.nodes.close()
        if self.director is not None:
            self.director.join()
        self.say.quiet = False
        if root is not None:
            self.say(f"The demo is over: its three nodes were stopped and {root} was removed.")


def run_tui(home: Path, until: float | None) -> int:
    """``meshcare tui`` on the person's node, on this terminal, until it ends or ``until`` passes; a UI
    still running then (or when the demo is stopped) is ended and the terminal is put right."""
    saved = _terminal_state()
    proc = subprocess.Popen([sys.executable, "-m", "meshcare", "--home", os.fspath(home), "tui"])
    try:
        try:
            return proc.wait(timeout=None if until is None else max(0.0, until - time.monotonic()))
        except subprocess.TimeoutExpired:
            return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            _restore_terminal(saved)


def _terminal_state() -> Any:
    try:
        import termios

        return termios.tcgetattr(sys.stdin.fileno()) if sys.stdin.isatty() else None
    except (ImportError, OSError, ValueError):
        return None


def _restore_terminal(saved: Any) -> None:
    if saved is None:
        return
    import termios

    try:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
        sys.stdout.write(_TERMINAL_RESET)
        sys.stdout.flush()
    except (OSError, ValueError):
        pass

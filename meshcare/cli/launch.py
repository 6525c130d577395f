"""`meshcare` with no arguments, `meshcare start`, `stop` and `tui`: the node in the background, the UI in front.

Theory of operation
-------------------
``open_node`` is what a person runs (``meshcare``, ``make run``): on the first run, the setup app asks for
a name (and, if they like, a passphrase) and creates the identity; then the node is started in the
background unless one already runs for this data directory (``meshcare.launch``); then the terminal UI
opens. Closing the UI leaves the node running, because it is the part through which calls reach the
person, and says so in one line with how to stop it. Each step that needs a person (the setup, the
passphrase, the UI) is a function passed in, so tests drive the whole flow without a terminal.

A passphrase-protected identity is asked for once, checked here (so a typo can be typed again), and
handed to the daemon through a pipe (``launch.spawn``), unless ``--passphrase-file`` names where the
daemon reads it itself.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .. import config
from ..errors import BadInput, DaemonNotRunning, WrongPassphrase
from .common import EXIT_ERROR, EXIT_OK

if TYPE_CHECKING:
    from ..tui.setup import SetupResult

#: Opens the terminal UI on the running daemon of a data dir; returns an exit status.
TuiRunner = Callable[[config.Settings], int]
#: Runs the first-run setup (creating the identity); None when the person left it.
SetupRunner = Callable[[config.Settings], "SetupResult | None"]
#: Asks for a passphrase without echo (``getpass.getpass``).
Asker = Callable[[str], str]
#: Tells the person something, one line at a time.
Say = Callable[[str], None]

#: Tries at typing a passphrase before giving up.
PASSPHRASE_TRIES = 3


def command_name(settings: config.Settings) -> str:
    """How to type ``meshcare`` for this data dir: as the person typed it (``.venv/bin/meshcare`` after
    ``make run``), with ``--home`` when it is not the default data dir."""
    typed = sys.argv[0] if Path(sys.argv[0]).name == "meshcare" else "meshcare"
    try:
        default: Path | None = config.default_home()
    except Exception:  # noqa: BLE001 - only decides whether to add --home to a hint
        default = None
    if default is not None and settings.home.absolute() == default.absolute():
        return shlex.quote(typed)
    return f"{shlex.quote(typed)} --home {shlex.quote(os.fspath(settings.home))}"


# --- the flow ---------------------------------------------------------------------------------------------

def open_node(settings: config.Settings, flags: Sequence[str] = (), *, tui: TuiRunner | None = None,
              setup: SetupRunner | None = None, ask: Asker | None = None, say: Say = print,
              no_tui: bool = False, timeout: float | None = None, command: Sequence[str] | None = None) -> int:
    """Set up (first run), start the node in the background if none runs, open the UI. Returns the exit status.

    ``flags`` are the daemon's (``--listen``, ``--peer``, ...); they apply only when a node is started here.
    Raises the meshcare errors of the steps: BadInput (no terminal for a question that must be asked),
    WrongPassphrase, LaunchError (the daemon did not start: its last log line is in the message).
    """
    from .. import launch

    passphrase: bytes | None = None
    if not settings.keystore_path.exists():
        result = (setup or default_setup)(settings)
        if result is None:
            say("Nothing was set up and no node was started. Run meshcare again when you are ready.")
            return EXIT_ERROR
        passphrase = result.passphrase
        say(f"Welcome, {result.name}. Your identity is in {settings.home}.")
    me = command_name(settings)
    pid = launch.running_pid(settings)
    if pid is not None:
        launch.wait_for_running(settings, pid, launch.START_TIMEOUT if timeout is None else timeout)
        note = f"; the options given were not applied (stop it first with `{me} stop`)" if flags else ""
        say(f"Your node is already running (pid {pid}){note}.")
    else:
        if passphrase is None:
            passphrase = unlock(settings, ask, say)
        spawned = launch.start(settings, flags, passphrase,
                               timeout=launch.START_TIMEOUT if timeout is None else timeout,
                               command=launch.MESHCARE if command is None else command)
        say(f"Your node is running in the background (pid {spawned.pid}; its log: {spawned.log}).")
    if no_tui:
        say(f"Open the terminal UI with `{me} tui`; stop the node with `{me} stop`.")
        return EXIT_OK
    try:
        return (tui or default_tui)(settings)
    finally:
        if launch.running_pid(settings) is not None:
            say(f"Your node is still running, so your circles can reach you. To stop it: {me} stop")
        else:
            say(f"Your node is not running any more (see {settings.log_path}); start it again with `{me}`.")


def attach(settings: config.Settings, tui: TuiRunner | None = None) -> int:
    """``meshcare tui``: open the UI on the node that runs for this data dir. Raises DaemonNotRunning."""
    from .. import launch

    if not launch.answers(settings):
        me = command_name(settings)
        raise DaemonNotRunning(f"no meshcare node is running for {settings.home}; start it with `{me}` "
                               f"(or `{me} start`)")
    return (tui or default_tui)(settings)


def unlock(settings: config.Settings, ask: Asker | None = None, say: Say = print) -> bytes | None:
    """The passphrase of a protected identity, asked for and checked; None when the identity is not
    protected or the daemon reads the passphrase from a file itself (``--passphrase-file``).

    Raises BadInput (no terminal to ask in, or nothing typed), WrongPassphrase after ``PASSPHRASE_TRIES``.
    """
    from ..crypto import keystore

    name, _, protected = keystore.read_public(settings.keystore_path)
    if not protected or settings.passphrase_file is not None or os.environ.get("MESHCARE_PASSPHRASE_FILE"):
        return None
    if ask is None:
        if not sys.stdin.isatty():
            raise BadInput(f"the identity of {name} is protected by a passphrase and there is no terminal to "
                           "ask for it; give it with --passphrase-file F")
        import getpass

        ask = getpass.getpass
    for attempt in range(1, PASSPHRASE_TRIES + 1):
        try:
            typed = ask(f"Passphrase of {name}: ")
        except EOFError:
            raise BadInput("no passphrase was given, so the node was not started") from None
        if typed:
            passphrase = typed.encode()
            try:
                keystore.load(settings.keystore_path, passphrase)
                return passphrase
            except WrongPassphrase:
                pass
        if attempt < PASSPHRASE_TRIES:
            say("That passphrase does not unlock it; try again.")
    raise WrongPassphrase(f"the passphrase does not unlock {settings.keystore_path} ({PASSPHRASE_TRIES} tries); "
                          "the node was not started")


# --- the parts that need a person -------------------------------------------------------------------------

def default_tui(settings: config.Settings) -> int:
    """The terminal UI (``meshcare.tui.app.run``), imported only now: Textual loads for it alone."""
    module = importlib.import_module("meshcare.tui.app")
    return int(cast(TuiRunner, module.run)(settings))


def default_setup(settings: config.Settings) -> SetupResult | None:
    """The first-run setup app in this terminal. Raises BadInput when there is no terminal to run it in."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BadInput("this node has no identity yet and there is no terminal to ask for your name: create it "
                       "with `meshcare init --name NAME`, then run this again")
    from ..tui.setup import run_setup

    return run_setup(settings, create=lambda name, passphrase: create_identity(settings, name, passphrase))


def create_identity(settings: config.Settings, name: str, passphrase: bytes | None) -> str:
    """Create this data dir's identity (``meshcare init``); returns its fingerprint. Raises BadInput (the
    name) or KeystoreError (one exists already)."""
    from ..crypto import keys, keystore

    identity = keys.Identity.generate(name)
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    keystore.create(settings.keystore_path, identity, passphrase)
    return keys.fingerprint(identity.node_id)


# --- the commands -----------------------------------------------------------------------------------------

def daemon_flags(args: argparse.Namespace) -> list[str]:
    """The daemon flags parsed into ``args`` (``meshcare start --peer ...``), written back as a command line
    for the daemon: every flag ``transport.command.add_arguments`` defines, so one added there is passed on
    too. Paths become absolute (the daemon outlives this directory change)."""
    from ..transport import command as daemon_cli

    probe = argparse.ArgumentParser(add_help=False)
    daemon_cli.add_arguments(probe)
    flags: list[str] = []
    for action in probe._actions:  # noqa: SLF001 - argparse has no public list of its actions
        if not action.option_strings:
            continue
        flag = max(action.option_strings, key=len)
        value = getattr(args, action.dest, None)
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreConstAction)):  # noqa: SLF001
            if value and value != action.default:
                flags.append(flag)
        elif isinstance(action, argparse._AppendAction):  # noqa: SLF001
            for item in value or ():
                flags += [flag, _flag_value(item)]
        elif value is not None and value != action.default:
            flags += [flag, _flag_value(value)]
    return flags


def _flag_value(value: Any) -> str:
    return os.fspath(value.absolute()) if isinstance(value, Path) else str(value)


def cmd_open(args: argparse.Namespace, settings: config.Settings) -> int:
    """``meshcare`` (no command) and ``meshcare start [flags]``."""
    flags = daemon_flags(args) if getattr(args, "command", None) == "start" else []
    return open_node(settings, flags, no_tui=getattr(args, "no_tui", False))


def cmd_stop(args: argparse.Namespace, settings: config.Settings) -> int:
    from .. import launch

    pid = launch.stop(settings)
    print(f"Stopped your node (pid {pid}).")
    return EXIT_OK


def cmd_tui(args: argparse.Namespace, settings: config.Settings) -> int:
    return attach(settings)


def register(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``start``, ``stop``, ``tui`` and ``demo`` with the top-level ``add`` (cli/__init__.py)."""
    from ..transport import command as daemon_cli

    p = add("start", cmd_open, "start your node in the background (if it is not running) and open the terminal "
                               "UI; the same as `meshcare` alone, with the daemon's options", json_flag=False)
    daemon_cli.add_arguments(p)
    p.add_argument("--no-tui", action="store_true",
                   help="only start the node, in the background (open the UI later with `meshcare tui`)")
    add("stop", cmd_stop, "stop your node that runs in the background (SIGTERM; waits until it has ended)",
        json_flag=False)
    add("tui", cmd_tui, "open the terminal UI on your node that is running (start it with `meshcare`)",
        json_flag=False)

    from ..demo import cli as demo_cli

    demo_cli.add_parser(sub)

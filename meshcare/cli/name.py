"""``meshcare name [NEW]``: show this person's name, or change it on the node and in every circle.

The name a person's circles show comes from the roster (docs/protocol.md, ``rename``); the node's own
name (in the keystore) is what new circles and join requests get. With the daemon running, ``name NEW``
asks it (``node.rename``): it keeps the name in the keystore and posts a ``rename`` in every circle
where the name differs. Without a daemon only the keystore changes (no passphrase needed: the name is
kept beside the sealed key), and the person is told that their circles were not: running the command
again once the daemon runs tells them.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from .. import config
from ..errors import DaemonNotRunning
from .common import EXIT_OK, add_command, ask_daemon, emit


def cmd_name(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests import CircleList, Rename
    from ..crypto import keystore  # the keys load only for the commands that need them
    from ..crypto.keys import check_name

    if args.name is None:
        name, _, _ = keystore.read_public(settings.keystore_path)
        emit(args, {"name": name}, name)
        return EXIT_OK
    name = check_name(args.name)
    try:
        answer = ask_daemon(settings, Rename(name=name))
    except DaemonNotRunning:
        keystore.rename(settings.keystore_path, name)
        emit(args, {"name": name, "circles": [], "daemon": False},
             f"Your name is now \"{name}\" on this node. No meshcare daemon is running for {settings.home}, so your "
             f"circles were not told: run `meshcare name {shlex.quote(name)}` again once it runs.")
        return EXIT_OK
    told = answer.result.circles
    data: dict[str, Any] = {**answer.data, "daemon": True}
    if not told:
        emit(args, data, f"Your name is now \"{name}\".")
        return EXIT_OK
    circles = {c.id: c.name for c in ask_daemon(settings, CircleList()).result.circles}
    where = ", ".join(circles.get(c, c[:8]) for c in told)
    emit(args, data, f"Your name is now \"{name}\"; told {where}: members see it as it reaches them.")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``name`` to the top-level subparsers ``sub``."""
    p = add_command(sub, "name", cmd_name, "show your name, or change it here and in every circle you are in",
                    "meshcare name\n  meshcare name 'Ana (3rd floor)'",
                    more="A name someone else in one of your circles has or had is refused: pick another. "
                         "Without a running daemon only this node's name changes; run it again once the "
                         "daemon runs to tell your circles.")
    p.add_argument("name", metavar="NEW", nargs="?", help="the new name (1 to 64 characters)")

"""``meshcare circle reach CIRCLE on|off``: whether a circle's members may dial this node over Tor.

A node started with ``--tor`` and an onion service tells each of its circles its onion address (so
members on other networks can reach it); this turns that off for one circle, or on again. A thin client
of the ``circle.reach`` control op, as ``cli/common.py`` describes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .. import config
from .common import EXIT_OK, Handler, ask_daemon, emit


def cmd_circle_reach(args: argparse.Namespace, settings: config.Settings) -> int:
    from ..control.requests_reach import CircleReach

    share = args.choice == "on"
    answer = ask_daemon(settings, CircleReach(circle=args.circle, share=share))
    result = answer.result
    if not share:
        text = ("This node's onion address is not shared with the circle: its members reach this node over "
                "the LAN only." + (" They are told within a minute." if result.shown else ""))
    elif result.onion is None:
        text = ("Sharing is on, but this node has no onion address yet (start it with --tor and an onion "
                "service); the circle is told once it has one.")
    elif result.shown == result.onion:
        text = f"The circle's members can dial this node at {result.onion}."
    else:
        text = f"The circle's members will be told this node's onion address ({result.onion}) within a minute."
    emit(args, answer.data, text)
    return EXIT_OK


def add_circle_reach(add: Callable[[str, Handler, str, str, str], argparse.ArgumentParser]) -> None:
    """Add ``circle reach`` with the ``add`` helper of ``cli/circles.py``."""
    p = add("reach", cmd_circle_reach, "share this node's onion address with a circle, or stop (with --tor)",
            "meshcare circle reach 'Elm St' off\n  meshcare circle reach 'Elm St' on --json",
            "With --tor and an onion service, a node tells each of its circles where to dial it over Tor, "
            "so members on other networks can reach it. 'off' tells this circle it has no address (its "
            "members then reach this node over the LAN only); 'on' shares it again. Kept on this node.")
    p.add_argument("circle", metavar="CIRCLE", help="circle name or the start of its id")
    p.add_argument("choice", choices=("on", "off"), help="on: share the address (the default); off: do not")

"""The base of every result, and the ``linked`` key of results of ops that post.

Apart from ``results.py`` so that the results of a feature's own module (``results_board.py``, ...) can
derive from it while ``results.py`` lists them in ``RESULTS``, with no import cycle.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .schema import Int, Maybe, Record, key

__all__ = ["Result", "linked"]


def linked() -> Any:
    """The ``linked`` key of results of ops that post: whether what was posted can leave this node now."""
    return key(Maybe(Int(0)), "links open now to nodes that share the circle (members' and relays'; for "
               "`presence.set`, one of the circles told): 0 means it is kept here and goes when one of them is "
               "reachable (null: a daemon older than this key)", default=None)


class Result(Record):
    """Base of every result; ``OP`` names the operation that answers it."""

    __slots__ = ()
    OP: ClassVar[str] = ""
    WHAT: ClassVar[str] = "the answer"

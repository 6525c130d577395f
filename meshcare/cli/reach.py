"""Where a post stands once it is made, in words a person can trust: not linked, on its way, reached N of M.

A new user asked for support on a node with no neighbours and read "Your call for support went to Elm
St". It had gone nowhere: it waited in the node's store for a link. The words here say only what the
daemon knows: ``linked`` (links open now to nodes that share the circle, in the result of every op that
posts), the call's ``audience`` (who it has gone to so far) and ``reached`` (whose nodes confirmed
receipt). After a call, in a terminal, ``meshcare call`` waits a few seconds for receipts
(``wait_for_receipts``), so a person on a working network reads "reached 2 of 5", not a hopeful guess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shlex
import time
from collections.abc import Callable

if TYPE_CHECKING:  # the control API's records load with the command that uses them
    from ..control.views import Call
from ..vocab import NOT_LINKED_WORDS

#: Said when nothing a node posts can leave it yet (the TUI says the same).
NOT_LINKED = NOT_LINKED_WORDS
#: Seconds ``meshcare call`` waits for receipts in a terminal (``--wait`` overrides it).
DEFAULT_WAIT = 3.0
#: Seconds between two looks at the call while waiting.
POLL = 0.25


def people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def call_state(call: Call, linked: int | None) -> str:
    """The state of a call just made, as one clause: nobody else in the circle, not linked, reached N of M,
    or on its way (``linked`` None: a daemon too old to say, so no claim about links is made)."""
    if call.audience == 0 and call.narrowed:
        return ("it reaches nobody: everyone else it could go to is on your \"who not to involve\" list "
                "(`meshcare avoid` lists it)")
    if call.audience == 0:
        return (f"nobody else is in {call.circle_name} yet, so nobody has it; invite someone: "
                f"meshcare circle invite {shlex.quote(call.circle_name)}")
    if linked == 0:
        return NOT_LINKED
    if call.reached:
        return f"reached {call.reached} of {call.audience}"
    return f"on its way to {people(call.audience)}"


def posted_note(linked: int | None) -> str:
    """What to add after any other post (an offer, a claim, a check-in reply): nothing while it can leave
    this node, else a line saying it waits for a neighbour."""
    return f"\nThis node is {NOT_LINKED}." if linked == 0 else ""


def wait_for_receipts(call: Call, linked: int | None, seconds: float, look: Callable[[], Call], *,
                      sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.monotonic) -> Call:
    """The call after up to ``seconds`` of waiting for its audience's nodes to confirm receipt (``look``
    asks the daemon again); at once when nobody can confirm (no audience, not linked) or everyone has."""
    if seconds <= 0 or not linked or call.audience == 0:
        return call
    deadline = clock() + seconds
    while call.reached < call.audience and clock() < deadline:
        sleep(min(POLL, max(0.0, deadline - clock())))
        call = look()
    return call

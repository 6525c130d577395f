"""What the demo's neighbours do, as a pure script: events and the clock in, requests to send out.

Theory of operation
-------------------
Bo (a facilitator) and Chloe are played by this script through the control API only: each sees the
events of their own node, and what they do is a typed request to their own node (``Act``). Nothing
here does I/O or reads a clock: ``on_event(who, event, now)`` schedules reactions, ``due(now)`` hands
out the acts whose time came, ``next_deadline()`` says when to look again (the runner in ``runner.py``
sleeps until then or until the next event). Steps are spaced by ``pace`` seconds, so a person can
watch each one arrive, and a test can run the same script quickly.

The table of what happens (each reaction once per thing it reacts to):

* at start + 1 pace: Bo asks the circle how everyone is (a check-in);
* at start + 3 pace: Chloe asks for practical help (a call of her own, left open for the person);
* a call the person makes: Chloe offers to listen (or to text, if the person asked for text only),
  Bo offers to come over, then claims it and says he is on his way;
* the person offers on Chloe's call: Chloe accepts the offer and thanks them; the person claims it:
  Chloe thanks them;
* a check-in someone else sends (the person is a facilitator in the demo circle): each neighbour answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..control.events import CallChangedEvent, CheckinChangedEvent, Event
from ..control.request_base import Request
from ..control.requests import (CallAccept, CallClaim, CallCreate, CallOffer, CallUpdate, CheckinCreate,
                                CheckinReply)
from ..control.views import Call, Checkin
from .nodes import BO, CHLOE

#: What the neighbours say when they post something of their own.
CHECKIN_PROMPT = "How is everyone doing this week?"
CHLOE_CALL = ("Could someone help me carry my shopping up the stairs tomorrow morning? "
              "My back is playing up again.")
CHLOE_REACH = "Flat 2, ring twice"


@dataclass(frozen=True, slots=True)
class Act:
    """One request a neighbour sends to their own node at ``at`` (seconds, the runner's clock)."""

    who: str
    request: Request[Any]
    at: float
    what: str  # for the line that says it could not be done, e.g. "claim your call"


class Script:
    """The neighbours' behaviour; see the module doc for the table."""

    def __init__(self, *, circle: str, person: str, neighbours: Mapping[str, str], start: float,
                 pace: float = 2.0) -> None:
        self.circle = circle
        self.person = person
        self.ids = dict(neighbours)
        self.pace = pace
        self._pending: list[Act] = []
        self._done: set[tuple[str, ...]] = set()
        self._schedule(BO, CheckinCreate(circle=circle, prompt=CHECKIN_PROMPT), start + pace, "send a check-in")
        self._schedule(CHLOE, CallCreate(circle=circle, text=CHLOE_CALL, urgency="today", needs=("practical",),
                                         reach=CHLOE_REACH), start + 3 * pace, "ask for support")

    # --- the clock ------------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When the next act is due, or None when nothing is scheduled."""
        return min((act.at for act in self._pending), default=None)

    def due(self, now: float) -> list[Act]:
        """The acts due at ``now``, in time order; they are handed out once."""
        ready = sorted((a for a in self._pending if a.at <= now), key=lambda a: a.at)
        self._pending = [a for a in self._pending if a.at > now]
        return ready

    # --- events ---------------------------------------------------------------------------------------

    def on_event(self, who: str, event: Event, now: float) -> None:
        """``who``'s node told them ``event``; schedule what they do about it."""
        if who not in self.ids:
            return
        if isinstance(event, CallChangedEvent) and event.view is not None and event.view.status != "resolved":
            if event.view.caller == self.person:
                self._persons_call(who, event.view, now)
            elif event.view.caller == self.ids[who]:
                self._own_call(who, event.view, now)
        elif isinstance(event, CheckinChangedEvent) and event.view is not None:
            self._checkin(who, event.view, now)

    def _persons_call(self, who: str, call: Call, now: float) -> None:
        if not self._once(who, "call", call.id):
            return
        if who == CHLOE:
            kind, text = (("text", "All evening, whenever you like.") if "text_only" in call.consent
                          else ("listening", "Call me any time this evening."))
            self._schedule(CHLOE, CallOffer(call=call.id, kind=kind, text=text), now + self.pace, "offer support")
        elif who == BO:
            self._schedule(BO, CallOffer(call=call.id, kind="come_over", text="I'm ten minutes away."),
                           now + 1.5 * self.pace, "offer support")
            self._schedule(BO, CallClaim(call=call.id), now + 2.5 * self.pace, "take your call")
            self._schedule(BO, CallUpdate(call=call.id, text="On my way now."), now + 3 * self.pace,
                           "post an update")

    def _own_call(self, who: str, call: Call, now: float) -> None:
        for offer in call.offers:
            if offer.author == self.person and offer.id not in call.accepted and self._once(who, "offer", offer.id):
                self._schedule(who, CallAccept(call=call.id, offer=offer.id), now + self.pace, "accept your offer")
                self._schedule(who, CallUpdate(call=call.id, text="Thank you, that would help a lot."),
                               now + 1.5 * self.pace, "thank you")
        if call.claimer == self.person and self._once(who, "claimed", call.id):
            self._schedule(who, CallUpdate(call=call.id, text="Thank you! I'm in all morning."),
                           now + self.pace, "thank you")

    def _checkin(self, who: str, checkin: Checkin, now: float) -> None:
        if checkin.author == self.ids[who] or not checkin.options or not self._once(who, "checkin", checkin.id):
            return
        if who == BO:
            option, text, after = 1, "All good here.", 2 * self.pace
        else:
            option, text, after = 1, "Busy week, but OK.", self.pace
        self._schedule(who, CheckinReply(checkin=checkin.id, option=option, text=text), now + after,
                       "answer the check-in")

    # --- bookkeeping ----------------------------------------------------------------------------------

    def _once(self, *key: str) -> bool:
        """True the first time ``key`` is seen (a reaction happens once per thing)."""
        if key in self._done:
            return False
        self._done.add(key)
        return True

    def _schedule(self, who: str, request: Request[Any], at: float, what: str) -> None:
        self._pending.append(Act(who, request, at, what))

"""What the person's node sees, told as lines (``meshcare demo --no-tui``). Pure: events in, lines out.

Each ``call.changed`` and ``checkin.changed`` event carries the whole view of its call or check-in, so
the narrator remembers what it told about each (offers, updates, claimer, accepted offers, replies) and
tells only what is new. The lines quote what members wrote: the caller prints them through
``text.for_terminal``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..control.events import CallChangedEvent, CheckinChangedEvent, Event
from ..control.views import Call, Checkin
from ..vocab import NEED_WORDS, OFFER_WORDS, URGENCY_WORDS


@dataclass
class _Told:
    """What was already told about one call."""

    offers: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)
    updates: set[str] = field(default_factory=set)
    claimer: str | None = None
    resolved: bool = False


class Narrator:
    """Lines for the person whose node id is ``me``."""

    def __init__(self, me: str) -> None:
        self.me = me
        self._calls: dict[str, _Told] = {}
        self._checkins: dict[str, dict[str, str]] = {}  # check-in id -> member -> reply id told

    def on_event(self, event: Event) -> list[str]:
        """The lines ``event`` is worth (none for most events)."""
        if isinstance(event, CallChangedEvent) and event.view is not None:
            return self._call(event.view)
        if isinstance(event, CheckinChangedEvent) and event.view is not None:
            return self._checkin(event.view)
        return []

    # --- calls ----------------------------------------------------------------------------------------

    def _name(self, who: str | None, names: dict[str, str]) -> str:
        if who is None:
            return "nobody"
        return "you" if who == self.me else names.get(who) or who[:8]

    def _call(self, call: Call) -> list[str]:
        lines: list[str] = []
        told = self._calls.get(call.id)
        whose = "your call" if call.mine else f"{self._name(call.caller, call.names)}'s call"
        if told is None:
            told = self._calls[call.id] = _Told()
            needs = f", needs {', '.join(NEED_WORDS.get(n, n) for n in call.needs)}" if call.needs else ""
            urgency = URGENCY_WORDS.get(call.urgency, call.urgency)
            if call.mine:
                lines.append(f"Your call for support went to {call.circle_name} ({urgency}{needs}): \"{call.text}\"")
            else:
                lines.append(f"{self._name(call.caller, call.names)} asked {call.circle_name} for support "
                             f"({urgency}{needs}): \"{call.text}\"")
        for offer in call.offers:
            if offer.id not in told.offers:
                told.offers.add(offer.id)
                words = OFFER_WORDS.get(offer.kind, offer.kind)
                lines.append(f"{_cap(self._name(offer.author, call.names))} offered on {whose}: {words}"
                             + (f" (\"{offer.text}\")" if offer.text else ""))
        for offer_id in call.accepted:
            if offer_id not in told.accepted:
                told.accepted.add(offer_id)
                author = next((o.author for o in call.offers if o.id == offer_id), None)
                lines.append(f"{_cap(self._name(call.caller, call.names))} accepted "
                             f"{_possessive(self._name(author, call.names))} offer")
        if call.claimer != told.claimer:
            told.claimer = call.claimer
            if call.claimer is None:
                lines.append(f"Nobody has {whose} now: it is open again")
            else:
                lines.append(f"{_cap(self._name(call.claimer, call.names))} "
                             f"{'have' if call.claimer == self.me else 'has'} {whose} now")
        for update in call.updates:
            if update.id not in told.updates:
                told.updates.add(update.id)
                lines.append(f"{_cap(self._name(update.author, call.names))} in {whose}: \"{update.text}\"")
        if call.status == "resolved" and not told.resolved:
            told.resolved = True
            lines.append(f"{_cap(whose)} is resolved (by {self._name(call.resolved_by, call.names)})")
        return lines

    # --- check-ins ------------------------------------------------------------------------------------

    def _checkin(self, checkin: Checkin) -> list[str]:
        lines: list[str] = []
        author = self._name(checkin.author, checkin.names)
        told = self._checkins.get(checkin.id)
        if told is None:
            told = self._checkins[checkin.id] = {}
            answers = ", ".join(f"{i} {text}" for i, text in enumerate(checkin.options, 1))
            lines.append(f"{_cap(author)} {'ask' if checkin.author == self.me else 'asks'} {checkin.circle_name}: "
                         f"\"{checkin.prompt}\" (answers: {answers})")
        for reply in checkin.replies:
            if told.get(reply.member) == reply.id:
                continue
            told[reply.member] = reply.id
            whom = "your" if checkin.author == self.me else _possessive(author)
            said = (f"\"{reply.option_text}\"" if reply.option_text is not None
                    else "(only the facilitators can read the answer)")
            lines.append(f"{_cap(self._name(reply.member, checkin.names))} answered {whom} check-in: {said}"
                         + (f", \"{reply.text}\"" if reply.text else ""))
        return lines


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _possessive(name: str) -> str:
    return "your" if name == "you" else f"{name}'s"

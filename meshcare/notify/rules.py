"""Which events a person hears about without the TUI, in what words, and when not. Pure.

Theory of operation
-------------------
The daemon hands ``Rules.select`` the control events it makes of its circles' changes (the same typed
records a subscribed client gets: ``call.changed``, ``checkin.changed``, each with the view of the call or
check-in as it is now). Two of them matter to someone whose screen is closed:

* ``call``: a call for support this node can read appeared (``call.changed`` with ``new``): not this
  person's own, still open (a call someone already has, or that is over, by the time it reaches this node
  needs nobody woken). A call reaches someone further up its ladder when an escalation makes it readable
  there, and it appears then, as ``new``: so an escalation notifies exactly the people it adds. Not when
  this person holds as many calls as the cap they set (``busy``): a call to the whole circle still reaches
  them, but they are not pinged (a ladder step that chose them skips them altogether).
* ``checkin_reply``: someone else answered a check-in with ``vocab.SUGGEST_CALL_OPTION`` ("need support
  now"), readable here (the facilitators, or everyone when the check-in's answers are for the circle).
* ``gathering``: a gathering this person said yes or maybe to, or hosts, starts soon
  (``gathering.reminder``, sent ``remind`` minutes before it; the summary names the circle and the time,
  never the title unless the content level shows text).

Each call and each reply is told once (``Rules`` remembers the last few thousand ids: a restart starts
afresh, but the daemon's change detection does not repeat what it held before the restart).

The summary says what happened and where, never who or what, unless the settings ask for more
(``settings.CONTENT_LEVELS``): "New call in Elm St (now)". Everything a peer wrote (circle and member
names, texts) is made one line, escaped (``text.for_log``) and bounded before it goes anywhere.

Quiet hours (``allowed``) hold back everything except a call whose urgency is ``now``. A burst (a node
catching up on a day of calls) is bounded by ``Backlog``: a few wait for the command, the rest are
dropped and counted, and the next notification that runs says how many (``MESHCARE_DROPPED``).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from .. import vocab
from ..control import events as ev
from ..control import views as v
from ..text import for_log
from .settings import DEFAULT_CONTENT, QuietHours

#: What ``MESHCARE_EVENT`` says.
EVENT_CALL: Final = "call"
EVENT_CHECKIN_REPLY: Final = "checkin_reply"
EVENT_GATHERING: Final = "gathering"
EVENT_KINDS: Final = (EVENT_CALL, EVENT_CHECKIN_REPLY, EVENT_GATHERING)
#: Longest names and texts a notification carries (characters, before escaping).
NAME_LIMIT: Final = vocab.MAX_NAME
TEXT_LIMIT: Final = 200
#: How many calls and replies ``Rules`` remembers having told.
REMEMBER: Final = 4096
#: Notifications that wait for the command at most; more are dropped and counted.
BACKLOG: Final = 8


@dataclass(frozen=True, slots=True)
class Notification:
    """One thing to tell the person, with the words already chosen and made safe.

    ``name`` and ``text`` are None unless the content level shows them; ``urgency`` is the call's
    (``vocab.URGENCIES``), empty for a check-in reply."""

    event: str
    circle: str
    circle_id: str
    urgency: str
    summary: str
    subject: str            # the call's id, or the check-in's
    name: str | None = None
    text: str | None = None

    @property
    def urgent(self) -> bool:
        """A call marked ``now``: told even in quiet hours, and first when several wait."""
        return self.event == EVENT_CALL and self.urgency == "now"


def safe(text: str, limit: int) -> str:
    """Peer-written text for a notification: one line (runs of whitespace become one space), control and
    bidi characters escaped, at most ``limit`` characters (and a marker saying how many more there were)."""
    return for_log(" ".join(text.split()), limit)


def summary_of(note: Notification, dropped: int = 0) -> str:
    """The summary with the count of notifications dropped before it, if any."""
    return note.summary if dropped <= 0 else f"{note.summary} (and {dropped} more)"


def environment(note: Notification, dropped: int = 0) -> dict[str, str]:
    """The ``MESHCARE_*`` variables the command gets (docs/cli.md, Notifications)."""
    env = {"MESHCARE_EVENT": note.event, "MESHCARE_CIRCLE": note.circle, "MESHCARE_CIRCLE_ID": note.circle_id,
           "MESHCARE_URGENCY": note.urgency, "MESHCARE_SUMMARY": summary_of(note, dropped),
           "MESHCARE_DROPPED": str(max(0, dropped))}
    env[{EVENT_CALL: "MESHCARE_CALL", EVENT_GATHERING: "MESHCARE_GATHERING"}.get(note.event, "MESHCARE_CHECKIN")] = \
        note.subject
    if note.name is not None:
        env["MESHCARE_NAME"] = note.name
    if note.text is not None:
        env["MESHCARE_TEXT"] = note.text
    return env


def allowed(note: Notification, quiet: QuietHours | None, minute: int) -> bool:
    """Whether ``note`` may run at local clock time ``minute`` (minutes after midnight): always outside
    quiet hours, and inside them only for a call marked ``now``."""
    return quiet is None or note.urgent or not quiet.covers(minute)


class Rules:
    """Picks the notifications out of control events and remembers what it told (module docstring).

    ``me``: this node's member id (hex); ``content``: one of ``settings.CONTENT_LEVELS``."""

    def __init__(self, me: str, content: str = DEFAULT_CONTENT, remember: int = REMEMBER) -> None:
        self.me, self.content, self._remember = me, content, remember
        self._told: OrderedDict[tuple[str, str], None] = OrderedDict()

    def select(self, event: ev.Event) -> list[Notification]:
        """The notifications ``event`` calls for (most events: none)."""
        if isinstance(event, ev.CallChangedEvent):
            return self._call(event)
        if isinstance(event, ev.CheckinChangedEvent):
            return self._replies(event)
        if isinstance(event, ev.GatheringReminderEvent):
            return self._gathering(event)
        return []

    def _gathering(self, event: ev.GatheringReminderEvent) -> list[Notification]:
        g = event.view
        if g is None or g.cancelled or not self._first(EVENT_GATHERING, f"{g.id}@{event.when}"):
            return []
        circle = safe(g.circle_name, NAME_LIMIT)
        minutes = max(0, g.remind)
        soon = f"in {minutes // 60} h" if minutes >= 120 and minutes % 60 == 0 else f"in {minutes} min"
        text = safe(g.title, TEXT_LIMIT) if self.content == "full" else None
        summary = f"A gathering in {circle} starts {soon}" + (f": {text}" if text else "")
        return [Notification(EVENT_GATHERING, circle, g.circle, "", summary, g.id, None, text)]

    def _first(self, kind: str, ident: str) -> bool:
        """True the first time (``kind``, ``ident``) is seen (within the last ``remember``)."""
        key = (kind, ident)
        if key in self._told:
            return False
        self._told[key] = None
        if len(self._told) > self._remember:
            self._told.popitem(last=False)
        return True

    def _call(self, event: ev.CallChangedEvent) -> list[Notification]:
        call = event.view
        if (event.change != "new" or call is None or call.mine or call.caller == self.me or call.status != "open"
                or call.busy):
            return []            # busy: at the cap this person set; the call is readable, nobody pings them
        if not self._first(EVENT_CALL, call.id):
            return []
        circle = safe(call.circle_name, NAME_LIMIT)
        words = vocab.URGENCY_WORDS.get(call.urgency, call.urgency)
        name = safe(call.names.get(call.caller) or "someone", NAME_LIMIT) if self.content != "hidden" else None
        text = safe(call.text, TEXT_LIMIT) if self.content == "full" else None
        if name is None:
            summary = f"New call in {circle} ({words})"
        else:
            summary = f"New call from {name} in {circle} ({words})"
        if text:
            summary += f": {text}"
        return [Notification(EVENT_CALL, circle, call.circle, call.urgency, summary, call.id, name, text)]

    def _replies(self, event: ev.CheckinChangedEvent) -> list[Notification]:
        checkin = event.view
        if event.change not in ("new", "reply") or checkin is None:
            return []
        replies: Iterable[v.Reply] = checkin.replies
        if event.change == "reply":
            members = set(event.members)
            replies = [r for r in replies if r.member in members]
        out = []
        for reply in replies:
            if reply.member == self.me or not _needs_support(reply) or not self._first(EVENT_CHECKIN_REPLY, reply.id):
                continue
            out.append(self._reply(checkin, reply))
        return out

    def _reply(self, checkin: v.Checkin, reply: v.Reply) -> Notification:
        circle = safe(checkin.circle_name, NAME_LIMIT)
        name = safe(checkin.names.get(reply.member) or "someone", NAME_LIMIT) if self.content != "hidden" else None
        text = safe(reply.text, TEXT_LIMIT) if self.content == "full" else None
        who = "Someone" if name is None else name
        summary = f"{who} in {circle} answered \"{vocab.SUGGEST_CALL_OPTION}\" to a check-in"
        if text:
            summary += f": {text}"
        return Notification(EVENT_CHECKIN_REPLY, circle, checkin.circle, "", summary, checkin.id, name, text)


def _needs_support(reply: v.Reply) -> bool:
    return reply.suggest_call or reply.option_text == vocab.SUGGEST_CALL_OPTION


class Backlog:
    """Notifications waiting for the command, at most ``limit`` (module docstring).

    When full, a new notification is dropped and counted, except a call marked ``now``, which takes the
    place of the newest waiting one that is not. ``take`` gives the next one to run (a ``now`` call
    first, else the oldest) and how many were dropped since the last ``take``."""

    def __init__(self, limit: int = BACKLOG) -> None:
        self.limit = limit
        self.waiting: deque[Notification] = deque()
        self.dropped = 0            # in all
        self._unreported = 0        # since the last take

    def __len__(self) -> int:
        return len(self.waiting)

    def add(self, note: Notification) -> bool:
        """Queue ``note``; False when it was dropped instead."""
        if len(self.waiting) >= self.limit:
            if not note.urgent:
                self._drop()
                return False
            ordinary = [i for i, waiting in enumerate(self.waiting) if not waiting.urgent]
            if not ordinary:
                self._drop()
                return False
            del self.waiting[ordinary[-1]]
            self._drop()
        self.waiting.append(note)
        return True

    def _drop(self) -> None:
        self.dropped += 1
        self._unreported += 1

    def take(self) -> tuple[Notification, int] | None:
        """The next notification to run and the number dropped since the last take; None when empty."""
        if not self.waiting:
            return None
        index = next((i for i, waiting in enumerate(self.waiting) if waiting.urgent), 0)
        note = self.waiting[index]
        del self.waiting[index]
        dropped, self._unreported = self._unreported, 0
        return note, dropped

"""The words the terminal UI shows, as plain functions of plain values. Pure: no Textual, no I/O, no clock.

Why a module of its own: every screen says the same things the same way ("reached 2 of 5", "3 min ago",
"Ben has it"), and a person under stress should never have to decode two wordings of one state. Each
function takes what it needs (``now`` included), so the tests call them directly.

Two rules hold everywhere:

* **State is never shown by colour alone.** Each state has a word, and where it helps a glyph
  (``Glyphs``: a Unicode set, and an ASCII one for the Linux console), so a screen in monochrome, a
  colour-blind reader and a braille display all get it.
* **Text from other people is escaped twice** (``safe``): ``meshcare.text.for_terminal`` shows control
  and bidi characters as visible escapes, then markup escaping keeps a name like ``[b]Ben`` or
  ``[$accent]`` from styling the screen (or, inside an ``@click``, from acting). Everything a peer
  wrote (names, call text, offers, prompts, plans, circle names) goes through ``safe`` before it
  reaches a markup string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Final

from .. import vocab
from ..control import reachability as reach
from ..errors import BadInput
from ..text import for_terminal

# --- escaping -------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """``text`` as literal content inside Textual markup: every ``[`` escaped (Textual's own ``escape``
    leaves ``[$var]`` and ``[ b ]`` alone, and both style text), and a trailing backslash kept from
    escaping the tag that follows it (by a space)."""
    body = text.replace("[", "\\[")
    return body + " " if body.endswith("\\") else body


def safe(text: str | None, limit: int | None = None) -> str:
    """``text`` (written by someone else) ready for a markup string: control and bidi characters shown
    as escapes, markup escaped (``escape``), optionally cut to ``limit`` characters (with "…")."""
    if not text:
        return ""
    cut = limit is not None and len(text) > limit
    body = for_terminal(text, None if limit is None else max(limit - 1, 0))
    return escape(body) + ("…" if cut else "")


def one_line(text: str, limit: int) -> str:
    """The first line of ``text``, escaped (``safe``) and cut to ``limit``: for lists."""
    first, _, rest = text.strip().partition("\n")
    if rest and len(first) < limit:
        return safe(first, limit) + " …"
    return safe(first, limit)


# --- glyphs ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Glyphs:
    """Marks that go with a word (never instead of one)."""

    online: str
    offline: str
    verified: str
    unverified: str
    urgent: str
    bullet: str
    sep: str


UNICODE: Final = Glyphs(online="●", offline="○", verified="✓", unverified="?", urgent="!", bullet="·", sep="·")
#: For the Linux console, whose fonts lack most symbols.
ASCII: Final = Glyphs(online="*", offline="o", verified="+", unverified="?", urgent="!", bullet="-", sep="|")


def glyphs_for(term: str | None) -> Glyphs:
    """The glyph set for a terminal type (``$TERM``): ASCII on the Linux console, Unicode elsewhere."""
    return ASCII if term in ("linux", "vt100", "vt220", "dumb") else UNICODE


# --- time -----------------------------------------------------------------------------------------


def span(seconds: float) -> str:
    """A length of time in a few words: "a few seconds", "1 min", "3 h", "2 days"."""
    s = abs(seconds)
    if s < 60:
        return "a few seconds"
    if s < 3600:
        return f"{int(s // 60)} min"
    if s < 48 * 3600:
        hours = int(s // 3600)
        return f"{hours} h"
    return f"{int(s // 86400)} days"


def ago(then: float | None, now: float) -> str:
    """When ``then`` was, from ``now``: "just now", "2 min ago", "3 h ago"; "in 5 min" for a future time
    (a clock that runs ahead); "" for None."""
    if then is None:
        return ""
    delta = now - then
    if -60 < delta < 60:
        return "just now"
    return f"{span(delta)} ago" if delta > 0 else f"in {span(delta)}"


def until(then: float | None, now: float) -> str:
    """How long until ``then``: "in 3 h", "in 20 min"; "now" once it passed; "" for None."""
    if then is None:
        return ""
    delta = then - now
    if delta <= 0:
        return "now"
    return f"in {span(delta)}"


# --- names ----------------------------------------------------------------------------------------


def short_id(hex_id: str) -> str:
    """The first 8 hex digits of an id: what people see and type."""
    return hex_id[:8]


def name_of(member: str | None, names: Mapping[str, str], me: str | None = None) -> str:
    """A person's name for display (escaped): "you" for this node's person, their name, or "someone
    (1a2b3c4d)" when this node does not know it."""
    if member is None:
        return "nobody"
    if me is not None and member == me:
        return "you"
    name = names.get(member)
    return safe(name, vocab.MAX_NAME) if name else f"someone ({short_id(member)})"


def names_list(members: Iterable[str], names: Mapping[str, str], me: str | None = None) -> str:
    """"Ben, Chloe and you": several people in a sentence (escaped)."""
    words = [name_of(m, names, me) for m in members]
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def _words_of(name: str) -> list[str]:
    return [w for w in name.casefold().replace("-", " ").split() if w]


def matches(query: str, candidates: Mapping[str, str]) -> list[str]:
    """The ids in ``candidates`` (id -> name) that ``query`` names: an exact name (ignoring case) wins;
    otherwise every name one of whose words starts with ``query`` (ignoring case), or whose id starts
    with it (4 hex digits or more). Several words in ``query`` must each start a word of the name."""
    q = query.strip().casefold()
    if not q:
        return []
    exact = [i for i, name in candidates.items() if name.casefold() == q]
    if exact:
        return exact
    parts = q.split()
    found = []
    for ident, name in candidates.items():
        words = _words_of(name)
        if all(any(w.startswith(p) for w in words) for p in parts) or name.casefold().startswith(q):
            found.append(ident)
        elif len(q) >= vocab.MIN_ID_PREFIX and ident.startswith(q):
            found.append(ident)
    return found


def match_one(query: str, candidates: Mapping[str, str], what: str = "person") -> str:
    """The one id ``query`` names (see ``matches``). Raises BadInput saying nobody or who matched."""
    found = matches(query, candidates)
    if len(found) == 1:
        return found[0]
    if not found:
        raise BadInput(f"no {what} called {query.strip()!r} here")
    listed = ", ".join(sorted(candidates[i] for i in found)[:5])
    raise BadInput(f"{query.strip()!r} could be {listed}: type more of the name")


# --- calls ----------------------------------------------------------------------------------------


def urgency_words(urgency: str) -> str:
    """How soon, as a person says it ("now", "today", "whenever someone can")."""
    return vocab.URGENCY_WORDS.get(urgency, urgency)


def urgency_label(urgency: str, glyphs: Glyphs = UNICODE) -> str:
    """A short label for lists: "! NOW", "today", "whenever"."""
    if urgency == "now":
        return f"{glyphs.urgent} NOW"
    return "whenever" if urgency == "whenever" else urgency


def needs_words(needs: Sequence[str]) -> str:
    """"someone to listen, a ride" ("" for none)."""
    return ", ".join(vocab.NEED_WORDS.get(n, n) for n in needs)


def wishes_words(consent: Sequence[str], note: str | None = None) -> list[str]:
    """The caller's wishes, one sentence each; their own note last (escaped)."""
    out = [vocab.CONSENT_WORDS.get(c, c) for c in consent]
    if note:
        out.append(safe(note, vocab.MAX_CONSENT_NOTE))
    return out


def offer_words(kind: str) -> str:
    """"I can come over"."""
    return vocab.OFFER_WORDS.get(kind, kind)


def call_status(status: str, claimer: str | None, resolved_by: str | None, names: Mapping[str, str],
                me: str | None) -> str:
    """Where a call stands, in words: "needs someone", "Ben has it", "you have it", "resolved by Ana"."""
    if status == "open":
        return "needs someone"
    if status == "claimed":
        who = name_of(claimer, names, me)
        return "you have it" if who == "you" else f"{who} has it"
    if status == "resolved":
        return f"resolved by {name_of(resolved_by, names, me)}" if resolved_by else "resolved"
    return status


#: What the sender of a call reads while nobody could get it yet.
NOT_LINKED_YET: Final = vocab.NOT_LINKED_WORDS


#: What the sender of a call kept to a few people reads when none of those people can get it.
NOBODY_TO_READ: Final = "none of the people it is for is in the circle now: nobody can read it"


def reach_words(reached: int, audience: int, linked: int, narrow: bool = False) -> str:
    """How far a call got, honestly: "reached 2 of 5"; "on its way" while linked but nobody confirmed;
    "not linked to anyone yet: ..." when this node has no link at all; "nobody else is in the circle
    yet" for a circle of one. ``narrow``: the call goes to some of the circle only (its ladder never
    reaches everyone), so an audience of none means none of those people, not an empty circle."""
    if audience <= 0:
        return NOBODY_TO_READ if narrow else "nobody else is in the circle yet"
    if reached > 0:
        return f"reached {min(reached, audience)} of {audience}"
    return "on its way" if linked > 0 else NOT_LINKED_YET


# --- the status line --------------------------------------------------------------------------------

#: The daemon connection's states, as the status line says them.
DAEMON_WORDS: Final[Mapping[str, str]] = {"connecting": "connecting...", "connected": "connected",
                                          "reconnecting": "reconnecting..."}


def link_words(linked: int) -> str:
    """"linked to 2 neighbours", "linked to 1 neighbour", "not linked"."""
    if linked <= 0:
        return "not linked"
    return f"linked to {linked} neighbour{'s' if linked != 1 else ''}"


def sync_words(states: Iterable[str]) -> str:
    """"catching up" while any circle is, else "caught up"; "" with no circle."""
    seen = list(states)
    if not seen:
        return ""
    return "catching up" if "catching_up" in seen else "caught up"


def status_line(linked: int, sync_states: Iterable[str], daemon: str, glyphs: Glyphs = UNICODE,
                ways: tuple[int, int] | None = None) -> str:
    """The always-visible line: links, sync and the daemon connection, in words (escaped, no markup).
    ``ways``: (direct, through Tor) where Tor plays a part: then the links say how, honestly ("linked via
    LAN", "linked via Tor (slow)", "unreachable"; research notes 2.2 and 5.3)."""
    mark = glyphs.online if linked > 0 else glyphs.offline
    parts = [f"{mark} {link_words(linked) if ways is None else reach.reach_words(*ways)}"]
    sync = sync_words(sync_states)
    if sync:
        parts.append(sync)
    parts.append(f"daemon: {DAEMON_WORDS.get(daemon, daemon)}")
    return f" {glyphs.sep} ".join(parts)


# --- availability -----------------------------------------------------------------------------------


def presence_words(status: str, until_at: float | None, now: float, full: bool = False) -> str:
    """"available for 3 h more", "away", "availability unknown"; "available, at their limit"."""
    if status == "available":
        left = f" for {span(until_at - now)} more" if until_at is not None and until_at > now else ""
        return f"available{left}" + (", at their limit" if full else "")
    if status == "away":
        return "away"
    return "availability unknown"


# --- fingerprints -------------------------------------------------------------------------------------


def fingerprint_lines(fingerprint: str, per_line: int = 6) -> list[str]:
    """A fingerprint (groups of digits with spaces between) as lines of ``per_line`` groups: two people
    compare it line by line and group by group, and twelve groups never wrap in the middle. Text
    without spaces comes back as one line. Escaped (``safe``): the other person's comes from their node."""
    groups = fingerprint.split()
    if not groups:
        return [safe(fingerprint)]
    return [safe(" ".join(groups[i:i + per_line])) for i in range(0, len(groups), per_line)]


# --- times a person picks -------------------------------------------------------------------------------


def _local(now: float, tz: tzinfo | None) -> datetime:
    return datetime.fromtimestamp(now, tz)


def local_time(day: date, hour: int, tz: tzinfo | None = None) -> int:
    """Unix time of ``hour``:00 on ``day``, in ``tz`` (None: this computer's time zone)."""
    return int(datetime.combine(day, time(hour), tzinfo=tz).timestamp())


def clock_words(then: float, now: float, tz: tzinfo | None = None) -> str:
    """A time a person reads on a clock: "23:00", "tomorrow 08:00", or "Mon 14 Oct 08:00" further away
    (in ``tz``; None: this computer's time zone)."""
    at, today = _local(then, tz), _local(now, tz).date()
    if at.date() == today:
        return at.strftime("%H:%M")
    if at.date() == today + timedelta(days=1):
        return at.strftime("tomorrow %H:%M")
    return at.strftime("%a %d %b %H:%M")


#: The evening hour "tonight" means, and the morning hour "tomorrow morning" means (local time).
TONIGHT_HOUR: Final = 23
MORNING_HOUR: Final = 8


def availability_choices(now: float, tz: tzinfo | None = None) -> list[tuple[str, int]]:
    """Until when someone can say they are available, as (words, unix time), soonest first: for an hour,
    for three hours, until 23:00 tonight (while that is at least an hour away), until the next morning
    at 08:00 (this morning's when it is still night, before 05:00)."""
    here = _local(now, tz)
    out = [("for 1 hour", int(now) + 3600), ("for 3 hours", int(now) + 3 * 3600)]
    tonight = local_time(here.date(), TONIGHT_HOUR, tz)
    if tonight - now >= 3600:
        out.append((f"until {TONIGHT_HOUR}:00 tonight", tonight))
    if here.hour < 5:
        out.append((f"until the morning, {MORNING_HOUR:02d}:00", local_time(here.date(), MORNING_HOUR, tz)))
    else:
        out.append((f"until tomorrow morning, {MORNING_HOUR:02d}:00",
                    local_time(here.date() + timedelta(days=1), MORNING_HOUR, tz)))
    return out


#: When to ask "how are you doing now?" after a call is resolved: (words, seconds after now; None: never).
FOLLOWUPS: Final[tuple[tuple[str, int | None], ...]] = (
    ("no, not this time", None), ("tomorrow (in 24 hours)", 86400), ("in 3 days", 3 * 86400),
    ("in a week", 7 * 86400))

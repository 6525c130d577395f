"""Circle posts: the typed, validated content that the folds (calls, check-ins, presence, plans) read.

Theory of operation
-------------------
The membership layer opens an envelope, checks who wrote it, and hands over a ``Post``: the envelope id,
the author's member id, the author's clock (``created``), the causal clock (``lamport``), a ``kind`` and a
``body``. The body is whatever msgpack decoded (a dict with str keys; values str/int/bytes/list/None/bool),
so it came from outside and is checked here, once, by ``validate``: unknown kinds, unknown or missing
keys, wrong types, over-long text and values outside their enum are a ``RemoteProtocolError`` (reject that
one envelope, keep running). What passes comes back *normalised*: every optional key present with its
default, so the folds never need ``.get`` or a second round of checks, and ``validate`` of a normalised
body returns an equal body (it round trips). A body this node builds from a person's request (the ops)
is checked by the same rules with ``fault=BadInput``: the mistake is that person's, and the error
raised says so from the start.

Choices made here (the protocol is strict so that every node reads a post the same way):

* Required text (a call's text, an update, a check-in prompt) must hold something besides whitespace.
* Lists whose items are named as distinct (needs, consent, check-in options, ladder members) reject
  duplicates instead of quietly dropping them: a duplicate means a broken client.
* A ladder step to ``"chosen"`` names 1..50 members; a step to ``"facilitators"`` or ``"circle"`` must
  name none, so no step carries people it does not reach.
* ``plan_share`` may name a call when shared with the whole circle (context for the thread); it must name
  one when shared with a call. Shared in a call it may name its ``reader`` (the person it is sealed to,
  so its owner sees who can read it; older shares name none); shared with the circle it names none. Its
  ``plan`` carries every section (those not shared are empty), ``review_by`` a YYYY-MM-DD date or empty.
* A ``checkin_reply`` from the wire must name an option. A reply this node cannot read (its body was
  encrypted to the facilitators) is represented by ``opaque_reply(checkin_id)``: ``option`` is ``None``.
  ``validate`` never produces that, so a peer cannot send an "unreadable" reply on purpose.

Text is cleaned here, on input (``meshcare.text.clean``): control characters, ESC sequences, ``\\r`` and
bidi overrides are removed and the post is accepted, so a modified client cannot make honest nodes
disagree about what a post says, nor drive anyone's terminal. Option texts are one line.

Lengths are counted in characters (``len`` of the str), not bytes; the envelope size cap bounds bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from ..errors import BadInput, RemoteProtocolError
from ..text import clean
from .. import vocab as v
from ..vocab import (CHECKIN_VISIBILITY, CONSENTS, DEFAULT_OPTIONS, LADDER_TARGETS, MAX_CALL_TEXT,
                     MAX_CONSENT_NOTE, MAX_LADDER_AFTER, MAX_LADDER_STEPS, MAX_OFFER_TEXT, MAX_OPTION_TEXT,
                     MAX_OPTIONS, MAX_PLAN_FIELD, MAX_PRESENCE_CAP, MAX_PROMPT, MAX_REACH, MAX_REPLY_TEXT,
                     MAX_STEP_MEMBERS, MAX_UPDATE_TEXT, MIN_OPTIONS, NEEDS, OFFER_KINDS, PLAN_FIELDS,
                     PRESENCE_STATUSES, SHARE_TARGETS, SUGGEST_CALL_OPTION, TIME_MAX, URGENCIES)

# The words and limits themselves live in ``meshcare.vocab`` (shared with the control API, the CLI and
# the TUI); ``posts.URGENCIES`` and friends still name them for the tests.

ID_SIZE: Final = 32
MAX_ESCALATE_STEP: Final = MAX_LADDER_STEPS - 1

#: Posts that belong to one call's thread when ``body["call"]`` names it (always, except a ``checkin``,
#: which may go to the whole circle instead); sealing.py boxes them with the call's key.
THREAD_KINDS: Final = frozenset({"offer", "claim", "release", "accept", "update", "resolve", "escalate", "receipt",
                                 "checkin"})

#: Posts sealed to the people their body's ``to`` names, and to nobody else (sealing.py, scheme
#: "private"): the rest of the circle sees neither their kind nor who they are for. Their bodies name
#: their readers (``to``, 1..MAX_PRIVATE_TO members besides the author), so a reader always knows who
#: else can read what it holds.
PRIVATE_KINDS: Final = frozenset({"ladder_request", "ladder_answer", "ladder_withdraw", "followup", "followup_done",
                                  "safety", "safety_ping", "request", "request_reply", "request_close",
                                  "need_reach", "recovery_share"})

#: Whose fault a body that breaks the rules is: a peer's (it came over a link) or a person's (an op built it).
Fault = type[RemoteProtocolError] | type[BadInput]


class _Bad(Exception):
    """A value that breaks the rules, on its way up to ``validate`` (or ``make_post``): each record and
    list it passes through adds where it sat, and ``validate`` raises it as the caller's ``fault``.

    Nothing is built for the message until a check fails: the checks run for every field of every post
    a node opens, and building a location per field there (an object and an f-string each) cost a node
    catching up about a tenth of its opening rate (docs/benchmarks.md, section 9)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []            # innermost first

    def at(self, part: str | int) -> _Bad:
        self.path.append(f"[{part}]" if isinstance(part, int) else f": {part!r}")
        return self

    def raised_as(self, root: str, fault: Fault) -> RemoteProtocolError | BadInput:
        return fault(f"{root}{''.join(reversed(self.path))} {self.problem}")


Check = Callable[[object], Any]
"""Checks one value and returns its normalised form; raises ``_Bad`` saying what is wrong with it."""

_REQUIRED: Final = object()


@dataclass(frozen=True, slots=True)
class Post:
    """One authenticated, decrypted circle post. ``body`` is the output of ``validate`` (or
    ``opaque_reply``); the folds rely on that and never re-check it.

    ``id`` is the envelope id, a hash of the whole envelope, so two posts with the same id are the same
    post; the folds use that to drop duplicates. ``body`` takes no part in hashing (dicts cannot).
    """

    id: bytes
    author: bytes
    created: int
    lamport: int
    kind: str
    body: Mapping[str, Any] = field(hash=False)

    @property
    def order(self) -> tuple[int, bytes]:
        """The total order every fold uses: causal clock first, envelope id to break ties."""
        return (self.lamport, self.id)


def make_post(id: bytes, author: bytes, created: int, lamport: int, kind: str, body: object) -> Post:
    """Build a Post from envelope fields and a decoded body, validating all of it.

    Raises RemoteProtocolError (bad id sizes, negative clocks, or anything ``validate`` rejects).
    """
    for root, check, value in (("post id", _id, id), ("post author", _id, author),
                               ("post created", _int(0, TIME_MAX), created),
                               ("post lamport", _int(0, TIME_MAX), lamport)):
        try:
            check(value)
        except _Bad as bad:
            raise bad.raised_as(root, RemoteProtocolError) from None
    return Post(id, author, created, lamport, kind, validate(kind, body))


def opaque_reply(checkin: bytes) -> dict[str, Any]:
    """The body for a check-in reply this node could not decrypt: it counts as answered, not tallied.

    Only the membership layer builds these, from the check-in id it can see; ``validate`` rejects
    ``option: None`` from the wire. Raises RemoteProtocolError if ``checkin`` is not a 32-byte id.
    """
    try:
        return {"checkin": _id(checkin), "option": None, "text": ""}
    except _Bad as bad:
        raise bad.raised_as("checkin_reply: 'checkin'", RemoteProtocolError) from None


def _text(lo: int, hi: int, *, multiline: bool = True) -> Check:
    """Text cleaned of control and bidi characters (``text.clean``) before its length is checked: a
    post carrying ESC sequences, ``\\r`` or overrides is accepted with them removed, so every node reads
    the same, harmless text. Over-long text is still refused (cleaning never cuts here)."""
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise _Bad(f"must be text, got {type(value).__name__}")
        if len(value) > hi:
            raise _Bad(f"must be {lo} to {hi} characters, got {len(value)}")
        value = clean(value, hi, multiline=multiline)
        if not lo <= len(value) <= hi:
            raise _Bad(f"must be {lo} to {hi} characters, got {len(value)}")
        if lo > 0 and not value.strip():
            raise _Bad("must not be blank")
        return value
    return check


def _int(lo: int, hi: int) -> Check:
    def check(value: object) -> int:
        if type(value) is not int:  # bool is an int subclass; it is not a number here
            raise _Bad(f"must be an integer, got {type(value).__name__}")
        if not lo <= value <= hi:
            raise _Bad(f"must be between {lo} and {hi}, got {value}")
        return value
    return check


def _enum(choices: tuple[str, ...]) -> Check:
    def check(value: object) -> str:
        if not isinstance(value, str) or value not in choices:
            raise _Bad(f"must be one of {', '.join(choices)}; got {value!r}")
        return value
    return check


def _id(value: object) -> bytes:
    if not isinstance(value, bytes) or len(value) != ID_SIZE:
        got = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
        raise _Bad(f"must be a {ID_SIZE}-byte id, got {got}")
    return value


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise _Bad(f"must be true or false, got {type(value).__name__}")
    return value


def _blob(lo: int, hi: int) -> Check:
    """Opaque bytes of bounded length (a sealed recovery bundle, a signed setup record: their own
    modules read them)."""
    def check(value: object) -> bytes:
        if not isinstance(value, bytes) or not lo <= len(value) <= hi:
            got = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
            raise _Bad(f"must be {lo} to {hi} bytes, got {got}")
        return value
    return check


def _nullable(inner: Check) -> Check:
    def check(value: object) -> Any:
        return None if value is None else inner(value)
    return check


def _distinct_list(item: Check, lo: int, hi: int) -> Check:
    def check(value: object) -> list[Any]:
        if not isinstance(value, list):
            raise _Bad(f"must be a list, got {type(value).__name__}")
        if not lo <= len(value) <= hi:
            raise _Bad(f"must have {lo} to {hi} items, got {len(value)}")
        out = []
        for i, v in enumerate(value):
            try:
                out.append(item(v))
            except _Bad as bad:
                raise bad.at(i) from None
        if len(set(out)) != len(out):
            raise _Bad("must not repeat an item")
        return out
    return check


def _record(value: object, fields: Mapping[str, tuple[Check, Any]]) -> dict[str, Any]:
    """Check a str-keyed dict against ``fields`` (name -> (check, default factory or _REQUIRED))."""
    if not isinstance(value, dict):
        raise _Bad(f"must be a map, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise _Bad(f"has a non-text key {key!r}")
        if key not in fields:
            raise _Bad(f"has unknown field {key!r}")
    out: dict[str, Any] = {}
    for name, (check, default) in fields.items():
        if name in value:
            try:
                out[name] = check(value[name])
            except _Bad as bad:
                raise bad.at(name) from None
        elif default is _REQUIRED:
            raise _Bad(f"is missing required field {name!r}")
        else:
            out[name] = default()
    return out


def _none() -> None:
    return None


def _empty_list() -> list[Any]:
    return []


def _empty_text() -> str:
    return ""


def _const(value: str) -> Callable[[], str]:
    return lambda: value


_STEP_FIELDS: Final[Mapping[str, tuple[Check, Any]]] = {
    "after": (_int(0, MAX_LADDER_AFTER), _REQUIRED),
    "to": (_enum(LADDER_TARGETS), _REQUIRED),
    "members": (_distinct_list(_id, 0, MAX_STEP_MEMBERS), _empty_list),
}


def default_ladder() -> list[dict[str, Any]]:
    """The ladder of a call that names none: the whole circle, straight away, no escalation."""
    return [{"after": 0, "to": "circle", "members": []}]


def _ladder(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _Bad(f"must be a list, got {type(value).__name__}")
    if not 1 <= len(value) <= MAX_LADDER_STEPS:
        raise _Bad(f"must have 1 to {MAX_LADDER_STEPS} steps, got {len(value)}")
    steps = []
    for i, v in enumerate(value):
        try:
            steps.append(_record(v, _STEP_FIELDS))
        except _Bad as bad:
            raise bad.at(i) from None
    if steps[0]["after"] != 0:
        raise _Bad("must start with a step after 0 minutes (where the call goes first)")
    for i, step in enumerate(steps):
        if i and step["after"] <= steps[i - 1]["after"]:
            before = steps[i - 1]["after"]
            raise _Bad(f"must be later than the step before ({before})").at("after").at(i)
        if step["to"] == "chosen" and not step["members"]:
            raise _Bad("goes to chosen members but names none").at(i)
        if step["to"] != "chosen" and step["members"]:
            raise _Bad(f"goes to {step['to']} and must not name members").at(i)
    return steps


def _options(value: object) -> list[str]:
    out: list[str] = _distinct_list(_text(1, MAX_OPTION_TEXT, multiline=False), MIN_OPTIONS, MAX_OPTIONS)(value)
    return out


_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def plan_date_ok(text: str) -> bool:
    """True for an empty review date or a real calendar date written YYYY-MM-DD (the one form a plan's
    ``review_by`` takes, on the wire and on the owner's node alike)."""
    if not text:
        return True
    if not _DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _plan(value: object) -> dict[str, Any]:
    """Every section text (missing ones empty), ``review_by`` a date or empty, all of it at most
    ``MAX_PLAN_TOTAL`` characters (16 full sections would not fit in one envelope)."""
    out = _record(value, {name: (_text(0, MAX_PLAN_FIELD), _empty_text) for name in PLAN_FIELDS})
    if not plan_date_ok(out[v.PLAN_REVIEW_FIELD]):
        raise _Bad("must be a date written YYYY-MM-DD, or empty").at(v.PLAN_REVIEW_FIELD)
    total = sum(len(text) for text in out.values())
    if total > v.MAX_PLAN_TOTAL:
        raise _Bad(f"must be at most {v.MAX_PLAN_TOTAL} characters in all, got {total}")
    return out


_ID: Final = (_id, _REQUIRED)
_TIME: Final = (_int(0, TIME_MAX), _REQUIRED)
_TIME_OR_NONE: Final = (_nullable(_int(0, TIME_MAX)), _none)


def _to(most: int = v.MAX_PRIVATE_TO) -> tuple[Check, Any]:
    """A private post's readers besides its author: 1..``most`` distinct member ids."""
    return (_distinct_list(_id, 1, most), _REQUIRED)


def _lines(most: int) -> tuple[Check, Any]:
    """A short list of one-line texts (agreements, the rounds of a gathering)."""
    return (_distinct_list(_text(1, v.MAX_ITEM_TEXT, multiline=False), 0, most), _empty_list)


def _false() -> bool:
    return False

SCHEMAS: Final[Mapping[str, Mapping[str, tuple[Check, Any]]]] = {
    "call": {
        "text": (_text(1, MAX_CALL_TEXT), _REQUIRED),
        "urgency": (_enum(URGENCIES), _const("today")),
        "needs": (_distinct_list(_enum(NEEDS), 0, len(NEEDS)), _empty_list),
        "reach": (_nullable(_text(0, MAX_REACH)), _none),
        "consent": (_distinct_list(_enum(CONSENTS), 0, len(CONSENTS)), _empty_list),
        "consent_note": (_nullable(_text(0, MAX_CONSENT_NOTE)), _none),
        "ladder": (_ladder, default_ladder),
        # "not for everyone": the caller left someone out (their private "who not to involve" list). Readers
        # learn only that, never who; the call's key is sealed to each reader and never handed to newcomers
        "narrowed": (_bool, _false),
    },
    "offer": {"call": _ID, "kind": (_enum(OFFER_KINDS), _REQUIRED),
              "text": (_text(0, MAX_OFFER_TEXT), _empty_text)},
    "claim": {"call": _ID},
    "release": {"call": _ID},
    "accept": {"call": _ID, "offer": _ID},
    "update": {"call": _ID, "text": (_text(1, MAX_UPDATE_TEXT), _REQUIRED)},
    "resolve": {"call": _ID, "followup_at": _TIME_OR_NONE},
    "escalate": {"call": _ID, "step": (_int(1, MAX_ESCALATE_STEP), _REQUIRED),
                 "narrowed": (_bool, _false)},       # as the call's: its key is sealed to each new reader
    "receipt": {"call": _ID},
    "checkin": {
        "prompt": (_text(1, MAX_PROMPT), _REQUIRED),
        "options": (_options, lambda: list(DEFAULT_OPTIONS)),
        "visibility": (_enum(CHECKIN_VISIBILITY), _const("facilitators")),
        "call": (_nullable(_id), _none),
        "closes_at": _TIME_OR_NONE,
    },
    "checkin_reply": {"checkin": _ID, "option": (_int(0, MAX_OPTIONS - 1), _REQUIRED),
                      "text": (_text(0, MAX_REPLY_TEXT), _empty_text)},
    "presence": {"status": (_enum(PRESENCE_STATUSES), _REQUIRED), "until": _TIME_OR_NONE,
                 "cap": (_nullable(_int(1, MAX_PRESENCE_CAP)), _none)},
    "plan_share": {"to": (_enum(SHARE_TARGETS), _REQUIRED), "call": (_nullable(_id), _none),
                   "plan": (_plan, _REQUIRED), "reader": (_nullable(_id), _none)},
    "plan_retract": {"share": _ID},
    # --- ladders: consent-based (ladders.py) --------------------------------------------------------
    "ladder_request": {"to": _to(1), "ladder": (_text(1, v.MAX_LADDER_NAME, multiline=False), _const(v.DEFAULT_LADDER)),
                       "step": (_int(0, MAX_LADDER_STEPS - 1), lambda: 0),
                       "text": (_text(0, v.MAX_NOTE), _empty_text)},
    "ladder_answer": {"to": _to(1), "request": _ID, "answer": (_enum(v.LADDER_ANSWERS), _REQUIRED)},
    "ladder_withdraw": {"to": _to(1), "request": _ID},
    # --- follow-up and responder care ---------------------------------------------------------------
    "followup": {"to": _to(), "call": _ID, "who": _ID, "due": _TIME, "again": _TIME_OR_NONE},
    # a done names its call too (follow-ups are folded per call: followups.py) and which check-in it
    # closes: the first (``again`` false) or the caller's second one, days later
    "followup_done": {"to": _to(), "followup": _ID, "call": _ID, "again": (_bool, _false)},
    "safety": {"to": _to(), "every": (_int(v.MIN_SAFETY_EVERY, v.MAX_SAFETY_EVERY), _REQUIRED),
               "text": (_text(0, v.MAX_NOTE), _empty_text)},
    "safety_ping": {"to": _to(), "timer": _ID, "status": (_enum(v.SAFETY_STATUSES), _REQUIRED)},
    # --- gatherings ---------------------------------------------------------------------------------
    "gathering": {"title": (_text(1, v.MAX_TITLE, multiline=False), _REQUIRED),
                  "kind": (_enum(v.GATHERING_KINDS), _const("group")),
                  "when": _TIME, "ends": _TIME_OR_NONE,
                  "where": (_text(0, v.MAX_NOTE), _empty_text),
                  "about": (_text(0, v.MAX_GATHERING_TEXT), _empty_text),
                  "hosts": (_distinct_list(_id, 0, v.MAX_GATHERING_HOSTS), _empty_list),
                  "agreements": _lines(v.MAX_LIST_ITEMS), "format": _lines(v.MAX_LIST_ITEMS),
                  "aftercare": (_text(0, v.MAX_GATHERING_TEXT), _empty_text),
                  "remind": (_int(0, v.MAX_REMIND_MINUTES), lambda: 60)},
    "gathering_cancel": {"gathering": _ID},
    "rsvp": {"gathering": _ID, "answer": (_enum(v.RSVP_ANSWERS), _REQUIRED)},
    "agreements": {"items": (_distinct_list(_text(1, v.MAX_ITEM_TEXT, multiline=False), 1, v.MAX_LIST_ITEMS),
                             _REQUIRED)},
    # --- the mutual-aid board -----------------------------------------------------------------------
    "need": {"kind": (_enum(v.BOARD_KINDS), _const("need")), "category": (_enum(v.NEED_CATEGORIES), _REQUIRED),
             "text": (_text(1, v.MAX_NEED_TEXT), _REQUIRED), "when": (_text(0, v.MAX_NOTE, multiline=False), _empty_text),
             "anonymous": (_bool, _false)},
    "need_take": {"need": _ID},
    "need_release": {"need": _ID},
    "need_done": {"need": _ID},
    "need_reach": {"to": _to(1), "need": _ID, "text": (_text(1, v.MAX_NOTE), _REQUIRED)},
    "board_settings": {"anonymous": (_bool, _REQUIRED)},
    # --- private requests to facilitators -----------------------------------------------------------
    "request": {"to": _to(v.MAX_REQUEST_TO), "about": (_enum(v.REQUEST_ABOUT), _const("conversation")),
                "text": (_text(1, v.MAX_REQUEST_TEXT), _REQUIRED)},
    "request_reply": {"to": _to(), "request": _ID, "text": (_text(1, v.MAX_REQUEST_TEXT), _REQUIRED)},
    "request_close": {"to": _to(), "request": _ID},
    # --- the circle's library -----------------------------------------------------------------------
    "library_note": {"title": (_text(1, v.MAX_TITLE, multiline=False), _REQUIRED),
                     "text": (_text(0, v.MAX_LIBRARY_TEXT), _empty_text), "revises": (_nullable(_id), _none)},
    "library_remove": {"note": _ID},
    # --- social recovery (meshcare/recovery): a share of the owner's recovery key, sealed to its holder
    # alone, with the sealed bundle and the setup record the owner signed (records.py reads them)
    "recovery_share": {"to": _to(1), "share": (_text(1, v.MAX_RECOVERY_SHARE, multiline=False), _REQUIRED),
                       "bundle": (_blob(1, v.MAX_RECOVERY_BUNDLE), _REQUIRED),
                       "record": (_blob(1, v.MAX_RECOVERY_RECORD), _REQUIRED)},
}
KINDS: Final = tuple(SCHEMAS)


def validate(kind: str, body: object, *, fault: Fault = RemoteProtocolError) -> dict[str, Any]:
    """Check one decoded body for ``kind``; return it normalised (every optional field filled in).

    The result is a new dict (lists copied), so the caller may keep it while the input changes.
    Raises ``fault`` naming the kind, the field and what was wrong: RemoteProtocolError for a body that
    came from a peer (the default), BadInput for one an op built from a person's request.
    """
    schema = SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise fault(f"unknown post kind {kind!r}")
    try:
        out = _record(body, schema)
    except _Bad as bad:
        raise bad.raised_as(kind, fault) from None
    if kind == "plan_share" and out["to"] == "call" and out["call"] is None:
        raise fault("plan_share is shared with a call but names none")
    if kind == "plan_share" and out["to"] == "circle" and out["reader"] is not None:
        raise fault("plan_share is shared with the circle but names one reader")
    return out


def thread_call(post: Post) -> bytes | None:
    """The call whose thread ``post`` belongs to, or None (a call itself, or not about a call)."""
    if post.kind in THREAD_KINDS:
        call = post.body.get("call")
        return call if isinstance(call, bytes) else None
    return None


def dedupe_sorted(posts: Iterable[Post]) -> list[Post]:
    """Posts of an iterable, duplicates (same id) dropped, in (lamport, id) order.

    Every fold starts here, which is what makes them independent of arrival order and repeats.
    """
    by_id: dict[bytes, Post] = {}
    for post in posts:
        by_id.setdefault(post.id, post)
    return sorted(by_id.values(), key=lambda p: p.order)

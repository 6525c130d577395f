"""posts.validate: every kind's defaults, every rejection path, and the round trip.

The small builders the fold tests share (``mid``, ``mk``, ``ladders``) are in tests/helpers.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare import vocab as v
from meshcare import wire
from meshcare.circles import posts as p
from meshcare.circles.posts import Post, make_post, opaque_reply, validate
from meshcare.errors import BadInput, RemoteProtocolError
from meshcare.text import clean

from .helpers import ladders, mid, mk

ID = b"\x01" * 32
ID2 = b"\x02" * 32


# --- hypothesis strategies for valid bodies ------------------------------------------------------

ids = st.binary(min_size=32, max_size=32)


def texts(lo: int, hi: int) -> st.SearchStrategy[str]:
    """Text as an honest client sends it: already clean (validate strips control characters)."""
    s = st.text(min_size=lo, max_size=min(hi, 12)).map(lambda t: clean(t, hi)).filter(lambda t: len(t) >= lo)
    return s.filter(lambda t: bool(t.strip())) if lo else s


def _opt_time() -> st.SearchStrategy[int | None]:
    return st.none() | st.integers(0, 2**40)


BODIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "call": st.fixed_dictionaries({"text": texts(1, 4000)}, optional={
        "urgency": st.sampled_from(p.URGENCIES),
        "needs": st.lists(st.sampled_from(p.NEEDS), unique=True),
        "reach": st.none() | texts(0, 500), "consent": st.lists(st.sampled_from(p.CONSENTS), unique=True),
        "consent_note": st.none() | texts(0, 500), "ladder": ladders()}),
    "offer": st.fixed_dictionaries({"call": ids, "kind": st.sampled_from(p.OFFER_KINDS)},
                                   optional={"text": texts(0, 2000)}),
    "claim": st.fixed_dictionaries({"call": ids}),
    "release": st.fixed_dictionaries({"call": ids}),
    "accept": st.fixed_dictionaries({"call": ids, "offer": ids}),
    "update": st.fixed_dictionaries({"call": ids, "text": texts(1, 4000)}),
    "resolve": st.fixed_dictionaries({"call": ids}, optional={"followup_at": _opt_time()}),
    "escalate": st.fixed_dictionaries({"call": ids, "step": st.integers(1, 4)}),
    "receipt": st.fixed_dictionaries({"call": ids}),
    "checkin": st.fixed_dictionaries({"prompt": texts(1, 1000)}, optional={
        "options": st.lists(texts(1, 60).map(lambda t: clean(t, 60, multiline=False)).filter(str.strip), min_size=2, max_size=6, unique=True),
        "visibility": st.sampled_from(p.CHECKIN_VISIBILITY), "call": st.none() | ids,
        "closes_at": _opt_time()}),
    "checkin_reply": st.fixed_dictionaries({"checkin": ids, "option": st.integers(0, 5)},
                                           optional={"text": texts(0, 2000)}),
    "presence": st.fixed_dictionaries({"status": st.sampled_from(p.PRESENCE_STATUSES)}, optional={
        "until": _opt_time(), "cap": st.none() | st.integers(1, 20)}),
    "plan_share": st.fixed_dictionaries({"to": st.just("call"), "call": ids, "plan": st.fixed_dictionaries(
        {}, optional={**{k: texts(0, 500) for k in p.PLAN_FIELDS},
                      v.PLAN_REVIEW_FIELD: st.just("") | st.dates().map(lambda d: d.isoformat()).filter(
                          lambda d: len(d) == 10)})}, optional={"reader": st.none() | ids})
    | st.fixed_dictionaries({"to": st.just("circle"), "plan": st.just({})}, optional={"call": st.none() | ids}),
    "plan_retract": st.fixed_dictionaries({"share": ids}),
    **{kind: st.fixed_dictionaries(req, optional=opt) for kind, (req, opt) in {
        "ladder_request": ({"to": st.lists(ids, min_size=1, max_size=1)},
                           {"ladder": texts(1, 40).map(lambda t: clean(t, 40, multiline=False)).filter(str.strip),
                            "step": st.integers(0, 4), "text": texts(0, 500)}),
        "ladder_answer": ({"to": st.lists(ids, min_size=1, max_size=1), "request": ids,
                           "answer": st.sampled_from(v.LADDER_ANSWERS)}, {}),
        "ladder_withdraw": ({"to": st.lists(ids, min_size=1, max_size=1), "request": ids}, {}),
        "followup": ({"to": st.lists(ids, min_size=1, max_size=16, unique=True), "call": ids, "who": ids,
                      "due": st.integers(0, 2**40)}, {"again": _opt_time()}),
        "followup_done": ({"to": st.lists(ids, min_size=1, max_size=3, unique=True), "followup": ids, "call": ids},
                           {"again": st.booleans()}),
        "safety": ({"to": st.lists(ids, min_size=1, max_size=3, unique=True), "every": st.integers(5, 240)},
                   {"text": texts(0, 500)}),
        "safety_ping": ({"to": st.lists(ids, min_size=1, max_size=3, unique=True), "timer": ids,
                         "status": st.sampled_from(v.SAFETY_STATUSES)}, {}),
        "gathering": ({"title": texts(1, 120).map(lambda t: clean(t, 120, multiline=False)).filter(str.strip),
                       "when": st.integers(0, 2**40)},
                      {"kind": st.sampled_from(v.GATHERING_KINDS), "ends": _opt_time(), "where": texts(0, 500),
                       "about": texts(0, 2000), "hosts": st.lists(ids, max_size=4, unique=True),
                       "agreements": st.lists(st.sampled_from(v.DEFAULT_AGREEMENTS), unique=True),
                       "format": st.lists(st.sampled_from(v.DEFAULT_FORMAT), unique=True),
                       "aftercare": texts(0, 2000), "remind": st.integers(0, 7 * 24 * 60)}),
        "gathering_cancel": ({"gathering": ids}, {}),
        "rsvp": ({"gathering": ids, "answer": st.sampled_from(v.RSVP_ANSWERS)}, {}),
        "agreements": ({"items": st.lists(st.sampled_from(v.DEFAULT_AGREEMENTS), min_size=1, unique=True)}, {}),
        "need": ({"category": st.sampled_from(v.NEED_CATEGORIES), "text": texts(1, 1000)},
                 {"kind": st.sampled_from(v.BOARD_KINDS), "anonymous": st.booleans()}),
        "need_take": ({"need": ids}, {}),
        "need_release": ({"need": ids}, {}),
        "need_done": ({"need": ids}, {}),
        "need_reach": ({"to": st.lists(ids, min_size=1, max_size=1), "need": ids, "text": texts(1, 500)}, {}),
        "board_settings": ({"anonymous": st.booleans()}, {}),
        "request": ({"to": st.lists(ids, min_size=1, max_size=2, unique=True), "text": texts(1, 4000)},
                    {"about": st.sampled_from(v.REQUEST_ABOUT)}),
        "request_reply": ({"to": st.lists(ids, min_size=1, max_size=2, unique=True), "request": ids,
                           "text": texts(1, 4000)}, {}),
        "request_close": ({"to": st.lists(ids, min_size=1, max_size=2, unique=True), "request": ids}, {}),
        "library_note": ({"title": texts(1, 120).map(lambda t: clean(t, 120, multiline=False)).filter(str.strip)},
                         {"text": texts(0, 8000), "revises": st.none() | ids}),
        "library_remove": ({"note": ids}, {}),
        "recovery_share": ({"to": st.lists(ids, min_size=1, max_size=1), "share": st.just("academic " * 32 + "acid"),
                            "bundle": st.binary(min_size=1, max_size=64), "record": st.binary(min_size=1, max_size=64)},
                           {}),
    }.items()},
}


def test_every_kind_has_a_strategy():
    assert set(BODIES) == set(p.KINDS)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(BODIES)).flatmap(lambda k: st.tuples(st.just(k), BODIES[k])))
def test_validate_round_trips_through_itself_and_msgpack(kind_body):
    kind, body = kind_body
    once = validate(kind, body)
    assert validate(kind, once) == once
    assert validate(kind, wire.unpack_strict(wire.pack(once))) == once
    assert set(once) == set(p.SCHEMAS[kind])  # every field present after normalising
    assert all(once[k] == v for k, v in body.items() if k != "plan")


# --- defaults ------------------------------------------------------------------------------------


def test_call_defaults():
    assert validate("call", {"text": "can someone sit with me"}) == {
        "text": "can someone sit with me", "urgency": "today", "needs": [], "reach": None, "consent": [],
        "consent_note": None, "ladder": [{"after": 0, "to": "circle", "members": []}], "narrowed": False}


def test_other_defaults():
    assert validate("offer", {"call": ID, "kind": "come_over"}) == {"call": ID, "kind": "come_over", "text": ""}
    assert validate("resolve", {"call": ID}) == {"call": ID, "followup_at": None}
    assert validate("checkin", {"prompt": "how are you?"}) == {
        "prompt": "how are you?", "options": ["doing OK", "could use a chat", "need support now"],
        "visibility": "facilitators", "call": None, "closes_at": None}
    assert validate("checkin_reply", {"checkin": ID, "option": 0}) == {"checkin": ID, "option": 0, "text": ""}
    assert validate("presence", {"status": "away"}) == {"status": "away", "until": None, "cap": None}
    assert validate("plan_share", {"to": "circle", "plan": {"helps": "tea"}}) == {
        "to": "circle", "call": None, "reader": None, "plan": {**dict.fromkeys(v.PLAN_FIELDS, ""), "helps": "tea"}}
    assert validate("call", {"text": "x", "ladder": [{"after": 0, "to": "facilitators"}]})["ladder"] == [
        {"after": 0, "to": "facilitators", "members": []}]


def test_defaults_are_fresh_and_input_is_not_shared():
    first = validate("call", {"text": "x"})
    first["needs"].append("ride")
    first["ladder"][0]["members"].append(ID)
    assert validate("call", {"text": "x"})["needs"] == []
    assert validate("call", {"text": "x"})["ladder"] == p.default_ladder()
    needs = ["listen"]
    out = validate("call", {"text": "x", "needs": needs})
    needs.append("ride")
    assert out["needs"] == ["listen"]


def test_limits_are_inclusive():
    validate("call", {"text": "x" * p.MAX_CALL_TEXT, "reach": "r" * 500, "consent_note": "n" * 500})
    validate("checkin", {"prompt": "p" * 1000, "options": ["a" * 60, "b"]})
    validate("checkin", {"prompt": "p", "options": [str(i) for i in range(6)]})
    validate("call", {"text": "x", "ladder": [{"after": a, "to": "circle"} for a in (0, 1, 2, 3, 1440)]})
    validate("call", {"text": "x", "ladder": [{"after": 0, "to": "chosen", "members": [mid(i) for i in range(50)]}]})
    validate("presence", {"status": "available", "cap": 20})
    validate("escalate", {"call": ID, "step": 4})


def test_plan_share_may_name_a_call_when_shared_with_the_circle():
    assert validate("plan_share", {"to": "circle", "call": ID, "plan": {}})["call"] == ID


# --- rejections ----------------------------------------------------------------------------------

CALL = {"text": "x"}
STEP = {"after": 0, "to": "circle"}


def ladder(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"text": "x", "ladder": list(steps)}


BAD: list[tuple[str, object, str]] = [
    ("diagnosis", {}, "unknown post kind 'diagnosis'"),
    (3, {}, "unknown post kind 3"),  # type: ignore[list-item]
    ("claim", [ID], "claim must be a map, got list"),
    ("claim", {1: ID, "call": ID}, "non-text key 1"),
    ("call", {**CALL, "risk": 3}, "unknown field 'risk'"),
    ("call", {}, "missing required field 'text'"),
    ("call", {"text": b"x"}, "'text' must be text, got bytes"),
    ("call", {"text": ""}, "'text' must be 1 to 4000 characters, got 0"),
    ("call", {"text": "x" * 4001}, "got 4001"),
    ("call", {"text": " \n\t"}, "'text' must not be blank"),
    ("call", {**CALL, "urgency": "asap"}, "'urgency' must be one of now, today, whenever"),
    ("call", {**CALL, "urgency": 1}, "'urgency' must be one of"),
    ("call", {**CALL, "needs": "listen"}, "'needs' must be a list, got str"),
    ("call", {**CALL, "needs": ["therapy"]}, "'needs'[0] must be one of"),
    ("call", {**CALL, "needs": ["ride", "ride"]}, "'needs' must not repeat"),
    ("call", {**CALL, "needs": ["listen"] * 5}, "'needs' must have 0 to 4 items, got 5"),
    ("call", {**CALL, "reach": "r" * 501}, "'reach' must be 0 to 500 characters"),
    ("call", {**CALL, "reach": 5551234}, "'reach' must be text, got int"),
    ("call", {**CALL, "consent": ["no_hospital"]}, "'consent'[0] must be one of"),
    ("call", {**CALL, "consent": ["no_calls", "no_calls"]}, "'consent' must not repeat"),
    ("call", {**CALL, "consent_note": "n" * 501}, "'consent_note' must be 0 to 500"),
    ("call", {**CALL, "ladder": {}}, "'ladder' must be a list, got dict"),
    ("call", ladder(), "'ladder' must have 1 to 5 steps, got 0"),
    ("call", ladder(*[{"after": a, "to": "circle"} for a in range(6)]), "must have 1 to 5 steps, got 6"),
    ("call", ladder("circle"), "'ladder'[0] must be a map"),
    ("call", ladder({**STEP, "why": 1}), "'ladder'[0] has unknown field 'why'"),
    ("call", ladder({"after": 0}), "'ladder'[0] is missing required field 'to'"),
    ("call", ladder({"after": True, "to": "circle"}), "'after' must be an integer, got bool"),
    ("call", ladder(STEP, {"after": 1441, "to": "circle"}), "'after' must be between 0 and 1440, got 1441"),
    ("call", ladder({"after": -1, "to": "circle"}), "between 0 and 1440, got -1"),
    ("call", ladder({"after": 5, "to": "circle"}), "must start with a step after 0 minutes"),
    ("call", ladder(STEP, {"after": 10, "to": "circle"}, {"after": 10, "to": "facilitators"}),
     "'ladder'[2]: 'after' must be later than the step before (10)"),
    ("call", ladder(STEP, {"after": 10, "to": "circle"}, {"after": 5, "to": "circle"}), "later than"),
    ("call", ladder({"after": 0, "to": "chosen"}), "goes to chosen members but names none"),
    ("call", ladder({**STEP, "members": [ID]}), "goes to circle and must not name members"),
    ("call", ladder({"after": 0, "to": "everyone"}), "'to' must be one of chosen, facilitators, circle"),
    ("call", ladder({"after": 0, "to": "chosen", "members": [b"x" * 31]}), "must be a 32-byte id, got 31 bytes"),
    ("call", ladder({"after": 0, "to": "chosen", "members": [mid(i) for i in range(51)]}), "0 to 50 items"),
    ("call", ladder({"after": 0, "to": "chosen", "members": [ID, ID]}), "must not repeat"),
    ("offer", {"kind": "call"}, "offer is missing required field 'call'"),
    ("offer", {"call": ID[:31], "kind": "call"}, "offer: 'call' must be a 32-byte id, got 31 bytes"),
    ("offer", {"call": ID.hex(), "kind": "call"}, "32-byte id, got str"),
    ("offer", {"call": ID, "kind": "advice"}, "'kind' must be one of call, come_over, listening, text"),
    ("offer", {"call": ID, "kind": "text", "text": "t" * 2001}, "'text' must be 0 to 2000"),
    ("claim", {"call": ID, "note": ""}, "unknown field 'note'"),
    ("release", {}, "release is missing required field 'call'"),
    ("accept", {"call": ID}, "missing required field 'offer'"),
    ("update", {"call": ID}, "missing required field 'text'"),
    ("update", {"call": ID, "text": "u" * 4001}, "'text' must be 1 to 4000"),
    ("resolve", {"call": ID, "followup_at": -5}, "'followup_at' must be between 0"),
    ("resolve", {"call": ID, "followup_at": False}, "must be an integer, got bool"),
    ("resolve", {"call": ID, "followup_at": "tomorrow"}, "must be an integer, got str"),
    ("escalate", {"call": ID, "step": 0}, "'step' must be between 1 and 4, got 0"),
    ("escalate", {"call": ID, "step": 5}, "between 1 and 4, got 5"),
    ("escalate", {"call": ID}, "missing required field 'step'"),
    ("receipt", {"call": None}, "32-byte id, got NoneType"),
    ("checkin", {}, "missing required field 'prompt'"),
    ("checkin", {"prompt": "p" * 1001}, "'prompt' must be 1 to 1000"),
    ("checkin", {"prompt": "p", "options": ["only"]}, "'options' must have 2 to 6 items, got 1"),
    ("checkin", {"prompt": "p", "options": list("abcdefg")}, "got 7"),
    ("checkin", {"prompt": "p", "options": ["a", "a"]}, "'options' must not repeat"),
    ("checkin", {"prompt": "p", "options": ["a", ""]}, "'options'[1] must be 1 to 60"),
    ("checkin", {"prompt": "p", "options": ["a", "  "]}, "'options'[1] must not be blank"),
    ("checkin", {"prompt": "p", "options": ["a", "b" * 61]}, "got 61"),
    ("checkin", {"prompt": "p", "options": ["a", 2]}, "'options'[1] must be text"),
    ("checkin", {"prompt": "p", "visibility": "public"}, "'visibility' must be one of facilitators, circle"),
    ("checkin", {"prompt": "p", "call": b""}, "'call' must be a 32-byte id, got 0 bytes"),
    ("checkin", {"prompt": "p", "closes_at": "soon"}, "'closes_at' must be an integer"),
    ("checkin_reply", {"checkin": ID, "option": None}, "'option' must be an integer, got NoneType"),
    ("checkin_reply", {"checkin": ID, "option": -1}, "'option' must be between 0 and 5, got -1"),
    ("checkin_reply", {"checkin": ID, "option": 6}, "got 6"),
    ("checkin_reply", {"checkin": ID, "option": 0, "text": "t" * 2001}, "'text' must be 0 to 2000"),
    ("checkin_reply", {"option": 0}, "missing required field 'checkin'"),
    ("presence", {"status": "busy"}, "'status' must be one of available, away"),
    ("presence", {"status": "away", "until": True}, "'until' must be an integer, got bool"),
    ("presence", {"status": "available", "cap": 0}, "'cap' must be between 1 and 20, got 0"),
    ("presence", {"status": "available", "cap": 21}, "got 21"),
    ("plan_share", {"to": "call", "plan": {}}, "plan_share is shared with a call but names none"),
    ("plan_share", {"to": "call", "call": None, "plan": {}}, "shared with a call but names none"),
    ("plan_share", {"to": "circle"}, "missing required field 'plan'"),
    ("plan_share", {"to": "friends", "plan": {}}, "'to' must be one of call, circle"),
    ("plan_share", {"to": "circle", "plan": "be kind"}, "'plan' must be a map, got str"),
    ("plan_share", {"to": "circle", "plan": {"diagnosis": "x"}}, "'plan' has unknown field 'diagnosis'"),
    ("plan_share", {"to": "circle", "plan": {"helps": "h" * 2001}}, "'plan': 'helps' must be 0 to 2000"),
    ("plan_retract", {}, "missing required field 'share'"),
]


@pytest.mark.parametrize("kind,body,message", BAD, ids=[f"{k}-{m[:40]}" for k, _, m in BAD])
def test_rejects(kind, body, message):
    with pytest.raises(RemoteProtocolError) as info:
        validate(kind, body)
    assert message in str(info.value)


@pytest.mark.parametrize("kind,body,message", BAD, ids=[f"{k}-{m[:40]}" for k, _, m in BAD])
def test_a_body_built_from_a_request_is_the_persons_mistake(kind, body, message):
    """The ops check the bodies they build with ``fault=BadInput``: the same rules and message, raised
    as the person's mistake from the start (never a protocol error translated afterwards)."""
    with pytest.raises(BadInput) as info:
        validate(kind, body, fault=BadInput)
    assert message in str(info.value) and not isinstance(info.value, RemoteProtocolError)


def test_no_diagnostic_or_risk_field_anywhere():
    words = ("risk", "diagnos", "severity", "score", "symptom")
    names = {name for schema in p.SCHEMAS.values() for name in schema} | set(p.SCHEMAS)
    assert not [n for n in names if any(w in n for w in words)]


# --- make_post, opaque_reply, thread_call, dedupe_sorted -----------------------------------------


def test_make_post_checks_envelope_fields():
    post = make_post(ID, ID2, 5, 7, "claim", {"call": ID})
    assert post == Post(ID, ID2, 5, 7, "claim", {"call": ID}) and post.order == (7, ID)
    for args, msg in [((ID[:5], ID2, 5, 7), "post id must be a 32-byte id"),
                      ((ID, b"", 5, 7), "post author must be a 32-byte id"),
                      ((ID, ID2, -1, 7), "post created must be between"),
                      ((ID, ID2, 5, True), "post lamport must be an integer")]:
        with pytest.raises(RemoteProtocolError, match=msg):
            make_post(*args, "claim", {"call": ID})
    with pytest.raises(RemoteProtocolError, match="unknown field"):
        make_post(ID, ID2, 5, 7, "claim", {"call": ID, "x": 1})


def test_posts_hash_without_their_body():
    a = mk("claim", ID2, 3, call=ID)
    assert {a, a} == {a} and hash(a) == hash(Post(a.id, a.author, a.created, a.lamport, a.kind, {}))


def test_opaque_reply_is_not_accepted_from_the_wire():
    body = opaque_reply(ID)
    assert body == {"checkin": ID, "option": None, "text": ""}
    with pytest.raises(RemoteProtocolError, match="'option' must be an integer"):
        validate("checkin_reply", body)
    with pytest.raises(RemoteProtocolError, match="32-byte id"):
        opaque_reply(b"short")


def test_thread_call():
    assert p.thread_call(mk("offer", ID2, 1, call=ID, kind="text")) == ID
    assert p.thread_call(mk("checkin", ID2, 1, prompt="ok?", call=ID)) == ID
    assert p.thread_call(mk("checkin", ID2, 1, prompt="ok?")) is None
    assert p.thread_call(mk("call", ID2, 1, text="hi")) is None
    assert p.thread_call(mk("checkin_reply", ID2, 1, checkin=ID, option=0)) is None
    assert p.thread_call(mk("plan_share", ID2, 1, to="call", call=ID, plan={})) is None


def test_dedupe_sorted_orders_by_lamport_then_id():
    a = mk("claim", ID2, 2, id=b"\x09" * 32, call=ID)
    b = mk("claim", ID2, 2, id=b"\x03" * 32, call=ID)
    c = mk("claim", ID2, 1, id=b"\xff" * 32, call=ID)
    assert p.dedupe_sorted([a, b, c, a, c]) == [c, b, a]


# --- text from others is cleaned on input (issue 9 item 13) ------------------------------------------

HOSTILE = "help\x1b]0;pwned\x07 me\rnow \u202egnp.exe\x00"


@pytest.mark.parametrize("kind, body, path", [
    ("call", {"text": HOSTILE, "reach": HOSTILE, "consent_note": HOSTILE}, ("text", "reach", "consent_note")),
    ("offer", {"call": ID, "kind": "call", "text": HOSTILE}, ("text",)),
    ("update", {"call": ID, "text": HOSTILE}, ("text",)),
    ("checkin", {"prompt": HOSTILE, "options": [HOSTILE, "fine"]}, ("prompt",)),
    ("checkin_reply", {"checkin": ID, "option": 0, "text": HOSTILE}, ("text",)),
])
def test_control_and_bidi_characters_are_stripped_and_the_post_accepted(kind, body, path):
    out = validate(kind, body)
    for key in path:
        assert out[key] == "help]0;pwned menow gnp.exe"
        assert validate(kind, out)[key] == out[key]     # cleaning is idempotent: honest nodes agree
    if kind == "checkin":
        assert out["options"][0] == "help]0;pwned menow gnp.exe"


def test_plan_parts_and_option_newlines_are_cleaned():
    out = validate("plan_share", {"to": "circle", "plan": {"helps": "tea\x1b[2J\n\n\n\nwalks", "avoid": "\u202e"}})
    assert out["plan"]["helps"] == "tea[2J\n\nwalks" and out["plan"]["avoid"] == ""
    assert validate("checkin", {"prompt": "p", "options": ["a\nb", "c"]})["options"][0] == "a b"


def test_text_that_is_only_control_characters_is_blank_and_rejected():
    with pytest.raises(RemoteProtocolError, match="1 to 4000 characters, got 0"):
        validate("update", {"call": ID, "text": "\x1b\x07\u202e"})

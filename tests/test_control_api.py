"""The typed control API: every record round-trips, bad data is a BadInput that names the argument, the
registries agree with each other and with the names, docs/control.md is what the definitions say.

Strategies are derived from the fields' shapes (``strategy``), not written per class: a new request,
result, view or event is covered as soon as it is registered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare import vocab
from meshcare.control import api, doc, names
from meshcare.control.events import EVENTS
from meshcare.control.requests import (REQUESTS, CallCreate, CheckinCreate, CheckinReply, CircleInvite,
                                       LadderStepArg, PlanShare, PresenceSet)
from meshcare.control.results import RESULTS
from meshcare.control.schema import Record, record_fields, spec_of
from meshcare.control.shapes import (Choice, Either, Flag, Hex, Int, Map, Maybe, MemberRef, Number, Plain, Seq,
                                     Shape, Text, Time, View)
from meshcare.control.results_recovery import VIEWS_RECOVERY
from meshcare.control.results_mailbox import VIEWS_MAILBOX
from meshcare.control.results_requests import VIEWS_REQUESTS
from meshcare.control.views import VIEWS as BASE_VIEWS
from meshcare.control.views_gatherings import VIEWS_GATHERINGS
from meshcare.errors import BadInput, UnknownOp

ROOT = Path(__file__).resolve().parents[1]
#: The views of every feature (each feature's views module lists its own).
VIEWS = (*BASE_VIEWS, *VIEWS_GATHERINGS, *VIEWS_REQUESTS, *VIEWS_RECOVERY, *VIEWS_MAILBOX)
#: Every record class of the API: requests, the records they nest, results, views, events.
RECORDS: list[type[Record]] = sorted({*REQUESTS.values(), LadderStepArg, *RESULTS.values(), *VIEWS,
                                      *EVENTS.values()}, key=lambda c: c.__name__)


# --- strategies, derived from the shapes --------------------------------------------------------------

def strategy(shape: Shape) -> st.SearchStrategy[Any]:
    """Values ``shape.check`` accepts and keeps as they are (so they round-trip)."""
    if isinstance(shape, Text):           # MemberRef too: its text form is what round-trips
        hi = 12 if shape.hi is None else min(shape.hi, 12)
        return st.text(min_size=shape.lo, max_size=hi).filter(lambda s: len(s.strip()) >= shape.lo)
    if isinstance(shape, (Int, Time)):
        return st.integers(shape.lo, shape.hi)
    if isinstance(shape, Number):
        lo = None if shape.lo is None else shape.lo + (1 if shape.lo_open else 0)
        return st.one_of(st.integers(None if lo is None else int(lo), None if shape.hi is None else int(shape.hi)),
                         st.floats(shape.lo, shape.hi, exclude_min=shape.lo_open and shape.lo is not None,
                                   allow_nan=False, allow_infinity=False))
    if isinstance(shape, Flag):
        return st.booleans()
    if isinstance(shape, Choice):
        return st.sampled_from(shape.options)
    if isinstance(shape, Hex):
        return st.binary(min_size=shape.size, max_size=shape.size).map(bytes.hex)
    if isinstance(shape, Seq):
        hi = shape.lo + 2 if shape.hi is None else min(shape.hi, shape.lo + 2)
        items = st.lists(strategy(shape.item), min_size=shape.lo, max_size=hi, unique=shape.distinct).map(tuple)
        return st.one_of(st.just(()), items) if shape.or_empty else items
    if isinstance(shape, Map):
        return st.dictionaries(strategy(shape.key), strategy(shape.value), max_size=3)
    if isinstance(shape, View):
        return records(shape.record)
    if isinstance(shape, Maybe):
        return st.one_of(st.none(), strategy(shape.inner))
    if isinstance(shape, Either):
        return st.one_of(*[strategy(option) for option in shape.options])
    if isinstance(shape, Plain):
        return st.dictionaries(st.text(max_size=8), PLAIN, max_size=4)
    raise AssertionError(f"no strategy for {shape!r}: add one here")


PLAIN = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.text(max_size=8)
                     | st.floats(allow_nan=False, allow_infinity=False),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=6)
JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
                    | st.binary(max_size=40),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=6)


def _checks(record: Record) -> bool:
    try:
        record.check_rules()
    except BadInput:
        return False
    return True


def records(cls: type[Record]) -> st.SearchStrategy[Any]:
    """Records of ``cls`` built field by field from the shapes (rules over several fields respected)."""
    return st.builds(cls, **{f.name: strategy(spec_of(f).shape) for f in record_fields(cls)}).filter(_checks)


# --- round trips --------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_every_record_round_trips_through_its_data_and_json(cls: type[Record]) -> None:
    @given(records(cls))
    def round_trip(record: Record) -> None:
        data = record.to_data()
        assert cls.from_data(data) == record
        assert cls.from_data(json.loads(json.dumps(data))) == record     # plain data: JSON carries it
        assert cls.from_data({**data, "added_by_a_newer_version": [1, {"x": None}]}) == record
    round_trip()


# --- bad data -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_anything_at_all_is_a_record_or_a_bad_input(cls: type[Record]) -> None:
    @settings(max_examples=25)
    @given(st.one_of(JUNK, st.dictionaries(st.sampled_from([f.name for f in record_fields(cls)] or ["x"]), JUNK)))
    def never_crashes(data: Any) -> None:
        try:
            cls.from_data(data)
        except BadInput as exc:
            assert str(exc) and "Traceback" not in str(exc)
    never_crashes()


def _words(cls: type[Record], name: str) -> list[str]:
    """What a message about field ``name`` of ``cls`` may call it: its noun, or its items' noun."""
    f = next(f for f in record_fields(cls) if f.name == name)
    spec = spec_of(f)
    shape = spec.shape.inner if isinstance(spec.shape, Maybe) else spec.shape
    words = [spec.noun or repr(name)]
    if isinstance(shape, Seq) and shape.item_noun:
        words.append(shape.item_noun)
    return words


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_one_bad_value_is_told_by_the_name_a_person_knows(cls: type[Record]) -> None:
    names_ = [f.name for f in record_fields(cls)]
    if not names_:
        return

    @settings(max_examples=25)
    @given(records(cls), st.sampled_from(names_), JUNK)
    def one_bad(record: Record, name: str, junk: Any) -> None:
        data = {**record.to_data(), name: junk}
        try:
            cls.from_data(data)
        except BadInput as exc:
            assert any(word in str(exc) for word in _words(cls, name)), (str(exc), _words(cls, name))
    one_bad()


@pytest.mark.parametrize("data, words", [
    ({"circle": "Elm St"}, "the call's text is missing"),
    ({"circle": "Elm St", "text": None}, "the call's text is missing"),
    ({"circle": "Elm St", "text": "   "}, "the call's text is empty"),
    ({"circle": "Elm St", "text": 7}, "the call's text must be text, not a number"),
    ({"circle": "Elm St", "text": "x" * 4001}, "the call's text is 4001 characters long; at most 4000 fit"),
    ({"text": "hi"}, "the circle is missing"),
    ({"circle": "", "text": "hi"}, "the circle is empty"),
    ({"circle": "Elm St", "text": "hi", "urgency": "soon"}, "the urgency must be one of now, today, whenever, not 'soon'"),
    ({"circle": "Elm St", "text": "hi", "needs": "ride"}, "the needs must be a list, not text"),
    ({"circle": "Elm St", "text": "hi", "needs": ["ride", "ride"]}, "'ride' appears twice in the needs"),
    ({"circle": "Elm St", "text": "hi", "needs": ["money"]}, "need 1 must be one of listen, company, practical, ride"),
    ({"circle": "Elm St", "text": "hi", "ladder": [{}] * 6}, "the ladder must have at most 5 items, not 6"),
    ({"circle": "Elm St", "text": "hi", "ladder": ["circle"]}, "ladder step 1 must be a map of named values, not text"),
    ({"circle": "Elm St", "text": "hi", "ladder": [{}, {"after": -1}]},
     "the minutes in ladder step 2 must be 0 to 1440, not -1"),
    ({"circle": "Elm St", "text": "hi", "ladder": [{"to": "chosen", "members": [b"short"]}]},
     "chosen member 1 in ladder step 1 must be a name, the start of an id, or a 32-byte id, not 5 bytes"),
    ({"circle": "Elm St", "text": "hi", "ladder": [{"to": "chosen", "members": [None]}]},
     "chosen member 1 in ladder step 1 must be a name or the start of an id, not null"),
    ([], "the arguments must be a map of named values, not a list"),
])
def test_call_create_messages_name_the_argument(data: Any, words: str) -> None:
    with pytest.raises(BadInput) as caught:
        CallCreate.from_data(data)
    assert words in str(caught.value)


@pytest.mark.parametrize("cls, data, words", [
    (CircleInvite, {"circle": "Elm St", "valid_hours": 0}, "how long the invite is valid, in hours must be more than 0"),
    (CircleInvite, {"circle": "Elm St", "valid_hours": True}, "must be a number, not true/false"),
    (CircleInvite, {"circle": "Elm St", "valid_hours": float("nan")}, "must be a finite number"),
    (CheckinReply, {"checkin": "abcd", "option": True}, "the answer must be a whole number or text, not true/false"),
    (CheckinReply, {"checkin": "abcd", "option": 9}, "the answer must be 1 to 6, not 9"),
    (CheckinReply, {"checkin": "ab", "option": 1}, "the check-in is too short: at least 4 characters, not 2"),
    (CheckinCreate, {"circle": "E", "prompt": "?", "options": ["only"]}, "the answers must have 2 to 6 items, or none"),
    (PlanShare, {}, "say whom to share the plan with"),
    (PresenceSet, {"status": "busy"}, "the status must be one of available, away, not 'busy'"),
    (PresenceSet, {"status": "away", "until": -5}, "the end time must be a time in unix seconds"),
])
def test_other_requests_name_the_argument(cls: type[Record], data: Any, words: str) -> None:
    with pytest.raises(BadInput) as caught:
        cls.from_data(data)
    assert words in str(caught.value)


# --- what the daemon accepted before the API: still accepted, read the same -----------------------------

ID = bytes(range(32))


@pytest.mark.parametrize("op, args, expect", [
    ("call.create", {"circle": "Elm St", "text": "Rough night"},
     {"urgency": "today", "needs": (), "ladder": (), "reach": None}),
    ("call.create", {"circle": "Elm St", "text": "hi", "reach": None, "consent_note": None, "needs": None,
                     "ladder": [{"after": 0, "to": "chosen", "members": ["ann", ID]}, {"after": 10, "to": "circle"}]},
     {"ladder": (LadderStepArg(after=0, to="chosen", members=("ann", ID.hex())), LadderStepArg(after=10)),
      "needs": ()}),
    ("call.create", {"circle": "Elm St", "text": "hi", "ladder": [{"members": ["bob"]}]},
     {"ladder": (LadderStepArg(after=0, to="circle", members=("bob",)),)}),
    ("circle.invite", {"circle": "Elm St"}, {"role": "member", "valid_hours": 24}),
    ("circle.invite", {"circle": "Elm St", "role": "relay", "valid_hours": 0.5}, {"valid_hours": 0.5}),
    ("circle.create", {"name": "Elm St", "retention_days": None, "rotate_days": 0},
     {"retention_days": 30, "rotate_days": 0, "share_history": False, "member_name": None}),
    ("checkin.reply", {"checkin": "5c1e0b7a", "option": 1}, {"option": 1, "text": ""}),
    ("checkin.reply", {"checkin": "5c1e0b7a", "option": "could use", "text": "a chat?"}, {"option": "could use"}),
    ("checkin.create", {"circle": "Elm St", "prompt": "How?", "options": None}, {"options": (), "visibility": "facilitators"}),
    ("presence.set", {"status": "available", "cap": 2}, {"circle": None, "until": None, "cap": 2}),
    ("presence.set", {"status": "away", "circle": ""}, {"circle": ""}),
    ("plan.share", {"call": "3f2a", "circle": None}, {"call": "3f2a"}),
    ("plan.edit", {"helps": "tea and a quiet room"}, {"helps": "tea and a quiet room", "avoid": None}),
    ("calls.list", {}, {"all": False, "circle": None}),
    ("circle.verify", {"circle": "Elm St", "member": "ann", "confirm": True}, {"confirm": True, "unverify": False}),
    ("status", {}, {}), ("subscribe", {}, {}), ("snapshot", {}, {"circle": None, "all_calls": False}), ("circle.list", {"unknown": 1}, {}),
])
def test_arguments_the_daemon_took_before_are_taken_and_defaulted(op: str, args: dict[str, Any],
                                                                  expect: dict[str, Any]) -> None:
    request = api.read_request(op, args)
    assert type(request) is REQUESTS[op] and request.OP == op
    assert {k: getattr(request, k) for k in expect} == expect
    assert REQUESTS[op].from_data(request.to_data()) == request


def test_unknown_ops_and_events() -> None:
    with pytest.raises(UnknownOp, match="no operation 'topic.join'"):
        api.read_request("topic.join", {})
    with pytest.raises(UnknownOp):
        api.read_result("no.such", {})
    assert api.read_event("from.a.newer.daemon", {"x": 1}) is None
    event = api.read_event(names.EV_CALL, {"event": "claim_lost", "circle": "ab" * 16, "call": "cd" * 32,
                                           "claimer": "ef" * 32, "more": "ignored"})
    assert isinstance(event, api.CallEvent) and event.claimer == "ef" * 32


def test_a_typed_request_reads_its_own_result() -> None:
    request = api.CircleRevoke(circle="Elm St", invite="ee2c")
    result = request.read_result({"invite": "ee" * 32, "revoked": True})
    assert isinstance(result, api.CircleRevokeResult) and result.invite == "ee" * 32
    with pytest.raises(BadInput, match="'revoked' is missing"):
        request.read_result({"invite": "ee" * 32})


# --- the registries, the names, the docs ----------------------------------------------------------------

def test_registries_agree_with_the_names() -> None:
    ops = {v for k, v in vars(names).items() if k.startswith("OP_")}
    assert set(REQUESTS) == set(RESULTS) == ops
    assert set(EVENTS) == {v for k, v in vars(names).items() if k.startswith("EV_")}
    for op, cls in REQUESTS.items():
        assert cls.OP == op and cls.RESULT is RESULTS[op] and RESULTS[op].OP == op
    for name, cls in EVENTS.items():
        assert cls.NAME == name


def test_every_record_says_what_it_is_and_every_field_what_it_means() -> None:
    for cls in RECORDS:
        assert cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("), cls
        for f in record_fields(cls):
            spec = spec_of(f)
            assert spec.doc, (cls, f.name)
            if cls in REQUESTS.values() or cls is LadderStepArg:
                assert spec.noun, (cls, f.name)


def test_every_view_a_result_nests_is_listed() -> None:
    assert set(doc._nested(list(RESULTS.values()))) == set(VIEWS)
    assert set(doc._nested(list(REQUESTS.values()))) == {LadderStepArg}


def test_the_vocabulary_is_the_domain_s() -> None:
    from meshcare.circles import calls, checkins, membership, posts, presence  # the core, here only

    assert posts.URGENCIES == vocab.URGENCIES and posts.OFFER_KINDS == vocab.OFFER_KINDS
    assert calls.STATUSES == vocab.CALL_STATUSES and presence.STATUSES == vocab.PRESENCE_STATES
    assert membership.ROLES == vocab.ROLES and membership.MAX_NAME == vocab.MAX_NAME
    assert checkins.SUGGEST_CALL_OPTION == vocab.SUGGEST_CALL_OPTION == vocab.DEFAULT_OPTIONS[-1]
    assert set(vocab.OFFER_WORDS) == set(vocab.OFFER_KINDS) and set(vocab.NEED_WORDS) == set(vocab.NEEDS)
    assert set(vocab.CONSENT_WORDS) == set(vocab.CONSENTS) and set(vocab.URGENCY_WORDS) == set(vocab.URGENCIES)


def test_docs_control_md_is_what_the_definitions_say() -> None:
    text = (ROOT / "docs" / "control.md").read_text(encoding="utf-8")
    assert doc.render(text) == text, "docs/control.md is out of date: run `python -m meshcare.control.doc`"
    for op in REQUESTS:
        assert f"### `{op}`" in text
    for name in EVENTS:
        assert f"### Event `{name}`" in text


def test_the_doc_check_fails_when_they_disagree() -> None:
    text = (ROOT / "docs" / "control.md").read_text(encoding="utf-8")
    stale = text.replace("| `urgency` |", "| `how_soon` |", 1)
    assert doc.render(stale) != stale
    with pytest.raises(ValueError, match="markers"):
        doc.render(text.replace(doc.END, ""))

"""The check-in fold: latest reply per member, unreadable replies, the tally, who has not answered."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.circles.checkins import (CheckinState, answered, fold_checkins, is_closed,
                                       not_answered, tally)
from meshcare.circles.posts import Post, make_post, opaque_reply
from meshcare.control.views import Checkin
from meshcare.ops.present import checkin_from

from .helpers import mid, mk, shuffled_with_duplicates

FAC, A, B, C = mid(1), mid(2), mid(3), mid(4)
T0 = 1_700_000_000
CHECKIN = mk("checkin", FAC, 1, T0, prompt="How is everyone doing this week?", closes_at=T0 + 3600)
CK = CHECKIN.id


def reply(author: bytes, lamport: int, option: int, text: str = "", created: int | None = None,
          id: bytes | None = None) -> Post:
    return mk("checkin_reply", author, lamport, T0 + lamport if created is None else created, id=id,
              checkin=CK, option=option, text=text)


def opaque(author: bytes, lamport: int) -> Post:
    pid = hashlib.sha256(b"opaque" + author + bytes([lamport])).digest()
    return Post(pid, author, T0 + lamport, lamport, "checkin_reply", opaque_reply(CK))


def fold(*posts: Post) -> CheckinState:
    return fold_checkins([CHECKIN, *posts])[CK]


def test_a_checkin_alone():
    s = fold()
    assert (s.author, s.prompt, s.options, s.visibility, s.call, s.closes_at, s.replies) == (
        FAC, "How is everyone doing this week?", ("doing OK", "could use a chat", "need support now"),
        "facilitators", None, T0 + 3600, ())
    assert tally(s) == {"doing OK": 0, "could use a chat": 0, "need support now": 0}


def test_replies_are_tallied_with_every_option_present():
    s = fold(reply(A, 2, 0), reply(B, 3, 0, "tired but fine"), reply(C, 4, 1))
    assert list(tally(s).items()) == [("doing OK", 2), ("could use a chat", 1), ("need support now", 0)]
    assert [(r.member, r.option, r.option_text, r.text) for r in s.replies] == [
        (A, 0, "doing OK", ""), (B, 0, "doing OK", "tired but fine"), (C, 1, "could use a chat", "")]


def test_a_member_may_change_their_answer_latest_by_lamport_then_id():
    s = fold(reply(A, 5, 2, created=T0), reply(A, 2, 0, created=T0 + 99))
    assert [r.option for r in s.replies] == [2]
    first = reply(A, 3, 0, id=b"\x01" * 32)
    second = reply(A, 3, 1, id=b"\x02" * 32)
    assert [r.option for r in fold(second, first).replies] == [1]


def test_replies_to_unknown_checkins_are_ignored():
    stray = mk("checkin_reply", A, 2, checkin=mid(9), option=0)
    assert fold_checkins([stray]) == {}
    assert fold(stray).replies == ()


def test_an_out_of_range_option_is_ignored_and_does_not_erase_a_good_reply():
    two = mk("checkin", FAC, 1, prompt="coffee?", options=["yes", "no"])
    good = mk("checkin_reply", A, 2, checkin=two.id, option=1)
    bad = mk("checkin_reply", A, 3, checkin=two.id, option=2)
    s = fold_checkins([two, good, bad])[two.id]
    assert [r.id for r in s.replies] == [good.id] and tally(s) == {"yes": 0, "no": 1}


def test_unreadable_replies_count_as_answered_but_not_in_the_tally():
    s = fold(reply(A, 2, 0), opaque(B, 3))
    assert answered(s) == {A, B}
    assert sum(tally(s).values()) == 1
    assert [(r.member, r.option, r.option_text, r.suggest_call) for r in s.replies][1] == (B, None, None, False)
    assert not_answered(s, [C, A, B, C]) == [C]


def test_an_unreadable_later_reply_replaces_the_earlier_answer():
    s = fold(reply(A, 2, 2), opaque(A, 3))
    assert tally(s)["need support now"] == 0 and answered(s) == {A}


def test_need_support_now_suggests_a_call_even_with_custom_options():
    assert [r.suggest_call for r in fold(reply(A, 2, 2), reply(B, 3, 1)).replies] == [True, False]
    custom = mk("checkin", FAC, 1, prompt="after the storm?", options=["fine", "need support now"])
    s = fold_checkins([custom, mk("checkin_reply", A, 2, checkin=custom.id, option=1)])[custom.id]
    assert s.replies[0].suggest_call


def test_late_replies_still_count_and_are_marked():
    s = fold(reply(A, 2, 2, created=T0 + 3600), reply(B, 3, 2, created=T0 + 3601))
    assert [r.late for r in s.replies] == [False, True] and tally(s)["need support now"] == 2
    assert not is_closed(s, T0 + 3599) and is_closed(s, T0 + 3600)
    assert not is_closed(fold_checkins([mk("checkin", FAC, 1, prompt="hi")]).popitem()[1], 10**12)


def test_not_answered_is_sorted_and_distinct():
    s = fold(reply(B, 2, 0))
    assert not_answered(s, [C, A, B, A]) == [A, C]
    assert not_answered(s, []) == []


def test_followup_checkin_names_its_call():
    ck = mk("checkin", FAC, 1, prompt="how are you after yesterday?", call=mid(7), visibility="circle")
    s = fold_checkins([ck])[ck.id]
    assert (s.call, s.visibility) == (mid(7), "circle")


def checkin_json(s: CheckinState, names: dict[bytes, str] | None = None,
                 members: list[bytes] | None = None) -> dict[str, Any]:
    """The check-in as the daemon shows it (``present.checkin_from``), without a circle around it."""
    return checkin_from(s, names or {}, members or [], circle_id="00" * 16, circle_name="c").to_data()


def test_a_checkin_shows_as_json():
    s = fold(reply(A, 2, 2, "please call"), opaque(B, 3))
    d = checkin_json(s, names={A: "Ari", FAC: "Fran"}, members=[A, B, C])
    json.dumps(d)
    assert (d["id"], d["author"], d["tally"], d["answered"], d["not_answered"]) == (
        CK.hex(), FAC.hex(), {"doing OK": 0, "could use a chat": 0, "need support now": 1}, 2, [C.hex()])
    assert d["replies"][0] == {"id": s.replies[0].id.hex(), "member": A.hex(), "option": 2,
                               "option_text": "need support now", "text": "please call",
                               "created": T0 + 2, "late": False, "suggest_call": True}
    assert d["replies"][1]["option"] is None
    assert d["names"] == {FAC.hex(): "Fran", A.hex(): "Ari"}
    assert checkin_json(s)["not_answered"] == []          # nobody asked: nobody missing


# --- properties ----------------------------------------------------------------------------------

MEMBERS = [mid(i) for i in range(1, 6)]


@st.composite
def histories(draw: st.DrawFn) -> list[Post]:
    salt = draw(st.binary(max_size=4))
    count = iter(range(10**6))
    def new(kind: str, author: bytes, body: dict[str, Any]) -> Post:
        pid = hashlib.sha256(salt + next(count).to_bytes(4, "big")).digest()
        lamport, created = draw(st.integers(0, 8)), draw(st.integers(T0, T0 + 100))
        if kind == "checkin_reply" and body["option"] is None:
            return Post(pid, author, created, lamport, kind, opaque_reply(body["checkin"]))
        return make_post(pid, author, created, lamport, kind, body)
    checkins = [new("checkin", mid(1), {"prompt": "ok?", "closes_at": draw(st.none() | st.integers(T0, T0 + 100)),
                                        "options": draw(st.lists(st.sampled_from("abcdef"), min_size=2,
                                                                 max_size=4, unique=True))})
                for _ in range(draw(st.integers(1, 2)))]
    targets = [c.id for c in checkins] + [mid(99)]
    replies = [new("checkin_reply", draw(st.sampled_from(MEMBERS)),
                   {"checkin": draw(st.sampled_from(targets)), "option": draw(st.none() | st.integers(0, 5))})
               for _ in range(draw(st.integers(0, 25)))]
    return checkins + replies


@settings(max_examples=80, deadline=None)
@given(histories().flatmap(lambda ps: st.tuples(st.just(ps), shuffled_with_duplicates(ps))))
def test_fold_is_independent_of_order_and_duplicates(history):
    posts, shuffled = history
    result = fold_checkins(sorted(posts, key=lambda p: p.order))
    assert fold_checkins(shuffled) == result
    for cid, s in result.items():
        # each member's counted reply is their latest in-range reply in (lamport, id) order
        mine = sorted((p for p in posts if p.kind == "checkin_reply" and p.body["checkin"] == cid
                       and (p.body["option"] is None or p.body["option"] < len(s.options))),
                      key=lambda p: p.order)
        latest = {p.author: p.id for p in mine}
        assert {r.member: r.id for r in s.replies} == latest
        assert sum(tally(s).values()) == sum(1 for r in s.replies if r.option is not None)
        assert set(tally(s)) == set(s.options)
        assert sorted(answered(s) | set(not_answered(s, MEMBERS))) == sorted(MEMBERS)
        d = checkin_json(s, members=MEMBERS)
        json.dumps(d)
        assert Checkin.from_data(d).to_data() == d      # what the daemon shows is what the control API reads

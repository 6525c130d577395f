"""circles/folded.py: the folds kept up to date post by post must show exactly what folding every post
again would, through arrivals, departures, posts changing how they read, and roster changes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.circles import calls as cl
from meshcare.circles import checkins as ck
from meshcare.circles import followups as fu
from meshcare.circles import safety as sf
from meshcare.circles import plans as pl
from meshcare.circles import presence as pr
from meshcare.circles.folded import Folded, presence_at
from meshcare.circles.posts import Post

from . import test_calls, test_care_folds, test_checkins, test_presence_plans

MEMBERS = test_calls.MEMBERS


def _full(held: list[Post], members: frozenset[bytes], facilitators: frozenset[bytes], now: int) -> dict[str, Any]:
    return {"calls": cl.fold_calls(held, members=members, facilitators=facilitators),
            "checkins": ck.fold_checkins(held), "shares": pl.fold_shares(held),
            "presence": pr.fold_presence(held, now), "followups": fu.fold_followups(held),
            "safety": sf.fold_safety(held, members, facilitators)}


@settings(max_examples=60, deadline=None)
@given(test_calls.histories(), test_checkins.histories(), test_presence_plans.histories(), st.data())
def test_folding_post_by_post_shows_what_folding_everything_shows(calls: list[Post], checkins: list[Post],
                                                                  others: list[Post], data: st.DataObject) -> None:
    t = test_care_folds.timer()
    care = [*test_care_folds._followup_history(), t, test_care_folds.ping(t, "ok", test_care_folds.T0 + 60),
            test_care_folds.timer(to=[test_care_folds.OTHER], lamport=7)]
    pending = [*calls, *checkins, *others, *care]
    held: dict[bytes, Post] = {}
    folded = Folded()
    cursor = 0
    for step in range(data.draw(st.integers(1, 14))):
        changed: list[tuple[bytes, Post | None]] = []
        for _ in range(data.draw(st.integers(0, 4))):
            action = data.draw(st.sampled_from(["arrive", "arrive", "go"]))
            if action == "arrive" and pending:
                post = pending.pop(data.draw(st.integers(0, len(pending) - 1)))
                held[post.id] = post
                changed.append((post.id, post))
            elif action == "go" and held:
                gone = data.draw(st.sampled_from(sorted(held)))
                del held[gone]
                changed.append((gone, None))
        members = frozenset(data.draw(st.frozensets(st.sampled_from(MEMBERS))))
        facilitators = frozenset(data.draw(st.frozensets(st.sampled_from(MEMBERS))))
        everything = data.draw(st.booleans()) if step else True     # a reader too far behind: all again
        folded.catch_up(None if everything else changed, list(held.values()), cursor, members, facilitators)
        cursor += 1
        now = data.draw(st.integers(test_calls.T0, test_calls.T0 + 10**5))
        want = _full(list(held.values()), members, facilitators, now)
        assert folded.calls.result == want["calls"] and list(folded.calls.result) == list(want["calls"])
        assert folded.checkins.result == want["checkins"] and list(folded.checkins.result) == list(want["checkins"])
        assert folded.shares.result == want["shares"] and list(folded.shares.result) == list(want["shares"])
        assert presence_at(folded.presence.result, now) == want["presence"]
        assert folded.followups.result == want["followups"]
        assert folded.safety.result == want["safety"] and list(folded.safety.result) == list(want["safety"])


def test_a_call_nothing_touched_is_the_same_object_after_another_post() -> None:
    """changes.py skips comparing a call whose state is the very object it saw before."""
    first, other = test_calls.call(lamport=1), test_calls.call(lamport=50, author=MEMBERS[1])
    folded = Folded()
    folded.catch_up(None, [first], 1, frozenset(MEMBERS), frozenset())
    before = folded.calls.result[first.id]
    folded.catch_up([(other.id, other)], [], 2, frozenset(MEMBERS), frozenset())
    assert folded.calls.result[first.id] is before and list(folded.calls.result) == [first.id, other.id]


def test_a_roster_change_folds_every_call_again_even_with_no_new_post() -> None:
    """A claim by someone who then leaves lapses: the call's thread did not change, the members did."""
    call = test_calls.call(lamport=1)
    claim = test_calls.mk("claim", MEMBERS[1], 2, test_calls.T0 + 2, call=call.id)
    folded = Folded()
    folded.catch_up(None, [call, claim], 1, frozenset(MEMBERS), frozenset())
    assert folded.calls.result[call.id].claimer == MEMBERS[1]
    folded.catch_up([], [], 2, frozenset(MEMBERS) - {MEMBERS[1]}, frozenset())
    assert folded.calls.result[call.id].claimer is None

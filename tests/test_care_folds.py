"""The follow-up and safety-timer folds (circles/followups.py, circles/safety.py): who may do what, the
"due" and "overdue" helpers at virtual times, and independence from order and duplicates."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.circles import followups as fu
from meshcare.circles import safety as sf
from meshcare.circles.posts import Post
from meshcare.vocab import SAFETY_GRACE_S

from .helpers import mid, mk, shuffled_with_duplicates

CALLER, WHO, F, OTHER = mid(1), mid(2), mid(3), mid(4)
T0 = 1_700_000_000
DAY = 86_400
CALL = mk("call", CALLER, 1, T0, text="could someone come by", urgency="now")
CID = CALL.id


def ask(author: bytes = CALLER, lamport: int = 5, who: bytes = WHO, due: int = T0 + DAY,
        again: int | None = None, to: list[bytes] | None = None) -> Post:
    return mk("followup", author, lamport, T0 + lamport, to=to or [who, F], call=CID, who=who, due=due, again=again)


def done(followup: Post, author: bytes = WHO, lamport: int = 9, again: bool = False, created: int | None = None) -> Post:
    return mk("followup_done", author, lamport, T0 + DAY + lamport if created is None else created,
              to=[CALLER, F], followup=followup.id, call=CID, again=again)


def fold(*posts: Post) -> dict[bytes, fu.FollowupState]:
    return fu.fold_followups([CALL, *posts])


# --- follow-ups ------------------------------------------------------------------------------------


def test_the_caller_asks_and_who_marks_it_done() -> None:
    a = ask(again=T0 + 4 * DAY)
    (s,) = fold(a).values()
    assert (s.call, s.asker, s.who, s.due, s.again, s.done_at, s.finished) == (CID, CALLER, WHO, T0 + DAY,
                                                                             T0 + 4 * DAY, None, False)
    s = fold(a, done(a, created=T0 + DAY + 60))[CID]
    assert s.done_at == T0 + DAY + 60 and not s.finished
    s = fold(a, done(a), done(a, lamport=12, again=True))[CID]
    assert s.finished


def test_nobody_but_the_caller_decides() -> None:
    assert fold(ask(author=OTHER)) == {}
    assert fold(ask(author=WHO, who=OTHER)) == {}


def test_without_the_call_the_first_asker_counts() -> None:
    a = ask()
    assert fu.fold_followups([a])[CID].asker == CALLER
    assert fu.fold_followups([a, ask(author=OTHER, lamport=9)])[CID].id == a.id


def test_asking_yourself_or_someone_who_cannot_read_it_counts_for_nothing() -> None:
    assert fold(ask(who=CALLER, to=[F])) == {}
    assert fold(ask(to=[F])) == {}


def test_the_latest_ask_wins_and_old_dones_do_not_carry_over() -> None:
    first = ask(lamport=5)
    second = ask(lamport=7, who=OTHER, to=[OTHER, F])
    s = fold(first, done(first), second)[CID]
    assert (s.who, s.done_at) == (OTHER, None)


def test_only_who_marks_it_done_and_again_only_if_asked() -> None:
    a = ask()
    assert fold(a, done(a, author=OTHER))[CID].done_at is None
    assert fold(a, done(a, author=CALLER))[CID].done_at is None
    assert fold(a, done(a, again=True))[CID].again_done_at is None
    assert fold(ask(again=T0 + DAY - 1))[CID].again is None        # "again" before "due" means nothing


def test_what_is_due_at_virtual_times() -> None:
    a = ask(again=T0 + 4 * DAY)
    s = fold(a)[CID]
    assert fu.due_now(s, T0 + DAY - 1) is None and fu.next_due(s) == T0 + DAY
    assert fu.due_now(s, T0 + DAY) is False
    s = fold(a, done(a))[CID]
    assert fu.due_now(s, T0 + 2 * DAY) is None and fu.next_due(s) == T0 + 4 * DAY
    assert fu.due_now(s, T0 + 4 * DAY) is True
    s = fold(a, done(a), done(a, lamport=12, again=True))[CID]
    assert fu.due_now(s, T0 + 9 * DAY) is None and fu.next_due(s) is None


def _followup_history() -> list[Post]:
    a, b = ask(lamport=5, again=T0 + 5 * DAY), ask(lamport=6, who=OTHER, to=[OTHER, F])
    return [CALL, a, b, done(a), done(b, author=OTHER, lamport=10), done(b, author=OTHER, lamport=11, again=True),
            ask(author=OTHER, lamport=8), done(b, author=WHO, lamport=13)]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_follow_ups_do_not_depend_on_order_or_duplicates(data: st.DataObject) -> None:
    posts = _followup_history()
    subset = data.draw(st.lists(st.sampled_from(posts), unique_by=lambda p: p.id))
    want = fu.fold_followups(subset)
    assert fu.fold_followups(data.draw(shuffled_with_duplicates(subset))) == want


# --- safety timers ---------------------------------------------------------------------------------

MEMBERS = frozenset({CALLER, WHO, F, OTHER})
FACILITATORS = frozenset({F})


def timer(author: bytes = WHO, every: int = 15, to: list[bytes] | None = None, lamport: int = 2) -> Post:
    return mk("safety", author, lamport, T0, to=to or [F], every=every, text="going to see Sam")


def ping(t: Post, status: str, created: int, author: bytes = WHO, lamport: int | None = None) -> Post:
    return mk("safety_ping", author, lamport or 3 + created - T0, created, to=[F], timer=t.id, status=status)


def sfold(*posts: Post) -> dict[bytes, sf.TimerState]:
    return sf.fold_safety(list(posts), MEMBERS, FACILITATORS)


def test_a_timer_runs_from_its_start_and_each_sign_resets_it() -> None:
    t = timer()
    s = sfold(t)[t.id]
    assert (s.person, s.every, s.last, s.running) == (WHO, 15, T0, True)
    assert sf.overdue_at(s) == T0 + 15 * 60 + SAFETY_GRACE_S and sf.next_ok_at(s) == T0 + 15 * 60
    s = sfold(t, ping(t, "there", T0 + 300), ping(t, "ok", T0 + 900))[t.id]
    assert (s.there_at, s.last) == (T0 + 300, T0 + 900)
    assert not sf.is_overdue(s, T0 + 900 + 15 * 60 + SAFETY_GRACE_S - 1)
    assert sf.is_overdue(s, T0 + 900 + 15 * 60 + SAFETY_GRACE_S)


def test_an_ended_timer_is_never_overdue() -> None:
    t = timer()
    s = sfold(t, ping(t, "end", T0 + 60), ping(t, "ok", T0 + 120))[t.id]
    assert (s.running, s.ended_at) == (False, T0 + 60)
    assert not sf.is_overdue(s, T0 + 10 * DAY) and sf.overdue_at(s) is None


def test_only_the_person_pings_their_timer() -> None:
    t = timer()
    s = sfold(t, ping(t, "end", T0 + 60, author=OTHER), ping(t, "ok", T0 + 600, author=F))[t.id]
    assert (s.running, s.last) == (True, T0)


def test_a_timer_sealed_to_a_member_who_is_not_a_facilitator_counts_for_nothing() -> None:
    assert sfold(timer(to=[F, OTHER])) == {}
    left = mid(9)                                   # a facilitator who left since: still fine
    t = timer(to=[F, left])
    assert set(sfold(t)) == {t.id}


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_timers_do_not_depend_on_order_or_duplicates(data: st.DataObject) -> None:
    t, u = timer(), timer(author=CALLER, every=5, lamport=4)
    posts = [t, u, ping(t, "there", T0 + 100), ping(t, "ok", T0 + 700), ping(t, "end", T0 + 1500),
             ping(t, "ok", T0 + 1600), ping(u, "ok", T0 + 200, author=CALLER), ping(u, "end", T0 + 50, author=OTHER),
             timer(to=[OTHER], lamport=9)]
    subset = data.draw(st.lists(st.sampled_from(posts), unique_by=lambda p: p.id))
    want = sfold(*subset)
    assert sfold(*data.draw(shuffled_with_duplicates(subset))) == want
    now = data.draw(st.integers(T0, T0 + DAY))
    for state in want.values():
        overdue: Any = sf.overdue_at(state)
        assert sf.is_overdue(state, now) == (overdue is not None and now >= overdue)

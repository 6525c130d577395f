"""The UI's model: a snapshot plus the events after it is the daemon's state; what home lists, and in
which order; which events raise a banner and the bell."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from meshcare import vocab
from meshcare.control import api
from meshcare.tui.model import Model

from .fakedaemon import BEN, CHLOE, DAN, ELM, EVE, ME, NAMES, NOW, FakeState, hid, make_call, make_checkin, member


def fresh(state: FakeState | None = None, seq: int = 0) -> Model:
    model = Model()
    model.apply_snapshot((state or FakeState()).snapshot(seq))
    return model


# --- strategies: events about a small world, built from the real records ------------------------------

BASE_CALLS = [make_call("ben-call", BEN, "Rough night", urgency="now"),
              make_call("chloe-call", CHLOE, "A ride", urgency="whenever"),
              make_call("new-one", DAN, "Someone to listen?")]
PEOPLE = [ME, BEN, CHLOE, DAN, EVE]


@st.composite
def call_views(draw: st.DrawFn) -> api.Call:
    call = draw(st.sampled_from(BASE_CALLS))
    status = draw(st.sampled_from(vocab.CALL_STATUSES))
    claimer = draw(st.sampled_from([BEN, DAN, ME])) if status != "open" else None
    return dataclasses.replace(call, status=status, claimer=claimer, reached=draw(st.integers(0, call.audience)))


def call_events() -> st.SearchStrategy[api.Event]:
    changed = call_views().flatmap(lambda view: st.builds(
        api.CallChangedEvent, circle=st.just(ELM), call=st.just(view.id), change=st.sampled_from(("new", "updated")),
        parts=st.just(()), view=st.just(view)))
    gone = st.sampled_from(BASE_CALLS).map(lambda c: api.CallChangedEvent(circle=ELM, call=c.id, change="gone",
                                                                          parts=(), view=None))
    return st.one_of(changed, gone)


def checkin_events() -> st.SearchStrategy[api.Event]:
    base = make_checkin("week", "How is your week going?")

    def view(answered: list[str]) -> api.Event:
        replies = tuple(api.Reply(id=hid("r" + m), member=m, option=0, option_text="doing OK", text="", created=NOW,
                                  late=False, suggest_call=False) for m in answered)
        c = dataclasses.replace(base, replies=replies, answered=len(replies),
                                not_answered=tuple(m for m in base.not_answered if m not in answered))
        return api.CheckinChangedEvent(circle=ELM, checkin=c.id, change="reply", members=tuple(answered), view=c)
    return st.lists(st.sampled_from([ME, BEN, DAN]), unique=True).map(view)


def other_events() -> st.SearchStrategy[api.Event]:
    presence = st.builds(api.PresenceEvent, circle=st.just(ELM), member=st.sampled_from(PEOPLE[:4]),
                         status=st.sampled_from(vocab.PRESENCE_STATES), until=st.sampled_from([None, NOW + 600]),
                         cap=st.sampled_from([None, 2]), name=st.none(), circle_name=st.just("Elm St"))
    sync = st.builds(api.SyncEvent, circle=st.just(ELM), state=st.sampled_from(vocab.SYNC_STATES),
                     circle_name=st.just("Elm St"))
    peer = st.builds(api.PeerEvent, address=st.sampled_from(["127.0.0.1:7448", "127.0.0.1:7449"]),
                     node_id=st.sampled_from([BEN, DAN]), linked=st.booleans())
    joined = st.just(api.MemberEvent(circle=ELM, change="joined", member=EVE, name="Eve", role="member", was=None,
                                     circle_name="Elm St", view=member(EVE)))
    left = st.sampled_from([EVE, DAN]).map(lambda m: api.MemberEvent(
        circle=ELM, change="left", member=m, name=NAMES[m], role=None, was="member", circle_name="Elm St", view=None))
    notice = st.just(api.NoticeEvent(circle=ELM, circle_name="Elm St", kind="key_changed", member=EVE, name="Eve",
                                     previous=DAN))
    return st.one_of(presence, sync, peer, joined, left, notice)


EVENTS = st.lists(st.one_of(call_events(), checkin_events(), other_events()), max_size=25)


def numbered(events: list[api.Event], first: int = 1) -> list[api.Event]:
    return [dataclasses.replace(e, seq=i) for i, e in enumerate(events, first)]


@given(EVENTS, st.data())
def test_a_snapshot_at_any_point_plus_the_events_after_it_is_the_same_state(events: list[api.Event],
                                                                            data: st.DataObject) -> None:
    events = numbered(events)
    whole = fresh()
    whole.apply_all(events)
    k = data.draw(st.integers(0, len(events)), label="snapshot after event")
    partial = fresh()
    partial.apply_all(events[:k])
    joined = Model()
    joined.apply_snapshot(partial.to_snapshot())
    joined.apply_all(events)         # the first k are in the snapshot: skipped by their seq
    assert joined.to_snapshot() == whole.to_snapshot()


@given(EVENTS)
def test_each_event_sets_the_state_of_what_it_names(events: list[api.Event]) -> None:
    once, twice = fresh(), fresh()
    once.apply_all(events)
    twice.apply_all([e for event in events for e in (event, event)])   # unnumbered: every one applies
    assert once.to_snapshot() == twice.to_snapshot()


def test_the_seq_rule_skips_what_the_snapshot_holds_and_a_restart_numbers_from_one_again() -> None:
    model = fresh(seq=10)
    old = api.SyncEvent(seq=10, circle=ELM, state="catching_up", circle_name="Elm St")
    assert not model.fresh(old) and model.apply(old) == [] and model.sync_states() == ["caught_up"]
    model.apply(dataclasses.replace(old, seq=11))
    assert model.sync_states() == ["catching_up"] and model.seq == 11
    model.apply_snapshot(FakeState().snapshot(2))                   # the daemon restarted
    assert model.seq == 2 and model.fresh(dataclasses.replace(old, seq=3))


# --- what home shows ---------------------------------------------------------------------------------


def test_calls_that_need_someone_come_first_then_urgency_then_the_longest_waiting() -> None:
    state = FakeState()
    state.calls = {c.id: c for c in [
        make_call("old-today", DAN, "a", urgency="today", age=9000),
        make_call("new-now", BEN, "b", urgency="now", age=60),
        make_call("claimed-now", CHLOE, "c", urgency="now", status="claimed", claimer=DAN),
        make_call("old-now", CHLOE, "d", urgency="now", age=600),
        make_call("done", DAN, "e", status="resolved", claimer=BEN),
    ]}
    order = [c.text for c in fresh(state).calls_in_order()]
    assert order == ["d", "b", "a", "c", "e"]
    assert [c.text for c in fresh(state).open_calls()] == ["d", "b", "a"]


def test_home_lists_live_calls_and_only_the_latest_resolved_ones() -> None:
    state = FakeState()
    resolved = [dataclasses.replace(make_call(f"done{i}", DAN, f"r{i}", status="resolved", claimer=BEN),
                                    resolved_at=NOW - 100 * i) for i in range(5)]
    state.calls = {c.id: c for c in [make_call("open", BEN, "o"), *resolved,
                                     make_call("taken", CHLOE, "t", status="claimed", claimer=DAN)]}
    calls, earlier = fresh(state).home_calls(3)
    assert [c.text for c in calls] == ["o", "t", "r0", "r1", "r2"] and earlier == 2
    assert fresh(state).home_calls(10) == (fresh(state).calls_in_order(), 0)


def test_check_ins_awaiting_me_who_reads_my_answer_and_who_is_online() -> None:
    model = fresh()
    [checkin] = model.checkins_for_me()
    assert checkin.prompt == "How is your week going?"
    assert model.readers_of(checkin) == [CHLOE]                  # facilitators only
    everyone = dataclasses.replace(checkin, visibility="circle")
    assert model.readers_of(everyone) == [BEN, CHLOE, DAN]
    assert model.online() == {BEN} and model.linked() == 1
    assert model.available() and model.me_in(ELM) is not None
    answered = dataclasses.replace(checkin, not_answered=(BEN, DAN))
    model.apply(api.CheckinChangedEvent(circle=ELM, checkin=checkin.id, change="reply", members=(ME,), view=answered))
    assert model.checkins_for_me() == []


def test_membership_and_presence_events_update_the_circle() -> None:
    model = fresh()
    model.apply(api.MemberEvent(circle=ELM, change="joined", member=EVE, name="Eve", role="member", was=None,
                                view=member(EVE)))
    assert model.circles[ELM].circle.members == 5 and model.names(ELM)[EVE] == "Eve"
    model.apply(api.PresenceEvent(circle=ELM, member=ME, status="away", until=None, cap=None))
    assert not model.available()
    model.apply(api.MemberEvent(circle=ELM, change="removed", member=DAN, name="Dan", role=None, was="member"))
    assert DAN not in model.circles[ELM].members and model.circles[ELM].circle.members == 4
    model.apply(api.NoticeEvent(circle=ELM, circle_name="Elm St", kind="removed", member=ME, name="Sam",
                                previous=None))
    assert model.circles_in_order() == []


def test_a_join_welcome_asks_for_a_new_snapshot() -> None:
    model = fresh(FakeState(circles=False))
    circle = FakeState().circles[ELM].circle
    alerts = model.apply(api.JoinEvent(circle=ELM, name="Elm St", outcome="welcome", reason=None, view=circle))
    assert model.wants_snapshot and [c.circle.name for c in model.circles_in_order()] == ["Elm St"]
    assert alerts[0].title == "Welcome"


# --- alerts ------------------------------------------------------------------------------------------


def test_a_new_call_from_someone_else_rings_and_my_own_does_not() -> None:
    model = fresh()
    theirs = make_call("fresh", DAN, "help", urgency="now")
    [alert] = model.apply(api.CallChangedEvent(circle=ELM, call=theirs.id, change="new", parts=(), view=theirs))
    assert alert.bell and alert.call == theirs.id and "Dan asks for support in Elm St (now)" in alert.message
    assert "help" not in alert.message                    # the banner names who and where, not what
    mine = make_call("mine", ME, "me too")
    assert model.apply(api.CallChangedEvent(circle=ELM, call=mine.id, change="new", parts=(), view=mine)) == []


def test_need_support_now_rings_for_someone_else_s_answer_only() -> None:
    model = fresh()
    checkin = dataclasses.replace(make_checkin("week", "How is your week going?", author=ME))
    urgent = api.Reply(id=hid("r"), member=BEN, option=2, option_text=vocab.SUGGEST_CALL_OPTION, text="", created=NOW,
                       late=False, suggest_call=True)
    view = dataclasses.replace(checkin, replies=(urgent,))
    [alert] = model.apply(api.CheckinChangedEvent(circle=ELM, checkin=view.id, change="reply", members=(BEN,),
                                                  view=view))
    assert alert.bell and "Ben Okafor answered \"need support now\"" in alert.message
    mine = dataclasses.replace(urgent, member=ME)
    view = dataclasses.replace(checkin, replies=(mine,))
    assert model.apply(api.CheckinChangedEvent(circle=ELM, checkin=view.id, change="reply", members=(ME,),
                                               view=view)) == []


def test_a_reconnect_snapshot_tells_of_calls_that_came_while_away() -> None:
    model = fresh()
    state = FakeState()
    arrived = make_call("while-away", DAN, "x", urgency="now")
    state.calls[arrived.id] = arrived
    [alert] = model.apply_snapshot(state.snapshot(0))
    assert alert.call == arrived.id and alert.bell


def test_a_lost_claim_is_told_without_the_bell() -> None:
    model = fresh()
    call = next(iter(model.calls))
    [alert] = model.apply(api.CallEvent(event="claim_lost", circle=ELM, call=call, claimer=DAN))
    assert not alert.bell and "Dan's claim came first" in alert.message


def test_who_hears_a_call_in_a_sentence_from_its_ladder() -> None:
    from meshcare.tui.render import never_everyone, who_hears

    model = fresh()
    step = api.LadderStep
    call = make_call("mine", ME, "x")
    cases = [
        ((), "everyone in the circle at once", False),
        ((step(after=0, to="chosen", members=(BEN, CHLOE)),),
         "only Ben Okafor and Chloe Hart: it never goes to the whole circle", True),
        ((step(after=0, to="facilitators", members=()),), "only the facilitators: it never goes to the whole circle",
         True),
        ((step(after=0, to="facilitators", members=()), step(after=30, to="circle", members=())),
         "the facilitators first, then everyone in the circle after 30 min if nobody has taken it", False),
        ((step(after=0, to="chosen", members=(DAN,)), step(after=120, to="facilitators", members=())),
         "Dan first, then the facilitators after 2 h if nobody has taken it; it never goes to the whole circle", True),
    ]
    for ladder, words, narrow in cases:
        view = dataclasses.replace(call, ladder=ladder)
        assert (who_hears(model, view), never_everyone(view)) == (words, narrow)


def test_being_given_another_role_changes_this_persons_role_in_the_circle() -> None:
    model = fresh()
    me = next(m for m in model.circles[ELM].members.values() if m.me)
    model.apply(api.MemberEvent(circle=ELM, change="role", member=ME, name="Sam", role="facilitator", was="member",
                                circle_name="Elm St", view=dataclasses.replace(me, role="facilitator"), seq=1))
    assert model.role_in(ELM) == "facilitator"
    model.apply(api.MemberEvent(circle=ELM, change="role", member=BEN, name="Ben Okafor", role="facilitator",
                                was="member", circle_name="Elm St", view=member(BEN, "facilitator"), seq=2))
    assert model.role_in(ELM) == "facilitator" and model.circles[ELM].circle.facilitators == 3

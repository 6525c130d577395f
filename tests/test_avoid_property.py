""""Who not to involve" (issue 13): a member on someone's avoid list never reads that person's call or
its thread, in any order of events: ladder steps to chosen members, the facilitators or the whole
circle; escalations; joins (with and without shared history, by whichever member admits); epoch
rotations; replies in the thread; the avoided member joining only after the call was made (the avoid
list set before the call). Registries and duties as the daemon runs them (tests/test_registry.py's Mesh).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.circles import calls as cl
from tests.test_registry import Mesh, T, plan_of

STEP_TARGETS = ("chosen", "facilitators", "circle")


@st.composite
def _ladder(draw: st.DrawFn) -> list[dict[str, Any]]:
    steps = []
    for i in range(draw(st.integers(1, 3))):
        to = draw(st.sampled_from(STEP_TARGETS))
        members = draw(st.lists(st.sampled_from(("B", "Q", "F")), min_size=1, max_size=3, unique=True)) \
            if to == "chosen" else []
        steps.append({"after": i * 5, "to": to, "members": members})
    return steps


EVENTS = st.lists(st.sampled_from(("escalate", "join_n", "join_q", "rotate", "reply", "sync_q")), max_size=6)


def _thread_of(circle: Any, call_id: bytes) -> list[Any]:
    return [p for p in circle.posts if p.id == call_id or p.body.get("call") == call_id]


@settings(max_examples=40, deadline=None)
@given(ladder=_ladder(), events=EVENTS, share_history=st.booleans(), q_first=st.booleans(),
       q_facilitator=st.booleans(), admitter=st.sampled_from(("F", "B", "A")))
def test_an_avoided_member_never_reads_the_call_or_its_thread(ladder: list[dict[str, Any]], events: list[str],
                                                                share_history: bool, q_first: bool,
                                                                q_facilitator: bool, admitter: str) -> None:
    mesh = Mesh("F", "A", "B", "Q", "N")
    now = T
    mesh.found("F", now, share_history=share_history, members_invite=True)
    mesh.join("A", "F", now)
    mesh.join("B", "F", now)
    joined = {"F", "A", "B"}
    if q_first:
        mesh.join("Q", "F", now, role="facilitator" if q_facilitator else "member")
        joined.add("Q")
    a = mesh["A"]
    topic = mesh.circle("A").topic
    a.state.avoid[bytes(topic)] = {mesh.me("Q")}        # set before the call, Q a member or not yet
    steps = [{**s, "members": [mesh.me(m) for m in s["members"]]} for s in ladder]
    circle = mesh.circle("A")
    audience = a.call_audience(circle, steps, 0, now)
    assert mesh.me("Q") not in audience
    call = mesh.post("A", "call", {"text": "could someone be with me", "ladder": steps, "narrowed": True}, now,
                     audience=audience)

    def check() -> None:
        if "Q" in joined:
            q = mesh.circle("Q")
            assert not _thread_of(q, call.id)
            assert call.id not in q.keys.calls

    for event in events:
        if event == "escalate":
            now += 5 * 60
            for duty in plan_of(a).due(now):
                if duty.kind == "escalate":
                    mesh.carry_out("A", duty, now)
        elif event in ("join_n", "join_q"):
            name = "N" if event == "join_n" else "Q"
            if name not in joined:
                mesh.join(name, admitter if admitter in joined else "F", now)
                joined.add(name)
        elif event == "rotate":
            mesh.publish([mesh["F"].rotate(mesh.circle("F"), now)], mesh.others("F"), now)
        elif event == "reply":
            b = mesh.circle("B")
            if call.id in b.keys.calls:
                mesh.post("B", "update", {"call": call.id, "text": "I'm nearby, I can come"}, now)
        elif event == "sync_q" and "Q" in joined:
            mesh.deliver("Q", mesh.log, now)
        check()
    if "Q" in joined:
        mesh.deliver("Q", mesh.log, now + 1)
    check()
    # and whoever the call reached (not Q) reads it: the avoid list narrows, it does not silence
    for name in ("F", "B"):          # members when the call was made (a newcomer is never handed it)
        state = mesh["A"].view(mesh.circle("A")).calls[call.id]
        if mesh.me(name) in a.call_audience(mesh.circle("A"), cl.ladder_data(state), state.step, now):
            mesh.deliver(name, mesh.log, now + 1)
            assert call.id in {p.id for p in mesh.circle(name).posts}


def test_a_narrowed_call_is_never_handed_to_a_newcomer_with_history() -> None:
    mesh = Mesh("F", "A", "B", "Q")
    mesh.found("F", T, share_history=True, members_invite=True)
    for name in ("A", "B"):
        mesh.join(name, "F", T)
    a = mesh["A"]
    a.state.avoid[bytes(mesh.circle("A").topic)] = {mesh.me("Q")}
    ladder = [{"after": 0, "to": "circle", "members": []}]
    call = mesh.post("A", "call", {"text": "hard day", "ladder": ladder, "narrowed": True}, T,
                     audience=a.call_audience(mesh.circle("A"), ladder, 0, T))
    mesh.join("Q", "B", T + 10)
    assert call.id not in {p.id for p in mesh.circle("Q").posts}
    assert call.id in {p.id for p in mesh.circle("B").posts}


def test_reached_n_of_m_leaves_the_avoided_out_and_names_nobody_to_others() -> None:
    mesh = Mesh("F", "A", "B", "Q")
    mesh.found("F", T)
    for name in ("A", "B", "Q"):
        mesh.join(name, "F", T)
    a = mesh["A"]
    a.state.avoid[bytes(mesh.circle("A").topic)] = {mesh.me("Q")}
    ladder = [{"after": 0, "to": "circle", "members": []}]
    call = mesh.post("A", "call", {"text": "hard day", "ladder": ladder, "narrowed": True}, T,
                     audience=a.call_audience(mesh.circle("A"), ladder, 0, T))
    mine = a.view(mesh.circle("A")).calls[call.id]
    assert mesh.me("Q") not in a.audience_then(mesh.circle("A"), mine)
    b = mesh["B"]
    theirs = b.view(mesh.circle("B")).calls[call.id]
    assert theirs.narrowed
    assert mesh.me("Q") not in b.audience_then(mesh.circle("B"), theirs)     # not "waiting on" Q


def test_the_circle_cannot_tell_who_a_narrowed_call_left_out() -> None:
    """A narrowed call's key is in anonymous boxes: what every member can decrypt (the epoch layer)
    names no member, so nobody learns who was left out, the one left out included."""
    from meshcare import envelope as env
    from meshcare.wire import pack, unpack_strict

    mesh = Mesh("F", "A", "B", "Q")
    mesh.found("F", T)
    for name in ("A", "B", "Q"):
        mesh.join(name, "F", T)
    a = mesh["A"]
    a.state.avoid[bytes(mesh.circle("A").topic)] = {mesh.me("Q")}
    ladder = [{"after": 0, "to": "circle", "members": []}]
    call = mesh.post("A", "call", {"text": "hard day", "ladder": ladder, "narrowed": True}, T,
                     audience=a.call_audience(mesh.circle("A"), ladder, 0, T))
    q = mesh.circle("Q")
    epoch_key = q.keys.body_key(call.epoch)
    assert epoch_key is not None
    outer = unpack_strict(env.open_body(call, epoch_key), "post")
    assert set(outer) == {"k", "anon", "box"} and len(outer["anon"]) == 3          # A, F, B
    assert not any(mesh.me(n) in pack(outer) for n in ("F", "A", "B", "Q"))
    assert call.id in {p.id for p in mesh.circle("B").posts}
    assert call.id not in {p.id for p in q.posts}

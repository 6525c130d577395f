"""What the ``Node`` tells: one typed event per change, on the nodes that should hear it, pure.

Real nodes over ``tests/nodenet.py`` (which publishes each ``Tell`` as the daemon does, through
``ops.events.event_of``). Each step is followed by enough virtual time for everything to settle, and
the events since the step are compared *exactly*: who hears what, once. Every event must also read back
as its typed record (``control.api.read_event``) with the very same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from meshcare.circles import calls as cl
from meshcare.circles import changes as ch
from meshcare.circles import checkins as ck
from meshcare.control import api
from meshcare.control.events import EVENTS
from meshcare.errors import NotFound
from meshcare.ids import TopicId
from meshcare.node_events import Effect
from meshcare.ops import perform

from .helpers import DAY
from .nodenet import NodeNet

CIRCLE = "Elm St"
SETTLE = 30.0
#: The events that say what changed (the others come per envelope or per link).
CHANGES = frozenset(EVENTS) - {"peer", "envelope", "circle", "call"}


class Watched(NodeNet):
    """A NodeNet that, each time a node's effects were carried out, asks that node's ops what every new
    event shows (a call's or check-in's view, a member's row, the circle a welcome let it into): the
    event must show exactly what the op answers at that moment. ``shown`` counts the checks by event."""

    def __init__(self, *names: str) -> None:
        super().__init__(*names)
        self.shown: dict[str, int] = {}

    def ask(self, name: str, op: str, **args: Any) -> dict[str, Any]:
        result, effects = perform(self.ops, op, self.nodes[name], args, self.now)
        assert effects == []
        return result

    def apply(self, name: str, effects: Sequence[Effect]) -> None:
        mark = len(self.events[name])
        super().apply(name, effects)
        for event, data in self.events[name][mark:]:
            if self._check(name, event, data):
                self.shown[event] = self.shown.get(event, 0) + 1

    def _check(self, name: str, event: str, data: dict[str, Any]) -> bool:
        if event in ("call.changed", "checkin.changed"):
            what = event.split(".")[0]
            ref = data[what]
            if data["change"] == "gone":
                assert data["view"] is None, data
                with pytest.raises(NotFound):
                    self.ask(name, f"{what}.show", **{what: ref})
            else:
                assert data["view"] == self.ask(name, f"{what}.show", **{what: ref})[what], (name, event, data)
            return True
        if event == "member":
            listed = [m for m in self.ask(name, "circle.members", circle=data["circle"])["members"]
                      if m["id"] == data["member"]]
            assert data["view"] == (listed[0] if listed else None), (name, data)
            assert data["circle_name"] == CIRCLE
            return True
        if event == "join" and data["outcome"] == "welcome":
            listed = [c for c in self.ask(name, "circle.list")["circles"] if c["id"] == data["circle"]]
            assert data["view"] == listed[0], (name, data)
            return True
        return False

    def last_views_are_current(self) -> int:
        """Once everything settled: on every node, the last event about each call and check-in shows it
        as ``call.show`` / ``checkin.show`` answer now (or it is gone). Returns how many were checked."""
        checked = 0
        for name, events in self.events.items():
            last = {(event, data[event.split(".")[0]]): data for event, data in events
                    if event in ("call.changed", "checkin.changed")}
            for (event, _), data in last.items():
                checked += self._check(name, event, data)
        return checked


class Told:
    """The change events each node was told since the last look, briefly: who, what, whom."""

    def __init__(self, net: NodeNet) -> None:
        self.net = net
        self.marks = {name: len(events) for name, events in net.events.items()}
        self.who = {net.key(name).hex(): name for name in net.nodes}

    def person(self, member: str | None) -> str | None:
        return None if member is None else self.who.get(member, member[:8])

    def since(self) -> dict[str, list[tuple[Any, ...]]]:
        """Per node, the change events since the last call, in order (every one read back typed)."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        for name, events in self.net.events.items():
            fresh = events[self.marks.get(name, 0):]
            self.marks[name] = len(events)
            for event_name, data in fresh:
                event = api.read_event(event_name, data)
                assert event is not None and event.to_data() == data, (event_name, data)
            out[name] = [self.brief(event_name, data) for event_name, data in fresh if event_name in CHANGES]
        return out

    def brief(self, name: str, d: dict[str, Any]) -> tuple[Any, ...]:
        if name == "member":
            return ("member", d["change"], self.person(d["member"]), d["role"], d["was"])
        if name == "invite":
            return ("invite", d["change"], self.person(d["member"]), d["mine"])
        if name == "join":
            return ("join", d["outcome"], d["reason"])
        if name == "presence":
            return ("presence", self.person(d["member"]), d["status"], d["until"], d["cap"])
        if name == "sync":
            return ("sync", d["state"])
        if name == "notice":
            return ("notice", d["kind"], self.person(d["member"]), self.person(d["previous"]))
        if name == "call.changed":
            return ("call", d["change"], tuple(d["parts"]))
        return ("checkin", d["change"], tuple(self.person(m) for m in d["members"]))


def members(net: NodeNet, name: str) -> set[str]:
    found = [c for c in net.nodes[name].registry.circles.values() if c.roster.name == CIRCLE]
    return {m.name for m in found[0].roster.members.values()} if found else set()


def join(net: NodeNet, name: str, via: str, *, as_name: str | None = None) -> str:
    """``name`` starts, linked to ``via``, and joins with a fresh invite of ann's: returns the token."""
    net.start(name, [via])
    token: str = net.op("ann", "circle.invite", circle=CIRCLE)["token"]
    net.op(name, "circle.join", token=token, **({"name": as_name} if as_name else {}))
    joined = as_name or name
    net.run_until(lambda: joined in members(net, "ann") and members(net, name) == members(net, "ann"))
    net.run(SETTLE)
    return token


def circle(*names: str, others: tuple[str, ...] = (), **settings: Any) -> tuple[Watched, Told]:
    """ann founds the circle; ``names`` join one after another, each linked to the one before;
    ``others`` are nodes not started yet."""
    net = Watched("ann", *names, *others)
    net.start("ann")
    net.op("ann", "circle.create", name=CIRCLE, **settings)
    for before, name in zip(("ann", *names), names):
        join(net, name, before)
    return net, Told(net)


def test_a_join_is_told_once_to_every_member_and_the_joiner_hears_welcome_then_caught_up() -> None:
    net, told = circle("bob", others=("cat",))
    join(net, "cat", "bob")
    assert told.since() == {
        "ann": [("member", "joined", "cat", "member", None), ("invite", "used", "cat", True)],
        "bob": [("member", "joined", "cat", "member", None), ("invite", "used", "cat", False)],
        "cat": [("join", "welcome", None), ("sync", "catching_up"), ("sync", "caught_up")]}
    topic = net.nodes["ann"].registry.find(CIRCLE).topic.hex()
    assert all(d["circle"] == topic for events in net.events.values() for n, d in events if n in CHANGES)


def test_a_removal_is_told_to_the_others_and_the_removed_node_gets_its_notice_only() -> None:
    net, told = circle("bob", "cat")
    net.op("ann", "circle.remove", circle=CIRCLE, member="cat")
    net.run(SETTLE)
    removed = ("member", "removed", "cat", None, "member")
    assert told.since() == {"ann": [removed], "bob": [removed], "cat": [("notice", "removed", "cat", None)]}
    net.run(600)                               # acknowledgements, rotation, cat's sweep deletes the circle
    assert told.since() == {"ann": [], "bob": [], "cat": []}
    assert not net.nodes["cat"].registry.circles


def test_a_role_change_and_a_leave_are_one_event_on_every_node() -> None:
    net, told = circle("bob", "cat")
    net.op("ann", "circle.role", circle=CIRCLE, member="bob", role="facilitator")
    net.run(SETTLE)
    promoted = [("member", "role", "bob", "facilitator", "member")]
    assert told.since() == {"ann": promoted, "bob": promoted, "cat": promoted}
    net.op("cat", "circle.leave", circle=CIRCLE)
    net.run(SETTLE)
    left = [("member", "left", "cat", None, "member")]
    assert told.since() == {"ann": left, "bob": left, "cat": left}


def test_a_joiner_is_told_why_an_invite_was_refused_and_the_members_hear_of_the_revoke() -> None:
    net, told = circle("bob", others=("cat", "dan", "eve"))
    used = join(net, "cat", "ann")
    told.since()
    revoked = net.op("ann", "circle.invite", circle=CIRCLE)
    net.op("ann", "circle.revoke", circle=CIRCLE, invite=revoked["invite"][:8])
    net.run(SETTLE)
    assert told.since() == {"ann": [("invite", "revoked", None, True)], "bob": [("invite", "revoked", None, False)],
                            "cat": [("invite", "revoked", None, False)], "dan": [], "eve": []}
    net.start("dan", ["ann"])
    net.op("dan", "circle.join", token=revoked["token"])
    net.start("eve", ["bob"])
    net.op("eve", "circle.join", token=used)
    net.run(60)
    assert told.since() == {"ann": [], "bob": [], "cat": [], "dan": [("join", "refused", "revoked")],
                            "eve": [("join", "refused", "used")]}


def test_presence_is_told_when_it_changes_and_again_when_it_runs_out() -> None:
    net, told = circle("bob", "cat")
    until = int(net.now) + 600
    net.op("bob", "presence.set", status="available", until=until, cap=2)
    net.run(SETTLE)
    said = [("presence", "bob", "available", until, 2)]
    assert told.since() == {"ann": said, "bob": said, "cat": said}
    net.run(600)
    gone = [("presence", "bob", "unknown", None, None)]
    assert told.since() == {"ann": gone, "bob": gone, "cat": gone}


def test_a_call_is_told_new_then_reached_claimed_resolved_on_every_node() -> None:
    net, told = circle("bob", "cat")
    call = net.op("cat", "call.create", circle=CIRCLE, text="Rough night")["call"]["id"]
    net.run(SETTLE)
    for name, events in told.since().items():
        assert events[0] == ("call", "new", ()), name
        assert 1 <= len(events[1:]) <= 2 and set(events[1:]) == {("call", "updated", ("reach",))}, name
    net.op("bob", "call.claim", call=call)
    net.run(SETTLE)
    claimed = [("call", "updated", ("status", "claim"))]
    assert told.since() == {"ann": claimed, "bob": claimed, "cat": claimed}
    net.op("cat", "call.resolve", call=call)
    net.run(SETTLE)
    resolved = [("call", "resolved", ("status",))]
    assert told.since() == {"ann": resolved, "bob": resolved, "cat": resolved}


def test_a_checkin_and_its_reply_are_told_on_every_node() -> None:
    net, told = circle("bob", "cat")
    checkin = net.op("ann", "checkin.create", circle=CIRCLE, prompt="How is everyone?")["checkin"]["id"]
    net.run(SETTLE)
    assert told.since() == {name: [("checkin", "new", ())] for name in ("ann", "bob", "cat")}
    net.op("bob", "checkin.reply", checkin=checkin, option=1)
    net.run(SETTLE)
    # cat cannot read the answer (facilitators only) but hears that bob answered
    assert told.since() == {name: [("checkin", "reply", ("bob",))] for name in ("ann", "bob", "cat")}


def test_call_and_checkin_events_show_what_call_show_and_checkin_show_answer_then() -> None:
    net, told = circle("bob", "cat", others=("dan",))
    call = net.op("cat", "call.create", circle=CIRCLE, text="Rough night", reach="flat 3B")["call"]["id"]
    net.run(SETTLE)
    offer = net.op("bob", "call.offer", call=call, kind="come_over", text="in 10")["id"]
    net.op("ann", "call.claim", call=call)
    net.run(SETTLE)
    net.op("cat", "call.accept", call=call, offer=offer[:8])
    net.op("bob", "call.update", call=call, text="on my way")
    net.op("cat", "plan.edit", helps="tea and a quiet room")
    shared = net.op("cat", "plan.share", call=call)["share"]
    net.run(SETTLE)
    net.op("cat", "plan.retract", share=shared[:8])
    net.op("cat", "plan.share", circle=CIRCLE)
    private = net.op("ann", "checkin.create", circle=CIRCLE, prompt="How is everyone?")["checkin"]["id"]
    open_ = net.op("ann", "checkin.create", circle=CIRCLE, prompt="Dinner?", options=["yes", "no"],
                   visibility="circle")["checkin"]["id"]
    net.run(SETTLE)
    net.op("bob", "checkin.reply", checkin=private, option=3, text="rough week")
    net.op("cat", "checkin.reply", checkin=open_, option=1)
    net.run(SETTLE)
    join(net, "dan", "ann")                            # the check-ins ask dan too now
    net.op("cat", "call.resolve", call=call)
    net.run(SETTLE)
    parts = {p for events in net.events.values() for n, d in events if n == "call.changed" for p in d["parts"]}
    assert {"claim", "offers", "updates", "plans", "status"} <= parts
    changes = {d["change"] for events in net.events.values() for n, d in events if n == "checkin.changed"}
    assert changes == {"new", "reply", "asked"}
    assert net.shown["call.changed"] >= 3 * 6 and net.shown["checkin.changed"] >= 3 * 4
    assert net.shown["member"] >= 3 and net.shown["join"] >= 3
    # ann, bob, cat: a call and two check-ins each (dan was told none: what was there when it joined is
    # its starting point, which a snapshot shows)
    assert net.last_views_are_current() == 3 * 3


def test_someone_joining_under_the_name_of_a_member_who_left_is_a_key_change_notice() -> None:
    net, told = circle("bob", others=("cat", "bob2"))
    join(net, "cat", "ann")                             # linked to ann: bob's leaving does not cut cat off
    net.op("bob", "circle.leave", circle=CIRCLE)
    net.run(SETTLE)
    told.since()
    join(net, "bob2", "ann", as_name="bob")             # bob again, on a new device: another key
    joined = [("member", "joined", "bob2", "member", None), ("notice", "key_changed", "bob2", "bob")]
    assert told.since() == {"ann": [*joined, ("invite", "used", "bob2", True)],
                            "cat": [*joined, ("invite", "used", "bob2", False)], "bob": [],
                            "bob2": [("join", "welcome", None), ("sync", "catching_up"), ("sync", "caught_up")]}


def test_many_posts_at_once_are_not_an_event_storm() -> None:
    net, told = circle("bob", "cat")
    call = net.op("cat", "call.create", circle=CIRCLE, text="Long night")["call"]["id"]
    net.run(SETTLE)
    told.since()
    for i in range(20):                                 # twenty updates in the same instant
        net.op("bob", "call.update", call=call, text=f"update {i}")
    net.run(SETTLE)
    for name, events in told.since().items():
        assert 1 <= len(events) <= 2 and set(events) == {("call", "updated", ("updates",))}, (name, events)
    assert len(net.op("ann", "call.show", call=call)["call"]["updates"]) == 20


def test_a_call_for_support_is_told_at_once_even_right_after_another_change() -> None:
    """Changes within the summary interval are gathered, except what comes in the urgent lane: a call
    arriving 10 ms after an update must be told 5 ms later (the link's latency), not at the interval's end."""
    net, told = circle("bob")
    first = net.op("bob", "call.create", circle=CIRCLE, text="Long night")["call"]["id"]
    net.run(SETTLE)
    told.since()
    net.op("bob", "call.update", call=first, text="a bit better")
    net.run(0.01)                                       # ann summarized the update: an interval starts
    assert ("call", "updated", ("updates",)) in told.since()["ann"]
    second = net.op("bob", "call.create", circle=CIRCLE, text="could someone come by?")["call"]["id"]
    net.run(2 * net.latency)
    assert ("call", "new", ()) in told.since()["ann"], "the call waited for the summary interval"
    assert second in [c["id"] for c in net.op("ann", "calls.list")["calls"]]


def test_a_restart_tells_nothing_old_as_new_and_says_when_it_has_caught_up() -> None:
    net, told = circle("bob")
    net.op("bob", "call.create", circle=CIRCLE, text="still here")
    net.op("ann", "presence.set", status="away")
    net.run(SETTLE)
    told.since()
    net.restart("bob", ["ann"])
    net.run(SETTLE)
    after = told.since()
    assert after["bob"] == [("sync", "catching_up"), ("sync", "caught_up")]
    assert all(event[0] == "sync" for event in after["ann"])


def test_what_expires_is_told_gone() -> None:
    net, told = circle("bob", retention_days=1)
    net.op("bob", "call.create", circle=CIRCLE, text="tonight")
    net.op("ann", "checkin.create", circle=CIRCLE, prompt="ok?")
    net.run(SETTLE)
    told.since()
    net.now += 2 * DAY                                  # the retention sweep, two days on
    for name in ("ann", "bob"):
        net.apply(name, net.nodes[name].handle_deadline(net.now))
    gone = [("call", "gone", ()), ("checkin", "gone", ())]
    assert {name: [e for e in events if e[0] != "sync"] for name, events in told.since().items()} == \
        {"ann": gone, "bob": gone}


# --- the diff on its own ---------------------------------------------------------------------------------


def _checkin(*replies: ck.Reply) -> ck.CheckinState:
    return ck.CheckinState(b"k" * 32, b"a" * 32, "ok?", ("yes", "no"), "circle", None, None, 0, 1, replies)


def _reply(member: bytes, post: bytes, option: int) -> ck.Reply:
    return ck.Reply(post, member, option, ("yes", "no")[option], "", 0, False, False)


def test_a_reply_that_went_changes_the_tally_without_a_new_answer() -> None:
    topic = TopicId(b"t" * 16)
    bo, cy = b"b" * 32, b"c" * 32
    before = {b"k" * 32: _checkin(_reply(bo, b"1" * 32, 0), _reply(cy, b"2" * 32, 1))}
    changed = {b"k" * 32: _checkin(_reply(bo, b"3" * 32, 1), _reply(cy, b"2" * 32, 1))}
    went = {b"k" * 32: _checkin(_reply(cy, b"2" * 32, 1))}
    assert ch._checkins(topic, before, changed) == [ch.CheckinChanged(topic, b"k" * 32, "reply", (bo,))]
    assert ch._checkins(topic, before, went) == [ch.CheckinChanged(topic, b"k" * 32, "tally", ())]
    assert ch._checkins(topic, before, before) == []


def test_someone_joining_or_leaving_changes_whom_a_checkin_asks() -> None:
    topic = TopicId(b"t" * 16)
    ann, bo, dan = b"a" * 32, b"b" * 32, b"d" * 32
    state = {b"k" * 32: _checkin(_reply(bo, b"1" * 32, 0))}
    assert ch._checkins(topic, state, state, (frozenset({ann, bo}), frozenset({ann, bo, dan}))) == \
        [ch.CheckinChanged(topic, b"k" * 32, "asked")]
    assert ch._checkins(topic, state, state, (frozenset({ann, bo}), frozenset({ann}))) == []   # bo had answered


def test_which_parts_of_a_call_changed() -> None:
    call = cl.CallState(b"c" * 32, b"a" * 32, "help", "now", (), None, (), None, 0, 1, ())
    later = cl.CallState(b"c" * 32, b"a" * 32, "help", "now", (), None, (), None, 0, 1, (), step=1,
                         received_by=frozenset({b"b" * 32}))
    assert ch._parts(call, later) == ("step", "reach")
    assert ch._parts(call, call) == ()

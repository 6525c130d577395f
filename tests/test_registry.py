"""The registry: joining through a lobby, undecided envelopes, and the duties timers carry out (admit,
receipt, escalate, follow-up, rotate), with several ``Registry`` objects and a hand-driven network.

``Mesh.deliver`` does what the daemon does with received envelopes: check the signature, ask ``verdicts``,
hand the accepted ones to ``delivered``, and while rosters change, finish joins and deliver what
``take_released`` lets go.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from meshcare import envelope as env
from meshcare.circles.circle import Circle
from meshcare.circles.invites import Lobby, Token, new_invite_seed
from meshcare.circles.duties import ADMIT_DELAY, FOLLOWUP_PROMPT, ROTATE_DEBOUNCE, Duties, Duty
from meshcare.circles.keyring import ROSTER_EPOCH
from meshcare.circles.registry import REFUSE_FOR, Registry
from meshcare.crypto.keys import Identity
from meshcare.errors import BadInput
from meshcare.ids import TopicId
from meshcare.circles.state import LocalState

T = 1_800_000_000
DAY = 86_400


class Mesh:
    """Registries by name, and everything each published (so a late node can be given the history)."""

    def __init__(self, *names: str) -> None:
        self.nodes = {n: Registry(Identity.generate(n), LocalState()) for n in names}
        self.log: list[env.Envelope] = []
        self.topic: TopicId | None = None

    def __getitem__(self, name: str) -> Registry:
        return self.nodes[name]

    def me(self, name: str) -> bytes:
        return self.nodes[name].me

    def circle(self, name: str) -> Circle:
        assert self.topic is not None
        return self.nodes[name].circles[self.topic]

    def deliver(self, name: str, envelopes: Iterable[env.Envelope], now: float) -> list[bool | None]:
        reg = self.nodes[name]
        verdicts: list[bool | None] = []
        changed = False
        for e in envelopes:
            env.verify(e)
            (ok,) = reg.verdicts([e], int(now))
            verdicts.append(ok)
            if ok:
                roster, _ = reg.delivered(e, now)
                changed |= roster
        while changed:
            changed = False
            reg.finish_joins()
            for e in reg.take_released(int(now)):
                roster, _ = reg.delivered(e, now)
                changed |= roster
        return verdicts

    def publish(self, items: Sequence[tuple[TopicId, env.Envelope]] | Sequence[env.Envelope],
                to: Iterable[str], now: float) -> list[env.Envelope]:
        envelopes = [i[1] if isinstance(i, tuple) else i for i in items]
        self.log += envelopes
        for name in to:
            self.deliver(name, envelopes, now)
        return envelopes

    # -- doing things as a person would (through the registry) ------------------------------------

    def found(self, name: str, now: int, **settings: Any) -> Circle:
        reg = self.nodes[name]
        circle = reg.add_circle(os.urandom(32), reg.me, now)
        self.topic = circle.topic
        e = reg.roster_op(circle, "create", {"name": "circle", "member_name": name, "settings": settings,
                                             **circle.new_epoch_fields([])}, now)
        self.log.append(e)
        return circle

    def invite(self, name: str, now: int, *, role: str = "member", valid: int = 3600,
               to: Iterable[str] = ()) -> Token:
        reg = self.nodes[name]
        circle = self.circle(name)
        token = Token(circle.topic, circle.founder, new_invite_seed(), now + valid, circle.roster.name)
        e = reg.roster_op(circle, "invite", {"invite": token.invite_key, "role": role, "expires": token.expires}, now)
        self.publish([e], to, now)
        return token

    def others(self, *names: str) -> list[str]:
        return [n for n in self.nodes if n not in names and self.topic in self.nodes[n].circles]

    def join(self, joiner: str, inviter: str, now: int, role: str = "member") -> None:
        """The whole join at once: invite, request, admit, welcome, history."""
        token = self.invite(inviter, now, role=role, to=self.others(inviter))
        _, request = self.nodes[joiner].start_join(token, joiner, now)
        self.deliver(inviter, [request], now)
        (duty,) = [d for d in plan_of(self.nodes[inviter]).due(now) if d.kind == "admit"]
        items = plan_of(self.nodes[inviter]).carry_out(duty, now)
        admit, welcome = (e for _, e in items)
        self.log.append(admit)
        self.deliver(joiner, [welcome], now)
        for name in self.others(inviter, joiner):
            self.deliver(name, [admit], now)
        self.deliver(joiner, self.log, now)

    def post(self, name: str, kind: str, body: dict[str, Any], now: int, *, audience: Iterable[bytes] = (),
             to: Iterable[str] | None = None) -> env.Envelope:
        envelopes = self.nodes[name].post(self.circle(name), kind, body, now, audience=audience)
        self.publish(envelopes, self.others(name) if to is None else to, now)
        return envelopes[-1]

    def call(self, name: str, ladder: list[dict[str, Any]], now: int) -> env.Envelope:
        audience = self.circle(name).call_audience(self.me(name), ladder, 0)
        return self.post(name, "call", {"text": "can someone call me", "ladder": ladder}, now, audience=audience)

    def carry_out(self, name: str, duty: Duty, now: int) -> list[env.Envelope]:
        items = plan_of(self.nodes[name]).carry_out(duty, now)
        return self.publish(items, self.others(name), now)


_PLANS: weakref.WeakKeyDictionary[Registry, Duties] = weakref.WeakKeyDictionary()


def plan_of(registry: Registry) -> Duties:
    """The duty plan over ``registry``: one per registry, as a ``Node`` keeps it."""
    if registry not in _PLANS:
        _PLANS[registry] = Duties(registry)
    return _PLANS[registry]


def kinds(duties: Iterable[Duty]) -> list[str]:
    return sorted(d.kind for d in duties)


def circle_of(*names: str, now: int = T, **settings: Any) -> Mesh:
    m = Mesh(*names)
    m.found(names[0], now, **settings)
    for name in names[1:]:
        m.join(name, names[0], now)
    return m


# ---------------------------------------------------------------------------------------------------
# joining


def test_invite_join_admit_welcome() -> None:
    m = Mesh("F", "J")
    circle = m.found("F", T)
    f, j = m["F"], m["J"]
    token = m.invite("F", T)
    lobby = Lobby(token.invite_key, circle.topic)
    assert lobby.topic in f.topics(T) and circle.topic in f.topics(T)
    assert f.access(lobby.topic, j.me)              # anyone who knows the lobby's tag may sync it
    lobby_topic, request = j.start_join(token, "Jo", T)
    assert lobby_topic == lobby.topic and lobby_topic in j.topics(T) and token.invite_key in j.state.joining
    assert m.deliver("F", [request], T) == [True]
    assert plan_of(f).due(T) == [Duty("admit", circle.topic, j.me)]
    items = plan_of(f).carry_out(Duty("admit", circle.topic, j.me), T)
    assert [t for t, _ in items] == [circle.topic, lobby.topic]
    (_, admit), (_, welcome) = items
    assert circle.roster.role(j.me) == "member" and circle.roster.members[j.me].name == "Jo"
    assert admit.epoch == ROSTER_EPOCH and plan_of(f).due(T) == []
    # the welcome brings the circle; the roster follows by sync, in any order
    assert m.deliver("J", [welcome], T) == [True]
    assert circle.topic in j.circles and circle.topic in j.topics(T)
    joined = j.circles[circle.topic]
    assert joined.roster.role(j.me) is None and j.access(circle.topic, os.urandom(32))
    history = [e for e in m.log + [admit] if e.topic == circle.topic]
    verdicts = m.deliver("J", reversed(history), T)
    assert verdicts[-1] is True and None in verdicts        # the create came last: the rest waited for it
    assert joined.roster == circle.roster and joined.roster.role(j.me) == "member"
    assert j.joining == {} and j.state.joining == {} and j.held == {}
    assert joined.can_read()
    # the lobby is served after its use (the welcome travels; then only to refuse a second holder),
    # and not once a day has passed since the invite expired
    expires = f.circles[circle.topic].roster.invites[token.invite_key].expires
    assert lobby.topic in f.topics(T + 900) and lobby.topic not in f.topics(expires + REFUSE_FOR)
    assert not j.access(circle.topic, os.urandom(32)) and j.access(circle.topic, f.me)


def test_the_inviter_admits_at_once_other_members_after_a_delay() -> None:
    m = circle_of("F", "A")
    f, a = m["F"], m["A"]
    j = m.nodes["J"] = Registry(Identity.generate("J"), LocalState())
    token = m.invite("F", T, to=["A"])
    _, request = j.start_join(token, "J", T)
    m.deliver("F", [request], T)
    m.deliver("A", [request], T)
    admit = Duty("admit", m.topic, j.me)   # type: ignore[arg-type]
    assert plan_of(f).due(T) == [admit]
    assert plan_of(a).due(T) == [] and plan_of(a).due(T + ADMIT_DELAY - 0.01) == []
    assert plan_of(a).due(T + 2 * ADMIT_DELAY) == [admit]
    assert plan_of(a).next_time(T) is not None and T + ADMIT_DELAY <= plan_of(a).next_time(T) < T + 2 * ADMIT_DELAY
    # the inviter did it: the others let it be
    m.carry_out("F", admit, T)
    assert plan_of(a).due(T + 2 * ADMIT_DELAY) == [] and a.requests == {}


def test_another_member_admits_when_the_inviter_is_away() -> None:
    m = circle_of("F", "A")
    j = Registry(Identity.generate("J"), LocalState())
    m.nodes["J"] = j
    token = m.invite("F", T, to=["A"])
    _, request = j.start_join(token, "J", T)
    m.deliver("A", [request], T)
    later = int(T + 2 * ADMIT_DELAY)
    (duty,) = plan_of(m["A"]).due(later)
    assert duty.kind == "admit"
    items = plan_of(m["A"]).carry_out(duty, later)
    admit, welcome = (e for _, e in items)
    m.log.append(admit)
    m.deliver("J", [welcome], later)
    m.deliver("J", m.log, later)
    assert m.circle("J").roster.role(j.me) == "member" and m.circle("J").roster.members[j.me].admitted == admit.id
    assert m.circle("J").roster.invites[token.invite_key].by == m.me("F")


def test_join_requests_for_closed_invites_or_members_are_not_kept() -> None:
    m = circle_of("F", "A")
    f = m["F"]
    j = Registry(Identity.generate("J"), LocalState())
    short = m.invite("F", T, valid=60)
    _, request = j.start_join(short, "J", T)
    m.deliver("F", [request], T + 60)              # arrives after the invite expired: answered, not kept
    assert f.requests == {} and kinds(plan_of(f).due(T + 60)) == ["refuse"]
    revoked = m.invite("F", T)
    f.roster_op(m.circle("F"), "revoke", {"invite": revoked.invite_key}, T)
    j2 = Registry(Identity.generate("J2"), LocalState())
    _, request = j2.start_join(revoked, "J2", T)
    m.deliver("F", [request], T)
    assert f.requests == {}
    # a member's own (valid) request for a fresh invite: it is one already
    token = m.invite("F", T)
    a_circle = m.circle("A")
    proof_request = Lobby(token.invite_key, a_circle.topic).join_request(m["A"].identity, token, "A", T)
    m.deliver("F", [proof_request], T)
    assert f.requests == {}


def test_a_forged_join_request_is_refused_at_the_door() -> None:
    m = circle_of("F")
    token = m.invite("F", T)
    j = Identity.generate("J")
    other_token = Token(token.topic, token.founder, new_invite_seed(), token.expires, "circle")
    # in the right lobby, but proved with another invite's secret
    forged = Lobby(token.invite_key, token.topic).join_request(j, other_token, "J", T)
    assert m["F"].verdicts([forged], T) == [False]
    m.deliver("F", [forged], T)
    unknown_lobby = Lobby(other_token.invite_key, token.topic).join_request(j, other_token, "J", T)
    assert m["F"].verdicts([unknown_lobby], T) == [False]      # no such invite: not a lobby this node serves
    assert m["F"].requests == {}


def test_start_join_refuses_expired_tokens_and_circles_it_is_in() -> None:
    m = circle_of("F", "A")
    token = m.invite("F", T, valid=60)
    with pytest.raises(BadInput, match="expired"):
        Registry(Identity.generate("J"), LocalState()).start_join(token, "J", T + 60)
    with pytest.raises(BadInput, match="already"):
        m["A"].start_join(token, "A", T)


def test_a_welcome_for_someone_else_or_another_circle_changes_nothing() -> None:
    m = circle_of("F")
    token = m.invite("F", T)
    j = Registry(Identity.generate("J"), LocalState())
    m.nodes["J"] = j
    j.start_join(token, "J", T)
    lobby = Lobby(token.invite_key, token.topic)
    circle = m.circle("F")
    for_other = lobby.welcome(m["F"].identity, bytes(Identity.generate("X").node_id), circle.secret,
                              circle.founder, T, T + 60)
    wrong_circle = lobby.welcome(m["F"].identity, j.me, os.urandom(32), circle.founder, T, T + 60)
    assert m.deliver("J", [for_other, wrong_circle], T) == [True, True]
    assert j.circles == {} and j.joining


def test_a_join_request_with_an_unprintable_name_cannot_break_the_admit_duty() -> None:
    m = circle_of("F")
    token = m.invite("F", T)
    j = Identity.generate("J")
    request = Lobby(token.invite_key, token.topic).join_request(j, token, "line\nbreak", T)
    m.deliver("F", [request], T)
    for duty in plan_of(m["F"]).due(T):
        plan_of(m["F"]).carry_out(duty, T)          # must not raise


def test_two_holders_of_one_invite_get_one_welcome() -> None:
    m = circle_of("F", "A")
    token = m.invite("F", T, to=["A"])
    requests = []
    for name in ("J1", "J2"):
        reg = m.nodes[name] = Registry(Identity.generate(name), LocalState())
        requests.append(reg.start_join(token, name, T)[1])
    m.deliver("F", requests, T)
    due = plan_of(m["F"]).due(T)
    assert kinds(due) == ["admit", "admit"]
    published = [item for duty in due for item in plan_of(m["F"]).carry_out(duty, T)]
    welcomes = [e for topic, e in published if topic != m.topic]
    admits = [e for topic, e in published if topic == m.topic]
    assert len(welcomes) == 1 and len(admits) == 1
    m.deliver("A", admits, T)
    assert m["A"].held == {}


def test_relays_do_not_admit() -> None:
    m = Mesh("F", "R")
    m.found("F", T)
    m.join("R", "F", T, role="relay")
    assert m.circle("R").roster.role(m.me("R")) == "relay"
    token = m.invite("F", T, to=["R"])
    j = Identity.generate("J")
    m.deliver("R", [Lobby(token.invite_key, token.topic).join_request(j, token, "J", T)], T)
    assert plan_of(m["R"]).due(T + DAY / 2) == []
    with pytest.raises(BadInput, match="relay"):
        m["R"].post(m.circle("R"), "presence", {"status": "away"}, T)


# ---------------------------------------------------------------------------------------------------
# held envelopes


def test_held_envelopes_are_released_once_the_roster_arrives() -> None:
    m = circle_of("F", "A", "B")
    presence = m.post("F", "presence", {"status": "available"}, T)
    fresh = Registry(m["B"].identity, LocalState())
    circle = fresh.add_circle(m.circle("F").secret, m.circle("F").founder, T)
    assert fresh.verdicts([presence], T) == [None] and presence.id in fresh.held
    assert fresh.take_released(T) == []
    roster = [e for e in m.log if e.epoch == ROSTER_EPOCH]
    verdicts = fresh.verdicts(list(reversed(roster)), T)
    assert verdicts == [None] * (len(roster) - 1) + [True]          # only the create can be judged alone
    fresh.delivered(roster[0], T)
    rounds = []
    while released := fresh.take_released(T):                     # as the daemon does, round by round
        rounds.append({e.id for e in released})
        for e in released:
            fresh.delivered(e, T)
    assert set().union(*rounds) == {e.id for e in roster[1:]} | {presence.id}
    assert presence.id in rounds[-1] and presence.id not in rounds[0]
    assert fresh.held == {} and circle.roster == m.circle("F").roster
    assert presence.id in {p.id for p in circle.posts}


def test_held_envelopes_that_expire_are_dropped() -> None:
    m = circle_of("F", "A")
    short = m.post("A", "presence", {"status": "away", "until": T + 60}, T, to=[])
    fresh = Registry(m["F"].identity, LocalState())
    fresh.add_circle(m.circle("F").secret, m.circle("F").founder, T)
    assert fresh.verdicts([short], T) == [None]
    assert fresh.take_released(T + 60) == [] and fresh.held == {}


# ---------------------------------------------------------------------------------------------------
# calls: receipts, escalation, follow-up


def ladder(m: Mesh, first: Sequence[str], then: Sequence[str] | None = None) -> list[dict[str, Any]]:
    steps = [{"after": 0, "to": "chosen", "members": [m.me(x) for x in first]}]
    if then is None:
        steps.append({"after": 10, "to": "circle", "members": []})
    else:
        steps.append({"after": 10, "to": "chosen", "members": [m.me(x) for x in then]})
    return steps


def test_escalation_is_due_only_at_its_step() -> None:
    m = circle_of("F", "A", "B")
    call = m.call("A", ladder(m, ["F"]), T)
    a = m["A"]
    assert plan_of(a).due(T) == [] and plan_of(a).due(T + 9 * 60) == [] and plan_of(a).due(T + 10 * 60 - 1) == []
    assert plan_of(a).next_time(T) == T + 10 * 60
    due = plan_of(a).due(T + 10 * 60)
    assert due == [Duty("escalate", m.topic, call.id, 1)]   # type: ignore[arg-type]
    sent = m.carry_out("A", due[0], T + 10 * 60)
    assert sent[-1].epoch != ROSTER_EPOCH
    (state,) = m["A"].view(m.circle("A")).calls.values()
    assert state.step == 1
    assert [d for d in plan_of(a).due(T + 11 * 60) if d.kind == "escalate"] == []


def test_a_late_timer_escalates_straight_to_the_highest_due_step() -> None:
    m = circle_of("F", "A", "B")
    steps = [{"after": 0, "to": "chosen", "members": [m.me("F")]},
             {"after": 10, "to": "facilitators", "members": []}, {"after": 20, "to": "circle", "members": []}]
    call = m.call("A", steps, T)
    (duty,) = plan_of(m["A"]).due(T + 25 * 60)
    assert duty == Duty("escalate", m.topic, call.id, 2)   # type: ignore[arg-type]


def test_no_escalation_once_someone_claims() -> None:
    m = circle_of("F", "A", "B")
    call = m.call("A", ladder(m, ["F"]), T)
    m.post("F", "claim", {"call": call.id}, T + 60)
    assert m["A"].view(m.circle("A")).calls[call.id].claimer == m.me("F")
    assert [d for d in plan_of(m["A"]).due(T + 10 * 60) if d.kind == "escalate"] == []
    assert [d for d in plan_of(m["A"]).due(T + DAY) if d.kind == "escalate"] == []
    m.post("F", "release", {"call": call.id}, T + 120)
    assert [d.step for d in plan_of(m["A"]).due(T + 10 * 60) if d.kind == "escalate"] == [1]


def test_receipts_once_per_call_by_those_who_can_read_it() -> None:
    m = circle_of("F", "A", "B", "C")
    call = m.call("A", ladder(m, ["F"], then=["F", "B"]), T)
    assert kinds(plan_of(m["F"]).due(T)) == ["receipt"]
    assert plan_of(m["B"]).due(T) == [] and plan_of(m["C"]).due(T) == []          # they cannot read the call yet
    assert plan_of(m["A"]).due(T) == []                                      # no receipt for one's own call
    (duty,) = plan_of(m["F"]).due(T)
    assert duty == Duty("receipt", m.topic, call.id)   # type: ignore[arg-type]
    m.carry_out("F", duty, T)
    assert plan_of(m["F"]).due(T + 1) == []
    assert m["A"].view(m.circle("A")).calls[call.id].received_by == {m.me("F")}
    # the escalation reaches B, who then acknowledges, once
    (esc,) = plan_of(m["A"]).due(T + 10 * 60)
    m.carry_out("A", esc, T + 10 * 60)
    assert kinds(plan_of(m["B"]).due(T + 10 * 60)) == ["receipt"] and plan_of(m["C"]).due(T + 10 * 60) == []
    m.carry_out("B", plan_of(m["B"]).due(T + 10 * 60)[0], T + 10 * 60)
    assert plan_of(m["B"]).due(T + 10 * 60) == [] and plan_of(m["F"]).due(T + 10 * 60) == []
    assert m["A"].view(m.circle("A")).calls[call.id].received_by == {m.me("F"), m.me("B")}


def test_no_receipt_for_a_resolved_call() -> None:
    m = circle_of("F", "A", "B")
    call = m.call("A", [{"after": 0, "to": "circle", "members": []}], T)
    assert [d.kind for d in plan_of(m["B"]).due(T)] == ["receipt"]
    m.post("A", "resolve", {"call": call.id}, T, to=["B"])
    assert [d for d in plan_of(m["B"]).due(T) if d.kind == "receipt"] == []
    assert [d for d in plan_of(m["F"]).due(T) if d.kind == "receipt"] == [Duty("receipt", m.topic, call.id)]  # type: ignore[arg-type]


def test_followup_is_due_at_its_time_for_the_resolver_once() -> None:
    m = circle_of("F", "A", "B")
    call = m.call("A", [{"after": 0, "to": "circle", "members": []}], T)
    m.post("F", "claim", {"call": call.id}, T + 60)
    m.post("F", "resolve", {"call": call.id, "followup_at": T + 3600}, T + 120)
    f = m["F"]
    assert [d for d in plan_of(f).due(T + 3599) if d.kind == "followup"] == []
    (duty,) = [d for d in plan_of(f).due(T + 3600) if d.kind == "followup"]
    assert duty == Duty("followup", m.topic, call.id)   # type: ignore[arg-type]
    (checkin,) = [e for e in m.carry_out("F", duty, T + 3600) if e.epoch != ROSTER_EPOCH]
    assert call.id in f.state.followups
    assert [d for d in plan_of(f).due(T + 7200) if d.kind == "followup"] == []
    for name in "FAB":
        view = m[name].view(m.circle(name))
        assert view.calls[call.id].checkins == (checkin.id,)
        assert view.checkins[checkin.id].prompt == FOLLOWUP_PROMPT and view.checkins[checkin.id].call == call.id
    # nobody else, and not without a follow-up time
    assert [d for d in plan_of(m["A"]).due(T + 7200) if d.kind == "followup"] == []


def test_no_followup_without_a_time() -> None:
    m = circle_of("F", "A")
    call = m.call("A", [{"after": 0, "to": "circle", "members": []}], T)
    m.post("A", "resolve", {"call": call.id}, T + 5)
    assert [d for d in plan_of(m["A"]).due(T + DAY) if d.kind == "followup"] == []


# ---------------------------------------------------------------------------------------------------
# rotation


def test_a_facilitator_rotates_shortly_after_someone_left() -> None:
    m = circle_of("F", "A", "B")
    b = m["B"]
    leave = b.roster_op(m.circle("B"), "leave", b.leave_fields(m.circle("B")), T)
    m.publish([leave], ["F", "A"], T)
    f = m["F"]
    assert m.circle("F").roster.needs_rotation
    assert plan_of(f).due(T + 100) == []                                     # the wait starts when first seen
    assert plan_of(f).due(T + 100 + ROTATE_DEBOUNCE - 0.01) == []
    (duty,) = plan_of(f).due(T + 100 + ROTATE_DEBOUNCE)
    assert duty == Duty("rotate", m.topic)   # type: ignore[arg-type]
    assert plan_of(m["A"]).due(T + DAY / 2) == []                            # members do not
    m.carry_out("F", duty, T + 106)
    for name in "FA":
        roster = m.circle(name).roster
        assert not roster.needs_rotation and m.me("B") not in roster.epochs[roster.current].keys
    assert plan_of(f).due(T + 200) == []


def test_a_member_who_posts_rotates_first() -> None:
    m = circle_of("F", "A", "B")
    b = m["B"]
    leave = b.roster_op(m.circle("B"), "leave", b.leave_fields(m.circle("B")), T)
    m.publish([leave], ["F", "A"], T)
    envelopes = m["A"].post(m.circle("A"), "presence", {"status": "away"}, T)
    assert [e.epoch == ROSTER_EPOCH for e in envelopes] == [True, False]
    assert not m.circle("A").roster.needs_rotation


def test_periodic_rotation_after_rotate_days() -> None:
    m = circle_of("F", "A", rotate_days=7)
    f = m["F"]
    last = m.circle("F").roster.last_rotation
    assert last == T
    assert plan_of(f).due(T + 7 * DAY - 1) == []
    (duty,) = plan_of(f).due(T + 7 * DAY)
    assert duty.kind == "rotate" and plan_of(m["A"]).due(T + 7 * DAY) == []
    m.carry_out("F", duty, T + 7 * DAY)
    assert m.circle("A").roster.last_rotation == T + 7 * DAY
    assert plan_of(f).due(T + 14 * DAY - 1) == [] and kinds(plan_of(f).due(T + 14 * DAY)) == ["rotate"]


def test_no_periodic_rotation_when_the_circle_says_so() -> None:
    m = circle_of("F", "A", rotate_days=0)
    assert plan_of(m["F"]).due(T + 365 * DAY) == [] and plan_of(m["F"]).next_time(T) is None


def test_postponed_duties_wait() -> None:
    m = circle_of("F", "A", rotate_days=1)
    (duty,) = plan_of(m["F"]).due(T + DAY)
    plan_of(m["F"]).postpone(duty, T + DAY)
    assert plan_of(m["F"]).due(T + DAY + 1) == []
    assert plan_of(m["F"]).due(T + DAY + 3600) == [duty]


def test_state_survives_a_restart() -> None:
    m = circle_of("F", "A")
    before = m.post("A", "presence", {"status": "away"}, T)
    again = Registry(m["A"].identity, LocalState.from_obj(m["A"].state.to_obj()))
    assert set(again.circles) == {m.topic}
    circle = again.circles[m.topic]
    for e in m.log:
        (ok,) = again.verdicts([e], T)
        if ok:
            again.delivered(e, T)
    while released := again.take_released(T):
        for e in released:
            again.delivered(e, T)
    assert circle.roster == m.circle("A").roster and before.id in {p.id for p in circle.posts}
    after = again.post(circle, "presence", {"status": "available"}, T)[-1]
    assert after.seq == before.seq + 1


# ---------------------------------------------------------------------------------------------------
# open invites are capped (issue 9 item 5)


def test_lobbies_served_are_the_newest_open_invites_up_to_the_cap() -> None:
    """A hostile facilitator's invite spam (every invite op is valid) cannot grow the topic set, and so
    the Topics frame, without bound: each circle serves the lobbies of its newest open invites only."""
    from meshcare.circles.registry import MAX_OPEN_INVITES
    m = circle_of("F", "A")
    tokens = [m.invite("F", T + i, to=["A"]) for i in range(MAX_OPEN_INVITES + 20)]
    for name in "FA":
        lobbies = m[name].topics(T + 100) - {m.topic}
        assert len(lobbies) == MAX_OPEN_INVITES
        newest = {Lobby(t.invite_key, m.topic).topic for t in tokens[-MAX_OPEN_INVITES:]}
        assert lobbies == newest
        oldest = Lobby(tokens[0].invite_key, m.topic).topic
        assert m[name].lobby(oldest) is None and m[name].lobby(next(iter(newest))) is not None



# ---------------------------------------------------------------------------------------------------
# a refused join is answered (issue 9 item 17)


@pytest.mark.parametrize("why", ["used", "revoked", "expired"])
def test_a_join_with_a_closed_invite_is_answered_with_a_refusal_the_joiner_reads(why: str) -> None:
    m = circle_of("F", "A")
    f = m["F"]
    token = m.invite("F", T, valid=60, to=["A"])
    if why == "used":
        first = Registry(Identity.generate("K"), LocalState())
        _, request = first.start_join(token, "K", T)
        m.deliver("F", [request], T)
        m.carry_out("F", next(d for d in plan_of(f).due(T) if d.kind == "admit"), T)
    elif why == "revoked":
        m.publish([f.roster_op(m.circle("F"), "revoke", {"invite": token.invite_key}, T)], ["A"], T)
    j = Registry(Identity.generate("J"), LocalState())
    lobby_topic, request = j.start_join(token, "J", T)
    at = T + 60 if why == "expired" else T + 1
    assert lobby_topic in f.topics(at) and lobby_topic in m["A"].topics(at)
    for name in "FA":
        m.deliver(name, [request], at)
    (duty,) = [d for d in plan_of(f).due(at) if d.kind == "refuse"]
    assert [d.kind for d in plan_of(m["A"]).due(at)] == []          # others wait a little, like admit
    (topic, answer), = plan_of(f).carry_out(duty, at)
    assert topic == lobby_topic
    m.deliver("A", [answer], at)
    assert not any(d.kind == "refuse" for d in plan_of(m["A"]).due(at + 10 * ADMIT_DELAY))   # answered once
    j.delivered(answer, at)
    assert j.joining[lobby_topic].refused == why


# ---------------------------------------------------------------------------------------------------
# acknowledging removals (mutual-removal rule, remove_wins.py)


def test_a_third_member_acknowledges_a_removal_so_a_backdated_counter_removal_never_counts() -> None:
    from meshcare.circles.duties import ACK_DELAY
    m = circle_of("F", "A", "B", now=T)
    f, a, b = m["F"], m["A"], m["B"]
    m.publish([f.roster_op(m.circle("F"), "role", {"member": m.me("A"), "role": "facilitator"}, T)], ["A", "B"], T)
    stale_heads = m.circle("A").roster.heads
    removal = m.publish([f.roster_op(m.circle("F"), "remove", f.removal_fields(m.circle("F"), m.me("A")), T)],
                        ["B"], T)[0]
    # neither the remover nor the removed acknowledge; B does, after a few seconds
    assert [d for d in plan_of(f).due(T + 3 * ACK_DELAY) if d.kind == "seen"] == []
    assert [d for d in plan_of(b).due(T) if d.kind == "seen"] == []
    (seen,) = [d for d in plan_of(b).due(T + 2 * ACK_DELAY) if d.kind == "seen"]
    assert seen.subject == removal.id
    m.carry_out("B", seen, T + 20)
    assert m.circle("F").roster.unacknowledged == frozenset()
    assert [d for d in plan_of(b).due(T + 60) if d.kind == "seen"] == []        # once
    # days later A, removed, signs "remove F" on the heads it had: it does not count anywhere
    a_circle = m.circle("A")
    assert a_circle.roster.heads == stale_heads
    backdated = a.roster_op(a_circle, "remove", a.removal_fields(a_circle, m.me("F")), T + 3 * DAY)
    m.publish([backdated], ["F", "B"], T + 3 * DAY)
    for name in ("F", "B"):
        roster = m.circle(name).roster
        assert m.me("F") in roster.members and m.me("A") not in roster.members
        assert backdated.id in roster.ignored or backdated.id not in roster.order


def test_a_post_from_a_fast_clock_is_held_then_released_when_our_clock_catches_up() -> None:
    from meshcare.circles.circle import FUTURE_SLACK
    m = circle_of("F", "A")
    e = m["A"].post(m.circle("A"), "presence", {"status": "available"}, T + 900)[-1]   # A's clock: 15 min ahead
    assert m.deliver("F", [e], T) == [None]
    assert m["F"].release_at == T + 900 - FUTURE_SLACK
    assert m["F"].take_due_release(T + 200) == []
    assert m["F"].take_due_release(T + 900 - FUTURE_SLACK) == [e]
    assert m["F"].release_at is None and m["F"].held == {}


def test_a_token_minted_by_a_removed_facilitator_is_answered_as_not_valid() -> None:
    """Issue 9 item 17: its invite operation does not count (remove wins), so nobody would serve its
    lobby and the joiner would wait for ever; members serve it to say the invite is not valid."""
    m = circle_of("F", "A", "B")
    f = m["F"]
    m.publish([f.roster_op(m.circle("F"), "role", {"member": m.me("A"), "role": "facilitator"}, T)], ["A", "B"], T)
    m.publish([f.roster_op(m.circle("F"), "remove", f.removal_fields(m.circle("F"), m.me("A")), T)], ["B"], T)
    a_circle = m.circle("A")                                      # A's node never folded its removal
    seed = new_invite_seed()
    token = Token(a_circle.topic, a_circle.founder, seed, T + 3600, a_circle.roster.name)
    minted = m["A"].roster_op(a_circle, "invite", {"invite": token.invite_key, "role": "member",
                                                   "expires": token.expires}, T + 60)
    m.publish([minted], ["F", "B"], T + 60)
    assert token.invite_key not in m.circle("F").roster.invites
    assert token.invite_key in m.circle("F").roster.void_invites
    j = Registry(Identity.generate("J"), LocalState())
    lobby_topic, request = j.start_join(token, "J", T + 120)
    assert lobby_topic in f.topics(T + 120) and lobby_topic in m["B"].topics(T + 120)
    for name in "FB":
        m.deliver(name, [request], T + 120)
    assert [d for d in plan_of(f).due(T + 120) if d.kind == "admit"] == []
    (duty,) = [d for d in plan_of(f).due(T + 120 + 2 * ADMIT_DELAY) if d.kind == "refuse"]
    (_, answer), = plan_of(f).carry_out(duty, T + 140)
    j.delivered(answer, T + 140)
    assert j.joining[lobby_topic].refused == "invalid"


def test_an_equivocated_post_is_not_charged_to_the_link_and_asks_the_shell_to_purge() -> None:
    m = circle_of("F", "A")
    a = m.circle("A")
    seq, prev = a.chains.top(m.me("A"))
    first, second = (a.post_envelope("presence", {"status": s}, seq=seq + 1, now=T, prev=prev)
                     for s in ("available", "away"))
    assert m.deliver("F", [first], T) == [True]
    assert m.deliver("F", [second], T) == [None]          # None: not stored, not the forwarding peer's fault
    assert m["F"].purge_due
    assert m.circle("F").purge_unacceptable() == [first.id]

"""``meshcare watch`` without a daemon: the words for each event, escaping, JSON lines, and reconnecting
(a fake client that drops). The same against real daemons is in tests/test_watch_daemons.py."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pytest

from meshcare.cli.event_words import Names, describe
from meshcare.cli.watch import Watch
from meshcare.control import events as ev
from meshcare.control import views as v
from meshcare.control.protocol import Event
from meshcare.control.results import SnapshotResult
from meshcare.errors import DaemonNotRunning, DaemonUnavailable

from .test_notify_rules import ANN, BO, CIRCLE, ME, call, checkin_event, new_call, reply

SNAPSHOT = SnapshotResult(seq=0, node_id=ME, name="me", circles=(), joining=(), calls=(call(),), checkins=(),
                          plan=None, shares=(), peers=())


def names() -> Names:
    n = Names()
    n.learn_snapshot(SNAPSHOT)
    n.circles[CIRCLE] = "Elm St"
    n.people[ANN] = "Ann"
    return n


def said(event: ev.Event, n: Names | None = None) -> str | None:
    return describe(event, n or names())


def updated(parts: tuple[str, ...], **changes: Any) -> ev.CallChangedEvent:
    view = call(**changes)
    return ev.CallChangedEvent(circle=CIRCLE, call=view.id, change="updated", parts=parts, view=view)


def test_calls_in_words() -> None:
    assert said(new_call()) == ('new call for support in Elm St (now) from Bo: "my flat flooded, I can\'t cope" '
                                '[call 11111111]')
    assert said(new_call(mine=True, caller=ME)) == "your call for support in Elm St (now) is on its way [call 11111111]"
    assert said(updated(("claim", "status"), status="claimed", claimer=BO)) == (
        "Bo claimed a call in Elm St [call 11111111]")
    assert said(updated(("claim",), claimer=ME, mine=False)) == "you claimed a call in Elm St [call 11111111]"
    assert said(updated(("claim",))) == "nobody has a call in Elm St now (it was let go) [call 11111111]"
    offer = v.Offer(id="44" * 32, author=ANN, kind="come_over", text="10 min", created=1, accepted=False)
    assert said(updated(("offers", "reach"), offers=(offer,), mine=True, reached=2, audience=3)) == (
        'Ann offered on your call in Elm St: I can come over ("10 min"); your call in Elm St reached 2 of 3 '
        "[call 11111111]")
    assert said(ev.CallChangedEvent(circle=CIRCLE, call="11" * 32, change="resolved", parts=("status",),
                                    view=call(status="resolved", resolved_by=BO))) == (
        "a call in Elm St was resolved by Bo [call 11111111]")
    assert said(ev.CallChangedEvent(circle=CIRCLE, call="11" * 32, change="gone", parts=(), view=None)) == (
        "a call in Elm St ended (expired) [call 11111111]")


def test_checkins_members_links_and_the_rest_in_words() -> None:
    assert said(checkin_event(reply(), change="new", members=())) == (
        'new check-in in Elm St from you: "How are you?" [check-in 33333333]')
    assert said(checkin_event(reply())) == "Bo answered a check-in in Elm St: need support now [check-in 33333333]"
    assert said(checkin_event(reply(readable=False))) == "Bo answered a check-in in Elm St [check-in 33333333]"
    assert said(ev.PeerEvent(address="127.0.0.1:7411", node_id=BO, linked=True)) == "linked to 127.0.0.1:7411"
    assert said(ev.PeerEvent(address="127.0.0.1:7411", node_id=BO, linked=False)) == "link to 127.0.0.1:7411 ended"
    assert said(ev.MemberEvent(circle=CIRCLE, change="joined", member=BO, name="Bo", role="member", was=None)) == (
        "Bo joined Elm St")
    assert said(ev.MemberEvent(circle=CIRCLE, change="role", member=BO, name="Bo", role="facilitator",
                               was="member")) == "Bo is now a facilitator in Elm St"
    assert said(ev.MemberEvent(circle=CIRCLE, change="renamed", member=BO, name="Bo B.", role="member",
                               was="member", previous_name="Bo")) == "Bo is now called Bo B. in Elm St"
    assert said(ev.MemberEvent(circle=CIRCLE, change="moved", member=BO, name="Bo", role="member",
                               was="member")) == "Bo in Elm St: moved"        # a change a newer daemon may add
    assert said(ev.PresenceEvent(circle=CIRCLE, member=BO, status="unknown", until=None, cap=None,
                                 name="Bo")) == "Bo's availability in Elm St ran out"
    assert said(ev.SyncEvent(circle=CIRCLE, state="caught_up", circle_name="Oak Rd")) == "caught up on Oak Rd"
    assert said(ev.JoinEvent(circle="ab" * 16, name="Oak Rd", outcome="refused", reason="expired")) == (
        "your request to join Oak Rd was refused: the invite expired; ask for a new invite")
    assert said(ev.CallEvent(event="claim_lost", circle=CIRCLE, call="11" * 32, claimer=BO)).startswith(
        "Bo has the call 11111111 in Elm St: their claim came first")
    assert said(ev.EnvelopeEvent(id="11" * 32, topic=CIRCLE, author=BO, lane=0)) is None
    assert said(ev.CircleEvent(circle=CIRCLE, author=BO, id="11" * 32, roster=False)) is None


def test_names_are_learned_from_the_snapshot_and_the_events() -> None:
    n = Names()
    n.learn_snapshot(SNAPSHOT)
    assert n.me == ME and n.person(BO) == "Bo" and n.person(ME) == "you" and n.person(None) == "someone"
    assert n.circle(CIRCLE) == "circle 0f0f0f0f"
    describe(ev.MemberEvent(circle=CIRCLE, change="joined", member=ANN, name="Ann", role="member", was=None,
                            circle_name="Elm St"), n)
    assert n.circle(CIRCLE) == "Elm St" and n.person(ANN) == "Ann"


def test_peer_text_cannot_drive_the_terminal_or_break_the_line() -> None:
    out = io.StringIO()
    watch = Watch(_path(), out=out, err=io.StringIO())
    watch.names = names()
    hostile = dataclasses.replace(call(), text="hi\n\x1b[2J\x1b]0;owned\x07", names={BO: "B\u202eo"},
                                  circle_name="Elm\rSt")
    watch.show("call.changed", ev.CallChangedEvent(circle=CIRCLE, call=hostile.id, change="new", parts=(),
                                                   view=hostile).to_data())
    line = out.getvalue()
    assert line.count("\n") == 1 and "\x1b" not in line and "\u202e" not in line and "\r" not in line
    assert 'in Elm St (now) from B\\u202eo: "hi \\x1b[2J\\x1b]0;owned\\x07"' in line


def test_json_lines_carry_the_events_data_as_the_daemon_sent_it() -> None:
    out = io.StringIO()
    watch = Watch(_path(), as_json=True, out=out, err=io.StringIO())
    data = {**new_call().to_data(), "seq": 7}
    watch.show("call.changed", data)
    watch.show("envelope", {"id": "11" * 32, "topic": CIRCLE, "author": BO, "lane": 0, "seq": 8})
    watch.show("from.the.future", {"x": b"\x01\x02"})
    lines = out.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"name": "call.changed", "data": json.loads(json.dumps(data))},
        {"name": "envelope", "data": {"id": "11" * 32, "topic": CIRCLE, "author": BO, "lane": 0, "seq": 8}},
        {"name": "from.the.future", "data": {"x": "0102"}}]
    assert all(line.isascii() for line in lines)


# --- reconnecting ------------------------------------------------------------------------------------

class FakeClient:
    """Answers subscribe and snapshot, then hands out its events and ends as told."""

    def __init__(self, events: list[tuple[str, dict[str, Any]]], end: BaseException | None) -> None:
        self._events, self._end, self.closed = events, end, False

    def subscribe(self) -> None:
        pass

    def request(self, op: str, **args: Any) -> dict[str, Any]:
        assert op == "snapshot"
        return SNAPSHOT.to_data()

    def events(self) -> Any:
        for name, data in self._events:
            yield Event(name, data)
        if self._end is not None:
            raise self._end

    def close(self) -> None:
        self.closed = True


def _path() -> Any:
    from pathlib import Path
    return Path("/nowhere/control.sock")


def test_watch_reconnects_with_growing_pauses_and_goes_on() -> None:
    linked = ("peer", {"address": "127.0.0.1:7411", "node_id": BO, "linked": True, "seq": 1})
    script: list[Any] = [FakeClient([linked], DaemonUnavailable("lost the connection")),
                         DaemonNotRunning("no daemon"), DaemonNotRunning("no daemon"),
                         FakeClient([linked], None),         # the daemon closed the connection
                         FakeClient([("call.changed", new_call().to_data())], KeyboardInterrupt())]
    made: list[FakeClient] = []

    def connect(path: Any) -> FakeClient:
        step = script.pop(0)
        if isinstance(step, BaseException):
            raise step
        made.append(step)
        return step

    pauses: list[float] = []
    out, err = io.StringIO(), io.StringIO()
    watch = Watch(_path(), out=out, err=err, connect=connect, sleep=pauses.append)
    with pytest.raises(KeyboardInterrupt):
        watch.run()
    assert pauses == [0.25, 0.5, 1.0, 0.25]
    lines = out.getvalue().splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == [
        "linked to 127.0.0.1:7411", "linked to 127.0.0.1:7411",
        'new call for support in Elm St (now) from Bo: "my flat flooded, I can\'t cope" [call 11111111]']
    assert err.getvalue().splitlines() == [
        "meshcare watch: watching the node in /nowhere (Ctrl-C stops)",
        "meshcare watch: lost the daemon (lost the connection); reconnecting…",
        "meshcare watch: reconnected to the daemon; watching again",
        "meshcare watch: lost the daemon (it closed the connection); reconnecting…",
        "meshcare watch: reconnected to the daemon; watching again"]
    assert all(client.closed for client in made)


def test_no_daemon_at_the_start_is_the_usual_error() -> None:
    def connect(path: Any) -> FakeClient:
        raise DaemonNotRunning("no meshcare daemon is running for /nowhere")

    with pytest.raises(DaemonNotRunning):
        Watch(_path(), connect=connect, err=io.StringIO()).run()


def test_the_command_has_help_and_without_a_daemon_says_so_in_one_line(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    env = {**os.environ, "MESHCARE_HOME": str(tmp_path)}
    run = [sys.executable, "-m", "meshcare", "watch"]
    helped = subprocess.run([*run, "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "usage: meshcare watch" in helped.stdout and "example:\n  meshcare watch" in helped.stdout
    assert '{"name": ...,' in " ".join(helped.stdout.split())
    alone = subprocess.run([*run, "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert alone.returncode == 1 and alone.stdout == ""
    assert alone.stderr.startswith("meshcare watch: no meshcare daemon is running") and alone.stderr.count("\n") == 1

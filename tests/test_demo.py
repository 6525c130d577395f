"""`meshcare demo`: the neighbours' script and the narrator as pure functions, then the real thing
(`--no-tui --seconds N`): three daemons on loopback, the scripted call and check-in, a call posted on the
person's node answered by a neighbour, and nothing of it left afterwards."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from meshcare import launch
from meshcare.client import ControlClient
from meshcare.control.events import CallChangedEvent, CheckinChangedEvent
from meshcare.control.requests import CallAccept, CallClaim, CallCreate, CallOffer, CallUpdate, CheckinCreate, CheckinReply
from meshcare.control.views import Call, Checkin
from meshcare.demo import script as demo_script
from meshcare.demo.narrate import Narrator
from meshcare.demo.nodes import BO, CHLOE, processes_naming
from meshcare.demo.script import Script
from tests.helpers import wait_real

pytestmark = pytest.mark.timeout(120)

CIRCLE = "c" * 32
ME, BO_ID, CHLOE_ID = "a" * 64, "b" * 64, "d" * 64
NAMES = {ME: "Alex", BO_ID: "Bo", CHLOE_ID: "Chloe"}


def call_view(**changes: Any) -> Call:
    data: dict[str, Any] = {
        "id": "1" * 64, "caller": ME, "text": "Could someone come by?", "urgency": "now", "needs": [],
        "reach": None, "consent": [], "consent_note": None, "created": 1000, "status": "open", "claimer": None,
        "claimed_at": None, "also_claimed": [], "offers": [], "accepted": [], "updates": [], "resolved_by": None,
        "resolved_at": None, "followup_at": None, "step": 0, "received_by": [], "ladder": [], "checkins": [],
        "names": NAMES, "circle": CIRCLE, "circle_name": "Elm St (demo)", "audience": 2, "reached": 0,
        "waiting_on": [], "mine": False, "claimed_too": False, "plans": []}
    data.update(changes)
    return Call.from_data(data)


def checkin_view(**changes: Any) -> Checkin:
    data: dict[str, Any] = {
        "id": "2" * 64, "author": BO_ID, "prompt": "How is everyone?", "options": ["doing OK", "could use a chat",
        "need support now"], "visibility": "facilitators", "call": None, "closes_at": None, "created": 1000,
        "replies": [], "tally": {}, "answered": 0, "not_answered": [], "names": NAMES, "circle": CIRCLE,
        "circle_name": "Elm St (demo)"}
    data.update(changes)
    return Checkin.from_data(data)


def offer(id_digit: str, author: str, kind: str = "come_over", text: str = "") -> dict[str, Any]:
    return {"id": id_digit * 64, "author": author, "kind": kind, "text": text, "created": 1001, "accepted": False}


def call_event(view: Call, change: str = "new") -> CallChangedEvent:
    return CallChangedEvent(circle=CIRCLE, call=view.id, change=change, parts=(), view=view)


def checkin_event(view: Checkin, change: str = "new", members: tuple[str, ...] = ()) -> CheckinChangedEvent:
    return CheckinChangedEvent(circle=CIRCLE, checkin=view.id, change=change, members=members, view=view)


def new_script(pace: float = 1.0) -> Script:
    return Script(circle=CIRCLE, person=ME, neighbours={BO: BO_ID, CHLOE: CHLOE_ID}, start=0.0, pace=pace)


# --- the script ---------------------------------------------------------------------------------------

def test_the_neighbours_post_a_checkin_then_a_call_of_their_own():
    s = new_script(pace=2.0)
    assert s.next_deadline() == 2.0 and s.due(1.9) == []
    (checkin,) = s.due(2.0)
    assert checkin.who == BO and isinstance(checkin.request, CheckinCreate)
    assert checkin.request.prompt == demo_script.CHECKIN_PROMPT
    (call,) = s.due(6.0)
    assert call.who == CHLOE and isinstance(call.request, CallCreate) and call.request.needs == ("practical",)
    assert s.next_deadline() is None and s.due(100.0) == []


def test_a_call_of_the_person_gets_offers_a_claim_and_an_update_once():
    s = new_script()
    s.due(10.0)  # the scripted posts
    view = call_view()
    for who in (BO, CHLOE):
        s.on_event(who, call_event(view), 20.0)
        s.on_event(who, call_event(view, "updated"), 20.5)  # a later event of the same call: no second reaction
    acts = s.due(30.0)
    assert [(a.who, type(a.request)) for a in acts] == [
        (CHLOE, CallOffer), (BO, CallOffer), (BO, CallClaim), (BO, CallUpdate)]
    assert [a.at for a in acts] == [21.0, 21.5, 22.5, 23.0]
    assert acts[0].request.kind == "listening" and acts[1].request.kind == "come_over"
    assert all(getattr(a.request, "call") == view.id for a in acts)


def test_a_person_who_wants_text_only_gets_a_text_offer():
    s = new_script()
    s.on_event(CHLOE, call_event(call_view(consent=["text_only"])), 0.0)
    (act,) = [a for a in s.due(10.0) if isinstance(a.request, CallOffer)]
    assert act.request.kind == "text"


def test_chloe_accepts_the_persons_offer_and_thanks_a_claim():
    s = new_script()
    s.due(10.0)
    view = call_view(caller=CHLOE_ID, mine=False, offers=[offer("3", ME), offer("4", BO_ID)])
    s.on_event(CHLOE, call_event(view, "updated"), 20.0)
    s.on_event(CHLOE, call_event(view, "updated"), 20.1)
    claimed = call_view(caller=CHLOE_ID, offers=[offer("3", ME)], accepted=["3" * 64], claimer=ME, status="claimed")
    s.on_event(CHLOE, call_event(claimed, "updated"), 22.0)
    s.on_event(BO, call_event(claimed, "updated"), 22.0)  # not Bo's call, not the person's: Bo does nothing
    acts = s.due(40.0)
    assert [type(a.request) for a in acts] == [CallAccept, CallUpdate, CallUpdate]
    assert acts[0].request.offer == "3" * 64 and {a.who for a in acts} == {CHLOE}


def test_checkins_are_answered_by_the_others_once():
    s = new_script()
    s.due(10.0)
    bos = checkin_view()
    persons = checkin_view(id="5" * 64, author=ME)
    for who in (BO, CHLOE):
        s.on_event(who, checkin_event(bos), 20.0)
        s.on_event(who, checkin_event(persons), 20.0)
        s.on_event(who, checkin_event(persons, "reply"), 21.0)
    acts = s.due(40.0)
    assert sorted((a.who, a.request.checkin[:1]) for a in acts if isinstance(a.request, CheckinReply)) == [
        (BO, "5"), (CHLOE, "2"), (CHLOE, "5")]


def test_resolved_calls_and_other_nodes_are_left_alone():
    s = new_script()
    s.due(10.0)
    s.on_event(BO, call_event(call_view(status="resolved", resolved_by=ME, resolved_at=1005)), 20.0)
    s.on_event("stranger", call_event(call_view()), 20.0)
    assert s.due(100.0) == []


# --- the narrator -------------------------------------------------------------------------------------

def test_the_narrator_tells_what_is_new_once():
    n = Narrator(ME)
    mine = call_view(mine=True, needs=["company"])
    assert n.on_event(call_event(mine)) == [
        "Your call for support went to Elm St (demo) (now, needs company): \"Could someone come by?\""]
    offered = call_view(mine=True, offers=[offer("3", BO_ID, text="ten minutes")])
    assert n.on_event(call_event(offered, "updated")) == [
        "Bo offered on your call: I can come over (\"ten minutes\")"]
    assert n.on_event(call_event(offered, "updated")) == []
    claimed = call_view(mine=True, offers=[offer("3", BO_ID, text="ten minutes")], claimer=BO_ID, status="claimed",
                        accepted=["3" * 64], updates=[{"id": "6" * 64, "author": BO_ID, "text": "On my way",
                                                      "created": 1002}])
    assert n.on_event(call_event(claimed, "updated")) == [
        "You accepted Bo's offer", "Bo has your call now", "Bo in your call: \"On my way\""]
    chloes = call_view(id="7" * 64, caller=CHLOE_ID, claimer=ME, status="claimed")
    assert n.on_event(call_event(chloes)) == [
        "Chloe asked Elm St (demo) for support (now): \"Could someone come by?\"", "You have Chloe's call now"]
    done = call_view(id="7" * 64, caller=CHLOE_ID, claimer=ME, status="resolved", resolved_by=CHLOE_ID,
                     resolved_at=1010)
    assert n.on_event(call_event(done, "resolved")) == ["Chloe's call is resolved (by Chloe)"]


def test_the_narrator_tells_checkins_and_answers():
    n = Narrator(ME)
    assert n.on_event(checkin_event(checkin_view())) == [
        "Bo asks Elm St (demo): \"How is everyone?\" (answers: 1 doing OK, 2 could use a chat, 3 need support now)"]
    reply = {"id": "8" * 64, "member": CHLOE_ID, "option": 0, "option_text": "doing OK", "text": "Busy week",
             "created": 1001, "late": False, "suggest_call": False}
    hidden = {**reply, "id": "9" * 64, "member": ME, "option": None, "option_text": None, "text": ""}
    lines = n.on_event(checkin_event(checkin_view(replies=[reply, hidden]), "reply", (CHLOE_ID, ME)))
    assert lines == ["Chloe answered Bo's check-in: \"doing OK\", \"Busy week\"",
                     "You answered Bo's check-in: (only the facilitators can read the answer)"]


# --- the real demo --------------------------------------------------------------------------------------

class DemoProcess:
    """`meshcare demo --no-tui` in a child process, its lines collected as they come."""

    def __init__(self, *flags: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "meshcare", "demo", "--no-tui", *flags],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def seen() -> bool:
            found[:] = [m for m in (re.search(pattern, line) for line in list(self.lines)) if m][:1]
            return bool(found) or self.proc.poll() is not None
        wait_real(seen, f"a line matching {pattern!r}", timeout)
        assert found, f"the demo ended without {pattern!r}:\n" + "\n".join(self.lines)
        return found[0]

    def finish(self, timeout: float = 30.0) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(5)
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()
        self.proc.stdout.close()  # type: ignore[union-attr]  # opened with stdout=PIPE
        self.proc.stderr.close()
        return code

    def started(self) -> tuple[Path, list[int]]:
        home = Path(self.wait_for(r"Your node: MESHCARE_HOME=(\S+)")[1])
        pids = [int(p) for p in re.findall(r"pid (\d+)", self.wait_for(r"^\[.*\] Nodes: .*")[0])]
        return home, pids


def test_demo_without_tui(tmp_path):
    demo = DemoProcess("--seconds", "8", "--pace", "0.3")
    try:
        home, pids = demo.started()
        assert len(pids) == 3 and home.parent.name.startswith("meshcare-demo-")
        demo.wait_for(r"Bo asks Elm St \(demo\): \"How is everyone doing this week\?\"")
        demo.wait_for(r"Chloe answered Bo's check-in")
        demo.wait_for(r"Chloe asked Elm St \(demo\) for support \(today, needs practical help\)")
        with ControlClient.connect(home / "control.sock") as client:  # the person's node, by the control API
            client.request("call.create", circle="Elm St (demo)", text="Could someone come by tonight?",
                           urgency="now")
        demo.wait_for(r"Your call for support went to Elm St \(demo\) \(now\)")
        demo.wait_for(r"Bo offered on your call: I can come over")
        demo.wait_for(r"Chloe offered on your call: I can listen")
        demo.wait_for(r"Bo has your call now")
        demo.wait_for(r"Bo in your call: \"On my way now.\"")
        assert demo.finish() == 0, demo.stderr
        assert "Traceback" not in demo.stderr
        demo.wait_for(r"The demo is over")
        assert not home.parent.exists()
        assert not [pid for pid in pids if launch.alive(pid)]
    finally:
        if demo.proc.poll() is None:
            demo.proc.kill()
            demo.finish()


def test_demo_cleans_up_on_sigterm():
    demo = DemoProcess("--seconds", "60")
    try:
        home, pids = demo.started()
        demo.proc.send_signal(signal.SIGTERM)
        assert demo.finish() == 128 + signal.SIGTERM
        demo.wait_for(r"SIGTERM: ending the demo")
        demo.wait_for(r"The demo is over")
        assert not home.parent.exists() and not [pid for pid in pids if launch.alive(pid)]
    finally:
        if demo.proc.poll() is None:
            demo.proc.kill()
            demo.finish()


def test_demo_cleans_up_on_ctrl_c_while_starting():
    demo = DemoProcess("--seconds", "60")
    try:
        demo.wait_for(r"Starting three nodes")
        time.sleep(0.3)  # the daemons are being started: a real person's Ctrl-C can come at any moment
        demo.proc.send_signal(signal.SIGINT)
        assert demo.finish() == 0, demo.stderr
        assert "Traceback" not in demo.stderr
        demo.wait_for(r"The demo is over|Ctrl-C")
        roots = [Path(m[1]) for m in (re.search(r"(/\S+meshcare-demo-\w+)", line) for line in demo.lines) if m]
        assert roots and not [r for r in roots if r.exists()]
        assert processes_naming(roots[0]) == []
    finally:
        if demo.proc.poll() is None:
            demo.proc.kill()
            demo.finish()


def test_a_crash_of_the_demo_itself_leaves_nothing(monkeypatch, capsys):
    import argparse

    from meshcare.demo import cli as demo_cli
    from meshcare.demo.nodes import DemoNodes

    seen: dict[str, Any] = {}

    def broken(self: DemoNodes, timeout: float = 0.0) -> str:
        seen["root"], seen["pids"] = self.root, self.pids()
        raise RuntimeError("a bug in the demo")

    monkeypatch.setattr(DemoNodes, "form_circle", broken)
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with pytest.raises(RuntimeError, match="a bug in the demo"):
        demo_cli.run(argparse.Namespace(no_tui=True, seconds=5.0, pace=0.2))
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    assert seen["root"] is not None and not seen["root"].exists()
    assert len(seen["pids"]) == 3 and not [pid for pid in seen["pids"] if launch.alive(pid)]
    assert "The demo is over" in capsys.readouterr().out

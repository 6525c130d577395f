"""The follow-up and responder-care commands against real `meshcare daemon` processes on loopback (static
peers, no mDNS): resolve with a check-in, followups, followup done, off-tonight, load, the safety timer,
the second-person offer; plus their pure words and times."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from meshcare.cli import care
from meshcare.control.views import Followup, Timer
from meshcare.control.when import next_hour, tomorrow_morning
from tests.helpers import wait_real
from tests.test_cli_circles import Circle, Node, meshcare, running_circle

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def elm(tmp_path_factory: pytest.TempPathFactory):
    with running_circle(tmp_path_factory.mktemp("care"), "ann", "bob", "cat") as (ann, bob, cat):
        yield Circle(ann, bob, cat)


def _call(elm: Circle) -> str:
    call: str = elm.cat.json("call", "Elm St", "rough night")["call"]["id"]
    wait_real(lambda: any(c["id"] == call for c in elm.bob.json("calls")["calls"]), "bob to see cat's call")
    return call


def test_offer_lists_the_second_person_kind(elm: Circle) -> None:
    assert "second_person" in elm.bob.text("offer", "--help")
    call = _call(elm)
    offered = elm.bob.json("offer", call, "second-person", "with Dee")
    assert offered["call"]["offers"][0]["kind"] == "second_person"
    assert "I can come over with a second person" in elm.ann.text("offer", call[:8], "second_person")


def test_resolve_with_a_check_in_then_followups_and_done(elm: Circle) -> None:
    call = _call(elm)
    elm.bob.json("claim", call)
    wait_real(lambda: elm.cat.json("call", "show", call)["call"]["claimer"] == elm.ids["bob"], "cat to see bob on it")
    assert "only the person who made the call" in elm.bob.fails(1, "resolve", call, "--check-in", "cat")
    assert elm.cat.fails(2, "resolve", call, "--check-in", "--again", "9")
    assert "goes with --check-in" in elm.cat.fails(2, "resolve", call, "--again", "4")
    done = elm.cat.json("resolve", call, "--check-in", "--again", "4")
    f = done["followup"]
    assert f["who"] == elm.ids["bob"] and f["again"] - f["due"] == 4 * 86_400 and f["due"] > time.time() + 5 * 3600
    assert "bob checks in on you" in elm.cat.text("followups")
    wait_real(lambda: elm.bob.json("followups")["followups"], "bob's to-do")
    assert "check in on cat" in elm.bob.text("followups")
    wait_real(lambda: elm.ann.json("followups")["followups"], "the facilitator to see it")
    seen = elm.ann.json("followups")["followups"][0]
    assert "rough night" not in str(seen) and seen["who"] == elm.ids["bob"]
    assert "bob checks in on cat" in elm.ann.text("followups")
    assert "only the person asked" in elm.ann.fails(1, "followup", "done", call)
    assert "Thank you for checking in" in elm.bob.text("followup", "done", call[:8])
    assert elm.bob.json("followup", "done", call)["which"] == "again"
    assert "done already" in elm.bob.fails(1, "followup", "done", call)
    assert elm.bob.json("followups")["followups"] == []
    wait_real(lambda: elm.ann.json("followups", "--all")["followups"][0]["again_done_at"] is not None,
              "the facilitator to see both done")


def test_followup_ask_after_someone_else_resolved(elm: Circle) -> None:
    call = _call(elm)
    elm.bob.json("claim", call)
    elm.bob.json("resolve", call)
    wait_real(lambda: elm.cat.json("call", "show", call)["call"]["status"] == "resolved", "cat to see it resolved")
    asked = elm.cat.json("followup", "ask", call, "--who", "ann", "--at", datetime.fromtimestamp(
        time.time() + 7200).strftime("%Y-%m-%d %H:%M"))
    assert asked["followup"]["who"] == elm.ids["ann"]
    assert elm.cat.fails(2, "followup", "ask", call, "--again", "12")
    assert elm.cat.fails(2, "followup", "ask")


def test_off_tonight_and_load(elm: Circle) -> None:
    off = elm.bob.json("off-tonight")
    assert off["status"] == "away" and datetime.fromtimestamp(off["until"]).hour == 8
    assert "You're off until" in elm.bob.text("off-tonight", "--circle", "Elm St")
    load = elm.bob.json("load")
    assert load["took"] >= 2 and load["days"] == 7
    assert "Only you see this" in elm.bob.text("load")
    assert elm.ann.json("load")["took"] == 0
    assert elm.bob.fails(2, "load", "--days", "90")


def test_safety_timer_from_the_cli(elm: Circle) -> None:
    assert "no facilitator besides you" in elm.ann.fails(1, "safety", "start", "Elm St", "--every", "10")
    assert elm.bob.fails(2, "safety", "start", "Elm St", "--every", "1")
    assert "no safety timer running" in elm.bob.fails(1, "safety", "ok")
    started = elm.bob.json("safety", "start", "Elm St", "--every", "15", "--note", "at Sam's")
    assert started["facilitators"] == 1 and started["timer"]["every"] == 15
    assert "I'm there" in elm.bob.text("safety", "there")
    assert elm.bob.json("safety", "ok")["timer"]["last"] >= started["timer"]["started"]
    wait_real(lambda: elm.ann.json("safety", "list")["timers"], "the facilitator to see the timer")
    assert "at Sam's" in elm.ann.text("safety", "list")
    time.sleep(1)                         # cat's node had every chance to receive it too
    assert elm.cat.json("safety", "list", "--all")["timers"] == []
    assert "Timer ended" in elm.bob.text("safety", "end")
    wait_real(lambda: elm.ann.json("safety", "list")["timers"] == [], "the timer to end for the facilitator")


def test_help_for_every_care_command() -> None:
    for args in (("followup", "ask"), ("followup", "done"), ("followups",), ("off-tonight",), ("load",),
                 ("safety", "start"), ("safety", "ok"), ("safety", "list")):
        out = meshcare({}, *args, "--help")
        assert out.returncode == 0 and "example:" in out.stdout and "--json" in out.stdout, args


# --- pure ---------------------------------------------------------------------------------------

def test_local_times() -> None:
    at_23 = datetime(2026, 12, 7, 23, 0).timestamp()
    assert datetime.fromtimestamp(next_hour(at_23, 8)) == datetime(2026, 12, 8, 8, 0)
    assert datetime.fromtimestamp(tomorrow_morning(at_23, 9)) == datetime(2026, 12, 8, 9, 0)
    at_2 = datetime(2026, 12, 8, 2, 0).timestamp()
    assert datetime.fromtimestamp(tomorrow_morning(at_2, 9)) == datetime(2026, 12, 8, 9, 0)    # after sleep
    assert datetime.fromtimestamp(tomorrow_morning(datetime(2026, 12, 8, 4, 0).timestamp(), 9)) == \
        datetime(2026, 12, 9, 9, 0)


def _followup(**over: Any) -> Followup:
    base: dict[str, Any] = dict(id="aa" * 32, call="bb" * 32, circle="cc" * 16, circle_name="Elm St",
                                asker="dd" * 32, asker_name="cat", who="ee" * 32, who_name="bob", due=1000,
                                again=None, done_at=None, again_done_at=None, todo=None, mine=False, asked=False)
    return Followup(**{**base, **over})


def test_followup_and_timer_words() -> None:
    assert care.followup_words(_followup(mine=True, todo="first"), 2000).startswith("check in on cat (Elm St), due now")
    assert "bob checks in on you" in care.followup_words(_followup(asked=True), 0)
    t = Timer(id="aa" * 32, circle="cc" * 16, circle_name="Elm St", person="ee" * 32, name="bob", every=10, note="",
              started=0, last=0, there_at=None, ended_at=None, next_ok_at=600, overdue_at=900, overdue=False, mine=False)
    assert care.timer_words(t, 30) == 'bob (Elm St), every 10 min: next "I\'m OK" in 9 min 30 s'
    assert "NO \"I'm OK\"" in care.timer_words(Timer(**{**t.to_data(), "overdue": True}), 1000)

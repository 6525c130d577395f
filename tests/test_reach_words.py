"""What a person reads after posting: not linked, on its way, reached N of M; never "went to" a circle it
has not left this node for. The words (``cli/reach.py``), the wait for receipts, the CLI's output
against a fake daemon, and the ``linked`` key the daemon's ops answer.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
import trio

from meshcare import cli
from meshcare.cli import reach
from meshcare.client import ControlClient
from meshcare.control.views import Call

from .helpers import circle_of_three, founded, wait_for

CALL_ID = "79ef4b4f" + "0" * 56
ME, BO, CAT = "a1" * 32, "b2" * 32, "c3" * 32


def call_data(**over: Any) -> dict[str, Any]:
    """A call as the daemon shows it just after it was made (override what a test is about)."""
    data: dict[str, Any] = {
        "id": CALL_ID, "caller": ME, "text": "Rough night", "urgency": "now", "needs": [], "reach": None,
        "consent": [], "consent_note": None, "created": 1_800_000_000, "status": "open", "claimer": None,
        "claimed_at": None, "also_claimed": [], "offers": [], "accepted": [], "updates": [], "resolved_by": None,
        "resolved_at": None, "followup_at": None, "step": 0, "received_by": [],
        "ladder": [{"after": 0, "to": "circle", "members": []}], "checkins": [], "names": {ME: "Ana"},
        "circle": "8e81c982" * 4, "circle_name": "Elm St", "audience": 2, "reached": 0, "waiting_on": [BO, CAT],
        "mine": True, "claimed_too": False, "plans": []}
    return {**data, **over}


def call(**over: Any) -> Call:
    return Call.from_data(call_data(**over))


# --- the words ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("over, linked, words", [
    ({"audience": 0, "waiting_on": []}, 3, "nobody else is in Elm St yet, so nobody has it; invite someone: "
                                           "meshcare circle invite 'Elm St'"),
    ({}, 0, "not linked to anyone yet: it will go when a neighbour is reachable"),
    ({}, 2, "on its way to 2 people"),
    ({"audience": 1, "waiting_on": [BO]}, 1, "on its way to 1 person"),
    ({"reached": 1, "received_by": [BO], "waiting_on": [CAT]}, 2, "reached 1 of 2"),
    ({}, None, "on its way to 2 people"),                  # an older daemon does not say: no claim about links
])
def test_the_state_of_a_call_in_words(over: dict[str, Any], linked: int | None, words: str) -> None:
    assert reach.call_state(call(**over), linked) == words


def test_other_posts_say_only_when_they_cannot_leave_yet() -> None:
    assert reach.posted_note(0) == "\nThis node is not linked to anyone yet: it will go when a neighbour is reachable."
    assert reach.posted_note(1) == reach.posted_note(None) == ""


class Clock:
    """A fake clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_waiting_for_receipts_stops_when_everyone_has_it_or_time_is_up() -> None:
    answers = iter([call(reached=1, received_by=[BO]), call(reached=2, received_by=[BO, CAT], waiting_on=[])])
    clock = Clock()
    done = reach.wait_for_receipts(call(), 2, 3.0, lambda: next(answers), sleep=clock.sleep, clock=clock)
    assert done.reached == 2 and clock.now == pytest.approx(2 * reach.POLL)
    clock = Clock()
    done = reach.wait_for_receipts(call(), 2, 1.0, lambda: call(), sleep=clock.sleep, clock=clock)
    assert done.reached == 0 and clock.now == pytest.approx(1.0)


@pytest.mark.parametrize("linked, over, seconds", [(0, {}, 3.0), (2, {"audience": 0, "waiting_on": []}, 3.0),
                                                    (2, {}, 0.0), (None, {}, 3.0)])
def test_no_wait_when_nobody_can_confirm(linked: int | None, over: dict[str, Any], seconds: float) -> None:
    def look() -> Call:
        raise AssertionError("asked the daemon for nothing")
    assert reach.wait_for_receipts(call(**over), linked, seconds, look, sleep=look, clock=lambda: 0.0).reached == 0


# --- the CLI against a fake daemon -----------------------------------------------------------------------


class _Fake:
    """A control client answering from ``answers`` (op -> data, or a list of data used in turn)."""

    def __init__(self, answers: dict[str, Any], sent: list[str]) -> None:
        self.answers, self.sent = answers, sent

    def __enter__(self) -> _Fake:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def request(self, op: str, /, **args: Any) -> dict[str, Any]:
        self.sent.append(op)
        answer = self.answers[op]
        return answer.pop(0) if isinstance(answer, list) else answer


def run_cli(tmp_path: Path, answers: dict[str, Any], *argv: str) -> tuple[str, list[str]]:
    sent: list[str] = []
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ControlClient, "connect", classmethod(lambda cls, *a, **k: _Fake(answers, sent)))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["--home", str(tmp_path), *argv])
    assert code == 0, err.getvalue()
    return out.getvalue(), sent


def test_a_call_from_a_node_with_no_neighbours_says_so(tmp_path: Path) -> None:
    out, sent = run_cli(tmp_path, {"call.create": {"call": call_data(), "linked": 0}}, "call", "Elm St", "Rough night")
    assert out == ("Your call for support in Elm St (call 79ef4b4f): not linked to anyone yet: it will go when a "
                   "neighbour is reachable.\nSee who answers with: meshcare call show 79ef4b4f\n")
    assert "went to" not in out and sent == ["call.create"]


def test_a_call_waits_briefly_for_receipts_and_says_how_many_it_reached(tmp_path: Path) -> None:
    answers = {"call.create": {"call": call_data(), "linked": 2},
               "call.show": [{"call": call_data(reached=1, received_by=[BO], waiting_on=[CAT])},
                             {"call": call_data(reached=2, received_by=[BO, CAT], waiting_on=[])}]}
    out, sent = run_cli(tmp_path, answers, "call", "Elm St", "Rough night", "--wait", "5")
    assert out.startswith("Your call for support in Elm St (call 79ef4b4f): reached 2 of 2.\n")
    assert sent == ["call.create", "call.show", "call.show"]
    out, sent = run_cli(tmp_path, {"call.create": {"call": call_data(), "linked": 2}}, "call", "Elm St", "x",
                        "--wait", "0")
    assert "on its way to 2 people." in out and sent == ["call.create"]


def test_the_json_of_a_call_is_the_daemons_answer_with_linked(tmp_path: Path) -> None:
    answer = {"call": call_data(), "linked": 0}
    out, sent = run_cli(tmp_path, {"call.create": answer}, "call", "Elm St", "Rough night", "--json", "--wait", "5")
    assert json.loads(out) == answer and sent == ["call.create"]


def test_an_offer_from_a_node_with_no_neighbours_says_it_waits(tmp_path: Path) -> None:
    answer = {"id": "77" * 32, "call": call_data(mine=False), "linked": 0}
    out, _ = run_cli(tmp_path, {"call.offer": answer}, "offer", "79ef4b4f", "listening")
    assert out.splitlines() == ["Offered: I can listen (offer 77777777) (call 79ef4b4f)",
                                "This node is not linked to anyone yet: it will go when a neighbour is reachable."]
    answer["linked"] = 1
    out, _ = run_cli(tmp_path, {"call.offer": answer}, "offer", "79ef4b4f", "listening")
    assert "not linked" not in out


# --- what the daemon's ops answer --------------------------------------------------------------------------


async def test_linked_counts_the_links_that_carry_the_circle(autojump_clock) -> None:
    async with trio.open_nursery() as nursery:
        alone = await founded(nursery)
        made = await alone.request("call.create", {"circle": "Elm St", "text": "anyone?"})
        assert made["linked"] == 0 and made["call"]["audience"] == 0
        ann, bob, cat = await circle_of_three(nursery)
        topic = cat.node.registry.find("Elm St").topic
        await wait_for(lambda: any(topic in cat.node.engine.shared_topics(p) for p in cat.node.engine.linked_peers))
        made = await cat.request("call.create", {"circle": "Elm St", "text": "Rough night"})
        carrying = sum(1 for p in cat.node.engine.linked_peers if topic in cat.node.engine.shared_topics(p))
        assert made["linked"] == carrying >= 1
        await wait_for(lambda: cat.perform("call.show", {"call": made["call"]["id"]})["call"]["reached"] == 2)
        offer = await bob.request("call.offer", {"call": made["call"]["id"], "kind": "listening"})
        assert offer["linked"] == 2                     # bob is linked to ann and to cat, both in the circle
        nursery.cancel_scope.cancel()

"""The gathering commands of the CLI against two real daemons on loopback (static peers, no mDNS): ann
founds "Elm St" and bob joins; bob organises, ann answers, names and counts, cancel, agreements, errors.
Plus the pure words (``cli/gatherings.py``)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from meshcare.cli import calls as cli_calls
from meshcare.cli import gatherings as cg
from meshcare.control.views_gatherings import Gathering
from tests.helpers import wait_real
from tests.test_cli_circles import Node, running_circle

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory):
    with running_circle(tmp_path_factory.mktemp("gatherings"), "ann", "bob") as (ann, bob):
        yield ann, bob


def _at(seconds: float) -> str:
    return datetime.fromtimestamp(time.time() + seconds).strftime("%Y-%m-%d %H:%M")


def test_organise_answer_show_and_cancel(two: tuple[Node, Node]) -> None:
    ann, bob = two
    made = bob.json("gathering", "Elm St", "Tuesday group", "--when", _at(2 * 86_400), "--where", "the back room",
                    "--kind", "group", "--round", "check-in round", "--round", "closing round",
                    "--aftercare", "ask bob", "--remind", "45")["gathering"]
    gid = made["id"]
    assert made["agreements"] and made["format"] == ["check-in round", "closing round"] and made["remind"] == 45
    wait_real(lambda: any(g["id"] == gid for g in ann.json("gatherings")["gatherings"]), "ann to see the gathering")
    assert ann.json("rsvp", gid[:8], "maybe")["gathering"]["mine"] == "maybe"
    assert ann.json("rsvp", gid[:8], "YES")["gathering"]["mine"] == "yes"
    wait_real(lambda: bob.json("gathering", "show", gid[:8])["gathering"]["counts"]["yes"] == 1, "bob to hear it")
    shown = bob.json("gathering", "show", gid[:8])["gathering"]
    assert shown["sees_names"] and [r["answer"] for r in shown["rsvps"]] == ["yes"]
    text = bob.text("gathering", "show", gid[:8])
    assert "Tuesday group" in text and "the back room" in text and "coming: ann" in text and "1 coming" in text
    assert "Afterwards, if something came up for you: ask bob" in text
    listed = ann.text("gatherings")
    assert "Tuesday group" in listed and "1 coming, 0 maybe" in listed
    # ann is a facilitator: she may call it off
    assert ann.json("gathering", "cancel", gid[:8])["gathering"]["cancelled"] is True
    wait_real(lambda: bob.json("gatherings")["gatherings"] == [], "bob to hear it was called off")
    assert [g["id"] for g in bob.json("gatherings", "--all")["gatherings"]] == [gid]
    assert "called off" in bob.text("gathering", "show", gid[:8])
    assert "called off" in bob.fails(1, "rsvp", gid[:8], "no")


def test_agreements_show_and_set(two: tuple[Node, Node]) -> None:
    ann, bob = two
    assert "meshcare's defaults" in bob.text("agreements", "Elm St")
    assert "facilitators" in bob.fails(1, "agreements", "Elm St", "--set", "Be kind")
    done = ann.json("agreements", "Elm St", "--set", "Anyone may pass", "--set", "Be kind")["agreements"]
    assert done["items"] == ["Anyone may pass", "Be kind"] and done["default"] is False
    wait_real(lambda: bob.json("agreements", "Elm St")["agreements"]["items"] == ["Anyone may pass", "Be kind"],
              "bob to get the new agreements")
    made = bob.json("gathering", "Elm St", "Walk", "--kind", "walk", "--when", _at(3600))["gathering"]
    assert made["agreements"] == ["Anyone may pass", "Be kind"]


def test_errors_name_the_problem(two: tuple[Node, Node]) -> None:
    ann, bob = two
    assert "YYYY-MM-DD HH:MM" in bob.fails(2, "gathering", "Elm St", "X", "--when", "tomorrow")
    bob.fails(2, "gathering", "Elm St", "X")                                        # --when is required
    bob.fails(2, "rsvp", "abcd", "perhaps")
    assert "keeps posts for 30 days" in bob.fails(1, "gathering", "Elm St", "X", "--when", _at(40 * 86_400))
    assert "no gathering" in bob.fails(1, "gathering", "show", "ffffffff")
    assert "nobody called 'zed'" in bob.fails(1, "gathering", "Elm St", "X", "--when", _at(3600), "--host", "zed")


def test_the_two_word_commands_are_rewritten() -> None:
    assert cli_calls.rewrite_argv(["gathering", "show", "ab12"]) == ["gathering-show", "ab12"]
    assert cli_calls.rewrite_argv(["--home", "h", "gathering", "cancel", "ab12"]) == ["--home", "h",
                                                                                     "gathering-cancel", "ab12"]
    assert cli_calls.rewrite_argv(["gathering", "Elm St", "show"]) == ["gathering", "Elm St", "show"]


def _gathering(**over: Any) -> Gathering:
    base: dict[str, Any] = dict(
        id="ab" * 32, circle="cd" * 16, circle_name="Elm St", author="01" * 32, title="Meal", kind="meal", when=0,
        ends=None, where="", about="", hosts=("01" * 32,), agreements=(), format=(), aftercare="call Sam",
        remind=60, created=0, cancelled=False, cancelled_by=None, started=False, over=False, over_at=7200,
        counts={"yes": 2, "maybe": 1, "no": 0}, mine=None, hosting=False, sees_names=False, may_cancel=False,
        rsvps=(), names={"01" * 32: "ann"})
    base.update(over)
    return Gathering(**base)


def test_the_words_show_counts_to_members_and_aftercare_once_it_started() -> None:
    g = _gathering()
    assert cg.coming_text(g) == "2 coming, 1 maybe"
    text = cg.gathering_text(g)
    assert "hosts: ann" in text and "you: not answered yet" in text and "Afterwards, if something" in text
    started = cg.gathering_text(_gathering(started=True))
    assert "If something came up for you:\n  call Sam" in started
    assert cg.status_text(_gathering(cancelled=True)) == "called off"
    assert cg.status_text(_gathering(started=True, over=True)) == "over"


def test_meshcare_watch_tells_a_reminder_in_words() -> None:
    from meshcare.cli.event_words import Names, describe
    from meshcare.control import events as ev
    from meshcare.text import for_terminal

    g = _gathering(title="Tuesday\x1b[2J group", where="the back room", circle_name="Elm St")
    line = describe(ev.GatheringReminderEvent(circle=g.circle, gathering=g.id, when=g.when, view=g), Names())
    assert line is not None and "group\" in" in line and "the back room" in line
    assert "\x1b" not in for_terminal(line)            # what `meshcare watch` prints
    assert line.endswith(f"[gathering {g.id[:8]}]")

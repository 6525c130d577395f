"""`meshcare ask`, `requests`, `request show|reply|close` and `library ...` against real daemons on
loopback (static peers, no mDNS), as subprocesses; waits on conditions, no fixed sleeps. ann founds
"Elm St" and makes bob a facilitator too; cat is a member. The tests run in file order."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from meshcare.cli import calls as cli_calls
from tests.helpers import wait_real
from tests.test_cli_circles import Node, meshcare, running_circle

pytestmark = pytest.mark.timeout(180)


class Elm:
    def __init__(self, ann: Node, bob: Node, cat: Node) -> None:
        self.ann, self.bob, self.cat = ann, bob, cat
        self.request: dict[str, Any] = {}


@pytest.fixture(scope="module")
def elm(tmp_path_factory: pytest.TempPathFactory):
    with running_circle(tmp_path_factory.mktemp("requests"), "ann", "bob", "cat") as nodes:
        ann, bob, cat = nodes
        ann.json("circle", "role", "Elm St", "bob", "facilitator")
        wait_real(lambda: all({m["name"]: m["role"] for m in n.json("circle", "members", "Elm St")["members"]}
                              == {"ann": "facilitator", "bob": "facilitator", "cat": "member"} for n in nodes),
                  "everyone to see the circle and its facilitators")
        yield Elm(ann, bob, cat)


def test_ask_two_facilitators_who_see_it_and_the_member_not_asked_does_not(elm: Elm) -> None:
    out = elm.cat.text("ask", "Elm St", "ann", "--also", "bob", "--about", "debrief", "After last night, could we talk?")
    assert "Only you, ann and bob can read it" in out and "meshcare request show" in out
    made = elm.cat.json("requests")["requests"]
    assert len(made) == 1 and made[0]["about"] == "debrief" and made[0]["mine"]
    elm.request = made[0]
    for node in (elm.ann, elm.bob):
        wait_real(lambda node=node: [r["id"] for r in node.json("requests")["requests"]] == [elm.request["id"]],
                  f"{node.name} to get the request")
    shown = elm.ann.text("request", "show", elm.request["id"][:8])
    assert "from cat to you and bob" in shown and "only cat, you and bob can read it" in shown
    assert "waiting for you" in elm.bob.text("requests")


def test_reply_and_close_stay_in_the_thread(elm: Elm) -> None:
    rid = elm.request["id"]
    out = elm.ann.text("request", "reply", rid[:8], "Of course. Thursday at 6?")
    assert "only cat and bob can read it besides you" in out
    wait_real(lambda: [m["text"] for m in elm.cat.json("request", "show", rid)["request"]["replies"]]
              == ["Of course. Thursday at 6?"], "cat to read ann's reply")
    assert "new reply" in elm.cat.text("requests")
    assert "only the person who asked" in elm.bob.fails(1, "request", "close", rid)
    closed = elm.cat.json("request", "close", rid)
    assert closed["request"]["closed"] and closed["linked"] >= 1
    wait_real(lambda: elm.bob.json("request", "show", rid)["request"]["closed"], "bob to see it closed")
    assert "closed" in elm.bob.fails(1, "request", "reply", rid, "one more thing")
    assert elm.cat.json("requests", "--open")["requests"] == []


def test_ask_refuses_members_and_oneself(elm: Elm) -> None:
    assert "cat is not a facilitator" in elm.bob.fails(1, "ask", "Elm St", "cat", "hello")
    assert "yourself" in elm.ann.fails(1, "ask", "Elm St", "ann", "hello")
    assert "no private request" in elm.cat.fails(1, "request", "show", "ffffffff")


def test_the_library_is_written_by_facilitators_and_read_by_members(elm: Elm, tmp_path: Path) -> None:
    text = tmp_path / "agreements.txt"
    text.write_text("We listen first.\nAnyone may pass.\n", encoding="utf-8")
    added = elm.ann.json("library", "edit", "Elm St", "House agreements", "--file", str(text))
    assert added["new"] and added["note"]["text"] == "We listen first.\nAnyone may pass."
    wait_real(lambda: [n["title"] for n in elm.cat.json("library", "Elm St")["notes"]] == ["House agreements"],
              "cat to read the library")
    assert "only facilitators" in elm.cat.fails(1, "library", "edit", "Elm St", "House agreements", "--text", "x")
    assert "only facilitators" in elm.cat.fails(1, "library", "remove", "Elm St", "House agreements")
    changed = elm.bob.json("library", "edit", "Elm St", "house agreements", "--text", "We listen first.")
    assert not changed["new"] and changed["note"]["edits"] == 1 and changed["note"]["title"] == "House agreements"
    wait_real(lambda: elm.cat.json("library", "Elm St", "House agreements")["note"]["edits"] == 1, "cat: the edit")
    shown = elm.cat.text("library", "Elm St", "House agreements", "--versions")
    assert "We listen first." in shown and "Earlier versions" in shown and "Anyone may pass." in shown
    listing = elm.ann.text("library", "Elm St")
    assert "House agreements" in listing and "--starter" in listing
    starters = elm.ann.json("library", "edit", "Elm St", "--starter")
    assert "Coming off medication" in starters["added"]
    assert "Every starter text" in elm.ann.text("library", "edit", "Elm St", "--starter")
    removed = elm.ann.json("library", "remove", "Elm St", "House agreements")
    assert removed["title"] == "House agreements"
    wait_real(lambda: "House agreements" not in [n["title"] for n in elm.cat.json("library", "Elm St")["notes"]],
              "cat: the removal")
    assert "no text called" in elm.cat.fails(1, "library", "Elm St", "House agreements")


def test_library_edit_without_a_text_or_terminal_is_a_usage_error(elm: Elm) -> None:
    assert "--text or --file" in elm.ann.fails(2, "library", "edit", "Elm St", "Something")
    assert "name the text" in elm.ann.fails(2, "library", "edit", "Elm St")


@pytest.mark.parametrize("args", [("ask",), ("ask", "Elm St", "ann"), ("ask", "Elm St", "ann", "x", "--about", "chat"),
                                  ("request", "show"), ("request", "reply", "abcd"), ("library",),
                                  ("library", "edit", "Elm St", "T", "--text", "a", "--file", "b")])
def test_bad_usage_exits_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = meshcare({**os.environ, "MESHCARE_HOME": str(tmp_path)}, *args)
    assert out.returncode == 2, (out.stdout, out.stderr)


def test_every_command_has_help_with_an_example() -> None:
    for command in (("ask",), ("requests",), ("request", "show"), ("request", "reply"), ("request", "close"),
                    ("library",), ("library", "edit"), ("library", "remove")):
        out = meshcare(dict(os.environ), *command, "--help")
        assert out.returncode == 0 and f"usage: meshcare {' '.join(command)}" in out.stdout, command
        assert "example:\n  meshcare " in out.stdout and "--json" in out.stdout, command


def test_two_word_commands_are_dispatched() -> None:
    assert cli_calls.rewrite_argv(["request", "reply", "ab"]) == ["request-reply", "ab"]
    assert cli_calls.rewrite_argv(["library", "edit", "Elm St"]) == ["library-edit", "Elm St"]
    assert cli_calls.rewrite_argv(["library", "Elm St", "edit"]) == ["library", "Elm St", "edit"]

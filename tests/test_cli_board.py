"""The mutual-aid board's commands (`need`, `needs`, `take`, `done`, `release`, `board`) against two real
daemons on loopback (static peers, no mDNS), driven as subprocesses; waits on conditions, no fixed sleeps."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import wait_real
from tests.test_cli_circles import Node, meshcare, running_circle

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory):
    with running_circle(tmp_path_factory.mktemp("board"), "ann", "bob") as (ann, bob):
        yield ann, bob


def listed(node: Node, item: str) -> dict[str, Any] | None:
    return next((n for n in node.json("needs", "--all")["needs"] if n["id"] == item), None)


def test_a_need_taken_reached_and_done(pair: tuple[Node, Node]) -> None:
    ann, bob = pair
    made = bob.json("need", "Elm St", "a ride to the clinic", "--category", "ride", "--when", "Tue 9:00",
                    "--reach", "call 555-0100")
    item = made["need"]["id"]
    assert made["reach_kept"] is True and made["need"]["status"] == "open" and made["need"]["category"] == "ride"
    wait_real(lambda: listed(ann, item) is not None, "ann to see bob's need")
    assert listed(ann, item)["reach"] is None
    text = ann.text("needs")
    assert item[:8] in text and "a ride to the clinic" in text and "bob" in text and "open" in text
    assert "your own" in bob.fails(1, "take", item[:8])
    taken = ann.json("take", item[:8])
    assert taken["need"]["status"] == "taken" and taken["need"]["taker"] == ann.json("id")["node_id"]
    wait_real(lambda: listed(ann, item)["reach"] == "call 555-0100", "bob's node to send ann how to reach him")
    assert "how to reach bob about " + item[:8] + ": call 555-0100" in ann.text("needs")
    assert "taken by ann" in bob.text("needs")
    released = ann.json("release", item[:8])          # the call command's name: not a call, so the item
    assert released["need"]["status"] == "open"
    ann.json("take", item)
    done = ann.text("done", item[:8])
    assert "Marked done" in done
    wait_real(lambda: listed(bob, item)["status"] == "done", "bob to see it done")
    assert all(n["id"] != item for n in bob.json("needs")["needs"])
    assert "done already" in ann.fails(1, "take", item)


def test_anonymous_offers_and_the_facilitators_setting(pair: tuple[Node, Node]) -> None:
    ann, bob = pair
    assert "does not allow anonymous posts" in bob.fails(1, "need", "Elm St", "soup for two", "--category", "food",
                                                         "--offer", "--anonymous")
    assert "only facilitators" in bob.fails(1, "board", "Elm St", "--anonymous", "on")
    assert ann.json("board", "Elm St", "--anonymous", "on")["board"]["anonymous"] is True
    wait_real(lambda: bob.json("board", "Elm St")["boards"][0]["anonymous"] is True, "bob to see the setting")
    assert "allows anonymous posts" in bob.text("board", "Elm St")
    offer = bob.json("need", "Elm St", "soup for two", "--category", "food", "--offer", "--anonymous")["need"]
    assert offer["kind"] == "offer" and offer["anonymous"] is True and offer["author"] is None
    wait_real(lambda: listed(ann, offer["id"]) is not None, "ann to see the offer")
    assert listed(ann, offer["id"])["author"] is None
    assert "someone (no name shown)" in ann.text("needs")


def test_errors_name_the_problem(pair: tuple[Node, Node]) -> None:
    ann, _ = pair
    assert "no call or board item" in ann.fails(1, "release", "abcdef12")
    assert "no board item" in ann.fails(1, "done", "abcdef12")
    assert "no circle" in ann.fails(1, "needs", "--circle", "Oak Rd")


@pytest.mark.parametrize("args", [
    ("need", "Elm St", "x"),                               # --category missing
    ("need", "Elm St", "x", "--category", "pets"),
    ("board", "Elm St", "--anonymous", "maybe"),
    ("take",),
])
def test_bad_usage_exits_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = meshcare({**os.environ, "MESHCARE_HOME": str(tmp_path)}, *args)
    assert out.returncode == 2, (out.stdout, out.stderr)


def test_every_board_command_has_help_with_an_example() -> None:
    for command in ("need", "needs", "take", "done", "board"):
        out = meshcare(dict(os.environ), command, "--help")
        assert out.returncode == 0 and f"usage: meshcare {command}" in out.stdout, command
        assert "example:\n  meshcare " in out.stdout and "--json" in out.stdout, command

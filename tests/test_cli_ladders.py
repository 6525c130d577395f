"""`meshcare ladder ...` and `meshcare avoid` against real daemons on loopback (static peers, no mDNS):
ask, answer, list, a call built from the accepted rungs only, the avoid list kept on the caller's node
and enforced, help and usage errors. Waits on conditions with deadlines, no fixed sleeps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import wait_real
from tests.test_cli_circles import Node, meshcare, running_circle

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def trio_of_nodes(tmp_path_factory: pytest.TempPathFactory):
    with running_circle(tmp_path_factory.mktemp("ladders"), "ann", "bob", "cat") as (ann, bob, cat):
        yield ann, bob, cat


def test_ask_answer_and_call_from_accepted_rungs(trio_of_nodes) -> None:
    ann, bob, cat = trio_of_nodes
    asked = cat.json("ladder", "add", "Elm St", "ann", "--note", "you know me")["request"]
    assert asked["state"] == "pending" and asked["step"] == 0 and asked["ladder"] == "calls"
    cat.json("ladder", "add", "Elm St", "bob", "--step", "1")
    assert "pending until they answer" in cat.text("ladder", "add", "Elm St", "bob", "--ladder", "practical")
    wait_real(lambda: len(ann.json("ladder", "requests")["requests"]) == 1, "ann to get cat's request")
    assert "cat would like you as a first contact for calls." in ann.text("ladder", "requests")
    assert "You said yes" in ann.text("ladder", "accept", asked["id"][:8])
    wait_real(lambda: len(bob.json("ladder", "requests")["requests"]) == 2, "bob to get both requests")
    to_bob = [r for r in bob.json("ladder", "requests")["requests"] if r["ladder"] == "calls"][0]
    assert bob.json("ladder", "decline", to_bob["id"])["request"]["state"] == "declined"
    wait_real(lambda: [(r["name"], r["state"]) for r in cat.json("ladder", "list")["ladders"][0]["rungs"]]
              == [("ann", "accepted"), ("bob", "declined")], "cat to see both answers")
    shown = cat.text("ladder", "list")
    assert "said yes" in shown and "said no" in shown and "asked, no answer yet" in shown
    # declined (bob) and pending (bob on "practical") rungs are never used
    call = cat.json("call", "Elm St", "Could someone be with me", "--ladder-name", "calls",
                    "--ladder-then", "circle", "--ladder-every", "20")["call"]
    ids = {n.name: n.json("id")["node_id"] for n in (ann, bob)}
    assert [(s["to"], s["members"], s["after"]) for s in call["ladder"]] == [("chosen", [ids["ann"]], 0),
                                                                             ("circle", [], 20)]
    err = cat.fails(1, "call", "Elm St", "help moving a sofa", "--ladder-name", "practical")
    assert "nobody on your ladder 'practical'" in err
    removed = cat.json("ladder", "remove", to_bob["id"][:8])
    assert removed["request"]["state"] == "withdrawn"
    assert cat.fails(1, "ladder", "accept", to_bob["id"][:8])          # not made to cat


def test_avoid_adds_lists_enforces_and_removes(trio_of_nodes) -> None:
    ann, bob, cat = trio_of_nodes
    added = cat.json("avoid", "Elm St", "bob")
    assert added["added"] is True and added["entry"]["name"] == "bob"
    assert "never who was left out" in cat.text("avoid", "Elm St", "bob")
    assert [e["name"] for e in cat.json("avoid")["avoid"]] == ["bob"]
    assert "Only this node knows this list." in cat.text("avoid")
    assert ann.json("avoid")["avoid"] == []
    call = cat.json("call", "Elm St", "Rough night", "--wait", "0")["call"]
    assert call["narrowed"] is True
    wait_real(lambda: any(c["id"] == call["id"] for c in ann.json("calls")["calls"]), "ann to get the call")
    assert all(c["id"] != call["id"] for c in bob.json("calls", "--all")["calls"])
    assert cat.json("avoid", "--remove", "Elm St", "bob")["removed"] is True
    assert "not on your list" in cat.text("avoid", "--remove", "Elm St", "bob")
    assert cat.json("avoid")["avoid"] == []


@pytest.mark.parametrize("args", [
    ("avoid", "--remove"),
    ("avoid", "--remove", "Elm St"),
    ("ladder",),
    ("ladder", "add", "Elm St"),
    ("ladder", "add", "Elm St", "bob", "--step", "5"),
    ("ladder", "accept"),
    ("call", "Elm St", "x", "--ladder-name", "calls", "--ladder", "circle@0"),
    ("call", "Elm St", "x", "--ladder-then", "everyone"),
])
def test_bad_usage_exits_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = meshcare({**os.environ, "MESHCARE_HOME": str(tmp_path)}, *args)
    assert out.returncode == 2, (out.stdout, out.stderr)


def test_every_command_has_help_with_an_example() -> None:
    for command in [("ladder", c) for c in ("add", "list", "requests", "accept", "decline", "remove")] + [("avoid",)]:
        out = meshcare(dict(os.environ), *command, "--help")
        assert out.returncode == 0 and f"usage: meshcare {' '.join(command)}" in out.stdout, command
        assert "example:\n  meshcare " in out.stdout and "--json" in out.stdout, command

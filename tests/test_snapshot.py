"""``snapshot`` answers what the list ops answer, part for part, for the same state; its sync state is
what the last ``sync`` event said. Pure: real nodes over ``tests/nodenet.py``; the daemon-level
reconnect is in tests/test_daemon_snapshot.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from meshcare.control import requests as rq
from meshcare.control import views as v
from meshcare.errors import NotFound
from meshcare.ops.snapshot import snapshot

from .nodenet import NodeNet

CIRCLE = "Elm St"
SETTLE = 30.0


def snap(net: NodeNet, name: str, **args: Any) -> dict[str, Any]:
    """``name``'s snapshot, as data (what the daemon would send)."""
    return snapshot(net.nodes[name], rq.Snapshot.from_data(args), net.now).to_data()


def members(net: NodeNet, name: str) -> set[str]:
    found = [c for c in net.nodes[name].registry.circles.values() if c.roster.name == CIRCLE]
    return {m.name for m in found[0].roster.members.values()} if found else set()


def busy_circles() -> NodeNet:
    """ann founds Elm St and Oak Rd; bob and cat join Elm St; a call that is claimed, offered on and has
    a plan shared in it, a resolved call, two check-ins with replies, availability, an open invite; dan
    waits to join (nobody is linked to it)."""
    net = NodeNet("ann", "bob", "cat", "dan")
    net.start("ann")
    net.op("ann", "circle.create", name=CIRCLE)
    for name, via in (("bob", "ann"), ("cat", "bob")):
        net.start(name, [via])
        net.op(name, "circle.join", token=net.op("ann", "circle.invite", circle=CIRCLE)["token"])
        net.run_until(lambda: name in members(net, "ann") and members(net, name) == members(net, "ann"))
    net.op("ann", "circle.create", name="Oak Rd")
    call = net.op("cat", "call.create", circle=CIRCLE, text="Rough night", needs=["company"])["call"]["id"]
    done = net.op("bob", "call.create", circle=CIRCLE, text="a lift tomorrow")["call"]["id"]
    net.run(SETTLE)
    net.op("bob", "call.offer", call=call, kind="come_over", text="in 10")
    net.op("ann", "call.claim", call=call)
    net.op("bob", "call.resolve", call=done)
    net.run(SETTLE)
    net.op("cat", "plan.edit", helps="tea and a quiet room")
    net.op("cat", "plan.share", call=call)
    net.op("cat", "plan.share", circle=CIRCLE)
    checkin = net.op("ann", "checkin.create", circle=CIRCLE, prompt="How is everyone?")["checkin"]["id"]
    net.op("ann", "checkin.create", circle="Oak Rd", prompt="Dinner?")
    net.op("bob", "presence.set", status="available", cap=2)
    net.op("cat", "presence.set", status="away", circle=CIRCLE)
    net.run(SETTLE)
    net.op("bob", "checkin.reply", checkin=checkin, option=1)
    net.op("ann", "circle.invite", circle=CIRCLE)
    net.start("dan")
    net.op("dan", "circle.join", token=net.op("ann", "circle.invite", circle=CIRCLE)["token"])
    net.run(SETTLE)
    return net


@pytest.fixture(scope="module")
def net() -> NodeNet:
    return busy_circles()


@pytest.mark.parametrize("name", ["ann", "bob", "cat", "dan"])
def test_the_snapshot_is_what_the_list_ops_answer(net: NodeNet, name: str) -> None:
    got = snap(net, name)
    identity = net.identities[name]
    assert (got["seq"], got["node_id"], got["name"], got["peers"]) == (0, identity.node_id.hex(), name, [])
    listed = net.op(name, "circle.list")
    assert [c["circle"] for c in got["circles"]] == listed["circles"]
    assert got["joining"] == listed["joining"]
    for c in got["circles"]:
        ref = c["circle"]["id"]
        assert c["members"] == net.op(name, "circle.members", circle=ref)["members"]
        assert c["roster"] == net.op(name, "roster", circle=ref)["circles"][0]["roster"]
        assert c["invites"] == net.op(name, "circle.invites", circle=ref)["invites"]
        assert c["sync"] == "caught_up"
    assert got["calls"] == net.op(name, "calls.list")["calls"]
    assert snap(net, name, all_calls=True)["calls"] == net.op(name, "calls.list", all=True)["calls"]
    assert got["checkins"] == net.op(name, "checkin.list")["checkins"]
    shown = net.op(name, "plan.show")
    assert (got["plan"], got["shares"]) == (shown["plan"], shown["shares"])


def test_the_state_it_shows_is_all_there(net: NodeNet) -> None:
    """Not empty lists compared with empty lists: the scenario made something of every part."""
    ann, cat, dan = snap(net, "ann", all_calls=True), snap(net, "cat"), snap(net, "dan")
    assert [c["circle"]["name"] for c in ann["circles"]] == ["Elm St", "Oak Rd"]
    elm = ann["circles"][0]
    assert {m["name"] for m in elm["members"]} == {"ann", "bob", "cat"}
    assert {(r["name"], r["status"]) for r in elm["roster"]} == {("bob", "available"), ("cat", "away"),
                                                                 ("ann", "unknown")}
    assert [i["open"] for i in elm["invites"]].count(True) == 2       # one kept, one dan waits to use
    assert sum(i["used_by"] is not None for i in elm["invites"]) == 2
    assert [(c["status"], c["claimer"] is not None) for c in ann["calls"]] == [("claimed", True), ("resolved", False)]
    assert ann["calls"][0]["offers"] and ann["calls"][0]["plans"]
    assert len(ann["checkins"]) == 2 and any(c["answered"] == 1 for c in ann["checkins"])
    assert cat["plan"]["helps"] == "tea and a quiet room" and len(cat["shares"]) == 2
    assert [j["status"] for j in dan["joining"]] == ["waiting"] and dan["circles"] == [] and dan["calls"] == []


def test_one_circle_only(net: NodeNet) -> None:
    elm = snap(net, "ann", circle=CIRCLE, all_calls=True)
    oak = snap(net, "ann", circle="Oak Rd")
    assert [c["circle"]["name"] for c in elm["circles"]] == [CIRCLE]
    assert elm["calls"] == net.op("ann", "calls.list", circle=CIRCLE, all=True)["calls"]
    assert [c["circle_name"] for c in elm["checkins"]] == [CIRCLE]
    assert [c["circle_name"] for c in oak["checkins"]] == ["Oak Rd"] and oak["calls"] == []
    assert snap(net, "cat", circle=CIRCLE)["shares"] == net.op("cat", "plan.show")["shares"]
    assert snap(net, "cat", circle=CIRCLE)["plan"] == net.op("cat", "plan.show")["plan"]
    with pytest.raises(NotFound):
        snap(net, "ann", circle="Pine Ave")


def test_the_sync_state_is_what_the_last_sync_event_said() -> None:
    net = busy_circles()
    net.restart("bob", ["ann"])
    mark = len(net.events["bob"])

    def said() -> str | None:
        states = [d["state"] for n, d in net.events["bob"][mark:] if n == "sync"]
        return states[-1] if states else None
    net.run_until(lambda: said() == "catching_up", step=0.001)
    assert [c["sync"] for c in snap(net, "bob")["circles"]] == ["catching_up"]
    net.run_until(lambda: said() == "caught_up")
    assert [c["sync"] for c in snap(net, "bob")["circles"]] == ["caught_up"]


def test_the_shell_adds_its_peers_and_its_event_number(net: NodeNet) -> None:
    peer = v.Peer(node_id=None, address="192.0.2.7:7447", linked=False, source="static")
    got = snapshot(net.nodes["ann"], rq.Snapshot(), net.now, peers=[peer], seq=41)
    assert (got.seq, got.peers) == (41, (peer,))

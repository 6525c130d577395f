"""Private requests and the library between real Nodes in memory (tests/nodenet.py, virtual time): who
reads what, who may do what, retention, and the facilitator's node keeping the library alive."""

from __future__ import annotations

from typing import Any

import pytest

from meshcare.circles import writing
from meshcare.errors import BadInput, NotFound
from meshcare.node_events import Authored

from .nodenet import NodeNet

CIRCLE = "Elm St"
SETTLE = 30.0
DAY = 86_400.0


def members(net: NodeNet, name: str) -> set[str]:
    found = [c for c in net.nodes[name].registry.circles.values() if c.roster.name == CIRCLE]
    return {m.name for m in found[0].roster.members.values()} if found else set()


def circle_of(net: NodeNet, name: str) -> Any:
    return net.nodes[name].registry.find(CIRCLE)


def a_circle(*, retention_days: int = 30, others: tuple[str, ...] = ("bob", "cat", "dan")) -> NodeNet:
    """ann founds Elm St (facilitator); bob, cat and dan join; bob becomes a facilitator too."""
    net = NodeNet("ann", *others)
    net.start("ann")
    net.op("ann", "circle.create", name=CIRCLE, retention_days=retention_days)
    for name in others:
        net.start(name, ["ann"])
        net.op(name, "circle.join", token=net.op("ann", "circle.invite", circle=CIRCLE)["token"])
        net.run_until(lambda name=name: name in members(net, "ann") and members(net, name) == members(net, "ann"))
    if "bob" in others:
        net.op("ann", "circle.role", circle=CIRCLE, member="bob", role="facilitator")
    net.run(SETTLE)
    return net


def requests_of(net: NodeNet, name: str) -> list[dict[str, Any]]:
    return net.op(name, "request.list")["requests"]


def test_a_request_stays_between_the_asker_and_the_facilitators_asked():
    net = a_circle()
    made = net.op("cat", "request.create", circle=CIRCLE, to=["ann", "bob"], about="conflict",
                  text="Could we talk about the meeting?")["request"]
    rid = made["id"]
    assert made["mine"] and made["names"] == {made["asker"]: "cat", made["to"][0]: "ann", made["to"][1]: "bob"}
    net.run(SETTLE)
    for name in ("ann", "bob"):
        (seen,) = requests_of(net, name)
        assert seen["id"] == rid and seen["waiting"] and not seen["mine"] and seen["about"] == "conflict"
    # dan holds the envelope (he stores and forwards the circle's posts) but can never read it
    assert requests_of(net, "dan") == []
    assert net.nodes["dan"].registry.view(circle_of(net, "dan")).requests == {}
    with pytest.raises(NotFound):
        net.op("dan", "request.show", request=rid)
    net.op("ann", "request.reply", request=rid, text="Of course. Thursday?")
    net.run(SETTLE)
    thread = net.op("cat", "request.show", request=rid[:8])["request"]
    assert [m["text"] for m in thread["replies"]] == ["Of course. Thursday?"] and thread["waiting"]
    assert [m["text"] for m in net.op("bob", "request.show", request=rid)["request"]["replies"]] == [
        "Of course. Thursday?"]
    assert requests_of(net, "dan") == []
    with pytest.raises(BadInput, match="only the person who asked"):
        net.op("ann", "request.close", request=rid)
    closed = net.op("cat", "request.close", request=rid)["request"]
    assert closed["closed"]
    net.run(SETTLE)
    assert net.op("ann", "request.show", request=rid)["request"]["closed"]
    with pytest.raises(BadInput, match="closed"):
        net.op("bob", "request.reply", request=rid, text="late")
    assert not [f for name in net.faults for f in net.faults[name]]


def test_only_facilitators_can_be_asked_and_not_oneself():
    net = a_circle()
    with pytest.raises(BadInput, match="dan is not a facilitator.*you can ask: ann, bob"):
        net.op("cat", "request.create", circle=CIRCLE, to=["dan"], text="hello")
    with pytest.raises(BadInput, match="yourself"):
        net.op("ann", "request.create", circle=CIRCLE, to=["ann"], text="hello")
    with pytest.raises(BadInput):
        net.op("cat", "request.create", circle=CIRCLE, to=["ann", "bob", "dan"], text="three is too many")


def forge(net: NodeNet, who: str, kind: str, body: dict[str, Any]) -> None:
    """Post as a modified client would: past the ops' and writing.py's checks (monkeypatched away)."""
    circle = circle_of(net, who)
    made = net.nodes[who].registry.post(circle, kind, body, int(net.now))
    net.apply(who, net.nodes[who].handle(Authored(tuple((circle.topic, e) for e in made)), net.now))


def test_a_modified_client_asking_a_member_is_read_by_nobody(monkeypatch):
    """The rule is the epoch's facilitators, judged by every reader: a request that names a member is
    unreadable, even to that member."""
    net = a_circle()
    monkeypatch.setattr(writing, "asks_facilitators", lambda to, facilitators: True)
    forge(net, "cat", "request", {"to": [net.nodes["dan"].registry.me], "about": "conversation", "text": "psst"})
    net.run(SETTLE)
    assert requests_of(net, "dan") == []


def test_a_newly_promoted_facilitator_can_be_asked_at_once():
    net = a_circle()
    net.op("ann", "circle.role", circle=CIRCLE, member="dan", role="facilitator")
    net.run(SETTLE)
    rid = net.op("cat", "request.create", circle=CIRCLE, to=["dan"], about="debrief", text="after last night")[
        "request"]["id"]
    net.run(SETTLE)
    assert [r["id"] for r in requests_of(net, "dan")] == [rid]


def test_nothing_is_kept_after_retention():
    net = a_circle(retention_days=1, others=("cat",))
    rid = net.op("cat", "request.create", circle=CIRCLE, to=["ann"], text="a chat?")["request"]["id"]
    net.run(SETTLE)
    net.op("ann", "request.reply", request=rid, text="yes")
    net.run(SETTLE)
    assert requests_of(net, "ann") and requests_of(net, "cat")
    net.run(DAY + 3600)
    for name in ("ann", "cat"):
        assert requests_of(net, name) == []


def test_the_library_is_written_by_facilitators_and_read_by_members():
    net = a_circle()
    first = net.op("ann", "library.edit", circle=CIRCLE, title="House agreements", text="We listen first.")
    assert first["new"] and first["changed"] and first["note"]["can_edit"]
    net.run(SETTLE)
    listed = net.op("cat", "library.list", circle=CIRCLE)
    assert [n["title"] for n in listed["notes"]] == ["House agreements"] and not listed["can_edit"]
    with pytest.raises(BadInput, match="only facilitators"):
        net.op("cat", "library.edit", circle=CIRCLE, title="House agreements", text="mine now")
    with pytest.raises(BadInput, match="only facilitators"):
        net.op("cat", "library.remove", circle=CIRCLE, note="House agreements")
    edited = net.op("bob", "library.edit", circle=CIRCLE, title="house agreements ",
                    text="We listen first. We ask before advising.")
    assert not edited["new"] and edited["note"]["id"] == first["note"]["id"]
    same = net.op("bob", "library.edit", circle=CIRCLE, title="House agreements",
                  text="We listen first. We ask before advising.")
    assert not same["changed"]
    net.run(SETTLE)
    shown = net.op("dan", "library.show", circle=CIRCLE, note="House agreements")["note"]
    assert shown["text"] == "We listen first. We ask before advising." and shown["edits"] == 1
    assert [v["text"] for v in shown["versions"]] == ["We listen first.", "We listen first. We ask before advising."]
    assert shown["names"][shown["author"]] == "bob"
    net.op("ann", "library.remove", circle=CIRCLE, note=first["note"]["id"][:8])
    net.run(SETTLE)
    assert net.op("dan", "library.list", circle=CIRCLE)["notes"] == []
    with pytest.raises(NotFound):
        net.op("dan", "library.show", circle=CIRCLE, note="House agreements")


def test_starters_are_added_once():
    net = a_circle()
    added = net.op("ann", "library.starters", circle=CIRCLE)["added"]
    assert "Coming off medication" in added
    assert sorted(added) == sorted(n["title"] for n in net.op("ann", "library.list", circle=CIRCLE)["notes"])
    assert net.op("ann", "library.starters", circle=CIRCLE)["added"] == []
    net.run(SETTLE)
    text = net.op("cat", "library.show", circle=CIRCLE, note="coming off medication")["note"]["text"]
    assert "meshcare gives no medical advice" in text and "prescriber" in text
    with pytest.raises(BadInput, match="no starter text"):
        net.op("ann", "library.starters", circle=CIRCLE, titles=["Diagnoses"])


def test_a_members_library_post_from_a_modified_client_counts_for_nothing(monkeypatch):
    net = a_circle()
    monkeypatch.setattr(writing, "LIBRARY_KINDS", frozenset())
    forge(net, "cat", "library_note", {"title": "Rules", "text": "cat's rules"})
    nid = net.op("ann", "library.edit", circle=CIRCLE, title="Rules", text="ours")["note"]["id"]
    net.run(SETTLE)
    forge(net, "cat", "library_remove", {"note": bytes.fromhex(nid)})
    net.run(SETTLE)
    assert [n["text"] for n in net.op("dan", "library.list", circle=CIRCLE)["notes"]] == ["ours"]


def test_the_keepers_node_posts_the_library_again_before_it_expires():
    net = a_circle(retention_days=1, others=("cat",))
    nid = net.op("ann", "library.edit", circle=CIRCLE, title="How we respond", text="Calmly.")["note"]["id"]
    net.run(SETTLE)
    for _ in range(2):                         # two retention periods
        net.run(DAY)
        for name in ("ann", "cat"):
            notes = net.op(name, "library.list", circle=CIRCLE)["notes"]
            assert [(n["id"], n["text"], n["edits"]) for n in notes] == [(nid, "Calmly.", 0)]
    note = net.nodes["cat"].registry.view(circle_of(net, "cat")).library[bytes.fromhex(nid)]
    assert note.current != note.id and note.author == net.nodes["ann"].registry.me      # re-posted by ann's node

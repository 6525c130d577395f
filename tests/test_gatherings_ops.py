"""Gathering ops between real nodes on virtual time (tests/nodenet.py): who sees names and who counts,
who may call a gathering off, the agreements template, reminders at the right moment and once, and
expiry with the circle's retention."""

from __future__ import annotations

from typing import Any

import pytest

from meshcare import vocab
from meshcare.control import api
from meshcare.errors import BadInput

from .test_node_events import SETTLE, Watched, circle

HOUR = 3600


def hexid(net: Watched, name: str) -> str:
    return net.key(name).hex()


def shown(net: Watched, name: str, gathering: str) -> dict[str, Any]:
    out: dict[str, Any] = net.ask(name, "gathering.show", gathering=gathering)["gathering"]
    return out


def reminders(net: Watched, name: str) -> list[dict[str, Any]]:
    return [d for e, d in net.events[name] if e == "gathering.reminder"]


def organise(net: Watched, who: str = "bob", hosts: tuple[str, ...] = ("cat",)) -> str:
    made = net.op(who, "gathering.create", circle="Elm St", title="Tuesday group", when=int(net.now) + 2 * HOUR,
                  where="the back room", hosts=list(hosts), aftercare="ask cat", remind=30)["gathering"]
    net.run(SETTLE)
    return str(made["id"])


def test_names_for_hosts_and_facilitators_counts_for_everyone_else() -> None:
    net, _ = circle("bob", "cat", "dan")
    gid = organise(net)
    g = shown(net, "dan", gid)
    assert g["hosts"] == [hexid(net, "bob"), hexid(net, "cat")] and g["where"] == "the back room"
    assert g["agreements"] == list(vocab.DEFAULT_AGREEMENTS) and g["format"] == list(vocab.DEFAULT_FORMAT)
    net.op("dan", "gathering.rsvp", gathering=gid[:8], answer="maybe")
    net.op("dan", "gathering.rsvp", gathering=gid[:8], answer="yes")        # the latest answer counts
    net.op("ann", "gathering.rsvp", gathering=gid[:8], answer="no")
    net.run(SETTLE)
    for name in ("ann", "bob", "cat"):                  # a facilitator, the organiser, a host
        g = shown(net, name, gid)
        assert g["sees_names"] and {(r["member"], r["answer"]) for r in g["rsvps"]} == {
            (hexid(net, "dan"), "yes"), (hexid(net, "ann"), "no")}
    g = shown(net, "dan", gid)
    assert not g["sees_names"] and g["rsvps"] == [] and g["mine"] == "yes"
    assert g["counts"] == {"yes": 1, "maybe": 0, "no": 1}
    assert set(g["names"]) == {hexid(net, "bob"), hexid(net, "cat")}     # the hosts, no one who answered
    listed = net.ask("dan", "gathering.list")["gatherings"]
    assert [x["id"] for x in listed] == [gid]
    # care.changed told each change to the nodes that read it
    assert any(e == "care.changed" and d["what"] == "gatherings" and d["id"] == gid for e, d in net.events["ann"])


def test_who_may_call_it_off() -> None:
    net, _ = circle("bob", "cat", "dan")
    gid = organise(net)
    with pytest.raises(BadInput, match="organiser, one of its hosts, or a facilitator"):
        net.op("dan", "gathering.cancel", gathering=gid)
    assert shown(net, "dan", gid)["may_cancel"] is False and shown(net, "cat", gid)["may_cancel"] is True
    done = net.op("cat", "gathering.cancel", gathering=gid)["gathering"]
    assert done["cancelled"] and done["cancelled_by"] == hexid(net, "cat")
    net.run(SETTLE)
    assert shown(net, "dan", gid)["cancelled"]
    assert net.ask("dan", "gathering.list")["gatherings"] == []
    assert [g["id"] for g in net.ask("dan", "gathering.list", all=True)["gatherings"]] == [gid]
    with pytest.raises(BadInput, match="called off"):
        net.op("dan", "gathering.rsvp", gathering=gid, answer="yes")
    with pytest.raises(BadInput, match="already called off"):
        net.op("ann", "gathering.cancel", gathering=gid)


def test_the_agreements_template_is_the_facilitators_and_new_gatherings_start_from_it() -> None:
    net, _ = circle("bob")
    shown_ = net.ask("bob", "agreements.show", circle="Elm St")["agreements"]
    assert shown_["default"] is True and shown_["may_edit"] is False
    with pytest.raises(BadInput, match="facilitators"):
        net.op("bob", "agreements.set", circle="Elm St", items=["Be kind"])
    net.op("ann", "agreements.set", circle="Elm St", items=["Anyone may pass", "Be kind"])
    net.run(SETTLE)
    now = net.ask("bob", "agreements.show", circle="Elm St")["agreements"]
    assert now["items"] == ["Anyone may pass", "Be kind"] and now["default"] is False
    made = net.op("bob", "gathering.create", circle="Elm St", title="Walk", kind="walk", when=int(net.now) + HOUR)
    assert made["gathering"]["agreements"] == ["Anyone may pass", "Be kind"]
    assert made["gathering"]["hosts"] == [hexid(net, "bob")]
    own = net.op("bob", "gathering.create", circle="Elm St", title="Meal", kind="meal", when=int(net.now) + HOUR,
                 agreements=["Bring a dish if you can"], format=["eat", "talk"])["gathering"]
    assert own["agreements"] == ["Bring a dish if you can"] and own["format"] == ["eat", "talk"]


def test_times_a_gathering_may_not_have() -> None:
    net, _ = circle("bob", retention_days=7)
    with pytest.raises(BadInput, match="keeps posts for 7 days"):
        net.op("bob", "gathering.create", circle="Elm St", title="Later", when=int(net.now) + 8 * 86_400)
    with pytest.raises(BadInput, match="passed"):
        net.op("bob", "gathering.create", circle="Elm St", title="Before", when=int(net.now) - 2 * HOUR)
    with pytest.raises(BadInput, match="end is before the start"):
        net.op("bob", "gathering.create", circle="Elm St", title="Odd", when=int(net.now) + HOUR,
               ends=int(net.now) + 60)


def test_reminders_come_remind_minutes_before_to_those_coming_and_once() -> None:
    net, _ = circle("bob", "cat", "dan")
    gid = organise(net)                                  # starts in 2 h, reminds 30 min before
    start = shown(net, "bob", gid)["when"]
    net.op("dan", "gathering.rsvp", gathering=gid, answer="yes")
    net.op("ann", "gathering.rsvp", gathering=gid, answer="no")
    net.run(start - 30 * 60 - net.now - 5)
    assert all(reminders(net, n) == [] for n in ("ann", "bob", "cat", "dan"))
    net.run(10)
    for name in ("bob", "cat", "dan"):                   # the organiser and host, and dan who said yes
        (told,) = reminders(net, name)
        assert told["gathering"] == gid and told["when"] == start and told["view"]["title"] == "Tuesday group"
        assert api.read_event("gathering.reminder", told).to_data() == told
    assert reminders(net, "ann") == []                   # said no
    net.run(3 * HOUR)
    assert [len(reminders(net, n)) for n in ("bob", "cat", "dan")] == [1, 1, 1]
    g = shown(net, "dan", gid)
    assert g["started"] and g["over"] and g["aftercare"] == "ask cat"


def test_a_reminder_due_while_a_node_was_off_is_told_when_it_starts_and_not_after_the_start() -> None:
    net, _ = circle("bob")
    gid = organise(net, hosts=())
    start = shown(net, "bob", gid)["when"]
    net.run(start - 10 * 60 - net.now)                   # 20 min into the reminder window
    assert len(reminders(net, "bob")) == 1
    net.restart("bob", ["ann"])
    net.run(SETTLE)
    assert len(reminders(net, "bob")) == 2               # told again after the restart: better than never
    net.run(start - net.now + 60)
    net.restart("bob", ["ann"])
    net.run(SETTLE)
    assert len(reminders(net, "bob")) == 2               # it has started: no reminder any more


def test_gatherings_expire_with_the_circles_retention() -> None:
    net, _ = circle("bob", retention_days=1)
    gid = organise(net, hosts=())
    net.op("ann", "gathering.rsvp", gathering=gid, answer="yes")
    net.run(SETTLE)
    assert net.ask("ann", "gathering.list", all=True)["gatherings"]
    net.run(86_400 + 2 * HOUR)
    for name in ("ann", "bob"):
        assert net.ask(name, "gathering.list", all=True)["gatherings"] == []
    assert any(e == "care.changed" and d["id"] == gid and d["change"] == "gone" for e, d in net.events["bob"])

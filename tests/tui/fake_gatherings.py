"""The fake daemon's gatherings: canned ones and the ``gathering.*`` / ``agreements.*`` ops, answering and
publishing as the real daemon does (an op's answer, then ``care.changed`` naming what changed).
``fakedaemon`` imports this module when it builds its state (it needs the names defined there first)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from meshcare import vocab
from meshcare.control import api
from meshcare.errors import BadInput, NotFound

from .fakedaemon import BEN, CHLOE, DAN, ELM, ME, NAMES, NOW, FakeDaemon, hid


def make_gathering(tag: str, title: str, *, author: str = CHLOE, hosts: tuple[str, ...] = (CHLOE, BEN),
                   at: int = 26 * 3600, where: str = "the back room of the library", mine: str | None = None,
                   rsvps: dict[str, str] | None = None, sees_names: bool = False, kind: str = "group",
                   cancelled: bool = False) -> api.Gathering:
    answers = dict(rsvps if rsvps is not None else {BEN: "yes", DAN: "yes", CHLOE: "maybe"})
    if mine is not None:
        answers[ME] = mine
    counts = {a: sum(1 for x in answers.values() if x == a) for a in vocab.RSVP_ANSWERS}
    when = NOW + at
    return api.Gathering(
        id=hid(tag), circle=ELM, circle_name="Elm St", author=author, title=title, kind=kind, when=when, ends=None,
        where=where, about="", hosts=hosts, agreements=vocab.DEFAULT_AGREEMENTS, format=vocab.DEFAULT_FORMAT,
        aftercare="Text Chloe tonight or tomorrow morning.", remind=60, created=NOW - 86400, cancelled=cancelled,
        cancelled_by=author if cancelled else None, started=NOW >= when, over=NOW >= when + 7200,
        over_at=when + 7200, counts=counts, mine=answers.get(ME), hosting=ME in hosts, sees_names=sees_names,
        may_cancel=ME in hosts or ME == author,
        rsvps=tuple(api.GatheringAnswer(member=m, answer=a, created=NOW - 600) for m, a in answers.items())
        if sees_names else (), names={m: NAMES[m] for m in dict.fromkeys((author, *hosts))})


def standard_gatherings() -> dict[str, api.Gathering]:
    g = make_gathering("tuesday", "Tuesday support group")
    return {g.id: g}


Handler = Callable[[Any], Awaitable[tuple[api.Result, list[api.Event]]]]


def gathering_ops(d: FakeDaemon) -> dict[str, Handler]:
    s = d.state

    def find(ref: str) -> api.Gathering:
        found = [g for g in s.gatherings.values() if g.id.startswith(ref)]
        if len(found) != 1:
            raise NotFound(f"no gathering starts with {ref!r}")
        return found[0]

    def changed(g: api.Gathering, change: str = "updated") -> api.Event:
        s.gatherings[g.id] = g
        return api.CareChangedEvent(circle=g.circle, what="gatherings", id=g.id, change=change)

    async def listing(r: api.GatheringList) -> tuple[api.Result, list[api.Event]]:
        shown = [g for g in s.gatherings.values() if r.all or (not g.cancelled and NOW < g.over_at)]
        return api.GatheringListResult(gatherings=tuple(sorted(shown, key=lambda g: g.when))), []

    async def show(r: api.GatheringShow) -> tuple[api.Result, list[api.Event]]:
        return api.GatheringShowResult(gathering=find(r.gathering)), []

    async def rsvp(r: api.GatheringRsvp) -> tuple[api.Result, list[api.Event]]:
        g = find(r.gathering)
        if g.cancelled:
            raise BadInput("this gathering was called off")
        counts = dict(g.counts)
        if g.mine is not None:
            counts[g.mine] -= 1
        counts[r.answer] += 1
        g = dataclasses.replace(g, mine=r.answer, counts=counts)
        return api.GatheringRsvpResult(id=hid("rsvp" + g.id + r.answer), gathering=g), [changed(g)]

    async def cancel(r: api.GatheringCancel) -> tuple[api.Result, list[api.Event]]:
        g = find(r.gathering)
        if not g.may_cancel:
            raise BadInput("a gathering is called off by its organiser, one of its hosts, or a facilitator")
        g = dataclasses.replace(g, cancelled=True, cancelled_by=s.node_id)
        return api.GatheringCancelResult(id=hid("cancel" + g.id), gathering=g), [changed(g)]

    async def create(r: api.GatheringCreate) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        hosts = (s.node_id, *r.hosts)
        g = dataclasses.replace(
            make_gathering(f"g{len(s.gatherings)}", r.title, author=s.node_id, hosts=hosts, at=r.when - NOW,
                           where=r.where, rsvps={}, sees_names=True, kind=r.kind),
            circle=snap.circle.id, about=r.about, agreements=r.agreements or s.agreements,
            format=r.format or vocab.DEFAULT_FORMAT, aftercare=r.aftercare, remind=r.remind, ends=r.ends)
        return api.GatheringCreateResult(gathering=g), [changed(g, "new")]

    async def agreements_show(r: api.AgreementsShow) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        return api.AgreementsShowResult(agreements=api.Agreements(
            circle=snap.circle.id, circle_name=snap.circle.name, items=s.agreements,
            default=s.agreements == vocab.DEFAULT_AGREEMENTS, may_edit=snap.circle.role == "facilitator")), []

    return {"gathering.list": listing, "gathering.show": show, "gathering.rsvp": rsvp, "gathering.cancel": cancel,
            "gathering.create": create, "agreements.show": agreements_show}

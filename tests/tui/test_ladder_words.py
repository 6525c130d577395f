"""Words about narrowed calls ("who not to involve"): the caller is told their list left everyone out;
others read only that the call is not for everyone, never who was left out."""

from __future__ import annotations

import dataclasses

from meshcare.cli import reach
from meshcare.tui import render
from meshcare.tui.model import Model

from .fakedaemon import BEN, ME, make_call


def test_a_narrowed_call_says_so_without_naming_anyone() -> None:
    model = Model()
    theirs = dataclasses.replace(make_call("theirs", BEN, "hard day"), narrowed=True)
    words = render.who_hears(model, theirs)
    assert words == "everyone in the circle at once; not for everyone: the caller chose who to involve"
    mine = dataclasses.replace(make_call("mine", ME, "hard day"), narrowed=True)
    assert "who not to involve" in render.who_hears(model, mine)
    plain = make_call("plain", BEN, "hard day")
    assert render.who_hears(model, plain) == "everyone in the circle at once"


def test_a_call_that_reaches_nobody_because_of_the_list_says_why() -> None:
    alone = dataclasses.replace(make_call("mine", ME, "hard day"), narrowed=True, audience=0, reached=0,
                                waiting_on=(), received_by=())
    assert "who not to involve" in reach.call_state(alone, 1)
    assert "nobody can read it" in render.call_reach(Model(), alone)

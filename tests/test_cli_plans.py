"""The `plan` commands against real daemons on loopback (static peers, no mDNS): sections written one at a
time, shared on their own with a circle or with whoever has a call, who can read what, the review prompt,
the caller's wishes first in `call show`; usage errors exit 2 and say what to do."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from meshcare import vocab
from meshcare.cli import plans as cli_plans
from meshcare.control.views import OwnShare, PlanParts, Reader
from tests.helpers import wait_real
from tests.test_cli_circles import Node, meshcare, running_circle

pytestmark = pytest.mark.timeout(120)
WORDS = vocab.PLAN_SECTION_WORDS


@pytest.fixture(scope="module")
def oak(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """ann founds "Oak Rd"; bob joins."""
    with running_circle(tmp_path_factory.mktemp("plans"), "ann", "bob", circle="Oak Rd") as (ann, bob):
        yield ann, bob


def test_sections_shared_on_their_own_and_who_can_read_them(oak: tuple[Node, Node]) -> None:
    ann, bob = oak
    plan = bob.json("plan", "edit", "--section", "wishes", "no police", "--section", "when-well", "I cook",
                    "--helps", "tea")["plan"]
    assert set(plan) == set(vocab.PLAN_FIELDS)                        # (--json sorts keys)
    assert {k: v for k, v in plan.items() if v} == {"wishes": "no police", "when_well": "I cook", "helps": "tea"}
    bob.json("plan", "edit", "--section", "practical", "feed the cat", "--section", "when_well", "")
    text = bob.text("plan", "show")
    assert "What helps: tea" in text and "Wishes: no police" in text and "When I'm well" not in text
    assert "Who can read what:\n  What helps: only you\n  Wishes: only you\n  Practical things: only you" in text

    wide = bob.json("plan", "share", "--section", "wishes", "--circle", "Oak Rd")["share"]
    (own,) = bob.json("plan", "show")["shares"]
    assert own["id"] == wide and own["sections"] == ["wishes"] and own["readers"] == []
    assert own["circle_name"] == "Oak Rd" and own["plan"]["helps"] == ""
    assert "  Wishes: everyone in Oak Rd" in bob.text("plan", "show")

    call = bob.json("call", "Oak Rd", "rough night")["call"]["id"]
    wait_real(lambda: call in [c["id"] for c in ann.json("calls")["calls"]], "bob's call at ann")
    ann.json("claim", call[:8])
    wait_real(lambda: bob.json("call", "show", call[:8])["call"]["claimer"] is not None, "ann's claim at bob")
    shared = bob.text("plan", "share", "--section", "helps", "--section", "practical", "--call", call[:8])
    assert "Shared these parts of your support plan (What helps, Practical things) with whoever has" in shared
    text = bob.text("plan", "show")
    assert f"  What helps: shared with ann (call {call[:8]})" in text
    assert f"  Practical things: shared with ann (call {call[:8]})" in text
    assert "  Wishes: everyone in Oak Rd" in text

    # ann, who has the call, reads bob's wishes first, then his plan with its labels
    wait_real(lambda: len(ann.json("call", "show", call[:8])["call"]["plans"]) == 2, "both shares at ann")
    shown = ann.text("call", "show", call[:8]).splitlines()
    assert shown[2:4] == ["bob's wishes (from the support plan):", "  no police"]
    assert "  Practical things: feed the cat" in shown and "  What helps: tea" in shown

    assert bob.json("plan", "retract", wide[:8])["retracted"] == wide
    assert "  Wishes: only you" in bob.text("plan", "show")


def test_the_review_date_prompts_once_it_has_passed(oak: tuple[Node, Node]) -> None:
    _ann, bob = oak
    bob.json("plan", "edit", "--section", "review_by", "2020-01-01")
    assert bob.json("plan", "show")["review_due"] is True
    assert vocab.PLAN_REVIEW_PROMPT in bob.text("plan", "show")
    bob.json("plan", "edit", "--section", "review_by", "9999-12-31")
    assert bob.json("plan", "show")["review_due"] is False
    assert vocab.PLAN_REVIEW_PROMPT not in bob.text("plan", "show")


def test_mistakes_say_what_to_do(oak: tuple[Node, Node]) -> None:
    _ann, bob = oak
    err = bob.fails(2, "plan", "edit", "--section", "mood", "fine")
    assert "there is no section 'mood'; the sections are: when_well, helps" in err
    assert "given twice" in bob.fails(2, "plan", "edit", "--helps", "a", "--section", "helps", "b")
    assert "there is no section 'mood'" in bob.fails(2, "plan", "share", "--section", "mood", "--circle", "Oak Rd")
    assert "YYYY-MM-DD" in bob.fails(1, "plan", "edit", "--section", "review_by", "next spring")
    assert "nothing is written in 'after'" in bob.fails(1, "plan", "share", "--section", "after", "--circle", "Oak Rd")


def test_every_section_is_listed_in_the_help(tmp_path: Path) -> None:
    for command in (("plan", "edit"), ("plan", "share")):
        out = meshcare({**os.environ, "MESHCARE_HOME": str(tmp_path)}, *command, "--help").stdout
        assert all(key in out for key in vocab.PLAN_FIELDS), command


def test_who_can_read_what_in_words() -> None:
    plan = PlanParts(helps="tea", avoid="", contact="", other="", wishes="no police")
    call = OwnShare(id="a" * 64, author="b" * 64, name="bob", to="call", call="c" * 64, plan=plan, created=0,
                    sections=("helps",), circle="d" * 32, readers=(Reader(id="e" * 64, name="ann"),))
    old = OwnShare(id="f" * 64, author="b" * 64, name="bob", to="call", call="c" * 64, plan=plan, created=0,
                   sections=("helps",), circle="d" * 32)                  # made before shares named a reader
    wide = OwnShare(id="0" * 64, author="b" * 64, name="bob", to="circle", call=None, plan=plan, created=0,
                    sections=("wishes",), circle="d" * 32)
    assert cli_plans.share_readers(call) == "shared with ann (call cccccccc)"
    assert cli_plans.share_readers(old) == "shared with whoever had the call (call cccccccc)"
    assert cli_plans.share_readers(wide, {"d" * 32: "Oak Rd"}) == "everyone in Oak Rd"
    assert cli_plans.readers_by_section(plan, [call, wide], {"d" * 32: "Oak Rd"}) == [
        ("helps", "shared with ann (call cccccccc)"), ("wishes", "everyone in Oak Rd")]
    assert cli_plans.readers_by_section(plan, []) == [("helps", "only you"), ("wishes", "only you")]
    assert cli_plans.plan_text(plan) == f"{WORDS['helps']}: tea\n{WORDS['wishes']}: no police"

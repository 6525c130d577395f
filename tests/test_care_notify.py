"""notify_command for the care notices (notify/rules.py): a safety timer gone silent is told, even in
quiet hours and first in a burst; a follow-up due is told; both without content beyond the level asked."""

from __future__ import annotations

from meshcare.control import events as ev
from meshcare.notify.rules import Backlog, Rules, allowed, environment
from meshcare.notify.settings import QuietHours

ME, BEN, ELM, TIMER = "aa" * 32, "bb" * 32, "cc" * 16, "dd" * 32


def notice(kind: str, about: str = TIMER) -> ev.NoticeEvent:
    return ev.NoticeEvent(circle=ELM, circle_name="Elm St", kind=kind, member=BEN, name="Ben\x1b[31m", previous=None,
                          about=about)


def test_a_silent_safety_timer_is_told_even_in_quiet_hours() -> None:
    (note,) = Rules(ME).select(notice("safety_overdue"))
    assert note.summary == "Someone in Elm St has not said \"I'm OK\" in time (safety timer)"
    assert note.urgent and allowed(note, QuietHours(22 * 60, 7 * 60), 23 * 60)
    env = environment(note)
    assert env["MESHCARE_EVENT"] == "safety_overdue" and env["MESHCARE_TIMER"] == TIMER
    assert "MESHCARE_NAME" not in env
    (named,) = Rules(ME, "name").select(notice("safety_overdue"))
    assert "\x1b" not in named.summary and named.summary.startswith("Ben")


def test_a_follow_up_due_is_told_and_waits_in_quiet_hours() -> None:
    (note,) = Rules(ME).select(notice("followup_due", about="ee" * 32))
    assert note.summary == "A follow-up check-in is due in Elm St"
    assert not note.urgent and not allowed(note, QuietHours(22 * 60, 7 * 60), 23 * 60)
    assert environment(note)["MESHCARE_CALL"] == "ee" * 32


def test_other_notices_are_not_told_and_a_safety_alarm_goes_first() -> None:
    assert Rules(ME).select(notice("removed")) == []
    backlog = Backlog(limit=1)
    rules = Rules(ME)
    assert backlog.add(rules.select(notice("followup_due", about="ee" * 32))[0])
    assert backlog.add(rules.select(notice("safety_overdue"))[0])          # takes the ordinary one's place
    taken = backlog.take()
    assert taken is not None and taken[0].event == "safety_overdue"

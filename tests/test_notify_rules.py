"""The notification rules, pure: what is told, in which words, quiet hours, bursts, and the settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshcare import config, vocab
from meshcare.control import events as ev
from meshcare.control import views as v
from meshcare.errors import ConfigError
from meshcare.notify import rules as r
from meshcare.notify.settings import (DAY_MINUTES, NotifySettings, QuietHours, from_mapping, parse_command,
                                      parse_quiet_hours)

ME, BO, ANN = "aa" * 32, "bb" * 32, "cc" * 32
CIRCLE = "0f" * 16
NOW = 1_800_000_000


def call(**changes: Any) -> v.Call:
    base = v.Call(id="11" * 32, caller=BO, text="my flat flooded, I can't cope", urgency="now", needs=("company",),
                  reach=None, consent=(), consent_note=None, created=NOW, status="open", claimer=None,
                  claimed_at=None, also_claimed=(), offers=(), accepted=(), updates=(), resolved_by=None,
                  resolved_at=None, followup_at=None, step=0, received_by=(), ladder=(), checkins=(),
                  names={BO: "Bo", ME: "me"}, circle=CIRCLE, circle_name="Elm St", audience=3, reached=1,
                  waiting_on=(), mine=False, claimed_too=False, plans=())
    return dataclasses.replace(base, **changes)


def new_call(change: str = "new", **changes: Any) -> ev.CallChangedEvent:
    view = call(**changes)
    return ev.CallChangedEvent(circle=CIRCLE, call=view.id, change=change, parts=(), view=view)


def reply(member: str = BO, option: str = vocab.SUGGEST_CALL_OPTION, ident: str = "22" * 32,
          readable: bool = True) -> v.Reply:
    index = vocab.DEFAULT_OPTIONS.index(option)
    return v.Reply(id=ident, member=member, option=index if readable else None,
                   option_text=option if readable else None, text="rough week", created=NOW, late=False,
                   suggest_call=readable and option == vocab.SUGGEST_CALL_OPTION)


def checkin_event(*replies: v.Reply, change: str = "reply", members: tuple[str, ...] | None = None,
                  circle_name: str = "Elm St") -> ev.CheckinChangedEvent:
    view = v.Checkin(id="33" * 32, author=ME, prompt="How are you?", options=vocab.DEFAULT_OPTIONS,
                     visibility="facilitators", call=None, closes_at=None, created=NOW, replies=replies,
                     tally={}, answered=len(replies), not_answered=(), names={BO: "Bo", ANN: "Ann", ME: "me"},
                     circle=CIRCLE, circle_name=circle_name)
    return ev.CheckinChangedEvent(circle=CIRCLE, checkin=view.id, change=change,
                                  members=tuple(x.member for x in replies) if members is None else members, view=view)


# --- what is told ---------------------------------------------------------------------------------

def test_a_new_call_is_told_once_with_the_hidden_summary_by_default() -> None:
    rules = r.Rules(ME)
    [note] = rules.select(new_call())
    assert note.summary == "New call in Elm St (now)"
    assert note.event == "call" and note.urgency == "now" and note.circle == "Elm St" and note.urgent
    assert note.name is None and note.text is None
    env = r.environment(note)
    assert env == {"MESHCARE_EVENT": "call", "MESHCARE_CIRCLE": "Elm St", "MESHCARE_CIRCLE_ID": CIRCLE,
                   "MESHCARE_URGENCY": "now", "MESHCARE_SUMMARY": "New call in Elm St (now)",
                   "MESHCARE_DROPPED": "0", "MESHCARE_CALL": "11" * 32}
    assert not any("Bo" in value or "flood" in value for value in env.values())
    assert rules.select(new_call()) == []                       # the same call again: told already
    assert rules.select(new_call(change="updated")) == []


@pytest.mark.parametrize("changes", [{"mine": True}, {"caller": ME}, {"status": "claimed", "claimer": ANN},
                                     {"status": "resolved"}, {"busy": True}])
def test_own_taken_and_finished_calls_are_not_told(changes: dict[str, Any]) -> None:
    assert r.Rules(ME).select(new_call(**changes)) == []


def test_a_gone_call_and_other_events_are_not_told() -> None:
    rules = r.Rules(ME)
    assert rules.select(ev.CallChangedEvent(circle=CIRCLE, call="11" * 32, change="new", parts=(), view=None)) == []
    assert rules.select(ev.PeerEvent(address="127.0.0.1:1", node_id=BO, linked=True)) == []
    assert rules.select(ev.SyncEvent(circle=CIRCLE, state="caught_up")) == []


def test_the_urgency_words_are_the_vocabularys() -> None:
    [note] = r.Rules(ME).select(new_call(urgency="whenever"))
    assert note.summary == "New call in Elm St (whenever someone can)" and not note.urgent


def test_content_levels_add_who_and_then_what() -> None:
    [named] = r.Rules(ME, "name").select(new_call())
    assert named.summary == "New call from Bo in Elm St (now)" and named.name == "Bo" and named.text is None
    assert r.environment(named)["MESHCARE_NAME"] == "Bo" and "MESHCARE_TEXT" not in r.environment(named)
    [full] = r.Rules(ME, "full").select(new_call())
    assert full.summary == "New call from Bo in Elm St (now): my flat flooded, I can't cope"
    assert r.environment(full)["MESHCARE_TEXT"] == "my flat flooded, I can't cope"


def test_peer_text_is_one_line_escaped_and_bounded() -> None:
    hostile = call(circle_name="Elm\x1b]0;pwned\x07 St\u202e", text="line one\nline two\r\x1b[2J" + "x" * 500,
                   names={BO: "B\no\x1b[31m"})
    [note] = r.Rules(ME, "full").select(ev.CallChangedEvent(circle=CIRCLE, call=hostile.id, change="new", parts=(),
                                                            view=hostile))
    for value in r.environment(note).values():
        assert "\x1b" not in value and "\n" not in value and "\r" not in value and "\u202e" not in value
        assert "\x07" not in value
    assert note.circle == "Elm\\x1b]0;pwned\\x07 St\\u202e"
    assert note.name == "B o\\x1b[31m"
    assert note.text is not None and note.text.startswith("line one line two \\x1b[2J")
    assert len(note.text) < r.TEXT_LIMIT + 40 and note.text.endswith("chars)")


def test_a_need_support_reply_is_told_to_who_can_read_it_but_not_other_answers() -> None:
    rules = r.Rules(ME)
    [note] = rules.select(checkin_event(reply()))
    assert note.event == "checkin_reply" and note.urgency == "" and not note.urgent
    assert note.summary == 'Someone in Elm St answered "need support now" to a check-in'
    env = r.environment(note)
    assert env["MESHCARE_CHECKIN"] == "33" * 32 and "MESHCARE_CALL" not in env and "MESHCARE_NAME" not in env
    assert rules.select(checkin_event(reply())) == []                            # the same reply: told already
    assert rules.select(checkin_event(reply(option="doing OK", ident="44" * 32))) == []
    assert rules.select(checkin_event(reply(readable=False, ident="55" * 32))) == []   # not a facilitator here
    assert rules.select(checkin_event(reply(member=ME, ident="66" * 32))) == []        # this person's own answer


def test_only_the_members_a_reply_event_names_are_told_and_a_new_checkin_tells_all() -> None:
    old, fresh = reply(member=ANN, ident="77" * 32), reply(member=BO, ident="88" * 32)
    notes = r.Rules(ME, "name").select(checkin_event(old, fresh, members=(BO,)))
    assert [n.name for n in notes] == ["Bo"]
    assert notes[0].summary == 'Bo in Elm St answered "need support now" to a check-in'
    assert len(r.Rules(ME).select(checkin_event(old, fresh, change="new", members=()))) == 2
    assert r.Rules(ME).select(checkin_event(old, fresh, change="tally")) == []
    [full] = r.Rules(ME, "full").select(checkin_event(fresh))
    assert full.summary.endswith("to a check-in: rough week") and r.environment(full)["MESHCARE_TEXT"] == "rough week"


def test_rules_remember_a_bounded_number_of_ids() -> None:
    rules = r.Rules(ME, remember=3)
    for n in range(5):
        assert rules.select(new_call(id=f"{n:064x}"))
    assert rules.select(new_call(id=f"{4:064x}")) == []
    assert rules.select(new_call(id=f"{0:064x}"))               # forgotten: a restart-like state, told again


# --- quiet hours ----------------------------------------------------------------------------------

def minute(hh: int, mm: int = 0) -> int:
    return hh * 60 + mm


def test_quiet_hours_wrap_midnight_with_the_start_in_and_the_end_out() -> None:
    night = parse_quiet_hours("23:00-07:00")
    assert str(night) == "23:00-07:00"
    assert night.covers(minute(23)) and night.covers(minute(0)) and night.covers(minute(6, 59))
    assert not night.covers(minute(7)) and not night.covers(minute(22, 59)) and not night.covers(minute(12))
    day = parse_quiet_hours(" 9:30 - 17:00 ")
    assert (day.start, day.end) == (minute(9, 30), minute(17))
    assert day.covers(minute(9, 30)) and not day.covers(minute(17)) and not day.covers(minute(9, 29))
    assert parse_quiet_hours("22:00-24:00").covers(minute(23, 59)) and not parse_quiet_hours("22:00-24:00").covers(0)


def test_quiet_hours_hold_back_all_but_calls_marked_now() -> None:
    night = QuietHours(minute(23), minute(7))
    rules = r.Rules(ME)
    [now_call] = rules.select(new_call())
    [today_call] = rules.select(new_call(id="99" * 32, urgency="today"))
    [answer] = rules.select(checkin_event(reply()))
    assert r.allowed(now_call, night, minute(3))
    assert not r.allowed(today_call, night, minute(3)) and not r.allowed(answer, night, minute(3))
    assert r.allowed(today_call, night, minute(12)) and r.allowed(answer, None, minute(3))


clock = st.integers(0, DAY_MINUTES - 1)


@given(clock, clock, clock)
def test_quiet_hours_cover_exactly_the_minutes_from_start_to_end(start: int, end: int, at: int) -> None:
    if start == end:
        return
    span = QuietHours(start, end)
    minutes = {(start + i) % DAY_MINUTES for i in range((end - start) % DAY_MINUTES)}
    assert span.covers(at) == (at in minutes)
    assert span.covers(at + DAY_MINUTES) == span.covers(at)      # any day's minute
    text = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    assert parse_quiet_hours(text) == span and str(span) == text


@given(clock, clock, clock, st.sampled_from(vocab.URGENCIES))
def test_a_now_call_is_allowed_at_any_time_in_any_quiet_hours(start: int, end: int, at: int, urgency: str) -> None:
    if start == end:
        return
    note = r.Notification("call", "Elm St", CIRCLE, urgency, "New call", "11" * 32)
    quiet = QuietHours(start, end)
    assert r.allowed(note, quiet, at) == (urgency == "now" or not quiet.covers(at))


@pytest.mark.parametrize("text, match", [
    ("23:00", "start and an end"), ("23-07", "HH:MM"), ("25:00-07:00", "hours go"), ("23:60-07:00", "minutes"),
    ("07:00-07:00", "same time"), ("24:30-01:00", "hours go"), ("noon-07:00", "HH:MM"),
])
def test_bad_quiet_hours_say_what_to_write(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_quiet_hours(text)


# --- bursts ---------------------------------------------------------------------------------------

def note(n: int, urgency: str = "today") -> r.Notification:
    return r.Notification("call", "Elm St", CIRCLE, urgency, f"call {n}", f"{n:064x}")


def test_a_burst_is_bounded_dropped_and_counted_and_the_next_one_says_how_many() -> None:
    backlog = r.Backlog(limit=4)
    added = [backlog.add(note(n)) for n in range(500)]
    assert added.count(True) == 4 and len(backlog) == 4 and backlog.dropped == 496
    first = backlog.take()
    assert first is not None and first[0].summary == "call 0" and first[1] == 496
    assert r.summary_of(first[0], first[1]) == "call 0 (and 496 more)"
    assert r.environment(first[0], first[1])["MESHCARE_DROPPED"] == "496"
    second = backlog.take()
    assert second is not None and second[1] == 0


def test_a_now_call_takes_the_place_of_an_ordinary_one_and_runs_first() -> None:
    backlog = r.Backlog(limit=3)
    for n in range(3):
        backlog.add(note(n))
    assert backlog.add(note(10, "now"))
    assert [w.summary for w in backlog.waiting] == ["call 0", "call 1", "call 10"] and backlog.dropped == 1
    taken = backlog.take()
    assert taken is not None and taken[0].summary == "call 10"
    for n in range(11, 14):
        backlog.add(note(n, "now"))
    assert all(w.urgent for w in backlog.waiting) and not backlog.add(note(20, "now"))
    while backlog.take() is not None:
        pass
    assert len(backlog) == 0 and backlog.take() is None


# --- settings -------------------------------------------------------------------------------------

def test_settings_from_config_toml(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('notify_command = "~/bin/led --blink \'two words\'"\n'
                                          'notify_content = "Name"\nquiet_hours = "23:00-07:00"\n'
                                          'notify_timeout = 3\n')
    s = config.load(tmp_path).notify
    assert s.command == (str(Path.home() / "bin/led"), "--blink", "two words") and s.enabled
    assert s.content == "name" and s.quiet_hours == QuietHours(23 * 60, 7 * 60) and s.timeout == 3.0
    assert config.load(tmp_path / "none").notify == NotifySettings() and not NotifySettings().enabled
    assert from_mapping({"notify_command": ["aplay", "-q", "bell wav"]}).command == ("aplay", "-q", "bell wav")


@pytest.mark.parametrize("text, match", [
    ('notify_command = ""', "empty"), ("notify_command = 3", "string"), ('notify_command = ["a", 1]', "list"),
    ("notify_command = \"led 'open\"", "quotes"), ('notify_content = "everything"', "hidden"),
    ('quiet_hours = "late"', "quiet_hours"), ("quiet_hours = 23", "string"), ("notify_timeout = 0", "notify_timeout"),
    ("notify_timeout = 1000", "at most 300"), ("notify_timeout = true", "notify_timeout"),
    ('notify_sound = "x"', "unknown setting"),
])
def test_bad_notification_settings_name_the_key(tmp_path: Path, text: str, match: str) -> None:
    (tmp_path / "config.toml").write_text(text + "\n")
    with pytest.raises(ConfigError, match=match) as raised:
        config.load(tmp_path)
    assert str(raised.value).startswith("config.toml:")


def test_a_command_list_is_taken_as_it_is() -> None:
    assert parse_command(["/usr/bin/env", "$HOME", "a;b"]) == ("/usr/bin/env", "$HOME", "a;b")
    with pytest.raises(ConfigError, match="NUL"):
        parse_command(["led", "a\0b"])


def test_a_gathering_reminder_is_told_once_and_shows_its_title_only_in_full() -> None:
    from meshcare.control.views_gatherings import Gathering

    g = Gathering(id="22" * 32, circle=CIRCLE, circle_name="Elm St", author=BO, title="Tuesday group", kind="group",
                  when=NOW + 1800, ends=None, where="the back room", about="", hosts=(BO,), agreements=(), format=(),
                  aftercare="", remind=30, created=NOW, cancelled=False, cancelled_by=None, started=False,
                  over=False, over_at=NOW + 9000, counts={"yes": 1, "maybe": 0, "no": 0}, mine="yes", hosting=False,
                  sees_names=False,
                  may_cancel=False, rsvps=(), names={BO: "Bo"})
    event = ev.GatheringReminderEvent(circle=CIRCLE, gathering=g.id, when=g.when, view=g)
    rules = r.Rules(ME)
    (note,) = rules.select(event)
    assert note.summary == "A gathering in Elm St starts in 30 min" and note.event == r.EVENT_GATHERING
    assert "the back room" not in str(r.environment(note)) and r.environment(note)["MESHCARE_GATHERING"] == g.id
    assert rules.select(event) == []
    (full,) = r.Rules(ME, "full").select(event)
    assert full.summary.endswith(": Tuesday group")
    assert r.Rules(ME).select(dataclasses.replace(event, view=dataclasses.replace(g, cancelled=True))) == []

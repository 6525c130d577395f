"""The words the UI shows: relative times, reach, names, the status line, and escaping of peers' text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.content import Content

from meshcare.errors import BadInput
from meshcare.tui import format as fmt

NOW = 1_760_000_000


@pytest.mark.parametrize(("delta", "words"), [
    (0, "just now"), (59, "just now"), (-30, "just now"), (60, "1 min ago"), (150, "2 min ago"),
    (3599, "59 min ago"), (3600, "1 h ago"), (3 * 3600 + 100, "3 h ago"), (47 * 3600, "47 h ago"),
    (3 * 86400, "3 days ago"), (-600, "in 10 min"), (-3 * 3600, "in 3 h"),
])
def test_relative_times(delta: int, words: str) -> None:
    assert fmt.ago(NOW - delta, NOW) == words


def test_until_and_none() -> None:
    assert fmt.until(NOW + 3 * 3600, NOW) == "in 3 h"
    assert fmt.until(NOW - 5, NOW) == "now"
    assert fmt.until(None, NOW) == fmt.ago(None, NOW) == ""


@pytest.mark.parametrize(("reached", "audience", "linked", "words"), [
    (2, 5, 1, "reached 2 of 5"),
    (5, 5, 0, "reached 5 of 5"),
    (0, 5, 2, "on its way"),
    (0, 5, 0, "not linked to anyone yet: it will go when a neighbour is reachable"),
    (0, 0, 0, "nobody else is in the circle yet"),
    (9, 5, 1, "reached 5 of 5"),
])
def test_reach_is_told_honestly(reached: int, audience: int, linked: int, words: str) -> None:
    assert fmt.reach_words(reached, audience, linked) == words


PEOPLE = {"a1" * 32: "Ben Okafor", "b2" * 32: "Chloe Hart", "c3" * 32: "Benedikt", "d4" * 32: "Dan",
          "e5" * 32: "Mary-Ann Chloe"}


@pytest.mark.parametrize(("query", "expect"), [
    ("dan", ["d4" * 32]), ("DAN", ["d4" * 32]), ("okafor", ["a1" * 32]), ("hart", ["b2" * 32]),
    ("ben o", ["a1" * 32]), ("bened", ["c3" * 32]), ("ann", ["e5" * 32]), ("a1a1", ["a1" * 32]),
    ("ben", ["a1" * 32, "c3" * 32]), ("chloe", ["b2" * 32, "e5" * 32]), ("zed", []), ("", []),
])
def test_names_match_by_a_unique_prefix_of_any_word(query: str, expect: list[str]) -> None:
    assert sorted(fmt.matches(query, PEOPLE)) == sorted(expect)


def test_an_exact_name_wins_over_prefixes() -> None:
    people = {"1" * 64: "Ben", "2" * 64: "Benjamin"}
    assert fmt.match_one("ben", people) == "1" * 64


def test_match_one_says_nobody_or_who() -> None:
    assert fmt.match_one("hart", PEOPLE) == "b2" * 32
    with pytest.raises(BadInput, match="no person called 'zed'"):
        fmt.match_one("zed", PEOPLE)
    with pytest.raises(BadInput, match="Ben Okafor, Benedikt: type more"):
        fmt.match_one("ben", PEOPLE)


def test_status_line_words() -> None:
    assert fmt.status_line(2, ["caught_up", "catching_up"], "connected") == \
        "● linked to 2 neighbours · catching up · daemon: connected"
    assert fmt.status_line(1, ["caught_up"], "connected") == \
        "● linked to 1 neighbour · caught up · daemon: connected"
    assert fmt.status_line(0, [], "reconnecting", fmt.ASCII) == "o not linked | daemon: reconnecting..."


def test_the_linux_console_gets_ascii_glyphs() -> None:
    assert fmt.glyphs_for("linux") is fmt.ASCII
    assert fmt.glyphs_for("xterm-256color") is fmt.UNICODE
    assert fmt.glyphs_for(None) is fmt.UNICODE


def test_call_words() -> None:
    me, ben = "a" * 64, "b" * 64
    names = {ben: "Ben"}
    assert fmt.call_status("open", None, None, names, me) == "needs someone"
    assert fmt.call_status("claimed", ben, None, names, me) == "Ben has it"
    assert fmt.call_status("claimed", me, None, names, me) == "you have it"
    assert fmt.call_status("resolved", None, ben, names, me) == "resolved by Ben"
    assert fmt.name_of("c" * 64, names) == "someone (cccccccc)"
    assert fmt.names_list([ben, me, "c" * 64], names, me) == "Ben, you and someone (cccccccc)"
    assert fmt.urgency_label("now") == "! NOW" and fmt.urgency_words("whenever") == "whenever someone can"
    assert fmt.needs_words(("listen", "ride")) == "someone to listen, a ride"
    assert fmt.wishes_words(("no_police",), "[b]no sirens") == ["please do not involve the police",
                                                                "\\[b]no sirens"]
    assert fmt.offer_words("come_over") == "I can come over"
    assert fmt.presence_words("available", NOW + 7200, NOW) == "available for 2 h more"
    assert fmt.presence_words("available", None, NOW, full=True) == "available, at their limit"
    assert fmt.presence_words("unknown", None, NOW) == "availability unknown"


@pytest.mark.parametrize("hostile", [
    "[b]Ben[/b]", "[$accent]x", "[@click=app.quit]q[/]", "[ b ]", "\\", "x\\", "a\\[b]", "[[x]]",
    "\x1b[31mred\x1b[0m", "\u202egnp.exe", "ok\r\nforged", "\x00nul",
])
def test_a_peer_string_can_neither_style_nor_drive_the_screen(hostile: str) -> None:
    markup = f"[b]Name:[/b] [i]{fmt.safe(hostile)}[/i] tail"
    content = Content.from_markup(markup)
    assert [s.style for s in content.spans] == ["b", "i"]   # only our own tags, both closed where we closed them
    assert "\x1b" not in content.plain and "\u202e" not in content.plain and "\r" not in content.plain
    assert content.plain.startswith("Name: ") and content.plain.endswith(" tail")


@given(st.text(max_size=80))
def test_escaping_keeps_every_printable_character_and_adds_no_style(text: str) -> None:
    content = Content.from_markup("[i]" + fmt.safe(text) + "[/i]")
    assert [s.style for s in content.spans] in ([], ["i"])
    shown = content.plain.rstrip(" ")
    assert all(ch in shown for ch in text if ch.isprintable() and ch not in "\\ ")


def test_safe_cuts_long_text() -> None:
    assert fmt.safe("abcdefghij", 5) == "abcd…"
    assert fmt.one_line("first line\nsecond", 40) == "first line …"


# --- added with the user guide's gaps: fingerprints, times a person picks, calls kept to a few ---------------


def test_a_fingerprint_is_lines_of_six_groups() -> None:
    twelve = " ".join(f"{i:05d}" for i in range(12))
    assert fmt.fingerprint_lines(twelve) == ["00000 00001 00002 00003 00004 00005",
                                             "00006 00007 00008 00009 00010 00011"]
    assert fmt.fingerprint_lines("0123 4567 8901") == ["0123 4567 8901"]
    assert fmt.fingerprint_lines("[b]x") == ["\\[b]x"]


def test_availability_choices_are_times_a_person_says() -> None:
    from datetime import datetime, timezone

    utc = timezone.utc
    morning = datetime(2025, 10, 9, 9, 30, tzinfo=utc).timestamp()
    choices = fmt.availability_choices(morning, utc)
    assert [words for words, _ in choices] == ["for 1 hour", "for 3 hours", "until 23:00 tonight",
                                               "until tomorrow morning, 08:00"]
    assert choices[2][1] == datetime(2025, 10, 9, 23, tzinfo=utc).timestamp()
    assert choices[3][1] == datetime(2025, 10, 10, 8, tzinfo=utc).timestamp()
    late = datetime(2025, 10, 9, 22, 30, tzinfo=utc).timestamp()   # "tonight" is less than an hour away
    assert "until 23:00 tonight" not in [w for w, _ in fmt.availability_choices(late, utc)]
    night = datetime(2025, 10, 10, 2, 0, tzinfo=utc).timestamp()   # still night: this morning, not tomorrow's
    assert fmt.availability_choices(night, utc)[-1] == ("until the morning, 08:00",
                                                        datetime(2025, 10, 10, 8, tzinfo=utc).timestamp())


def test_clock_words_say_today_tomorrow_or_the_day() -> None:
    from datetime import datetime, timezone

    utc = timezone.utc
    now = datetime(2025, 10, 9, 9, 30, tzinfo=utc).timestamp()
    assert fmt.clock_words(datetime(2025, 10, 9, 23, tzinfo=utc).timestamp(), now, utc) == "23:00"
    assert fmt.clock_words(datetime(2025, 10, 10, 8, tzinfo=utc).timestamp(), now, utc) == "tomorrow 08:00"
    assert fmt.clock_words(datetime(2025, 10, 13, 8, tzinfo=utc).timestamp(), now, utc) == "Mon 13 Oct 08:00"


def test_a_call_kept_to_a_few_that_reaches_nobody_does_not_blame_the_circle() -> None:
    assert fmt.reach_words(0, 0, 1) == "nobody else is in the circle yet"
    assert fmt.reach_words(0, 0, 1, narrow=True) == fmt.NOBODY_TO_READ
    assert fmt.reach_words(1, 2, 1, narrow=True) == "reached 1 of 2"

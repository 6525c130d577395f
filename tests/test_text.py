"""Text from others: control characters never survive ``clean``, and escaping output is total."""

from hypothesis import given
from hypothesis import strategies as st

from meshcare.text import LOG_LIMIT, clean, for_log, for_terminal
from meshcare import text as text_module


def _has_control(s: str, allow_newline: bool) -> bool:
    import unicodedata
    for ch in s:
        if ch == "\n" and allow_newline:
            continue
        if unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn", "Zl", "Zp"} or ch in "\u202e\u2066\u200f":
            return True
    return False


def test_clean_drops_escape_sequences_and_carriage_returns() -> None:
    assert clean("come\x1b]0;owned\x07 over\r now", 100) == "come]0;owned over now"
    assert clean("a\u202ebc", 100) == "abc"
    assert clean("one\n\n\n\ntwo", 100) == "one\n\ntwo"
    assert clean("one\ntwo", 100, multiline=False) == "one two"
    assert clean("x" * 500, 10) == "x" * 10


@given(st.text(), st.integers(min_value=1, max_value=300), st.booleans())
def test_clean_is_safe_bounded_and_idempotent(text: str, limit: int, multiline: bool) -> None:
    out = clean(text, limit, multiline=multiline)
    assert len(out) <= limit
    assert not _has_control(out, allow_newline=multiline)
    assert clean(out, limit, multiline=multiline) == out


@given(st.text())
def test_for_terminal_and_for_log_leave_no_control_character(text: str) -> None:
    assert not _has_control(for_terminal(text), allow_newline=True)
    line = for_log(text)
    assert not _has_control(line, allow_newline=False)
    assert len(line) <= LOG_LIMIT + 30


def test_for_log_says_how_much_was_cut() -> None:
    assert for_log("a" * 200_000).endswith("…(+199800 chars)")
    assert for_log("forged\nINFO root: all good") == "forged\\x0aINFO root: all good"


@given(st.text() | st.text(st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["plain words", "caf\u00e9 \u2014 ok", "a\u00a0b", "zero\u200dwidth", "emoji \U0001f91d", "x" * 301]),
       st.integers(min_value=1, max_value=300), st.booleans())
def test_the_fast_path_of_clean_answers_what_the_character_walk_does(text: str, limit: int, multiline: bool) -> None:
    """``clean`` returns printable text as it is; that shortcut must never keep what the walk drops."""
    assert clean(text, limit, multiline=multiline) == text_module._clean_each(text, limit, multiline)

"""tmux control mode (``tmux -C``), read line by line: command replies and pane output. Pure.

Why control mode: the benchmark reads the screen many times per call, and each ``tmux capture-pane``
run as its own command forks and execs a tmux client (a few ms of CPU on this machine, competing with
the TUI for the two cores). One control-mode client, attached once, answers each ``capture-pane`` on
its stdin with a ``%begin ... %end`` block, and also says ``%output`` whenever the pane's program
wrote to its terminal: the benchmark captures again as soon as the TUI drew something, instead of
waiting for the next poll, and counts what the TUI writes while idle.

The protocol (tmux(1), CONTROL MODE): a reply is ``%begin TIME NUMBER FLAGS``, the output lines, then
``%end TIME NUMBER FLAGS`` (or ``%error``) with the same number; notifications (``%output %PANE
VALUE``, ``%exit``, ...) never come inside a block. ``VALUE`` escapes non-printable bytes and the
backslash as ``\\ooo`` (octal).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReplyBlock:
    """One command's answer: its lines (a screen for ``capture-pane -p``), and whether tmux said %error."""

    number: str
    lines: tuple[str, ...]
    error: bool


@dataclass(frozen=True, slots=True)
class PaneOutput:
    """The pane's program wrote ``size`` bytes to its terminal."""

    pane: str
    size: int


@dataclass(frozen=True, slots=True)
class ClientExit:
    """The control client is going away (the server ended, or the session is gone)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Attached:
    """``%session-changed``: the client's attach is done. Its own reply block comes before this; a
    command sent earlier may be answered before or after that block, so a client sends its first
    command only after this."""

    session: str


Message = ReplyBlock | PaneOutput | ClientExit | Attached


def unescaped_size(value: str) -> int:
    """How many bytes an ``%output`` value stands for: each ``\\ooo`` escape is one byte, every other
    character its UTF-8 length (tmux passes printable UTF-8 through as it is)."""
    size, i = 0, 0
    while i < len(value):
        escape = value[i + 1:i + 4]
        if value[i] == "\\" and len(escape) == 3 and escape.isdigit():
            size += 1
            i += 4
        else:
            size += len(value[i].encode("utf-8", "surrogateescape"))
            i += 1
    return size


class Parser:
    """Turns the control client's stdout lines into messages (``feed`` one line, without its newline)."""

    def __init__(self) -> None:
        self._number: str | None = None
        self._lines: list[str] = []

    def feed(self, line: str) -> Message | None:
        """The message this line completes, or None (a line inside a block, or a notification the
        benchmark does not use)."""
        if self._number is not None:
            words = line.split(" ")
            if len(words) == 4 and words[0] in ("%end", "%error") and words[2] == self._number:
                block = ReplyBlock(self._number, tuple(self._lines), words[0] == "%error")
                self._number, self._lines = None, []
                return block
            self._lines.append(line)
            return None
        if line.startswith("%begin "):
            words = line.split(" ")
            self._number = words[2] if len(words) >= 3 else ""
            return None
        if line.startswith("%output "):
            _, pane, *rest = line.split(" ", 2)
            return PaneOutput(pane, unescaped_size(rest[0]) if rest else 0)
        if line.startswith("%session-changed "):
            return Attached(line.split(" ", 2)[-1])
        if line == "%exit" or line.startswith("%exit "):
            return ClientExit(line[6:].strip())
        return None

"""The shapes a control record's field may have: how a value is checked, written and described.

``schema`` explains the whole scheme; this module holds the shapes themselves. Each ``Shape`` checks a
value from outside (``check``: BadInput naming the field as a person would), writes it back as plain
data (``dump``), and describes itself for docs/control.md (``describe``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ..errors import BadInput

if TYPE_CHECKING:
    from .schema import Record

#: Deepest nesting ``Plain`` data may have (the control protocol's own limit).
PLAIN_DEPTH: Final = 32


def kind_of(value: object) -> str:
    """What a value is, in words, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (bytes, bytearray)):
        return "bytes"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a map"
    return type(value).__name__


def _span(lo: int | float | None, hi: int | float | None, unit: str = "") -> str:
    tail = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        return f"{lo} to {hi}{tail}"
    if hi is not None:
        return f"at most {hi}{tail}"
    if lo is not None:
        return f"{lo} or more{tail}"
    return "any" + tail


class Shape:
    """How one field's value looks. Subclasses check, write and describe it."""

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        """The value as the record keeps it. Raises BadInput naming ``noun`` (the field, already placed
        ``in where``); ``where`` is the record the field sits in (None: at the top), for the items of a
        sequence to say where they are."""
        raise NotImplementedError

    def dump(self, value: Any) -> Any:
        """The value as plain data (the inverse of ``check`` on what ``check`` returned)."""
        return value

    def describe(self) -> str:
        """The type in words, for docs/control.md (markdown, no ``|``)."""
        raise NotImplementedError

    def takes(self, value: object) -> bool:
        """True if ``value`` is of the kind this shape reads (used by ``Either`` to pick a branch)."""
        return True

    def word(self) -> str:
        """The kind of value, in two words ("a number", "text"), for ``Either``'s message."""
        return "a value"


@dataclass(frozen=True)
class Text(Shape):
    """Text. ``lo``: fewest characters besides surrounding whitespace (1: must not be blank);
    ``hi``: most characters (counted after stripping surrounding whitespace when ``strip``, as the
    daemon does for names and references); ``hint``: where to find a valid value, added to the message
    when the text is empty or too short."""

    lo: int = 0
    hi: int | None = None
    strip: bool = False
    hint: str = ""

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        if not isinstance(value, str):
            raise BadInput(f"{noun} must be text, not {kind_of(value)}")
        size = len(value.strip() if self.strip else value)
        if self.hi is not None and size > self.hi:
            raise BadInput(f"{noun} is {size} characters long; at most {self.hi} fit")
        solid = len(value.strip())
        if solid < self.lo:
            problem = (f"{noun} is empty" if solid == 0 else
                       f"{noun} is too short: at least {self.lo} characters, not {solid}")
            raise BadInput(f"{problem} ({self.hint})" if self.hint else problem)
        return value

    def describe(self) -> str:
        if self.lo == 0 and self.hi is None:
            return "text"
        if self.hi is None:
            return "text, not empty" if self.lo == 1 else f"text, at least {self.lo} characters"
        return f"text, {_span(self.lo or None, self.hi, 'characters')}"

    def takes(self, value: object) -> bool:
        return isinstance(value, str)

    def word(self) -> str:
        return "text"


@dataclass(frozen=True)
class MemberRef(Text):
    """A member named by name or the start of their id; a 32-byte id is also taken (as its hex)."""

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        if isinstance(value, bytes):
            if len(value) != 32:
                raise BadInput(f"{noun} must be a name, the start of an id, or a 32-byte id, "
                               f"not {len(value)} bytes")
            return value.hex()
        if not isinstance(value, str):
            raise BadInput(f"{noun} must be a name or the start of an id, not {kind_of(value)}")
        return super().check(value, noun, where)

    def describe(self) -> str:
        return f"member: name or start of id ({super().describe()})"

    def takes(self, value: object) -> bool:
        return isinstance(value, (str, bytes))


@dataclass(frozen=True)
class Int(Shape):
    """A whole number (never true/false) from ``lo`` to ``hi``."""

    lo: int | None = 0
    hi: int | None = None

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        if type(value) is not int:
            raise BadInput(f"{noun} must be a whole number, not {kind_of(value)}")
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise BadInput(f"{noun} must be {_span(self.lo, self.hi)}, not {value}")
        return value

    def describe(self) -> str:
        return "integer" if self.lo is None and self.hi is None else f"integer, {_span(self.lo, self.hi)}"

    def takes(self, value: object) -> bool:
        return type(value) is int

    def word(self) -> str:
        return "a whole number"


@dataclass(frozen=True)
class Time(Shape):
    """A moment in unix seconds (a whole number); ``lo``/``hi`` None where the value comes unchecked
    from someone else (an invite token's expiry), so a client never refuses to show it."""

    lo: int | None = 0
    hi: int | None = 2**63 - 1

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        if type(value) is not int:
            raise BadInput(f"{noun} must be a time in unix seconds, not {kind_of(value)}")
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise BadInput(f"{noun} must be a time in unix seconds ({_span(self.lo, self.hi)}), not {value}")
        return value

    def describe(self) -> str:
        return "unix time (seconds)"

    def takes(self, value: object) -> bool:
        return type(value) is int


@dataclass(frozen=True)
class Number(Shape):
    """A finite number, whole or not (never true/false); ``lo_open``: strictly more than ``lo``."""

    lo: float | None = 0
    hi: float | None = None
    lo_open: bool = False

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadInput(f"{noun} must be a number, not {kind_of(value)}")
        if not math.isfinite(value):
            raise BadInput(f"{noun} must be a finite number, not {value}")
        low = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        if low or (self.hi is not None and value > self.hi):
            raise BadInput(f"{noun} must be {self.describe().removeprefix('number, ')}, not {value:g}")
        return value

    def describe(self) -> str:
        if self.lo_open and self.lo is not None:
            return f"number, more than {self.lo:g}" + (f" and at most {self.hi:g}" if self.hi is not None else "")
        return "number" if self.lo is None and self.hi is None else f"number, {_span(self.lo, self.hi)}"

    def takes(self, value: object) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Flag(Shape):
    """true or false."""

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        if type(value) is not bool:
            raise BadInput(f"{noun} must be true or false, not {kind_of(value)}")
        return value

    def describe(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class Choice(Shape):
    """One of a few words (from ``meshcare.vocab``)."""

    options: tuple[str, ...]

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        if not isinstance(value, str) or value not in self.options:
            shown = repr(value) if isinstance(value, str) else kind_of(value)
            raise BadInput(f"{noun} must be one of {', '.join(self.options)}, not {shown}")
        return value

    def describe(self) -> str:
        return "one of " + ", ".join(f"`{o}`" for o in self.options)

    def takes(self, value: object) -> bool:
        return isinstance(value, str)


@dataclass(frozen=True)
class Hex(Shape):
    """An id of ``size`` bytes as lowercase hex digits (``bytes.hex()``)."""

    size: int = 32

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        if not (isinstance(value, str) and len(value) == 2 * self.size
                and all(c in "0123456789abcdef" for c in value)):
            got = f"{len(value)} characters" if isinstance(value, str) else kind_of(value)
            raise BadInput(f"{noun} must be an id of {2 * self.size} lowercase hex digits, not {got}")
        return value

    def describe(self) -> str:
        return f"id, {2 * self.size} hex digits"


@dataclass(frozen=True)
class Seq(Shape):
    """A list of ``item``s, ``lo`` to ``hi`` long (``or_empty``: or none at all, meaning the default);
    ``distinct``: no item twice. ``item_noun`` names one item in messages ("ladder step" -> "ladder step 2")."""

    item: Shape
    lo: int = 0
    hi: int | None = None
    distinct: bool = False
    or_empty: bool = False
    item_noun: str | None = None

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        if not isinstance(value, (list, tuple)):
            raise BadInput(f"{noun} must be a list, not {kind_of(value)}")
        n = len(value)
        if not (n == 0 and self.or_empty) and (n < self.lo or (self.hi is not None and n > self.hi)):
            raise BadInput(f"{noun} must have {_span(self.lo or None, self.hi, 'items')}"
                           f"{', or none' if self.or_empty else ''}, not {n}")
        out = tuple(self.item.check(v, label, label) for label, v in
                    ((self._label(i, noun, where), v) for i, v in enumerate(value)))
        if self.distinct:
            seen: set[Any] = set()
            for item in out:
                if item in seen:
                    raise BadInput(f"{item!r} appears twice in {noun}")
                seen.add(item)
        return out

    def _label(self, i: int, noun: str, where: str | None) -> str:
        if not self.item_noun:
            return f"item {i + 1} of {noun}"
        return f"{self.item_noun} {i + 1}" + (f" in {where}" if where else "")

    def dump(self, value: Any) -> Any:
        return [self.item.dump(v) for v in value]

    def describe(self) -> str:
        words = []
        if self.lo or self.hi is not None:
            words.append(_span(self.lo or None, self.hi, "items") + (", or none" if self.or_empty else ""))
        if self.distinct:
            words.append("no repeats")
        return f"list of {self.item.describe()}" + (f" ({'; '.join(words)})" if words else "")


@dataclass(frozen=True)
class Map(Shape):
    """A map from ``key`` to ``value`` (insertion order kept)."""

    key: Shape
    value: Shape

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        if not isinstance(value, dict):
            raise BadInput(f"{noun} must be a map, not {kind_of(value)}")
        return {self.key.check(k, f"a key of {noun}", where): self.value.check(v, f"{noun}[{k!r}]", where)
                for k, v in value.items()}

    def dump(self, value: Any) -> Any:
        return {self.key.dump(k): self.value.dump(v) for k, v in value.items()}

    def describe(self) -> str:
        return f"map from {self.key.describe()} to {self.value.describe()}"


@dataclass(frozen=True)
class View(Shape):
    """A nested record (see ``views.py``)."""

    record: type[Record]

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        return self.record.read(value, noun)

    def dump(self, value: Any) -> Any:
        return value.to_data()

    def describe(self) -> str:
        return f"[{self.record.__name__}](#{self.record.__name__.lower()})"


@dataclass(frozen=True)
class Maybe(Shape):
    """``inner``, or null."""

    inner: Shape

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        return None if value is None else self.inner.check(value, noun, where)

    def dump(self, value: Any) -> Any:
        return None if value is None else self.inner.dump(value)

    def describe(self) -> str:
        return f"{self.inner.describe()}, or null"


@dataclass(frozen=True)
class Either(Shape):
    """One of several shapes, told apart by the kind of value (a number or text)."""

    options: tuple[Shape, ...]

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        for shape in self.options:
            if shape.takes(value):
                return shape.check(value, noun, where)
        raise BadInput(f"{noun} must be {' or '.join(s.word() for s in self.options)}, not {kind_of(value)}")

    def describe(self) -> str:
        return " or ".join(s.describe() for s in self.options)


@dataclass(frozen=True)
class Plain(Shape):
    """Any plain data under text keys (numbers, text, true/false, null, lists, maps), for values whose
    inner shape is not a contract (status counters); ``words`` describes it."""

    words: str = "plain data"

    def check(self, value: object, noun: str, where: str | None = None) -> Any:
        return _plain(value, noun, 0)

    def describe(self) -> str:
        return self.words


def _plain(value: object, noun: str, depth: int) -> Any:
    if depth > PLAIN_DEPTH:
        raise BadInput(f"{noun} is nested deeper than {PLAIN_DEPTH} levels")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, noun, depth + 1) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise BadInput(f"{noun} must have text keys only")
        return {k: _plain(v, noun, depth + 1) for k, v in value.items()}
    raise BadInput(f"{noun} holds {kind_of(value)}, which is not plain data")

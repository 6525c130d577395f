"""Fields described once: checked on reading, written on writing, documented, and tested from one shape.

Theory of operation
-------------------
Every request, result, view and event of the control API (``requests.py``, ``results.py``,
``views.py``, ``events.py``) is a frozen, slotted, keyword-only dataclass deriving from ``Record``. Each
field is declared with ``arg`` (request arguments: with a noun a person understands) or ``key``
(results and events) and carries a **shape** (``shapes.py``): ``Text``, ``Int``, ``Time``, ``Number``, ``Flag``,
``Choice``, ``Hex``, ``MemberRef``, ``Seq``, ``Map``, ``View``, ``Maybe``, ``Either`` or ``Plain``. The
shape is the only description of the field:

* ``Record.from_data`` checks incoming data against it and builds the record;
* ``Record.to_data`` writes the record back to plain data (the JSON key is the field's name, written
  nowhere else);
* ``meshcare.control.doc`` writes docs/control.md from it (``describe``);
* the tests derive hypothesis strategies from it, so every record round-trips by construction.

Reading rules, the same for every record:

* The data must be a map. Keys a record does not know are ignored: a newer daemon may add keys to a
  result (keys are added, never renamed), and the daemon ignored unknown arguments before this API.
* A key that is missing, or null where the shape does not allow null, takes the field's default; a field
  without a default is then "missing". (So a client may leave out any argument it does not set.)
* Sequences come back as tuples, maps as dicts; everything else as given. A ``MemberRef`` also takes a
  member id as 32 raw bytes (what in-process callers passed before) and keeps it as its hex digits.
* A bad value is ``BadInput`` whose message names the field as a person would ("the call's text is
  missing", "the urgency must be one of now, today, whenever, not 'soon'"), and where it sits ("... in
  ladder step 2"). Never a KeyError or a TypeError, whatever the data.

Ids in results and events are lowercase hex text (``Hex``): that is what the JSON carries and what people
and scripts read; inside the daemon they are bytes, and ``bytes.hex()`` is the one conversion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, ClassVar, Final, Self, cast

from ..errors import BadInput
from .shapes import (Choice, Either, Flag, Hex, Int, Map, Maybe, MemberRef, Number, Plain, Seq, Shape, Text, Time,
                     View, kind_of)

__all__ = ["Choice", "Either", "Flag", "Hex", "Int", "Map", "Maybe", "MemberRef", "Number", "Plain", "Record", "Seq",
           "Shape", "Spec", "Text", "Time", "View", "arg", "has_default", "key", "record_fields",
           "spec_of"]

#: The metadata key under which a field's ``Spec`` is kept.
SPEC: Final = "meshcare.control"


# --- fields and records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """What ``arg``/``key`` attach to a field: its shape, its meaning, and how people call it."""

    shape: Shape
    doc: str
    noun: str | None = None
    omit_none: bool = False     # to_data leaves the key out when the value is None (optional result keys)


def arg(shape: Shape, doc: str, *, noun: str, default: Any = MISSING, omit_none: bool = False) -> Any:
    """A request argument: ``noun`` names it in messages ("the call's text"); ``default`` as the
    daemon applies it when the argument is left out (none: the argument is required). ``omit_none``:
    not sent when None (an argument added to an existing op, so a request that does not use it reads
    exactly as before, and an older daemon is not sent a key it does not know)."""
    return field(default=default, metadata={SPEC: Spec(shape, doc, noun, omit_none)})


def key(shape: Shape, doc: str, *, default: Any = MISSING, omit_none: bool = False) -> Any:
    """A result, view or event key. ``omit_none``: absent from the data when None (and None when
    absent), for keys that only some answers carry."""
    if omit_none and default is MISSING:
        default = None
    return field(default=default, metadata={SPEC: Spec(shape, doc, None, omit_none)})


def spec_of(f: Field[Any]) -> Spec:
    """The Spec of a record's field."""
    spec: Spec = f.metadata[SPEC]
    return spec


def has_default(f: Field[Any]) -> bool:
    """True when the field may be left out of the data."""
    return f.default is not MISSING or f.default_factory is not MISSING


class Record:
    """Base of every control record: generic ``to_data`` / ``from_data`` driven by the fields' specs.

    Subclasses are ``@dataclass(frozen=True, slots=True, kw_only=True)`` and may override ``check_rules``
    for rules that tie several fields together (raise BadInput).
    """

    __slots__ = ()
    #: How the docs and messages name a record of this class ("a call"); the class docstring says more.
    WHAT: ClassVar[str] = "a record"

    def to_data(self) -> dict[str, Any]:
        """Plain data (str-keyed maps, lists, text, numbers, true/false, null), as the JSON carries it."""
        out: dict[str, Any] = {}
        for f in fields(cast(Any, self)):
            spec = spec_of(f)
            value = getattr(self, f.name)
            if value is None and spec.omit_none:
                continue
            out[f.name] = spec.shape.dump(value)
        return out

    @classmethod
    def from_data(cls, data: object) -> Self:
        """Check ``data`` (see the module docstring) and build the record. Raises BadInput."""
        return cls.read(data, None)

    @classmethod
    def read(cls, data: object, where: str | None) -> Self:
        """``from_data`` for a record nested ``where`` (None: at the top)."""
        if not isinstance(data, dict):
            raise BadInput(f"{where or cls.WHAT} must be a map of named values, not {kind_of(data)}")
        values: dict[str, Any] = {}
        for f in fields(cast(Any, cls)):
            spec = spec_of(f)
            noun = spec.noun or repr(f.name)
            if where is not None:
                noun = f"{noun} in {where}"
            raw = data.get(f.name)
            if raw is None and (f.name not in data or not isinstance(spec.shape, Maybe)):
                if has_default(f):
                    continue
                raise BadInput(f"{noun} is missing")
            values[f.name] = spec.shape.check(raw, noun, where)
        record = cls(**values)
        record.check_rules()
        return record

    def check_rules(self) -> None:
        """Rules over several fields; raise BadInput. None by default."""


def record_fields(cls: type[Record]) -> Sequence[Field[Any]]:
    """The fields of a record class, in order (for the docs and the tests)."""
    return fields(cast(Any, cls))

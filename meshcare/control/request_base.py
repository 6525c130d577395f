"""The base of every request, and the references and refusals many of them share.

``Request[R]`` is generic in its result type, so ``request.read_result(data)`` is typed: a client that
sends ``CallCreate`` gets a ``CallCreateResult`` back. ``RESULT`` is taken from that type argument, so
it is written once per op.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, Generic, TypeVar, cast, get_args, get_origin

from .. import vocab
from . import results as r
from .names import BAD_REQUEST, NOT_FOUND
from .schema import MemberRef, Record, Text, arg

__all__ = ["CIRCLE_REF", "ID_REF", "id_ref", "MEMBER_REF", "NAME", "NO_CALL", "NO_CHECKIN", "NO_CIRCLE", "NO_MEMBER", "R",
           "RESOLVED", "Request", "call_arg", "circle_arg"]

R = TypeVar("R", bound=r.Result)

#: A circle by name or start of id.
CIRCLE_REF: Final = Text(1, vocab.MAX_REF, strip=True)
#: A call, check-in, offer, invite or share by the start of its id.
ID_REF: Final = Text(vocab.MIN_ID_PREFIX, vocab.MAX_REF, strip=True)


def id_ref(hint: str) -> Text:
    """A reference by the start of an id, with where a person finds the ids (for a short reference)."""
    return Text(vocab.MIN_ID_PREFIX, vocab.MAX_REF, strip=True, hint=hint)
#: A member by name or start of id (or a 32-byte id).
MEMBER_REF: Final = MemberRef(1, vocab.MAX_REF, strip=True)
#: A person's or a circle's name.
NAME: Final = Text(1, vocab.MAX_NAME, strip=True)

# Refusals many ops share, as (error kind, when) for ``Request.ERRORS``.
NO_CIRCLE: Final = (NOT_FOUND, "no circle by that name or id on this node (or the id start matches several: "
                               "bad-request)")
NO_CALL: Final = (NOT_FOUND, "no call this node can read starts with that (fewer than 4 digits, or several "
                             "calls match: bad-request)")
NO_CHECKIN: Final = (NOT_FOUND, "no check-in this node can read starts with that (fewer than 4 digits, or "
                                "several match: bad-request)")
NO_MEMBER: Final = (NOT_FOUND, "nobody by that name or id in the circle (several match: bad-request)")
RESOLVED: Final = (BAD_REQUEST, "the call is resolved: nothing more can be added to it (the message says by whom)")


class Request(Record, Generic[R]):
    """Base of every request: ``OP`` its name, ``RESULT`` the class of its answer, ``ERRORS`` the refusals
    the daemon may answer besides bad arguments (kind, when)."""

    __slots__ = ()
    WHAT: ClassVar[str] = "the arguments"
    OP: ClassVar[str] = ""
    RESULT: ClassVar[type[r.Result]] = r.Result
    ERRORS: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """``RESULT`` is the class the request is generic in (``Request[CallCreateResult]``), written once."""
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is Request:
                (cls.RESULT,) = get_args(base)

    def read_result(self, data: object) -> R:
        """The daemon's answer to this request, checked (``RESULT.from_data``). Raises BadInput."""
        return cast(R, self.RESULT.from_data(data))


def circle_arg(doc: str = "the circle: its name or the start of its id") -> Any:
    """The ``circle`` argument most ops have."""
    return arg(CIRCLE_REF, doc, noun="the circle")


def call_arg() -> Any:
    """The ``call`` argument of the call ops."""
    return arg(id_ref("`meshcare calls --all` lists them"), "the call: the start of its id", noun="the call")

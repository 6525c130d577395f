"""Support plans: the owner's own plan (a type only) and the fold of the shares they chose to make.

Theory of operation
-------------------
A support plan belongs to its author. It lives encrypted on the owner's node (stored by the membership
layer, not here) and reaches others only as a ``plan_share`` post: shared with one call's thread, or with
the whole circle. The owner can take a share back with ``plan_retract``; only the owner can, a retract by
anyone else does nothing. ``fold_shares`` is order-free: a share is live if it is in the set and no
retract by its own author names it, whatever order they arrived in (a retract cannot causally come
before its share anyway). Duplicates are dropped by post id.

``shares_for_call`` picks what a responder should see in a call's thread: shares that name the call,
plus, given the caller, the caller's standing circle-wide shares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

from ..errors import BadInput
from ..vocab import MAX_PLAN_FIELD, PLAN_FIELDS
from .posts import Post, dedupe_sorted


@dataclass(frozen=True, slots=True)
class Plan:
    """What helps, what to avoid, who to contact, anything else; each part optional (empty).

    Checked on construction, so no Plan is ever over-long or holds something other than text.
    Raises BadInput with a message for the person editing their plan.
    """

    helps: str = ""
    avoid: str = ""
    contact: str = ""
    other: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            value: object = getattr(self, f.name)
            if not isinstance(value, str):
                raise BadInput(f"the {f.name!r} part of a support plan must be text")
            if len(value) > MAX_PLAN_FIELD:
                raise BadInput(f"the {f.name!r} part of your support plan is {len(value)} characters long; "
                               f"please keep it to {MAX_PLAN_FIELD}")

    def is_empty(self) -> bool:
        """True when every part is blank (nothing worth sharing)."""
        return not any(part.strip() for part in self.to_dict().values())

    def to_dict(self) -> dict[str, str]:
        """All four parts, for storing and for a ``plan_share`` body's ``plan``."""
        return {"helps": self.helps, "avoid": self.avoid, "contact": self.contact, "other": self.other}

    @classmethod
    def from_dict(cls, data: object) -> Plan:
        """A Plan from a dict of parts (missing parts are empty). Raises BadInput for anything else."""
        if not isinstance(data, dict):
            raise BadInput("a support plan must be a set of named parts: " + ", ".join(PLAN_FIELDS))
        unknown = sorted(repr(k) for k in data if k not in PLAN_FIELDS)
        if unknown:
            raise BadInput(f"a support plan has no part called {', '.join(unknown)}; "
                           f"the parts are: {', '.join(PLAN_FIELDS)}")
        return cls(**{str(k): v for k, v in data.items()})


@dataclass(frozen=True, slots=True)
class ShareState:
    """A live share of an author's plan: with one call's thread (``to`` "call") or with the circle."""

    id: bytes
    author: bytes
    to: str
    call: bytes | None
    plan: Plan
    created: int
    lamport: int


def fold_shares(posts: Iterable[Post]) -> dict[bytes, ShareState]:
    """Live plan shares keyed by share id, in (lamport, id) order: shares minus those their own author
    retracted. Never raises for bodies that came from ``validate``."""
    ordered = dedupe_sorted(posts)
    retracted = {(p.author, p.body["share"]) for p in ordered if p.kind == "plan_retract"}
    return {p.id: ShareState(p.id, p.author, p.body["to"], p.body["call"], Plan(**p.body["plan"]),
                             p.created, p.lamport)
            for p in ordered if p.kind == "plan_share" and (p.author, p.id) not in retracted}


def shares_for_call(shares: Mapping[bytes, ShareState], call: bytes,
                    caller: bytes | None = None) -> list[ShareState]:
    """Shares to show in a call's thread, in (lamport, id) order: those naming ``call``, and with
    ``caller`` given, that member's circle-wide shares too."""
    picked = [s for s in shares.values()
              if s.call == call or (caller is not None and s.author == caller and s.to == "circle")]
    return sorted(picked, key=lambda s: (s.lamport, s.id))

"""Support plans: the owner's own plan (a type only) and the fold of the shares they chose to make.

Theory of operation
-------------------
A support plan belongs to its author. It lives encrypted on the owner's node (stored by the membership
layer, not here) and reaches others only as a ``plan_share`` post: shared with one call's thread, or with
the whole circle. The owner can take a share back with ``plan_retract``; only the owner can, a retract by
anyone else does nothing. ``fold_shares`` is order-free: a share is live if it is in the set and no
retract by its own author names it, whatever order they arrived in (a retract cannot causally come
before its share anyway). Duplicates are dropped by post id.

A plan has sections people recognise (``vocab.PLAN_FIELDS``: when I'm well, what helps, ... wishes,
practical things, the review date), every one optional. A share carries the sections its owner chose;
the wire body is always a record of every section, those not shared empty, so "which sections a share
carries" is "which are not blank" and needs no field of its own. A plan saved before there were sixteen
sections (four keys) reads as it was: the missing sections are empty.

``shares_for_call`` picks what a responder should see in a call's thread: shares that name the call,
plus, given the caller, the caller's standing circle-wide shares. ``section_readers`` answers the
owner's question "who can read what": per section, the live shares that carry it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from ..errors import BadInput
from ..vocab import MAX_PLAN_FIELD, MAX_PLAN_TOTAL, PLAN_FIELDS, PLAN_REVIEW_FIELD, PLAN_SECTION_WORDS
from .posts import Post, dedupe_sorted, plan_date_ok


def _label(key: str) -> str:
    return PLAN_SECTION_WORDS.get(key, key)


@dataclass(frozen=True, slots=True)
class Plan:
    """A support plan: one text per section (``vocab.PLAN_FIELDS``, in that order), each optional (empty).

    Checked on construction, so no Plan is ever over-long, holds something other than text, or has a
    review date that is not a date. Raises BadInput with a message for the person editing their plan.
    """

    when_well: str = ""
    helps: str = ""
    keeps_me_well: str = ""
    stressors: str = ""
    early_signs: str = ""
    when_hard: str = ""
    avoid: str = ""
    contact: str = ""
    who_not_to_involve: str = ""
    outside_help: str = ""
    wishes: str = ""
    practical: str = ""
    after: str = ""
    stops_when: str = ""
    other: str = ""
    review_by: str = ""

    def __post_init__(self) -> None:
        total = 0
        for f in fields(self):
            value: object = getattr(self, f.name)
            if not isinstance(value, str):
                raise BadInput(f"the {f.name!r} part of a support plan must be text")
            if len(value) > MAX_PLAN_FIELD:
                raise BadInput(f"the {f.name!r} part of your support plan is {len(value)} characters long; "
                               f"please keep it to {MAX_PLAN_FIELD}")
            total += len(value)
        if not plan_date_ok(self.review_by):
            raise BadInput(f"the review date ({_label(PLAN_REVIEW_FIELD)}) must be a date written YYYY-MM-DD, "
                           f"like 2027-03-01, not {self.review_by[:20]!r}; leave it empty for none")
        if total > MAX_PLAN_TOTAL:
            raise BadInput(f"your support plan is {total} characters long in all; please keep it to "
                           f"{MAX_PLAN_TOTAL} (shorten a section or two)")

    def is_empty(self) -> bool:
        """True when every section is blank (nothing worth sharing)."""
        return not self.sections()

    def sections(self) -> tuple[str, ...]:
        """The keys of the sections that hold something, in plan order: what a share of this plan carries."""
        return tuple(key for key in PLAN_FIELDS if getattr(self, key).strip())

    def to_dict(self) -> dict[str, str]:
        """Every section, in plan order, for storing and for a ``plan_share`` body's ``plan``."""
        return {key: getattr(self, key) for key in PLAN_FIELDS}

    def edited(self, changes: Mapping[str, str]) -> Plan:
        """This plan with the sections ``changes`` names set (empty text clears one); the others kept.
        Raises BadInput for a section that does not exist or a text that breaks the rules."""
        return replace(self, **_known(changes))

    def only(self, keys: Iterable[str]) -> Plan:
        """The plan as a share carrying just the sections ``keys`` names (the others empty). Raises
        BadInput for an unknown section."""
        wanted = set(_known(dict.fromkeys(keys, "")))
        return Plan(**{key: text for key, text in self.to_dict().items() if key in wanted})

    def review_due(self, today: date) -> bool:
        """True once the review date has passed (the day after it): time for a gentle "is it still right?".
        False with no review date."""
        return bool(self.review_by) and date.fromisoformat(self.review_by) < today

    @classmethod
    def from_dict(cls, data: object) -> Plan:
        """A Plan from a dict of sections (missing ones are empty: a plan saved with the first four parts
        loads unchanged). Raises BadInput for anything else."""
        if not isinstance(data, dict):
            raise BadInput("a support plan must be a set of named parts: " + ", ".join(PLAN_FIELDS))
        return cls(**_known(data))


def _known(data: Mapping[Any, Any]) -> dict[str, Any]:
    """``data`` with str keys, each a section of the plan (values are checked by ``Plan`` itself)."""
    unknown = sorted(repr(k) for k in data if k not in PLAN_FIELDS)
    if unknown:
        raise BadInput(f"a support plan has no part called {', '.join(unknown)}; "
                       f"the parts are: {', '.join(PLAN_FIELDS)}")
    return {str(k): v for k, v in data.items()}


@dataclass(frozen=True, slots=True)
class ShareState:
    """A live share of an author's plan: with one call's thread (``to`` "call") or with the circle.

    ``reader``: who a call share was sealed to (the person who had the call), when the share says so;
    None for a circle share and for call shares made before shares named their reader."""

    id: bytes
    author: bytes
    to: str
    call: bytes | None
    plan: Plan
    created: int
    lamport: int
    reader: bytes | None = None

    @property
    def sections(self) -> tuple[str, ...]:
        """The sections this share carries, in plan order."""
        return self.plan.sections()


def fold_shares(posts: Iterable[Post]) -> dict[bytes, ShareState]:
    """Live plan shares keyed by share id, in (lamport, id) order: shares minus those their own author
    retracted. Never raises for bodies that came from ``validate``."""
    ordered = dedupe_sorted(posts)
    retracted = {(p.author, p.body["share"]) for p in ordered if p.kind == "plan_retract"}
    return {p.id: ShareState(p.id, p.author, p.body["to"], p.body["call"], Plan(**p.body["plan"]),
                             p.created, p.lamport, p.body.get("reader"))
            for p in ordered if p.kind == "plan_share" and (p.author, p.id) not in retracted}


def shares_for_call(shares: Mapping[bytes, ShareState], call: bytes,
                    caller: bytes | None = None) -> list[ShareState]:
    """Shares to show in a call's thread, in (lamport, id) order: those naming ``call``, and with
    ``caller`` given, that member's circle-wide shares too."""
    picked = [s for s in shares.values()
              if s.call == call or (caller is not None and s.author == caller and s.to == "circle")]
    return sorted(picked, key=lambda s: (s.lamport, s.id))


def section_readers(shares: Iterable[ShareState]) -> dict[str, list[ShareState]]:
    """Who can read what: every section (plan order) -> the live shares carrying it, in (lamport, id)
    order; an empty list means only the owner can read that section."""
    ordered = sorted(shares, key=lambda s: (s.lamport, s.id))
    return {key: [s for s in ordered if key in s.sections] for key in PLAN_FIELDS}

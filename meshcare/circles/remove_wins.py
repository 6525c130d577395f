"""Remove wins: which roster operations the fold does not count because their author was removed or left,
and which counted removals no third member has acknowledged yet. Pure: no I/O, no clock, no randomness.

Theory of operation
-------------------
**Remove wins.** An operation by X that is not in the causal past (ancestors) of a counted ``remove``
of X or of X's ``leave``, and does not descend from a re-admission of X ordered after that departure,
does not count, whatever its lamport or parents: a removed member signing on its pre-removal heads
gets nothing (``_not_counting``). Exception, a rule nobody picks: two concurrent removals in which each
removes the other's author both stand (the keep-a-facilitator rule then promotes the most senior remaining
member). As excluding an operation can change which departures count, the fold repeats until the excluded
set is stable (it only grows, so this ends; in practice one or two passes). Ancestry is a bitset per
operation (a Python int over the linear order: ``ancestry``).

**Mutual removal, acted on.** Of two concurrent removals of each other's authors, the one that only its
target's side acted on does not count (``_void_counter_removals``): a removal the circle acted on (a later
operation by a third member builds on it without knowing the other, ``_built_on``) cannot be undone by a
counter-removal its target signs later on older heads. When both or neither were acted on, both stand.
Decided on the DAG alone, before any role is folded, so the fold stays a function of the set.

**Acknowledgement.** A counted removal on which no operation of a third member (neither the remover nor
the removed) builds yet is *unacknowledged* (``_unacknowledged``, folded into ``Roster.unacknowledged``);
members' nodes post a ``seen`` that builds on it within seconds, which is what makes it "acted on" above.

roster_fold.py's ``fold`` calls these; they read its scratch state (``_Folding``) but never change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .membership import RosterOp
    from .roster_fold import _Folding


def ancestry(ordered: list[RosterOp]) -> tuple[dict[bytes, int], dict[bytes, int]]:
    """(op id -> bitset of its ancestors, op id -> its bit): one int OR per parent, in linear order."""
    bit = {op.id: i for i, op in enumerate(ordered)}
    ancestors: dict[bytes, int] = {}
    for op in ordered:
        mask = 0
        for p in op.parents:
            mask |= ancestors[p] | (1 << bit[p])
        ancestors[op.id] = mask
    return ancestors, bit


def _not_counting(state: _Folding, ordered: list[RosterOp]) -> dict[bytes, str]:
    """Operations that remove-wins takes out: by X, outside the causal past of a counted departure of X,
    not descending from a re-admission of X ordered after it; except a removal of X's remover concurrent
    with it (mutual removal: both stand)."""
    out: dict[bytes, str] = {}
    departures: dict[bytes, list[RosterOp]] = {}
    for op, gone in state.departures:
        departures.setdefault(gone, []).append(op)
    if not departures:
        return out
    readmitted: dict[bytes, list[RosterOp]] = {}
    for op, member in state.admissions:
        readmitted.setdefault(member, []).append(op)
    anc, bit = state.ancestors, state.bit
    for op in ordered:
        for d in departures.get(op.author, ()):
            if op.id == d.id or (anc[d.id] >> bit[op.id]) & 1:
                continue
            if any(bit[m.id] > bit[d.id] and (anc[op.id] >> bit[m.id]) & 1 for m in readmitted.get(op.author, ())):
                continue
            if (op.kind == "remove" and d.kind == "remove" and op.body["member"] == d.author
                    and state.concurrent(op, d)):
                continue            # a mutual removal (not voided up front, see _void_counter_removals)
            out[op.id] = "concurrent with its author's departure, which wins"
            break
    return out


def _void_counter_removals(ordered: list[RosterOp], anc: dict[bytes, int], bit: dict[bytes, int],
                           excluded: Mapping[bytes, str]) -> dict[bytes, str]:
    """Of two concurrent removals of each other's authors, the one that only its target's side acted on
    does not count. A removal the circle acted on (a later operation by a third member builds on it
    without knowing the other, such as the ``seen`` a member's node posts a few seconds after folding a
    removal) cannot be undone by a counter-removal its target signs later on older heads: the DAG alone
    cannot tell that from a real race, third members' operations show which came first. When both or
    neither were acted on, both stand. Decided on the DAG alone, before any role is folded."""
    removals = [op for op in ordered if op.kind == "remove" and op.id not in excluded]
    if len(removals) < 2:
        return {}
    departures = _departures(ordered, excluded)
    out: dict[bytes, str] = {}
    for first in removals:
        for other in removals:
            if (other.body["member"] != first.author or first.body["member"] != other.author
                    or (anc[first.id] >> bit[other.id]) & 1 or (anc[other.id] >> bit[first.id]) & 1):
                continue
            if (_built_on(ordered, anc, bit, excluded, departures, first, unaware_of=other)
                    and not _built_on(ordered, anc, bit, excluded, departures, other, unaware_of=first)):
                out[other.id] = "a removal of its remover, made after the circle had acted on its own removal"
    return out


def _departures(ordered: list[RosterOp], excluded: Mapping[bytes, str]) -> dict[bytes, list[RosterOp]]:
    """Every remove or leave that is not excluded, by the member who went."""
    out: dict[bytes, list[RosterOp]] = {}
    for op in ordered:
        if op.kind in ("remove", "leave") and op.id not in excluded:
            out.setdefault(op.body["member"] if op.kind == "remove" else op.author, []).append(op)
    return out


def _built_on(ordered: list[RosterOp], anc: Mapping[bytes, int], bit: Mapping[bytes, int],
              excluded: Mapping[bytes, str], departures: Mapping[bytes, list[RosterOp]], removal: RosterOp,
              *, unaware_of: RosterOp | None = None) -> bool:
    """Did a third member (neither the remover nor the removed) build on ``removal``, without knowing
    ``unaware_of`` when given? The one test behind both acknowledgement (``_unacknowledged``: whether a
    member's node still owes a ``seen``) and the mutual-removal rule, so a removal counts as acted on
    exactly when no node owes a ``seen`` for it. Operations by someone already gone (not in the causal
    past of each of their departures) do not speak for the circle: otherwise an ex-member could sign a
    ``seen`` on a backdated counter-removal and make it stand."""
    two = {removal.author, removal.body["member"]}
    # a reach never speaks for the circle: nodes that do not know the kind refuse it, and must decide alike
    return any(o.author not in two and o.id not in excluded and o.kind != "reach"
               and (anc[o.id] >> bit[removal.id]) & 1
               and (unaware_of is None or not (anc[o.id] >> bit[unaware_of.id]) & 1)
               and all((anc[d.id] >> bit[o.id]) & 1 for d in departures.get(o.author, ()))
               for o in ordered)


def _unacknowledged(state: _Folding, ordered: list[RosterOp]) -> frozenset[bytes]:
    """Counted removals no third member still in the circle has built on (``_built_on``)."""
    departures = _departures(ordered, state.excluded)
    return frozenset(d.id for d, _ in state.departures
                     if d.kind == "remove"
                     and not _built_on(ordered, state.ancestors, state.bit, state.excluded, departures, d))

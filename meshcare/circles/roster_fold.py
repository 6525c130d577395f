"""The roster fold: any set of roster operations, in any order, to one ``Roster``. Pure, deterministic in the set.

membership.py's theory of operation describes the rules; here they are carried out: ``linearize`` puts
the operations in the one order every node computes, ``_Folding`` applies them one by one (ignoring, with
the reason, each one its author had no right to at that point), and ``fold`` repeats that with the
exclusions remove-wins adds (remove_wins.py) until nothing changes.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import replace

from .membership import (KEYED, MAX_FOLD_PASSES, CircleSettings, Cut, Epoch, Generation, Invite, Member, Roster,
                         RosterOp, check_invite_proof, epoch_number, generation_number, name_key, rename_refusal)
from .reach import MAX_REACHES
from .remove_wins import _not_counting, _unacknowledged, _void_counter_removals, ancestry


def linearize(ops: Mapping[bytes, RosterOp]) -> tuple[list[RosterOp], frozenset[bytes]]:
    """Parents first, ties by (lamport, id). Returns (ordered ready ops, ids waiting for parents)."""
    children: dict[bytes, list[bytes]] = {}
    waiting: dict[bytes, int] = {}
    blocked: set[bytes] = set()
    for op in ops.values():
        if any(p not in ops for p in op.parents):
            blocked.add(op.id)
    # anything descending from a blocked op is blocked too
    changed = True
    while changed:
        changed = False
        for op in ops.values():
            if op.id not in blocked and any(p in blocked for p in op.parents):
                blocked.add(op.id)
                changed = True
    heap: list[tuple[int, bytes]] = []
    for op in ops.values():
        if op.id in blocked:
            continue
        waiting[op.id] = len(op.parents)
        for p in op.parents:
            children.setdefault(p, []).append(op.id)
        if not op.parents:
            heapq.heappush(heap, (op.lamport, op.id))
    ordered: list[RosterOp] = []
    while heap:
        _, op_id = heapq.heappop(heap)
        ordered.append(ops[op_id])
        for child in children.get(op_id, ()):
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(heap, (ops[child].lamport, child))
    return ordered, frozenset(blocked)


class _Folding:
    """Mutable scratch state of one fold; ``Roster`` is its frozen result."""

    def __init__(self, founder: bytes, topic: bytes, ops: Mapping[bytes, RosterOp],
                 ancestors: Mapping[bytes, int], bit: Mapping[bytes, int], excluded: Mapping[bytes, str],
                 proofs: dict[bytes, bool] | None = None) -> None:
        self.founder = founder
        self.topic = topic
        self.proofs = proofs                # admit op id -> its invite proof verifies (kept by the caller)
        self.ops = ops
        self.ancestors = ancestors          # op id -> bitset of its ancestors (bit positions: ``bit``)
        self.bit = bit
        self.excluded = excluded
        self.generation = 0
        self.generations: dict[int, Generation] = {}
        self.roster_stale = False
        #: departed member -> (the departure op, the role they had): for the mutual-removal rule
        self.gone_by: dict[bytes, tuple[RosterOp, str]] = {}
        self.departures: list[tuple[RosterOp, bytes]] = []     # counted (departure, who left)
        self.admissions: list[tuple[RosterOp, bytes]] = []     # counted (admit or create, who came in)
        self.name = ""
        self.created = 0
        self.settings = CircleSettings()
        self.members: dict[bytes, Member] = {}
        self.departed: dict[bytes, int] = {}
        self.cuts: dict[bytes, tuple[Cut, ...]] = {}
        self.ever: set[bytes] = set()
        self.invites: dict[bytes, Invite] = {}
        self.void_invites: dict[bytes, Invite] = {}
        self.epochs: dict[int, Epoch] = {}
        self.current: int | None = None
        self.ignored: dict[bytes, str] = {}
        self.position = 0
        self.last_rotation = 0
        self.created_seen = False
        self.renames: dict[bytes, int] = {}
        self.reach: dict[bytes, str] = {}
        self.reach_seq: dict[bytes, int] = {}    # member -> seq of the reach that ``reach`` holds
        #: reach op id -> how many reach operations its author made before it (by seq): the bound counts
        #: by the author's own chain, as reach operations of one author are concurrent in the DAG
        self.reach_rank: dict[bytes, int] = {}
        self.reaches: dict[bytes, int] = {}
        for op in sorted((o for o in ops.values() if o.kind == "reach"), key=lambda o: (o.seq, o.id)):
            self.reach_rank[op.id] = self.reaches.get(op.author, 0)
            self.reaches[op.author] = self.reach_rank[op.id] + 1
        self.names_taken: dict[str, frozenset[bytes]] = {}

    def role(self, member: bytes) -> str | None:
        m = self.members.get(member)
        return m.role if m else None

    def concurrent(self, a: RosterOp, b: RosterOp) -> bool:
        """Neither is an ancestor of the other."""
        return not (self.ancestors[a.id] >> self.bit[b.id]) & 1 and not (self.ancestors[b.id] >> self.bit[a.id]) & 1

    def apply(self, op: RosterOp) -> None:
        why = self.excluded.get(op.id) or self._check(op)
        if why is not None:
            self.ignored[op.id] = why
            if op.kind == "invite" and op.body["invite"] not in self.invites:
                b = op.body
                self.void_invites[b["invite"]] = Invite(b["invite"], b["role"], b["expires"], op.author)
            return
        b = op.body
        if op.kind == "create":
            self.created_seen = True
            self.name, self.created, self.settings = b["name"], op.created, b["settings"]
            self._admit(op.author, "facilitator", b["member_name"], op.id)
        elif op.kind == "invite":
            self.invites[b["invite"]] = Invite(b["invite"], b["role"], b["expires"], op.author)
        elif op.kind == "revoke":
            self.invites[b["invite"]] = replace(self.invites[b["invite"]], revoked=True)
        elif op.kind == "admit":
            invite = self.invites[b["invite"]]
            self.invites[b["invite"]] = replace(invite, used_by=b["member"], used_at=op.created)
            self._admit(b["member"], invite.role, b["name"], op.id)
        elif op.kind in ("remove", "leave"):
            gone = b["member"] if op.kind == "remove" else op.author
            self.gone_by[gone] = (op, self.members[gone].role)
            del self.members[gone]
            self.reach.pop(gone, None)
            self.reach_seq.pop(gone, None)
            self.departed[gone] = b["last_seq"]
            self.cuts[gone] = (*self.cuts.get(gone, ()), Cut(b["last_seq"], b["last_id"]))
            self.departures.append((op, gone))
            self._keep_a_facilitator()
            if op.kind == "leave":
                self.roster_stale = True
        elif op.kind == "role":
            member = self.members[b["member"]]
            self.members[b["member"]] = replace(member, role=b["role"])
            self._keep_a_facilitator()
        elif op.kind == "settings":
            self.settings = b["settings"]
        elif op.kind == "rename":
            self.members[op.author] = replace(self.members[op.author], name=b["name"])
            self.renames[op.author] = self.renames.get(op.author, 0) + 1
            self._take(b["name"], op.author)
        elif op.kind == "reach":
            # the author's latest by its own chain (seq), not by the fold order: nothing builds on a
            # reach, so two of one author are always concurrent, and the order would pick by id
            if op.seq > self.reach_seq.get(op.author, 0):
                self.reach[op.author], self.reach_seq[op.author] = b["onion"], op.seq
            return          # no place in the positions: a node that refuses reach numbers the rest alike
        if "roster_keys" in b:
            number = generation_number(op.id)
            self.generations[number] = Generation(number, op.id, b["roster_keys"], self.position)
            self.generation, self.roster_stale = number, False
        if op.kind in KEYED:
            number = epoch_number(op.id)
            facilitators = frozenset(m for m, v in self.members.items() if v.role == "facilitator")
            self.epochs[number] = Epoch(number, op.id, b["keys"], b.get("history", {}), facilitators, op.created,
                                        self.position)
            self.current = number
            self.last_rotation = op.created
        self.position += 1

    def _admit(self, member: bytes, role: str, name: str, op_id: bytes) -> None:
        self.members[member] = Member(member, role, name, op_id, self.position)
        self._take(name, member)
        self.departed.pop(member, None)
        self.gone_by.pop(member, None)
        cuts = self.cuts.get(member)
        if cuts and cuts[-1].back is None:       # back in: epochs from here on are theirs again
            self.cuts[member] = (*cuts[:-1], replace(cuts[-1], back=self.position))
        self.ever.add(member)
        self.admissions.append((self.ops[op_id], member))

    def _take(self, name: str, member: bytes) -> None:
        key = name_key(name)
        self.names_taken[key] = self.names_taken.get(key, frozenset()) | {member}

    def _keep_a_facilitator(self) -> None:
        if self.members and not any(m.role == "facilitator" for m in self.members.values()):
            readers = [m for m in self.members.values() if m.role != "relay"]
            if readers:
                senior = min(readers, key=lambda m: m.order)
                self.members[senior.id] = replace(senior, role="facilitator")

    def _check(self, op: RosterOp) -> str | None:
        """Why ``op`` cannot apply at this point of the order, or None when it can."""
        b = op.body
        if any(self.ops[p].kind == "reach" for p in op.parents):
            return "it builds on a reach operation, which nothing may build on"
        parents = [self.ops[p].lamport for p in op.parents]
        if op.lamport != 1 + max(parents, default=0):
            return "its lamport is not 1 + its parents' highest"
        if op.kind == "create":
            if op.seq != 1:
                return "create is its author's first envelope"
            if self.created_seen:
                return "the circle already exists"
            if op.author != self.founder:
                return "only the founder named by the circle id creates it"
            return self._author_holds_key(op)
        if not self.created_seen:
            return "the circle does not exist yet"
        role = self.role(op.author) or self._mutual_removal_role(op)
        if role is None:
            return "the author is not a member"
        if op.kind == "invite":
            if role == "facilitator" or (role == "member" and self.settings.members_invite and b["role"] == "member"):
                return "an invite with this key exists" if b["invite"] in self.invites else None
            return "only facilitators invite (or members, for members, when the circle allows it)"
        if op.kind == "revoke":
            invite = self.invites.get(b["invite"])
            if invite is None:
                return "no such invite"
            return None if role == "facilitator" or invite.by == op.author else "only facilitators or the inviter revoke"
        if op.kind == "admit":
            invite = self.invites.get(b["invite"])
            if role == "relay":
                return "relays cannot admit (they hold no epoch key)"
            if invite is None or invite.revoked:
                return "no such invite, or it was revoked"
            if invite.used_by is not None:
                return "the invite was already used"
            if op.created >= invite.expires:
                return "the invite had expired"
            if b["member"] in self.members:
                return "already a member"
            if not self._proof_holds(op):
                return "the invite proof does not verify"
            return self._author_holds_key(op)
        if op.kind == "remove":
            if role != "facilitator":
                return "only facilitators remove members"
            if b["member"] not in self.members or b["member"] == op.author:
                return "not a member (or removing oneself: use leave)"
            return self._author_holds_key(op)
        if op.kind in ("leave", "seen"):
            return None
        if op.kind == "role":
            if role != "facilitator":
                return "only facilitators grant or drop roles"
            target = self.members.get(b["member"])
            if target is None or target.role == "relay":
                return "roles are granted to members, not relays or non-members"
            return None
        if op.kind == "rotate":
            if role == "relay":
                return "relays hold no epoch key"
            return self._author_holds_key(op)
        if op.kind == "settings":
            return None if role == "facilitator" else "only facilitators change settings"
        if op.kind == "rename":
            return rename_refusal(self.names_taken, self.renames, op.author, b["name"])
        if op.kind == "reach":
            if self.reach_rank[op.id] >= MAX_REACHES:
                return f"a member changes their onion address at most {MAX_REACHES} times in a circle"
            return None
        return "unknown kind"

    def _mutual_removal_role(self, op: RosterOp) -> str | None:
        """The role the author had before it was removed, when ``op`` removes its remover concurrently:
        both removals stand (nobody picks the winner by lamport, id or backdating)."""
        gone = self.gone_by.get(op.author)
        if op.kind != "remove" or gone is None:
            return None
        departure, role = gone
        if departure.kind == "remove" and departure.author == op.body["member"] and self.concurrent(op, departure):
            return role
        return None

    def _proof_holds(self, op: RosterOp) -> bool:
        """The admit's invite proof verifies. An op id is the hash of its envelope, so the answer for
        one id never changes: with ``proofs`` each is checked once, not in every fold (an Ed25519 check
        per admission per fold was most of a 200-member circle's fold time)."""
        known = None if self.proofs is None else self.proofs.get(op.id)
        if known is None:
            b = op.body
            known = check_invite_proof(b["invite"], self.topic, b["member"], b["proof"])
            if self.proofs is not None:
                self.proofs[op.id] = known
        return known

    @staticmethod
    def _author_holds_key(op: RosterOp) -> str | None:
        """The author must hold the key it made. Recipients are the readers *its author* knew: a
        concurrent change can make them differ from the readers at this point of the order; the epoch
        still counts (so a race never undoes an admission), and ``needs_rotation`` makes the next
        poster rotate before anything is sent under it."""
        if op.author not in op.body["keys"]:
            return "the author must hold the key it made"
        return None


def fold(ops: Iterable[RosterOp], founder: bytes, topic: bytes, proofs: dict[bytes, bool] | None = None) -> Roster:
    """The roster that ``ops`` (any order, duplicates allowed) add up to. Deterministic in the set.

    ``proofs``: a memo of invite-proof checks by op id that the caller keeps across folds of one circle."""
    by_id = {op.id: op for op in ops}
    ordered, pending = linearize(by_id)
    ancestors, bit = ancestry(ordered)
    # equivocation: two operations of one author with one seq. Both are stored everywhere (so every
    # node folds the same set) and neither counts
    by_seq: dict[tuple[bytes, int], list[bytes]] = {}
    for op in ordered:
        by_seq.setdefault((op.author, op.seq), []).append(op.id)
    excluded = {i: "equivocation: another operation of its author has the same seq"
                for ids in by_seq.values() if len(ids) > 1 for i in ids}
    excluded.update(_void_counter_removals(ordered, ancestors, bit, excluded))
    for _ in range(MAX_FOLD_PASSES):
        state = _Folding(founder, topic, by_id, ancestors, bit, excluded, proofs)
        for op in ordered:
            state.apply(op)
        more = {k: v for k, v in _not_counting(state, ordered).items() if k not in excluded}
        if not more:
            break
        excluded = {**excluded, **more}
    # a reach operation is never a parent (membership.py, "Onion addresses"): heads are what the
    # operations other than reach, and other than those built on one (forged), build on
    leaves: set[bytes] = set()
    for op in ordered:
        if op.kind == "reach" or any(p in leaves for p in op.parents):
            leaves.add(op.id)
    has_child = {p for op in ordered if op.id not in leaves for p in op.parents}
    heads = tuple(sorted(op.id for op in ordered if op.id not in has_child and op.id not in leaves))
    return Roster(
        name=state.name, founder=founder if state.created_seen else b"", created=state.created,
        settings=state.settings, members=dict(state.members), departed=dict(state.departed),
        cuts=dict(state.cuts),
        ever=frozenset(state.ever), invites=dict(state.invites),
        void_invites={k: v for k, v in state.void_invites.items() if k not in state.invites}, epochs=dict(state.epochs),
        current=state.current, order=tuple(op.id for op in ordered), ignored=dict(state.ignored),
        pending=pending, heads=heads, max_lamport=max((op.lamport for op in by_id.values()), default=0),
        last_rotation=state.last_rotation, generation=state.generation, generations=dict(state.generations),
        roster_stale=state.roster_stale, unacknowledged=_unacknowledged(state, ordered),
        renames=dict(state.renames), names_taken=dict(state.names_taken), reach=dict(state.reach),
        reaches=dict(state.reaches))

"""What the circle scenario measures: who could read each call when, claims, the check-in tally, the
removal cut-off; and the report built from it.

Theory of operation
-------------------
A call is *readable* at a member when the member's own node shows it (``call.show`` answers, as
``meshcare call show`` would for the person): delivered, decrypted, folded into its view. Its latency is
the virtual time from the op that posted it to the first moment the member's node shows it. A call's
*expected* readers are the audience its caller's node sealed it for (everyone else in the circle, the
``waiting_on`` of the op's answer), fixed when it is posted.

The removal cut-off is measured on the removed member's node: calls posted after the remaining members
all knew of the removal must neither arrive there (``received``: an accepted envelope with that id) nor
be readable there.

Percentiles are nearest-rank (``metrics.percentile``); times in the report are virtual, rounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .metrics import percentile

if TYPE_CHECKING:
    from .circle_run import CircleSimulation


@dataclass(slots=True)
class CallTrack:
    """One call for support: who it was for, and when each of them could read it."""

    number: int
    id: str                       # hex, as the ops name it
    caller: int
    phase: str                    # "calls" (before the removal) or "after_removal"
    made_at: float
    expected: frozenset[int]
    read_at: dict[int, float] = field(default_factory=dict)
    claimer: int | None = None
    claim_id: str | None = None
    claimed_at: float | None = None
    claim_seen_at: float | None = None

    @property
    def complete(self) -> bool:
        claimed = self.claimer is None or self.claim_seen_at is not None
        return claimed and len(self.read_at) == len(self.expected)

    def row(self) -> dict[str, Any]:
        latencies = [t - self.made_at for t in self.read_at.values()]
        return {"call": self.number, "caller": self.caller, "expected": len(self.expected),
                "reached": len(self.read_at),
                "fraction": round(len(self.read_at) / len(self.expected), 6) if self.expected else 1.0,
                "latency_ms": latency_ms(latencies)}


@dataclass(slots=True)
class CheckinTrack:
    """The check-in: its author, the replies made (member -> option text) and when the facilitators'
    tallies all matched them."""

    id: str
    author: int
    made_at: float
    options: tuple[str, ...]
    expected: frozenset[int]
    read_at: dict[int, float] = field(default_factory=dict)
    replies: dict[int, str] = field(default_factory=dict)
    replied_at: dict[int, float] = field(default_factory=dict)
    converged_at: float | None = None

    def tally(self) -> dict[str, int]:
        """The tally every facilitator should show once every reply made has reached them."""
        counts = dict.fromkeys(self.options, 0)
        for option in self.replies.values():
            counts[option] += 1
        return counts


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


def latency_ms(seconds: list[float]) -> dict[str, float | None]:
    return {"p50": ms(percentile(seconds, 50)), "p95": ms(percentile(seconds, 95)),
            "max": ms(max(seconds, default=None))}


def calls_report(calls: list[CallTrack], phase: str) -> dict[str, Any]:
    """Delivery of one phase's calls: over all (call, expected member) pairs, and per call."""
    mine = [c for c in calls if c.phase == phase]
    expected = sum(len(c.expected) for c in mine)
    reached = sum(len(c.read_at) for c in mine)
    latencies = [t - c.made_at for c in mine for t in c.read_at.values()]
    claims = [c for c in mine if c.claimed_at is not None]
    seen = [c.claim_seen_at - c.claimed_at for c in claims
            if c.claim_seen_at is not None and c.claimed_at is not None]
    return {
        "calls": len(mine), "expected": expected, "reached": reached,
        "fraction": round(reached / expected, 6) if expected else 1.0,
        "calls_reaching_everyone": sum(1 for c in mine if len(c.read_at) == len(c.expected)),
        "latency_ms": latency_ms(latencies),
        "claims": {"made": len(claims), "seen_by_caller": len(seen), "latency_ms": latency_ms(seen)},
        "per_call": [c.row() for c in mine],
    }


def checkin_report(track: CheckinTrack | None, facilitators: int) -> dict[str, Any]:
    if track is None:
        return {"made": False}
    read = [t - track.made_at for t in track.read_at.values()]
    last_reply = max(track.replied_at.values(), default=None)
    return {
        "made": True, "author": track.author, "facilitators": facilitators, "expected": len(track.expected),
        "read_by": len(track.read_at), "read_latency_ms": latency_ms(read), "replies": len(track.replies),
        "tally": track.tally(), "converged": track.converged_at is not None,
        "converged_after_s": (round(track.converged_at - track.made_at, 6)
                              if track.converged_at is not None else None),
        "after_last_reply_ms": (ms(track.converged_at - last_reply)
                                if track.converged_at is not None and last_reply is not None else None),
    }

def report(sim: CircleSimulation, wall: float) -> dict[str, Any]:
    """The result object of the circle scenario (docs/cli.md lists its keys)."""
    config, world, removed = sim.config, sim.world, sim.removed
    after = [c for c in sim.calls if c.phase == "after_removal"]
    admit = [t - sim.joined_at[i] for i, t in sim.admitted_at.items() if i in sim.joined_at]
    created = sim.created_at if sim.created_at is not None else sim.start
    known = [t for i, t in sim.removal_known.items() if i != removed]
    removal_done = sim.phase_times.get("removal", {}).get("completed", False)
    totals = world.statistics()
    return {
        "scenario": "circle", "seed": config.seed, "nodes": sim.n, "topology": config.topology,
        "gossip": config.gossip, "loss": config.loss, "link_latency_ms": config.latency_ms,
        "jitter_ms": config.jitter_ms, "churn": config.churn, "facilitators": len(sim.facilitators),
        "completed": sim.done_at is not None and all(p["completed"] for p in sim.phase_times.values()),
        "phases": sim.phase_times,
        "join": {
            "admitted": len(sim.admitted_at) - 1, "expected": sim.n - 1,
            "admit_all_s": (round(max(sim.admitted_at.values()) - created, 6)
                            if len(sim.admitted_at) == sim.n else None),
            "admit_ms": latency_ms(admit),
            "full_roster_everywhere": len(sim.full_roster) == sim.n,
        },
        "calls": calls_report(sim.calls, "calls"),
        "checkin": checkin_report(sim.checkin, len(sim.facilitators)),
        "removal": {
            "removed": removed,
            "known_by_all_s": (round(max(known) - sim.removed_at, 6)
                               if removal_done and known and sim.removed_at is not None else None),
            "removed_node_knows": removed is not None and removed in sim.removal_known,
            "calls_after": len(after),
            "removed_received": len(sim.removed_received),
            "removed_readable": len(sim.removed_readable),
            "remaining": calls_report(sim.calls, "after_removal"),
        },
        "refused_ops": dict(sorted(sim.refused.items())), "faults": len(sim.faults),
        "fault_samples": sim.faults[:5], "warnings": sim.warnings,
        "envelopes_checked": sim.members.checked, "envelopes_verified": sim.members.verified,
        "virtual_s": round((sim.done_at if sim.done_at is not None else sim.clock.now) - sim.start, 6),
        "events": world.events, "sim_actions": sim.clock.processed,
        "frames": totals.get("frames_in", 0), "envelopes_received": totals.get("envelopes_received", 0),
        "rejected": totals.get("rejected", 0), "retransmissions": world.model.retransmissions,
        "network": dict(world.counters), "drop_reasons": dict(sorted(world.drop_reasons.items())),
        "wall_s": round(wall, 3), "phase_wall_s": sim.phase_wall,
        "events_per_wall_s": round(world.events / wall, 1) if wall > 0 else None,
    }

"""Clock skew: this machine's clock against its linked peers'. Pure: judges ``node.health``'s ``clocks``.

The limit: a circle holds back a post created more than ``FUTURE_SLACK`` seconds (600, ten minutes)
ahead of the receiving node's clock until that node's clock gets there (circles/circle.py). So when
two clocks differ by ten minutes, a call for support from the faster one waits ten minutes on the
slower one. Doctor warns from ``WARN_S`` (a minute: no harm yet, but clocks drift further) and calls it
a problem from ``PROBLEM_S`` (80% of the limit). The estimate is the node's own (sync/clock_skew.py):
each linked peer's largest ``created - arrival`` of the posts it authored in the last hour.
"""

from __future__ import annotations

from typing import Final

from ..circles.circle import FUTURE_SLACK
from ..control.results_doctor import NodeHealthResult
from .findings import Finding, info, ok, problem, warning

CLOCK: Final = "clock"
#: Seconds of skew from which doctor warns, and from which it is a problem.
WARN_S: Final = 60.0
PROBLEM_S: Final = 0.8 * FUTURE_SLACK

FIX = ("check this machine's clock against a good one: `timedatectl` should say 'System clock synchronized: yes'; "
       "turn network time on with `sudo timedatectl set-ntp true` (a Pi has no battery clock: it needs the "
       "network at boot); if this clock is right, tell the owner of that node to do the same.")


def judge_clock(health: NodeHealthResult) -> list[Finding]:
    """The largest offset of a linked peer's clock against ours, in words, against the limit."""
    limit = health.future_slack_s or FUTURE_SLACK
    if not health.clocks:
        if health.links:
            return [info(CLOCK, "no recent posts from linked peers to compare clocks with yet.")]
        return [info(CLOCK, "no linked peers to compare clocks with.")]
    worst = max(health.clocks, key=lambda c: abs(c.offset_s))
    skew = abs(worst.offset_s)
    peer = worst.node_id[:8]
    n = len(health.clocks)
    if skew < WARN_S:
        return [ok(CLOCK, f"within {skew:.0f} s of the clocks of {n} linked peer(s) (posts wait beyond {limit} s).")]
    if worst.offset_s > 0:
        what = (f"the clock of peer {peer} is {skew:.0f} s ahead of this machine's: its posts wait here once it is "
                f"{limit} s ahead (a call would arrive late).")
    else:
        what = (f"this machine's clock is {skew:.0f} s ahead of peer {peer}'s: this node's posts wait there once it "
                f"is {limit} s ahead (your call would arrive late).")
    if skew < PROBLEM_S:
        return [warning(CLOCK, what, FIX)]
    return [problem(CLOCK, what, FIX)]

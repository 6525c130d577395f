"""What happens when: the timeline of one simulation, planned up front from the seed.

Theory of operation
-------------------
``plan`` turns a ``ScenarioConfig`` into a sorted tuple of ``Step`` records (seconds after the start).
The runner executes them on the virtual clock; only choices that depend on the run's state (which
online node publishes) are made at execution time, from the same seeded RNG, so a run stays a pure
function of seed and flags. The timeline, in order:

1. ``boot``: every node comes up at a random time in ``[0, boot_spread)`` (a real neighbourhood does
   not start in lockstep, and a burst of simultaneous dials would be an artefact).
2. After ``warmup`` (links formed), ``messages`` envelopes are published at ``rate`` per second by random
   online nodes.
3. ``partition`` (seconds, 0 = none): at the first publish, the nodes split into two halves by index
   (``node < n // 2`` vs the rest; for ``lans`` and ``chain`` that cuts the network in two places along
   its length, like a failed uplink, rather than scattering nodes at random). Links across close and
   cannot reopen; after ``partition`` seconds it heals and nodes are told again about peers across.
4. ``churn`` (fraction): that many random nodes each go offline at a random time during the publishing
   window and come back ``churn_down * U(0.5, 1.5)`` seconds later, keeping their store (a real node
   keeps it on disk).
5. ``offline_catchup`` K: once everything above is over (plus ``settle``), one random node goes offline,
   K more envelopes are published, and ``settle`` seconds after the last one (so the others have them)
   the node returns; the runner measures what its catch-up costs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from ..errors import BadInput

BOOT, PUBLISH, PARTITION, HEAL, DOWN, UP = "boot", "publish", "partition", "heal", "down", "up"
CATCHUP: Final = "catchup"
ANY: Final = -1  # a publish step's node: a random online node, chosen when the step runs


@dataclass(frozen=True, slots=True)
class ScenarioConfig:
    """The scenario flags of ``meshcare sim`` (times in virtual seconds)."""

    nodes: int
    messages: int = 10
    rate: float = 10.0
    warmup: float = 5.0
    boot_spread: float = 1.0
    partition: float = 0.0
    churn: float = 0.0
    churn_down: float = 5.0
    offline_catchup: int = 0
    settle: float = 2.0

    def check(self) -> None:
        """Raise BadInput for a scenario that cannot run."""
        if self.nodes < 2:
            raise BadInput("--nodes must be at least 2")
        if self.messages < 0 or self.offline_catchup < 0:
            raise BadInput("--messages and --offline-catchup must be >= 0")
        if self.rate <= 0:
            raise BadInput("--rate must be > 0")
        if not 0.0 <= self.churn < 1.0:
            raise BadInput("--churn is a fraction of the nodes in [0, 1)")
        if self.partition < 0 or self.warmup < 0 or self.boot_spread < 0 or self.churn_down < 0:
            raise BadInput("--partition, --warmup and --churn-down must be >= 0")
        if self.warmup < self.boot_spread:
            raise BadInput("--warmup must not be shorter than the boot spread: publish once nodes are up")


@dataclass(frozen=True, slots=True)
class Step:
    """One scheduled happening. ``phase`` is ``"catchup"`` for the offline catch-up measurement."""

    at: float
    kind: str
    node: int = ANY
    phase: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]
    catchup_node: int | None
    catchup_return: float | None
    end: float

    def publishes(self) -> int:
        return sum(1 for s in self.steps if s.kind == PUBLISH)


def partition_side(node: int, nodes: int) -> int:
    """Which half of a partition ``node`` is on (0 or 1)."""
    return 1 if node >= nodes // 2 else 0


def plan(config: ScenarioConfig, rng: random.Random) -> Plan:
    """Lay out the whole timeline (see the module docstring); deterministic in ``rng``."""
    config.check()
    n = config.nodes
    steps: list[Step] = [Step(rng.random() * config.boot_spread, BOOT, node) for node in range(n)]
    start = config.warmup
    span = config.messages / config.rate
    steps += [Step(start + i / config.rate, PUBLISH) for i in range(config.messages)]
    end = start + span
    if config.partition > 0:
        steps += [Step(start, PARTITION), Step(start + config.partition, HEAL)]
        end = max(end, start + config.partition)
    churned = rng.sample(range(n), round(config.churn * n))
    for node in churned:
        down = start + rng.random() * max(span, 1.0)
        up = down + config.churn_down * (0.5 + rng.random())
        steps += [Step(down, DOWN, node), Step(up, UP, node)]
        end = max(end, up)
    catchup_node: int | None = None
    catchup_return: float | None = None
    if config.offline_catchup:
        catchup_node = rng.randrange(n)
        down = end + config.settle
        first = down + 0.5
        last = first + (config.offline_catchup - 1) / config.rate
        catchup_return = last + config.settle
        steps.append(Step(down, DOWN, catchup_node, CATCHUP))
        steps += [Step(first + i / config.rate, PUBLISH, ANY, CATCHUP) for i in range(config.offline_catchup)]
        steps.append(Step(catchup_return, UP, catchup_node, CATCHUP))
        end = catchup_return
    order = {BOOT: 0, PARTITION: 1, HEAL: 2, UP: 3, DOWN: 4, PUBLISH: 5}
    steps.sort(key=lambda s: (s.at, order[s.kind], s.node))
    return Plan(tuple(steps), catchup_node, catchup_return, max(end, max(s.at for s in steps)))

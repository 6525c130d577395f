"""The knobs of ``meshcare sim`` and their limits: apart from the runner, so that building the command
line (``meshcare --help`` builds every subcommand's parser) does not import the simulator and the whole
node with it. That import had doubled the CLI's start-up time (0.13 s to 0.26 s here; seconds on a Pi)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..errors import BadInput
from . import scenario as sc
from .topology import DEFAULT_BRIDGES, DEFAULT_DEGREE, DEFAULT_SAMPLE

#: Virtual unix time at which every simulation starts (2027-01-15).
START: Final = 1_800_000_000.0
GOSSIP: Final = ("plumtree", "flood")
#: ``gossip``: bare sync engines publish plain envelopes (the figures of docs/benchmarks.md section 3);
#: ``circle``: real nodes found and run one support circle through the control ops (``circle_run.py``).
SCENARIOS: Final = ("gossip", "circle")
#: Virtual time limit of the circle scenario when ``duration`` is not given (each phase has its own).
CIRCLE_LIMIT: Final = 6 * 3600.0
#: Result keys that depend on the wall clock (everything else is a function of seed and flags).
WALL_FIELDS: Final = frozenset({"wall_s", "setup_wall_s", "events_per_wall_s", "phase_wall_s"})


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Every knob of ``meshcare sim`` (times in seconds unless the name says ms)."""

    seed: int = 1
    nodes: int = 30
    topology: str = "lan"
    lans: int | None = None
    degree: int = DEFAULT_DEGREE
    bridges: int = DEFAULT_BRIDGES
    sample: int = DEFAULT_SAMPLE
    loss: float = 0.0
    latency_ms: float = 10.0
    jitter_ms: float = 5.0
    partition: float = 0.0
    churn: float = 0.0
    churn_down: float = 5.0
    messages: int = 10
    rate: float = 10.0
    warmup: float = 5.0
    boot_spread: float = 1.0
    settle: float = 2.0
    offline_catchup: int = 0
    gossip: str = "plumtree"
    prefill: int = 0
    body_bytes: int = 200
    duration: float | None = None
    drain: float = 1.0
    connect_timeout: float = 1.0
    verify_memo: bool = True
    urgent: bool = False  # publish in the urgent lane (calls for support: flooded, not only the tree)
    scenario: str = "gossip"
    calls: int = 10          # circle: calls for support before the removal
    calls_after: int = 5     # circle: calls after it
    call_every: float = 2.0  # circle: virtual seconds between two calls
    facilitators: int = 1    # circle: members invited as facilitators besides the founder

    def plan_config(self) -> sc.ScenarioConfig:
        """The gossip scenario's timeline flags."""
        return sc.ScenarioConfig(nodes=self.nodes, messages=self.messages, rate=self.rate, warmup=self.warmup,
                                 boot_spread=self.boot_spread, partition=self.partition, churn=self.churn,
                                 churn_down=self.churn_down, offline_catchup=self.offline_catchup,
                                 settle=self.settle)

    def check(self) -> None:
        """Raise BadInput for flags that cannot make a simulation."""
        if self.gossip not in GOSSIP:
            raise BadInput(f"--gossip must be one of {', '.join(GOSSIP)}")
        if not 0.0 <= self.loss < 1.0:
            raise BadInput("--loss must be in [0, 1): TCP retransmits, so at 1 nothing would ever arrive")
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise BadInput("--latency-ms and --jitter-ms must be >= 0")
        if self.prefill < 0 or self.body_bytes < 1:
            raise BadInput("--prefill must be >= 0 and --body-bytes >= 1")
        if self.drain < 0:
            raise BadInput("--drain must be >= 0")
        if self.scenario not in SCENARIOS:
            raise BadInput(f"--scenario must be one of {', '.join(SCENARIOS)}")
        if self.scenario == "circle":
            self.check_circle()
        self.plan_config().check()

    def check_circle(self) -> None:
        """Raise BadInput for flags the circle scenario cannot honour."""
        if self.partition or self.offline_catchup or self.prefill or self.urgent:
            raise BadInput("--partition, --offline-catchup, --prefill and --urgent belong to the gossip "
                           "scenario; the circle scenario has its own phases (--calls, --calls-after, --churn)")
        if self.calls < 0 or self.calls_after < 0 or self.call_every <= 0:
            raise BadInput("--calls and --calls-after must be >= 0 and --call-every > 0")
        if not 0 <= self.facilitators <= self.nodes - 2:
            raise BadInput("--facilitators must leave at least one member who can be removed "
                           f"(0 to {self.nodes - 2} with {self.nodes} nodes)")



"""Build a simulation from its flags, run it on the virtual clock, and report the figures.

Theory of operation
-------------------
``simulate(config)`` derives one RNG per concern from the seed (topology, network, scenario, circle,
engines, world), so changing one flag (say ``--loss``) does not reshuffle the topology. It builds the
topology, the circle (keys, topic), one ``MemoryStore`` per node (``--prefill`` seals the old envelopes
once and adds the same objects to every store), the scenario plan, and a ``World`` whose nodes boot at
the planned times. Each node gets a ``SyncEngine`` over its store, with its own RNG.

The run ends ``drain`` seconds (default 1) after every online node holds every published message (the
scenario being over), so that copies and bytes still in flight at that moment are counted too; or at
the virtual time limit (``duration``, default: the scenario's end + 60 s), whichever comes first.
``completed`` says which; ``virtual_s`` is the moment of completion (or the limit). ``events_per_wall_s`` counts events handed to engines
(``handle`` and ``handle_deadline`` calls) per wall-clock second of the run itself (setup excluded and
reported separately as ``setup_wall_s``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from .. import envelope as env
from ..sync.events import Published
from ..errors import BadInput
from ..store.memory import MemoryStore
from . import scenario as sc
from .circle import SimCircle, Verifier
from .metrics import CatchupProbe, DeliveryLog, summarize
from .network import Clock, LinkModel
from .topology import DEFAULT_BRIDGES, DEFAULT_DEGREE, DEFAULT_SAMPLE, build
from .config import CIRCLE_LIMIT, GOSSIP, SCENARIOS, START, WALL_FIELDS, SimConfig  # noqa: F401 (named here too)
from .world import Engine, World

EngineFactory = Callable[[MemoryStore, Verifier, random.Random], Engine]


def circle_node_factory(gossip: str) -> EngineFactory:
    """Engines for the simulation: the real sync engine, ``SyncEngine``.

    Imported here rather than at the top so the simulator's own parts (topologies, network, metrics)
    load and test without the engine.
    """
    from ..sync.engine import SyncEngine, SyncConfig

    sync_config = SyncConfig(gossip=gossip)

    def make(store: MemoryStore, verifier: Verifier, rng: random.Random) -> Engine:
        return SyncEngine(store, verifier, rng=rng, config=sync_config)

    return make


class Simulation:
    """One run: built in ``__init__``, executed by ``run`` (see the module docstring)."""

    def __init__(self, config: SimConfig, engine_factory: EngineFactory | None = None) -> None:
        config.check()
        self.config = config
        master = random.Random(config.seed)
        rngs = {name: random.Random(master.getrandbits(64))
                for name in ("topology", "network", "scenario", "circle", "engines", "world")}
        n = config.nodes
        self.topology = build(config.topology, n, rngs["topology"], lans=config.lans, degree=config.degree,
                              bridges=config.bridges, sample=config.sample)
        self.circle = SimCircle(n, rngs["circle"], config.body_bytes)
        self.stores = [MemoryStore() for _ in range(n)]
        if config.prefill:
            old = self.circle.prefill(config.prefill, int(START))
            for store in self.stores:
                store.add(old, int(START))
        self.plan = sc.plan(config.plan_config(), rngs["scenario"])
        self.clock = Clock(START)
        self.log = DeliveryLog(n)
        verifier = self.circle.verifier(memo=config.verify_memo)
        factory = engine_factory or circle_node_factory(config.gossip)
        engine_rng = rngs["engines"]

        def make_engine(node: int) -> Engine:
            return factory(self.stores[node], verifier, random.Random(engine_rng.getrandbits(64)))

        model = LinkModel(rngs["network"], config.latency_ms / 1000.0, config.jitter_ms / 1000.0, config.loss)
        side = [sc.partition_side(i, n) for i in range(n)]
        self.world = World(self.clock, model, self.topology, self.stores, self.circle.topic, self.log,
                           make_engine, rngs["world"], side, config.connect_timeout)
        self.world.on_deliver = self._delivered
        self.probe: CatchupProbe | None = None
        if self.plan.catchup_node is not None:
            self.probe = self.world.probe = CatchupProbe(self.plan.catchup_node)
        self.total = self.plan.publishes()
        self.waiting: set[int] | None = None  # online nodes still missing messages, once the plan is over
        self.completed_at: float | None = None
        self._pick = rngs["scenario"]
        for step in self.plan.steps:
            self.clock.at(START + step.at, self._step, step)
        self.clock.at(START + self.plan.end, self._plan_over)

    # --- the scenario ------------------------------------------------------------------------------

    def _step(self, step: sc.Step) -> None:
        world, kind = self.world, step.kind
        if kind in (sc.BOOT, sc.UP):
            world.up(step.node)
            if step.phase == sc.CATCHUP and self.probe is not None:
                engine = world.engines[step.node]
                self.probe.start(self.clock.now, engine.statistics() if engine is not None else {})
        elif kind == sc.DOWN:
            world.down(step.node)
        elif kind == sc.PUBLISH:
            self._publish(step.phase)
        elif kind == sc.PARTITION:
            world.partition()
        elif kind == sc.HEAL:
            world.heal()
        else:
            raise ValueError(f"unknown scenario step {kind!r}")

    def _publish(self, phase: str) -> None:
        online = self.world.online
        n = len(online)
        author = -1
        for _ in range(64):
            candidate = self._pick.randrange(n)
            if online[candidate]:
                author = candidate
                break
        else:
            up = [i for i in range(n) if online[i]]
            if not up:
                return
            author = self._pick.choice(up)
        now = self.clock.now
        lane = env.Lane.URGENT if self.config.urgent else env.Lane.NORMAL
        envelope = self.circle.seal(author, int(now), f"call {len(self.log)}", lane)
        index = self.log.publish(envelope.id, envelope.size, author, now, phase)
        if phase == sc.CATCHUP and self.probe is not None:
            self.probe.missing(index, envelope.size)
        self.world.feed(author, Published(envelope))

    def _plan_over(self) -> None:
        per_node, online = self.log.per_node, self.world.online
        self.waiting = {i for i in range(len(online)) if online[i] and per_node[i] < self.total}
        if not self.waiting:
            self._complete()

    def _delivered(self, node: int, index: int) -> None:
        probe = self.probe
        if probe is not None and node == probe.node and probe.active and index in probe.want:
            engine = self.world.engines[node]
            probe.got(index, self.clock.now, engine.statistics() if engine is not None else {})
        waiting = self.waiting
        if waiting is not None and node in waiting and self.log.per_node[node] >= self.total:
            waiting.discard(node)
            if not waiting:
                self._complete()

    def _complete(self) -> None:
        """Everything is everywhere: note when, and stop after ``drain`` (copies still in flight land)."""
        self.completed_at = self.clock.now
        self.clock.after(self.config.drain, self.clock.stop)

    # --- running and reporting ---------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Run to completion or the time limit; return the result object (see ``report``)."""
        limit = self.config.duration if self.config.duration is not None else self.plan.end + 60.0
        started = time.perf_counter()
        self.clock.run(START + limit)
        return self.report(time.perf_counter() - started)

    def report(self, wall: float) -> dict[str, Any]:
        """The ``--json`` object: the contract keys plus context (see docs of ``meshcare sim``)."""
        config, world = self.config, self.world
        online_at_end = [i for i, up in enumerate(world.online) if up]
        totals = world.statistics()
        result = summarize(self.log, online_at_end, totals, world.counters["arrived_bytes"])
        result.update({
            "seed": config.seed, "nodes": config.nodes, "topology": config.topology, "gossip": config.gossip,
            "lans": self.topology.lan_count if config.topology == "lans" else None,
            "loss": config.loss, "link_latency_ms": config.latency_ms, "jitter_ms": config.jitter_ms,
            "partition_s": config.partition, "churn": config.churn, "prefill": config.prefill,
            "messages": len(self.log), "completed": self.waiting is not None and not self.waiting,
            "virtual_s": round((self.completed_at or self.clock.now) - START, 6),
            "online_at_end": len(online_at_end),
            "events": world.events, "sim_actions": self.clock.processed, "dropped": totals.get("dropped", 0), "rejected": totals.get("rejected", 0),
            "frames": totals.get("frames_in", 0), "retransmissions": world.model.retransmissions,
            "wire_bytes_per_delivered": (round(world.counters["wire_bytes"] / result["deliveries"], 3)
                                         if result["deliveries"] else None),
            "unknown_hops": self.log.unknown_hops,
            "network": dict(world.counters),
            "drop_reasons": dict(sorted(world.drop_reasons.items())),
            "wall_s": round(wall, 3),
            "events_per_wall_s": round(world.events / wall, 1) if wall > 0 else None,
        })
        if self.probe is not None:
            result["catchup"] = self.probe.report(config.offline_catchup)
        return result


def simulate(config: SimConfig, engine_factory: EngineFactory | None = None) -> dict[str, Any]:
    """Build and run one simulation; the result object of ``meshcare sim --json``."""
    if config.scenario == "circle":
        return simulate_circle(config)
    started = time.perf_counter()
    sim = Simulation(config, engine_factory)
    setup = time.perf_counter() - started
    result = sim.run()
    result["setup_wall_s"] = round(setup, 3)
    return result


def simulate_circle(config: SimConfig) -> dict[str, Any]:
    """Build and run the circle scenario (``circle_run.py``); its result object."""
    from .circle_run import CircleSimulation

    config.check()
    started = time.perf_counter()
    sim = CircleSimulation(config, START)
    setup = time.perf_counter() - started
    result = sim.run(config.duration if config.duration is not None else CIRCLE_LIMIT)
    result["setup_wall_s"] = round(setup, 3)
    return result

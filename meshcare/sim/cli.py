"""``meshcare sim``: run one deterministic simulation and print its figures.

``add_parser(subparsers)`` registers the subcommand (its flags are a contract: scripts use them, see
docs/cli.md); ``run(args)`` executes it. With ``--json`` it prints one JSON object whose keys are a
contract too (``delivery_ratio``, ``latency_ms``, ``hops``, ``copies_per_delivered``,
``payload_bytes_per_delivered``, ``control_bytes_per_delivered``, ``catchup`` with
``--offline-catchup``, ``events_per_wall_s``, and more context keys); without it, a short table.
``--scenario circle`` runs real nodes through one support circle (``circle_run.py``); its object has
``scenario: "circle"`` and the keys docs/cli.md lists (``join``, ``calls``, ``checkin``, ``removal``, ...).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .config import GOSSIP, SCENARIOS, SimConfig
from .topology import DEFAULT_BRIDGES, DEFAULT_DEGREE, DEFAULT_SAMPLE, KINDS

HELP = ("simulate N nodes over the real sync engine (or, with --scenario circle, N real nodes running one "
        "support circle) in virtual time (deterministic per seed)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of ``meshcare sim`` (also used by ``python -m meshcare.sim``)."""
    d = SimConfig()
    p.add_argument("--seed", type=int, default=d.seed, help="seed of every random choice (default %(default)s)")
    p.add_argument("--nodes", type=int, default=d.nodes, help="number of nodes (default %(default)s)")
    p.add_argument("--topology", choices=KINDS, default=d.topology, help="network shape (default %(default)s)")
    p.add_argument("--lans", type=int, default=None, metavar="K",
                   help="number of LANs for --topology lans (default: about sqrt(nodes))")
    p.add_argument("--bridges", type=int, default=DEFAULT_BRIDGES,
                   help="bridge nodes per pair of adjacent LANs (default %(default)s)")
    p.add_argument("--degree", type=int, default=DEFAULT_DEGREE,
                   help="degree of --topology random-regular (default %(default)s)")
    p.add_argument("--sample", type=int, default=DEFAULT_SAMPLE,
                   help="peers each node's discovery sees on a large LAN (default %(default)s)")
    p.add_argument("--loss", type=float, default=d.loss,
                   help="per-delivery loss probability in [0, 1); TCP retransmits after an RTO (default 0)")
    p.add_argument("--latency-ms", type=float, default=d.latency_ms, help="one-way link latency (default %(default)s)")
    p.add_argument("--jitter-ms", type=float, default=d.jitter_ms,
                   help="extra uniform delay in [0, jitter]; never reorders a link (default %(default)s)")
    p.add_argument("--partition", type=float, default=0.0, metavar="SECONDS",
                   help="split the nodes in two halves for SECONDS, then heal (0 = none)")
    p.add_argument("--churn", type=float, default=0.0, metavar="FRACTION",
                   help="fraction of nodes that go offline during publishing and come back")
    p.add_argument("--churn-down", type=float, default=d.churn_down, metavar="SECONDS",
                   help="mean time a churned node stays offline (default %(default)s)")
    p.add_argument("--messages", type=int, default=d.messages, help="envelopes to publish (default %(default)s)")
    p.add_argument("--rate", type=float, default=d.rate, help="publishes per virtual second (default %(default)s)")
    p.add_argument("--warmup", type=float, default=d.warmup,
                   help="virtual seconds between boot and the first publish (default %(default)s)")
    p.add_argument("--offline-catchup", type=int, default=0, metavar="K",
                   help="one node goes offline, K envelopes are published, it returns; measure its catch-up")
    p.add_argument("--gossip", choices=GOSSIP, default=d.gossip,
                   help="plumtree (the engine's protocol) or flood (naive flooding, for comparison)")
    p.add_argument("--prefill", type=int, default=0, metavar="N",
                   help="give every node the same N old envelopes before the run")
    p.add_argument("--body-bytes", type=int, default=d.body_bytes,
                   help="plaintext size of each message (default %(default)s)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help="virtual time limit (default: end of the scenario + 60 s)")
    p.add_argument("--drain", type=float, default=d.drain, metavar="SECONDS",
                   help="keep running this long after the last delivery so copies in flight are counted "
                        "(default %(default)s)")
    p.add_argument("--no-verify-memo", action="store_true",
                   help="verify every signature on every node (slow; by default a check is shared by id)")
    p.add_argument("--urgent", action="store_true",
                   help="publish calls for support (urgent lane: pushed on every link) instead of normal messages")
    p.add_argument("--scenario", choices=SCENARIOS, default=d.scenario,
                   help="gossip: bare sync engines publish --messages envelopes (default); circle: real nodes, "
                        "node 0 founds a circle and invites everyone, then calls, claims, a check-in, a removal "
                        "and calls after it, through the control ops")
    p.add_argument("--calls", type=int, default=d.calls, metavar="N",
                   help="circle: calls for support before the removal (default %(default)s)")
    p.add_argument("--calls-after", type=int, default=d.calls_after, metavar="N",
                   help="circle: calls after the removal; the removed node must read none (default %(default)s)")
    p.add_argument("--call-every", type=float, default=d.call_every, metavar="SECONDS",
                   help="circle: virtual seconds between two calls (default %(default)s)")
    p.add_argument("--facilitators", type=int, default=d.facilitators, metavar="N",
                   help="circle: members invited as facilitators besides the founder (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object for scripts")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``sim`` on an ``add_subparsers()`` object; returns the new parser."""
    p: argparse.ArgumentParser = subparsers.add_parser("sim", help=HELP, description=HELP)
    add_arguments(p)
    return p


def config_from_args(args: argparse.Namespace) -> SimConfig:
    return SimConfig(seed=args.seed, nodes=args.nodes, topology=args.topology, lans=args.lans,
                     degree=args.degree, bridges=args.bridges, sample=args.sample, loss=args.loss,
                     latency_ms=args.latency_ms, jitter_ms=args.jitter_ms, partition=args.partition,
                     churn=args.churn, churn_down=args.churn_down, messages=args.messages, rate=args.rate,
                     warmup=args.warmup, offline_catchup=args.offline_catchup, gossip=args.gossip,
                     prefill=args.prefill, body_bytes=args.body_bytes, duration=args.duration, drain=args.drain,
                     verify_memo=not args.no_verify_memo, urgent=args.urgent, scenario=args.scenario,
                     calls=args.calls, calls_after=args.calls_after, call_every=args.call_every,
                     facilitators=args.facilitators)


_FLAGS = {"seed": "--seed", "nodes": "--nodes", "topology": "--topology", "lans": "--lans", "bridges": "--bridges",
          "degree": "--degree", "sample": "--sample", "loss": "--loss", "latency_ms": "--latency-ms",
          "jitter_ms": "--jitter-ms", "partition": "--partition", "churn": "--churn", "churn_down": "--churn-down",
          "messages": "--messages", "rate": "--rate", "warmup": "--warmup", "offline_catchup": "--offline-catchup",
          "gossip": "--gossip", "prefill": "--prefill", "body_bytes": "--body-bytes", "duration": "--duration",
          "drain": "--drain", "scenario": "--scenario", "calls": "--calls", "calls_after": "--calls-after",
          "call_every": "--call-every", "facilitators": "--facilitators"}
_ALWAYS = {"gossip": ("seed", "nodes", "topology", "messages"),
           "circle": ("seed", "nodes", "topology", "scenario", "calls", "calls_after")}


def command_line(config: SimConfig, json_flag: bool = True) -> str:
    """The ``meshcare sim`` call that runs ``config`` (flags that differ from the defaults, plus --seed)."""
    default = SimConfig()
    words = ["meshcare", "sim"]
    always = _ALWAYS.get(config.scenario, ())
    for field, flag in _FLAGS.items():
        value = getattr(config, field)
        if value != getattr(default, field) or field in always:
            words += [flag, _fmt(value)]
    if not config.verify_memo:
        words.append("--no-verify-memo")
    if config.urgent:
        words.append("--urgent")
    if json_flag:
        words.append("--json")
    return " ".join(words)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def table(result: dict[str, Any]) -> str:
    """The human summary of a result object."""
    lat, hops = result["latency_ms"], result["hops"]
    rows = [
        ("nodes / topology / gossip", f"{result['nodes']} / {result['topology']} / {result['gossip']}"),
        ("messages", _fmt(result["messages"])),
        ("delivery ratio", f"{_fmt(result['delivery_ratio'])}  ({result['deliveries']} of "
                           f"{result['expected_deliveries']} expected)"),
        ("latency ms p50 / p99 / max", " / ".join(_fmt(lat[k]) for k in ("p50", "p99", "max"))),
        ("hops p50 / max", f"{_fmt(hops['p50'])} / {_fmt(hops['max'])}"),
        ("copies per delivered", _fmt(result["copies_per_delivered"])),
        ("payload / control bytes per delivered", f"{_fmt(result['payload_bytes_per_delivered'])} / "
                                                  f"{_fmt(result['control_bytes_per_delivered'])}"),
    ]
    if "catchup" in result:
        c = result["catchup"]
        rows.append(("catch-up bytes / missing bytes / round trips",
                     f"{_fmt(c['bytes'])} / {_fmt(c['missing_bytes'])} / {_fmt(c['round_trips'])}"))
        rows.append(("catch-up: then bytes in / out until the end", f"{c['bytes_after']} / {c['bytes_out_after']}"))
    rows += [
        ("completed / virtual s", f"{result['completed']} / {_fmt(result['virtual_s'])}"),
        ("events / per wall s", f"{result['events']} / {_fmt(result['events_per_wall_s'])}"),
        ("wall s (setup + run)", f"{_fmt(result['setup_wall_s'])} + {_fmt(result['wall_s'])}"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def circle_table(result: dict[str, Any]) -> str:
    """The human summary of a circle scenario's result object."""
    join, calls, checkin, removal = result["join"], result["calls"], result["checkin"], result["removal"]
    after = removal["remaining"]

    def lat(x: dict[str, Any]) -> str:
        return " / ".join(_fmt(x[k]) for k in ("p50", "p95", "max"))

    rows = [
        ("nodes / topology / loss / churn",
         f"{result['nodes']} / {result['topology']} / {_fmt(result['loss'])} / {_fmt(result['churn'])}"),
        ("members admitted / all after (virtual s)",
         f"{join['admitted']} of {join['expected']} / {_fmt(join['admit_all_s'])}"),
        ("join to member ms p50 / p95 / max", lat(join["admit_ms"])),
        ("calls: readable at members", f"{_fmt(calls['fraction'])}  ({calls['reached']} of {calls['expected']}; "
                                       f"{calls['calls_reaching_everyone']} of {calls['calls']} calls reached all)"),
        ("calls: post to readable ms p50 / p95 / max", lat(calls["latency_ms"])),
        ("claims seen by the caller / ms p50 / p95 / max",
         f"{calls['claims']['seen_by_caller']} of {calls['claims']['made']} / {lat(calls['claims']['latency_ms'])}"),
    ]
    if checkin["made"]:
        rows.append(("check-in: replies / every tally right",
                     f"{checkin['replies']} of {checkin['expected']} / {_fmt(checkin['converged_after_s'])} s "
                     f"after asking, {_fmt(checkin['after_last_reply_ms'])} ms after the last reply"))
    rows += [
        ("removal known by all after s", _fmt(removal["known_by_all_s"])),
        ("removed node: later calls received / readable",
         f"{removal['removed_received']} / {removal['removed_readable']} of {removal['calls_after']}"),
        ("after removal: readable at the others",
         f"{_fmt(after['fraction'])}  ({after['reached']} of {after['expected']}); "
         f"ms p50 / p95 / max {lat(after['latency_ms'])}"),
        ("completed / virtual s", f"{result['completed']} / {_fmt(result['virtual_s'])}"),
        ("envelopes checked / signatures verified", f"{result['envelopes_checked']} / {result['envelopes_verified']}"),
        ("faults / refused ops", f"{result['faults']} / {sum(result['refused_ops'].values())}"),
        ("events / per wall s", f"{result['events']} / {_fmt(result['events_per_wall_s'])}"),
        ("wall s (setup + run)", f"{_fmt(result['setup_wall_s'])} + {_fmt(result['wall_s'])}"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def run(args: argparse.Namespace) -> int:
    """Run the simulation the flags describe and print its figures; returns 0.

    A delivery ratio below 1 is a finding, not a failure of the command: scripts read ``completed`` and
    ``delivery_ratio``. Bad flags raise BadInput (exit 1 through the CLI's error handling).
    """
    from .runner import simulate      # the simulator and the node: only when a simulation runs
    result = simulate(config_from_args(args))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(circle_table(result) if result.get("scenario") == "circle" else table(result))
    return 0

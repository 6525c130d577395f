"""meshcare's nodes for one run: `meshcare daemon` processes, the circle (call path), the workers.

Daemons are ``daemon_procs.Proc`` (the same as bench_daemon's: own MESHCARE_HOME, 127.0.0.1, no
discovery, the per-author budget lifted in config.toml, ``--bench-ops``). Links: in the pair B dials
A; in the chain R starts first and A and C each get only R as ``--peer``, so A and C are never linked
(``check`` asks A's ``peers`` to be sure, before and after the measurement).

Call path: A founds the circle ``bench`` (``circle.create``), invites the others (``circle.invite``),
and they join with the token (``circle.join``) and are admitted by A's node, as in tests/helpers.py's
``circle_of_three``, except that the token is handed over without the inviter's address (which the
joiner would dial: ``without_addresses``). In the chain, R joins as a ``relay`` (a node that keeps and
passes on the circle's envelopes but cannot read them: the closest thing meshcare has to a router that
forwards), and C's request to join reaches A through R. The only per-member limit on calls is the
per-author budget, lifted as above (``--meshcare-paths call-circle`` is the same calls, delivered at
another event: see meshcare_worker.py).

Setup talks to the daemons directly (one request per connection, as the CLI does); nothing of it
is measured. The workers are started once everything is linked and in the circle.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

from daemon_procs import SECRET, Proc
from meshcare.circles.invites import parse_token

from .deployment import NODES, Deployment
from .workers import Inbox, WorkerProc, wait_ready

WORKER = Path(__file__).resolve().parent / "meshcare_worker.py"
CIRCLE = "bench"
PATHS = ("topic", "call", "call-circle")
#: What the output says about the limits this run lifted.
LIFTED = "per-author budget (author_per_minute) lifted to 10,000,000 in every daemon's config.toml"


def _wait(predicate: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"meshcare setup: timed out waiting for {what}")
        time.sleep(0.05)


def _links(proc: Proc) -> int:
    return int(proc.request("status")["links"])


def _member(proc: Proc) -> bool:
    circles = proc.request("circle.list")["circles"]
    return any(c["name"] == CIRCLE and c["status"] == "member" and c.get("epoch") is not None for c in circles)


def _roster(proc: Proc) -> tuple[int, int]:
    circle = next((c for c in proc.request("circle.list")["circles"] if c["name"] == CIRCLE), None)
    return (0, 0) if circle is None else (int(circle["members"]), int(circle["relays"]))


def without_addresses(token: str) -> str:
    """The invite token with no addresses in it. A token names where its inviter listens, and the
    joiner dials that: in the chain C would link to A. The nodes are linked already, so the lobby
    reaches A through the links there are."""
    return dataclasses.replace(parse_token(token), hints=()).encode()


def _join(founder: Proc, joiner: Proc, role: str) -> None:
    token = founder.request("circle.invite", circle=CIRCLE, role=role)["token"]
    joiner.request("circle.join", token=without_addresses(token))
    _wait(lambda: _member(joiner), f"{joiner.name} to be admitted to the circle as {role}")


def _not_linked(a: Proc, c: Proc, c_id: str) -> None:
    """Raise RuntimeError if A knows C at all: a link to it, or its address."""
    c_address = f"127.0.0.1:{c.port}"
    for peer in a.request("peers")["peers"]:
        if peer.get("node_id") == c_id or peer.get("address") == c_address:
            raise RuntimeError(f"the chain is broken: A knows C ({peer}); A and C must not be linked")


def start(root: Path, topology: str, path: str, inbox: Inbox, *, sync: str = "FULL") -> Deployment:
    """Start the daemons and workers of ``topology`` for ``path`` (topic or call) under ``root``.
    Raises RuntimeError (or WorkerDied) when something does not come up; nothing is left running then."""
    if path not in PATHS:
        raise ValueError(f"unknown meshcare path {path!r}; known: {', '.join(PATHS)}")
    procs: dict[str, Proc] = {}
    workers: dict[str, WorkerProc] = {}

    def stop() -> None:
        for worker in workers.values():
            worker.quit()
        for proc in procs.values():
            proc.stop()
    try:
        secret = SECRET if path == "topic" else None
        if topology == "pair":
            procs["A"] = Proc(root, "a", sync=sync, secret=secret)
            procs["B"] = Proc(root, "b", (procs["A"].port,), sync=sync, secret=secret)
            _wait(lambda: _links(procs["A"]) == 1 and _links(procs["B"]) == 1, "the link A-B")
        elif topology == "chain":
            procs["R"] = Proc(root, "r", sync=sync, secret=secret)
            procs["A"] = Proc(root, "a", (procs["R"].port,), sync=sync, secret=secret)
            procs["C"] = Proc(root, "c", (procs["R"].port,), sync=sync, secret=secret)
            _wait(lambda: _links(procs["R"]) == 2 and _links(procs["A"]) == 1 and _links(procs["C"]) == 1,
                  "the links A-R and R-C")
        else:
            raise ValueError(f"unknown topology {topology!r}")
        if path != "topic":
            _circle(procs, topology)
        notes = [LIFTED]
        check: Callable[[], None] = lambda: None
        if topology == "chain":
            c_id = procs["C"].request("status")["node_id"]
            check = lambda: _not_linked(procs["A"], procs["C"], c_id)  # noqa: E731
            check()
            notes.append("chain: R is a circle relay (stores and passes on, cannot read)" if path != "topic"
                         else "chain: R relays the plain topic (every node syncs it)")
        roles = {"A": "sender", "B": "receiver", "R": "relay", "C": "receiver"}
        for name in NODES[topology]:
            argv = [sys.executable, str(WORKER), "--role", roles[name], "--dir", str(procs[name].home),
                    "--path", path]
            argv += ["--secret", SECRET] if path == "topic" else ["--circle", CIRCLE]
            workers[name] = WorkerProc(name, argv, inbox, root)
        wait_ready(inbox, list(workers.values()), timeout=60)
    except BaseException:
        stop()
        raise
    processes: dict[str, int] = {}
    for name in NODES[topology]:
        processes[f"{name} daemon"] = procs[name].pid
        processes[f"{name} worker"] = workers[name].pid
    return Deployment(row=f"meshcare/{path}", topology=topology, inbox=inbox, workers=workers,
                      processes=processes, stop=stop, check=check, notes=notes)


def _circle(procs: dict[str, Proc], topology: str) -> None:
    """A founds the circle; the others join (see the module docstring)."""
    founder = procs["A"]
    founder.request("circle.create", name=CIRCLE)
    if topology == "pair":
        _join(founder, procs["B"], "member")
        expect = (2, 0)
    else:
        _join(founder, procs["R"], "relay")
        _join(founder, procs["C"], "member")
        expect = (2, 1)
    for name, proc in procs.items():
        _wait(_sees(proc, expect), f"{name} to see the whole circle (members, relays) = {expect}")


def _sees(proc: Proc, expect: tuple[int, int]) -> Callable[[], bool]:
    return lambda: _roster(proc) == expect

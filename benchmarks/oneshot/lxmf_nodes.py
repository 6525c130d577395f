"""LXMF's nodes for one run: one worker per node (benchmarks/peers/lxmf_worker.py), nothing else.

An LXMF application runs Reticulum and the LXMF router in its own process, so each node is only its
worker, run by the interpreter of benchmarks/peers/.venv (never the project's). Each worker listens
on a TCP port on 127.0.0.1 that the driver picked (``--listen-port``) and dials the ports it is given
(``--connect-port``): in the pair A dials B; in the chain A and C each dial only R, whose worker
(``--role relay``) forwards. Listeners start first, the sender last, given the receiver's address
(``--to``, its LXMF destination hash from its ``ready`` line) so it has a path before it is ready.
"""

from __future__ import annotations

from pathlib import Path

from .deployment import NODES, Deployment, free_port
from .workers import Inbox, WorkerProc, wait_ready

PEERS = Path(__file__).resolve().parents[1] / "peers"
WORKER = PEERS / "lxmf_worker.py"
DEFAULT_PYTHON = PEERS / ".venv" / "bin" / "python"
#: Which node dials which, per topology (the dialled one must be up first).
CONNECTS = {"pair": {"A": ("B",), "B": ()}, "chain": {"R": (), "A": ("R",), "C": ("R",)}}
#: Start order per topology: every node after the ones it dials.
ORDER = {"pair": ("B", "A"), "chain": ("R", "C", "A")}
ROLES = {"A": "sender", "B": "receiver", "R": "relay", "C": "receiver"}


def argv_for(python: Path, node: str, topology: str, home: Path, ports: dict[str, int],
             extra: list[str]) -> list[str]:
    """The command line of one node's worker (WORKERS.md): role, directory, ports, then ``extra``."""
    argv = [str(python), str(WORKER), "--role", ROLES[node], "--dir", str(home), "--listen-port", str(ports[node])]
    for other in CONNECTS[topology][node]:
        argv += ["--connect-port", str(ports[other])]
    return argv + extra


def check_installed(python: Path) -> None:
    """Raise FileNotFoundError with what to run when the LXMF side is missing."""
    if not python.exists():
        raise FileNotFoundError(f"{python} does not exist: run `make bench-peers` (it makes benchmarks/peers/.venv "
                                "with rns and lxmf), or give --lxmf-python")
    if not WORKER.exists():
        raise FileNotFoundError(f"{WORKER} does not exist (the LXMF worker)")


def start(root: Path, topology: str, inbox: Inbox, *, python: Path, extra: list[str] | None = None,
          ready_timeout: float = 60.0) -> Deployment:
    """Start the workers of ``topology`` under ``root``, each ready before the next starts.
    Raises WorkerDied (with the worker's stderr) when one does not come up; nothing is left running then."""
    check_installed(python)
    ports = {name: free_port() for name in NODES[topology]}
    workers: dict[str, WorkerProc] = {}

    def stop() -> None:
        for worker in workers.values():
            worker.quit()
    try:
        for node in ORDER[topology]:
            home = root / f"lxmf-{node.lower()}"
            home.mkdir(parents=True, exist_ok=True)
            argv = argv_for(python, node, topology, home, ports, extra or [])
            if ROLES[node] == "sender":
                # the sender finds its path to the receiver before it says ready, so the first measured
                # message does not wait for one (the receiver started first: ORDER)
                (receiver,) = [w for n, w in workers.items() if ROLES[n] == "receiver"]
                argv += ["--to", receiver.address]
            workers[node] = WorkerProc(node, argv, inbox, root)
            wait_ready(inbox, [workers[node]], timeout=ready_timeout)
    except BaseException:
        stop()
        raise
    ordered = {name: workers[name] for name in NODES[topology]}
    notes = ["no daemon: Reticulum and the LXMF router run inside each worker"]
    if topology == "chain":
        notes.append("chain: A and C dial only R (--connect-port), R forwards")
    return Deployment(row="lxmf", topology=topology, inbox=inbox, workers=ordered,
                      processes={f"{name} worker": w.pid for name, w in ordered.items()}, stop=stop, notes=notes)

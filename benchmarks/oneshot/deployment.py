"""What a run needs to know about the nodes of one system, whatever the system: a ``Deployment``.

Nodes are named by their place: ``A`` (sender) and ``B`` (receiver) in the pair; ``A``, ``R`` (relay)
and ``C`` (receiver) in the chain, where A and C are never linked. Each node has one worker (named
like the node) and, for meshcare, a daemon; ``processes`` lists every process whose CPU and memory
count. ``hops`` names each hop with the node whose wire counters carry exactly that hop (an end node
of the chain has one link, so its bytes in + out are that hop's).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from .workers import Inbox, WorkerProc

TOPOLOGIES = ("pair", "chain")
#: Node names in the order they are listed, per topology.
NODES = {"pair": ("A", "B"), "chain": ("A", "R", "C")}
#: (hop, node whose counters carry only that hop), per topology.
HOPS = {"pair": (("A-B", "A"),), "chain": (("A-R", "A"), ("R-C", "C"))}


@dataclass
class Deployment:
    """The running nodes of one run. ``check`` raises RuntimeError when the topology is not what it
    should be (the chain's A linked to C); ``stop`` ends every process and may be called twice."""

    row: str                                   # "meshcare/topic", "meshcare/call", "lxmf"
    topology: str
    inbox: Inbox
    workers: dict[str, WorkerProc]             # node name -> its worker
    processes: dict[str, int]                  # "A daemon", "A worker", ... -> pid
    stop: Callable[[], None]
    check: Callable[[], None] = lambda: None
    notes: list[str] = field(default_factory=list)

    @property
    def sender(self) -> WorkerProc:
        return self.workers["A"]

    @property
    def receiver(self) -> WorkerProc:
        return self.workers[NODES[self.topology][-1]]

    @property
    def hops(self) -> tuple[tuple[str, str], ...]:
        return HOPS[self.topology]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now (for systems that need one given)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

"""The demo's three nodes: identities in a temporary directory, daemons on loopback, one circle; then
their removal.

Nothing of it reaches the network: every daemon listens on 127.0.0.1 (ports that were free a moment
before), runs without mDNS (``--no-discovery``) and knows the others as static peers. Nothing of it
outlives the demo: ``close`` ends every daemon by its pid (SIGTERM, SIGKILL after a grace period, its
exit collected) and removes the temporary directory, and it is safe to call at any point of ``start``
and more than once.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .. import launch
from ..client import ControlClient
from ..config import Settings
from ..control.request_base import Request
from ..control.requests import CircleCreate, CircleInvite, CircleJoin, CircleList, PresenceSet, Status
from ..control.results import Result
from ..errors import LaunchError

R = TypeVar("R", bound=Result)

#: The circle the demo makes, and who is in it: two scripted neighbours and the person.
CIRCLE_NAME = "Elm St (demo)"
BO, CHLOE, YOU = "bo", "chloe", "you"
NAMES = {BO: "Bo", CHLOE: "Chloe", YOU: "Alex"}
#: How long the circle may take to form (two joins over loopback take well under a second).
FORM_TIMEOUT = 30.0


def ask(settings: Settings, request: Request[R], timeout: float = 10.0) -> R:
    """Send one typed request to the daemon of ``settings`` and read its typed answer (one connection).

    Raises the client's errors (DaemonUnavailable, RequestFailed) and BadInput for an answer that does not fit.
    """
    with ControlClient.connect(settings.control_path, timeout=timeout) as client:
        return request.read_result(client.request(request.OP, **request.to_data()))


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that were free just now (bound together, then released)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _temporary_root() -> Path:
    """A new private directory for the demo; under /tmp when $TMPDIR is too long for the control
    sockets inside it (a Unix socket path holds at most 107 bytes)."""
    base = tempfile.gettempdir()
    if len(base) > 60:
        base = "/tmp"
    return Path(tempfile.mkdtemp(prefix="meshcare-demo-", dir=base))


@dataclass
class DemoNode:
    """One of the three: its key (``bo``), its name, its data dir, its port, its daemon once started."""

    key: str
    name: str
    settings: Settings
    port: int
    spawned: launch.Spawned | None = None
    node_id: str = ""


@dataclass
class DemoNodes:
    """The three nodes and the circle; use ``start`` then ``form_circle``, and always ``close``."""

    say: Callable[[str], None] = print
    root: Path | None = None
    nodes: dict[str, DemoNode] = field(default_factory=dict)
    circle: str = ""

    def start(self, timeout: float = launch.START_TIMEOUT) -> None:
        """Create the directory, the three identities and the daemons, and wait until each answers.

        Raises LaunchError (a daemon did not start: its last log line is in the message).
        """
        from ..cli.launch import create_identity

        self.root = _temporary_root()
        for key, port in zip((BO, CHLOE, YOU), free_ports(3)):
            home = self.root / key
            settings = Settings(home=home, listen=("127.0.0.1", port), discovery=False)
            create_identity(settings, NAMES[key], None)
            self.nodes[key] = DemoNode(key, NAMES[key], settings, port)
        started: list[tuple[DemoNode, launch.Spawned]] = []
        for node in self.nodes.values():
            others = [o.port for o in self.nodes.values() if o is not node]
            flags = ["--no-discovery", "--listen", f"127.0.0.1:{node.port}"]
            for port in others:
                flags += ["--peer", f"127.0.0.1:{port}"]
            node.spawned = spawned = launch.spawn(node.settings, flags)
            started.append((node, spawned))
        for node, spawned in started:
            launch.wait_ready(node.settings, spawned, timeout)
            node.node_id = ask(node.settings, Status()).node_id

    def form_circle(self, timeout: float = FORM_TIMEOUT) -> str:
        """Bo founds the circle, invites Chloe (a member) and the person (a facilitator, so that they can
        try check-ins too), both join; Bo and Chloe say they are available. Returns the circle's id.

        Raises LaunchError if the joins do not go through within ``timeout`` seconds.
        """
        bo, chloe, you = self.nodes[BO], self.nodes[CHLOE], self.nodes[YOU]
        self.circle = ask(bo.settings, CircleCreate(name=CIRCLE_NAME)).circle.id
        for node, role in ((chloe, "member"), (you, "facilitator")):
            token = ask(bo.settings, CircleInvite(circle=self.circle, role=role)).token
            ask(node.settings, CircleJoin(token=token))
        deadline = time.monotonic() + timeout
        for node in (chloe, you):
            while not self._is_member(node):
                if time.monotonic() > deadline:
                    raise LaunchError(f"{node.name}'s node did not get into the demo circle within {timeout:g} s "
                                      f"(its log: {node.settings.log_path})")
                time.sleep(0.05)
        for node in (bo, chloe):
            ask(node.settings, PresenceSet(status="available"))
        return self.circle

    def _is_member(self, node: DemoNode) -> bool:
        circles = ask(node.settings, CircleList()).circles
        return any(c.id == self.circle and c.status == "member" for c in circles)

    def pids(self) -> list[int]:
        return [n.spawned.pid for n in self.nodes.values() if n.spawned is not None]

    def close(self) -> None:
        """End every daemon by its pid and remove the directory (safe to call again).

        The pids are those this demo spawned, those in the nodes' lock files, and (on Linux) any process
        whose command line names the demo's directory: a Ctrl-C can land between a spawn and the line
        that records its pid, and such a daemon must not outlive the demo (nor recreate its log file in
        a directory that was just removed).
        """
        pids = {node.spawned.pid for node in self.nodes.values() if node.spawned is not None}
        for node in self.nodes.values():
            node.spawned = None
            try:
                pid = launch.running_pid(node.settings)
            except LaunchError:
                pid = None
            if pid is not None:
                pids.add(pid)
        if self.root is not None:
            pids |= set(processes_naming(self.root))
        for pid in sorted(pids):
            launch.end(pid)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            if self.root.exists():  # a file came back while removing (a daemon's last write): once more
                shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> DemoNodes:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def processes_naming(root: Path) -> list[int]:
    """Processes of this user whose command line names ``root`` (read from /proc; none where there is none)."""
    needle = os.fsencode(root)
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle in cmdline and launch.alive(int(entry)):
            found.append(int(entry))
    return found

"""Real `meshcare daemon` processes on loopback (static peers, no mDNS): the CLI, signals, crash, restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from meshcare.client import ControlClient

SECRET = "ef" * 16
pytestmark = pytest.mark.timeout(120)


class Node:
    def __init__(self, home: Path, name: str) -> None:
        self.home = home
        self.env = {**os.environ, "MESHCARE_HOME": str(home)}
        self.proc: subprocess.Popen[bytes] | None = None
        self.cli("init", "--name", name)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([sys.executable, "-m", "meshcare", *args], env=self.env, capture_output=True,
                             text=True, timeout=60)
        if check and out.returncode != 0:
            raise AssertionError(f"meshcare {args}: {out.returncode} {out.stderr}")
        return out

    def start(self, *peers: int) -> None:
        argv = [sys.executable, "-m", "meshcare", "daemon", "--no-discovery", "--listen", "127.0.0.1:0", "--bench-ops"]
        for port in peers:
            argv += ["--peer", f"127.0.0.1:{port}"]
        self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.home / "daemon.log", "ab"))
        wait(lambda: self.cli("status", check=False).returncode == 0, f"daemon in {self.home} to start")
        self.request("topic.join", secret=SECRET)

    @property
    def port(self) -> int:
        return int(json.loads(self.cli("status", "--json").stdout)["listen"].rsplit(":", 1)[1])

    def request(self, op: str, **args: object) -> dict:
        client = ControlClient.connect(self.home / "control.sock")
        try:
            return client.request(op, **args)
        finally:
            client.close()

    def ids(self) -> set[str]:
        return set(self.request("topic.ids", secret=SECRET)["ids"])

    def peers(self) -> list[dict]:
        return json.loads(self.cli("peers", "--json").stdout)["peers"]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=10)
        self.proc = None
        return code


def wait(predicate, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def nodes(tmp_path):
    made: list[Node] = []

    def make(name: str) -> Node:
        node = Node(tmp_path / name, name)
        made.append(node)
        return node
    yield make
    for node in made:
        if node.proc is not None:
            node.proc.kill()
            node.proc.wait(timeout=10)


def test_status_and_peers_json_and_delivery(nodes):
    a = nodes("a")
    a.start()
    b = nodes("b")
    b.start(a.port)
    wait(lambda: any(p["linked"] for p in a.peers()), "a link")
    peer = next(p for p in b.peers() if p["linked"])
    assert peer["node_id"] == json.loads(a.cli("id", "--json").stdout)["node_id"]
    assert peer["address"] == f"127.0.0.1:{a.port}"
    status = json.loads(a.cli("status", "--json").stdout)
    assert {"node_id", "name", "listen", "uptime_s", "links", "envelopes", "topics", "statistics"} <= set(status)
    sent = a.request("topic.publish", secret=SECRET, text="call for support", urgent=True)["id"]
    wait(lambda: sent in b.ids(), "delivery to b")


def test_second_daemon_on_same_home_is_refused(nodes):
    a = nodes("a")
    a.start()
    out = subprocess.run([sys.executable, "-m", "meshcare", "daemon", "--no-discovery", "--listen", "127.0.0.1:0"],
                         env=a.env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "already running" in out.stderr
    assert a.cli("status", check=False).returncode == 0  # the first one is untouched


def test_sigterm_exits_cleanly_within_a_second(nodes):
    a = nodes("a")
    a.start()
    started = time.monotonic()
    assert a.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 1.0
    assert not (a.home / "control.sock").exists()
    out = a.cli("status", check=False)
    assert out.returncode == 1 and "no meshcare daemon is running" in out.stderr


def test_kill_9_then_restart_rejoins_and_catches_up(nodes):
    a, b = nodes("a"), nodes("b")
    a.start()
    b.start(a.port)
    first = a.request("topic.publish", secret=SECRET, text="before")["id"]
    wait(lambda: first in b.ids(), "first envelope at b")
    b.stop(signal.SIGKILL)
    missed = {a.request("topic.publish", secret=SECRET, text=f"while away {i}")["id"] for i in range(30)}
    b.start(a.port)
    wait(lambda: missed | {first} <= b.ids(), "catch-up after restart")

"""Real `meshcare daemon` processes on loopback (static peers, no mDNS): the CLI, signals, crash, restart."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from .helpers import PROCESS_SECRET, DaemonProcess, wait_real

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def nodes(tmp_path):
    made: list[DaemonProcess] = []

    def make(name: str) -> DaemonProcess:
        node = DaemonProcess(tmp_path / name, name)
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
    wait_real(lambda: any(p["linked"] for p in a.peers()), "a link")
    peer = next(p for p in b.peers() if p["linked"])
    assert peer["node_id"] == json.loads(a.cli("id", "--json").stdout)["node_id"]
    assert peer["address"] == f"127.0.0.1:{a.port}"
    status = json.loads(a.cli("status", "--json").stdout)
    assert {"node_id", "name", "listen", "uptime_s", "links", "envelopes", "topics", "statistics"} <= set(status)
    sent = a.request("topic.publish", secret=PROCESS_SECRET, text="call for support", urgent=True)["id"]
    wait_real(lambda: sent in b.ids(), "delivery to b")


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
    first = a.request("topic.publish", secret=PROCESS_SECRET, text="before")["id"]
    wait_real(lambda: first in b.ids(), "first envelope at b")
    b.stop(signal.SIGKILL)
    missed = {a.request("topic.publish", secret=PROCESS_SECRET, text=f"while away {i}")["id"] for i in range(30)}
    b.start(a.port)
    wait_real(lambda: missed | {first} <= b.ids(), "catch-up after restart")

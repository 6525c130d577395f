"""An idle node writes nothing (an SD card wears with every write), and `status` names its memory profile.

Two real `meshcare daemon` processes on 127.0.0.1 (static peers, no mDNS): ann, forced to the small
profile, founds a circle and bob (standard) joins it, so the circle's timers, the link's pings and the
periodic reconciliation all run. Once they settle, each process's /proc/PID/io ``write_bytes`` (what it
sent towards the disk) must not move over a 20 s window. No write is explained away: a state file saved
on a timer, a heads or presence record rewritten, a log line or a WAL checkpoint while idle fails this.
About 40 s (one module-scoped circle).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import wait_real

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux task I/O accounting")]

MESHCARE = [sys.executable, "-m", "meshcare"]
IDLE_WINDOW = 20.0
SETTLE = 4.0


def write_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/io has no write_bytes")


class Daemon:
    def __init__(self, home: Path, name: str, *flags: str) -> None:
        self.home, self.name = home, name
        self.env = {**os.environ, "MESHCARE_HOME": str(home)}
        self.env.pop("MESHCARE_PASSPHRASE_FILE", None)
        assert self.run("init", "--name", name).returncode == 0
        argv = [*MESHCARE, "daemon", "--no-discovery", "--listen", "127.0.0.1:0", *flags]
        with open(home / "daemon.log", "ab") as log:
            self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        wait_real(lambda: self.run("status").returncode == 0, f"the daemon of {name} to start")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*MESHCARE, *args], env=self.env, capture_output=True, text=True, timeout=60)

    def json(self, *args: str) -> dict[str, Any]:
        out = self.run(*args, "--json")
        assert out.returncode == 0, f"meshcare {' '.join(args)}: {out.stderr}"
        data: dict[str, Any] = json.loads(out.stdout)
        return data

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def circle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, Daemon]]:
    root = tmp_path_factory.mktemp("idle")
    started: list[Daemon] = []
    try:
        ann = Daemon(root / "ann", "ann", "--profile", "small")
        started.append(ann)
        port = ann.json("status")["listen"].rsplit(":", 1)[1]
        bob = Daemon(root / "bob", "bob", "--profile", "standard", "--peer", f"127.0.0.1:{port}")
        started.append(bob)
        ann.json("circle", "create", "Elm St")
        bob.json("circle", "join", ann.json("circle", "invite", "Elm St")["token"], "--wait", "20")
        wait_real(lambda: len(ann.json("circle", "members", "Elm St")["members"]) == 2, "ann to see bob")
        yield ann, bob
    finally:
        for daemon in started:
            daemon.stop()


def test_an_idle_node_writes_nothing_and_status_names_its_profile(circle: tuple[Daemon, Daemon]) -> None:
    ann, bob = circle
    assert ann.json("status")["profile"] == "small"
    assert bob.json("status")["profile"] == "standard"
    time.sleep(SETTLE)      # the join's own writes (roster, state file, acknowledgements) land first
    before = {d.name: write_bytes(d.proc.pid) for d in circle}
    time.sleep(IDLE_WINDOW)
    written = {d.name: write_bytes(d.proc.pid) - before[d.name] for d in circle}
    assert all(d.proc.poll() is None for d in circle)
    assert written == {"ann": 0, "bob": 0}, (
        f"idle daemons wrote {written} bytes in {IDLE_WINDOW:.0f} s; their logs: "
        + " | ".join((d.home / "daemon.log").read_text(errors="replace")[-600:] for d in circle))

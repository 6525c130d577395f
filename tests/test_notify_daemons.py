"""notify_command and ``meshcare watch`` against real `meshcare daemon` processes on loopback (static peers,
no mDNS). ann founds "Elm St" and bob joins; both run a small notify script that appends its MESHCARE_*
variables to a file in its data directory (and hangs, or takes its time, when a marker file says so).
The tests run in file order on one module-scoped circle."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshcare.client import ControlClient

from .helpers import DaemonProcess, wait_real

pytestmark = pytest.mark.timeout(180)

SCRIPT = """#!/bin/sh
if [ -e hang ]; then sleep 60; fi
if [ -e slow ]; then echo start >> runs.txt; sleep 0.3; echo end >> runs.txt; fi
one=$(mktemp -p .)
{ env | grep '^MESHCARE_' | grep -v -e '^MESHCARE_HOME=' -e '^MESHCARE_PASSPHRASE' | sort; echo ---; } > "$one"
cat "$one" >> notified.txt; rm -f "$one"
"""
# Each run writes its block to a file of its own, then appends it with one write (``cat`` of a small file):
# two commands running at once (up to two may) wrote their lines into each other's block before.


class Node(DaemonProcess):
    def __init__(self, home: Path, name: str) -> None:
        super().__init__(home, name)
        # the command sees the daemon's environment: keep stray MESHCARE_* of ours (CI sets some) out of it
        self.env = {k: v for k, v in self.env.items() if not k.startswith("MESHCARE_") or k == "MESHCARE_HOME"}
        (home / "notify.sh").write_text(SCRIPT)
        (home / "notify.sh").chmod(0o700)
        (home / "config.toml").write_text('notify_command = "./notify.sh"\nnotify_timeout = 1.5\n')

    def notified(self) -> list[dict[str, str]]:
        path = self.home / "notified.txt"
        text = path.read_text() if path.exists() else ""
        return [dict(line.split("=", 1) for line in block.strip().splitlines())
                for block in text.split("---\n") if block.strip()]

    def ask(self, op: str, **args: Any) -> dict[str, Any]:
        return self.request(op, **args)

    def stats(self) -> dict[str, int]:
        return self.request("status")["statistics"]     # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def elm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root = tmp_path_factory.mktemp("notify")
    ann, bob = Node(root / "ann", "ann"), Node(root / "bob", "bob")
    try:
        ann.start()
        bob.start(ann.port)
        ann.ask("circle.create", name="Elm St")
        token = ann.ask("circle.invite", circle="Elm St")["token"]
        bob.ask("circle.join", token=token)
        wait_real(lambda: any(c["name"] == "Elm St" and c["status"] == "member"
                              for c in bob.ask("circle.list")["circles"]), "bob in Elm St", timeout=30)
        wait_real(lambda: len(ann.ask("circle.members", circle="Elm St")["members"]) == 2, "ann sees bob")
        yield ann, bob
    finally:
        for node in (ann, bob):
            if node.proc is not None:
                node.proc.kill()
                node.proc.wait(timeout=10)


def test_a_call_runs_the_others_command_once_with_the_hidden_summary(elm: tuple[Node, Node]) -> None:
    ann, bob = elm
    call = ann.ask("call.create", circle="Elm St", text="Flooded flat, please come", urgency="now")["call"]
    wait_real(lambda: bob.notified(), "bob's notify_command")
    wait_real(lambda: bob.ask("call.show", call=call["id"])["call"]["reached"] == 1, "bob's receipt")
    [env] = bob.notified()
    assert env == {"MESHCARE_EVENT": "call", "MESHCARE_CIRCLE": "Elm St", "MESHCARE_CIRCLE_ID": call["circle"],
                   "MESHCARE_URGENCY": "now", "MESHCARE_SUMMARY": "New call in Elm St (now)",
                   "MESHCARE_CALL": call["id"], "MESHCARE_DROPPED": "0"}
    assert ann.notified() == []                                   # her own call
    assert bob.stats()["notify_runs"] == 1


def test_a_need_support_reply_runs_the_facilitators_command(elm: tuple[Node, Node]) -> None:
    ann, bob = elm
    checkin = ann.ask("checkin.create", circle="Elm St", prompt="How is everyone?")["checkin"]["id"]
    wait_real(lambda: checkin in [c["id"] for c in bob.ask("checkin.list")["checkins"]], "the check-in at bob")
    bob.ask("checkin.reply", checkin=checkin, option="3", text="bad night")
    wait_real(lambda: ann.notified(), "ann's notify_command")
    [env] = ann.notified()
    assert env["MESHCARE_EVENT"] == "checkin_reply" and env["MESHCARE_CHECKIN"] == checkin
    assert env["MESHCARE_SUMMARY"] == 'Someone in Elm St answered "need support now" to a check-in'
    assert "bad night" not in str(env) and "bob" not in str(env)
    assert len(bob.notified()) == 1                               # his own answer is not news to him


def test_a_command_that_hangs_is_stopped_and_the_daemon_keeps_working(elm: tuple[Node, Node]) -> None:
    ann, bob = elm
    (bob.home / "hang").touch()
    ann.ask("call.create", circle="Elm St", text="second", urgency="today")
    wait_real(lambda: bob.stats()["notify_timed_out"] == 1, "the timeout", timeout=15)
    assert bob.stats()["notify_running"] == 0
    log = (bob.home / "daemon.log").read_text()
    assert "notify_command ./notify.sh did not finish within 1.5 s and was stopped" in log
    assert "Traceback" not in log
    (bob.home / "hang").unlink()
    ann.ask("call.create", circle="Elm St", text="third", urgency="whenever")
    wait_real(lambda: len(bob.notified()) == 2, "the next notification")
    assert bob.notified()[-1]["MESHCARE_SUMMARY"] == "New call in Elm St (whenever someone can)"


def test_a_burst_of_calls_runs_a_bounded_number_of_commands(elm: tuple[Node, Node]) -> None:
    ann, bob = elm
    (bob.home / "slow").touch()
    before, runs_before = len(bob.notified()), bob.stats()["notify_runs"]
    client = ControlClient.connect(ann.home / "control.sock")
    try:
        for n in range(60):
            client.request("call.create", circle="Elm St", text=f"burst {n}", urgency="today")
    finally:
        client.close()
    wait_real(lambda: bob.stats()["notify_runs"] - runs_before + bob.stats()["notify_dropped"] == 60,
              "every call run or dropped", timeout=60)
    wait_real(lambda: bob.stats()["notify_running"] == 0, "the last command")
    stats = bob.stats()
    ran = stats["notify_runs"] - runs_before
    assert stats["notify_dropped"] > 0 and ran < 30, stats
    assert len(bob.notified()) - before == ran
    dropped = sum(int(env["MESHCARE_DROPPED"]) for env in bob.notified()[before:])
    assert dropped == stats["notify_dropped"]
    running = most = 0
    for line in (bob.home / "runs.txt").read_text().split():
        running += 1 if line == "start" else -1
        most = max(most, running)
    assert most <= 2
    (bob.home / "slow").unlink()


# --- meshcare watch --------------------------------------------------------------------------------

class Lines:
    """A process's stdout and stderr, line by line, read by threads (so a test can wait with a timeout)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc, self.out, self.err = proc, queue.Queue[str](), queue.Queue[str]()
        for stream, into in ((proc.stdout, self.out), (proc.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, into), daemon=True).start()

    @staticmethod
    def _read(stream: Any, into: queue.Queue[str]) -> None:
        for line in stream:
            into.put(line.rstrip("\n"))

    @staticmethod
    def until(into: queue.Queue[str], predicate: Any, what: str, timeout: float = 30.0) -> str:
        import time
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = into.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"timed out waiting for {what}") from None
            if predicate(line):
                return line


def test_watch_shows_the_other_nodes_call_and_goes_on_after_a_daemon_restart(elm: tuple[Node, Node]) -> None:
    ann, bob = elm
    argv = [sys.executable, "-m", "meshcare", "watch"]
    as_json = subprocess.Popen([*argv, "--json"], env=bob.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    words = subprocess.Popen(argv, env=bob.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    j, w = Lines(as_json), Lines(words)
    try:
        for lines in (j, w):      # said once subscribed, with the snapshot taken
            Lines.until(lines.err, lambda line: "watching the node" in line, "watch to start")
        call = ann.ask("call.create", circle="Elm St", text="Anyone up?", urgency="now")["call"]
        line = Lines.until(j.out, lambda line: json.loads(line)["name"] == "call.changed", "the call as JSON")
        event = json.loads(line)
        assert set(event) == {"name", "data"} and event["data"]["change"] == "new"
        assert event["data"]["call"] == call["id"] and event["data"]["view"]["text"] == "Anyone up?"
        assert isinstance(event["data"]["seq"], int)
        said = Lines.until(w.out, lambda line: "new call for support" in line, "the call in words")
        assert "new call for support in Elm St (now) from ann: \"Anyone up?\"" in said

        bob.stop()
        Lines.until(j.err, lambda line: "lost the daemon" in line and "reconnecting" in line, "the loss said")
        bob.start(ann.port)
        Lines.until(j.err, lambda line: "reconnected" in line, "the reconnection said", timeout=30)
        Lines.until(w.err, lambda line: "reconnected" in line, "the reconnection said (words)", timeout=30)
        wait_real(lambda: bob.stats()["links"] >= 1, "bob linked again")
        later = ann.ask("call.create", circle="Elm St", text="After the restart", urgency="today")["call"]
        line = Lines.until(j.out, lambda line: json.loads(line)["data"].get("call") == later["id"]
                           and json.loads(line)["name"] == "call.changed", "the next call after the restart")
        assert json.loads(line)["data"]["view"]["text"] == "After the restart"
        Lines.until(w.out, lambda line: "After the restart" in line, "the next call in words")
    finally:
        for proc in (as_json, words):
            proc.send_signal(signal.SIGINT)
    for proc, lines in ((as_json, j), (words, w)):
        assert proc.wait(timeout=10) == 0
        rest = []
        while not lines.err.empty():
            rest.append(lines.err.get())
        assert not any("Traceback" in line for line in rest), rest


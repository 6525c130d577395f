"""`node.health` from running daemons, and `meshcare doctor` against a real daemon process.

In-process (virtual time): two daemons linked over loopback TCP, one with its clock set five minutes
ahead; the other's ``node.health`` shows that offset from the envelope it pushed, and doctor's clock
check warns about it. Then `meshcare doctor` against a daemon started in the background on 127.0.0.1
(discovery off, so doctor sends no multicast). Budget: under 6 s."""

from __future__ import annotations

import json

import pytest
import trio

from meshcare import cli

from meshcare.control.results_doctor import NodeHealthResult
from meshcare.crypto.keys import Identity
from meshcare.doctor import clock
from meshcare.doctor.findings import Level
from meshcare.ops.bench import BENCH_OPS
from meshcare.store.memory import MemoryStore
from meshcare.transport.daemon import Daemon

from .helpers import wait_for

SECRET = "cd" * 16


def make(peers=()) -> Daemon:
    return Daemon(Identity.generate("n"), MemoryStore(), listen=("127.0.0.1", 0), peers=peers, extra_ops=BENCH_OPS)


async def test_health_shows_a_linked_peers_clock_ahead_and_doctor_warns(autojump_clock):
    async with trio.open_nursery() as nursery:
        fast = make()
        await nursery.start(fast.run)
        slow = make([("127.0.0.1", fast.port)])
        await nursery.start(slow.run)
        for d in (fast, slow):
            await d.request("topic.join", {"secret": SECRET})
        await wait_for(lambda: len(fast.links) == 1 and len(slow.links) == 1)
        # the topic is known to be shared on both ends: the post goes as a live push, not as catch-up
        await wait_for(lambda: fast.node.engine.shared_topics(slow.identity.node_id)
                       and slow.node.engine.shared_topics(fast.identity.node_id))
        before = NodeHealthResult.from_data(await slow.request("node.health", {}))
        assert before.clocks == () and before.links == 1 and before.static_peers == 1
        assert not before.discovery.enabled and not before.discovery.running
        assert fast.now() - slow.now() < 1
        fast._epoch = (fast._epoch or 0) + 300          # its clock runs five minutes ahead from now on
        for attempt in range(1, 6):
            # a post that races a link being replaced (both dialled) arrives as catch-up, which is not sampled
            await fast.request("topic.publish", {"secret": SECRET, "text": f"hello {attempt}"})
            await wait_for(lambda: len(slow.store) == attempt)
            if slow.node.engine.clock_skew.offsets(slow.now()):
                break
        health = NodeHealthResult.from_data(await slow.request("node.health", {}))
        [peer] = health.clocks
        assert peer.node_id == fast.identity.node_id.hex() and 295 <= peer.offset_s <= 301 and peer.samples >= 1
        assert health.future_slack_s == 600
        [finding] = clock.judge_clock(health)
        assert finding.level is Level.WARNING and f"{fast.identity.node_id.hex()[:8]} is " in finding.what
        nursery.cancel_scope.cancel()


def test_doctor_against_a_running_daemon_process(tmp_path, monkeypatch, capsys):
    from meshcare import config, launch
    from meshcare.crypto import keys, keystore

    home = tmp_path / "ana"
    home.mkdir(mode=0o700)
    keystore.create(home / "identity.key", keys.Identity.generate("ana"), None)
    monkeypatch.setenv("MESHCARE_HOME", str(home))
    settings = config.Settings(home=home)
    launch.start(settings, ["--no-discovery", "--listen", "127.0.0.1:0"])
    try:
        (home / "identity.key").chmod(0o644)           # a key others can read: doctor finds it
        status = cli.main(["doctor", "--json", "--no-probe"])
        data = json.loads(capsys.readouterr().out)
        by_check = {f["check"]: f for f in data["findings"]}
        assert by_check["daemon"]["level"] == "ok" and by_check["port"]["level"] == "ok"
        assert by_check["port"]["what"].startswith("the node listens on 127.0.0.1:")
        # discovery off and no static peer: nobody can be reached, and doctor says how to fix it
        assert by_check["neighbours"]["level"] == "problem" and "discovery = true" in by_check["neighbours"]["fix"]
        assert by_check["files"]["level"] == "problem"
        assert by_check["files"]["fix"] == f"`chmod 600 {home / 'identity.key'}`."
        assert by_check["clock"]["level"] == "info" and by_check["identity"]["level"] == "ok"
        assert status == 1 and data["ok"] is False and data["problems"] == 2
        assert cli.main(["doctor", "--only", "daemon", "--only", "disk"]) == 0
        words = capsys.readouterr().out
        assert words.startswith("ok       daemon: your node runs (pid ") and len(words.splitlines()) == 3
    finally:
        launch.stop(settings)
    assert cli.main(["doctor", "--only", "daemon"]) == 1
    assert capsys.readouterr().out.startswith("problem  daemon: your node is not running")
    with pytest.raises(SystemExit) as usage:
        cli.main(["doctor", "--only", "kidneys"])
    assert usage.value.code == 2 and "invalid choice" in capsys.readouterr().err

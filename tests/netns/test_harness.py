"""The namespace harness builds what it promises, injects the faults it promises, and leaves nothing behind."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .harness import Mesh, require_netns

pytestmark = [pytest.mark.netns, pytest.mark.timeout(60)]

UDP_PROBE = str(Path(__file__).with_name("udp_probe.py"))


@pytest.fixture(autouse=True)
def _needs_netns() -> None:
    require_netns()


def namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True, timeout=10).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def json_lines(mesh: Mesh, process: subprocess.Popen[bytes]) -> list[dict]:
    return [json.loads(line) for line in mesh.output(process)[0].splitlines() if line.strip()]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def deliveries(mesh: Mesh, senders: list[int], receivers: list[int], *, count: int = 20,
               interval: float = 0.005, timeout: float = 1.5) -> dict[tuple[int, int], int]:
    """Every sender sends ``count`` datagrams to every receiver; return {(src, dst): received}."""
    tag = secrets.token_hex(4)
    recv = {dst: mesh.run(dst, [sys.executable, UDP_PROBE, "recv", "--timeout", str(timeout), "--tag", tag])
            for dst in receivers}
    for dst, process in recv.items():
        wait_for(lambda p=process: json_lines(mesh, p), 5, f"receiver on h{dst}")
    send = [mesh.run(src, [sys.executable, UDP_PROBE, "send", "--count", str(count), "--interval", str(interval),
                           "--tag", tag, "--to", ",".join(mesh.addr(d) for d in receivers if d != src)])
            for src in senders]
    for process in [*send, *recv.values()]:
        assert process.wait(timeout=count * interval + timeout + 10) == 0, mesh.output(process)[1]
    result = {}
    for dst, process in recv.items():
        counts = json_lines(mesh, process)[-1]["received"]
        for src in senders:
            if src != dst:
                result[(src, dst)] = counts.get(mesh.addr(src), 0)
    return result


def test_builds_the_namespaces_and_removes_them_on_exit():
    with Mesh(3, prefix="mcT") as mesh:
        expected = {mesh.bridge, *(mesh.ns(i) for i in (1, 2, 3))}
        assert expected <= namespaces()
        assert all(name.startswith("mcT-") for name in expected)
        assert "192.0.2.2/24" in mesh.check_output(2, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
        bridge_ports = mesh.check_output(1, ["ip", "-o", "link"])  # only lo and eth0 in a host namespace
        assert {line.split(":")[1].strip().split("@")[0] for line in bridge_ports.splitlines()} == {"lo", "eth0"}
    assert not {name for name in namespaces() if name.startswith(mesh.name)}


def test_cleans_up_processes_and_namespaces_when_the_body_raises():
    with pytest.raises(RuntimeError, match="boom"):
        with Mesh(2, prefix="mcT") as mesh:
            sleeper = mesh.run(1, [sys.executable, "-c", "import time; time.sleep(60)"])
            raise RuntimeError("boom")
    assert sleeper.poll() is not None
    assert not {name for name in namespaces() if name.startswith(mesh.name)}


def test_process_runs_inside_the_namespace_under_its_own_pid():
    with Mesh(2, prefix="mcT") as mesh:
        code = ("import json, os, subprocess; print(json.dumps({'pid': os.getpid(), 'addr': "
                "subprocess.run(['ip', '-4', '-o', 'addr'], capture_output=True, text=True).stdout}))")
        process = mesh.run(2, [sys.executable, "-c", code])
        assert process.wait(timeout=10) == 0, mesh.output(process)[1]
        seen = json_lines(mesh, process)[0]
        assert seen["pid"] == process.pid
        assert "192.0.2.2/24" in seen["addr"] and "192.0.2.1/" not in seen["addr"]


def test_loss_of_ten_percent_drops_about_ten_percent():
    with Mesh(2, prefix="mcT") as mesh:
        assert deliveries(mesh, [1], [2]) == {(1, 2): 20}  # also fills the ARP caches before the loss
        mesh.loss(10)
        lossy = deliveries(mesh, [1], [2], count=400, interval=0.001)[(1, 2)]
        dropped = (400 - lossy) / 400
        print(f"\nloss 10 %: {400 - lossy} of 400 datagrams dropped ({dropped:.1%})")
        assert 0.04 <= dropped <= 0.20, mesh.nft_counters()
        mesh.clear_loss()
        assert deliveries(mesh, [1], [2], count=100, interval=0.001) == {(1, 2): 100}


def test_cut_and_restore_one_host():
    with Mesh(3, prefix="mcT") as mesh:
        mesh.cut(2)
        cut = deliveries(mesh, [1], [2, 3])
        assert cut[(1, 2)] == 0 and cut[(1, 3)] == 20
        mesh.restore(2)
        wait_for(lambda: "LOWER_UP" in mesh.check_output(2, ["ip", "link", "show", "eth0"]), 5, "carrier on h2")
        assert deliveries(mesh, [1], [2, 3]) == {(1, 2): 20, (1, 3): 20}


def test_partition_and_heal():
    with Mesh(4, prefix="mcT") as mesh:
        hosts = [1, 2, 3, 4]
        mesh.partition([[1, 2], [3]])  # 4 is in no group: it forms a group of its own
        split = deliveries(mesh, hosts, hosts)
        for (src, dst), got in split.items():
            together = {src, dst} == {1, 2}
            assert got == (20 if together else 0), (src, dst, split)
        mesh.heal()
        healed = deliveries(mesh, hosts, hosts)
        assert set(healed.values()) == {20}, healed

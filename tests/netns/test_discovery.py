"""mDNS discovery: the pure helpers, then real nodes in network namespaces (``-m netns``).

The namespace tests print their measured times (run with ``-s`` to see them).
"""

from __future__ import annotations

import ipaddress
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from meshcare.errors import BadInput
from meshcare.transport.discovery import (Discovery, Found, addresses_to_advertise, advertised_properties,
                                          instance_name, new_instance_label, order_addresses, parse_found)

from .harness import Mesh, require_netns

PROBE = str(Path(__file__).with_name("discovery_probe.py"))
INSTANCE = re.compile(r"mc-[0-9a-f]{8,32}\._meshcare\._tcp\.local\.")
HOST = re.compile(r"mc-[0-9a-f]{8,32}\.local\.")
T = TypeVar("T")


# --- pure helpers (no sockets) --------------------------------------------------------------------


def test_the_txt_record_holds_only_version_port_and_incarnation():
    assert advertised_properties(1, 7001, "0a1b2c3d") == {"v": "1", "port": "7001", "inc": "0a1b2c3d"}


def test_instance_names_are_random_labels():
    label = new_instance_label()
    assert INSTANCE.fullmatch(instance_name(label))
    assert new_instance_label(lambda n: "ab" * n) == "ab" * 8  # 64 random bits: names never clash, so probing is skipped


def test_parse_found_prefers_the_srv_port_and_keeps_the_nonce():
    found = parse_found("mc-1._meshcare._tcp.local.", {"v": "1", "port": "9", "inc": "aa"}, 7001, ["192.0.2.1"])
    assert found == Found("mc-1._meshcare._tcp.local.", ("192.0.2.1",), 7001, 1, "aa")
    assert parse_found("n", {"v": "2", "port": "9", "inc": "aa"}, None, ["192.0.2.1"]).port == 9


@pytest.mark.parametrize("properties, port, addresses", [
    ({"port": "1", "inc": "aa"}, 1, ["192.0.2.1"]),              # no version
    ({"v": "x", "inc": "aa"}, 1, ["192.0.2.1"]),                 # version not a number
    ({"v": "1", "inc": "aa"}, None, ["192.0.2.1"]),              # no port anywhere
    ({"v": "1", "inc": None}, 1, ["192.0.2.1"]),                 # no incarnation
    ({"v": "1", "inc": "aa"}, 1, []),                            # no address
    ({"v": "70000", "inc": "aa"}, 1, ["192.0.2.1"]),             # version out of range
])
def test_parse_found_rejects_unusable_records(properties, port, addresses):
    with pytest.raises(ValueError):
        parse_found("n", properties, port, addresses)


def test_addresses_on_our_subnet_come_first():
    local = [ipaddress.IPv4Interface("127.0.0.1/8"), ipaddress.IPv4Interface("192.168.1.5/24")]
    assert order_addresses(["10.0.0.7", "192.168.1.9", "10.0.0.7"], local) == ("192.168.1.9", "10.0.0.7")


def test_loopback_is_advertised_only_when_configured():
    lo, lan = ipaddress.IPv4Interface("127.0.0.1/8"), ipaddress.IPv4Interface("192.0.2.4/24")
    assert addresses_to_advertise((), [lo, lan]) == ("192.0.2.4",)
    assert addresses_to_advertise((), [lo]) == ()
    assert addresses_to_advertise(("127.0.0.1",), [lo]) == ("127.0.0.1",)


@pytest.mark.parametrize("kwargs", [{"interfaces": ["eth0"]}, {"instance_label": "Alice"}, {"rescan_interval": 0}])
def test_bad_settings_are_refused_before_anything_starts(kwargs):
    with pytest.raises(BadInput):
        Discovery(b"\x01" * 32, 7000, **kwargs)


def test_events_exist_only_inside_the_context():
    with pytest.raises(RuntimeError, match="async with"):
        _ = Discovery(b"\x01" * 32, 7000).events


# --- real nodes in namespaces ---------------------------------------------------------------------


def start_node(mesh: Mesh, i: int, *extra: str, seconds: float = 40) -> subprocess.Popen[bytes]:
    return mesh.run(i, [sys.executable, PROBE, "--port", str(7000 + i), "--seconds", str(seconds), *extra])


def events(mesh: Mesh, process: subprocess.Popen[bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in mesh.output(process)[0].splitlines() if line.strip()]


def wait_until(check: Callable[[], T], timeout: float, what: str, mesh: Mesh | None = None,
               processes: Sequence[subprocess.Popen[bytes]] = ()) -> T:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- pid {p.pid}:\n{mesh.output(p)[0][-3000:]}\n{mesh.output(p)[1][-3000:]}"
                             for p in processes) if mesh else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs}")
        time.sleep(0.02)
    return result


def started(mesh: Mesh, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    return wait_until(lambda: next((e for e in events(mesh, process) if e["event"] == "started"), None), 10,
                      f"node {process.pid} to start", mesh, [process])


def found(mesh: Mesh, process: subprocess.Popen[bytes], name: str, after: float = 0.0) -> list[dict[str, Any]]:
    return [e for e in events(mesh, process) if e["event"] == "found" and e["name"] == name and e["t"] >= after]


def gone(mesh: Mesh, process: subprocess.Popen[bytes], name: str) -> list[dict[str, Any]]:
    return [e for e in events(mesh, process) if e["event"] == "gone" and e["name"] == name]


@pytest.mark.netns
@pytest.mark.timeout(60)
def test_find_leave_and_come_back():
    require_netns()
    label = "c0ffee42"  # node 2 keeps its label across a crash, as a daemon may within one boot
    with Mesh(4, prefix="mcD") as mesh:
        t0 = time.time()
        nodes = {i: start_node(mesh, i, *(["--label", label] if i == 2 else [])) for i in (1, 2, 3, 4)}
        inspector = mesh.run(4, [sys.executable, PROBE, "--inspect", "--seconds", "4"])
        info = {i: started(mesh, p) for i, p in nodes.items()}
        names = {i: e["name"] for i, e in info.items()}
        everyone = list(nodes.values())

        # Every node finds every other; nobody reports itself; the events carry what a dialler needs.
        def all_found() -> bool:
            return all(found(mesh, nodes[i], names[j]) for i in nodes for j in nodes if i != j)
        wait_until(all_found, 10, "every node to find every other", mesh, everyone)
        times = {i: max(found(mesh, nodes[i], names[j])[0]["t"] for j in nodes if j != i) - t0 for i in nodes}
        print(f"\nall peers found, seconds from spawn: {', '.join(f'h{i} {t:.2f}' for i, t in times.items())}")
        assert max(times.values()) < 6
        assert len(set(names.values())) == 4 and all(INSTANCE.fullmatch(n) for n in names.values())
        for i, process in nodes.items():
            reported = {e["name"] for e in events(mesh, process) if e["event"] in ("found", "gone")}
            assert names[i] not in reported
            for j in nodes:
                if j != i:
                    first = found(mesh, process, names[j])[0]
                    assert (first["addresses"], first["port"], first["version"]) == ([mesh.addr(j)], 7000 + j, 1)
                    assert re.fullmatch(r"[0-9a-f]{8}", first["incarnation"])

        # What an eavesdropper sees: random names, and a TXT record of exactly v, port, inc (fully pinned
        # here, so neither the node id nor the host name nor anything else can hide in it).
        assert inspector.wait(timeout=15) == 0, mesh.output(inspector)[1]
        records = {e["name"]: e for e in events(mesh, inspector) if e["event"] == "record"}
        assert set(records) == set(names.values())
        for i, name in names.items():
            record = records[name]
            incarnation = found(mesh, nodes[1 if i != 1 else 2], name)[0]["incarnation"]
            assert record["properties"] == {"v": "1", "port": str(7000 + i), "inc": incarnation}
            assert HOST.fullmatch(record["server"]) and record["addresses"] == [mesh.addr(i)]
            assert info[i]["node_id"][:16] not in json.dumps(record)

        # A SIGTERM'd node says goodbye: it exits 0 within 1 s and the others see it Gone at once.
        signalled = time.time()
        mesh.kill(3, signal.SIGTERM)
        assert nodes[3].wait(timeout=1.0) == 0, mesh.output(nodes[3])[1]
        exit_after = time.time() - signalled
        assert events(mesh, nodes[3])[-1]["event"] == "stopped"
        others = (1, 2, 4)
        wait_until(lambda: all(gone(mesh, nodes[i], names[3]) for i in others), 2, "the goodbye", mesh, everyone)
        gone_after = max(gone(mesh, nodes[i], names[3])[0]["t"] for i in others) - signalled
        print(f"SIGTERM: exit code 0 after {exit_after:.3f} s, Gone at every peer after {gone_after:.3f} s")
        assert gone_after < 1.0

        # A SIGKILL'd node (no goodbye) restarted under the same label is Found again: new incarnation.
        old = found(mesh, nodes[1], names[2])[-1]["incarnation"]
        mesh.kill(2, signal.SIGKILL)
        nodes[2].wait(timeout=5)
        restarted_at = time.time()
        again = start_node(mesh, 2, "--label", label)
        assert started(mesh, again)["name"] == names[2]

        def refound() -> list[dict[str, Any]] | None:
            news = [found(mesh, nodes[i], names[2], after=restarted_at) for i in (1, 4)]
            return [n[0] for n in news] if all(n and n[0]["incarnation"] != old for n in news) else None
        seen = wait_until(refound, 8, "the restarted node to be found again", mesh, [nodes[1], nodes[4], again])
        print(f"SIGKILL + restart: Found again after {max(e['t'] for e in seen) - restarted_at:.2f} s "
              f"from respawn (incarnation {old} -> {seen[0]['incarnation']})")
        wait_until(lambda: found(mesh, again, names[1]) and found(mesh, again, names[4]), 5,
                   "the restarted node to find its peers", mesh, [again])
        assert not found(mesh, again, names[3])  # the goodbye'd node is not resurrected from anyone's cache


@pytest.mark.netns
@pytest.mark.timeout(60)
def test_a_node_whose_lan_comes_up_late_is_found_after_the_rescan():
    require_netns()
    with Mesh(2, prefix="mcD") as mesh:
        mesh.check_output(2, ["ip", "addr", "flush", "dev", "eth0"])
        nodes = {i: start_node(mesh, i, "--rescan", "1", seconds=20) for i in (1, 2)}
        names = {i: started(mesh, p)["name"] for i, p in nodes.items()}
        time.sleep(2.0)  # long enough for a registration: there must not have been one
        assert not found(mesh, nodes[1], names[2]) and not found(mesh, nodes[2], names[1])
        address_at = time.time()
        mesh.check_output(2, ["ip", "addr", "add", f"{mesh.addr(2)}/24", "dev", "eth0"])
        wait_until(lambda: found(mesh, nodes[1], names[2]) and found(mesh, nodes[2], names[1]), 6,
                   "discovery after the address appeared", mesh, list(nodes.values()))
        late = found(mesh, nodes[1], names[2])
        print(f"\nlate LAN (rescan 1 s): h1 found h2 after {late[0]['t'] - address_at:.2f} s, h2 found h1 after "
              f"{found(mesh, nodes[2], names[1])[0]['t'] - address_at:.2f} s")
        assert all(e["addresses"] == [mesh.addr(2)] for e in late)  # never a loopback address


@pytest.mark.netns
@pytest.mark.timeout(30)
def test_discovery_that_cannot_start_raises_a_typed_error():
    require_netns()
    with Mesh(1, prefix="mcD") as mesh:
        node = start_node(mesh, 1, "--interfaces", "192.0.2.200", seconds=5)  # not an address of this host
        assert node.wait(timeout=10) == 3, mesh.output(node)
        last = events(mesh, node)[-1]
        assert last["event"] == "unavailable" and "No such device" in last["error"]
